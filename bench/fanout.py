"""
End-to-end DataSync fan-out: one ``twistd snorky`` server, WebSocket
subscribers on a Node.js load generator (``bench/fanout_client.js``, package
``ws``), deltas published through the HTTP backend.

Steps, each bounded in time:

1. start ``twistd -n snorky`` pinned to one core (``--server-cpu``), with a
   broadcast dealer from a generated ``--config`` file;
2. idle memory: open ``--idle`` WebSocket connections that do nothing and
   report the server's resident memory per connection;
3. authorize ``--subscribers`` subscriptions and have the load generator,
   pinned to the other core (``--client-cpu``) with this publisher, open one
   connection per subscription and acquire it;
4. publish as fast as the server answers, in batches of 1, then of 50, for
   ``--seconds`` each; then at a steady ``--rate`` deltas/s in batches of 1;
5. print, per phase, deliveries/s, the server's CPU time per delivery
   (which, unlike the rates, holds up on a machine shared with other
   work), publish-to-receipt latency (p50, p99, max), lost deliveries
   (must be 0) and connections dropped (slow consumers).

Run from the source tree::

    python3 bench/fanout.py
"""

import argparse
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Dict, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from snorky.backend import SnorkyBackend  # noqa: E402

KEY = "fanout-bench-key-0123456789abcdef"
CONFIG = """
[[datasync.dealers]]
name = "bench"
model = "Bench"
kind = "broadcast"
"""
TWISTD = "import sys; from twisted.scripts.twistd import run; sys.argv[0] = 'twistd'; run()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    with open("/proc/{}/status".format(pid)) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for {}".format(pid))


