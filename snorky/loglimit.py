"""`LogLimiter`: keeps a noisy client from flooding the log."""

from typing import Optional

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from snorky.reactors import default_reactor

__all__ = ["LogLimiter"]


class LogLimiter:
    """
    Allows at most *burst* log lines per *interval* seconds. The first
    line of a later interval comes after one that says how many were left
    out, so that a quiet log is never mistaken for a quiet server.

    :param clock: the global reactor when ``None``.
    """

    log = Logger()

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
            if self._count > self._burst:
                self.log.warn(
                    "{count} similar log lines left out in {seconds} s",
                    count=self._count - self._burst,
                    seconds=round(now - self._window_start),
                )
            self._window_start = now
            self._count = 0
        self._count += 1
        return self._count <= self._burst
