"""
Integration tests of the metrics: a whole server on loopback ports, real
WebSocket clients and the real HTTP backend API, and ``/metrics`` scraped
over HTTP and read with ``prometheus_client``'s parser.
"""

from typing import Any, List

import treq
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from snorky.limits import PortLimits
from snorky.ops import OpsOptions
from test.ops.servers import OpsServer
from test.wsclient import WSTestClient, connect

#: The families ``/metrics`` must always show (the issue's list).
FAMILIES = [
    "snorky_connections_open", "snorky_connections_opened", "snorky_connections_closed",
    "snorky_frames_received", "snorky_received_bytes", "snorky_frames_sent",
    "snorky_sent_bytes", "snorky_messages_received", "snorky_messages_sent",
    "snorky_rpc_calls", "snorky_rpc_duration_seconds",
    "snorky_datasync_subscriptions", "snorky_datasync_deltas_published",
    "snorky_datasync_deliveries", "snorky_datasync_translations",
    "snorky_datasync_expirations", "snorky_datasync_replays",
    "snorky_datasync_publish_latency_seconds",
    "snorky_pubsub_channels", "snorky_pubsub_subscriptions", "snorky_chat_channels",
    "snorky_chat_members", "snorky_messaging_participants", "snorky_cursors",
    "snorky_slow_consumers_dropped", "snorky_connections_refused",
    "snorky_sockjs_sessions", "snorky_backend_requests", "snorky_gc_pause_seconds",
    "process_resident_memory_bytes", "process_cpu_seconds", "process_open_fds",
    "snorky_port_listening", "snorky_sockets_open",
]


def settle() -> Any:
    """
    Let the WebSocket factory's timed flush (``write_delay``) happen.
    """
    return deferLater(reactor, 0.1, lambda: None)


