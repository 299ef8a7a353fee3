"""
The WebSocket transport, on Autobahn: each WebSocket connection becomes a
:class:`~snorky.Client` of one :class:`~snorky.ServiceRegistry`.

:class:`SnorkyWebSocketFactory` listens on its own port
(``endpoint.listen(factory)``) or, through :func:`websocket_resource`, as a
``twisted.web`` resource next to others on one port.
"""

import secrets
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, List, Optional, Sequence, Set

from autobahn.twisted.resource import WebSocketResource
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.util import encode_truncate
from autobahn.websocket.protocol import PreparedMessage
from twisted.internet import tcp
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IPushProducer
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import IResource
from zope.interface import implementer

from snorky.client import Client
from snorky.transports._addresses import address_text
from snorky.transports.origins import OriginPolicy, check_patterns

if TYPE_CHECKING:
    from snorky.registry import ServiceRegistry

__all__ = [
    "WebSocketOptions",
    "WebSocketClient",
    "ServerProtocolMixin",
    "SnorkyWebSocketProtocol",
    "SnorkyWebSocketFactory",
    "websocket_resource",
]

_log = Logger()

#: Close code for a frame type we do not accept (RFC 6455, 7.4.1).
CLOSE_UNSUPPORTED_DATA = WebSocketServerProtocol.CLOSE_STATUS_CODE_UNSUPPORTED_DATA
#: Close code for a server going down (RFC 6455, 7.4.1).
CLOSE_GOING_AWAY = WebSocketServerProtocol.CLOSE_STATUS_CODE_GOING_AWAY


@dataclass
class WebSocketOptions:
    """
    Limits and keep-alive of a WebSocket endpoint.

    :param ping_interval: seconds between keep-alive pings; a peer that has
        not answered a ping within the same time is dropped. ``0`` turns
        pings off.
    :param allowed_origins: patterns the browser's ``Origin`` must match,
        ``*`` matching any run of characters (Autobahn's
        ``allowedOrigins``). Patterns are matched against
        ``scheme://host:port``; one written without a port
        (``https://app.example.com``) also matches the scheme's default
        port, and one without a scheme (``*.example.com``) means http and
        https on their default ports. ``"*"`` or ``"null"`` also admit the
        ``null`` origin of local files. Clients that send no ``Origin``
        (non-browsers) are always admitted.
    :param max_message_size: the largest message, in bytes, a client may
        send; a larger one closes the connection with code 1009.
    :param max_connections: open connections beyond which new handshakes
        are refused with HTTP 503; ``None`` for no limit.
    :param max_write_buffer: bytes that may wait to be sent to one client
        while its socket is backed up; beyond that the client is dropped as
        a slow consumer.
    :param write_delay: the shortest time, in seconds, between two rounds
        of writing queued messages to the factory's connections. A message
        waits for the end of the reactor turn (gathering, under load, those
        of several requests) and, if the last round was less than
        *write_delay* ago, until that much time has passed since it. A busy
        stream then costs one socket write per connection per
        *write_delay*, not one per message (a write costs more than the
        rest of a delivery), while a quiet one adds no latency. ``0``
        always writes at the end of the reactor turn.
    """

    ping_interval: float = 90.0
    allowed_origins: Sequence[str] = ("*",)
    max_message_size: int = 1 << 20
    max_connections: Optional[int] = None
    max_write_buffer: int = 4 << 20
    write_delay: float = 0.02

    def __post_init__(self) -> None:
        if self.ping_interval < 0:
            raise ValueError("ping_interval must be 0 (off) or positive")
        check_patterns(self.allowed_origins)
        if self.max_message_size < 1:
            raise ValueError("max_message_size must be positive")
        if self.max_connections is not None and self.max_connections < 1:
            raise ValueError("max_connections must be positive or None")
        if self.max_write_buffer < 1:
            raise ValueError("max_write_buffer must be positive")
        if self.write_delay < 0:
            raise ValueError("write_delay must be 0 or positive")


@implementer(IPushProducer)
class _WriteBufferWatch:
    """
    Registered as the streaming producer of one connection, so that its
    transport says when the outgoing buffer is full (``pauseProducing``)
    and when it has drained (``resumeProducing``). Bytes written in between
    are waiting in the buffer; when they exceed *limit*, *overflow* is
    called once.
    """

    def __init__(self, limit: int, overflow: Any) -> None:
        self._limit = limit
        self._overflow = overflow
        self._paused = False
        self._waiting = 0
        self._overflowed = False

    def pauseProducing(self) -> None:
        self._paused = True

    def resumeProducing(self) -> None:
        self._paused = False
        self._waiting = 0

    def stopProducing(self) -> None:
        self._paused = False

    def wrote(self, size: int) -> None:
        """
        Account for *size* bytes just written to the transport.
        """
        if not self._paused or self._overflowed:
            return
        self._waiting += size
        if self._waiting > self._limit:
            self._overflowed = True
            self._overflow()


