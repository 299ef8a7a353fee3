"""Tests for snorky.services.datasync.dealers."""

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import TestCase

from snorky.services.datasync.dealers import (
    BroadcastDealer,
    Dealer,
    FilterDealer,
    InvalidQuery,
    SimpleDealer,
)
from snorky.services.datasync.filters import compile_filter
from snorky.services.datasync.subscriptions import SubscriptionItem


def add(dealer, query):
    """
    Prepare *query* and index a new item for it in *dealer*.
    """
    item = SubscriptionItem(dealer, query, dealer.prepare_query(query))
    dealer.add_subscription_item(item)
    return item


def routed(dealer, data):
    return list(dealer.get_subscription_items_for_model(data))


class NamingTests(TestCase):
    """
    Dealers are named after their class unless told otherwise.
    """

    def test_class_name(self):
        """A subclass without a name attribute is named after the class."""

        class Players(BroadcastDealer):
            model = "Player"

        self.assertEqual(Players().name, "Players")
        self.assertEqual(Players().model, "Player")

    def test_class_attribute(self):
        """A name set on the class is kept."""

        class Players(BroadcastDealer):
            name = "all_players"

        self.assertEqual(Players().name, "all_players")

    def test_constructor(self):
        """Name and model given to the constructor win."""
        dealer = FilterDealer(name="players", model="Player")
        self.assertEqual((dealer.name, dealer.model), ("players", "Player"))

    def test_abstract(self):
        """Dealer itself cannot be instantiated without the index methods."""
        self.assertRaises(TypeError, Dealer)


class BroadcastDealerTests(TestCase):
    """
    BroadcastDealer routes everything to every item.
    """

    def test_routes_to_all(self):
        """Every item gets any data, whatever its query."""
        dealer = BroadcastDealer(model="Player")
        items = {add(dealer, None), add(dealer, ["anything"])}
        self.assertEqual(set(routed(dealer, {"x": 1})), items)
        self.assertEqual(set(routed(dealer, "odd")), items)

    def test_remove(self):
        """A removed item gets nothing and is not counted."""
        dealer = BroadcastDealer(model="Player")
        kept, removed = add(dealer, None), add(dealer, None)
        dealer.remove_subscription_item(removed)
        self.assertEqual(routed(dealer, {}), [kept])
        self.assertEqual(dealer.item_count(), 1)


class SimpleDealerTests(TestCase):
    """
    SimpleDealer routes by key with JSON equality.
    """

    def test_key_path(self):
        """With a dotted key, data goes to the items whose query is its value."""
        dealer = SimpleDealer(model="Player", key="team.id")
        one, two = add(dealer, 1), add(dealer, 2)
        self.assertEqual(routed(dealer, {"team": {"id": 1.0}}), [one])
        self.assertEqual(routed(dealer, {"team": {"id": 2}}), [two])
        self.assertEqual(routed(dealer, {"team": {"id": 3}}), [])

    def test_json_equality(self):
        """A boolean key does not match a numeric query, nor a string a number."""
        dealer = SimpleDealer(model="Player", key="id")
        add(dealer, 1)
        self.assertEqual(routed(dealer, {"id": True}), [])
        self.assertEqual(routed(dealer, {"id": "1"}), [])

    def test_missing_and_odd(self):
        """Data without the key, or of odd shape, reaches nobody and never raises."""
        dealer = SimpleDealer(model="Player", key="id")
        add(dealer, None)
        for data in [{}, None, "x", [1], {"id": object()}]:
            self.assertEqual(routed(dealer, data), [], data)

    def test_null_key(self):
        """A query of null matches data whose key is null."""
        dealer = SimpleDealer(model="Player", key="id")
        item = add(dealer, None)
        self.assertEqual(routed(dealer, {"id": None}), [item])

    def test_get_key_for_model(self):
        """A subclass may compute the key itself; composite keys work."""

        class ByPair(SimpleDealer):
            model = "Cell"

            def get_key_for_model(self, data):
                return [data["row"], data["col"]]

        dealer = ByPair()
        item = add(dealer, [1, 2])
        self.assertEqual(routed(dealer, {"row": 1, "col": 2}), [item])
        self.assertEqual(routed(dealer, {"row": 2, "col": 1}), [])

    def test_needs_key(self):
        """A SimpleDealer without key or get_key_for_model is refused."""
        self.assertRaises(TypeError, SimpleDealer, model="Player")

    def test_invalid_query(self):
        """A query that is not a JSON value is rejected."""
        dealer = SimpleDealer(model="Player", key="id")
        self.assertRaises(InvalidQuery, dealer.prepare_query, object())

    def test_remove_cleans_index(self):
        """Removing the last item of a key removes the key."""
        dealer = SimpleDealer(model="Player", key="id")
        first, second = add(dealer, 1), add(dealer, 1)
        dealer.remove_subscription_item(first)
        self.assertEqual(routed(dealer, {"id": 1}), [second])
        dealer.remove_subscription_item(second)
        dealer.remove_subscription_item(second)
        self.assertEqual(dealer.items_by_key, {})
        self.assertEqual(dealer.item_count(), 0)


