"""Unit tests of the default data of an instance."""

import datetime
import decimal
import uuid

from twisted.trial.unittest import TestCase

from snorky.backend.django.data import jsonable, model_data
from test.backend.django.models import Player


class ModelDataTests(TestCase):
    """
    ``model_data`` gives the concrete fields in JSON types, as Django's
    JSON encoder writes them.
    """

    def test_fields(self):
        """Each concrete field appears by name, converted to JSON types."""
        player = Player(
            id=7, name="Alice", color="red", score=decimal.Decimal("2.25"),
            joined=datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
            uid=uuid.UUID(int=1),
        )
        self.assertEqual(
            model_data(player),
            {"id": 7, "name": "Alice", "color": "red", "score": "2.25",
             "joined": "2024-01-02T03:04:05Z",
             "uid": "00000000-0000-0000-0000-000000000001"},
        )

    def test_deferred_left_out(self):
        """Fields not loaded are left out rather than fetched."""
        player = Player.from_db("default", ["id", "name"], [3, "Bob"])
        self.assertEqual(model_data(player), {"id": 3, "name": "Bob"})

    def test_copy(self):
        """jsonable returns a copy: changing it leaves the original alone."""
        original = {"tags": ["a"], "when": datetime.date(2024, 2, 29)}
        copy = jsonable(original)
        copy["tags"].append("b")
        self.assertEqual((original["tags"], copy["when"]), (["a"], "2024-02-29"))

    def test_unknown_type(self):
        """A value the encoder does not know raises TypeError."""
        self.assertRaises(TypeError, jsonable, {"blob": b"\x00"})
