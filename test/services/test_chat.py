"""Tests for snorky.services.chat."""

from datetime import datetime, timedelta

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky import ServiceRegistry
from snorky.services.chat import ChatService
from test.helpers import RecordingClient, ServiceCalls

ALICE = {"id": 1, "name": "alice"}
BOB = {"id": 2, "name": "bob"}
EPOCH = "1970-01-01T00:00:00.000+00:00"


class ChatServiceTests(ServiceCalls, TestCase):
    """
    Tests for ChatService through a ServiceRegistry.
    """

    service_name = "chat"

    def setUp(self) -> None:
        self.clock = Clock()
        self.chat = ChatService("chat", clock=self.clock)
        self.registry = ServiceRegistry([self.chat], clock=self.clock)

    def notifications(self, client):
        return [m for m in client.messages("chat") if m["type"] not in ("response", "error")]

    def assertClean(self) -> None:
        self.assertEqual(self.chat.channels, {})
        self.assertEqual(self.chat.memberships, {})

    def test_not_authenticated(self) -> None:
        """
        A connection without identity cannot join.
        """
        anonymous = self.connect()
        self.assertEqual(self.call(anonymous, "join", channel="c")["message"],
                         "Not authenticated")
        self.assertClean()

    def test_join_members(self) -> None:
        """
        Joining answers the identities present, the joiner included, in
        order of arrival.
        """
        alice, bob = self.connect(ALICE), self.connect(BOB)
        self.assertEqual(self.ok(alice, "join", channel="c"), {"members": [ALICE]})
        self.assertEqual(self.ok(bob, "join", channel="c"), {"members": [ALICE, BOB]})

    def test_presence_joined(self) -> None:
        """
        The others in the channel are told when a new identity joins; the
        joiner is not told of itself.
        """
        alice, bob = self.connect(ALICE), self.connect(BOB)
        self.ok(alice, "join", channel="c")
        self.ok(bob, "join", channel="c")
        self.assertEqual(self.notifications(alice), [{
            "type": "presence", "from": BOB, "channel": "c",
            "status": "joined", "timestamp": EPOCH,
        }])
        self.assertEqual(self.notifications(bob), [])

    def test_presence_once_per_identity(self) -> None:
        """
        A second connection of an identity already present neither shows
        up twice in the members nor causes a presence notification.
        """
        alice, bob1, bob2 = self.connect(ALICE), self.connect(BOB), self.connect(BOB)
        self.ok(alice, "join", channel="c")
        self.ok(bob1, "join", channel="c")
        self.assertEqual(self.ok(bob2, "join", channel="c"), {"members": [ALICE, BOB]})
        self.assertEqual(len(self.notifications(alice)), 1)
        self.assertEqual(self.notifications(bob1), [])

    def test_identity_canonical(self) -> None:
        """
        Identities equal as JSON are one identity, whatever their member
        order.
        """
        a1 = self.connect({"id": 1, "name": "alice"})
        a2 = self.connect({"name": "alice", "id": 1})
        self.ok(a1, "join", channel="c")
        self.assertEqual(len(self.ok(a2, "join", channel="c")["members"]), 1)
        self.assertEqual(self.notifications(a1), [])

    def test_channel_any_json(self) -> None:
        """
        Channels may be any JSON value; equal values are one channel, and
        notifications carry the channel as the first joiner named it.
        """
        alice, bob = self.connect(ALICE), self.connect(BOB)
        self.ok(alice, "join", channel={"room": 1, "floor": 2})
        self.ok(bob, "join", channel={"floor": 2, "room": 1})
        self.assertEqual(self.notifications(alice)[0]["channel"],
                         {"room": 1, "floor": 2})

    def test_already_joined(self) -> None:
        """
        A connection cannot join a channel twice.
        """
        alice = self.connect(ALICE)
        self.ok(alice, "join", channel="c")
        self.assertEqual(self.call(alice, "join", channel="c")["message"], "Already joined")

    def test_not_joined(self) -> None:
        """
        leave, send and read need the connection to be in the channel.
        """
        alice = self.connect(ALICE)
        self.ok(alice, "join", channel="other")
        for command, params in [
            ("leave", {"channel": "c"}),
            ("send", {"channel": "c", "body": "hi"}),
            ("read", {"channel": "c"}),
        ]:
            self.assertEqual(self.call(alice, command, **params)["message"],
                             "Not joined", command)

    def test_send(self) -> None:
        """
        A message reaches every connection in the channel, the sender's
        included, and nobody outside it.
        """
        alice, bob1, bob2, carol = (self.connect(ALICE), self.connect(BOB),
                                    self.connect(BOB), self.connect("carol"))
        for client in (alice, bob1, bob2):
            self.ok(client, "join", channel="c")
        self.ok(carol, "join", channel="elsewhere")
        self.ok(alice, "send", channel="c", body={"text": "hi"})
        expected = {"type": "message", "from": ALICE, "channel": "c",
                    "body": {"text": "hi"}, "timestamp": EPOCH}
        for client in (alice, bob1, bob2):
            self.assertEqual(self.notifications(client)[-1], expected)
        self.assertEqual(self.notifications(carol), [])

    def test_send_encodes_once(self) -> None:
        """
        A message to many connections is encoded once.
        """
        clients = [self.connect({"id": n}) for n in range(5)]
        for client in clients:
            self.ok(client, "join", channel="c")
        before = sum(c.frames_prepared for c in clients)
        self.ok(clients[0], "send", channel="c", body="x")
        # One frame for the message fan-out, one for the sender's response.
        self.assertEqual(sum(c.frames_prepared for c in clients) - before, 2)

    def test_timestamp(self) -> None:
        """
        Timestamps are ISO 8601 with a time zone, from the service's clock.
        """
        self.clock.advance(1700000000.25)
        alice = self.connect(ALICE)
        self.ok(alice, "join", channel="c")
        self.ok(alice, "send", channel="c", body="x")
        stamp = self.notifications(alice)[-1]["timestamp"]
        self.assertEqual(stamp, "2023-11-14T22:13:20.250+00:00")
        self.assertEqual(datetime.fromisoformat(stamp).utcoffset(), timedelta(0))

    def test_read(self) -> None:
        """
        read tells the same identity's other connections in the channel,
        and nobody else.
        """
        alice, bob1, bob2, bob3 = (self.connect(ALICE), self.connect(BOB),
                                   self.connect(BOB), self.connect(BOB))
        for client in (alice, bob1, bob2):
            self.ok(client, "join", channel="c")
        self.ok(bob3, "join", channel="other")
        before = {id(c): len(self.notifications(c)) for c in (alice, bob1, bob3)}
        self.ok(bob1, "read", channel="c")
        self.assertEqual(self.notifications(bob2)[-1],
                         {"type": "read", "channel": "c", "timestamp": EPOCH})
        for client in (alice, bob1, bob3):
            self.assertEqual(len(self.notifications(client)), before[id(client)])

    def test_leave_presence(self) -> None:
        """
        Leaving tells the others only when the identity's last connection
        in the channel leaves.
        """
        alice, bob1, bob2 = self.connect(ALICE), self.connect(BOB), self.connect(BOB)
        for client in (alice, bob1, bob2):
            self.ok(client, "join", channel="c")
        self.ok(bob1, "leave", channel="c")
        self.assertEqual(self.notifications(alice)[-1]["status"], "joined")
        self.ok(bob2, "leave", channel="c")
        self.assertEqual(self.notifications(alice)[-1], {
            "type": "presence", "from": BOB, "channel": "c",
            "status": "left", "timestamp": EPOCH,
        })
        self.assertEqual(self.notifications(bob2), [])
        self.assertEqual(self.ok(bob1, "join", channel="c"), {"members": [ALICE, BOB]})

    def test_leave_then_rejoin(self) -> None:
        """
        After leaving, a connection may join again, and the empty channel
        left nothing behind.
        """
        alice = self.connect(ALICE)
        self.ok(alice, "join", channel="c")
        self.ok(alice, "leave", channel="c")
        self.assertClean()
        self.assertEqual(self.ok(alice, "join", channel="c"), {"members": [ALICE]})

    def test_membership_keeps_identity(self) -> None:
        """
        A connection whose identity changes after joining stays, leaves and
        speaks as the identity it joined with.
        """
        alice, bob = self.connect(ALICE), self.connect(BOB)
        self.ok(alice, "join", channel="c")
        self.ok(bob, "join", channel="c")
        bob.identity = "mallory"
        self.ok(bob, "send", channel="c", body="x")
        self.assertEqual(self.notifications(alice)[-1]["from"], BOB)
        self.ok(bob, "leave", channel="c")
        self.assertEqual(self.notifications(alice)[-1]["from"], BOB)
        self.assertEqual(list(self.chat.channels['"c"'].members), ['{"id":1,"name":"alice"}'])

    def test_disconnect_cleans_up(self) -> None:
        """
        Disconnecting leaves every channel: the others are told when it was
        the identity's last connection, and no entry of it remains.
        """
        alice, bob1, bob2 = self.connect(ALICE), self.connect(BOB), self.connect(BOB)
        for channel in ("c1", "c2", ["c", 3]):
            self.ok(alice, "join", channel=channel)
            self.ok(bob1, "join", channel=channel)
        self.ok(bob2, "join", channel="c1")
        self.registry.client_disconnected(bob1)
        left = [(n["channel"], n["from"]) for n in self.notifications(alice)
                if n["status"] == "left"]
        self.assertEqual(left, [("c2", BOB), (["c", 3], BOB)])
        self.assertNotIn(bob1, self.chat.memberships)
        for room in self.chat.channels.values():
            self.assertNotIn(bob1, room.clients)
            for member in room.members.values():
                self.assertNotIn(bob1, member.clients)
        self.registry.client_disconnected(bob2)
        self.registry.client_disconnected(alice)
        self.assertClean()

    def test_disconnect_while_notified(self) -> None:
        """
        A connection that drops while it is being sent a notification (as a
        slow consumer might) leaves the channel consistent.
        """
        registry = self.registry

        class Fragile(RecordingClient):
            def write_frame(self, frame):
                super().write_frame(frame)
                if self.messages("chat")[-1]["type"] == "presence":
                    registry.client_disconnected(self)

        fragile = Fragile()
        fragile.identity = ALICE
        registry.client_connected(fragile)
        bob = self.connect(BOB)
        self.ok(fragile, "join", channel="c")
        self.assertEqual(self.ok(bob, "join", channel="c"), {"members": [ALICE, BOB]})
        self.assertEqual(self.notifications(bob)[-1]["status"], "left")
        self.assertEqual(list(self.chat.channels['"c"'].clients), [bob])
        self.registry.client_disconnected(bob)
        self.assertClean()

    def test_disconnect_without_joining(self) -> None:
        """
        A connection that never joined disconnects without trouble.
        """
        alice = self.connect(ALICE)
        self.registry.client_disconnected(alice)
        self.assertClean()

    def test_max_channels(self) -> None:
        """
        One connection can be in at most max_channels channels.
        """
        self.chat.max_channels = 3
        alice = self.connect(ALICE)
        for n in range(3):
            self.ok(alice, "join", channel=n)
        self.assertEqual(self.call(alice, "join", channel=3)["message"],
                         "Too many channels")
        self.ok(alice, "leave", channel=0)
        self.ok(alice, "join", channel=3)

    def test_channel_name_length(self) -> None:
        """
        A channel longer than max_channel_length is refused.
        """
        alice = self.connect(ALICE)
        reply = self.call(alice, "join", channel="x" * 2000)
        self.assertEqual(reply["message"], "Channel name too long")
        self.assertClean()

    def test_missing_params(self) -> None:
        """
        A command without its parameters is answered Invalid params.
        """
        alice = self.connect(ALICE)
        self.assertEqual(self.call(alice, "send", channel="c")["message"], "Invalid params")
