"""Tests for snorky.transports.wsserver.probe, through the /ws protocol."""

from typing import List

from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from snorky import ServiceRegistry
from test.wsfixtures import (
    PresenceService,
    masked_frame,
    open_on_string_transport,
    unit_factory,
)


class ProbeTests(TestCase):
    """
    Tests for PingProbe (WebSocketClient.probe): a ping that the peer must answer.
    """

    def setUp(self) -> None:
        self.presence = PresenceService()
        self.clock = Clock()
        self.protocol, self.transport = open_on_string_transport(
            unit_factory(ServiceRegistry([self.presence]), self.clock)
        )
        [self.client] = self.presence.connected
        self.answers: List[bool] = []

    def probe(self) -> None:
        self.client.probe(2).addCallback(self.answers.append)

    def ping_payload(self) -> bytes:
        frame = self.transport.value()
        self.assertEqual(frame[0], 0x89)
        self.assertEqual(frame[1], len(frame) - 2)
        return frame[2:]

    def test_answered(self) -> None:
        """
        A pong with the ping's payload makes the probe fire True, once, for
        every probe made meanwhile, which share one ping.
        """
        self.probe()
        self.probe()
        payload = self.ping_payload()
        self.assertEqual(len(payload), 8)
        self.protocol.dataReceived(masked_frame(0xA, b"other"))
        self.assertEqual(self.answers, [])
        self.protocol.dataReceived(masked_frame(0xA, payload))
        self.assertEqual(self.answers, [True, True])
        self.clock.advance(2)
        self.assertFalse(self.transport.disconnected)
        self.protocol.connectionLost(Failure(ConnectionDone()))

    def test_unanswered(self) -> None:
        """
        Without a pong within the timeout the probe fires False and the
        connection is dropped.
        """
        self.probe()
        self.clock.advance(1.9)
        self.assertEqual(self.answers, [])
        self.clock.advance(0.1)
        self.assertEqual(self.answers, [False])
        self.assertTrue(self.transport.disconnected)
        self.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.answers, [False])

    def test_connection_lost(self) -> None:
        """
        A connection lost while a probe waits makes it fire False and
        leaves no timer.
        """
        self.probe()
        self.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.answers, [False])
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.probe()
        self.assertEqual(self.answers, [False, False])

