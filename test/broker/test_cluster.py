"""
The cluster end to end: a real redis-server and two or three real
``twistd -n snorky`` nodes on loopback, with WebSocket clients, snorky.js
in Node, and the HTTP backend.
"""

import json
import os
from typing import Any, List

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.protocol import ProcessProtocol
from twisted.trial.unittest import TestCase

from test.cluster import Cluster, Node, until
from test.redisserver import RedisServer
from test.wsclient import connect

HERE = os.path.dirname(os.path.abspath(__file__))


class _Lines(ProcessProtocol):
    """
    Collects the JSON lines a Node script prints.
    """

    def __init__(self) -> None:
        self.events: List[Any] = []
        self.errors = b""
        self.ended: Deferred = Deferred()
        self._buffer = b""

    def outReceived(self, data: bytes) -> None:
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            self.events.append(json.loads(line))

    def errReceived(self, data: bytes) -> None:
        self.errors += data

    def processEnded(self, reason: Any) -> None:
        self.ended.callback(None)

    def named(self, name: str) -> List[Any]:
        return [e for e in self.events if e.get("event") == name]


def run_client(case: TestCase, **options: Any) -> _Lines:
    """
    Start cluster_client.js with *options*; killed at cleanup.
    """
    proto = _Lines()
    transport = reactor.spawnProcess(
        proto, "node", ["node", os.path.join(HERE, "cluster_client.js"), json.dumps(options)],
        env=dict(os.environ),
    )

    def stop() -> Any:
        if not proto.ended.called:
            transport.signalProcess("KILL")
            return proto.ended
        return None

    case.addCleanup(stop)
    return proto


class CrossNodeTests(TestCase):
    """
    PubSub and DataSync across three nodes.
    """

    timeout = 120

    async def test_pubsub_across_nodes(self) -> None:
        """
        Publishes on A (backend) and B (browser) reach subscribers on A, B and C once each, in order.
        """
        cluster = Cluster(self, count=3)
        await cluster.start()
        a, b, c = cluster.nodes
        clients = [await connect(node.ws_url) for node in cluster.nodes]
        for client in clients:
            self.assertEqual((await client.call("pubsub", "subscribe", channel="news"))["type"],
                             "response")
        for n in range(5):
            await a.ok("pubsub_backend", "publish", channel="news", message=n)
        reply = await clients[1].call("pubsub", "publish", channel="news", message="from b")
        self.assertEqual(reply["type"], "response")
        for client in clients:
            got = [(await client.next_notification())["message"]["message"] for _ in range(6)]
            self.assertEqual(got, [0, 1, 2, 3, 4, "from b"])
        for client in clients:
            await client.close()

    async def test_authorize_publish_acquire_on_three_nodes(self) -> None:
        """
        Authorized on A, deltas published on B, acquired on C: the browser gets them in order, then live ones.
        """
        cluster = Cluster(self, count=3)
        await cluster.start()
        a, b, c = cluster.nodes
        token = await a.authorize()
        self.assertEqual((await b.publish_players([1, 2]))[0], 200)
        browser = await connect(c.ws_url)
        self.assertEqual(
            (await browser.call("datasync", "acquireSubscription", token=token))["type"], "response"
        )
        await a.publish_players([3])
        got = [(await browser.next_notification())["message"] for _ in range(3)]
        self.assertEqual([m["delta"]["data"]["id"] for m in got], [1, 2, 3])
        self.assertEqual([m["seq"] for m in got], [1, 2, 3])
        # The token is held: nobody else, on any node, may acquire it.
        other = await connect(a.ws_url)
        reply = await other.call("datasync", "acquireSubscription", token=token)
        self.assertEqual(reply["message"], "Subscription already acquired")
        await browser.close()
        await other.close()

    async def test_snorkyjs_cut_and_reacquired_elsewhere(self) -> None:
        """
        snorky.js cut every 70 deltas reconnects to the next node and gets all 320 exactly once, in order.
        """
        cluster = Cluster(self, count=3)
        await cluster.start()
        a, b, c = cluster.nodes
        token = await a.authorize()
        client = run_client(self, urls=[n.ws_url for n in cluster.nodes], token=token,
                            expect=320, cut=70)
        await until(lambda: client.named("acquired"))
        for batch in range(32):
            node = cluster.nodes[batch % 3]
            code, body = await node.publish_players(list(range(batch * 10, batch * 10 + 10)))
            self.assertEqual(code, 200, body)
        await client.ended.addTimeout(60, reactor)
        [done] = client.named("done")
        self.assertEqual(done["ids"], list(range(320)), client.events[:20])
        self.assertGreaterEqual(len(client.named("cut")), 4)
        self.assertEqual(client.named("expired"), [])


def player_ids(messages: List[Any]) -> List[int]:
    return [m["message"]["delta"]["data"]["id"] for m in messages]


