"""
The cluster's cost: DataSync fan-out through the Redis broker against the
in-process broker, in one run, and two nodes sharing one Redis.

Reuses bench/fanout.py's server, load generator and publisher. Phases,
each at a steady ``--rate`` deltas/s (batches of 1, open loop) for
``--seconds``, after a warm-up:

1. **in-process**: one node without a broker, ``--subscribers`` WebSocket
   subscribers;
2. **redis, 1 node**: one node with ``--broker redis://...``, the same
   subscribers;
3. **redis, 2 nodes**: nodes A and B, half the subscribers each, every
   delta published through A's backend: deliveries/s, p99 on each node
   (B's is the latency from the backend call on A to a browser on B);

and for each phase the server CPU time per delivery (µs), publish-to-
receipt latency (p50, p99), lost deliveries, and Redis's own CPU time per
published delta.

4. **receive** (``--phases receive``): the broker alone, in this process
   pinned to ``--server-cpu``: CPU time per delta to append deltas one by
   one and receive them back through Redis, with txredisapi's pure-Python
   reply parser and with hiredis's.

Pinning, on a 2-core machine: the nodes and Redis on CPU ``--server-cpu``
(``--redis-cpu`` to move Redis), the load generator(s) and this publisher
on CPU ``--client-cpu``. In the two-node phase both nodes share the server
CPU. Redis shares the nodes' CPU because the load generator keeps the
other one saturated at 200,000 deliveries/s, and a Redis starved of CPU
delays every publish. On a machine shared with
other work, compare phases within one run, not across runs.

Run from the source tree, with the virtual environment's Python (needs
``redis-server`` on the PATH)::

    .venv/bin/python bench/cluster.py
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from fanout import (  # noqa: E402
    CONFIG,
    KEY,
    LoadGenerator,
    Publisher,
    SnorkyServer,
    cpu_seconds,
    free_port,
)
from snorky.backend import SnorkyBackend  # noqa: E402,I100


class Redis:
    """
    A redis-server pinned to *cpu*, persistence off, on a free port.
    """

    def __init__(self, cpu: int) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("bench/cluster.py needs redis-server (apt-get install redis-server)")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="snorky-bench-redis-")
        self.process = subprocess.Popen(
            ["taskset", "-c", str(cpu), binary, "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.url = "redis://127.0.0.1:{}/0".format(self.port)
        time.sleep(0.5)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def subscribe(cpu: int, server: SnorkyServer, authorize_on: SnorkyServer,
              count: int) -> LoadGenerator:
    """
    *count* subscribers connected to *server*, their tokens authorized on
    *authorize_on*'s backend.
    """
    with SnorkyBackend(authorize_on.backend_url, KEY) as backend:
        tokens = [backend.authorize_subscription([{"dealer": "bench", "query": None}])
                  for _ in range(count)]
    path = os.path.join(server.workdir, "tokens.json")
    with open(path, "w") as f:
        json.dump(tokens, f)
    generator = LoadGenerator(cpu, server.url, "--tokens", path)
    generator.read("ready", 180)
    return generator


def steady(name: str, backend_url: str, rate: float, seconds: float,
           workers: int) -> int:
    publisher = Publisher(backend_url, name, 1, workers)
    published, unsent = publisher.steady(seconds, rate, 10)
    if unsent:
        print("  the publisher fell behind: {} batches never sent".format(unsent))
    return published


def collect(generator: LoadGenerator, name: str, expected: int,
            timeout: float = 60) -> Dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        phase = generator.report()["phases"].get(name, {"received": 0})
        if phase["received"] >= expected or time.monotonic() > deadline:
            return phase
        time.sleep(0.2)


ROW = "{:<28} {:>8} {:>11} {:>12} {:>10} {:>7} {:>7} {:>6} {:>13}"


def print_row(label: str, deltas_per_s: float, received: int, seconds: float,
              server_us: float, phase: Dict[str, Any], lost: int,
              redis_us: Optional[float]) -> None:
    print(ROW.format(
        label, "{:.0f}".format(deltas_per_s), received,
        "{:.0f}".format(received / seconds), "{:.2f}".format(server_us),
        str(phase.get("p50_ms")), str(phase.get("p99_ms")), lost,
        "-" if redis_us is None else "{:.1f}".format(redis_us)), flush=True)


def one_node(options: argparse.Namespace, label: str, redis: Optional[Redis]) -> None:
    args: Tuple[str, ...] = ()
    if redis is not None:
        args = ("--broker", redis.url, "--node-id", "solo")
    with SnorkyServer(options.server_cpu, CONFIG, *args) as server:
        generator = subscribe(options.client_cpu, server, server, options.subscribers)
        try:
            name = "".join(c for c in label if c.isalnum())
            if options.warmup:
                steady("warm" + name, server.backend_url, options.rate, options.warmup,
                       options.workers)
                collect(generator, "warm" + name, 1, 5)
            cpu = cpu_seconds(server.pid)
            redis_cpu = cpu_seconds(redis.process.pid) if redis else 0.0
            published = steady(name, server.backend_url, options.rate, options.seconds,
                               options.workers)
            expected = published * options.subscribers
            phase = collect(generator, name, expected)
            cpu = cpu_seconds(server.pid) - cpu
            redis_us = None
            if redis is not None:
                redis_us = (cpu_seconds(redis.process.pid) - redis_cpu) / published * 1e6
            received = phase["received"]
            print_row(label, published / options.seconds, received,
                      phase.get("seconds") or options.seconds,
                      cpu / max(received, 1) * 1e6, phase, expected - received, redis_us)
        finally:
            generator.stop()


def two_nodes(options: argparse.Namespace, redis: Redis) -> None:
    half = options.subscribers // 2
    with SnorkyServer(options.server_cpu, CONFIG, "--broker", redis.url,
                      "--node-id", "a") as a, \
            SnorkyServer(options.server_cpu, CONFIG, "--broker", redis.url,
                         "--node-id", "b") as b:
        generators: List[LoadGenerator] = []
        try:
            generators.append(subscribe(options.client_cpu, a, a, half))
            generators.append(subscribe(options.client_cpu, b, a, half))
            if options.warmup:
                steady("warm2", a.backend_url, options.rate, options.warmup, options.workers)
                for generator in generators:
                    collect(generator, "warm2", 1, 5)
            cpus = [cpu_seconds(a.pid), cpu_seconds(b.pid)]
            redis_cpu = cpu_seconds(redis.process.pid)
            published = steady("two", a.backend_url, options.rate, options.seconds,
                               options.workers)
            redis_us = (cpu_seconds(redis.process.pid) - redis_cpu) / published * 1e6
            for label, server, generator, before in zip(
                    ("2 nodes: A (publishes)", "2 nodes: B"), (a, b), generators, cpus):
                phase = collect(generator, "two", published * half)
                received = phase["received"]
                cpu = cpu_seconds(server.pid) - before
                print_row(label, published / options.seconds, received,
                          phase.get("seconds") or options.seconds,
                          cpu / max(received, 1) * 1e6, phase, published * half - received,
                          redis_us)
        finally:
            for generator in generators:
                generator.stop()


def receive_cost(parser: str, count: int, cpu: int) -> None:
    """
    Print the CPU time per delta of appending *count* single-delta batches
    and receiving them back, in a child process using *parser*
    (``pure`` or ``hiredis``).
    """
    output = subprocess.run(
        ["taskset", "-c", str(cpu), sys.executable, os.path.abspath(__file__),
         "--receive-child", parser, "--receive-count", str(count)],
        capture_output=True, text=True, timeout=300,
    )
    print(output.stdout.strip() or output.stderr.strip().splitlines()[-1], flush=True)


def receive_child(parser: str, count: int) -> None:
    if parser == "pure":
        sys.modules["hiredis"] = None  # type: ignore[assignment]
    from twisted.internet import defer, task

    import txredisapi
    from snorky.broker import LogFollower, broker_from_url

    payload = (b'{"type":"insert","model":"Bench","data":'
               b'{"p":"receive","w":1,"s":12345,"t":1700000000000.5}}')

    class Counter(LogFollower):
        def __init__(self) -> None:
            self.count = 0
            self.done: defer.Deferred = defer.Deferred()

        def entry(self, seq: int, data: bytes) -> None:
            self.count += 1
            if self.count == count:
                self.done.callback(None)

    @defer.inlineCallbacks
    def run(reactor: Any) -> Any:
        redis = Redis(int(os.environ.get("BENCH_REDIS_CPU", "1")))
        try:
            sender = broker_from_url(redis.url, node_id="sender")
            receiver = broker_from_url(redis.url, node_id="receiver")
            counter = Counter()
            receiver.follow("bench", counter)
            sender.startService()
            receiver.startService()
            yield task.deferLater(reactor, 1, lambda: None)
            started = time.process_time()
            for _ in range(count):
                sender.append("bench", [payload])
            yield counter.done
            used = time.process_time() - started
            print("receive, {:<9} {} deltas appended one by one and received: "
                  "{:.1f} µs CPU per delta (both nodes' broker work)".format(
                      txredisapi.RedisProtocol.__name__.replace("Protocol", ""),
                      count, used / count * 1e6))
            yield sender.stopService()
            yield receiver.stopService()
        finally:
            redis.stop()

    task.react(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0, help="deltas/s")
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds; 0 skips")
    parser.add_argument("--workers", type=int, default=16,
                        help="publishing threads (requests in flight)")
    parser.add_argument("--phases", default="inprocess,redis,two,receive",
                        help="comma-separated: inprocess, redis, two, receive")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument("--redis-cpu", type=int, default=None,
                        help="default: --server-cpu")
    parser.add_argument("--receive-count", type=int, default=5000)
    parser.add_argument("--receive-child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.receive_child:
        receive_child(options.receive_child, options.receive_count)
        return
    print("Command: {} {}".format(os.path.relpath(sys.executable), " ".join(sys.argv)))
    redis_cpu = options.server_cpu if options.redis_cpu is None else options.redis_cpu
    print("Nodes pinned to CPU {}, Redis to CPU {}, load generators and publisher "
          "to CPU {}".format(options.server_cpu, redis_cpu, options.client_cpu))
    os.sched_setaffinity(0, {options.client_cpu})
    print(ROW.format("phase", "deltas/s", "deliveries", "deliveries/s", "server µs",
                     "p50 ms", "p99 ms", "lost", "redis µs/delta"))
    redis = Redis(redis_cpu)
    try:
        for phase in options.phases.split(","):
            if phase == "inprocess":
                one_node(options, "in-process, 1 node", None)
            elif phase == "redis":
                one_node(options, "redis, 1 node", redis)
            elif phase == "two":
                two_nodes(options, redis)
            elif phase == "receive":
                os.environ["BENCH_REDIS_CPU"] = str(options.client_cpu)
                # The broker runs on --server-cpu; Redis apart from it.
                for name in ("pure", "hiredis"):
                    receive_cost(name, options.receive_count, options.server_cpu)
            else:
                parser.error("unknown phase {!r}".format(phase))
    finally:
        redis.stop()


if __name__ == "__main__":
    main()
