"""
Dealers: each one decides which subscription items a model's data concerns,
keeping its own index so that routing a delta costs in proportion to the
items it could match.

A dealer handles one model (``model``) and is named (``name``, the class
name unless given) so that the backend can authorize subscriptions to it.
Write your own by subclassing :class:`Dealer`, or :class:`SimpleDealer`
when one key per item of data is enough.
"""

import abc
from typing import Any, Callable, Dict, Hashable, Iterable, List, Optional, Set

from snorky.services.datasync.filters import (
    CompiledFilter,
    InvalidFilter,
    compile_filter,
    field_getter,
    json_key,
)
from snorky.services.datasync.subscriptions import SubscriptionItem

__all__ = [
    "Dealer",
    "BroadcastDealer",
    "SimpleDealer",
    "FilterDealer",
    "InvalidQuery",
]


class InvalidQuery(ValueError):
    """
    Raised by :meth:`Dealer.prepare_query` for a query the dealer cannot
    use; the text says why (for logs; clients are told ``Invalid query``).
    """


class Dealer(abc.ABC):
    """
    Routes the data of one model to the subscription items it concerns.

    The service calls :meth:`prepare_query` when a subscription is
    authorized, then :meth:`add_subscription_item` with the result in
    ``item.prepared``; :meth:`get_subscription_items_for_model` for each
    version of data in a delta; :meth:`remove_subscription_item` when the
    subscription ends. Routing must not raise for odd data.

    :ivar name: the name subscriptions use; the class name unless set on
        the class or given to the constructor.
    :ivar model: the model name whose deltas this dealer routes.
    """

    name: str = "Dealer"
    model: Optional[str] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in vars(cls):
            cls.name = cls.__name__

    def __init__(self, name: Optional[str] = None, model: Optional[str] = None):
        if name is not None:
            self.name = name
        if model is not None:
            self.model = model

    def prepare_query(self, query: Any) -> Any:
        """
        Validate *query* at authorization time and return what the index
        needs (by default the query itself).

        :raises InvalidQuery: if this dealer cannot use *query*.
        """
        return query

    @abc.abstractmethod
    def add_subscription_item(self, item: SubscriptionItem) -> None:
        """
        Index *item*; ``item.prepared`` holds :meth:`prepare_query`'s result.
        """

    @abc.abstractmethod
    def remove_subscription_item(self, item: SubscriptionItem) -> None:
        """
        Forget *item*, leaving no trace of it in the index.
        """

    @abc.abstractmethod
    def get_subscription_items_for_model(
        self, data: Any
    ) -> Iterable[SubscriptionItem]:
        """
        The items whose query covers *data* (one version of an item of the
        model). The caller does not keep or change what is returned.
        """

    @abc.abstractmethod
    def item_count(self) -> int:
        """
        How many items this dealer indexes.
        """

    def __repr__(self) -> str:
        return "<{} {!r} model={!r}>".format(type(self).__name__, self.name, self.model)


class BroadcastDealer(Dealer):
    """
    Every delta of the model goes to every item; queries are ignored.
    """

    def __init__(self, name: Optional[str] = None, model: Optional[str] = None):
        super().__init__(name, model)
        self.items: Set[SubscriptionItem] = set()

    def add_subscription_item(self, item: SubscriptionItem) -> None:
        self.items.add(item)

    def remove_subscription_item(self, item: SubscriptionItem) -> None:
        self.items.discard(item)

    def get_subscription_items_for_model(self, data: Any) -> Set[SubscriptionItem]:
        return self.items

    def item_count(self) -> int:
        return len(self.items)


