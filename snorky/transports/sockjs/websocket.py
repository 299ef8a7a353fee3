"""
The WebSocket transports of a SockJS resource:
``/<server>/<session>/websocket`` carries SockJS frames, ``/websocket``
carries raw messages for clients that are not sockjs-client.

Both are built on the shared Autobahn layer,
:mod:`snorky.transports.wsserver`, so they have the limits of ``/ws``:
write bound and slow-consumer drop, keep-alive pings, message size,
connection limit (counted over both URLs), allowed origins, ping rate,
close-frame checks. They see the resource's sessions only through
:class:`~.interfaces.WebSocketSessions`.
"""

from dataclasses import replace
from typing import Any, Optional, Tuple

from autobahn.websocket.protocol import PreparedMessage
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.web.resource import IResource
from twisted.web.server import Request

from snorky.transports.sockjs.framing import FramingError, decode_messages
from snorky.transports.sockjs.headers import error, method_not_allowed
from snorky.transports.sockjs.interfaces import TransportSession, WebSocketSessions
from snorky.transports.sockjs.session import call_handler
from snorky.transports.wsserver import (
    ConnectionSet,
    ServerFactory,
    ServerProtocol,
    WebSocketOptions,
    websocket_resource,
)

__all__ = [
    "SockJSWebSocketProtocol",
    "RawWebSocketProtocol",
    "websocket_resources",
    "check_upgrade",
]


class _SessionsProtocol(ServerProtocol):
    """
    What both WebSocket protocols share: the sessions of the resource they
    belong to, and a Deferred that fires when the connection is gone.
    """

    factory: "_SessionsFactory"

    def __init__(self) -> None:
        super().__init__()
        self.gone: "Deferred[None]" = Deferred()

    @property
    def sessions(self) -> WebSocketSessions:
        return self.factory.sessions

    def remote_host(self) -> Optional[str]:
        """
        The peer's address as text, once connected.
        """
        return self.peer_address

    def onClose(self, wasClean: bool, code: Any, reason: Any) -> None:
        self.connection_closed()
        if not self.gone.called:
            self.gone.callback(None)

    def connection_closed(self) -> None:
        """
        Called once when the WebSocket connection is closed.
        """


class SockJSWebSocketProtocol(_SessionsProtocol):
    """
    One SockJS session over one WebSocket connection; the protocol is the
    session's receiver. Autobahn calls ``onOpen``/``onMessage``/``onClose``;
    the session calls :meth:`send_frame` and :meth:`finish`.
    """

    session: Optional[TransportSession] = None

    def onOpen(self) -> None:
        super().onOpen()
        self.session = self.sessions.open_websocket(self)
        self.session.attach(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if self.session is None or not payload:
            return
        try:
            messages = decode_messages(
                payload.decode("utf-8", "replace"), allow_single=True
            )
        except FramingError:
            # The protocol asks for an abrupt end, not a closing handshake.
            self.dropConnection(abort=False)
            return
        self.session.received(messages)

    def send_frame(self, frame: str) -> bool:
        # Every frame of a session is for its client alone: an answer.
        self.send_prepared(_prepare(frame.encode("utf-8")), answer=True)
        return True

    def finish(self) -> None:
        self.close_connection(1000, "")

    def connection_closed(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            session.detach(self)


class RawWebSocketProtocol(_SessionsProtocol):
    """
    Raw WebSocket: each text message is one message, no SockJS framing,
    no heartbeats. The protocol is the handler's
    :class:`~.interfaces.Channel`.
    """

    _handler: Any = None

    @property
    def remote_address(self) -> Optional[str]:
        return self.peer_address

    def onOpen(self) -> None:
        super().onOpen()
        self._handler = self.sessions.open_raw(self)
        call_handler(self._handler, "opened")

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if isBinary:
            self.close_connection(1003, "Text messages only.")
            return
        call_handler(self._handler, "received", payload.decode("utf-8"))

    @staticmethod
    def encode(message: str) -> bytes:
        """
        Encode a message as the UTF-8 text frame it travels as.
        """
        return message.encode("utf-8")

    def send_encoded(self, encoded: bytes) -> None:
        self.send_prepared(_prepare(encoded), answer=True)

    def close(self, code: int = 3000, reason: str = "Go away!") -> None:
        if self.state == self.STATE_OPEN:
            # WebSocket lets applications close with 1000 or 3000-4999,
            # and a server going down with 1001.
            if code not in (1000, 1001) and not 3000 <= code <= 4999:
                code = 1000
            self.close_connection(code, reason)

    def connection_closed(self) -> None:
        if self._handler is not None:
            handler, self._handler = self._handler, None
            call_handler(handler, "closed")


def _prepare(payload: bytes) -> PreparedMessage:
    # What a server factory's prepareMessage makes: unmasked, uncompressed.
    return PreparedMessage(payload, False, False, True)


class _SessionsFactory(ServerFactory):
    def __init__(
        self,
        sessions: WebSocketSessions,
        protocol: "type[_SessionsProtocol]",
        options: WebSocketOptions,
        reactor: IReactorTime,
        connections: ConnectionSet,
    ) -> None:
        super().__init__(options, reactor=reactor, connections=connections)
        self.sessions = sessions
        self.protocol = protocol  # type: ignore[assignment]


def websocket_resources(
    sessions: WebSocketSessions,
    websocket: Optional[WebSocketOptions],
    reactor: IReactorTime,
) -> Tuple[IResource, IResource]:
    """
    The resources of ``/<server>/<session>/websocket`` and of the raw
    ``/websocket``, whose connections get their sessions and handlers from
    *sessions*.

    :param websocket: the limits of ``/ws`` to apply (pings, write bound,
        connection limit, counted over both URLs, ping rate), defaults when
        ``None``; the message size and the origins are the resource's
        own (``sessions.options``).
    """
    options = sessions.options
    limits = replace(
        websocket or WebSocketOptions(),
        max_message_size=options.max_message_size,
        allowed_origins=options.allowed_origins,
    )
    connections = ConnectionSet(limits.max_connections, reactor)
    framed, raw = (
        websocket_resource(_SessionsFactory(sessions, protocol, limits, reactor, connections))
        for protocol in (SockJSWebSocketProtocol, RawWebSocketProtocol)
    )
    return framed, raw


def check_upgrade(request: Request) -> Optional[bytes]:
    """
    The error answer for a request that cannot become a WebSocket (some
    proxies rewrite the headers), or ``None`` when it can.
    """
    if request.method != b"GET":
        return method_not_allowed(request, b"GET")
    upgrade = (request.getHeader(b"Upgrade") or b"").lower()
    if upgrade != b"websocket":
        return error(request, 400, 'Can "Upgrade" only to "WebSocket".')
    connection = (request.getHeader(b"Connection") or b"").lower()
    if b"upgrade" not in [part.strip() for part in connection.split(b",")]:
        return error(request, 400, '"Connection" must be "Upgrade".')
    return None
