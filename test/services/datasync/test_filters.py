"""Tests for snorky.services.datasync.filters."""

from twisted.trial.unittest import TestCase

from snorky.services.datasync.filters import (
    MAX_FILTER_DEPTH,
    MAX_FILTER_SIZE,
    MISSING,
    InvalidFilter,
    compile_filter,
    field_getter,
    get_field,
    json_key,
)


def matches(query, data):
    return compile_filter(query).matches(data)


class JsonKeyTests(TestCase):
    """
    json_key gives equal keys exactly to JSON-equal values.
    """

    def test_int_and_float(self):
        """An integer and the equal float share a key."""
        self.assertEqual(json_key(1), json_key(1.0))

    def test_bool_is_not_number(self):
        """True and 1 (and False and 0) have different keys."""
        self.assertNotEqual(json_key(True), json_key(1))
        self.assertNotEqual(json_key(False), json_key(0))

    def test_string_is_not_number(self):
        """The string "1" and the number 1 have different keys."""
        self.assertNotEqual(json_key("1"), json_key(1))

    def test_null(self):
        """null has a key of its own."""
        self.assertEqual(json_key(None), json_key(None))
        self.assertNotEqual(json_key(None), json_key(False))

    def test_nested(self):
        """Arrays and objects compare by content, with JSON number rules."""
        self.assertEqual(json_key([1, {"a": 2}]), json_key([1.0, {"a": 2.0}]))
        self.assertNotEqual(json_key([1, 2]), json_key([2, 1]))
        self.assertNotEqual(json_key([True]), json_key([1]))
        self.assertEqual(json_key({"a": 1, "b": 2}), json_key({"b": 2, "a": 1}))

    def test_not_json(self):
        """Values that are not JSON have no key."""
        self.assertIsNone(json_key(MISSING))
        self.assertIsNone(json_key(object()))
        self.assertIsNone(json_key(float("nan")))
        self.assertIsNone(json_key(float("inf")))
        self.assertIsNone(json_key([1, object()]))
        self.assertIsNone(json_key({1: "non-string name"}))

    def test_too_deep(self):
        """Data nested too deeply for recursion has no key instead of raising."""
        deep = []
        for _ in range(100000):
            deep = [deep]
        self.assertIsNone(json_key(deep))


class FieldTests(TestCase):
    """
    Dotted paths read nested objects.
    """

    def test_nested(self):
        """A dotted path reads inside nested objects."""
        self.assertEqual(get_field({"player": {"color": "red"}}, "player.color"), "red")

    def test_missing(self):
        """Missing fields and non-object steps give MISSING."""
        self.assertIs(get_field({}, "a"), MISSING)
        self.assertIs(get_field({"a": 1}, "a.b"), MISSING)
        self.assertIs(get_field({"a": [1]}, "a.0"), MISSING)
        self.assertIs(get_field("text", "a"), MISSING)

    def test_null_is_present(self):
        """A field holding null is present, not missing."""
        self.assertIsNone(get_field({"a": None}, "a"))

    def test_bad_path(self):
        """A path with an empty part or that is not a string is rejected."""
        for path in ["", "a..b", ".a", 3]:
            self.assertRaises(InvalidFilter, field_getter, path)