class MetricsIntegrationTests(TestCase):
    """
    Counters and gauges change by exactly what real clients did.
    """

    timeout = 60

    def setUp(self) -> None:
        self.server = OpsServer()
        self.addCleanup(self.server.stop)

    async def clients(self, count: int) -> List[WSTestClient]:
        clients = []
        for _ in range(count):
            client = await connect(self.server.urls["ws"])
            self.addCleanup(lambda c=client: None if c.closed.called else c.close())
            clients.append(client)
        return clients

    async def test_every_family(self) -> None:
        """
        A scrape of an idle server shows every family the operations
        page documents.
        """
        metrics = await self.server.metrics()
        missing = [name for name in FAMILIES if name not in metrics.families]
        self.assertEqual(missing, [])

    async def test_connections_and_pubsub(self) -> None:
        """
        Three WebSocket clients subscribing to a channel and five backend
        publishes move connections, RPC, message, frame, PubSub and
        backend counters by exactly what happened.
        """
        before = await self.server.metrics()
        clients = await self.clients(3)
        for client in clients:
            answer = await client.call("pubsub", "subscribe", channel="news")
            self.assertEqual(answer["type"], "response")
        for n in range(5):
            answer = await self.server.backend("pubsub_backend", "publish",
                                               channel="news", message=n)
            self.assertEqual(answer["message"]["type"], "response")
        for client in clients:
            for _ in range(5):
                await client.next_notification()
        await settle()
        after = await self.server.metrics()

        def moved(name: str, **labels: str) -> float:
            return after.value(name, **labels) - before.value(name, **labels)

        ws = {"port": "frontend", "transport": "websocket"}
        self.assertEqual(after.value("snorky_connections_open", **ws), 3)
        self.assertEqual(moved("snorky_connections_opened_total", **ws), 3)
        self.assertEqual(moved("snorky_frames_received_total", **ws), 3)
        # 3 responses and 15 messages.
        self.assertEqual(moved("snorky_frames_sent_total", **ws), 18)
        self.assertEqual(
            moved("snorky_messages_sent_total", registry="frontend", service="pubsub"), 18
        )
        self.assertEqual(
            moved("snorky_messages_received_total", port="frontend", service="pubsub"), 3
        )
        self.assertEqual(moved("snorky_rpc_calls_total", registry="frontend",
                               service="pubsub", command="subscribe", outcome="ok"), 3)
        self.assertEqual(moved("snorky_rpc_calls_total", registry="backend",
                               service="pubsub_backend", command="publish",
                               outcome="ok"), 5)
        self.assertEqual(moved("snorky_rpc_duration_seconds_count", registry="backend",
                               service="pubsub_backend", command="publish"), 5)
        self.assertEqual(after.value("snorky_pubsub_channels", registry="frontend",
                                     service="pubsub"), 1)
        self.assertEqual(after.value("snorky_pubsub_subscriptions", registry="frontend",
                                     service="pubsub"), 3)
        self.assertEqual(moved("snorky_backend_requests_total", port="backend",
                               code="200"), 5)
        self.assertEqual(moved("snorky_connections_opened_total", port="backend",
                               transport="http"), 5)
        self.assertGreater(moved("snorky_received_bytes_total", port="backend",
                                 transport="http"), 5 * 80)
        self.assertEqual(moved("snorky_frames_sent_total", port="backend", transport="http"), 5)
        self.assertGreater(moved("snorky_sent_bytes_total", port="backend", transport="http"),
                           5 * 60)
        self.assertGreater(moved("snorky_sent_bytes_total", **ws), 18 * 40)

        for client in clients:
            await client.close()
        await settle()
        closed = await self.server.metrics()
        self.assertEqual(closed.value("snorky_connections_open", **ws), 0)
        self.assertEqual(closed.value("snorky_connections_closed_total", **ws)
                         - before.value("snorky_connections_closed_total", **ws), 3)
        self.assertEqual(closed.value("snorky_pubsub_channels", registry="frontend",
                                      service="pubsub"), 0)

    async def test_outcomes(self) -> None:
        """
        A bad command, bad params and a command's own error are counted
        as bad_input, bad_input and error; a wrong backend key as a 401.
        """
        (client,) = await self.clients(1)
        await client.call("pubsub", "fly")
        await client.call("pubsub", "subscribe", nope=1)
        await client.call("pubsub", "unsubscribe", channel="never")
        self.assertEqual(await self.server.backend("pubsub_backend", "publish",
                                                   key="wrong", channel="a", message=1), 401)
        metrics = await self.server.metrics()
        pubsub = {"registry": "frontend", "service": "pubsub"}
        self.assertEqual(metrics.value("snorky_rpc_calls_total", command="unknown",
                                       outcome="bad_input", **pubsub), 1)
        self.assertEqual(metrics.value("snorky_rpc_calls_total", command="subscribe",
                                       outcome="bad_input", **pubsub), 1)
        self.assertEqual(metrics.value("snorky_rpc_calls_total", command="unsubscribe",
                                       outcome="error", **pubsub), 1)
        self.assertEqual(metrics.value("snorky_backend_requests_total", port="backend",
                                       code="401"), 1)
        self.assertNotIn("fly", metrics.text)

    async def test_datasync(self) -> None:
        """
        Two subscribers and three deltas (one an update moving the item
        out of one subscription's view) move the DataSync counters, the
        subscription gauges and the publish latency histogram.
        """
        first, second = await self.clients(2)
        for client, item in ((first, ["all_items", None]),
                             (second, ["items_by_colour", "red"])):
            answer = await self.server.backend(
                "datasync_backend", "authorizeSubscription",
                items=[{"dealer": item[0], "query": item[1]}])
            token = answer["message"]["data"]
            reply = await client.call("datasync", "acquireSubscription", token=token)
            self.assertEqual(reply["type"], "response")
        deltas = [
            {"type": "insert", "model": "Item", "data": {"id": 1, "colour": "red"}},
            {"type": "update", "model": "Item", "newData": {"id": 1, "colour": "blue"},
             "oldData": {"id": 1, "colour": "red"}},
        ]
        for delta in deltas:
            await self.server.backend("datasync_backend", "publishDeltas", deltas=[delta])
        # first: insert, update; second: insert, delete (translated).
        for client in (first, second):
            for _ in range(2):
                await client.next_notification()
        await settle()
        metrics = await self.server.metrics()
        ds = {"registry": "frontend", "service": "datasync"}
        self.assertEqual(metrics.value("snorky_datasync_deltas_published_total", **ds), 2)
        self.assertEqual(metrics.value("snorky_datasync_deliveries_total", **ds), 4)
        self.assertEqual(metrics.value("snorky_datasync_translations_total",
                                       kind="delete", **ds), 1)
        self.assertEqual(metrics.value("snorky_datasync_subscriptions", dealer="all_items",
                                       state="active", **ds), 1)
        self.assertEqual(metrics.value("snorky_datasync_subscriptions",
                                       dealer="items_by_colour", state="active", **ds), 1)
        self.assertEqual(metrics.value("snorky_datasync_publish_latency_seconds_count",
                                       service="datasync"), 2)
        self.assertGreater(metrics.value("snorky_datasync_publish_latency_seconds_sum",
                                         service="datasync"), 0)


