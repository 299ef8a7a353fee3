"""Tests for snorky.transports.wsserver.factory."""

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.transports.wsserver.connections import ConnectionSet
from snorky.transports.wsserver.factory import ServerFactory
from snorky.transports.wsserver.options import WebSocketOptions


class ServerFactoryTests(TestCase):
    """
    Tests for ServerFactory.
    """

    def test_applies_options(self) -> None:
        """
        The factory hands the options to Autobahn, and counts connections
        against max_connections in a set of its own.
        """
        clock = Clock()
        factory = ServerFactory(
            WebSocketOptions(ping_interval=30, max_message_size=1000, max_connections=1),
            reactor=clock,
        )
        self.assertEqual(
            (factory.autoPingInterval, factory.maxMessagePayloadSize, factory.failByDrop),
            (30, 1000, False),
        )
        self.assertIs(factory.reactor, clock)
        factory.connections.add(object())  # type: ignore[arg-type]
        self.assertFalse(factory.connections.full())
        factory.connections.add(object())  # type: ignore[arg-type]
        self.assertTrue(factory.connections.full())

    def test_shared_connections(self) -> None:
        """
        Factories given one ConnectionSet count their connections together.
        """
        connections = ConnectionSet(3, Clock())
        first = ServerFactory(reactor=Clock(), connections=connections)
        second = ServerFactory(reactor=Clock(), connections=connections)
        self.assertIs(first.connections, second.connections)
