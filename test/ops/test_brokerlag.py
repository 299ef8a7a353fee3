"""
Tests for snorky.ops.brokerlag: probes through a shared in-process broker,
on a ``Clock``.
"""

import json
from typing import Any, Dict

from prometheus_client import CollectorRegistry
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.broker.local import InProcessBroker
from snorky.ops.brokerlag import BrokerLag


def lag_samples(registry: CollectorRegistry) -> Dict[Any, float]:
    return {
        (sample.name, sample.labels.get("origin")): sample.value
        for family in registry.collect() for sample in family.samples
    }


class BrokerLagTests(TestCase):
    """
    Two nodes sharing one broker.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.now = [1000.0]
        first = InProcessBroker(shared=True, node_id="a", reactor=self.clock)
        second = first.another_node("b")
        self.registries = [CollectorRegistry(), CollectorRegistry()]
        self.lags = [
            BrokerLag(broker, registry, self.clock, interval=5, clock=lambda: self.now[0])
            for broker, registry in zip((first, second), self.registries)
        ]
        for lag in self.lags:
            lag.start()
            self.addCleanup(lag.stop)

    def count(self, node: int, origin: str) -> float:
        return lag_samples(self.registries[node])[("snorky_broker_lag_seconds_count", origin)]

    def test_probes(self) -> None:
        """
        Every interval each node's probe reaches both nodes: once as its
        own, once as the other's.
        """
        self.clock.advance(5)
        for node in (0, 1):
            self.assertEqual(self.count(node, "self"), 1)
            self.assertEqual(self.count(node, "other"), 1)
        self.clock.advance(5)
        self.assertEqual(self.count(0, "other"), 2)

    def test_lag(self) -> None:
        """
        A probe sent 250 ms ago is observed as 250 ms; one from the future
        (a clock ahead) as 0.
        """
        self.lags[0].received(json.dumps({"node": "b", "t": 999.75}).encode())
        self.lags[0].received(json.dumps({"node": "b", "t": 1003.0}).encode())
        samples = lag_samples(self.registries[0])
        self.assertAlmostEqual(samples[("snorky_broker_lag_seconds_sum", "other")], 0.25)
        self.assertEqual(samples[("snorky_broker_lag_seconds_count", "other")], 2)

    def test_garbage_ignored(self) -> None:
        """
        Anything on the topic that is not a probe is ignored.
        """
        for payload in (b"nonsense", b"[]", b'{"node": "b"}', b'{"node": "b", "t": "x"}'):
            self.lags[0].received(payload)
        self.assertEqual(self.count(0, "other"), 0)

    def test_unavailable(self) -> None:
        """
        While the broker is down, probes fail quietly and nothing is
        observed.
        """
        self.lags[0].broker.available = False
        self.clock.advance(5)
        self.assertEqual(self.count(0, "self"), 0)
        self.assertEqual(self.count(1, "other"), 0)
        self.assertEqual(self.count(1, "self"), 1)

    def test_stop(self) -> None:
        """
        A stopped node neither sends nor listens.
        """
        self.lags[1].stop()
        self.clock.advance(5)
        self.assertEqual(self.count(1, "self"), 0)
        self.assertEqual(self.count(0, "other"), 0)
        self.assertEqual(self.count(0, "self"), 1)
        self.assertEqual(self.count(1, "other"), 0)
