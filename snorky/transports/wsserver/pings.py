"""`PingBudget`: how many pings a peer may send, so that a ping flood ends."""

from twisted.internet.interfaces import IReactorTime

__all__ = ["PingBudget"]


class PingBudget:
    """
    A token bucket: *rate* pings per second on average, bursts of
    ``2 * rate``, on *clock*.
    """

    def __init__(self, rate: float, clock: IReactorTime) -> None:
        self._rate = rate
        self._burst = 2 * rate
        self._clock = clock
        self._tokens = self._burst
        self._since = clock.seconds()

    def allow(self) -> bool:
        """
        Spend one token for a ping just received; ``False`` when none is
        left (the peer pings too fast).
        """
        now = self._clock.seconds()
        self._tokens = min(self._burst, self._tokens + (now - self._since) * self._rate)
        self._since = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