def cpu_seconds(pid: int) -> float:
    """
    CPU time (user + system) used so far by process *pid*.
    """
    with open("/proc/{}/stat".format(pid)) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of proc(5), counted from 1.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for_port(port: int, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                "the server exited with status {}".format(process.returncode)
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not listen within {} s".format(timeout))


class LoadGenerator:
    """
    The Node.js process holding the WebSocket connections; a thread reads
    its output lines so that every wait for one is bounded.
    """

    def __init__(self, cpu: int, url: str, *args: str) -> None:
        command = [
            "taskset", "-c", str(cpu), "node",
            os.path.join(ROOT, "bench", "fanout_client.js"), "--url", url, *args,
        ]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        self.lines: "queue.Queue[Optional[str]]" = queue.Queue()
        threading.Thread(target=self._read_lines, daemon=True).start()

    def _read_lines(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def read(self, event: str, timeout: float) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(
                    "no {!r} from the load generator in {} s".format(event, timeout)
                ) from None
            if line is None:
                raise RuntimeError("the load generator exited")
            message = json.loads(line)
            if message.get("event") == event:
                return message
            print("load generator:", line.strip(), file=sys.stderr)

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def report(self) -> Dict[str, Any]:
        self.send("report")
        return self.read("report", 30)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.send("exit")
                self.process.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


def publish_phase(
    backend: SnorkyBackend,
    name: str,
    batch: int,
    seconds: float,
    rate: Optional[float] = None,
) -> int:
    """
    Publish deltas of phase *name* for *seconds*, in batches of *batch*,
    as fast as answered or at *rate* deltas per second.

    :returns: how many deltas were published.
    """
    start = time.monotonic()
    sequence = 0
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            return sequence
        if rate is not None:
            due = start + sequence / rate
            if due > now:
                time.sleep(due - now)
        sent_at = time.time() * 1000
        backend.publish_deltas(
            {"type": "insert", "model": "Bench",
             "data": {"p": name, "s": sequence + n, "t": sent_at}}
            for n in range(batch)
        )
        sequence += batch


def drain(
    generator: LoadGenerator, name: str, expected: int, timeout: float
) -> Dict[str, Any]:
    """
    Wait until phase *name* delivered *expected* deltas, or *timeout*.
    """
    deadline = time.monotonic() + timeout
    while True:
        report = generator.report()
        phase = report["phases"].get(name, {"received": 0})
        if phase["received"] >= expected or time.monotonic() > deadline:
            return report
        time.sleep(0.2)


def slow_consumer_drops(log_path: str) -> int:
    with open(log_path, errors="replace") as f:
        return sum("Slow consumer" in line for line in f)


def command_line() -> str:
    return "python3 " + " ".join(sys.argv)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase")
    parser.add_argument("--rate", type=float, default=200.0, help="steady deltas/s")
    parser.add_argument("--idle", type=int, default=5000, help="idle connections; 0 skips")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    options = parser.parse_args()

    print("Command: " + command_line())
    print("Server pinned to CPU {}, load generator and publisher to CPU {}".format(
        options.server_cpu, options.client_cpu))
    os.sched_setaffinity(0, {options.client_cpu})
    workdir = tempfile.mkdtemp(prefix="snorky-fanout-")
    config_path = os.path.join(workdir, "snorky.toml")
    with open(config_path, "w") as f:
        f.write(CONFIG)
    front_port, back_port = free_port(), free_port()
    log_path = os.path.join(workdir, "server.log")
    env = dict(os.environ, PYTHONPATH=ROOT)
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            ["taskset", "-c", str(options.server_cpu), sys.executable, "-c", TWISTD,
             "-n", "--pidfile=", "snorky", "--config", config_path,
             "--ports", "frontend:websocket:tcp:{}:interface=127.0.0.1".format(front_port),
             "--ports", "backend:http:tcp:{}:interface=127.0.0.1".format(back_port),
             "--backend-key", KEY],
            stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=env,
        )
    generators: List[LoadGenerator] = []
    try:
        wait_for_port(back_port, server, 30)
        wait_for_port(front_port, server, 30)
        url = "ws://127.0.0.1:{}/ws".format(front_port)
        backend = SnorkyBackend("http://127.0.0.1:{}/backend".format(back_port), KEY)

        if options.idle:
            time.sleep(1)
            before = rss_kib(server.pid)
            idle = LoadGenerator(options.client_cpu, url, "--idle", str(options.idle))
            generators.append(idle)
            idle.read("ready", 120)
            time.sleep(2)
            after = rss_kib(server.pid)
            print("Idle memory: {} connections, server RSS {:.1f} -> {:.1f} MiB, "
                  "{:.1f} KiB per connection".format(
                      options.idle, before / 1024, after / 1024,
                      (after - before) / options.idle))
            idle.stop()

        tokens = [
            backend.authorize_subscription([{"dealer": "bench", "query": None}])
            for _ in range(options.subscribers)
        ]
        tokens_path = os.path.join(workdir, "tokens.json")
        with open(tokens_path, "w") as f:
            json.dump(tokens, f)
        subscribers = LoadGenerator(options.client_cpu, url, "--tokens", tokens_path)
        generators.append(subscribers)
        subscribers.read("ready", 120)
        print("{} subscribers ready; {} s per phase".format(
            options.subscribers, options.seconds))
        print("{:<28} {:>7} {:>10} {:>12} {:>9} {:>7} {:>7} {:>7} {:>5} {:>4}".format(
            "phase", "deltas", "deliveries", "deliveries/s", "server µs", "p50 ms",
            "p99 ms", "max ms", "lost", "dups"))
        phases = [
            ("batch1", "batches of 1, max speed", 1, None),
            ("batch50", "batches of 50, max speed", 50, None),
            ("steady", "{:g} deltas/s, batches of 1".format(options.rate), 1, options.rate),
        ]
        report: Dict[str, Any] = {}
        for name, label, batch, rate in phases:
            cpu_before = cpu_seconds(server.pid)
            published = publish_phase(backend, name, batch, options.seconds, rate)
            expected = published * options.subscribers
            report = drain(subscribers, name, expected, 30)
            cpu = cpu_seconds(server.pid) - cpu_before
            phase = report["phases"].get(name, {"received": 0})
            received = phase["received"]
            seconds = phase.get("seconds") or float("nan")
            row = "{:<28} {:>7} {:>10} {:>12.0f} {:>9.2f} {:>7} {:>7} {:>7} {:>5} {:>4}"
            print(row.format(
                label, published, received, received / seconds,
                cpu / max(received, 1) * 1e6, phase.get("p50_ms"), phase.get("p99_ms"),
                phase.get("max_ms"), expected - received, phase.get("duplicates", 0)),
                flush=True)
        print("Connections closed early (client side): {}; slow consumers dropped "
              "(server log): {}".format(report.get("closed_early"),
                                        slow_consumer_drops(log_path)))
        backend.close()
    finally:
        for generator in generators:
            generator.stop()
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
