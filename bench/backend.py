"""
HTTP backend throughput: requests/s for small publishes through
``POST /backend``, and the server's CPU time per request.

One ``twistd snorky`` server pinned to one core (``--server-cpu``); this
script, pinned to the other core (``--client-cpu``), sends requests over
``--connections`` keep-alive connections, each waiting for its answer
(raw sockets and a minimal parser, so that the client is not what limits
a run). Phases, each ``--seconds`` long:

* ``empty``: ``pubsub_backend.publish`` to a channel nobody listens to
  (the cost of the HTTP API itself);
* ``sub1`` and ``sub100``: ``datasync_backend.publishDeltas`` of one delta
  to 1 and to 100 WebSocket subscribers of a broadcast dealer (held by
  ``bench/fanout_client.js``, which counts what they receive).

It prints, per phase, requests/s, the server's CPU time per request (which,
unlike the rate, holds up on a machine shared with other work), how busy
the server's core was, and the deliveries counted.

Run from the source tree::

    python3 bench/backend.py
"""

import argparse
import json
import os
import selectors
import socket
import sys
import time
from typing import Any, Dict, List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from fanout import (  # noqa: E402
    CONFIG,
    KEY,
    LoadGenerator,
    SnorkyServer,
    command_line,
    cpu_seconds,
    drain,
)

from snorky.backend import SnorkyBackend  # noqa: E402

PUBLISH = (
    '{{"service":"pubsub_backend","message":{{"command":"publish","callId":{n},'
    '"params":{{"channel":"nobody","message":{{"n":{n}}}}}}}}}'
)
DELTA = (
    '{{"service":"datasync_backend","message":{{"command":"publishDeltas","callId":{n},'
    '"params":{{"deltas":[{{"type":"insert","model":"Bench","data":'
    '{{"p":"{phase}","w":{w},"s":{s},"t":{t:.1f}}}}}]}}}}}}'
)


def request(port: int, body: str) -> bytes:
    data = body.encode()
    return (
        b"POST /backend HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Backend-Key: %s\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (port, KEY.encode(), len(data), data)
    )


class Connection:
    """
    One keep-alive connection with at most one request in flight.
    """

    def __init__(self, port: int, worker: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.worker = worker
        self.sent = 0
        self.buffer = b""

    def answered(self) -> int:
        """
        Read what arrived; the number of complete responses in it (each
        must be a 200).
        """
        self.buffer += self.sock.recv(65536)
        done = 0
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return done
            head = self.buffer[:end + 2]
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError("answer: {!r}".format(self.buffer[:300]))
            start = head.find(b"Content-Length: ") + 16
            length = int(head[start:head.find(b"\r\n", start)])
            if len(self.buffer) < end + 4 + length:
                return done
            self.buffer = self.buffer[end + 4 + length:]
            done += 1


def run_phase(port: int, phase: str, connections: int, seconds: float,
              server_pid: int) -> Tuple[int, float, float]:
    """
    Send requests of *phase* for *seconds* over *connections* connections.

    :returns: the requests answered, the wall time and the server's CPU time.
    """
    selector = selectors.DefaultSelector()
    conns = [Connection(port, w) for w in range(connections)]

    def body(conn: Connection) -> bytes:
        n = conn.sent
        conn.sent += 1
        if phase == "empty":
            return request(port, PUBLISH.format(n=n))
        return request(port, DELTA.format(n=n, phase=phase, w=conn.worker, s=n,
                                          t=time.time() * 1000))

    cpu_before, start = cpu_seconds(server_pid), time.monotonic()
    until = start + seconds
    for conn in conns:
        selector.register(conn.sock, selectors.EVENT_READ, conn)
        conn.sock.sendall(body(conn))
    answered, in_flight = 0, len(conns)
    while in_flight:
        for key, _ in selector.select(timeout=10):
            conn = key.data
            done = conn.answered()
            if not done:
                continue
            answered += done
            if time.monotonic() < until:
                conn.sock.sendall(body(conn))
            else:
                in_flight -= 1
    wall, cpu = time.monotonic() - start, cpu_seconds(server_pid) - cpu_before
    for conn in conns:
        conn.sock.close()
    selector.close()
    return answered, wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--connections", type=int, default=8,
                        help="keep-alive connections, one request in flight each")
    parser.add_argument("--phases", default="empty,sub1,sub100")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    options = parser.parse_args()
    phases = options.phases.split(",")
    unknown = set(phases) - {"empty", "sub1", "sub100"}
    if unknown:
        parser.error("unknown phases: {}".format(", ".join(sorted(unknown))))

    print("Command: " + command_line())
    print("Server pinned to CPU {}, this client and the subscribers to CPU {}".format(
        options.server_cpu, options.client_cpu))
    os.sched_setaffinity(0, {options.client_cpu})
    results: List[Dict[str, Any]] = []
    with SnorkyServer(options.server_cpu, CONFIG) as snorky:
        port = int(snorky.backend_url.rsplit(":", 1)[1].split("/")[0])
        backend = SnorkyBackend(snorky.backend_url, KEY)
        generators: List[LoadGenerator] = []
        try:
            for phase in phases:
                subscribers = {"empty": 0, "sub1": 1, "sub100": 100}[phase]
                for generator in generators:
                    generator.stop()
                generators.clear()
                if subscribers:
                    tokens = [backend.authorize_subscription([{"dealer": "bench", "query": None}])
                              for _ in range(subscribers)]
                    path = os.path.join(snorky.workdir, "tokens.json")
                    with open(path, "w") as f:
                        json.dump(tokens, f)
                    generator = LoadGenerator(options.client_cpu, snorky.url, "--tokens", path)
                    generators.append(generator)
                    generator.read("ready", 120)
                answered, wall, cpu = run_phase(
                    port, phase, options.connections, options.seconds, snorky.pid)
                delivered = 0
                if subscribers:
                    report = drain(generators[0], phase, answered * subscribers, 30)
                    delivered = report["phases"].get(phase, {}).get("received", 0)
                results.append({
                    "phase": phase, "subscribers": subscribers, "requests": answered,
                    "rate": answered / wall, "cpu_us": cpu / answered * 1e6,
                    "busy": cpu / wall * 100, "delivered": delivered,
                })
        finally:
            for generator in generators:
                generator.stop()
    print()
    print("{:<8} {:>11} {:>10} {:>12} {:>14} {:>9} {:>12}".format(
        "phase", "subscribers", "requests", "requests/s", "server us/req",
        "server %", "deliveries"))
    for r in results:
        print("{phase:<8} {subscribers:>11} {requests:>10} {rate:>12.0f} {cpu_us:>14.0f} "
              "{busy:>9.0f} {delivered:>12}".format(**r))
    print()
    print("requests/s on one dedicated core would be about 1e6 / (server us/req).")


if __name__ == "__main__":
    main()