def _plain_socket(transport: Any) -> Optional[socket.socket]:
    """
    The socket of *transport* if it is a plain TCP connection of Twisted's
    whose buffer :meth:`SnorkyWebSocketProtocol.flush` may bypass, else
    ``None`` (TLS, or a transport of another kind).
    """
    if not isinstance(transport, tcp.Connection) or transport.TLS:
        return None
    if not hasattr(transport, "dataBuffer") or not hasattr(transport, "_tempDataLen"):
        return None
    return transport.socket


class ServerProtocolMixin:
    """
    What Snorky's Autobahn server protocols share: :meth:`probe`, a ping
    the peer must answer (the factory needs a ``reactor``), and no timer
    left behind when the connection is lost.
    """

    #: Who waits for the answer to the ping :meth:`probe` sent, its
    #: payload and its timeout; ``None`` when no probe is under way.
    _probe_waiters: Optional[List[Deferred]] = None
    _probe_payload = b""
    _probe_timeout: Any = None

    def probe(self, timeout: float) -> "Deferred[bool]":
        """
        Ping the peer: fires with ``True`` when it answers, or with
        ``False`` if it does not within *timeout* seconds (the connection
        is then dropped) or the connection is not open. Probes made while
        one is under way share its ping.
        """
        if self.state != self.STATE_OPEN:
            return succeed(False)
        waiter: "Deferred[bool]" = Deferred()
        if self._probe_waiters is None:
            self._probe_waiters = []
            self._probe_payload = secrets.token_bytes(8)
            self._probe_timeout = self.factory.reactor.callLater(
                timeout, self._probe_unanswered
            )
            self.sendPing(self._probe_payload)
        self._probe_waiters.append(waiter)
        return waiter

    def onPong(self, payload: bytes) -> None:
        if self._probe_waiters is not None and payload == self._probe_payload:
            self._probe_answered(True)

    def _probe_unanswered(self) -> None:
        self._probe_timeout = None
        self.wasNotCleanReason = "No answer to a ping"
        self._probe_answered(False)
        self.dropConnection(abort=True)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        try:
            super().connectionLost(reason)  # type: ignore[misc]
        finally:
            # Autobahn leaves this timer running when the peer goes before
            # answering our close frame.
            if self.closeHandshakeTimeoutCall is not None:
                self.closeHandshakeTimeoutCall.cancel()
                self.closeHandshakeTimeoutCall = None
            self._probe_answered(False)

    def _probe_answered(self, alive: bool) -> None:
        waiters, self._probe_waiters = self._probe_waiters, None
        if self._probe_timeout is not None:
            self._probe_timeout.cancel()
            self._probe_timeout = None
        for waiter in waiters or ():
            waiter.callback(alive)


class WebSocketClient(Client):
    """
    One WebSocket connection as services see it. Frames are prepared once
    per factory, so a fan-out to many connections frames a message once.
    """

    transport_name = "websocket"
    #: The connection's factory: its clients share prepared frames.
    frame_key: Any = None
    #: The factory counts the frames it writes, per flush (for metrics).
    counts_own_frames = True

    def __init__(self, protocol: "SnorkyWebSocketProtocol") -> None:
        super().__init__(address_text(protocol.transport.getPeer()))
        self.protocol = protocol
        # An attribute and the protocol's own method, rather than a
        # property and a forwarding method: a fan-out uses both once per
        # delivery, and the extra calls were a tenth of its cost.
        self.frame_key = protocol.factory
        self.write_frame = protocol.send_prepared  # type: ignore[method-assign]

    def prepare(self, data: bytes) -> PreparedMessage:
        return self.protocol.factory.prepareMessage(data, isBinary=False)

    def probe(self, timeout: float) -> "Deferred[bool]":
        return self.protocol.probe(timeout)


