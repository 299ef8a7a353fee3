"""
The WebSocket transports, on Autobahn: ``/<server>/<session>/websocket``
carries SockJS frames, ``/websocket`` carries raw messages for clients
that are not sockjs-client.
"""

from typing import Any, Optional

from autobahn.twisted.resource import WebSocketResource
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.internet.defer import Deferred
from twisted.web.server import Request

from snorky.transports.origins import OriginPolicy
from snorky.transports.sockjs.framing import FramingError, decode_messages
from snorky.transports.websocket import ServerProtocolMixin
from snorky.transports.sockjs.headers import error, method_not_allowed
from snorky.transports.sockjs.interfaces import TransportSession, WebSocketSessions
from snorky.transports.sockjs.session import call_handler

__all__ = [
    "SockJSWebSocketProtocol",
    "RawWebSocketProtocol",
    "websocket_resource",
    "check_upgrade",
]


class _SessionsProtocol(ServerProtocolMixin, WebSocketServerProtocol):
    """
    What both WebSocket protocols share: the sessions of the resource
    they belong to, a Deferred that fires when the connection is gone,
    and :meth:`probe`.
    """

    factory: "_SessionsFactory"

    def __init__(self) -> None:
        super().__init__()
        self.gone: Deferred = Deferred()

    @property
    def sessions(self) -> WebSocketSessions:
        return self.factory.sessions

    def remote_host(self) -> Optional[str]:
        """
        The peer's host, when connected.
        """
        if self.transport is None:
            return None
        return getattr(self.transport.getPeer(), "host", None)

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
        if self.state == self.STATE_OPEN:
            self.sendMessage(frame.encode("utf-8"))
        return True

    def finish(self) -> None:
        if self.state == self.STATE_OPEN:
            self.sendClose(1000)

    def connection_closed(self) -> None:
        if self.session is not None:
            self.session.detach(self)


class RawWebSocketProtocol(_SessionsProtocol):
    """
    Raw WebSocket: each text message is one message, no SockJS framing,
    no heartbeats. The protocol is the handler's
    :class:`~.interfaces.Channel`.
    """

    _handler: Any = None

    @property
    def remote_address(self) -> Optional[str]:
        return self.remote_host()

    def onOpen(self) -> None:
        self._handler = self.sessions.open_raw(self)
        call_handler(self._handler, "opened")

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if isBinary:
            self.sendClose(1003, "Text messages only.")
            return
        call_handler(self._handler, "received", payload.decode("utf-8"))

    @staticmethod
    def encode(message: str) -> bytes:
        """
        Encode a message as the UTF-8 text frame it travels as.
        """
        return message.encode("utf-8")

    def send_encoded(self, encoded: bytes) -> None:
        if self.state == self.STATE_OPEN:
            self.sendMessage(encoded)

    def close(self, code: int = 3000, reason: str = "Go away!") -> None:
        if self.state == self.STATE_OPEN:
            # WebSocket lets applications close with 1000 or 3000-4999.
            if code != 1000 and not 3000 <= code <= 4999:
                code = 1000
            self.sendClose(code, reason)

    def connection_closed(self) -> None:
        if self._handler is not None:
            handler, self._handler = self._handler, None
            call_handler(handler, "closed")


class _SessionsFactory(WebSocketServerFactory):
    def __init__(self, sessions: WebSocketSessions, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sessions = sessions


def websocket_resource(
    sessions: WebSocketSessions,
    protocol: "type[WebSocketServerProtocol]",
    origins: OriginPolicy,
    reactor: Any,
) -> WebSocketResource:
    """
    A resource that upgrades requests to *protocol* connections whose
    sessions are *sessions*, within its message size limit and from the
    *origins* allowed.
    """
    factory = _SessionsFactory(sessions, reactor=reactor)
    factory.protocol = protocol
    size = sessions.options.max_message_size
    factory.setProtocolOptions(
        maxMessagePayloadSize=size,
        maxFramePayloadSize=size,
        **origins.websocket_options(),
    )
    return WebSocketResource(factory)


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
