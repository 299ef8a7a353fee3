"""
Limits every listening port applies before a request reaches a resource:
connections (in total and per remote address), a deadline for receiving
each request, and the size of request bodies.

:class:`LimitedFactory` counts a listening socket's connections
(:class:`LimitingReactor` puts it there, outside TLS); :class:`LimitedHTTPChannel` is the HTTP/1.1 channel of
:class:`~snorky.server.SnorkySite`, which answers a request whose body is
too large (413) or too slow to arrive (408) without waiting for the rest
of it.
"""

import resource
from dataclasses import dataclass
from io import BytesIO
from typing import Any, Dict, Optional

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IAddress, IDelayedCall, ITCPTransport
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.web.http import HTTPChannel
from twisted.web.server import Request

from snorky.envelopes import encode
from snorky.loglimit import LogLimiter
from snorky.transports._addresses import address_text

__all__ = [
    "PortLimits",
    "LimitedFactory",
    "LimitingReactor",
    "LimitedHTTPChannel",
    "BoundedRequest",
    "raise_open_file_limit",
    "open_file_limit",
    "connections_per_port",
    "RESERVED_FILES",
]

_log = Logger()

#: Open files kept free of every port's automatic connection limit, for
#: log files, static files, outgoing connections and the like.
RESERVED_FILES = 128


@dataclass
class PortLimits:
    """
    What one listening port accepts.

    :param max_connections: the most connections open at once on the
        port; ``None`` for no limit (:func:`snorky.server.make_service`
        replaces ``None`` with a share of the open-file limit).
    :param max_connections_per_address: the most connections open at once
        from one IP address; ``0`` for no limit. Behind a reverse proxy
        every connection comes from the proxy's address: raise it or set 0.
    :param request_timeout: seconds a connection has to deliver a whole
        request (line, headers and body) from its first byte, or from
        the moment it opens for its first request; sending slowly does not
        extend it. Then the answer is 408 and the connection is closed.
    """

    max_connections: Optional[int] = None
    max_connections_per_address: int = 1000
    request_timeout: float = 20.0

    def __post_init__(self) -> None:
        if self.max_connections is not None and self.max_connections < 1:
            raise ValueError("max_connections must be positive")
        if self.max_connections_per_address < 0:
            raise ValueError("max_connections_per_address must not be negative")
        if self.request_timeout <= 0:
            raise ValueError("request_timeout must be positive")


def _answer(code: int, reason: bytes, error: str) -> bytes:
    """
    A complete HTTP response with a JSON error body that ends the
    connection.
    """
    body = encode({"error": error})
    return b"".join([
        b"HTTP/1.1 %d %s\r\n" % (code, reason),
        b"Content-Type: application/json\r\n",
        b"Content-Length: %d\r\n" % len(body),
        b"Connection: close\r\n\r\n",
        body,
    ])


class _Refused(Protocol):
    """
    A connection over a limit: answered (when *answer* is not empty) and
    closed at once; holding it open any longer would spend the file
    descriptors the limit keeps.
    """

    def __init__(self, answer: bytes) -> None:
        self._answer = answer

    def connectionMade(self) -> None:
        assert self.transport is not None
        if self._answer:
            self.transport.write(self._answer)
        self.transport.loseConnection()


class _Counted(ProtocolWrapper):
    """
    One connection counted by its :class:`LimitedFactory` until it is
    lost. It is the socket's own protocol and gives the protocol it wraps
    the socket's transport, so nothing stands between them on writes
    (a WebSocket protocol can still write to its socket directly).

    Autobahn's ``WebSocketResource`` takes a connection over from
    twisted.web by replacing the ``wrappedProtocol`` of the transport's
    ``ProtocolWrapper`` protocol (this one, or the TLS protocol inside
    it): either way this wrapper still hears when the connection ends.
    """

    def __init__(self, factory: Any, wrapped: Any, key: Optional[str]) -> None:
        super().__init__(factory, wrapped)
        self.key = key

    def makeConnection(self, transport: Any) -> None:
        self.transport = transport
        self.connected = 1
        self.wrappedProtocol.makeConnection(transport)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        factory = self.factory
        assert isinstance(factory, LimitedFactory)
        factory.released(self.key)
        self.wrappedProtocol.connectionLost(reason)
        # Neither keeps the other alive once the connection is gone.
        self.wrappedProtocol = None  # type: ignore[assignment]


