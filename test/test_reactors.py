"""Tests for snorky.reactors: default_reactor."""

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.reactors import default_reactor


class DefaultReactorTests(TestCase):
    """
    Tests for :func:`default_reactor`.
    """

    def test_given(self) -> None:
        """A reactor that is given is used as it is."""
        clock = Clock()
        self.assertIs(default_reactor(clock), clock)

    def test_global(self) -> None:
        """None stands for Twisted's global reactor."""
        from twisted.internet import reactor

        self.assertIs(default_reactor(None), reactor)