class FilterDealerTests(TestCase):
    """
    FilterDealer routes by filter, through its (field, value) index.
    """

    def test_invalid_query(self):
        """A malformed filter is rejected at preparation, with a reason."""
        dealer = FilterDealer(model="Player")
        e = self.assertRaises(InvalidQuery, dealer.prepare_query, ["=", "a", 1])
        self.assertIn("unknown operator", str(e))

    def test_indexed_and_unindexed(self):
        """Indexed and unindexed filters both route correctly."""
        dealer = FilterDealer(model="Player")
        red = add(dealer, ["==", "color", "red"])
        red_big = add(dealer, ["and", ["==", "color", "red"], [">", "score", 10]])
        teams = add(dealer, ["in", "team", [1, 2]])
        small = add(dealer, ["<", "score", 5])
        self.assertEqual(
            set(routed(dealer, {"color": "red", "score": 11, "team": 2})),
            {red, red_big, teams},
        )
        self.assertEqual(
            set(routed(dealer, {"color": "blue", "score": 1})), {small}
        )

    def test_index_skips_others(self):
        """Residuals of items filed under other values are never evaluated."""
        dealer = FilterDealer(model="Player")
        calls = []

        def spy(data):
            calls.append(data)
            return True

        query = ["and", ["==", "id", 1], ["==", "color", "red"]]
        item = SubscriptionItem(dealer, query, dealer.prepare_query(query))
        item.prepared.residual = spy
        dealer.add_subscription_item(item)
        add(dealer, ["==", "id", 2])
        routed(dealer, {"id": 2, "color": "red"})
        self.assertEqual(calls, [])
        self.assertEqual(routed(dealer, {"id": 1, "color": "blue"}), [item])
        self.assertEqual(len(calls), 1)

    def test_empty_in(self):
        """An in with no values matches nothing and leaves no index entry."""
        dealer = FilterDealer(model="Player")
        item = add(dealer, ["in", "a", []])
        self.assertEqual(routed(dealer, {"a": 1}), [])
        self.assertEqual(dealer.fields, {})
        self.assertEqual(dealer.item_count(), 1)
        dealer.remove_subscription_item(item)
        self.assertEqual(dealer.item_count(), 0)

    def test_remove_cleans_index(self):
        """Removing every item leaves every index table empty."""
        dealer = FilterDealer(model="Player")
        items = [
            add(dealer, ["==", "a", 1]),
            add(dealer, ["in", "a", [1, 2]]),
            add(dealer, ["and", ["==", "b.c", "x"], ["<", "a", 3]]),
            add(dealer, ["or", ["==", "a", 1]]),
        ]
        for item in items:
            dealer.remove_subscription_item(item)
            dealer.remove_subscription_item(item)
        self.assertEqual(dealer.fields, {})
        self.assertEqual(dealer.unindexed, {})
        self.assertEqual(dealer.item_count(), 0)