class LimitedFactory(WrappingFactory[_Counted]):
    """
    Wraps the factory of a listening socket and refuses connections over
    *limits*, in total and from one IP address (UNIX socket peers count in
    the total only), with an HTTP 503 and a JSON error (over TLS, by
    closing: the answer could not be read).

    It must be the socket's own factory, outside TLS:
    :class:`LimitingReactor` places it there.

    :ivar open: the connections open now.
    :ivar by_address: the connections open now per IP address (only
        addresses with at least one).
    :ivar refused: connections refused so far, by the limit that refused
        them (``max_connections``, ``max_connections_per_address``).
    """

    protocol = _Counted

    def __init__(
        self, wrapped: Any, limits: PortLimits, clock: Any = None, answer: bool = True
    ) -> None:
        super().__init__(wrapped)
        self.limits = limits
        self.open = 0
        self.by_address: Dict[str, int] = {}
        self.refused = {"max_connections": 0, "max_connections_per_address": 0}
        self._answer = answer
        self._log_limiter = LogLimiter(clock)

    def buildProtocol(self, addr: Optional[IAddress]) -> Any:
        limits = self.limits
        key = addr.host if isinstance(addr, (IPv4Address, IPv6Address)) else None
        if limits.max_connections is not None and self.open >= limits.max_connections:
            self.refused["max_connections"] += 1
            return self._refuse(addr, "Too many connections")
        per_address = limits.max_connections_per_address
        if key is not None and per_address and self.by_address.get(key, 0) >= per_address:
            self.refused["max_connections_per_address"] += 1
            return self._refuse(addr, "Too many connections from your address")
        wrapped = self.wrappedFactory.buildProtocol(addr)
        if wrapped is None:
            return None
        self.open += 1
        if key is not None:
            self.by_address[key] = self.by_address.get(key, 0) + 1
        return _Counted(self, wrapped, key)

    def _refuse(self, addr: Optional[IAddress], reason: str) -> Protocol:
        if self._log_limiter.allow():
            _log.warn(
                "Refused a connection from {peer}: {reason}",
                peer=address_text(addr), reason=reason,
            )
        answer = _answer(503, b"Service Unavailable", reason) if self._answer else b""
        return _Refused(answer)

    def released(self, key: Optional[str]) -> None:
        """
        A connection counted under *key* (its IP address, or ``None``)
        ended.
        """
        self.open -= 1
        if key is not None:
            left = self.by_address[key] - 1
            if left:
                self.by_address[key] = left
            else:
                del self.by_address[key]


class LimitingReactor:
    """
    A reactor for :func:`twisted.internet.endpoints.serverFromString` that
    puts a :class:`LimitedFactory` directly on every socket the endpoint
    listens on: ``listenSSL`` becomes ``listenTCP`` of a TLS factory
    wrapped in the limits (as Twisted's own ``listenSSL`` does, minus the
    limits), so that the count is outside TLS. Everything else is the
    real reactor's.

    :ivar factory: the :class:`LimitedFactory` of the last listen.
    :ivar tls: whether the last listen was over TLS.
    """

    def __init__(self, reactor: Any, limits: PortLimits) -> None:
        self._reactor = reactor
        self._limits = limits
        self.factory: Optional[LimitedFactory] = None
        self.tls = False

    def _limited(self, factory: Any, answer: bool = True) -> LimitedFactory:
        self.factory = LimitedFactory(factory, self._limits, self._reactor, answer)
        return self.factory

    def listenTCP(self, port: int, factory: Any, *args: Any, **kw: Any) -> Any:
        return self._reactor.listenTCP(port, self._limited(factory), *args, **kw)

    def listenUNIX(self, address: Any, factory: Any, *args: Any, **kw: Any) -> Any:
        return self._reactor.listenUNIX(address, self._limited(factory), *args, **kw)

    def listenSSL(
        self, port: int, factory: Any, contextFactory: Any, backlog: int = 50,
        interface: str = "",
    ) -> Any:
        self.tls = True
        tls = TLSMemoryBIOFactory(contextFactory, False, factory)
        return self._reactor.listenTCP(
            port, self._limited(tls, answer=False), backlog, interface
        )

    def adoptStreamPort(self, fd: int, family: Any, factory: Any) -> Any:
        return self._reactor.adoptStreamPort(fd, family, self._limited(factory))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reactor, name)


