"""
Tests for snorky.ops.metrics: what the collector reads from services and
ports, RPC outcomes and timings, and the publish latency; on fakes
(``Clock``, recording clients) and the real services.
"""

import gc
from typing import Any, Dict, List, Tuple

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.ops.metrics import Metrics, outcome_of
from snorky.registry import ServiceRegistry
from snorky.services import base
from snorky.services.chat import ChatService
from snorky.services.cursors import CursorsService
from snorky.services.datasync import DataSyncBackend, DataSyncService
from snorky.services.datasync.deltas import InsertionDelta
from snorky.services.messaging import MessagingService
from snorky.services.pubsub import PubSubService
from snorky.transports.websocket import SnorkyWebSocketFactory
from test.helpers import RecordingClient
from test.services.datasync.test_service import AllPlayers, PlayerById


class FakeTime:
    """
    A ``perf_counter`` stand-in that moves only when told.
    """

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def samples(metrics: Metrics) -> Dict[Tuple[str, Tuple[Tuple[str, str], ...]], float]:
    """
    Every sample of a scrape, by name and sorted labels.
    """
    out = {}
    for family in metrics.registry.collect():
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return samples(metrics).get((name, tuple(sorted(labels.items()))), 0.0)


def call(registry: ServiceRegistry, client: RecordingClient, service: str,
         command: str, **params: Any) -> Any:
    registry.process_message_from(
        client, service, {"command": command, "params": params, "callId": 1}
    )
    return client.messages(service)[-1]


class OutcomeTests(TestCase):
    """
    The ``outcome`` label of an answered call.
    """

    def test_outcomes(self) -> None:
        """
        Responses are ok; unusable calls bad_input; other errors error.
        """
        self.assertEqual(outcome_of(None), "ok")
        for text in ("Unknown command", "Invalid params", "Invalid message",
                     'Missing field "token"', "Invalid query"):
            self.assertEqual(outcome_of(text), "bad_input", text)
        for text in ("Internal error", "Not subscribed", "No such subscription"):
            self.assertEqual(outcome_of(text), "error", text)


