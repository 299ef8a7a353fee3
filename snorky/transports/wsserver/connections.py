"""`ConnectionSet`: the open connections of a WebSocket endpoint, their limit and their shutdown."""

from typing import Any, Iterator, List, Optional, Protocol, Set

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime

__all__ = ["ConnectionSet", "Closable"]

#: Close code for a server going down (RFC 6455, 7.4.1).
CLOSE_GOING_AWAY = 1001


class Closable(Protocol):
    """
    A connection :class:`ConnectionSet` can close.
    """

    def close_connection(self, code: int, reason: str) -> None:
        """
        Start the closing handshake with *code* and *reason*.
        """

    def abort_connection(self) -> None:
        """
        Drop the connection at once.
        """


class ConnectionSet:
    """
    The open connections of one endpoint, which may span several
    factories (SockJS's two WebSocket URLs share one).

    :param limit: connections beyond which new ones are refused, or
        ``None``.
    :param reactor: for :meth:`close_all`'s timeout.
    """

    def __init__(self, limit: Optional[int], reactor: IReactorTime) -> None:
        self._limit = limit
        self._reactor = reactor
        self._open: Set[Any] = set()
        self._idle_waiters: List[Deferred] = []

    def __len__(self) -> int:
        return len(self._open)

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._open))

    def add(self, connection: Closable) -> None:
        """
        Count a new connection (still in its opening handshake).
        """
        self._open.add(connection)

    def discard(self, connection: Closable) -> None:
        """
        Forget a lost connection.
        """
        self._open.discard(connection)
        if not self._open:
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                waiter.callback(None)

    def full(self) -> bool:
        """
        Whether there are more connections than the limit (the newest one
        counted), so that the newest must be refused.
        """
        return self._limit is not None and len(self._open) > self._limit

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
        for connection in self:
            connection.close_connection(code, reason)
        if not self._open:
            return succeed(None)
        done: "Deferred[None]" = Deferred(self._idle_waiters.remove)
        self._idle_waiters.append(done)

        def drop_the_rest(result: Any, timeout: float) -> None:
            for connection in self:
                connection.abort_connection()

        done.addTimeout(timeout, self._reactor, onTimeoutCancel=drop_the_rest)
        return done