class ComparisonTests(TestCase):
    """
    Comparisons follow JSON semantics and never raise.
    """

    def test_equal(self):
        """== compares values with JSON equality."""
        self.assertTrue(matches(["==", "n", 1], {"n": 1.0}))
        self.assertTrue(matches(["==", "s", "red"], {"s": "red"}))
        self.assertFalse(matches(["==", "s", "red"], {"s": "blue"}))
        self.assertTrue(matches(["==", "o", {"x": [1]}], {"o": {"x": [1.0]}}))
        self.assertTrue(matches(["==", "z", None], {"z": None}))

    def test_bool_never_equals_number(self):
        """A boolean never equals a number, either way round."""
        self.assertFalse(matches(["==", "v", 1], {"v": True}))
        self.assertFalse(matches(["==", "v", True], {"v": 1}))
        self.assertFalse(matches(["==", "v", 0], {"v": False}))

    def test_missing_never_matches(self):
        """A missing field matches no comparison, not even != or == null."""
        for op, value in [("==", None), ("!=", "x"), ("<", 3), (">=", "a")]:
            self.assertFalse(matches([op, "f", value], {}), op)
        self.assertFalse(matches(["in", "f", [None]], {}))

    def test_not_of_missing(self):
        """not inverts a comparison on a missing field to true."""
        self.assertTrue(matches(["not", ["==", "f", 1]], {}))

    def test_not_equal(self):
        """!= holds for a present field with a different JSON value."""
        self.assertTrue(matches(["!=", "v", 1], {"v": 2}))
        self.assertTrue(matches(["!=", "v", 1], {"v": "1"}))
        self.assertTrue(matches(["!=", "v", 1], {"v": True}))
        self.assertFalse(matches(["!=", "v", 1], {"v": 1.0}))

    def test_ordering(self):
        """Orderings compare numbers with numbers and strings with strings."""
        self.assertTrue(matches(["<", "n", 3], {"n": 2.5}))
        self.assertTrue(matches(["<=", "n", 3], {"n": 3}))
        self.assertTrue(matches([">", "s", "b"], {"s": "c"}))
        self.assertTrue(matches([">=", "s", "b"], {"s": "b"}))
        self.assertFalse(matches(["<", "n", 3], {"n": 4}))

    def test_ordering_across_types(self):
        """Orderings between a number and a string, bool or null are false."""
        self.assertFalse(matches(["<", "v", 3], {"v": "2"}))
        self.assertFalse(matches([">", "v", "a"], {"v": 5}))
        self.assertFalse(matches(["<", "v", 3], {"v": True}))
        self.assertFalse(matches(["<", "v", 3], {"v": None}))
        self.assertFalse(matches(["<", "v", 3], {"v": [1]}))

    def test_in(self):
        """in holds when the field equals one of the values."""
        self.assertTrue(matches(["in", "v", [1, "a"]], {"v": 1.0}))
        self.assertTrue(matches(["in", "v", [1, "a"]], {"v": "a"}))
        self.assertFalse(matches(["in", "v", [1, "a"]], {"v": True}))
        self.assertFalse(matches(["in", "v", []], {"v": 1}))

    def test_logic(self):
        """and, or and not combine filters."""
        red = ["==", "c", "red"]
        big = [">", "n", 10]
        self.assertTrue(matches(["and", red, big], {"c": "red", "n": 11}))
        self.assertFalse(matches(["and", red, big], {"c": "red", "n": 1}))
        self.assertTrue(matches(["or", red, big], {"c": "blue", "n": 11}))
        self.assertFalse(matches(["or", red, big], {"c": "blue", "n": 1}))
        self.assertTrue(matches(["and"], {}))
        self.assertFalse(matches(["or"], {}))

    def test_odd_data(self):
        """Data that is not an object, or holds non-JSON values, never raises."""
        query = ["or", ["==", "a.b", 1], ["<", "a", 2], ["in", "a", [1]], ["!=", "a", 1]]
        for data in [None, 3, "text", [1, 2], {"a": object()}, {"a": {"b": set()}},
                     {"a": float("nan")}]:
            self.assertFalse(matches(query, data), data)


