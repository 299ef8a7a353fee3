"""
Tests for examples.players.store: the Player table in SQLite.
"""

from twisted.trial.unittest import TestCase

from examples.players.store import COLORS, PlayerError, PlayerStore


class PlayerStoreTests(TestCase):
    """
    PlayerStore on a real SQLite database.
    """

    def setUp(self) -> None:
        self.store = PlayerStore()
        self.addCleanup(self.store.close)

    def test_create_and_list(self) -> None:
        """
        Created players are listed oldest first, with their ids.
        """
        alice = self.store.create("Alice", "red")
        bob = self.store.create("Bob", "blue")
        self.assertEqual(alice, {"id": 1, "name": "Alice", "color": "red"})
        self.assertEqual(self.store.list(), [alice, bob])

    def test_list_by_color(self) -> None:
        """
        Listing with a colour gives only the players of that colour.
        """
        self.store.create("Alice", "red")
        bob = self.store.create("Bob", "blue")
        self.assertEqual(self.store.list("blue"), [bob])
        self.assertEqual(self.store.list("green"), [])

    def test_update(self) -> None:
        """
        An update returns the player before and after, and is stored.
        """
        alice = self.store.create("Alice", "red")
        old, new = self.store.update(alice["id"], {"color": "green"})
        self.assertEqual(old, alice)
        self.assertEqual(new, {"id": alice["id"], "name": "Alice", "color": "green"})
        self.assertEqual(self.store.list(), [new])

    def test_update_missing(self) -> None:
        """
        Updating a player that does not exist returns None.
        """
        self.assertIsNone(self.store.update(99, {"name": "Nobody"}))

    def test_delete(self) -> None:
        """
        Deleting returns the player removed, then None.
        """
        alice = self.store.create("Alice", "red")
        self.assertEqual(self.store.delete(alice["id"]), alice)
        self.assertIsNone(self.store.delete(alice["id"]))
        self.assertEqual(self.store.list(), [])

    def test_invalid_fields(self) -> None:
        """
        Bad names, colours and fields are refused with a clear error, and
        nothing is stored.
        """
        for name, color in [("", "red"), (" x", "red"), ("a" * 41, "red"), (7, "red"),
                            ("Tab\there", "red"), ("Ok", "pink"), ("Ok", None)]:
            self.assertRaises(PlayerError, self.store.create, name, color)
        alice = self.store.create("Alice", "red")
        error = self.assertRaises(PlayerError, self.store.update, alice["id"], {"id": 5})
        self.assertIn("name and color", str(error))
        self.assertRaises(PlayerError, self.store.update, alice["id"], {})
        self.assertRaises(PlayerError, self.store.update, alice["id"], {"color": "pink"})
        self.assertEqual(self.store.list(), [alice])

    def test_colors(self) -> None:
        """
        Every colour of COLORS is accepted.
        """
        for color in COLORS:
            self.assertEqual(self.store.create("P", color)["color"], color)

    def test_file_and_sample(self) -> None:
        """
        A new database file gets the sample players once; they are still
        there when it is opened again.
        """
        path = self.mktemp()
        store = PlayerStore(path, sample=True)
        store.create("Dave", "yellow")
        store.close()
        store = PlayerStore(path, sample=True)
        self.addCleanup(store.close)
        self.assertEqual([p["name"] for p in store.list()], ["Alice", "Bob", "Carol", "Dave"])
