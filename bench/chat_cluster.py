"""
Chat with ``--members`` members (default 1,000): one node in-process
against two nodes sharing Redis (half the members on each), in one run.

For each setup: every member connects over WebSocket and authenticates
(identity tokens authorized on the first node's backend); then

* **join**: the members join one channel one after another (each join
  waits for its answer); every join tells the members already there
  (``presence``), so n joins send n(n-1)/2 notifications. Reported: the
  mean join answer time, and the server CPU time (every node and Redis)
  per join, counted until every notification has arrived;
* **send**: one member sends ``--messages`` messages one after another,
  each waiting until all members have it. Reported: the time from send
  to the last member's receipt (mean and p99) and the server CPU time per
  message sent (every node and Redis).

The servers and Redis run on CPU ``--server-cpu``, this process (the
members) on ``--client-cpu``. On a machine shared with other work,
compare the setups within one run.

Run from the source tree, with the virtual environment's Python (needs
``redis-server`` on the PATH)::

    .venv/bin/python bench/chat_cluster.py
"""

import argparse
import json
import os
import sys
import time
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from autobahn.twisted.websocket import (  # noqa: E402
    WebSocketClientFactory,
    WebSocketClientProtocol,
    connectWS,
)
from twisted.internet import defer, reactor, task  # noqa: E402

from cluster import Redis  # noqa: E402
from fanout import KEY, SnorkyServer, cpu_seconds  # noqa: E402
from snorky.backend import SnorkyBackend  # noqa: E402,I100

CHANNEL = "bench"


class Member(WebSocketClientProtocol):
    """
    One chat member: answers calls, counts notifications.
    """

    def onOpen(self) -> None:
        self.calls: Dict[int, defer.Deferred] = {}
        self.next_call = 0
        self.presence = 0
        self.bench = self.factory.bench
        self.factory.opened.callback(self)

    def call(self, service: str, command: str, **params: Any) -> defer.Deferred:
        self.next_call += 1
        d: defer.Deferred = defer.Deferred()
        self.calls[self.next_call] = d
        self.sendMessage(json.dumps({"service": service, "message": {
            "command": command, "params": params, "callId": self.next_call}}).encode())
        return d

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        message = json.loads(payload)["message"]
        kind = message.get("type")
        if kind in ("response", "error"):
            self.calls.pop(message["callId"]).callback(message)
        elif kind == "presence":
            self.bench.presence += 1
        elif kind == "message":
            self.bench.received(message["body"])


class Bench:
    """
    The members of one setup and what they received.
    """

    def __init__(self, members: int) -> None:
        self.members = members
        self.presence = 0
        self.waiting: Optional[defer.Deferred] = None
        self.receipts: Dict[int, int] = {}
        self.last: Dict[int, float] = {}

    def received(self, body: int) -> None:
        self.receipts[body] = self.receipts.get(body, 0) + 1
        if self.receipts[body] == self.members:
            self.last[body] = time.perf_counter()
            if self.waiting is not None:
                waiting, self.waiting = self.waiting, None
                waiting.callback(None)


async def connect(url: str, bench: Bench) -> Member:
    factory: Any = WebSocketClientFactory(url)
    factory.protocol = Member
    factory.opened = defer.Deferred()
    factory.bench = bench
    connectWS(factory)
    return await factory.opened  # type: ignore[no-any-return]


async def until(check: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await task.deferLater(reactor, 0.05, lambda: None)
    return True


def percentile(values: List[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def run_setup(label: str, servers: List[SnorkyServer], redis: Optional[Redis],
                    options: argparse.Namespace) -> None:
    n = options.members
    bench = Bench(n)
    with SnorkyBackend(servers[0].backend_url, KEY) as backend:
        tokens = [backend.authorize_identity({"id": i}) for i in range(n)]
    members = []
    for i, token in enumerate(tokens):
        member = await connect(servers[i % len(servers)].url, bench)
        reply = await member.call("identity", "authenticate", token=token)
        assert reply["type"] == "response", reply
        members.append(member)

    pids = [s.pid for s in servers] + ([redis.process.pid] if redis else [])

    def cpu() -> float:
        return sum(cpu_seconds(pid) for pid in pids)

    before = cpu()
    answers = []
    for member in members:
        started = time.perf_counter()
        reply = await member.call("chat", "join", channel=CHANNEL)
        answers.append(time.perf_counter() - started)
        assert reply["type"] == "response", reply
    expected = n * (n - 1) // 2
    complete = await until(lambda: bench.presence >= expected, 120)
    join_cpu = cpu() - before
    print("{:<24} join    {:>6} joins: answer {:.2f} ms mean, {:.0f} µs server CPU per "
          "join; {} of {} presence notifications{}".format(
              label, n, sum(answers) / n * 1e3, join_cpu / n * 1e6, bench.presence,
              expected, "" if complete else " (timed out)"), flush=True)

    latencies = []
    before = cpu()
    sender = members[0]
    for body in range(options.messages):
        done: defer.Deferred = defer.Deferred()
        bench.waiting = done
        started = time.perf_counter()
        await sender.call("chat", "send", channel=CHANNEL, body=body)
        await done.addTimeout(30, reactor)
        latencies.append(bench.last[body] - started)
    send_cpu = cpu() - before
    print("{:<24} send    {:>6} messages to {} members: last receipt {:.2f} ms mean, "
          "{:.2f} ms p99; {:.0f} µs server CPU per message ({:.2f} µs per delivery)".format(
              label, options.messages, n, sum(latencies) / len(latencies) * 1e3,
              percentile(latencies, 0.99) * 1e3, send_cpu / options.messages * 1e6,
              send_cpu / options.messages / n * 1e6), flush=True)
    for member in members:
        transport: Any = member.transport
        transport.abortConnection()


async def main(options: argparse.Namespace) -> None:
    redis = Redis(options.server_cpu)
    try:
        if "inprocess" in options.setups:
            with SnorkyServer(options.server_cpu, "") as one:
                await run_setup("1 node, in-process", [one], None, options)
        if "two" in options.setups:
            with SnorkyServer(options.server_cpu, "", "--broker", redis.url,
                              "--node-id", "a") as a, \
                    SnorkyServer(options.server_cpu, "", "--broker", redis.url,
                                 "--node-id", "b") as b:
                await task.deferLater(reactor, 1, lambda: None)
                await run_setup("2 nodes, Redis", [a, b], redis, options)
    finally:
        redis.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--setups", default="inprocess,two")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    options = parser.parse_args()
    print("Command: {} {}".format(os.path.relpath(sys.executable), " ".join(sys.argv)))
    print("Servers and Redis on CPU {}, members on CPU {}; load average {}".format(
        options.server_cpu, options.client_cpu,
        " ".join(open("/proc/loadavg").read().split()[:3])), flush=True)
    os.sched_setaffinity(0, {options.client_cpu})
    failures: List[Any] = []
    d = defer.ensureDeferred(main(options))
    d.addErrback(failures.append)
    d.addBoth(lambda _: reactor.stop())
    reactor.run()
    if failures:
        failures[0].printTraceback()
        sys.exit(1)
