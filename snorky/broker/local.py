"""
`InProcessBroker`: the broker of a single process, and the default.

Topics call their listeners at once, in the publishing call. With
``shared=True`` it also keeps logs and records in memory and tells
services to use them, so that several services in one process behave as
the nodes of a cluster would: the tests of the cluster logic run on it,
under a :class:`~twisted.internet.task.Clock`.
"""

import uuid
from collections import deque
from typing import Any, Deque, Dict, List, Optional, Tuple

from twisted.internet.defer import Deferred, fail, succeed
from zope.interface import implementer

from snorky.broker.interface import (
    BrokerUnavailable,
    HistoryExpired,
    IBroker,
    LogFollower,
    Receiver,
)
from snorky.broker.sets import MemorySets
from snorky.reactors import default_reactor

__all__ = ["InProcessBroker", "new_node_id"]


def new_node_id() -> str:
    """
    A random node id, unique enough to tell the nodes of a cluster apart.
    """
    return uuid.uuid4().hex[:12]


class _Log:
    def __init__(self, max_length: int) -> None:
        self.last = 0
        self.entries: Deque[Tuple[int, float, bytes]] = deque()
        self.max_length = max_length
        self.followers: List[LogFollower] = []


@implementer(IBroker)
class InProcessBroker:
    """
    Topics, logs and records within one process.

    :param shared: whether services should behave as cluster nodes (use
        logs and records); ``False`` keeps each service's own in-memory
        behaviour.
    :param node_id: this node's name; random when ``None``.
    :param max_log_length: entries each log retains.
    :param max_log_age: seconds an entry is retained.
    :param reactor: an ``IReactorTime`` for expiries; the global reactor
        when ``None``.
    :param node_timeout: seconds after which a silent node's members of
        shared sets are removed (:mod:`snorky.broker.sets`).
    """

    def __init__(
        self,
        shared: bool = False,
        node_id: Optional[str] = None,
        max_log_length: int = 100_000,
        max_log_age: float = 3600.0,
        reactor: Any = None,
        node_timeout: float = 10.0,
    ) -> None:
        reactor = default_reactor(reactor)
        self.reactor = reactor
        self.shared = shared
        self.node_id = node_id or new_node_id()
        self.max_log_length = max_log_length
        self.max_log_age = max_log_age
        #: While ``False``, every operation fails as an unreachable broker's.
        self.available = True
        self._listeners: Dict[str, List[Receiver]] = {}
        self._logs: Dict[str, _Log] = {}
        self._records: Dict[str, Tuple[bytes, float]] = {}
        #: Shared sets and tokens (Chat, Messaging, Cursors, Identity).
        self.sets = MemorySets(self, node_timeout)

    def another_node(self, node_id: Optional[str] = None) -> "InProcessBroker":
        """
        A broker for another node in this process: its own node id and
        availability, the same topics, logs and records.
        """
        other = InProcessBroker(
            self.shared, node_id, self.max_log_length, self.max_log_age, self.reactor,
            self.sets.node_timeout,
        )
        other.sets.state = self.sets.state
        other._listeners = self._listeners
        other._logs = self._logs
        other._records = self._records
        return other

    def _check(self) -> Optional[Deferred]:
        if self.available:
            return None
        return fail(BrokerUnavailable("the in-process broker is switched off"))

    # -- Topics -----------------------------------------------------------

    def publish(self, topic: str, payload: bytes) -> "Deferred[None]":
        refused = self._check()
        if refused is not None:
            return refused
        for receiver in list(self._listeners.get(topic, ())):
            receiver(payload)
        return succeed(None)

    def listen(self, topic: str, receiver: Receiver) -> "Deferred[None]":
        self._listeners.setdefault(topic, []).append(receiver)
        return succeed(None)

    def unlisten(self, topic: str, receiver: Receiver) -> None:
        receivers = self._listeners.get(topic, [])
        if receiver in receivers:
            receivers.remove(receiver)
        if not receivers:
            self._listeners.pop(topic, None)

    # -- Logs -------------------------------------------------------------

    def _log(self, name: str) -> _Log:
        log = self._logs.get(name)
        if log is None:
            log = self._logs[name] = _Log(self.max_log_length)
        return log

    def _trim(self, log: _Log) -> None:
        entries = log.entries
        oldest = self.reactor.seconds() - self.max_log_age
        while entries and (len(entries) > log.max_length or entries[0][1] < oldest):
            entries.popleft()

    def append(self, log: str, payloads: List[bytes]) -> "Deferred[int]":
        refused = self._check()
        if refused is not None:
            return refused
        entries = self._log(log)
        first = entries.last + 1
        now = self.reactor.seconds()
        for payload in payloads:
            entries.last += 1
            entries.entries.append((entries.last, now, payload))
        self._trim(entries)
        for follower in list(entries.followers):
            for offset, payload in enumerate(payloads):
                follower.entry(first + offset, payload)
        return succeed(first)

    def follow(self, log: str, follower: LogFollower) -> None:
        self._log(log).followers.append(follower)

    def position(self, log: str) -> int:
        return self._log(log).last

    def read(self, log: str, after: int, upto: int) -> "Deferred[List[Tuple[int, bytes]]]":
        refused = self._check()
        if refused is not None:
            return refused
        entries = self._log(log)
        self._trim(entries)
        first = entries.entries[0][0] if entries.entries else entries.last + 1
        if after + 1 < first and after < upto:
            return fail(HistoryExpired("entries after {} are gone".format(after)))
        return succeed(
            [(seq, payload) for seq, _, payload in entries.entries if after < seq <= upto]
        )

    # -- Records ----------------------------------------------------------

    def _get(self, key: str) -> Optional[bytes]:
        found = self._records.get(key)
        if found is None:
            return None
        if found[1] <= self.reactor.seconds():
            del self._records[key]
            return None
        return found[0]

    def create_record(self, key: str, value: bytes, ttl: float, log: str) -> "Deferred[int]":
        refused = self._check()
        if refused is not None:
            return refused
        last = self._log(log).last
        self._records[key] = (b"%d\n" % last + value, self.reactor.seconds() + ttl)
        return succeed(last)

    def get_record(self, key: str) -> "Deferred[Optional[bytes]]":
        refused = self._check()
        if refused is not None:
            return refused
        return succeed(self._get(key))

    def swap_record(
        self, key: str, expected: Optional[bytes], value: Optional[bytes], ttl: float
    ) -> "Deferred[bool]":
        refused = self._check()
        if refused is not None:
            return refused
        if self._get(key) != expected:
            return succeed(False)
        if value is None:
            self._records.pop(key, None)
        else:
            self._records[key] = (value, self.reactor.seconds() + ttl)
        return succeed(True)

    def touch_records(self, keys: List[str], ttl: float) -> "Deferred[None]":
        refused = self._check()
        if refused is not None:
            return refused
        for key in keys:
            value = self._get(key)
            if value is not None:
                self._records[key] = (value, self.reactor.seconds() + ttl)
        return succeed(None)

    @property
    def record_count(self) -> int:
        """
        How many records are stored (expired ones included until read).
        """
        return len(self._records)
