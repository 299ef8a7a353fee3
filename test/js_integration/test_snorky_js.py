"""
Integration tests of snorky.js: a real Snorky server in this process, on
loopback, and the real client in a Node process (``driver.js``, with the
``ws`` and ``sockjs-client`` packages), reached through a TCP relay the
tests can cut to drop connections mid-stream.
"""

import itertools
import json
import os
import shutil
import subprocess
from typing import Any, Callable, Dict, List, Sequence, Set, cast

from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred, ensureDeferred, inlineCallbacks
from twisted.internet.interfaces import ITCPTransport
from twisted.internet.protocol import ProcessProtocol, connectionDone
from twisted.python.failure import Failure
from twisted.internet.task import deferLater
from twisted.protocols.portforward import ProxyFactory, ProxyServer
from twisted.trial.unittest import TestCase

from snorky import ServiceRegistry
from snorky.services.base import Request, RPCError, RPCService, rpc_asynchronous, rpc_command
from snorky.services.datasync import DataSyncService
from snorky.services.datasync.dealers import SimpleDealer
from snorky.services.datasync.deltas import parse_deltas
from snorky.services.pubsub import PubSubService
from snorky.server import ServerOptions, SnorkySite
from test.helpers import AllPlayers, wait_until

#: The global reactor, untyped: its interfaces type listenTCP and
#: spawnProcess more narrowly than the factories and paths used here.
reactor: Any = _reactor

def _node_major() -> int:
    node = shutil.which("node")
    if node is None:
        return 0
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
    return int(version.lstrip("v").split(".")[0] or 0)


_NODE_MAJOR = _node_major()

DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "driver.js")

#: Seconds any one wait may take before the test fails.
WAIT = 10.0


