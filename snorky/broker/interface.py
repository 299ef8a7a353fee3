"""
`IBroker`: what services need from the engine that connects Snorky's
nodes, and the errors it raises.

A broker carries three things between the processes (nodes) of one
deployment:

* **topics**: a payload published on a topic reaches every listener of
  that topic on every node exactly once, in publish order;
* **logs**: ordered, numbered, bounded histories of payloads (DataSync's
  deltas), which every node follows and which can be read back from any
  position still retained;
* **records**: small values under keys, with an expiry and
  compare-and-set (DataSync's tokens).

The in-process broker (:class:`~snorky.broker.local.InProcessBroker`)
carries topics within one process and is the default; the Redis broker
(:class:`~snorky.broker.redis.RedisBroker`) carries all three between
nodes. A service asks :attr:`IBroker.shared` to know whether it must use
logs and records (several nodes) or may keep its state in memory (one).
"""

from typing import Callable, List, Optional, Tuple

from twisted.internet.defer import Deferred
from zope.interface import Attribute, Interface

__all__ = [
    "IBroker",
    "BrokerUnavailable",
    "HistoryExpired",
    "Receiver",
    "LogFollower",
    "BROKER_UNAVAILABLE",
]

#: The error text a command answers when the broker cannot broadcast;
#: the HTTP backend answers it with status 503.
BROKER_UNAVAILABLE = "Broker unavailable"

#: Called with each payload published on a topic.
Receiver = Callable[[bytes], None]


class BrokerUnavailable(Exception):
    """
    The broker cannot be reached now; nothing was published or stored.
    """


class HistoryExpired(Exception):
    """
    Part of the asked range of a log is no longer retained.
    """


class LogFollower:
    """
    What a log's follower gets: every entry, once, in order
    (:meth:`entry`), or word that some entries are lost (:meth:`lost`).
    """

    def entry(self, seq: int, payload: bytes) -> None:
        """
        The entry numbered *seq* (one more than the previous one).
        """

    def lost(self, first: int, last: int) -> None:
        """
        Entries *first* to *last* were trimmed before this node read them
        (its link to the broker was down too long); the next entry is
        ``last + 1``.
        """

    def restored(self) -> None:
        """
        The broker came back without its data (a restart without
        persistence); numbering goes on after this node's position, and
        records this node needs must be stored again.
        """


class IBroker(Interface):
    """
    The engine shared by the nodes of one deployment.
    """

    node_id = Attribute("This process's name in the cluster (text).")
    shared = Attribute(
        "True when other processes share the broker: services must then keep "
        "their shared state in logs and records."
    )
    sets = Attribute(
        "The shared sets and tokens (snorky.broker.sets.SharedSets) of Chat, "
        "Messaging, Cursors and Identity."
    )

    def publish(topic: str, payload: bytes) -> "Deferred[None]":
        """
        Send *payload* to every listener of *topic* on every node,
        including this one (never directly: through the broker, so that
        every node sees one order).

        :returns: a Deferred that fails with :class:`BrokerUnavailable` if
            the payload could not be handed to the broker.
        """

    def listen(topic: str, receiver: Receiver) -> "Deferred[None]":
        """
        Call *receiver* with every payload published on *topic* from now
        on.

        :returns: a Deferred that fires once payloads published from then on
            are sure to arrive (a shared broker may have to subscribe first).
        """

    def unlisten(topic: str, receiver: Receiver) -> None:
        """
        Stop calling *receiver* for *topic*.
        """

    def append(log: str, payloads: List[bytes]) -> "Deferred[int]":
        """
        Append *payloads* to *log*, numbered consecutively, and hand them
        to every node's follower.

        :returns: a Deferred firing with the number of the first one, or
            failing with :class:`BrokerUnavailable`.
        """

    def follow(log: str, follower: LogFollower) -> None:
        """
        Hand every entry of *log* appended from now on to *follower*.
        """

    def position(log: str) -> int:
        """
        The number of the last entry of *log* handed to this node's
        follower (0 before any).
        """

    def read(log: str, after: int, upto: int) -> "Deferred[List[Tuple[int, bytes]]]":
        """
        The entries of *log* numbered ``after + 1`` to *upto*.

        :returns: a Deferred failing with :class:`HistoryExpired` if any of
            them is no longer retained, or :class:`BrokerUnavailable`.
        """

    def create_record(key: str, value: bytes, ttl: float, log: str) -> "Deferred[int]":
        """
        Store *value* under *key* for *ttl* seconds, prefixed with the
        number of the last entry appended to *log* at that moment
        (atomically with respect to appends) and a newline.

        :returns: a Deferred firing with that number.
        """

    def get_record(key: str) -> "Deferred[Optional[bytes]]":
        """
        The value under *key*, or ``None``.
        """

    def swap_record(
        key: str, expected: Optional[bytes], value: Optional[bytes], ttl: float
    ) -> "Deferred[bool]":
        """
        Replace the value under *key* by *value* (delete it if ``None``)
        with a new expiry of *ttl* seconds, only if it is *expected*
        (``None``: only if there is none).

        :returns: a Deferred firing with whether it was replaced.
        """

    def touch_records(keys: List[str], ttl: float) -> "Deferred[None]":
        """
        Set the expiry of the records under *keys* to *ttl* seconds.
        """