class ValidationTests(TestCase):
    """
    compile_filter rejects anything that is not a well-formed filter.
    """

    def test_invalid(self):
        """Malformed filters raise InvalidFilter."""
        bad = [
            None,
            [],
            "==",
            {"op": "=="},
            [1, "a", 1],
            ["=", "a", 1],
            ["==", "a"],
            ["==", "a", 1, 2],
            ["==", 3, 1],
            ["==", "a..b", 1],
            ["<", "a", True],
            ["<", "a", None],
            ["<", "a", [1]],
            ["<", "a", float("inf")],
            ["==", "a", float("nan")],
            ["==", "a", object()],
            ["in", "a", 1],
            ["in", "a", [object()]],
            ["not"],
            ["not", ["==", "a", 1], ["==", "a", 2]],
            ["and", ["==", "a", 1], "oops"],
            ["or", ["bogus"]],
        ]
        for query in bad:
            self.assertRaises(InvalidFilter, compile_filter, query)

    def test_reason_is_short(self):
        """The reason quotes the offending part, shortened."""
        e = self.assertRaises(InvalidFilter, compile_filter, ["x" * 1000, "a", 1])
        self.assertLess(len(str(e)), 80)
        self.assertIn("unknown operator 'xxx", str(e))

    def test_depth_limit(self):
        """Filters nested deeper than MAX_FILTER_DEPTH are rejected."""
        query = ["==", "a", 1]
        for _ in range(MAX_FILTER_DEPTH):
            query = ["not", query]
        compile_filter(query)
        self.assertRaises(InvalidFilter, compile_filter, ["not", query])

    def test_size_limit(self):
        """Filters with more than MAX_FILTER_SIZE terms are rejected."""
        compile_filter(["in", "a", list(range(MAX_FILTER_SIZE - 1))])
        self.assertRaises(
            InvalidFilter, compile_filter, ["in", "a", list(range(MAX_FILTER_SIZE))]
        )
        self.assertRaises(
            InvalidFilter, compile_filter, ["or"] + [["==", "a", 1]] * MAX_FILTER_SIZE
        )


class IndexPlanTests(TestCase):
    """
    compile_filter finds a top-level equality conjunct to index on.
    """

    def test_equal(self):
        """A top-level == is indexed on its value, with nothing left over."""
        compiled = compile_filter(["==", "player.color", "red"])
        self.assertEqual(compiled.index_field, "player.color")
        self.assertEqual(compiled.index_keys, (json_key("red"),))
        self.assertIsNone(compiled.residual)

    def test_in(self):
        """A top-level in is indexed on each distinct value."""
        compiled = compile_filter(["in", "n", [1, 1.0, 2]])
        self.assertEqual(compiled.index_field, "n")
        self.assertEqual(sorted(compiled.index_keys), [json_key(1), json_key(2)])
        self.assertIsNone(compiled.residual)

    def test_and_prefers_equal(self):
        """Inside a top-level and, == is chosen over in and the rest is residual."""
        compiled = compile_filter(
            ["and", ["in", "team", [1, 2]], [">", "score", 3], ["==", "color", "red"]]
        )
        self.assertEqual(compiled.index_field, "color")
        residual = compiled.residual
        self.assertTrue(residual({"team": 1, "score": 4}))
        self.assertFalse(residual({"team": 3, "score": 4}))
        self.assertFalse(residual({"team": 1, "score": 2}))

    def test_and_with_in(self):
        """Inside a top-level and without ==, in is indexed."""
        compiled = compile_filter(["and", [">", "score", 3], ["in", "team", [1]]])
        self.assertEqual(compiled.index_field, "team")
        self.assertTrue(compiled.residual({"score": 4}))
        self.assertFalse(compiled.residual({"score": 2}))

    def test_and_single(self):
        """An and holding only an equality leaves no residual."""
        compiled = compile_filter(["and", ["==", "a", 1]])
        self.assertEqual(compiled.index_field, "a")
        self.assertIsNone(compiled.residual)

    def test_not_indexed(self):
        """Filters without a top-level equality conjunct are not indexed."""
        for query in [
            ["!=", "a", 1],
            ["<", "a", 1],
            ["or", ["==", "a", 1], ["==", "a", 2]],
            ["not", ["==", "a", 1]],
            ["and", ["or", ["==", "a", 1]]],
        ]:
            self.assertIsNone(compile_filter(query).index_field, query)
