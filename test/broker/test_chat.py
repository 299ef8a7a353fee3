"""
Chat through a shared broker: the service-level tests on a shared
in-process broker, and two nodes (two services on one broker) forming one
set of channels.
"""

from typing import Any, List

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.broker import InProcessBroker
from snorky.services.chat import ChatService
from test.helpers import RecordingClient, ServiceNode
from test.services.test_chat import ALICE, BOB, ChatServiceTests


class SharedBrokerChatServiceTests(ChatServiceTests):
    """
    The service-level Chat tests, with the service on a shared broker.
    """

    def setUp(self) -> None:
        super().setUp()
        self.chat.use_broker(InProcessBroker(shared=True, reactor=self.clock))


def events(client: RecordingClient, kind: str = "presence") -> List[Any]:
    found = [m for m in client.messages("chat") if m["type"] == kind]
    return [
        (m["from"], m["status"]) if kind == "presence" else m.get("body")
        for m in found
    ]


class ChatAcrossNodesTests(TestCase):
    """
    Two Chat services on one shared broker behave as one.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        broker = InProcessBroker(shared=True, reactor=self.clock, node_timeout=8)
        self.a = ServiceNode(broker, ChatService("chat", clock=self.clock), self.clock)
        self.b = ServiceNode(broker.another_node(), ChatService("chat", clock=self.clock), self.clock)

    def test_members_and_presence_across_nodes(self) -> None:
        """
        Alice on A and Bob on B see each other join, and join answers both.
        """
        alice = self.a.connect(ALICE)
        bob = self.b.connect(BOB)
        self.assertEqual(self.a.call(alice, "join", channel="c")["data"], {"members": [ALICE]})
        self.assertEqual(self.b.call(bob, "join", channel="c")["data"],
                         {"members": [ALICE, BOB]})
        self.assertEqual(events(alice), [(BOB, "joined")])
        self.assertEqual(events(bob), [])

    def test_presence_counted_cluster_wide(self) -> None:
        """
        Alice's second connection, on the other node, is no new arrival;
        she leaves only when her last connection, wherever, leaves.
        """
        bob = self.a.connect(BOB)
        self.a.call(bob, "join", channel="c")
        alice_a, alice_b = self.a.connect(ALICE), self.b.connect(ALICE)
        self.a.call(alice_a, "join", channel="c")
        self.b.call(alice_b, "join", channel="c")
        self.assertEqual(events(bob), [(ALICE, "joined")])
        self.a.call(alice_a, "leave", channel="c")
        self.assertEqual(events(bob), [(ALICE, "joined")])
        self.b.registry.client_disconnected(alice_b)
        self.assertEqual(events(bob), [(ALICE, "joined"), (ALICE, "left")])

    def test_messages_once_on_every_node(self) -> None:
        """
        A message sent on A reaches every member on A and B exactly once.
        """
        alice, bob, bob2 = self.a.connect(ALICE), self.b.connect(BOB), self.b.connect(BOB)
        for node, client in ((self.a, alice), (self.b, bob), (self.b, bob2)):
            node.call(client, "join", channel="c")
        self.assertEqual(self.a.call(alice, "send", channel="c", body="hi")["type"], "response")
        for client in (alice, bob, bob2):
            self.assertEqual(events(client, "message"), ["hi"])
        [message] = [m for m in bob.messages("chat") if m["type"] == "message"]
        self.assertEqual(message["from"], ALICE)
        self.assertEqual(message["channel"], "c")

    def test_read_reaches_other_connections_anywhere(self) -> None:
        """
        read reaches the identity's other connections on both nodes, not
        the reader, nor other identities.
        """
        alice_a, alice_a2 = self.a.connect(ALICE), self.a.connect(ALICE)
        alice_b, bob = self.b.connect(ALICE), self.b.connect(BOB)
        for node, client in ((self.a, alice_a), (self.a, alice_a2), (self.b, alice_b), (self.b, bob)):
            node.call(client, "join", channel="c")
        self.a.call(alice_a, "read", channel="c")
        self.assertEqual([len(events(c, "read")) for c in (alice_a, alice_a2, alice_b, bob)],
                         [0, 1, 1, 0])

    def test_dead_node_members_leave_in_bounded_time(self) -> None:
        """
        When B goes silent, its members leave A's channel with left, after
        node_timeout and not before.
        """
        alice, bob = self.a.connect(ALICE), self.b.connect(BOB)
        self.a.call(alice, "join", channel="c")
        self.b.call(bob, "join", channel="c")
        self.b.broker.available = False
        self.clock.advance(6)
        self.assertEqual(events(alice), [(BOB, "joined")])
        self.clock.pump([2] * 4)
        self.assertEqual(events(alice), [(BOB, "joined"), (BOB, "left")])
        carol = self.a.connect({"id": 3})
        self.assertEqual(self.a.call(carol, "join", channel="c")["data"],
                         {"members": [ALICE, {"id": 3}]})

    def test_node_taken_for_dead_holds_again(self) -> None:
        """
        A node whose members were removed while it was silent holds them
        again when it comes back, and the others see them join.
        """
        alice, bob = self.a.connect(ALICE), self.b.connect(BOB)
        self.a.call(alice, "join", channel="c")
        self.b.call(bob, "join", channel="c")
        self.b.broker.available = False
        self.clock.pump([2] * 6)
        self.b.broker.available = True
        self.clock.pump([2] * 2)
        self.assertEqual(events(alice), [(BOB, "joined"), (BOB, "left"), (BOB, "joined")])

    def test_broker_unavailable(self) -> None:
        """
        While the broker is unreachable, join and send answer Broker
        unavailable and the failed join leaves nothing behind.
        """
        alice = self.a.connect(ALICE)
        self.a.call(alice, "join", channel="c")
        self.a.broker.available = False
        self.assertEqual(self.a.call(alice, "send", channel="c", body=1)["message"],
                         "Broker unavailable")
        bob = self.a.connect(BOB)
        self.assertEqual(self.a.call(bob, "join", channel="d")["message"],
                         "Broker unavailable")
        self.assertNotIn(bob, self.a.service.memberships)
        self.assertNotIn('"d"', self.a.service.channels)


class JoinGateTests(TestCase):
    """
    JoinGate: a joining connection gets only the events after its join.
    """

    def test_events_around_a_join(self) -> None:
        """
        Events that arrive while a join is unanswered wait, and only those
        numbered after the answer's position are handed over; then later
        events pass and older ones do not.
        """
        from snorky.broker.shared import JoinGate

        gate = JoinGate()
        early, joining = RecordingClient(), RecordingClient()
        gate.opened(early, "k", 0)
        gate.pending(joining, "k")
        gate.since[(early, "k")] = 0
        got: List[Any] = []

        def later(client: Any) -> Any:
            return lambda: got.append((client, seq))

        for seq in (4, 5):
            now = gate.admit([early, joining], "k", seq, later)
            self.assertEqual(now, [early])
        gate.opened(joining, "k", 4)
        self.assertEqual(got, [(joining, 5)])
        self.assertEqual(gate.admit([early, joining], "k", 4, later), [early])
        self.assertEqual(gate.admit([early, joining], "k", 6, later), [early, joining])
        gate.forget(joining, "k")
        self.assertNotIn((joining, "k"), gate.since)
