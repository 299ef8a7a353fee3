"""Tests for snorky.transports.wsserver.pings."""

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.transports.wsserver.pings import PingBudget


class PingBudgetTests(TestCase):
    """
    Tests for PingBudget, on a Clock.
    """

    def test_burst_then_rate(self) -> None:
        """
        Twice the rate is allowed at once; then one ping per 1/rate seconds.
        """
        clock = Clock()
        budget = PingBudget(5, clock)
        self.assertEqual([budget.allow() for _ in range(11)], [True] * 10 + [False])
        clock.advance(0.1)
        self.assertFalse(budget.allow())
        clock.advance(0.1)
        self.assertTrue(budget.allow())
        self.assertFalse(budget.allow())

    def test_refill_capped(self) -> None:
        """
        A long quiet spell refills the budget only up to the burst.
        """
        clock = Clock()
        budget = PingBudget(5, clock)
        clock.advance(3600)
        self.assertEqual(sum(budget.allow() for _ in range(100)), 10)
