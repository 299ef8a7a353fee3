"""
The contracts between the parts of the SockJS package.

Application side: the `Channel` a connection offers and the
`SessionHandler` an application puts behind it, built by a
`HandlerFactory`. The Snorky adapter (:mod:`.client`) is one such
handler; the protocol test server's echo and close services are others.

Transport side: each transport module sees the resource's sessions only
through `HTTPSessions` or `WebSocketSessions`, a session only as a
`TransportSession`, and lends it `Receiver` connections; it declares the
URLs it answers as `Route` objects.
"""

from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Protocol, Union, runtime_checkable

from twisted.internet.defer import Deferred
from twisted.web.server import Request

from snorky.transports.sockjs.options import SockJSOptions

__all__ = [
    "Channel",
    "SessionHandler",
    "HandlerFactory",
    "Receiver",
    "TransportSession",
    "HTTPSessions",
    "WebSocketConnection",
    "RawConnection",
    "WebSocketSessions",
    "Render",
    "Route",
]


@runtime_checkable
class Channel(Protocol):
    """
    What a handler may do with its connection.

    Messages are text. :meth:`encode` turns one message into the form the
    channel queues; it depends only on the kind of channel, so a message
    sent to many channels of one kind is encoded once.
    """

    @property
    def remote_address(self) -> Optional[str]:
        """
        The peer's address as text, when known.
        """

    def encode(self, message: str) -> Any:
        """
        Encode one message for :meth:`send_encoded`.
        """

    def send_encoded(self, encoded: Any) -> None:
        """
        Send a message encoded by :meth:`encode`.
        """

    def close(self, code: int = 3000, reason: str = "Go away!") -> None:
        """
        Close the connection with a code and a reason.
        """

    def probe(self, timeout: float) -> "Deferred[bool]":
        """
        Whether the client still answers, as :meth:`snorky.Client.probe`.
        """


@runtime_checkable
class SessionHandler(Protocol):
    """
    The application side of one connection. Each method is called by the
    transport: :meth:`opened` once, then :meth:`received` for each
    message in order, then :meth:`closed` once.
    """

    def opened(self) -> None:
        """
        The connection is open; messages may be sent.
        """

    def received(self, message: str) -> None:
        """
        The client sent *message*.
        """

    def closed(self) -> None:
        """
        The connection is closed, by either side or by a timeout.
        """


#: Builds the handler of a new connection, given its channel.
HandlerFactory = Callable[[Channel], SessionHandler]


@runtime_checkable
class Receiver(Protocol):
    """
    A connection that carries frames from a session to the client.

    A receiver that loses its connection tells the session with
    :meth:`TransportSession.detach`. One that can ask its peer whether it
    is still there (a WebSocket) also has ``probe(timeout)``, as
    :meth:`snorky.Client.probe`.
    """

    def send_frame(self, frame: str) -> bool:
        """
        Write one frame. Return ``False`` when the receiver can take no
        more frames (a polling response, or a stream past its limit); the
        session then lets go of it and calls :meth:`finish`.
        """

    def finish(self) -> None:
        """
        End the connection normally.
        """


@runtime_checkable
class TransportSession(Protocol):
    """
    A session as transports see it: they lend it receivers and hand it
    what the client sent.
    """

    def attach(self, receiver: Receiver) -> None:
        """
        Lend *receiver* to the session until it is full or finished.
        """

    def detach(self, receiver: Receiver) -> None:
        """
        *receiver*'s connection broke.
        """

    def received(self, messages: List[str]) -> None:
        """
        The client sent *messages*, in this order.
        """


@runtime_checkable
class HTTPSessions(Protocol):
    """
    The sessions of one SockJS resource, as its HTTP transports see them.
    """

    @property
    def options(self) -> SockJSOptions:
        """
        The resource's settings.
        """

    def open(self, session_id: str, request: Request) -> Union[TransportSession, bytes]:
        """
        The session *session_id*, created if new; or, as bytes, the error
        answer to *request* when there is no room for a new one.
        """

    def find(self, session_id: str) -> Optional[TransportSession]:
        """
        The session *session_id*, or ``None``.
        """


@runtime_checkable
class WebSocketConnection(Protocol):
    """
    A WebSocket connection of a SockJS resource.
    """

    #: Fires once the connection is gone.
    gone: "Deferred[None]"

    def remote_host(self) -> Optional[str]:
        """
        The peer's host, when connected.
        """


@runtime_checkable
class RawConnection(WebSocketConnection, Channel, Protocol):
    """
    A raw WebSocket connection: it is its handler's channel.
    """


@runtime_checkable
class WebSocketSessions(Protocol):
    """
    The sessions of one SockJS resource, as its WebSocket transports see
    them.
    """

    @property
    def options(self) -> SockJSOptions:
        """
        The resource's settings.
        """

    def open_websocket(self, connection: WebSocketConnection) -> TransportSession:
        """
        A new session living as long as *connection*.
        """

    def open_raw(self, connection: RawConnection) -> SessionHandler:
        """
        The handler of the new raw connection *connection*.
        """


#: Answers one request of a session: given the resource's sessions, the
#: request and the session id, the body (or ``NOT_DONE_YET``).
Render = Callable[[HTTPSessions, Request, str], Union[bytes, int]]


@dataclass(frozen=True)
class Route:
    """
    One HTTP transport's URL, ``/<server>/<session>/<name>``, as the
    transport's module declares it.

    :ivar name: the last path segment.
    :ivar method: the HTTP method the transport takes.
    :ivar render: what answers the request.
    :ivar preflight: whether browsers send a CORS preflight first (for
        the XHR transports), to be answered to ``OPTIONS``.
    """

    name: bytes
    method: bytes
    render: Render
    preflight: bool = False