class ServiceGaugeTests(TestCase):
    """
    Gauges read from the services' own tables at scrape time.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.registry = ServiceRegistry([
            PubSubService("pubsub"), ChatService("chat", clock=self.clock),
            MessagingService("messaging"), CursorsService("cursors"),
        ])
        self.metrics = Metrics(self.clock, FakeTime())
        self.metrics.watch_registry("frontend", self.registry)
        self.addCleanup(self.metrics.stop)

    def client(self, identity: Any = None) -> RecordingClient:
        client = RecordingClient()
        client.identity = identity
        self.registry.client_connected(client)
        return client

    def test_gauges(self) -> None:
        """
        Channels, subscriptions, members, participants and cursors are
        what the clients made, and drop when they leave.
        """
        alice, bob = self.client("alice"), self.client("bob")
        for client in (alice, bob):
            call(self.registry, client, "pubsub", "subscribe", channel="a")
            call(self.registry, client, "chat", "join", channel="room")
        call(self.registry, alice, "pubsub", "subscribe", channel="b")
        call(self.registry, alice, "messaging", "registerParticipant", name="Alice")
        call(self.registry, alice, "cursors", "join", document="doc")
        reply = call(self.registry, alice, "cursors", "createCursor", document="doc",
                     privateHandle=1, position=0, status=None)
        self.assertEqual(reply["type"], "response", reply)
        labels = {"registry": "frontend"}
        m = self.metrics
        self.assertEqual(value(m, "snorky_pubsub_channels", service="pubsub", **labels), 2)
        self.assertEqual(value(m, "snorky_pubsub_subscriptions", service="pubsub", **labels), 3)
        self.assertEqual(value(m, "snorky_chat_channels", service="chat", **labels), 1)
        self.assertEqual(value(m, "snorky_chat_members", service="chat", **labels), 2)
        self.assertEqual(value(m, "snorky_messaging_participants", service="messaging",
                               **labels), 1)
        self.assertEqual(value(m, "snorky_cursors", service="cursors", **labels), 1)
        self.assertEqual(value(m, "snorky_cursors_documents", service="cursors", **labels), 1)
        for client in (alice, bob):
            self.registry.client_disconnected(client)
        self.assertEqual(value(m, "snorky_pubsub_channels", service="pubsub", **labels), 0)
        self.assertEqual(value(m, "snorky_chat_members", service="chat", **labels), 0)
        self.assertEqual(value(m, "snorky_cursors", service="cursors", **labels), 0)

    def test_rpc_calls(self) -> None:
        """
        Calls are counted by command and outcome and timed from arrival
        to answer; a made-up command is labelled ``unknown``.
        """
        client = self.client()
        call(self.registry, client, "pubsub", "subscribe", channel="a")
        call(self.registry, client, "pubsub", "subscribe", channel="a")
        call(self.registry, client, "pubsub", "no-such-command")
        labels = {"registry": "frontend", "service": "pubsub"}
        m = self.metrics
        self.assertEqual(value(m, "snorky_rpc_calls_total", command="subscribe",
                               outcome="ok", **labels), 1)
        self.assertEqual(value(m, "snorky_rpc_calls_total", command="subscribe",
                               outcome="error", **labels), 1)
        self.assertEqual(value(m, "snorky_rpc_calls_total", command="unknown",
                               outcome="bad_input", **labels), 1)
        self.assertEqual(value(m, "snorky_rpc_duration_seconds_count",
                               command="subscribe", **labels), 2)

    def test_stop(self) -> None:
        """
        Once stopped, the services no longer report calls.
        """
        self.metrics.stop()
        self.assertIsNone(self.registry.services["pubsub"].rpc_observer)


class _FlushingFactory:
    """
    Stands for a WebSocket factory with a write round pending at *delay*.
    """

    def __init__(self, clock: Clock, delay: float) -> None:
        self.writes = self
        self._call = clock.callLater(delay, lambda: None)

    def last_call(self) -> Any:
        return self._call if self._call.active() else None


class DataSyncMetricsTests(TestCase):
    """
    DataSync's counters, gauges and publish latency.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.time = FakeTime()
        self.frontend = DataSyncService(
            "datasync", [AllPlayers, PlayerById], grace_period=5, max_buffer=1,
            max_replay=1, reactor=self.clock,
        )
        self.backend = DataSyncBackend("datasync_backend", self.frontend, timeout_interval=10)
        self.front = ServiceRegistry([self.frontend])
        self.back = ServiceRegistry([self.backend])
        self.metrics = Metrics(self.clock, self.time)
        # Requests take their arrival time from the same fake clock.
        self.patch(base, "_now", self.time)
        self.metrics.watch_registry("frontend", self.front)
        self.metrics.watch_registry("backend", self.back)
        self.addCleanup(self.metrics.stop)
        self.addCleanup(self.end)

    def end(self) -> None:
        for subscription in list(self.frontend.subscriptions.values()):
            self.frontend.cancel(subscription)

    def authorize(self, dealer: str = "AllPlayers", query: Any = None) -> str:
        client = RecordingClient()
        reply = call(self.back, client, "datasync_backend", "authorizeSubscription",
                     items=[{"dealer": dealer, "query": query}])
        return reply["data"]

    def expired(self, reason: str) -> float:
        return value(self.metrics, "snorky_datasync_expirations_total", reason=reason,
                     registry="frontend", service="datasync")

    def subscriptions(self, dealer: str, state: str) -> float:
        return value(self.metrics, "snorky_datasync_subscriptions", dealer=dealer,
                     state=state, registry="frontend", service="datasync")

    def test_states(self) -> None:
        """
        Subscriptions are counted per dealer and state; every dealer shows
        even with none.
        """
        self.authorize()
        token = self.authorize("PlayerById", 1)
        client = RecordingClient()
        call(self.front, client, "datasync", "acquireSubscription", token=token)
        self.assertEqual(self.subscriptions("AllPlayers", "awaiting"), 1)
        self.assertEqual(self.subscriptions("PlayerById", "active"), 1)
        self.assertEqual(self.subscriptions("PlayerById", "awaiting"), 0)
        self.front.client_disconnected(client)
        self.assertEqual(self.subscriptions("PlayerById", "detached"), 1)

    def test_expirations(self) -> None:
        """
        Each way a subscription expires has its reason: not acquired in
        time, grace period over, buffer full, replay log too short.
        """
        self.authorize()
        self.clock.advance(10)
        self.assertEqual(self.expired("not_acquired"), 1)

        client = RecordingClient()
        call(self.front, client, "datasync", "acquireSubscription", token=self.authorize())
        self.front.client_disconnected(client)
        self.clock.advance(5)
        self.assertEqual(self.expired("grace_ended"), 1)

        self.authorize()
        self.frontend.publish_deltas([InsertionDelta("Player", {"id": n}) for n in (1, 2)])
        self.assertEqual(self.expired("buffer_full"), 1)
        self.clock.advance(10)
        self.assertEqual(self.expired("not_acquired"), 1)

        token = self.authorize()
        first = RecordingClient()
        call(self.front, first, "datasync", "acquireSubscription", token=token)
        self.frontend.publish_deltas([InsertionDelta("Player", {"id": n}) for n in (3, 4)])
        self.front.client_disconnected(first)
        second = RecordingClient()
        reply = call(self.front, second, "datasync", "acquireSubscription", token=token,
                     after=0)
        self.assertEqual(reply["message"], "Subscription expired")
        self.assertEqual(self.expired("replay_gap"), 1)

    def test_deliveries_and_replays(self) -> None:
        """
        Deltas published, deliveries and replays are counted.
        """
        token = self.authorize()
        clients = [RecordingClient()]
        call(self.front, clients[0], "datasync", "acquireSubscription", token=token)
        call(self.front, RecordingClient(), "datasync", "acquireSubscription",
             token=self.authorize())
        self.frontend.publish_deltas([InsertionDelta("Player", {"id": 1})])
        self.front.client_disconnected(clients[0])
        reply = call(self.front, RecordingClient(), "datasync", "acquireSubscription",
                     token=token, after=1)
        self.assertEqual(reply["type"], "response")
        labels = {"registry": "frontend", "service": "datasync"}
        m = self.metrics
        self.assertEqual(value(m, "snorky_datasync_deltas_published_total", **labels), 1)
        self.assertEqual(value(m, "snorky_datasync_deliveries_total", **labels), 2)
        self.assertEqual(value(m, "snorky_datasync_replays_total", **labels), 1)

    def test_publish_latency_waits_for_flush(self) -> None:
        """
        The publish latency runs from the call's arrival until just after
        the pending WebSocket flush that writes its frames.
        """
        port, _ = self.metrics.watch_port("frontend", ("websocket",), self.front)
        port.websocket = _FlushingFactory(self.clock, 0.02)
        client = RecordingClient()
        call(self.back, client, "datasync_backend", "publishDeltas",
             deltas=[{"type": "insert", "model": "Player", "data": {"id": 1}}])
        count = ("snorky_datasync_publish_latency_seconds_count", (("service", "datasync"),))
        self.assertEqual(samples(self.metrics)[count], 0)
        self.time.now += 0.025
        self.clock.advance(0.021)
        self.assertEqual(samples(self.metrics)[count], 1)
        total = ("snorky_datasync_publish_latency_seconds_sum", (("service", "datasync"),))
        self.assertAlmostEqual(samples(self.metrics)[total], 0.025)

    def test_publish_latency_without_flush(self) -> None:
        """
        With no flush pending (frames written at once), the latency is
        observed when the call is answered.
        """
        client = RecordingClient()
        call(self.back, client, "datasync_backend", "publishDeltas", deltas=[])
        count = ("snorky_datasync_publish_latency_seconds_count", (("service", "datasync"),))
        self.assertEqual(samples(self.metrics)[count], 1)

    def test_factory_flush_call(self) -> None:
        """
        The WebSocket factory tells the publish latency its pending write
        round through ``writes.last_call()``: none while nothing is queued.
        """
        factory = SnorkyWebSocketFactory(ServiceRegistry(), reactor=self.clock)
        self.assertIsNone(factory.writes.last_call())
        for name in ("frames_out", "bytes_out", "slow_consumers_dropped",
                     "connections_refused"):
            self.assertEqual(getattr(factory, name), 0, name)


class SockJSTableTests(TestCase):
    """
    What the collector reads of a SockJS resource's session table.
    """

    def test_names(self) -> None:
        """
        The table still has the tables and counts the collector reads (it
        reads some private names: this test fails if they change).
        """
        from snorky.transports.sockjs import sockjs_resource

        table = sockjs_resource(ServiceRegistry(), reactor=Clock()).sessions
        self.assertEqual(table._by_id, {})
        self.assertEqual(len(table._raw), 0)
        self.assertEqual((table.websocket_sessions, table.refused,
                          table.slow_consumers_dropped), (0, 0, 0))


class GCPausesTests(TestCase):
    """
    Garbage-collection pauses, timed through ``gc.callbacks``.
    """

    def test_collections_timed(self) -> None:
        """
        A full collection while started is observed in generation 2;
        none after stopping.
        """
        metrics = Metrics(Clock())
        metrics.start()
        self.addCleanup(metrics.stop)
        key = ("snorky_gc_pause_seconds_count", (("generation", "2"),))
        before = samples(metrics)[key]
        gc.collect()
        self.assertEqual(samples(metrics)[key], before + 1)
        metrics.stop()
        gc.collect()
        self.assertEqual(samples(metrics)[key], before + 1)