class SnorkyWebSocketProtocol(ServerProtocolMixin, WebSocketServerProtocol):
    """
    One WebSocket connection to the factory's registry.

    Autobahn calls :meth:`onOpen`, :meth:`onMessageBegin`, :meth:`onMessage`
    and :meth:`onClose`; the connection's :class:`WebSocketClient` calls
    :meth:`send_prepared`; the factory calls :meth:`close`.

    :ivar client: the :class:`WebSocketClient` while the connection is open,
        else ``None``.
    """

    factory: "SnorkyWebSocketFactory"
    client: Optional[WebSocketClient] = None
    _write_watch: Optional[_WriteBufferWatch] = None
    #: Messages waiting for the next flush, and their size in bytes. The
    #: list lasts as long as the connection: a new one per flush made the
    #: garbage collector run every few milliseconds under a fan-out, and
    #: its full collections pause the server for tens of them.
    _pending: List[bytes]
    _pending_size = 0
    #: The connection's socket, when :meth:`flush` may write to it itself.
    _socket: Optional[socket.socket] = None

    def connectionMade(self) -> None:
        self._pending = []
        super().connectionMade()
        self.factory._connections.add(self)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        try:
            super().connectionLost(reason)
        finally:
            self._pending.clear()
            self._socket = None
            self.factory._connection_lost(self)

    def onOpen(self) -> None:
        self._write_watch = _WriteBufferWatch(
            self.factory.options.max_write_buffer, self._drop_slow_consumer
        )
        try:
            self.transport.registerProducer(self._write_watch, True)
        except RuntimeError:
            # Inside a twisted.web Site, the HTTP channel that handed this
            # connection over is still registered as its producer, and has
            # no further use for it.
            self.transport.unregisterProducer()
            self.transport.registerProducer(self._write_watch, True)
        self._socket = _plain_socket(self.transport)
        self.client = WebSocketClient(self)
        self.factory.registry.client_connected(self.client)

    def onMessageBegin(self, isBinary: bool) -> None:
        super().onMessageBegin(isBinary)
        if isBinary:
            # Failing (rather than closing) also makes Autobahn discard the
            # rest of the binary message instead of buffering it.
            self._fail_connection(CLOSE_UNSUPPORTED_DATA, "Binary frames are not supported")

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if self.client is not None:
            self.factory.registry.process_frame(self.client, payload)

    def onClose(self, wasClean: bool, code: Optional[int], reason: Optional[str]) -> None:
        client, self.client = self.client, None
        if client is not None:
            self.factory.registry.client_disconnected(client)

    def send_prepared(self, prepared: PreparedMessage) -> None:
        """
        Queue a message prepared by the factory, unless the connection is
        closing. Queued messages are written together when the factory
        flushes (see ``WebSocketOptions.write_delay``), or at once when
        they exceed ``max_write_buffer``.
        """
        pending = self._pending
        if pending:
            # Checked when the queue was started; a close since then
            # flushed it, and a drop makes flush discard it.
            data = prepared.payloadHybi
            pending.append(data)
            self._pending_size += len(data)
            if self._pending_size > self.factory.options.max_write_buffer:
                self.flush()
            return
        if self.state != self.STATE_OPEN:
            return
        if self._perMessageCompress is not None:
            # Compressed messages are framed per connection by Autobahn.
            self.sendPreparedMessage(prepared)
            return
        data = prepared.payloadHybi
        pending.append(data)
        self._pending_size = len(data)
        self.factory._flush_later(self)

    def flush(self) -> None:
        """
        Write the queued messages, in one write; drops the connection if its
        outgoing buffer overflows.
        """
        pending = self._pending
        if not pending:
            return
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        factory = self.factory
        factory.frames_out += len(pending)
        factory.bytes_out += len(data)
        pending.clear()
        if self.state != self.STATE_OPEN:
            return
        transport = self.transport
        if self.send_queue:
            self.sendData(data)
        elif (
            self._socket is not None
            and not transport.dataBuffer
            and not transport._tempDataLen
        ):
            # Nothing of Twisted's is waiting to go out, so the socket can
            # take the data now: this saves the two epoll registrations
            # and the reactor turn that a buffered write costs, which were
            # most of a fan-out delivery (bench/fanout.py). What the
            # kernel does not take is buffered by Twisted as usual.
            try:
                sent = self._socket.send(data)
            except OSError:
                # Twisted's own write then meets the error and reports it.
                sent = 0
            if sent < len(data):
                transport.write(data[sent:])
        else:
            # What sendData does in this case, minus the debug log line
            # Autobahn formats on every send even when debug logging is
            # off: that formatting cost 4x the rest of a fan-out delivery.
            transport.write(data)
        if self._write_watch is not None:
            self._write_watch.wrote(len(data))

    def sendCloseFrame(
        self, code: Optional[int] = None, reasonUtf8: Optional[bytes] = None,
        isReply: bool = False,
    ) -> None:
        # Messages queued before the close frame go out before it.
        self.flush()
        super().sendCloseFrame(code, reasonUtf8, isReply)

    def failHandshake(self, reason: str, code: int = 400,
                      responseHeaders: Any = None) -> None:
        if code == 503:
            # Autobahn's answer when max_connections are open.
            self.factory.connections_refused += 1
        super().failHandshake(reason, code, responseHeaders)

    def close(self, code: int, reason: str) -> None:
        """
        Start the closing handshake with *code*; a connection still in its
        opening handshake is dropped.
        """
        if self.state == self.STATE_OPEN:
            # sendClose only takes application codes (1000, 3000-4999).
            self.sendCloseFrame(code=code, reasonUtf8=encode_truncate(reason, 123))
        elif self.state != self.STATE_CLOSING:
            self.transport.abortConnection()

    def _drop_slow_consumer(self) -> None:
        reason = "Slow consumer: more than {} bytes waiting to be sent".format(
            self.factory.options.max_write_buffer
        )
        _log.warn("Dropped {client}: {reason}", client=self.client, reason=reason)
        self.factory.slow_consumers_dropped += 1
        self.wasNotCleanReason = reason
        self.dropConnection(abort=True)