class ProtectedOpsTests(TestCase):
    """
    An ops port with a key and basic auth.
    """

    def setUp(self) -> None:
        self.server = OpsServer(OpsOptions(key="s3cret-ops-key", basic_auth="me:pw-0123"))
        self.addCleanup(self.server.stop)

    async def get(self, path: str, **kwargs: Any) -> Any:
        response = await treq.get(self.server.urls["ops"] + path, persistent=False, **kwargs)
        await response.content()
        return response.code

    async def test_credentials(self) -> None:
        """
        /metrics answers 401 without credentials or with wrong ones, 200
        with the key or the user and password.
        """
        self.assertEqual(await self.get("/metrics"), 401)
        self.assertEqual(await self.get(
            "/metrics", headers={"Authorization": "Bearer wrong"}), 401)
        self.assertEqual(await self.get(
            "/metrics", headers={"Authorization": "Bearer s3cret-ops-key"}), 200)
        self.assertEqual(await self.get("/metrics", auth=("me", "pw-0123")), 200)
        self.assertEqual(await self.get("/metrics", auth=("me", "nope")), 401)
        self.assertEqual(await self.get("/", auth=("me", "pw-0123")), 200)

    async def test_probes_stay_open(self) -> None:
        """
        /healthz and /readyz answer without credentials.
        """
        self.assertEqual(await self.get("/healthz"), 200)
        self.assertEqual(await self.get("/readyz"), 200)


class LimitsIntegrationTests(TestCase):
    """
    Refusals, slow consumers and SockJS sessions, with real clients.
    """

    timeout = 60

    async def test_refused_by_max_connections(self) -> None:
        """
        A WebSocket handshake beyond max_connections is refused and
        counted under its limit.
        """
        server = OpsServer(max_connections=1)
        self.addCleanup(server.stop)
        client = await connect(server.urls["ws"])
        self.addCleanup(client.close)
        refused = connect(server.urls["ws"])
        with self.assertRaises(Exception):
            await refused
        metrics = await server.metrics()
        self.assertEqual(metrics.value("snorky_connections_refused_total", port="frontend",
                                       limit="max_connections"), 1)
        self.assertEqual(metrics.value("snorky_connections_open", port="frontend",
                                       transport="websocket"), 1)

    async def test_refused_by_port_limit(self) -> None:
        """
        A connection beyond the port's per-address limit is refused at
        the socket and counted; open sockets are shown.
        """
        server = OpsServer(limits=PortLimits(max_connections_per_address=1))
        self.addCleanup(server.stop)
        client = await connect(server.urls["ws"])
        self.addCleanup(client.close)
        with self.assertRaises(Exception):
            await connect(server.urls["ws"])
        metrics = await server.metrics()
        self.assertEqual(metrics.value("snorky_connections_refused_total", port="frontend",
                                       limit="port_max_connections_per_address"), 1)
        self.assertEqual(metrics.value("snorky_sockets_open", port="frontend"), 1)

    async def test_slow_consumer(self) -> None:
        """
        A client that stops reading is dropped as a slow consumer, and
        counted.
        """
        server = OpsServer(max_write_buffer=4096)
        self.addCleanup(server.stop)
        client = await connect(server.urls["ws"])
        self.addCleanup(lambda: None if client.closed.called else client.close())
        await client.call("pubsub", "subscribe", channel="big")
        client.protocol.transport.pauseProducing()
        payload = "x" * 65536
        for _ in range(200):
            await server.backend("pubsub_backend", "publish", channel="big", message=payload)
            metrics = await server.metrics()
            if metrics.value("snorky_slow_consumers_dropped_total", port="frontend",
                             transport="websocket"):
                break
        self.assertEqual(metrics.value("snorky_slow_consumers_dropped_total",
                                       port="frontend", transport="websocket"), 1)
        client.protocol.transport.resumeProducing()
        await client.closed
        await settle()

    async def test_sockjs_sessions(self) -> None:
        """
        A SockJS session opened by xhr polling shows as an xhr session and
        as a connection of transport sockjs_xhr.
        """
        server = OpsServer()
        self.addCleanup(server.stop)
        response = await treq.post(server.urls["sockjs"] + "/000/opsession/xhr",
                                   persistent=False)
        self.assertEqual(await response.text(), "o\n")
        metrics = await server.metrics()
        self.assertEqual(metrics.value("snorky_sockjs_sessions", port="frontend",
                                       transport="xhr"), 1)
        self.assertEqual(metrics.value("snorky_connections_open", port="frontend",
                                       transport="sockjs_xhr"), 1)
