"""
Messaging through a shared broker: the service-level tests on a shared
in-process broker, and two nodes (two services on one broker) sharing one
namespace of participants.
"""

from typing import Any

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.broker import InProcessBroker
from snorky.services.messaging import MessagingService
from test.helpers import RecordingClient, ServiceNode
from test.services.test_messaging import MessagingServiceTests


class SharedBrokerMessagingServiceTests(MessagingServiceTests):
    """
    The service-level Messaging tests, with the service on a shared broker.
    """

    def setUp(self) -> None:
        super().setUp()
        self.messaging.use_broker(InProcessBroker(shared=True, reactor=Clock()))


class MessagingAcrossNodesTests(TestCase):
    """
    Two Messaging services on one shared broker behave as one.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        broker = InProcessBroker(shared=True, reactor=self.clock, node_timeout=8)
        self.a = ServiceNode(broker, MessagingService("messaging"))
        self.b = ServiceNode(broker.another_node(), MessagingService("messaging"))

    def test_names_unique_cluster_wide(self) -> None:
        """
        A name registered on A cannot be registered on B, and both nodes
        list it.
        """
        alice, other = self.a.connect(), self.b.connect()
        self.assertEqual(self.a.call(alice, "registerParticipant", name="alice")["type"], "response")
        self.assertEqual(self.b.call(other, "registerParticipant", name="alice")["message"],
                         "Name already registered")
        self.assertNotIn(other, self.b.service.names_by_client)
        self.b.call(other, "registerParticipant", name="bob")
        for node, client in ((self.a, alice), (self.b, other)):
            self.assertEqual(node.call(client, "listParticipants")["data"], ["alice", "bob"])

    def test_reachable_from_every_node(self) -> None:
        """
        A message to a participant on the other node reaches it, once.
        """
        alice, bob = self.a.connect(), self.b.connect()
        self.a.call(alice, "registerParticipant", name="alice")
        self.b.call(bob, "registerParticipant", name="bob")
        self.assertEqual(
            self.a.call(alice, "send", sender="alice", dest="bob", body="hi")["type"], "response"
        )
        self.assertEqual(
            [m for m in bob.messages("messaging") if m["type"] == "message"],
            [{"type": "message", "sender": "alice", "dest": "bob", "body": "hi"}],
        )
        self.assertEqual(self.a.call(alice, "send", sender="alice", dest="carol", body=1)["message"],
                         "Unknown destination")

    def test_released_on_disconnect_and_unregister(self) -> None:
        """
        Names freed on B (unregister, disconnect) can be taken on A.
        """
        bob, alice = self.b.connect(), self.a.connect()
        self.b.call(bob, "registerParticipant", name="x")
        self.b.call(bob, "registerParticipant", name="y")
        self.b.call(bob, "unregisterParticipant", name="x")
        self.assertEqual(self.a.call(alice, "registerParticipant", name="x")["type"], "response")
        self.b.registry.client_disconnected(bob)
        self.assertEqual(self.a.call(alice, "registerParticipant", name="y")["type"], "response")

    def test_dead_node_names_released(self) -> None:
        """
        A silent node's names are freed within node_timeout, not before.
        """
        bob, alice = self.b.connect(), self.a.connect()
        self.b.call(bob, "registerParticipant", name="bob")
        self.a.call(alice, "registerParticipant", name="alice")
        self.b.broker.available = False
        self.clock.pump([2] * 3)
        self.assertEqual(self.a.call(alice, "registerParticipant", name="bob")["message"],
                         "Name already registered")
        self.clock.pump([2] * 2)
        self.assertEqual(self.a.call(alice, "registerParticipant", name="bob")["type"], "response")

    def test_broker_unavailable(self) -> None:
        """
        Registering while the broker is unreachable answers Broker
        unavailable and leaves no name behind.
        """
        alice = self.a.connect()
        self.a.broker.available = False
        self.assertEqual(self.a.call(alice, "registerParticipant", name="alice")["message"],
                         "Broker unavailable")
        self.assertEqual(self.a.service.names_by_client, {})
