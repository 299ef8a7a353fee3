"""
``twistd snorky --workers 2`` for real: a parent, two worker processes, a
real redis-server; the real sockjs-client over SockJS's HTTP transports,
whose requests reach both workers; a killed worker restarted; SIGTERM.
"""

import json
import os
import re
import shutil
import signal
from typing import Any, List

from twisted.internet import reactor
from twisted.trial.unittest import TestCase

from test.helpers import ProcessOutput, free_port, run_twistd, wait_ended, wait_listening, wait_until
from test.redisserver import RedisServer
from test.wsclient import connect

KEY = "workers-test-key"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workers_sockjs.js")


def children(pid: int) -> List[int]:
    """
    The process ids of *pid*'s children.
    """
    found = []
    for task in os.listdir("/proc/{}/task".format(pid)):
        with open("/proc/{}/task/{}/children".format(pid, task)) as f:
            found += [int(p) for p in f.read().split()]
    return found


class WorkersTests(TestCase):
    """
    Two workers behind one set of ports.
    """

    timeout = 180

    async def setUp(self) -> None:  # type: ignore[override]
        self.redis = RedisServer()
        self.redis.start()
        self.addCleanup(self.redis.cleanup)
        self.ws_port, self.http_port = free_port(), free_port()
        self.parent = run_twistd([
            "snorky", "--workers", "2", "--broker", self.redis.url,
            "--ports", "frontend:websocket+sockjs:tcp:{}:interface=127.0.0.1".format(self.ws_port),
            "--ports", "backend:http:tcp:{}:interface=127.0.0.1".format(self.http_port),
            "--backend-key", KEY,
        ])
        self.addCleanup(self.kill_all)
        await wait_listening(self.ws_port, self.parent)
        await self.workers_connected(2)

    def kill_all(self) -> Any:
        for directory in set(re.findall(r"/tmp/snorky-workers-\w+", self.output)):
            shutil.rmtree(directory, ignore_errors=True)
        if self.parent.ended.called:
            return None
        for pid in children(self.pid):
            os.kill(pid, signal.SIGKILL)
        self.transport.signalProcess("KILL")
        return self.parent.ended

    @property
    def transport(self) -> Any:
        return self.parent.transport  # type: ignore[attr-defined]

    @property
    def pid(self) -> int:
        return self.transport.pid  # type: ignore[no-any-return]

    @property
    def output(self) -> str:
        return self.parent.output.decode("utf-8", "replace")

    async def workers_connected(self, times: int) -> None:
        await wait_until(lambda: self.output.count("connected to Redis") >= times,
                         "workers on Redis", timeout=30, details=lambda: self.output[-3000:])

    async def test_sockjs_http_transports(self) -> None:
        """
        xhr-streaming, xhr-polling and eventsource sessions, eight at once
        each (their requests spread over both workers), keep order, get a
        publication once, and close cleanly.
        """
        node = shutil.which("node")
        assert node is not None
        out = ProcessOutput()
        transports = ["xhr-streaming", "xhr-polling", "eventsource"]
        process = reactor.spawnProcess(
            out, node,
            [node, SCRIPT, "http://127.0.0.1:{}/sockjs".format(self.ws_port), "8", "20",
             *transports],
            env=dict(os.environ), path=ROOT,
        )
        killer = reactor.callLater(150, process.signalProcess, "KILL")
        await out.ended
        if killer.active():
            killer.cancel()
        results = [json.loads(line[7:]) for line in out.output.decode().splitlines()
                   if line.startswith("RESULT ")]
        self.assertEqual(results, [
            {"transport": t, "sessions": 8, "echoes": 160, "received": 8, "closed": 8}
            for t in transports
        ], out.output.decode()[-2000:])
        self.assertEqual(len(children(self.pid)), 2)
        self.assertIn("forwards requests of SockJS sessions held by other workers",
                      self.output)
        self.assertFalse("Traceback" in self.output, self.output[-3000:])

    async def test_dead_worker_restarted(self) -> None:
        """
        A worker killed with kill -9 is logged and replaced, and the port
        keeps serving.
        """
        [first, second] = children(self.pid)
        os.kill(first, signal.SIGKILL)
        await wait_until(lambda: "ended" in self.output and "restarting it" in self.output,
                         "the death logged", timeout=10)
        await self.workers_connected(3)
        now = children(self.pid)
        self.assertEqual(len(now), 2)
        self.assertIn(second, now)
        self.assertNotIn(first, now)
        client = await connect("ws://127.0.0.1:{}/ws".format(self.ws_port))
        client.send({"service": "echo", "message": "still"})
        self.assertEqual((await client.receive())["message"], "still")
        await client.close()

    async def test_sigterm_stops_all(self) -> None:
        """
        SIGTERM to the parent closes every client with 1001, stops both
        workers and ends the parent cleanly.
        """
        clients = [await connect("ws://127.0.0.1:{}/ws".format(self.ws_port)) for _ in range(4)]
        workers = children(self.pid)
        self.transport.signalProcess("TERM")
        for client in clients:
            self.assertEqual(await client.closed, 1001)
        await wait_ended(self.parent, 30)
        self.assertEqual([pid for pid in workers if os.path.exists("/proc/{}".format(pid))], [])
        self.assertFalse("Traceback" in self.output, self.output[-3000:])


class WorkersRefusedTests(TestCase):
    """
    --workers without a broker.
    """

    async def test_refused_without_broker(self) -> None:
        """
        --workers without --broker ends start-up with one line saying why.
        """
        parent = run_twistd(["snorky", "--workers", "2", "--backend-key", KEY])
        await wait_ended(parent, 30)
        lines = parent.output.decode().strip().splitlines()
        self.assertEqual(lines, ["snorky: --workers needs a broker (--broker redis://...): "
                                 "workers share their clients' state through it"])
