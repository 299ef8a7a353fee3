"""`PingProbe`: asking a WebSocket peer whether it is still there."""

import secrets
from typing import TYPE_CHECKING, Any, List, Optional

from twisted.internet.defer import Deferred, succeed

__all__ = ["PingProbe"]


class PingProbe:
    """
    :meth:`probe` for an Autobahn server protocol: a ping the peer must
    answer. The protocol's factory needs a ``reactor``; the protocol calls
    :meth:`_probe_answered` with ``False`` when its connection is lost.
    """

    #: Who waits for the answer to the ping :meth:`probe` sent, its
    #: payload and its timeout; ``None`` when no probe is under way.
    _probe_waiters: Optional[List[Deferred]] = None
    _probe_payload = b""
    _probe_timeout: Any = None

    if TYPE_CHECKING:
        # Provided by the Autobahn protocol this is mixed into.
        state: int
        STATE_OPEN: int
        factory: Any
        wasNotCleanReason: Any

        def sendPing(self, payload: Optional[bytes] = None) -> None: ...

        def dropConnection(self, abort: bool = False) -> None: ...

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

    def _probe_answered(self, alive: bool) -> None:
        waiters, self._probe_waiters = self._probe_waiters, None
        if self._probe_timeout is not None:
            self._probe_timeout.cancel()
            self._probe_timeout = None
        for waiter in waiters or ():
            waiter.callback(alive)
