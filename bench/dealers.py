"""
Routing cost of each DataSync dealer, by number of subscriptions.

For each dealer and each size, N subscriptions are authorized and acquired
(spread over connections that only count what they receive), then deltas
are timed two ways:

* route:   ``dealer.get_subscription_items_for_model(data)`` alone;
* publish: ``DataSyncService.publish_deltas([delta])`` for an insert, i.e.
  routing, grouping by subscription and sending to the matched clients.

Each delta matches one subscription, except with ``broadcast`` (all of
them) and ``filter-range`` (unindexed ``<`` filters; about half of them).
Each measurement is the best of three rounds, each stopping after a third
of ``--seconds`` or after ``--max-deltas``, whichever comes first. Run
pinned to one core for stable numbers::

    taskset -c 0 python3 bench/dealers.py
"""

import argparse
import gc
import os
import random
import sys
import time
from typing import Any, Callable, Dict, List, Tuple

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from twisted.internet import reactor  # noqa: E402

from snorky.client import Client  # noqa: E402
from snorky.services.datasync import DataSyncService  # noqa: E402
from snorky.services.datasync.dealers import (  # noqa: E402
    BroadcastDealer,
    Dealer,
    FilterDealer,
    SimpleDealer,
)
from snorky.services.datasync.deltas import InsertionDelta  # noqa: E402

SUBSCRIPTIONS_PER_CLIENT = 1000


class CountingClient(Client):
    """
    A connection that counts frames instead of writing them.
    """

    transport_name = "bench"

    def __init__(self) -> None:
        super().__init__("bench")
        self.frames = 0

    def write_frame(self, frame: Any) -> None:
        self.frames += 1


# name -> (dealer factory, query for subscription i, data for key i)
Case = Tuple[Callable[[], Dealer], Callable[[int], Any], Callable[[int], Any]]
CASES: Dict[str, Case] = {
    "broadcast": (
        lambda: BroadcastDealer(name="d", model="M"),
        lambda i: None,
        lambda i: {"id": i},
    ),
    "simple": (
        lambda: SimpleDealer(name="d", model="M", key="id"),
        lambda i: i,
        lambda i: {"id": i},
    ),
    "filter-eq": (
        lambda: FilterDealer(name="d", model="M"),
        lambda i: ["==", "id", i],
        lambda i: {"id": i, "score": 1},
    ),
    "filter-and": (
        lambda: FilterDealer(name="d", model="M"),
        lambda i: ["and", ["==", "player.id", i], [">", "score", 0]],
        lambda i: {"player": {"id": i}, "score": 1},
    ),
    "filter-in": (
        lambda: FilterDealer(name="d", model="M"),
        lambda i: ["in", "team", [2 * i, 2 * i + 1]],
        lambda i: {"team": 2 * i + 1},
    ),
    "filter-range": (
        lambda: FilterDealer(name="d", model="M"),
        lambda i: ["<", "score", i],
        lambda i: {"score": i},
    ),
}


def build(case: str, size: int) -> Tuple[DataSyncService, Dealer, List[CountingClient]]:
    make_dealer, query, _ = CASES[case]
    dealer = make_dealer()
    service = DataSyncService(
        "datasync",
        [dealer],
        # The reactor never runs: timers are only scheduled and cancelled,
        # at the cost they have in a real server (task.Clock sorts a list).
        reactor=reactor,
        max_subscriptions_per_client=SUBSCRIPTIONS_PER_CLIENT,
    )
    clients: List[CountingClient] = []
    for i in range(size):
        if i % SUBSCRIPTIONS_PER_CLIENT == 0:
            clients.append(CountingClient())
        token = service.authorize_subscription([("d", query(i))], timeout=3600)
        service.acquire(clients[-1], token)
    return service, dealer, clients


def timed(
    run: Callable[[Any], Any], inputs: List[Any], seconds: float, rounds: int = 3
) -> Tuple[float, int]:
    """
    Run *run* on successive *inputs* until they or *seconds* run out, in
    *rounds* rounds sharing that time; the best round counts, as other
    processes on the machine only ever slow a round down.

    :returns: microseconds per call in the best round, and the calls made.
    """
    clock = time.perf_counter
    best = float("inf")
    total = 0
    for _ in range(rounds):
        gc.collect()
        start = clock()
        deadline = start + seconds / rounds
        count = 0
        for value in inputs:
            run(value)
            count += 1
            if count % 16 == 0 and clock() > deadline:
                break
        best = min(best, (clock() - start) / count)
        total += count
    return best * 1e6, total


def measure(case: str, size: int, seconds: float, max_deltas: int) -> Dict[str, Any]:
    service, dealer, clients = build(case, size)
    data = CASES[case][2]
    rng = random.Random(size)
    keys = [rng.randrange(size) for _ in range(max_deltas)]
    route_us, routed = timed(
        dealer.get_subscription_items_for_model, [data(k) for k in keys], seconds
    )
    deltas = [[InsertionDelta("M", data(k))] for k in keys]
    publish_us, published = timed(service.publish_deltas, deltas, seconds)
    deliveries = sum(client.frames for client in clients)
    return {
        "route_us": route_us,
        "publish_us": publish_us,
        "deltas": min(routed, published),
        "per_delta": deliveries / published,
    }


def command_line() -> str:
    args = " ".join(sys.argv)
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:
        return "python3 " + args
    if len(cpus) == os.cpu_count():
        return "python3 " + args
    return "taskset -c {} python3 {}".format(",".join(map(str, cpus)), args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="1000,10000,100000", help="subscription counts"
    )
    parser.add_argument(
        "--dealers", default=",".join(CASES), help="cases: " + ", ".join(CASES)
    )
    parser.add_argument(
        "--seconds", type=float, default=0.5, help="time limit per measurement"
    )
    parser.add_argument(
        "--max-deltas", type=int, default=20000, help="delta limit per round"
    )
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    cases = options.dealers.split(",")
    for case in cases:
        if case not in CASES:
            parser.error("unknown dealer case {!r}".format(case))

    print("Command: " + command_line())
    print("Python {}".format(sys.version.split()[0]))
    print(
        "{:<13} {:>8} {:>12} {:>14} {:>10} {:>12}".format(
            "dealer", "subs", "route µs", "publish µs", "deltas", "sent/delta"
        )
    )
    for case in cases:
        for size in sizes:
            result = measure(case, size, options.seconds, options.max_deltas)
            print(
                "{:<13} {:>8} {:>12.2f} {:>14.2f} {:>10} {:>12.1f}".format(
                    case,
                    size,
                    result["route_us"],
                    result["publish_us"],
                    result["deltas"],
                    result["per_delta"],
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
