"""Tests for snorky.services.messaging."""

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky import ServiceRegistry
from snorky.services.messaging import MessagingService
from test.helpers import ServiceCalls


class MessagingServiceTests(ServiceCalls, TestCase):
    """
    Tests for MessagingService through a ServiceRegistry.
    """

    service_name = "messaging"

    def setUp(self) -> None:
        self.messaging = MessagingService("messaging")
        self.registry = ServiceRegistry([self.messaging], clock=Clock())
        self.alice = self.connect()
        self.bob = self.connect()

    def test_register_and_list(self) -> None:
        """
        Registered names are listed, sorted, to anyone.
        """
        self.ok(self.bob, "registerParticipant", name="bob")
        self.ok(self.alice, "registerParticipant", name="alice")
        self.ok(self.alice, "registerParticipant", name="al")
        self.assertEqual(self.ok(self.connect(), "listParticipants"),
                         ["al", "alice", "bob"])

    def test_name_taken(self) -> None:
        """
        A name held by anyone, the caller included, cannot be registered
        again.
        """
        self.ok(self.alice, "registerParticipant", name="alice")
        for client in (self.alice, self.bob):
            self.assertEqual(self.error(client, "registerParticipant", name="alice"),
                             "Name already registered")
        self.assertIs(self.messaging.participants["alice"], self.alice)

    def test_send(self) -> None:
        """
        A message reaches the destination only.
        """
        carol = self.connect()
        self.ok(self.alice, "registerParticipant", name="alice")
        self.ok(self.bob, "registerParticipant", name="bob")
        self.ok(carol, "registerParticipant", name="carol")
        self.ok(self.alice, "send", sender="alice", dest="bob", body={"t": "hi"})
        self.assertEqual(self.bob.messages("messaging")[-1], {
            "type": "message", "sender": "alice", "dest": "bob", "body": {"t": "hi"},
        })
        self.assertEqual(self.alice.messages("messaging")[-1]["type"], "response")
        self.assertEqual(carol.messages("messaging")[-1]["type"], "response")

    def test_send_to_self(self) -> None:
        """
        A participant may message another of its own names.
        """
        self.ok(self.alice, "registerParticipant", name="a1")
        self.ok(self.alice, "registerParticipant", name="a2")
        self.ok(self.alice, "send", sender="a1", dest="a2", body="note")
        self.assertEqual(self.alice.messages("messaging")[-2]["dest"], "a2")

    def test_invalid_sender(self) -> None:
        """
        A connection cannot send as a name it does not hold, whether the
        name is someone else's, unknown, or not text.
        """
        self.ok(self.alice, "registerParticipant", name="alice")
        self.ok(self.bob, "registerParticipant", name="bob")
        for sender in ["alice", "nobody", 5, None]:
            self.assertEqual(
                self.error(self.bob, "send", sender=sender, dest="bob", body="x"),
                "Invalid sender", sender)
        self.assertEqual([m for m in self.bob.messages("messaging")
                          if m["type"] == "message"], [])

    def test_unknown_destination(self) -> None:
        """
        Sending to a name nobody holds is an error.
        """
        self.ok(self.alice, "registerParticipant", name="alice")
        for dest in ["nobody", ["alice"]]:
            self.assertEqual(
                self.error(self.alice, "send", sender="alice", dest=dest, body="x"),
                "Unknown destination")

    def test_unregister(self) -> None:
        """
        Unregistering frees the name for anyone.
        """
        self.ok(self.alice, "registerParticipant", name="alice")
        self.ok(self.alice, "unregisterParticipant", name="alice")
        self.assertEqual(self.messaging.participants, {})
        self.assertEqual(self.messaging.names_by_client, {})
        self.ok(self.bob, "registerParticipant", name="alice")

    def test_unregister_someone_else(self) -> None:
        """
        A connection cannot unregister a name another connection holds.
        """
        self.ok(self.alice, "registerParticipant", name="alice")
        self.assertEqual(self.error(self.bob, "unregisterParticipant", name="alice"),
                         "Invalid participant")
        self.assertIs(self.messaging.participants["alice"], self.alice)

    def test_unregister_unknown(self) -> None:
        """
        Unregistering a name nobody holds is an error.
        """
        for name in ["ghost", {"x": 1}]:
            self.assertEqual(self.error(self.alice, "unregisterParticipant", name=name),
                             "Unknown participant")

    def test_name_not_allowed_by_hook(self) -> None:
        """
        is_name_allowed decides who may take which name.
        """
        self.alice.identity = "alice"
        self.messaging.is_name_allowed = lambda client, name: client.identity == name
        self.assertEqual(self.error(self.bob, "registerParticipant", name="alice"),
                         "Name not allowed")
        self.ok(self.alice, "registerParticipant", name="alice")

    def test_invalid_names(self) -> None:
        """
        Names must be text no longer than max_name_length.
        """
        for name in [7, None, ["a"], "x" * 257]:
            self.assertEqual(self.error(self.alice, "registerParticipant", name=name),
                             "Name not allowed")
        self.assertEqual(self.messaging.participants, {})

    def test_max_names(self) -> None:
        """
        One connection can hold at most max_names names.
        """
        self.messaging.max_names = 2
        self.ok(self.alice, "registerParticipant", name="a")
        self.ok(self.alice, "registerParticipant", name="b")
        self.assertEqual(self.error(self.alice, "registerParticipant", name="c"),
                         "Too many names")
        self.ok(self.bob, "registerParticipant", name="c")

    def test_disconnect_cleans_up(self) -> None:
        """
        Disconnecting frees every name of the connection and leaves no entry
        of it; others' names stay.
        """
        self.ok(self.alice, "registerParticipant", name="a1")
        self.ok(self.alice, "registerParticipant", name="a2")
        self.ok(self.bob, "registerParticipant", name="bob")
        self.registry.client_disconnected(self.alice)
        self.assertEqual(self.messaging.participants, {"bob": self.bob})
        self.assertEqual(self.messaging.names_by_client, {self.bob: {"bob": None}})
        self.assertEqual(self.error(self.bob, "send", sender="bob", dest="a1", body=""),
                         "Unknown destination")
        self.registry.client_disconnected(self.bob)
        self.assertEqual(self.messaging.participants, {})
        self.assertEqual(self.messaging.names_by_client, {})