class SimpleDealer(Dealer):
    """
    The query is a key; data goes to the items whose key equals
    :meth:`get_key_for_model` of it (JSON equality). Routing is one dict
    lookup.

    Set ``key`` (a dotted field path such as ``"player.id"``) on the class
    or in the constructor, or override :meth:`get_key_for_model`.

    :ivar key: the dotted path of the field used as key, or ``None``.
    """

    key: Optional[str] = None

    def __init__(
        self,
        name: Optional[str] = None,
        model: Optional[str] = None,
        key: Optional[str] = None,
    ) -> None:
        super().__init__(name, model)
        if key is not None:
            self.key = key
        self._get_key: Optional[Callable[[Any], Any]] = None
        if self.key is not None:
            self._get_key = field_getter(self.key)
        elif type(self).get_key_for_model is SimpleDealer.get_key_for_model:
            raise TypeError(
                "{} needs a key or a get_key_for_model method".format(self.name)
            )
        self.items_by_key: Dict[Hashable, Set[SubscriptionItem]] = {}
        self._count = 0

    def get_key_for_model(self, data: Any) -> Any:
        """
        The key of *data*: by default its field at :attr:`key`.
        """
        assert self._get_key is not None
        return self._get_key(data)

    def prepare_query(self, query: Any) -> Hashable:
        key = json_key(query)
        if key is None:
            raise InvalidQuery("a key must be a JSON value")
        return key

    def add_subscription_item(self, item: SubscriptionItem) -> None:
        items = self.items_by_key.setdefault(item.prepared, set())
        if item not in items:
            items.add(item)
            self._count += 1

    def remove_subscription_item(self, item: SubscriptionItem) -> None:
        items = self.items_by_key.get(item.prepared)
        if items is None or item not in items:
            return
        items.remove(item)
        self._count -= 1
        if not items:
            del self.items_by_key[item.prepared]

    def get_subscription_items_for_model(
        self, data: Any
    ) -> Iterable[SubscriptionItem]:
        key = json_key(self.get_key_for_model(data))
        if key is None:
            return ()
        return self.items_by_key.get(key, ())

    def item_count(self) -> int:
        return self._count


class _FieldIndex:
    """
    The items of a :class:`FilterDealer` indexed on one field: for each
    key of that field, the items whose filter needs it, with what remains
    to check (``None`` when nothing does).
    """

    __slots__ = ("get", "buckets")

    def __init__(self, path: str) -> None:
        self.get = field_getter(path)
        self.buckets: Dict[Hashable, Dict[SubscriptionItem, Any]] = {}


class FilterDealer(Dealer):
    """
    The query is a filter (see :mod:`snorky.services.datasync.filters`).

    A filter with an equality conjunct at its top level (``["==", f, v]``,
    ``["in", f, [...]]``, or one of those directly inside a top-level
    ``"and"``) is indexed on that ``(field, value)``: a delta only looks at
    the items filed under its own value of each indexed field, and checks
    what remains of their filters. Other filters are evaluated one by one.
    """

    def __init__(self, name: Optional[str] = None, model: Optional[str] = None):
        super().__init__(name, model)
        self.fields: Dict[str, _FieldIndex] = {}
        self.unindexed: Dict[SubscriptionItem, Callable[[Any], bool]] = {}
        self._items: Set[SubscriptionItem] = set()

    def prepare_query(self, query: Any) -> CompiledFilter:
        try:
            return compile_filter(query)
        except InvalidFilter as e:
            raise InvalidQuery(str(e)) from None

    def add_subscription_item(self, item: SubscriptionItem) -> None:
        if item in self._items:
            return
        self._items.add(item)
        compiled: CompiledFilter = item.prepared
        if compiled.index_field is None:
            self.unindexed[item] = compiled.matches
        elif compiled.index_keys:
            # An empty "in" list matches nothing, so it is filed nowhere.
            index = self.fields.get(compiled.index_field)
            if index is None:
                index = self.fields[compiled.index_field] = _FieldIndex(
                    compiled.index_field
                )
            for key in compiled.index_keys:
                index.buckets.setdefault(key, {})[item] = compiled.residual

    def remove_subscription_item(self, item: SubscriptionItem) -> None:
        if item not in self._items:
            return
        self._items.remove(item)
        compiled: CompiledFilter = item.prepared
        if compiled.index_field is None:
            del self.unindexed[item]
            return
        index = self.fields.get(compiled.index_field)
        if index is None:
            return
        for key in compiled.index_keys:
            bucket = index.buckets[key]
            del bucket[item]
            if not bucket:
                del index.buckets[key]
        if not index.buckets:
            del self.fields[compiled.index_field]

    def get_subscription_items_for_model(self, data: Any) -> List[SubscriptionItem]:
        matched = []
        for index in self.fields.values():
            key = json_key(index.get(data))
            bucket = index.buckets.get(key) if key is not None else None
            if bucket:
                for item, residual in bucket.items():
                    if residual is None or residual(data):
                        matched.append(item)
        for item, matches in self.unindexed.items():
            if matches(data):
                matched.append(item)
        return matched

    def item_count(self) -> int:
        return len(self._items)
