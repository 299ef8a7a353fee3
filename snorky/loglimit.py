"""`LogLimiter`: keeps a noisy client from flooding the log."""

from typing import Optional

from twisted.internet.interfaces import IReactorTime

from snorky.reactors import default_reactor

__all__ = ["LogLimiter"]


class LogLimiter:
    """
    Allows at most *burst* log lines per *interval* seconds.

    :param clock: the global reactor when ``None``.
    """

    def __init__(
        self,
        clock: Optional[IReactorTime] = None,
        burst: int = 10,
        interval: float = 60.0,
    ) -> None:
        self._clock: IReactorTime = default_reactor(clock)
        self._burst = burst
        self._interval = interval
        self._window_start = float("-inf")
        self._count = 0

    def allow(self) -> bool:
        """
        Whether one more line may be logged now.
        """
        now = self._clock.seconds()
        if now - self._window_start >= self._interval:
            self._window_start = now
            self._count = 0
        self._count += 1
        return self._count <= self._burst
