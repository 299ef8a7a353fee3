"""
`SessionTable`: the sessions of one SockJS resource, which its
transports see through :class:`~.interfaces.HTTPSessions` and
:class:`~.interfaces.WebSocketSessions`.
"""

from typing import Dict, List, Optional, Set, Union

from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.interfaces import IReactorTime
from twisted.web.server import Request

from snorky.transports._addresses import address_text
from snorky.transports.sockjs.headers import error
from snorky.transports.sockjs.interfaces import (
    HandlerFactory,
    RawConnection,
    SessionHandler,
    WebSocketConnection,
)
from snorky.transports.sockjs.options import SockJSOptions
from snorky.transports.sockjs.session import SHUTDOWN, Session

__all__ = ["SessionTable"]


class SessionTable:
    """
    HTTP sessions by id, within ``max_sessions``; WebSocket sessions and
    raw WebSocket connections for as long as they are open.

    :param handler_factory: builds the handler of each new connection.
    :param options: the resource's settings.
    :param reactor: the ``IReactorTime`` of the sessions' timers.
    """

    def __init__(
        self, handler_factory: HandlerFactory, options: SockJSOptions, reactor: IReactorTime
    ) -> None:
        self.handler_factory = handler_factory
        self.options = options
        self._reactor = reactor
        self._by_id: Dict[str, Session] = {}
        self._websocket_sessions: Set[Session] = set()
        self._connections: Set[WebSocketConnection] = set()
        self._raw: Set[RawConnection] = set()

    def __len__(self) -> int:
        """
        The number of HTTP sessions.
        """
        return len(self._by_id)

    def __contains__(self, session_id: str) -> bool:
        return session_id in self._by_id

    @property
    def websocket_sessions(self) -> int:
        """
        The number of sessions living on a WebSocket connection.
        """
        return len(self._websocket_sessions)

    # For the HTTP transports.

    def open(self, session_id: str, request: Request) -> Union[Session, bytes]:
        """
        The session *session_id*, created if new; ``503`` when the table
        holds ``max_sessions`` already.
        """
        session = self._by_id.get(session_id)
        if session is not None:
            return session
        if len(self._by_id) >= self.options.max_sessions:
            return error(request, 503, "Too many sessions.")
        session = self._new(session_id, address_text(request.getClientAddress()))
        self._by_id[session_id] = session
        return session

    def find(self, session_id: str) -> Optional[Session]:
        """
        The session *session_id*, or ``None``.
        """
        return self._by_id.get(session_id)

    # For the WebSocket transports.

    def open_websocket(self, connection: WebSocketConnection) -> Session:
        """
        A new session living as long as *connection*.
        """
        session = self._new(None, connection.remote_host())
        self._websocket_sessions.add(session)
        self._track(connection)
        return session

    def open_raw(self, connection: RawConnection) -> SessionHandler:
        """
        The handler of the new raw connection *connection*, which is kept
        until it is gone.
        """
        self._raw.add(connection)
        self._track(connection)
        connection.gone.addBoth(lambda _: self._raw.discard(connection))
        return self.handler_factory(connection)

    # For the resource.

    def close_all(self) -> "Deferred[None]":
        """
        Close every session and connection, for a server shutdown.

        :returns: a Deferred that fires when every WebSocket connection
            is gone.
        """
        waiting: List[Deferred] = [connection.gone for connection in self._connections]
        sessions = list(self._by_id.values()) + list(self._websocket_sessions)
        for session in sessions:
            session.shutdown()
        for connection in list(self._raw):
            connection.close(*SHUTDOWN)
        return DeferredList(waiting).addCallback(lambda _: None)

    def _new(self, session_id: Optional[str], address: Optional[str]) -> Session:
        return Session(
            session_id,
            self.handler_factory,
            self.options,
            self._reactor,
            remote_address=address,
            on_gone=self._forget,
        )

    def _track(self, connection: WebSocketConnection) -> None:
        self._connections.add(connection)
        connection.gone.addBoth(lambda _: self._connections.discard(connection))

    def _forget(self, session: Session) -> None:
        if session.session_id is None:
            self._websocket_sessions.discard(session)
        elif self._by_id.get(session.session_id) is session:
            del self._by_id[session.session_id]