class LimitedHTTPChannel(HTTPChannel):
    """
    An HTTP/1.1 channel that needs ``site.max_body_size`` and
    ``site.request_timeout``: a request must arrive whole within the
    timeout, counted from its first byte (or from the connection's
    opening, for its first request), and a body larger than the limit is
    answered with 413 as soon as the headers declare it or as soon as that
    many bytes arrived, without reading the rest. Both answers close the
    connection.

    Between requests of a persistent connection, twisted.web's idle
    timeout (``Site.timeOut``) applies.
    """

    site: Any
    _deadline: Optional[IDelayedCall] = None
    _waiting = True
    _started = False
    _refused = False
    _abort: Optional[IDelayedCall] = None

    def connectionMade(self) -> None:
        super().connectionMade()
        self._deadline = self.callLater(self.site.request_timeout, self._too_slow)

    def dataReceived(self, data: bytes) -> None:
        if self._refused:
            return
        if self._waiting:
            self._started = True
            if self._deadline is None:
                self._deadline = self.callLater(
                    self.site.request_timeout, self._too_slow
                )
        super().dataReceived(data)

    def rawDataReceived(self, data: bytes) -> None:
        if not self._refused:
            super().rawDataReceived(data)

    def lineReceived(self, line: bytes) -> None:
        if not self._refused:
            super().lineReceived(line)

    def allHeadersReceived(self) -> None:
        limit = self.site.max_body_size
        # self.length is the declared Content-Length (None when chunked).
        if self.length is not None and self.length > limit:
            self.refuse(413, "Body larger than {} bytes".format(limit))
            return
        super().allHeadersReceived()

    def allContentReceived(self) -> None:
        if self._refused:
            # The end of a chunked body that arrived with the data that
            # went over the limit.
            return
        self._waiting = False
        self._started = False
        self._cancel_deadline()
        super().allContentReceived()

    def requestDone(self, request: Any) -> None:
        self._waiting = True
        super().requestDone(request)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._cancel_deadline()
        if self._abort is not None and self._abort.active():
            self._abort.cancel()
        self._abort = None
        super().connectionLost(reason)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            if self._deadline.active():
                self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self._started:
            self.refuse(408, "Request not received within {} seconds".format(
                self.site.request_timeout))
        else:
            self._refused = True
            self.loseConnection()

    def refuse(self, code: int, error: str) -> None:
        """
        Answer the request being received with *code* and a JSON error,
        ignore the rest of its data, and close the connection.
        """
        if self._refused:
            return
        self._refused = True
        self._cancel_deadline()
        self.setTimeout(None)
        if self.site.log_limiter.allow():
            _log.warn(
                "Refused a request from {peer} ({code}): {reason}",
                peer=address_text(self.getPeer()), code=code, reason=error,
            )
        reason = {408: b"Request Timeout", 413: b"Payload Too Large"}[code]
        assert self.transport is not None
        self.transport.write(_answer(code, reason, error))
        if self.abortTimeout is not None:
            # A peer that does not read the answer is cut off, as
            # twisted.web does when its idle timeout closes a connection.
            transport: Any = self.transport
            self._abort = self.callLater(self.abortTimeout, transport.abortConnection)
        self.loseConnection()


class BoundedRequest(Request):
    """
    A request that keeps its body in memory, never more than its site's
    ``max_body_size`` bytes: its channel (a :class:`LimitedHTTPChannel`)
    answers 413 as soon as more arrive. A huge upload can neither fill the
    disk (as twisted.web's spooling to a temporary file would) nor memory.
    """

    channel: Any

    def gotLength(self, length: Optional[int]) -> None:
        self.content = BytesIO()  # type: ignore[assignment]

    def handleContentChunk(self, data: bytes) -> None:
        content: BytesIO = self.content  # type: ignore[assignment]
        limit = self.channel.site.max_body_size
        if content.tell() + len(data) > limit:
            self.channel.refuse(413, "Body larger than {} bytes".format(limit))
        else:
            content.write(data)


def open_file_limit() -> Optional[int]:
    """
    The process's open-file soft limit, or ``None`` when unlimited.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def raise_open_file_limit() -> int:
    """
    Raise the process's open-file soft limit to its hard limit, so that
    connection limits rather than file descriptors run out first.

    :returns: the soft limit now (``resource.RLIM_INFINITY`` if unlimited).
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            # macOS refuses RLIM_INFINITY; keep what we have.
            return soft
        soft = hard
    return soft


def connections_per_port(file_limit: Optional[int], ports: int) -> Optional[int]:
    """
    The automatic connection limit of each of *ports* ports: an equal
    share of the open files, less :data:`RESERVED_FILES`, so that a flood
    on one port cannot take the descriptors another port needs.
    ``None`` (no limit) when files are unlimited.
    """
    if file_limit is None:
        return None
    return max(1, (file_limit - RESERVED_FILES) // max(1, ports))
