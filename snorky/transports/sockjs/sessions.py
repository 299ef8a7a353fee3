"""
`SessionTable`: the sessions of one SockJS resource, which its
transports see through :class:`~.interfaces.HTTPSessions` and
:class:`~.interfaces.WebSocketSessions`.
"""

import ipaddress
from typing import Dict, List, Optional, Set, Union

from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
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
from snorky.transports.sockjs.session import QUEUE_FULL, SHUTDOWN, Session

__all__ = ["SessionTable", "address_group"]

_log = Logger()


def address_group(address: Optional[str]) -> str:
    """
    The key under which sessions from *address* are counted: an IPv4
    address itself (also when mapped into IPv6), the /64 network of an
    IPv6 address (what one host or home usually gets), any other text
    (a UNIX socket's path) as it is.
    """
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return address or ""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class SessionTable:
    """
    HTTP sessions by id, within ``max_sessions`` in all and
    ``max_sessions_per_address`` per client address (see
    :func:`address_group`); WebSocket sessions and raw WebSocket
    connections for as long as they are open.

    :param handler_factory: builds the handler of each new connection.
    :param options: the resource's settings.
    :param reactor: the ``IReactorTime`` of the sessions' timers.
    """

    #: Counts read by :mod:`snorky.ops`: new sessions refused by
    #: ``max_sessions`` and by ``max_sessions_per_address``, sessions
    #: closed for reading too slowly.
    refused = 0
    refused_per_address = 0
    slow_consumers_dropped = 0

    def __init__(
        self, handler_factory: HandlerFactory, options: SockJSOptions, reactor: IReactorTime
    ) -> None:
        self.handler_factory = handler_factory
        self.options = options
        self._reactor = reactor
        self._by_id: Dict[str, Session] = {}
        self._per_address: Dict[str, int] = {}
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
        holds ``max_sessions`` already, or the client's address its
        ``max_sessions_per_address``.
        """
        session = self._by_id.get(session_id)
        if session is not None:
            return session
        if len(self._by_id) >= self.options.max_sessions:
            self.refused += 1
            return error(request, 503, "Too many sessions.")
        address = address_text(request.getClientAddress())
        group = address_group(address)
        held = self._per_address.get(group, 0)
        cap = self.options.max_sessions_per_address
        if cap is not None and held >= cap:
            self.refused_per_address += 1
            return error(request, 503, "Too many sessions from your address.")
        session = self._new(session_id, address)
        path = getattr(request, "postpath", None)
        if path:
            session.transport = path[-1].decode("ascii", "replace")
        self._by_id[session_id] = session
        self._per_address[group] = held + 1
        if held + 1 == cap:
            # Once each time the address reaches its cap, not once per
            # refused request: a client cannot flood the log.
            _log.warn(
                "SockJS: {group} holds max_sessions_per_address ({cap}) sessions;"
                " more are refused",
                group=group,
                cap=cap,
            )
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
        if session.close_code == QUEUE_FULL[0]:
            self.slow_consumers_dropped += 1
        if session.session_id is None:
            self._websocket_sessions.discard(session)
        elif self._by_id.get(session.session_id) is session:
            del self._by_id[session.session_id]
            group = address_group(session.remote_address)
            held = self._per_address.pop(group, 1) - 1
            if held:
                self._per_address[group] = held
