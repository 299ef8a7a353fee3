"""Tests for snorky.services.datasync.deltas."""

from twisted.trial.unittest import TestCase

from snorky.services.datasync.deltas import (
    DeletionDelta,
    DeltaError,
    InsertionDelta,
    UpdateDelta,
    parse_delta,
    parse_deltas,
)


class ForJsonTests(TestCase):
    """
    Deltas travel in the wire form of the original Snorky.
    """

    def test_insert(self):
        """An insertion carries type, model and data."""
        self.assertEqual(
            InsertionDelta("Player", {"id": 1}).for_json(),
            {"type": "insert", "model": "Player", "data": {"id": 1}},
        )

    def test_delete(self):
        """A deletion carries type, model and data."""
        self.assertEqual(
            DeletionDelta("Player", {"id": 1}).for_json(),
            {"type": "delete", "model": "Player", "data": {"id": 1}},
        )

    def test_update(self):
        """An update carries newData and oldData."""
        self.assertEqual(
            UpdateDelta("Player", {"id": 2}, {"id": 1}).for_json(),
            {
                "type": "update",
                "model": "Player",
                "newData": {"id": 2},
                "oldData": {"id": 1},
            },
        )

    def test_equality(self):
        """Deltas are equal when their wire forms are."""
        self.assertEqual(InsertionDelta("P", 1), InsertionDelta("P", 1))
        self.assertNotEqual(InsertionDelta("P", 1), DeletionDelta("P", 1))


class ParseTests(TestCase):
    """
    parse_delta and parse_deltas accept the wire form and name what is wrong.
    """

    def test_round_trip(self):
        """Parsing the wire form of each kind gives the delta back."""
        for delta in [
            InsertionDelta("P", {"a": 1}),
            DeletionDelta("P", None),
            UpdateDelta("P", [1], [2]),
        ]:
            self.assertEqual(parse_delta(delta.for_json()), delta)

    def test_errors(self):
        """Each malformed delta gets an error naming it and the problem."""
        cases = [
            (3, "Delta 4 is not an object"),
            ({"model": "P", "data": 1}, 'Missing field "type" in delta 4'),
            ({"type": "insert", "data": 1}, 'Missing field "model" in delta 4'),
            ({"type": "insert", "model": "P"}, 'Missing field "data" in delta 4'),
            ({"type": "delete", "model": "P"}, 'Missing field "data" in delta 4'),
            (
                {"type": "update", "model": "P", "oldData": 1},
                'Missing field "newData" in delta 4',
            ),
            (
                {"type": "update", "model": "P", "newData": 1},
                'Missing field "oldData" in delta 4',
            ),
            (
                {"type": "insert", "model": 7, "data": 1},
                "Invalid model in delta 4 (expected a string)",
            ),
            (
                {"type": "upsert", "model": "P", "data": 1},
                "Invalid type in delta 4 (expected insert, update or delete)",
            ),
            (
                {"type": ["insert"], "model": "P", "data": 1},
                "Invalid type in delta 4 (expected insert, update or delete)",
            ),
        ]
        for obj, text in cases:
            e = self.assertRaises(DeltaError, parse_delta, obj, 4)
            self.assertEqual(str(e), text)

    def test_batch_names_first_bad(self):
        """A batch with a bad delta fails naming its position."""
        good = {"type": "insert", "model": "P", "data": 1}
        e = self.assertRaises(DeltaError, parse_deltas, [good, good, {"type": "x"}])
        self.assertEqual(str(e), 'Missing field "model" in delta 2')

    def test_batch_not_list(self):
        """A batch that is not a list is rejected."""
        e = self.assertRaises(DeltaError, parse_deltas, {"type": "insert"})
        self.assertEqual(str(e), "Invalid deltas (expected a list)")

    def test_batch(self):
        """A valid batch parses in order."""
        objs = [
            {"type": "insert", "model": "P", "data": 1},
            {"type": "delete", "model": "Q", "data": 2},
        ]
        self.assertEqual(
            parse_deltas(objs), [InsertionDelta("P", 1), DeletionDelta("Q", 2)]
        )
