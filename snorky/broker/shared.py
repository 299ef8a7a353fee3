"""
`SharedPart`: what a service that keeps state across nodes (Chat,
Messaging, Cursors) needs around the broker's shared sets: its topic, a
tag naming each of its connections cluster-wide, and the connections an
event must not go back to.
"""

from typing import Any, Iterable, List

from twisted.internet.defer import Deferred

from snorky.broker.interface import IBroker, Receiver
from snorky.client import Client

__all__ = ["SharedPart"]


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
