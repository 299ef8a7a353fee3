"""
`SharedPart`: what a service that keeps state across nodes (Chat,
Messaging, Cursors) needs around the broker's shared sets: its topic, a
tag naming each of its connections cluster-wide, and the connections an
event must not go back to.
"""

from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from twisted.internet.defer import Deferred

from snorky.broker.interface import IBroker, Receiver
from snorky.client import Client

__all__ = ["SharedPart", "JoinGate"]


class SharedPart:
    """
    A service's link to a shared broker.

    :param broker: a shared broker.
    :param topic: the service's topic (``kind:name``), on which its events
        and messages travel.
    :param receiver: called with every payload on the topic.
    """

    def __init__(self, broker: IBroker, topic: str, receiver: Receiver) -> None:
        self.broker = broker
        self.sets: Any = broker.sets
        self.topic = topic
        self.receiver = receiver
        # Hex: node ids may hold any character, tags hold no newline.
        self.node = broker.node_id.encode("utf-8").hex().encode("ascii")
        broker.listen(topic, receiver)
        self.sets.attach()

    def close(self) -> None:
        """
        Stop receiving the topic.
        """
        self.broker.unlisten(self.topic, self.receiver)

    def tag(self, client: Client) -> bytes:
        """
        A name for *client*, unique in the cluster while it is connected.
        """
        return self.node + b":%d" % id(client)

    def excluding(self, clients: Iterable[Client], tag: bytes) -> List[Client]:
        """
        *clients* but the one *tag* names.
        """
        node, _, number = tag.partition(b":")
        if node != self.node or not number:
            return list(clients)
        origin = int(number)
        return [c for c in clients if id(c) != origin]

    def publish(self, *parts: bytes) -> "Deferred[None]":
        """
        Publish *parts*, joined by newlines, on the topic.
        """
        return self.broker.publish(self.topic, b"\n".join(parts))


class JoinGate:
    """
    Which events of a shared set each connection gets: only those after
    its join (the join's answer reflects the earlier ones), and those that
    arrive while its join is unanswered once it is answered.
    """

    def __init__(self) -> None:
        #: (client, key) to the set's event number at its join, or None
        #: while the join is unanswered.
        self.since: Dict[Tuple[Client, str], Optional[int]] = {}
        self._queued: Dict[Tuple[Client, str], List[Tuple[int, Callable[[], None]]]] = {}

    def pending(self, client: Client, key: str) -> None:
        """
        *client* is joining *key*; hold its events until :meth:`opened`.
        """
        self.since[(client, key)] = None

    def opened(self, client: Client, key: str, seq: int) -> None:
        """
        *client*'s join of *key* was answered as of event *seq*: hand it
        the held events after that.
        """
        if (client, key) not in self.since:
            return
        self.since[(client, key)] = seq
        for number, deliver in self._queued.pop((client, key), []):
            if number > seq:
                deliver()

    def forget(self, client: Client, key: str) -> None:
        """
        *client* left *key*.
        """
        self.since.pop((client, key), None)
        self._queued.pop((client, key), None)

    def admit(
        self, clients: Iterable[Client], key: str, seq: int,
        later: Callable[[Client], Callable[[], None]],
    ) -> List[Client]:
        """
        Those of *clients* that get event *seq* of *key* now; for those
        whose join is unanswered, ``later(client)`` is kept for then.
        """
        now = []
        for client in clients:
            since = self.since.get((client, key), 0)
            if since is None:
                self._queued.setdefault((client, key), []).append((seq, later(client)))
            elif seq > since:
                now.append(client)
        return now
