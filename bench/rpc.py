"""
RPC round trips: Snorky next to a bare Autobahn echo server, in one run.

``--clients`` WebSocket clients on a Node.js load generator
(``bench/rpc_client.js``, package ``ws``, pinned to ``--client-cpu``) each
call ``messaging.listParticipants`` and wait for the answer before the
next call, for ``--seconds``; the server (pinned to ``--server-cpu``) is in
turn:

* ``twistd -n snorky`` with the default app and its default options
  (``--write-delay`` is passed on when given);
* a bare Autobahn echo server written for this benchmark (every text
  message is sent back as it came), started by this script, on the same
  core, which is the floor that Snorky's own work adds to.

The two alternate ``--runs`` times, so that both meet the same machine.
For each run it prints round trips per second, p50 and p99 latency, and
the server's CPU use (percent of one core, and CPU time per round trip);
then the median of the runs and Snorky's ratio to the bare server.

Run from the source tree::

    python3 bench/rpc.py
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))

from fanout import cpu_seconds, free_port, stop_process, wait_for_port  # noqa: E402

TWISTD = "import sys; from twisted.scripts.twistd import run; sys.argv[0] = 'twistd'; run()"
REQUEST = ('{"service": "messaging", "message": {"command": "listParticipants", '
           '"params": {}, "callId": CALL_ID}}')


def echo_server(port: int) -> None:
    """
    Serve the bare Autobahn echo server on 127.0.0.1:*port* until killed.
    """
    from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
    from twisted.internet import reactor

    class Echo(WebSocketServerProtocol):
        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            self.sendMessage(payload, isBinary)

    factory = WebSocketServerFactory("ws://127.0.0.1:{}".format(port))
    factory.protocol = Echo
    reactor.listenTCP(port, factory, interface="127.0.0.1")  # type: ignore[attr-defined]
    reactor.run()  # type: ignore[attr-defined]


def start_server(kind: str, cpu: int, port: int, write_delay: Any) -> subprocess.Popen:
    if kind == "snorky":
        args = [sys.executable, "-c", TWISTD, "-n", "--pidfile=", "--logfile=/dev/null",
                "snorky", "--ports",
                "frontend:websocket:tcp:{}:interface=127.0.0.1".format(port)]
        if write_delay is not None:
            args += ["--write-delay", str(write_delay)]
    else:
        args = [sys.executable, os.path.abspath(__file__), "--echo-server", str(port)]
    process = subprocess.Popen(
        ["taskset", "-c", str(cpu), *args], cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=ROOT),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, 30)
    except BaseException:
        process.kill()
        raise
    return process


def measure(kind: str, options: argparse.Namespace) -> Dict[str, Any]:
    """
    One run against a fresh server of *kind* ("snorky" or "autobahn").
    """
    port = free_port()
    server = start_server(kind, options.server_cpu, port, options.write_delay)
    try:
        path = "/ws" if kind == "snorky" else "/"
        # A short warm-up run, so that both servers are measured hot.
        for seconds in (1, options.seconds):
            before, started = cpu_seconds(server.pid), time.monotonic()
            output = subprocess.run(
                ["taskset", "-c", str(options.client_cpu), "node",
                 os.path.join(ROOT, "bench", "rpc_client.js"),
                 "--url", "ws://127.0.0.1:{}{}".format(port, path),
                 "--clients", str(options.clients), "--seconds", str(seconds),
                 "--request", REQUEST],
                cwd=ROOT, capture_output=True, text=True, timeout=seconds + 60,
            )
            if output.returncode:
                raise RuntimeError("load generator failed: " + output.stderr)
            cpu = cpu_seconds(server.pid) - before
            wall = time.monotonic() - started
        result = json.loads(output.stdout.strip().splitlines()[-1])
        result["cpu_percent"] = cpu / wall * 100
        result["cpu_us_per_trip"] = cpu / max(result["trips"], 1) * 1e6
        result["per_second"] = result["trips"] / result["seconds"]
        return result
    finally:
        stop_process(server)


ROW = "{:<10} {:>4} {:>13.0f} {:>8.2f} {:>8.2f} {:>9.0f} {:>14.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0, help="per run")
    parser.add_argument("--runs", type=int, default=3, help="runs of each server")
    parser.add_argument("--write-delay", type=float, default=None,
                        help="Snorky's --write-delay; its default when not given")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument("--echo-server", type=int, default=None, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.echo_server is not None:
        echo_server(options.echo_server)
        return
    print("Command: python3 " + " ".join(sys.argv))
    print("{} clients, sequential calls, {:g} s per run; servers on CPU {}, "
          "load generator on CPU {}".format(options.clients, options.seconds,
                                            options.server_cpu, options.client_cpu))
    print("{:<10} {:>4} {:>13} {:>8} {:>8} {:>9} {:>14}".format(
        "server", "run", "round trips/s", "p50 ms", "p99 ms", "server %", "server µs/trip"))
    results: Dict[str, List[Dict[str, Any]]] = {"snorky": [], "autobahn": []}
    for run in range(1, options.runs + 1):
        for kind in ("snorky", "autobahn"):
            result = measure(kind, options)
            results[kind].append(result)
            print(ROW.format(kind, run, result["per_second"], result["p50_ms"],
                             result["p99_ms"], result["cpu_percent"],
                             result["cpu_us_per_trip"]), flush=True)
    medians = {}
    for kind, runs in results.items():
        medians[kind] = {
            key: statistics.median(run[key] for run in runs)
            for key in ("per_second", "p50_ms", "p99_ms", "cpu_percent", "cpu_us_per_trip")
        }
        m = medians[kind]
        print(ROW.format(kind, "med", m["per_second"], m["p50_ms"], m["p99_ms"],
                         m["cpu_percent"], m["cpu_us_per_trip"]))
    snorky, bare = medians["snorky"], medians["autobahn"]
    print("Snorky / bare Autobahn: {:.0%} of the round trips/s, p50 {:+.2f} ms".format(
        snorky["per_second"] / bare["per_second"], snorky["p50_ms"] - bare["p50_ms"]))


if __name__ == "__main__":
    main()
