"""Tests for snorky.loglimit: LogLimiter."""

from twisted.internet import reactor
from twisted.internet.task import Clock
from twisted.logger import capturedLogs
from twisted.trial.unittest import TestCase

from snorky.loglimit import LogLimiter


class LogLimiterTests(TestCase):
    """
    Tests for :class:`LogLimiter`.
    """

    def allowed(self, limiter: LogLimiter, tries: int) -> int:
        """
        How many of *tries* calls to allow() said yes.
        """
        return sum(limiter.allow() for _ in range(tries))

    def test_burst(self) -> None:
        """
        Within one interval, only the first burst lines are allowed.
        """
        limiter = LogLimiter(Clock(), burst=3, interval=10)
        self.assertEqual(
            [limiter.allow() for _ in range(5)], [True, True, True, False, False]
        )

    def test_new_interval(self) -> None:
        """
        Once the interval has passed, a new burst is allowed.
        """
        clock = Clock()
        limiter = LogLimiter(clock, burst=2, interval=10)
        self.assertEqual(self.allowed(limiter, 5), 2)
        clock.advance(9.9)
        self.assertFalse(limiter.allow())
        clock.advance(0.1)
        self.assertEqual(self.allowed(limiter, 5), 2)

    def test_window_starts_at_first_line(self) -> None:
        """
        The interval counts from the first line of a burst, not from the last.
        """
        clock = Clock()
        limiter = LogLimiter(clock, burst=2, interval=10)
        self.assertTrue(limiter.allow())
        clock.advance(6)
        self.assertTrue(limiter.allow())
        self.assertFalse(limiter.allow())
        clock.advance(4)
        self.assertTrue(limiter.allow())

    def test_quiet_period(self) -> None:
        """
        After a long quiet period the full burst is available at once.
        """
        clock = Clock()
        limiter = LogLimiter(clock, burst=4, interval=1)
        self.assertEqual(self.allowed(limiter, 100), 4)
        clock.advance(3600)
        self.assertEqual(self.allowed(limiter, 100), 4)

    def test_defaults(self) -> None:
        """
        By default ten lines a minute are allowed.
        """
        clock = Clock()
        limiter = LogLimiter(clock)
        self.assertEqual(self.allowed(limiter, 50), 10)
        clock.advance(59)
        self.assertEqual(self.allowed(limiter, 50), 0)
        clock.advance(1)
        self.assertEqual(self.allowed(limiter, 50), 10)

    def test_global_reactor(self) -> None:
        """
        Without a clock, the limiter uses the global reactor's time.
        """
        limiter = LogLimiter()
        self.assertIs(limiter._clock, reactor)
        self.assertTrue(limiter.allow())

    def test_left_out_counted(self) -> None:
        """
        When a new interval starts after lines were left out, one line says
        how many; none is written when nothing was left out.
        """
        clock = Clock()
        limiter = LogLimiter(clock, burst=2, interval=10)
        with capturedLogs() as events:
            self.allowed(limiter, 7)
            clock.advance(10)
            self.assertTrue(limiter.allow())
            clock.advance(10)
            self.assertTrue(limiter.allow())
        notes = [e for e in events if "left out" in e.get("log_format", "")]
        self.assertEqual([(e["count"], e["seconds"]) for e in notes], [(5, 10)])