class FailureTests(TestCase):
    """
    Nodes killed, Redis stopped, history trimmed.
    """

    timeout = 120

    async def test_kill_9_node_under_load(self) -> None:
        """
        A node killed with kill -9 under load: its browser resumes on another node, nothing lost or repeated.
        """
        cluster = Cluster(self, count=3)
        await cluster.start()
        a, b, c = cluster.nodes
        token = await b.authorize()
        client = run_client(self, urls=[n.ws_url for n in cluster.nodes], token=token,
                            expect=300)
        await until(lambda: client.named("acquired"))
        for batch in range(30):
            if batch == 12:
                a.kill()
                await a.proto.ended
            code, body = await b.publish_players(list(range(batch * 10, batch * 10 + 10)))
            self.assertEqual(code, 200, body)
        await client.ended.addTimeout(60, reactor)
        [done] = client.named("done")
        self.assertEqual(done["ids"], list(range(300)),
                         [e for e in client.events if e.get("event") != "done"])
        urls = [e["url"] for e in client.named("connected")]
        self.assertEqual(urls[0], a.ws_url)
        self.assertNotIn(a.ws_url, urls[1:])
        for node in (b, c):
            self.assertNotIn("Traceback", node.output)

    async def test_redis_stopped_and_restarted(self) -> None:
        """
        While Redis is down publishes answer 503 and browsers stay connected; after it returns they resume.
        """
        cluster = Cluster(self, count=2)
        await cluster.start()
        a, b = cluster.nodes
        token = await a.authorize()
        browser = await connect(a.ws_url)
        await browser.call("datasync", "acquireSubscription", token=token)
        await b.publish_players(list(range(5)))
        first = [await browser.next_notification() for _ in range(5)]
        self.assertEqual(player_ids(first), list(range(5)))

        cluster.redis.stop()
        await until(lambda: all("lost Redis" in n.output for n in cluster.nodes))
        code, body = await b.publish_players([99])
        self.assertEqual((code, body["message"]["message"]), (503, "Broker unavailable"))
        code, body = await a.call("pubsub_backend", "publish", channel="c", message=1)
        self.assertEqual(code, 503)
        # The browser's connection and node-local services carry on.
        self.assertEqual((await browser.call("pubsub", "subscribe", channel="x"))["type"], "response")

        cluster.redis.start()
        await cluster.connected(times=2)
        await until(lambda: b.output.count("connected to Redis") >= 2)
        code, body = await b.publish_players([5, 6])
        self.assertEqual(code, 200, body)
        resumed = [await browser.next_notification(timeout=10) for _ in range(2)]
        self.assertEqual(player_ids(resumed), [5, 6])
        self.assertEqual([m["message"]["seq"] for m in resumed], [6, 7])
        # Its record was stored again: a cut browser re-acquires on B.
        await browser.close()
        other = await connect(b.ws_url)
        reply = await other.call("datasync", "acquireSubscription", token=token, after=5)
        self.assertEqual(reply["type"], "response", reply)
        self.assertEqual(player_ids([await other.next_notification() for _ in range(2)]), [5, 6])
        await other.close()
        for node in cluster.nodes:
            self.assertEqual(node.output.count("lost Redis"), 1)

    async def test_retention_bound(self) -> None:
        """
        A replay within max_log_length succeeds; one reaching beyond it answers Subscription expired.
        """
        cluster = Cluster(self, count=2, config="[broker]\nmax_log_length = 20\n\n")
        await cluster.start()
        a, b = cluster.nodes
        token = await a.authorize()
        browser = await connect(a.ws_url)
        await browser.call("datasync", "acquireSubscription", token=token)
        await b.publish_players(list(range(5)))
        self.assertEqual(player_ids([await browser.next_notification() for _ in range(5)]),
                         list(range(5)))
        await browser.close()
        await b.publish_players(list(range(5, 15)))
        again = await connect(b.ws_url)
        reply = await again.call("datasync", "acquireSubscription", token=token, after=5)
        self.assertEqual(reply["type"], "response", reply)
        self.assertEqual(player_ids([await again.next_notification() for _ in range(10)]),
                         list(range(5, 15)))
        await again.close()
        await a.publish_players(list(range(15, 40)))
        last = await connect(a.ws_url)
        reply = await last.call("datasync", "acquireSubscription", token=token, after=15)
        self.assertEqual(reply["message"], "Subscription expired")
        await last.close()

    async def test_started_without_redis(self) -> None:
        """
        A node started while Redis is down says so in one line, answers 503, and works once Redis is up.
        """
        cluster = Cluster(self, count=1)
        await cluster.start(redis=False)
        [node] = cluster.nodes
        await until(lambda: "cannot reach Redis" in node.output)
        code, _ = await node.call("pubsub_backend", "publish", channel="c", message=1)
        self.assertEqual(code, 503)
        cluster.redis.start()
        await cluster.connected()
        browser = await connect(node.ws_url)
        await browser.call("pubsub", "subscribe", channel="c")
        await node.ok("pubsub_backend", "publish", channel="c", message=2)
        self.assertEqual((await browser.next_notification())["message"]["message"], 2)
        self.assertEqual(node.output.count("cannot reach Redis"), 1)
        await browser.close()


class PasswordTests(TestCase):
    """
    A Redis that requires a password.
    """

    timeout = 120

    async def test_password_in_url(self) -> None:
        """
        Nodes given the password share PubSub; a node with a wrong one says so in one line and never logs it.
        """
        redis = RedisServer(password="s3cret-redis")
        cluster = Cluster(self, count=2, redis=redis)
        await cluster.start()
        a, b = cluster.nodes
        browser = await connect(b.ws_url)
        await browser.call("pubsub", "subscribe", channel="c")
        await a.ok("pubsub_backend", "publish", channel="c", message="through auth")
        self.assertEqual((await browser.next_notification())["message"]["message"],
                         "through auth")
        await browser.close()

        wrong = Node(redis.url.replace("s3cret-redis", "wrong-one"), "node-x",
                     cluster.config_path)
        cluster.nodes.append(wrong)
        await wrong.start()
        await until(lambda: "refused us" in wrong.output)
        code, _ = await wrong.call("pubsub_backend", "publish", channel="c", message=1)
        self.assertEqual(code, 503)
        self.assertEqual(wrong.output.count("refused us"), 1)
        for node in cluster.nodes:
            self.assertNotIn("s3cret-redis", node.output)
            self.assertNotIn("wrong-one", node.output)
