"""
`BrokerLag`: how long a message takes from one node, through the broker,
to each node.

Every few seconds each node publishes a small probe on its own topic with
its name and the time it was sent; every node (the sender included)
observes, on arrival, how long ago that was. A node's own probes measure
the round trip through Redis exactly; other nodes' probes also include the
difference between the machines' clocks, so they mean something when the
clocks are synchronized (NTP), as they are on one machine.
"""

import json
import time
from typing import Any, Callable, Optional

from prometheus_client import CollectorRegistry, Histogram
from twisted.internet.task import LoopingCall

from snorky.ops.metrics import LATENCY_BUCKETS

__all__ = ["BrokerLag", "TOPIC"]

#: The broker topic the probes travel on.
TOPIC = "snorky-ops-lag"


class BrokerLag:
    """
    Publishes a probe every *interval* seconds through *broker* and times
    every probe that arrives into ``snorky_broker_lag_seconds{origin}``
    (``self`` for this node's probes, ``other`` for the others').

    :param clock: wall-clock time (``time.time``), shared by the nodes.
    """

    def __init__(
        self,
        broker: Any,
        registry: CollectorRegistry,
        reactor: Any,
        interval: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.broker = broker
        self.interval = interval
        self.clock = clock
        histogram = Histogram(
            "snorky_broker_lag_seconds",
            "Time from a probe's publish on a node to its arrival on this one.",
            ["origin"], buckets=LATENCY_BUCKETS, registry=registry,
        )
        self._own = histogram.labels("self")
        self._other = histogram.labels("other")
        self._node = str(getattr(broker, "node_id", ""))
        self._loop: Optional[LoopingCall] = None
        self._reactor = reactor

    def start(self) -> None:
        """
        Listen for probes and start sending them.
        """
        self.broker.listen(TOPIC, self.received)
        self._loop = LoopingCall(self.probe)
        self._loop.clock = self._reactor
        self._loop.start(self.interval, now=False)

    def stop(self) -> None:
        """
        Stop sending and listening.
        """
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None
        self.broker.unlisten(TOPIC, self.received)

    def probe(self) -> None:
        """
        Publish one probe; while the broker is unreachable there is
        nothing to measure, and nothing is retried.
        """
        payload = json.dumps({"node": self._node, "t": self.clock()}).encode("utf-8")
        self.broker.publish(TOPIC, payload).addErrback(lambda _: None)

    def received(self, payload: bytes) -> None:
        """
        Time a probe that arrived; anything else on the topic is ignored.
        """
        try:
            probe = json.loads(payload)
            sent = float(probe["t"])
            node = probe["node"]
        except (ValueError, TypeError, KeyError):
            return
        lag = max(self.clock() - sent, 0.0)
        (self._own if node == self._node else self._other).observe(lag)
