"""
``--workers 1`` against ``--workers 2`` on one machine, in one run:
DataSync fan-out to ``--subscribers`` WebSocket subscribers at steady
rates, every server sharing one Redis.

Reuses bench/fanout.py's server, load generator and publisher and
bench/cluster.py's phases. For each worker count and each of ``--rates``
(deltas/s, batches of 1, open loop, ``--seconds`` each after a warm-up)
it prints deliveries/s, server CPU time per delivery (the parent and every
worker, µs), Redis's CPU time per delta, and publish-to-receipt latency
(p50, p99).

Nothing is pinned: on a 2-core machine the workers, Redis, the load
generator and the publisher share both cores, as they would on a small
server. Server CPU per delivery is the figure that does not depend on
that sharing; throughput and p99 do, so compare within one run, and on a
machine shared with other work expect noise.

Run from the source tree, with the virtual environment's Python (needs
``redis-server`` on the PATH)::

    .venv/bin/python bench/workers.py
"""

import argparse
import os
import sys
import time
from typing import List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from cluster import ROW, Redis, collect, print_row, steady, subscribe  # noqa: E402
from fanout import CONFIG, SnorkyServer, cpu_seconds  # noqa: E402


def family(pid: int) -> List[int]:
    """
    *pid* and its children (the workers).
    """
    found = [pid]
    for task in os.listdir("/proc/{}/task".format(pid)):
        with open("/proc/{}/task/{}/children".format(pid, task)) as f:
            found += [int(p) for p in f.read().split()]
    return found


def family_cpu(pids: List[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def wait_for_workers(server: SnorkyServer, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(server.log_path) as f:
            if f.read().count("connected to Redis") >= count:
                return
        time.sleep(0.2)
    raise RuntimeError("the workers did not reach Redis")


def run(options: argparse.Namespace, redis: Redis, workers: int) -> None:
    cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    with SnorkyServer(cpus, CONFIG, "--broker", redis.url,  # type: ignore[arg-type]
                      "--workers", str(workers)) as server:
        wait_for_workers(server, workers)
        pids = family(server.pid)
        generator = subscribe(cpus, server, server, options.subscribers)  # type: ignore[arg-type]
        try:
            if options.warmup:
                name = "warm{}".format(workers)
                steady(name, server.backend_url, options.rates[0], options.warmup,
                       options.publishers)
                collect(generator, name, 1, 5)
            for rate in options.rates:
                name = "w{}r{}".format(workers, int(rate))
                cpu = family_cpu(pids)
                redis_cpu = cpu_seconds(redis.process.pid)
                published = steady(name, server.backend_url, rate, options.seconds,
                                   options.publishers)
                expected = published * options.subscribers
                phase = collect(generator, name, expected)
                cpu = family_cpu(pids) - cpu
                redis_us = (cpu_seconds(redis.process.pid) - redis_cpu) / max(published, 1) * 1e6
                received = phase["received"]
                print_row("--workers {} @ {:.0f}/s".format(workers, rate),
                          published / options.seconds, received,
                          phase.get("seconds") or options.seconds,
                          cpu / max(received, 1) * 1e6, phase, expected - received, redis_us)
        finally:
            generator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rates", default="100,300",
                        help="comma-separated deltas/s, each a phase")
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds; 0 skips")
    parser.add_argument("--publishers", type=int, default=16,
                        help="publishing threads (requests in flight)")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    options = parser.parse_args()
    options.rates = [float(r) for r in options.rates.split(",")]
    print("Command: {} {}".format(os.path.relpath(sys.executable), " ".join(sys.argv)))
    print("Load average before: {}".format(" ".join(open("/proc/loadavg").read().split()[:3])))
    print(ROW.format("phase", "deltas/s", "deliveries", "deliveries/s", "server µs",
                     "p50 ms", "p99 ms", "lost", "redis µs/delta"))
    redis = Redis(",".join(str(c) for c in sorted(os.sched_getaffinity(0))))  # type: ignore[arg-type]
    try:
        for count in options.workers.split(","):
            run(options, redis, int(count))
    finally:
        redis.stop()
    print("Load average after: {}".format(" ".join(open("/proc/loadavg").read().split()[:3])))


if __name__ == "__main__":
    main()
