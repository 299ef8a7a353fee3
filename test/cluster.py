"""
Several real ``twistd -n snorky`` processes sharing one real
``redis-server``, for the cluster integration tests.
"""

import json
import os
import signal
from typing import Any, List, Optional, Tuple

import treq
from twisted.internet.defer import Deferred

from test.helpers import free_port, run_twistd, wait_listening, wait_until
from test.redisserver import RedisServer

__all__ = ["KEY", "CONFIG", "Node", "Cluster", "until"]

KEY = "cluster-test-backend-key"

#: The DataSync dealers every node serves.
CONFIG = """
[[datasync.dealers]]
name = "AllPlayers"
model = "Player"
kind = "broadcast"

[[datasync.dealers]]
name = "Players"
model = "Player"
kind = "filter"
"""


async def until(check: Any, timeout: float = 20.0, step: float = 0.05) -> None:
    """
    Wait until ``check()`` is true: :func:`test.helpers.wait_until` with
    the patience a cluster needs.
    """
    await wait_until(check, "the cluster", timeout, step)


class Node:
    """
    One ``twistd -n snorky`` process with a WebSocket+SockJS frontend port
    and an HTTP backend port on loopback, using the Redis broker.
    """

    def __init__(self, broker_url: str, node_id: str, config_path: str,
                 extra: Tuple[str, ...] = ()) -> None:
        self.broker_url = broker_url
        self.node_id = node_id
        self.config_path = config_path
        self.extra = extra
        self.ws_port = free_port()
        self.http_port = free_port()
        self.proto: Any = None

    @property
    def ws_url(self) -> str:
        return "ws://127.0.0.1:{}/ws".format(self.ws_port)

    @property
    def backend_url(self) -> str:
        return "http://127.0.0.1:{}/backend".format(self.http_port)

    async def start(self) -> None:
        """
        Start the process and wait until both ports accept connections.
        """
        self.proto = run_twistd([
            "snorky", "--config", self.config_path,
            "--broker", self.broker_url, "--node-id", self.node_id,
            "--ports", "frontend:websocket+sockjs:tcp:{}:interface=127.0.0.1".format(self.ws_port),
            "--ports", "backend:http:tcp:{}:interface=127.0.0.1".format(self.http_port),
            "--backend-key", KEY,
        ] + list(self.extra))
        await wait_listening(self.ws_port, self.proto)
        await wait_listening(self.http_port, self.proto)

    @property
    def output(self) -> str:
        return self.proto.output.decode("utf-8", "replace")

    async def call(self, service: str, command: str, **params: Any) -> Tuple[int, Any]:
        """
        POST one command to the backend; answer the status and the body.
        """
        body = {"service": service, "message": {"command": command, "params": params,
                                                "callId": 1}}
        response = await treq.post(
            self.backend_url, json.dumps(body).encode(),
            headers={"X-Backend-Key": KEY}, persistent=False,
        )
        return response.code, json.loads(await response.content())

    async def ok(self, service: str, command: str, **params: Any) -> Any:
        """
        A backend command that must succeed; its data.
        """
        code, body = await self.call(service, command, **params)
        assert code == 200 and body["message"]["type"] == "response", (code, body)
        return body["message"]["data"]

    async def authorize(self, dealer: str = "AllPlayers", query: Any = None) -> str:
        return await self.ok("datasync_backend", "authorizeSubscription",
                             items=[{"dealer": dealer, "query": query}])

    async def publish_players(self, ids: List[int]) -> Tuple[int, Any]:
        return await self.call(
            "datasync_backend", "publishDeltas",
            deltas=[{"type": "insert", "model": "Player", "data": {"id": i}} for i in ids],
        )

    def kill(self) -> None:
        """
        ``kill -9`` the process.
        """
        if self.proto is not None and not self.proto.ended.called:
            os.kill(self.proto.transport.pid, signal.SIGKILL)

    async def stop(self) -> None:
        """
        Kill it if it runs and wait for it to end.
        """
        if self.proto is not None and not self.proto.ended.called:
            self.proto.transport.signalProcess("KILL")
            await self.proto.ended


class Cluster:
    """
    A redis-server and *count* nodes; :meth:`stop` ends them all.
    """

    def __init__(self, case: Any, count: int = 2, extra: Tuple[str, ...] = (),
                 redis: Optional[RedisServer] = None, config: str = "") -> None:
        self.redis = redis or RedisServer()
        self.config_path = os.path.abspath(case.mktemp() + ".toml")
        os.makedirs(os.path.dirname(self.config_path), exist_ok=True)
        with open(self.config_path, "w") as f:
            f.write(config + CONFIG)
        self.nodes = [Node(self.redis.url, "node-" + "abc"[i], self.config_path, extra)
                      for i in range(count)]
        case.addCleanup(self.stop)

    async def start(self, redis: bool = True) -> None:
        """
        Start Redis (unless *redis* is false) and the nodes; wait until
        every node has reached Redis.
        """
        if redis:
            self.redis.start()
        for node in self.nodes:
            await node.start()
        if redis:
            await self.connected()

    async def connected(self, times: int = 1) -> None:
        """
        Wait until every node has logged *times* connections to Redis.
        """
        await until(lambda: all(n.output.count("connected to Redis") >= times
                                for n in self.nodes))

    def stop(self) -> Deferred:
        async def stop() -> None:
            for node in self.nodes:
                await node.stop()
            self.redis.cleanup()

        from twisted.internet.defer import ensureDeferred

        return ensureDeferred(stop())