class CalcService(RPCService):
    """
    A test service: ``add`` answers, ``fail`` errs, ``wait`` never answers.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.waiting: List[Request] = []

    @rpc_command
    def add(self, req: Request, a: Any, b: Any) -> Any:
        return a + b

    @rpc_command
    def fail(self, req: Request) -> None:
        raise RPCError("Nope")

    @rpc_asynchronous
    def wait(self, req: Request) -> None:
        self.waiting.append(req)


class PlayersByColor(SimpleDealer):
    model = "Player"
    key = "color"


class _TrackedProxyServer(ProxyServer):
    def connectionMade(self) -> None:
        cast(CuttableRelay, self.factory).connections.add(self)
        super().connectionMade()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        cast(CuttableRelay, self.factory).connections.discard(self)
        super().connectionLost(reason)


class CuttableRelay(ProxyFactory):
    """
    Relays TCP connections to a server; :meth:`cut` aborts all of them, as
    a network failure would.
    """

    protocol = _TrackedProxyServer

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.connections: Set[_TrackedProxyServer] = set()

    def cut(self) -> int:
        """
        Abort every relayed connection; returns how many there were.
        """
        cut = list(self.connections)
        for server in cut:
            cast(ITCPTransport, server.transport).abortConnection()
            if server.peer is not None:
                cast(ITCPTransport, server.peer.transport).abortConnection()
        return len(cut)


class NodeClient(ProcessProtocol):
    """
    The Node side of a test: sends commands to ``driver.js`` and collects
    what it reports.
    """

    def __init__(self) -> None:
        self.events: List[Dict[str, Any]] = []
        self.stderr = b""
        self.ended: Deferred = Deferred()
        self._buffer = b""
        self._ids = itertools.count(1)

    def outReceived(self, data: bytes) -> None:
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            self.events.append(json.loads(line))

    def errReceived(self, data: bytes) -> None:
        self.stderr += data

    def processEnded(self, reason: Any) -> None:
        self.ended.callback(None)

    def call(self, service: str, method: str, *args: Any) -> Deferred:
        """
        Call ``snorky.services[service][method](*args)`` in Node; fires
        with its answer, ``{"ok": data}`` or ``{"error", "name"}``.
        """
        call_id = next(self._ids)
        command = {"id": call_id, "service": service, "method": method, "args": args}
        assert self.transport is not None
        self.transport.write(json.dumps(command).encode("utf-8") + b"\n")
        return self.wait_until(
            lambda: next((e for e in self.events if e.get("id") == call_id), None),
            "answer to {}.{}{}".format(service, method, args),
        )

    def named(self, event: str) -> List[Dict[str, Any]]:
        """
        The events called *event*, oldest first.
        """
        return [e for e in self.events if e.get("event") == event]

    def wait_until(self, condition: Callable[[], Any], what: str) -> Deferred:
        """
        Fire with the first true value of *condition*, polled every 10 ms,
        or fail after :data:`WAIT` seconds naming the last events.
        """
        return ensureDeferred(
            wait_until(condition, what, WAIT, details=self._last_events)
        )

    def _last_events(self) -> str:
        return "last events: {}; stderr: {}".format(
            self.events[-10:], self.stderr.decode("utf-8", "replace")
        )


class SnorkyJSTests(TestCase):
    """
    snorky.js against a real server, over WebSocket unless a test says
    otherwise.
    """

    timeout = 60

    def setUp(self) -> None:
        self.calc = CalcService("calc")
        self.pubsub = PubSubService("pubsub")
        self.datasync = DataSyncService(
            "datasync", [AllPlayers, PlayersByColor], grace_period=30
        )
        self.start_server(ServiceRegistry([self.calc, self.pubsub, self.datasync]))

    def start_server(self, registry: ServiceRegistry) -> None:
        site = SnorkySite(registry, ["websocket", "sockjs"], ServerOptions(), reactor)
        server = reactor.listenTCP(0, site, interface="127.0.0.1")
        self.relay = CuttableRelay("127.0.0.1", server.getHost().port)
        relay = reactor.listenTCP(0, self.relay, interface="127.0.0.1")
        self.port = relay.getHost().port

        @inlineCallbacks
        def stop() -> Any:
            # Subscriptions outlive their connections for a grace period.
            for subscription in list(self.datasync.subscriptions.values()):
                self.datasync.cancel(subscription)
            self.relay.cut()
            yield relay.stopListening()
            for close in site.closers:
                yield close()
            yield server.stopListening()

        self.addCleanup(stop)

    def start_client(
        self, kind: str = "websocket", build: str = "script", before: Sequence[str] = ()
    ) -> NodeClient:
        """
        Start driver.js with the global build (``script``) or the ES module
        (``module``), given the URLs *before* ahead of the server's.
        """
        node = shutil.which("node")
        if node is None:
            self.fail("node is needed for these tests")
        if kind == "sockjs":
            url = "http://127.0.0.1:{}/sockjs".format(self.port)
        else:
            url = "ws://127.0.0.1:{}/ws".format(self.port)
        # Node 20 has its own WebSocket behind a flag; 22 and later without.
        flags = ["--experimental-websocket"] if kind == "native" and _NODE_MAJOR < 22 else []
        client = NodeClient()
        process = reactor.spawnProcess(
            client, node, [node, *flags, DRIVER, ",".join([*before, url]), kind, build],
            env=os.environ.copy(),
        )

        def stop() -> Deferred:
            if not client.ended.called:
                process.closeStdin()
                killer = reactor.callLater(5, process.signalProcess, "KILL")
                client.ended.addCallback(lambda _: killer.cancel() if killer.active() else None)
            return client.ended

        self.addCleanup(stop)
        return client

    def authorize(self, *items: Any) -> str:
        """
        Authorize a DataSync subscription, as the backend would.
        """
        return self.datasync.authorize_subscription(list(items), timeout=60)

    def publish(self, *deltas: Dict[str, Any]) -> None:
        """
        Publish deltas into DataSync, as the backend would.
        """
        self.datasync.publish_deltas(parse_deltas(list(deltas)))

    @inlineCallbacks
    def connected_client(self, kind: str = "websocket") -> Any:
        client = self.start_client(kind)
        yield client.wait_until(lambda: client.named("connected"), "connection")
        return client

    @inlineCallbacks
    def test_module_build_and_list_of_urls(self) -> Any:
        """
        The package's ES module, given a dead endpoint before the server's,
        moves on to the next one after the backoff, connects, and works:
        an RPC call and a DataSync delta.
        """
        dead = reactor.listenTCP(0, ProxyFactory("127.0.0.1", 1), interface="127.0.0.1")
        dead_url = "ws://127.0.0.1:{}/ws".format(dead.getHost().port)
        yield dead.stopListening()
        client = self.start_client("websocket", "module", before=[dead_url])
        connected = yield client.wait_until(lambda: client.named("connected"), "connection")
        self.assertEqual(connected[0]["url"], "ws://127.0.0.1:{}/ws".format(self.port))
        self.assertEqual(client.named("reconnecting")[0]["attempt"], 1)
        answer = yield client.call("calc", "rpcCall", "add", {"a": 2, "b": 3})
        self.assertEqual(answer["ok"], 5)
        token = self.authorize(("AllPlayers", None))
        answer = yield client.call("datasync", "acquireSubscription", {"token": token})
        self.assertEqual(answer, {"id": answer["id"], "ok": None})
        self.publish({"type": "insert", "model": "Player", "data": {"id": 1, "color": "red"}})
        deltas = yield client.wait_until(lambda: client.named("delta"), "delta")
        self.assertEqual(deltas[0]["delta"]["data"], {"id": 1, "color": "red"})

    @inlineCallbacks
    def test_node_websocket(self) -> Any:
        """
        With Node's own WebSocket class (no ws package), the ES module
        connects and PubSub messages arrive.
        """
        client = self.start_client("native", "module")
        yield client.wait_until(lambda: client.named("connected"), "connection")
        answer = yield client.call("pubsub", "subscribe", {"channel": "news"})
        self.assertEqual(answer["ok"], None)
        self.pubsub.publish("news", "hello")
        messages = yield client.wait_until(lambda: client.named("message"), "message")
        self.assertEqual(messages[0]["message"], "hello")

    @inlineCallbacks
    def test_rpc(self) -> Any:
        """
        RPC calls resolve with the command's answer, or reject with an
        RPCError carrying the server's text, including standard errors.
        """
        client = yield self.connected_client()
        answer = yield client.call("calc", "rpcCall", "add", {"a": 2, "b": 3})
        self.assertEqual(answer["ok"], 5)
        answer = yield client.call("calc", "rpcCall", "fail", {})
        self.assertEqual((answer["name"], answer["error"]), ("RPCError", "Nope"))
        answer = yield client.call("calc", "rpcCall", "nothing", {})
        self.assertEqual(answer["error"], "Unknown command")
        answer = yield client.call("calc", "rpcCall", "add", {"a": 1})
        self.assertEqual(answer["error"], "Invalid params")

    @inlineCallbacks
    def test_calls_before_open_are_queued(self) -> Any:
        """
        A call made right after construction, before the socket opens, is
        sent once it opens and answered.
        """
        client = self.start_client()
        answer = yield client.call("calc", "rpcCall", "add", {"a": "x", "b": "y"})
        self.assertEqual(answer["ok"], "xy")
        self.assertEqual(len(client.named("connected")), 1)

    @inlineCallbacks
    def test_pubsub(self) -> Any:
        """
        A subscribed client receives what it and the server publish on the
        channel, and nothing after unsubscribing.
        """
        client = yield self.connected_client()
        answer = yield client.call("pubsub", "subscribe", {"channel": {"room": 1}})
        self.assertEqual(answer, {"id": answer["id"], "ok": None})
        yield client.call("pubsub", "publish", {"channel": {"room": 1}, "message": "hi"})
        self.pubsub.publish({"room": 1}, {"from": "server"})
        messages = yield client.wait_until(
            lambda: len(client.named("message")) == 2 and client.named("message"),
            "two messages",
        )
        self.assertEqual(
            [m["message"] for m in messages], ["hi", {"from": "server"}]
        )
        answer = yield client.call("pubsub", "unsubscribe", {"channel": {"room": 1}})
        self.assertIn("ok", answer)
        answer = yield client.call("pubsub", "unsubscribe", {"channel": {"room": 1}})
        self.assertEqual(answer["error"], "Not subscribed")

    @inlineCallbacks
    def test_datasync_deltas(self) -> Any:
        """
        Deltas published before and after acquisition reach the client in
        order, translated for a key subscription as its view changes.
        """
        token = self.authorize(("PlayersByColor", "red"))
        self.publish({"type": "insert", "model": "Player", "data": {"id": 1, "color": "red"}})
        client = yield self.connected_client()
        answer = yield client.call("datasync", "acquireSubscription", {"token": token})
        self.assertIn("ok", answer)
        self.publish(
            {"type": "insert", "model": "Player", "data": {"id": 2, "color": "blue"}},
            {"type": "update", "model": "Player",
             "oldData": {"id": 2, "color": "blue"}, "newData": {"id": 2, "color": "red"}},
            {"type": "update", "model": "Player",
             "oldData": {"id": 1, "color": "red"}, "newData": {"id": 1, "color": "green"}},
        )
        deltas = yield client.wait_until(
            lambda: len(client.named("delta")) == 3 and client.named("delta"), "3 deltas"
        )
        self.assertEqual(
            [(d["delta"]["type"], d["delta"].get("data", {}).get("id")) for d in deltas],
            [("insert", 1), ("insert", 2), ("delete", 1)],
        )

    @inlineCallbacks
    def cut(self, client: NodeClient, delivered: int) -> Any:
        """
        Cut the connection once *delivered* deltas have reached the client,
        and wait for the server to see it go, so that what is published
        next is buffered rather than lost in flight.
        """
        yield client.wait_until(
            lambda: len(client.named("delta")) >= delivered, "{} deltas".format(delivered)
        )
        self.assertGreaterEqual(self.relay.cut(), 1)
        yield client.wait_until(
            lambda: not self.datasync.subscriptions_by_client, "the server to see the cut"
        )

    @inlineCallbacks
    def test_reconnect_mid_stream_loses_no_delta(self) -> Any:
        """
        Cutting the connection while deltas stream, without waiting for
        the server to notice, loses none: those written to the dying
        connection are replayed after the one the client saw last, those
        published meanwhile are buffered; every delta arrives exactly once,
        in order, and the PubSub channel is subscribed again too.
        """
        client = yield self.connected_client()
        token = self.authorize(("AllPlayers", None))
        yield client.call("datasync", "acquireSubscription", {"token": token})
        yield client.call("pubsub", "subscribe", {"channel": "news"})
        batches, size = 30, 10
        for batch in range(batches):
            if batch == 20:
                # Cut the second time only once the stream is live again.
                yield client.wait_until(
                    lambda: self.datasync.subscriptions_by_client, "re-acquisition"
                )
            self.publish(*[
                {"type": "insert", "model": "Player", "data": {"id": n}}
                for n in range(batch * size, (batch + 1) * size)
            ])
            if batch == 10:
                # The batch is still in the server's write buffer.
                self.assertGreaterEqual(self.relay.cut(), 1)
            elif batch == 20:
                # The batch has left the server, not reached the client.
                yield deferLater(reactor, 0, lambda: None)
                self.assertGreaterEqual(self.relay.cut(), 1)
            # A batch every 3 ms keeps publishing through each reconnection.
            yield deferLater(reactor, 0.003, lambda: None)
        total = batches * size
        # A sentinel published last arrives last: once it is in, any
        # duplicate of an earlier delta would be in too.
        self.publish({"type": "insert", "model": "Player", "data": {"id": "sentinel"}})
        yield client.wait_until(
            lambda: any(d["delta"]["data"]["id"] == "sentinel" for d in client.named("delta")),
            "the sentinel after {} deltas".format(total),
        )
        self.assertEqual(
            [d["delta"]["data"]["id"] for d in client.named("delta")],
            list(range(total)) + ["sentinel"],
        )
        self.assertEqual(len(client.named("reconnected")), 2)
        self.assertEqual(client.named("expired"), [])
        self.pubsub.publish("news", "after")
        yield client.wait_until(lambda: client.named("message"), "a message")
        self.assertEqual(client.named("message")[0]["message"], "after")

    @inlineCallbacks
    def test_pending_calls_rejected_on_drop(self) -> Any:
        """
        A call waiting for its answer when the connection drops is rejected
        with a ConnectionError, and the client reconnects.
        """
        client = yield self.connected_client()
        answer = client.call("calc", "rpcCall", "wait", {})
        yield client.wait_until(lambda: self.calc.waiting, "the call at the server")
        self.relay.cut()
        answer = yield answer
        self.assertEqual(answer["name"], "ConnectionError")
        self.assertIn('before "wait" of service "calc"', answer["error"])
        yield client.wait_until(lambda: client.named("reconnected"), "reconnection")

    @inlineCallbacks
    def test_subscription_gone_after_restart_signals_expired(self) -> Any:
        """
        After a server restart that forgot the subscription, the client
        reconnects and signals subscriptionExpired with the token.
        """
        client = yield self.connected_client()
        token = self.authorize(("AllPlayers", None))
        yield client.call("datasync", "acquireSubscription", {"token": token})
        # A server restart: the subscription is gone with the process.
        for subscription in list(self.datasync.subscriptions.values()):
            self.datasync.cancel(subscription)
        self.relay.cut()
        expired = yield client.wait_until(lambda: client.named("expired"), "expiry")
        self.assertEqual(expired[0]["token"], token)
        self.assertEqual(expired[0]["error"], "No such subscription")

    @inlineCallbacks
    def test_sockjs(self) -> Any:
        """
        Over SockJS, RPC and DataSync behave the same and a cut connection
        is reopened with the subscription taken back.
        """
        client = yield self.connected_client("sockjs")
        answer = yield client.call("calc", "rpcCall", "add", {"a": 20, "b": 22})
        self.assertEqual(answer["ok"], 42)
        token = self.authorize(("AllPlayers", None))
        yield client.call("datasync", "acquireSubscription", {"token": token})
        self.publish({"type": "insert", "model": "Player", "data": {"id": 1}})
        yield self.cut(client, 1)
        self.publish({"type": "insert", "model": "Player", "data": {"id": 2}})
        deltas = yield client.wait_until(
            lambda: len(client.named("delta")) == 2 and client.named("delta"), "2 deltas"
        )
        self.assertEqual([d["delta"]["data"]["id"] for d in deltas], [1, 2])
        self.assertEqual(len(client.named("reconnected")), 1)
