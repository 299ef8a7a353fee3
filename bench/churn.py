"""
Connection churn: does the server give back what clients leave behind?

One ``twistd snorky`` server (pinned to ``--server-cpu``) runs cycles,
each bounded in time. In each cycle:

1. ``--subscribers`` DataSync subscriptions are authorized, plus as many
   that nobody will ever acquire (they must expire after
   ``timeout_interval``);
2. the Node.js load generator (``bench/fanout_client.js``, pinned to
   ``--client-cpu``) opens one WebSocket connection per subscription and
   acquires it;
3. ``--deltas`` deltas are published in batches of 50 and must all arrive;
4. every connection is cut at once (the load generator is killed: no
   closing handshake, as when a network goes away);
5. after the grace period and the acquisition timeout have run out, the
   server's resident memory is read.

It prints, per cycle, the deliveries, lost deliveries and the server's
memory, then how much the memory grew from the end of the first cycles
(allocator warm-up) to the last one. A server that keeps something per
client or per subscription grows by about the same amount every cycle.

Run from the source tree::

    python3 bench/churn.py
"""

import argparse
import json
import os
import sys
import time
from typing import List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fanout import (  # noqa: E402
    KEY,
    LoadGenerator,
    Publisher,
    SnorkyServer,
    command_line,
    drain,
    rss_kib,
)
from snorky.backend import SnorkyBackend  # noqa: E402

GRACE_PERIOD = 1
TIMEOUT_INTERVAL = 10
CONFIG = """
[datasync]
grace_period = {}
timeout_interval = {}

[[datasync.dealers]]
name = "bench"
model = "Bench"
kind = "broadcast"
""".format(GRACE_PERIOD, TIMEOUT_INTERVAL)


def cycle(
    number: int, snorky: SnorkyServer, backend: SnorkyBackend,
    options: argparse.Namespace,
) -> List[int]:
    """
    Run cycle *number*; returns its deliveries, lost deliveries and the
    server's memory (KiB) once everything it created has ended.
    """
    item = [{"dealer": "bench", "query": None}]
    tokens = [backend.authorize_subscription(item) for _ in range(options.subscribers)]
    tokens_path = os.path.join(snorky.workdir, "tokens.json")
    with open(tokens_path, "w") as f:
        json.dump(tokens, f)
    generator = LoadGenerator(options.client_cpu, snorky.url, "--tokens", tokens_path)
    try:
        # Never acquired: these must expire, buffers and all.
        for _ in range(options.subscribers):
            backend.authorize_subscription(item)
        generator.read("ready", 120)
        name = "cycle{}".format(number)
        publisher = Publisher(snorky.backend_url, name, 50, 1)
        published = 0
        while published < options.deltas:
            publisher.publish(backend, 0, time.time() * 1000)
            published += 50
        expected = published * options.subscribers
        received = drain(generator, name, expected, 60)["phases"].get(
            name, {"received": 0})["received"]
    finally:
        # Killed, not asked to close: every connection just drops.
        generator.process.kill()
        generator.process.wait()
    time.sleep(max(GRACE_PERIOD, TIMEOUT_INTERVAL) + 2)
    return [received, expected - received, rss_kib(snorky.pid)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--deltas", type=int, default=500, help="per cycle")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    options = parser.parse_args()
    print("Command: " + command_line())
    os.sched_setaffinity(0, {options.client_cpu})
    with SnorkyServer(options.server_cpu, CONFIG) as snorky:
        with SnorkyBackend(snorky.backend_url, KEY, timeout=60) as backend:
            print("{:>5} {:>10} {:>5} {:>10}".format("cycle", "deliveries", "lost", "RSS MiB"))
            memory = []
            for number in range(1, options.cycles + 1):
                received, lost, rss = cycle(number, snorky, backend, options)
                memory.append(rss)
                print("{:>5} {:>10} {:>5} {:>10.1f}".format(number, received, lost, rss / 1024),
                      flush=True)
    settled = min(3, len(memory)) - 1
    grown = (memory[-1] - memory[settled]) / 1024
    print("Memory from the end of cycle {} to the end of cycle {}: {:+.1f} MiB "
          "({:+.2f} MiB per cycle)".format(
              settled + 1, len(memory), grown,
              grown / max(1, len(memory) - 1 - settled)))


if __name__ == "__main__":
    main()
