"""
The filter language of :class:`~snorky.services.datasync.dealers.FilterDealer`,
with JSON comparison semantics.

A filter is a JSON list in prefix notation::

    ["==", "player.color", "red"]
    ["and", ["in", "team", [1, 2]], ["not", ["<", "score", 10]]]

:func:`compile_filter` validates a filter once and turns it into Python
closures, so that evaluating it per delta does no parsing. Comparisons
follow JSON, not Python: a boolean never equals a number, ``1 == 1.0``,
numbers only order against numbers and strings against strings, and a
missing field never matches. Odd data (wrong types, Python objects that are
not JSON) makes a comparison false; it never raises.
"""

import math
import operator
from typing import Any, Callable, Hashable, List, Optional, Tuple

__all__ = [
    "MISSING",
    "CompiledFilter",
    "InvalidFilter",
    "compile_filter",
    "field_getter",
    "get_field",
    "json_key",
    "MAX_FILTER_DEPTH",
    "MAX_FILTER_SIZE",
]

#: What :func:`get_field` returns for a field that is not there.
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()

#: Deepest nesting of ``and``/``or``/``not`` accepted in a filter.
MAX_FILTER_DEPTH = 32

#: Most operators plus ``in`` values accepted in one filter; a filter is
#: evaluated per delta, so its size is its cost.
MAX_FILTER_SIZE = 1000

Predicate = Callable[[Any], bool]


class InvalidFilter(ValueError):
    """
    A filter that cannot be compiled; the text says why.
    """


def _show(value: Any) -> str:
    # Error texts quote the offending part, but never at unbounded length.
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Constant:
    """
    The key of a JSON constant that Python would confuse with a number
    (``True == 1``) or with "no key" (``None``).
    """

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


_TRUE = _Constant("true")
_FALSE = _Constant("false")
_NULL = _Constant("null")


def _json_key(value: Any) -> Any:
    kind = type(value)
    # Strings and numbers are their own keys: Python never finds a str
    # equal to a number, and 1 == 1.0 as in JSON.
    if kind is str or kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is bool:
        return _TRUE if value else _FALSE
    if value is None:
        return _NULL
    if isinstance(value, (list, tuple)):
        elements = tuple(_json_key(element) for element in value)
        return None if None in elements else ("array", elements)
    if isinstance(value, dict):
        members = []
        for name, member in value.items():
            key = _json_key(member)
            if type(name) is not str or key is None:
                return None
            members.append((name, key))
        return ("object", frozenset(members))
    return None


def json_key(value: Any) -> Optional[Hashable]:
    """
    A hashable key for a JSON value such that two values have equal keys
    exactly when they are equal in JSON: ``1`` and ``1.0`` share a key,
    ``True`` and ``1`` do not.

    :returns: ``None`` for anything that is not a JSON value (including
        :data:`MISSING`, non-finite floats and data nested too deeply).
    """
    kind = type(value)
    if kind is str or kind is int:
        return value
    try:
        return _json_key(value)
    except RecursionError:
        return None


def _split_path(path: Any) -> Tuple[str, ...]:
    if not isinstance(path, str):
        raise InvalidFilter("field must be a string")
    names = tuple(path.split("."))
    if not all(names):
        raise InvalidFilter("field {} has an empty part".format(_show(path)))
    return names


def field_getter(path: str) -> Callable[[Any], Any]:
    """
    A function that reads the field at the dotted *path* (``"player.color"``)
    from nested objects, or returns :data:`MISSING`.

    :raises InvalidFilter: if *path* is not a string of non-empty names.
    """
    names = _split_path(path)
    if len(names) == 1:
        (name,) = names

        def get_one(data: Any) -> Any:
            if isinstance(data, dict):
                return data.get(name, MISSING)
            return MISSING

        return get_one

    def get_nested(data: Any) -> Any:
        for name in names:
            if not isinstance(data, dict):
                return MISSING
            data = data.get(name, MISSING)
        return data

    return get_nested


def get_field(data: Any, path: str) -> Any:
    """
    The field at the dotted *path* inside *data*, or :data:`MISSING`.
    """
    return field_getter(path)(data)


class CompiledFilter:
    """
    A validated filter, ready to evaluate.

    :ivar matches: the whole filter as a function of the data.
    :ivar index_field: the dotted field of a top-level equality conjunct
        (``==`` or ``in``), or ``None`` when the filter has none.
    :ivar index_keys: the :func:`json_key` values that field must equal
        for the filter to match.
    :ivar residual: what is left to check once the data's field is known
        to equal one of :attr:`index_keys`, or ``None`` when nothing is.
    """

    __slots__ = ("matches", "index_field", "index_keys", "residual")

    def __init__(
        self,
        matches: Predicate,
        index_field: Optional[str] = None,
        index_keys: Tuple[Hashable, ...] = (),
        residual: Optional[Predicate] = None,
    ) -> None:
        self.matches = matches
        self.index_field = index_field
        self.index_keys = index_keys
        self.residual = residual


def _value_key(value: Any) -> Hashable:
    key = json_key(value)
    if key is None:
        raise InvalidFilter("value {} is not a JSON value".format(_show(value)))
    return key