# -- Property tests -------------------------------------------------------

_FIELDS = st.sampled_from(["a", "b", "c.d"])
_SCALARS = st.sampled_from([0, 1, 1.0, 2, -1.5, True, False, None, "", "1", "a", "b"])
_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=2))
_ORDERED = st.sampled_from([0, 1, 1.5, 2, "", "a", "b"])


def _leaf():
    return st.one_of(
        st.tuples(st.sampled_from(["==", "!="]), _FIELDS, _VALUES),
        st.tuples(st.sampled_from(["<", "<=", ">", ">="]), _FIELDS, _ORDERED),
        st.tuples(st.just("in"), _FIELDS, st.lists(_VALUES, max_size=3)),
    ).map(list)


FILTERS = st.recursive(
    _leaf(),
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda fs: ["and"] + fs),
        st.lists(children, max_size=3).map(lambda fs: ["or"] + fs),
        children.map(lambda f: ["not", f]),
    ),
    max_leaves=6,
)

DATA = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "a": _VALUES,
            "b": _VALUES,
            "c": st.one_of(_VALUES, st.fixed_dictionaries({}, optional={"d": _VALUES})),
        },
    ),
    _SCALARS,
)


_MISSING = object()


def _reference_get(data, path):
    for name in path.split("."):
        if not isinstance(data, dict) or name not in data:
            return _MISSING
        data = data[name]
    return data


def _kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _reference_equal(x, y):
    if _kind(x) != _kind(y):
        return False
    if isinstance(x, list):
        return len(x) == len(y) and all(map(_reference_equal, x, y))
    return x == y


def reference(query, data):
    """
    A plain interpreter of the filter language, written from its
    documentation, against which the compiled filters are checked.
    """
    op, args = query[0], query[1:]
    if op == "and":
        return all(reference(f, data) for f in args)
    if op == "or":
        return any(reference(f, data) for f in args)
    if op == "not":
        return not reference(args[0], data)
    value = _reference_get(data, args[0])
    if value is _MISSING:
        return False
    if op == "==":
        return _reference_equal(value, args[1])
    if op == "!=":
        return not _reference_equal(value, args[1])
    if op == "in":
        return any(_reference_equal(value, v) for v in args[1])
    if _kind(value) != _kind(args[1]) or _kind(value) not in ("number", "str"):
        return False
    return {"<": value < args[1], "<=": value <= args[1],
            ">": value > args[1], ">=": value >= args[1]}[op]


class FilterPropertyTests(TestCase):
    """
    Properties of filters and of the FilterDealer index, over random filters
    and data.
    """

    @settings(max_examples=300, deadline=None)
    @given(FILTERS, DATA)
    def test_compiled_equals_reference(self, query, data):
        """A compiled filter agrees with a plain interpreter of the language."""
        self.assertEqual(compile_filter(query).matches(data), reference(query, data))

    @settings(max_examples=300, deadline=None)
    @given(
        st.lists(
            st.one_of(
                FILTERS,
                st.lists(FILTERS, max_size=3).map(lambda fs: ["and"] + fs),
            ),
            max_size=12,
        ),
        st.lists(DATA, min_size=1, max_size=5),
        st.data(),
    )
    def test_index_equals_evaluating_every_filter(self, queries, datas, draw):
        """Indexed routing returns, once each, exactly the items whose filter matches."""
        dealer = FilterDealer(model="M")
        items = [add(dealer, query) for query in queries]
        removed = draw.draw(st.sets(st.sampled_from(items)) if items else st.just(set()))
        for item in removed:
            dealer.remove_subscription_item(item)
        live = [item for item in items if item not in removed]
        for data in datas:
            got = routed(dealer, data)
            self.assertEqual(len(got), len(set(got)))
            expected = {item for item in live if item.prepared.matches(data)}
            self.assertEqual(set(got), expected)
        for item in live:
            dealer.remove_subscription_item(item)
        self.assertEqual((dealer.fields, dealer.unindexed), ({}, {}))