class SnorkyWebSocketFactory(WebSocketServerFactory):
    """
    Makes a :class:`SnorkyWebSocketProtocol` for each connection and feeds
    their frames to *registry*.

    :param registry: the :class:`~snorky.ServiceRegistry` to serve.
    :param options: limits and keep-alive; defaults when ``None``.
    :param url: the public ``ws://`` or ``wss://`` URL, when known.
    :param reactor: for :meth:`close_all`'s timeout and for flushing
        queued messages; the global reactor
        when ``None``. (Autobahn's own timers always use the global one.)
    """

    protocol = SnorkyWebSocketProtocol
    #: Counts read by :mod:`snorky.ops`: frames and bytes written, slow
    #: consumers dropped, handshakes refused by ``max_connections``.
    frames_out = 0
    bytes_out = 0
    slow_consumers_dropped = 0
    connections_refused = 0

    def __init__(
        self,
        registry: "ServiceRegistry",
        options: Optional[WebSocketOptions] = None,
        url: Optional[str] = None,
        reactor: Any = None,
    ) -> None:
        super().__init__(url=url, reactor=reactor, server="Snorky")
        self.registry = registry
        self.options = options = options or WebSocketOptions()
        self.setProtocolOptions(
            webStatus=False,
            maxMessagePayloadSize=options.max_message_size,
            maxFramePayloadSize=options.max_message_size,
            autoPingInterval=options.ping_interval,
            autoPingTimeout=options.ping_interval,
            maxConnections=options.max_connections or 0,
            # Close with a proper code (1003, 1009) instead of just dropping.
            failByDrop=False,
            **OriginPolicy(options.allowed_origins).websocket_options(),
        )
        self._connections: Set[SnorkyWebSocketProtocol] = set()
        self._idle_waiters: List[Deferred] = []
        self._unflushed: List[SnorkyWebSocketProtocol] = []
        self._flush_call: Any = None
        self._last_flush = float("-inf")

    def _flush_later(self, protocol: SnorkyWebSocketProtocol) -> None:
        """
        Have *protocol* flushed with every other connection that queues a
        message until then: at the end of this reactor turn, or
        ``options.write_delay`` seconds after the last flush if that is
        later.
        """
        self._unflushed.append(protocol)
        if self._flush_call is None:
            delay = self._last_flush + self.options.write_delay - self.reactor.seconds()
            self._flush_call = self.reactor.callLater(max(delay, 0.0), self._flush)

    def _flush(self) -> None:
        self._flush_call = None
        self._last_flush = self.reactor.seconds()
        protocols, self._unflushed = self._unflushed, []
        for protocol in protocols:
            protocol.flush()

    def _connection_lost(self, protocol: SnorkyWebSocketProtocol) -> None:
        self._connections.discard(protocol)
        if not self._connections:
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                waiter.callback(None)

    def close_all(
        self,
        code: int = CLOSE_GOING_AWAY,
        reason: str = "Server shutting down",
        timeout: float = 3.0,
    ) -> "Deferred[None]":
        """
        Close every connection with *code* and *reason*.

        :param timeout: seconds to wait for the closing handshakes; then
            the connections left are dropped.
        :returns: a ``Deferred`` that fires with ``None`` once every
            connection is closed or *timeout* has passed.
        """
        for protocol in list(self._connections):
            protocol.close(code, reason)
        if not self._connections:
            return succeed(None)
        done: "Deferred[None]" = Deferred(self._idle_waiters.remove)
        self._idle_waiters.append(done)

        def drop_the_rest(result: Any, timeout: float) -> None:
            # Abort the transports themselves: Autobahn may already have
            # closed a connection with loseConnection, which waits for ever
            # on a peer that stopped reading.
            for protocol in list(self._connections):
                protocol.transport.abortConnection()

        done.addTimeout(timeout, self.reactor, onTimeoutCancel=drop_the_rest)
        return done


def websocket_resource(factory: SnorkyWebSocketFactory) -> IResource:
    """
    A ``twisted.web`` resource serving WebSocket through *factory*, to
    mount in a ``Site`` (``root.putChild(b"ws", websocket_resource(f))``).
    """
    return WebSocketResource(factory)