def _equal(get: Callable[[Any], Any], key: Hashable) -> Predicate:
    def equal(data: Any) -> bool:
        return json_key(get(data)) == key

    return equal


def _not_equal(get: Callable[[Any], Any], key: Hashable) -> Predicate:
    def not_equal(data: Any) -> bool:
        found = json_key(get(data))
        return found is not None and found != key

    return not_equal


def _member(get: Callable[[Any], Any], keys: frozenset) -> Predicate:
    def member(data: Any) -> bool:
        return json_key(get(data)) in keys

    return member


# Types that order against each other; bool is an int in Python but not a
# number in JSON, so it is absent.
_ORDER_CLASS = {int: "number", float: "number", str: "string"}

_ORDERINGS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _ordering(
    get: Callable[[Any], Any], compare: Callable[[Any, Any], bool], value: Any
) -> Predicate:
    order_class = _ORDER_CLASS.get(type(value))
    if order_class is None or (type(value) is float and not math.isfinite(value)):
        raise InvalidFilter("ordering needs a number or a string")

    def ordering(data: Any) -> bool:
        found = get(data)
        return _ORDER_CLASS.get(type(found)) == order_class and compare(found, value)

    return ordering


def _all(predicates: Tuple[Predicate, ...]) -> Predicate:
    def all_of(data: Any) -> bool:
        for predicate in predicates:
            if not predicate(data):
                return False
        return True

    return all_of


def _any(predicates: Tuple[Predicate, ...]) -> Predicate:
    def any_of(data: Any) -> bool:
        for predicate in predicates:
            if predicate(data):
                return True
        return False

    return any_of


def _negation(predicate: Predicate) -> Predicate:
    def negation(data: Any) -> bool:
        return not predicate(data)

    return negation


class _Compiler:
    """
    One compilation: walks the filter, counting its size.
    """

    def __init__(self) -> None:
        self.size = 0

    def grow(self, amount: int) -> None:
        self.size += amount
        if self.size > MAX_FILTER_SIZE:
            raise InvalidFilter("more than {} terms".format(MAX_FILTER_SIZE))

    def compile(self, node: Any, depth: int) -> Predicate:
        if not isinstance(node, list) or not node or not isinstance(node[0], str):
            raise InvalidFilter("expected a list starting with an operator")
        if depth > MAX_FILTER_DEPTH:
            raise InvalidFilter("nested deeper than {}".format(MAX_FILTER_DEPTH))
        self.grow(1)
        op, args = node[0], node[1:]
        if op in ("and", "or"):
            predicates = tuple(self.compile(arg, depth + 1) for arg in args)
            return _all(predicates) if op == "and" else _any(predicates)
        if op == "not":
            if len(args) != 1:
                raise InvalidFilter('"not" takes one filter')
            return _negation(self.compile(args[0], depth + 1))
        if op not in _ORDERINGS and op not in ("==", "!=", "in"):
            raise InvalidFilter("unknown operator {}".format(_show(op)))
        if len(args) != 2:
            raise InvalidFilter("{} takes a field and a value".format(_show(op)))
        get = field_getter(args[0])
        value = args[1]
        if op == "==":
            return _equal(get, _value_key(value))
        if op == "!=":
            return _not_equal(get, _value_key(value))
        if op == "in":
            return _member(get, frozenset(self.in_keys(value)))
        return _ordering(get, _ORDERINGS[op], value)

    def in_keys(self, values: Any) -> List[Hashable]:
        if not isinstance(values, list):
            raise InvalidFilter('"in" needs a list of values')
        self.grow(len(values))
        return [_value_key(value) for value in values]


def _index_term(node: Any) -> Optional[Tuple[str, Tuple[Hashable, ...]]]:
    # node is already validated.
    if node[0] == "==":
        return node[1], (json_key(node[2]),)
    if node[0] == "in":
        return node[1], tuple({json_key(value) for value in node[2]})
    return None


def _plan_index(
    query: list, compiler: _Compiler
) -> Tuple[Optional[str], Tuple[Hashable, ...], Optional[Predicate]]:
    term = _index_term(query)
    if term is not None:
        return term[0], term[1], None
    if query[0] != "and":
        return None, (), None
    conjuncts = query[1:]
    # Prefer "==" (one key) over "in" (several keys).
    for wanted in ("==", "in"):
        for position, conjunct in enumerate(conjuncts):
            if conjunct[0] == wanted:
                field, keys = _index_term(conjunct)  # type: ignore[misc]
                rest = conjuncts[:position] + conjuncts[position + 1 :]
                if not rest:
                    return field, keys, None
                if len(rest) == 1:
                    return field, keys, compiler.compile(rest[0], 1)
                return field, keys, compiler.compile(["and"] + rest, 0)
    return None, (), None


def compile_filter(query: Any) -> CompiledFilter:
    """
    Validate *query* and compile it.

    :raises InvalidFilter: if *query* is not a well-formed filter.
    """
    compiler = _Compiler()
    matches = compiler.compile(query, 0)
    field, keys, residual = _plan_index(query, _Compiler())
    return CompiledFilter(matches, field, keys, residual)

