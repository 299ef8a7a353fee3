"""Tests for snorky.transports.wsserver.connections."""

from typing import List, Tuple

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.transports.wsserver.connections import ConnectionSet


class FakeConnection:
    """
    Records how it was closed; leaves the set when told to.
    """

    def __init__(self, connections: ConnectionSet, goes_on_close: bool) -> None:
        self.connections = connections
        self.goes_on_close = goes_on_close
        self.closes: List[Tuple[int, str]] = []
        self.aborted = False
        connections.add(self)

    def close_connection(self, code: int, reason: str) -> None:
        self.closes.append((code, reason))
        if self.goes_on_close:
            self.connections.discard(self)

    def abort_connection(self) -> None:
        self.aborted = True
        self.connections.discard(self)


class ConnectionSetTests(TestCase):
    """
    Tests for ConnectionSet, on a Clock.
    """

    def test_limit(self) -> None:
        """
        The set is full when it holds more than its limit; never without one.
        """
        limited = ConnectionSet(1, Clock())
        FakeConnection(limited, True)
        self.assertFalse(limited.full())
        FakeConnection(limited, True)
        self.assertTrue(limited.full())
        unlimited = ConnectionSet(None, Clock())
        for _ in range(10):
            FakeConnection(unlimited, True)
        self.assertFalse(unlimited.full())

    def test_close_all(self) -> None:
        """
        close_all closes every connection with 1001 by default and fires
        once all are gone.
        """
        connections = ConnectionSet(None, Clock())
        first = FakeConnection(connections, True)
        done = connections.close_all()
        self.assertEqual(first.closes, [(1001, "Server shutting down")])
        self.assertIsNone(self.successResultOf(done))
        self.assertEqual(len(connections), 0)

    def test_close_all_timeout(self) -> None:
        """
        Connections still there after the timeout are aborted.
        """
        clock = Clock()
        connections = ConnectionSet(None, clock)
        stubborn = FakeConnection(connections, False)
        done = connections.close_all(timeout=2)
        clock.advance(1.9)
        self.assertNoResult(done)
        clock.advance(0.1)
        self.assertTrue(stubborn.aborted)
        self.assertIsNone(self.successResultOf(done))
