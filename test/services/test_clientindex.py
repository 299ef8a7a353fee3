"""Tests for snorky.services.clientindex: ClientIndex."""

from twisted.trial.unittest import TestCase

from snorky.services.clientindex import ClientIndex
from test.helpers import RecordingClient


class ClientIndexTests(TestCase):
    """
    Tests for :class:`ClientIndex`.
    """

    def setUp(self) -> None:
        self.index: ClientIndex[str, int] = ClientIndex()
        self.alice, self.bob = RecordingClient(), RecordingClient()

    def test_add_both_ways(self) -> None:
        """Adding a pair shows it from the client's side and from the key's."""
        clients = self.index.add(self.alice, "a", 1)
        self.index.add(self.bob, "a", 2)
        self.index.add(self.alice, "b", 3)
        self.assertIs(clients, self.index.clients_of("a"))
        self.assertEqual(clients, {self.alice, self.bob})
        self.assertEqual(self.index.keys_of(self.alice), {"a": 1, "b": 3})
        self.assertTrue(self.index.has(self.bob, "a"))
        self.assertFalse(self.index.has(self.bob, "b"))
        self.assertEqual(len(self.index), 2)

    def test_remove_drops_empty_entries(self) -> None:
        """Removing the last pair of a key or a client removes its entry."""
        self.index.add(self.alice, "a", 1)
        self.index.add(self.bob, "a", 2)
        self.assertEqual(self.index.remove(self.alice, "a"), 1)
        self.assertEqual(self.index.keys_by_client, {self.bob: {"a": 2}})
        self.assertEqual(self.index.remove(self.bob, "a"), 2)
        self.assertEqual((self.index.clients_by_key, self.index.keys_by_client), ({}, {}))

    def test_remove_unknown(self) -> None:
        """Removing a pair that is not there raises KeyError and changes nothing."""
        self.index.add(self.alice, "a", 1)
        self.assertRaises(KeyError, self.index.remove, self.alice, "b")
        self.assertRaises(KeyError, self.index.remove, self.bob, "a")
        self.assertEqual(self.index.keys_by_client, {self.alice: {"a": 1}})

    def test_remove_client(self) -> None:
        """Removing a client takes it from under every key and answers its pairs."""
        self.index.add(self.alice, "a", 1)
        self.index.add(self.alice, "b", 2)
        self.index.add(self.bob, "b", 3)
        self.assertEqual(self.index.remove_client(self.alice), {"a": 1, "b": 2})
        self.assertEqual(self.index.clients_by_key, {"b": {self.bob}})
        self.assertEqual(self.index.remove_client(self.alice), {})

    def test_unknown_empty(self) -> None:
        """A client or key without pairs has empty views and no entry is made."""
        self.assertEqual(self.index.keys_of(self.alice), {})
        self.assertEqual(self.index.clients_of("a"), set())
        self.assertEqual((self.index.clients_by_key, self.index.keys_by_client), ({}, {}))
