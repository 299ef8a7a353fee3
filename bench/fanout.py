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
4. warm up: publish at the steady ``--rate`` for ``--warmup`` seconds, so
   that the server's first full garbage collection after all those
   connections (about 50-100 ms with 1,000 of them) falls outside the
   phases; this row is printed but is not a result;
5. publish as fast as the server answers (``--publishers`` threads, each
   waiting for its answer), in batches of 1, then of 50, for ``--seconds``
   each; then at a steady ``--rate`` deltas/s in batches of 1, open loop
   (each delta stamped with the time it was due, up to
   ``--steady-workers`` requests in flight);
6. print, per phase, deliveries/s, the server's CPU time per delivery
   (which, unlike the rates, holds up on a machine shared with other
   work), publish-to-receipt latency (p50, p99, max), lost deliveries
   (must be 0) and connections dropped (slow consumers); and how busy
   each process kept its core while the phase published (``server %``,
   ``loadgen %`` for Node, ``publisher %`` for this process), which shows
   whether the server or the benchmark's own side was the bottleneck.

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
import urllib.request
from typing import Any, Dict, List, Optional, Tuple

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


def stop_process(process: subprocess.Popen) -> None:
    """
    Stop *process* (SIGTERM, then SIGKILL after 15 s) and wait for it.
    """
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class SnorkyServer:
    """
    ``twistd -n snorky`` pinned to *cpu*, with the DataSync *config* (TOML
    text), a WebSocket frontend and an HTTP backend on free loopback
    ports; its log and config live in a temporary folder. A context
    manager: leaving it stops the server and removes the folder.
    """

    def __init__(self, cpu: int, config: str, *args: str) -> None:
        self.workdir = tempfile.mkdtemp(prefix="snorky-bench-")
        config_path = os.path.join(self.workdir, "snorky.toml")
        with open(config_path, "w") as f:
            f.write(config)
        front_port, back_port = free_port(), free_port()
        self.url = "ws://127.0.0.1:{}/ws".format(front_port)
        self.backend_url = "http://127.0.0.1:{}/backend".format(back_port)
        self.log_path = os.path.join(self.workdir, "server.log")
        env = dict(os.environ, PYTHONPATH=ROOT)
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                ["taskset", "-c", str(cpu), sys.executable, "-c", TWISTD,
                 "-n", "--pidfile=", "snorky", "--config", config_path,
                 "--ports", "frontend:websocket:tcp:{}:interface=127.0.0.1".format(front_port),
                 "--ports", "backend:http:tcp:{}:interface=127.0.0.1".format(back_port),
                 "--backend-key", KEY,
                 # Every benchmark connection comes from 127.0.0.1.
                 "--max-connections-per-address", "0", *args],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir, env=env,
            )
        self.pid = self.process.pid
        try:
            wait_for_port(back_port, self.process, 30)
            wait_for_port(front_port, self.process, 30)
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> "SnorkyServer":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def stop(self) -> None:
        stop_process(self.process)
        shutil.rmtree(self.workdir, ignore_errors=True)


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


class Publisher:
    """
    Publishes the deltas of one phase from *workers* threads, each with its
    own connection to the backend API, so that several requests can be in
    flight as when many application processes publish.

    Each delta's data is ``{"p": phase, "w": worker, "s": that worker's
    sequence number, "t": time in ms}``; a worker's deltas arrive in its
    order, so the load generator checks the order per worker.
    """

    def __init__(self, url: str, name: str, batch: int, workers: int) -> None:
        self.url = url
        self.name = name
        self.batch = batch
        self.workers = workers
        self.published = [0] * workers
        self.tasks: "queue.Queue[Optional[float]]" = queue.Queue()

    def publish(self, backend: SnorkyBackend, worker: int, stamp: float) -> None:
        """
        Publish one batch from *worker*, stamped *stamp*, through *backend*.
        """
        sequence = self.published[worker]
        backend.publish_deltas(
            {"type": "insert", "model": "Bench",
             "data": {"p": self.name, "w": worker, "s": sequence + n, "t": stamp}}
            for n in range(self.batch)
        )
        self.published[worker] = sequence + self.batch

    def _flat_out(self, worker: int, until: float) -> None:
        with SnorkyBackend(self.url, KEY, timeout=60) as backend:
            while time.monotonic() < until:
                self.publish(backend, worker, time.time() * 1000)

    def _scheduled(self, worker: int) -> None:
        with SnorkyBackend(self.url, KEY, timeout=60) as backend:
            while True:
                stamp = self.tasks.get()
                if stamp is None:
                    return
                self.publish(backend, worker, stamp)

    def flat_out(self, seconds: float) -> int:
        """
        Publish as fast as the server answers, for *seconds*.

        :returns: the number of deltas published.
        """
        until = time.monotonic() + seconds
        self._run(self._flat_out, until)
        return sum(self.published)

    def steady(self, seconds: float, rate: float, backlog_wait: float) -> Tuple[int, int]:
        """
        Publish *rate* batches per second for *seconds*, open loop: each
        batch is stamped with the time it was due, so time spent waiting
        for a free worker counts as latency. Batches still waiting
        *backlog_wait* seconds after the last one was due are not sent.

        :returns: the deltas published, and the batches not sent.
        """
        threads = self._start(self._scheduled)
        start, wall = time.monotonic(), time.time()
        due = 0.0
        while due < seconds:
            delay = start + due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.tasks.put((wall + due) * 1000)
            due += 1 / rate
        deadline = time.monotonic() + backlog_wait
        while not self.tasks.empty() and time.monotonic() < deadline:
            time.sleep(0.05)
        unsent = 0
        while True:
            try:
                self.tasks.get_nowait()
                unsent += 1
            except queue.Empty:
                break
        for _ in threads:
            self.tasks.put(None)
        for thread in threads:
            thread.join(60)
        return sum(self.published), unsent

    def _start(self, target: Any, *args: Any) -> List[threading.Thread]:
        threads = [
            threading.Thread(target=target, args=(worker, *args), daemon=True)
            for worker in range(self.workers)
        ]
        for thread in threads:
            thread.start()
        return threads

    def _run(self, target: Any, *args: Any) -> None:
        for thread in self._start(target, *args):
            thread.join(120)


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


def scrape(url: str) -> None:
    """
    Fetch *url* every second for at most an hour, as Prometheus would.
    """
    for _ in range(3600):
        time.sleep(1)
        try:
            urllib.request.urlopen(url, timeout=5).read()
        except OSError:
            pass


def command_line() -> str:
    return "python3 " + " ".join(sys.argv)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase")
    parser.add_argument("--rate", type=float, default=200.0, help="steady deltas/s")
    parser.add_argument("--idle", type=int, default=5000, help="idle connections; 0 skips")
    parser.add_argument(
        "--warmup", type=float, default=5.0,
        help="seconds of publishing at --rate before the phases, reported apart; 0 skips",
    )
    parser.add_argument(
        "--publishers", type=int, default=4,
        help="publishing threads in the max-speed phases")
    parser.add_argument(
        "--steady-workers", type=int, default=16,
        help="publishing threads (the most requests in flight) in the steady phase")
    parser.add_argument(
        "--phases", default="batch1,batch50,steady",
        help="comma-separated phases to run, in this order (batch1, batch50, steady)")
    parser.add_argument(
        "--write-delay", type=float, default=None,
        help="the server's --write-delay (seconds); its default when not given",
    )
    parser.add_argument(
        "--metrics", action="store_true",
        help="give the server an ops port and scrape its /metrics every second")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    options = parser.parse_args()
    unknown = set(options.phases.split(",")) - {"batch1", "batch50", "steady"}
    if unknown:
        parser.error("unknown phases: {}".format(", ".join(sorted(unknown))))

    print("Command: " + command_line())
    print("Server pinned to CPU {}, load generator and publisher to CPU {}".format(
        options.server_cpu, options.client_cpu))
    os.sched_setaffinity(0, {options.client_cpu})
    write_delay = []
    if options.write_delay is not None:
        write_delay = ["--write-delay", str(options.write_delay)]
    if options.metrics:
        ops_port = free_port()
        write_delay += ["--ports", "ops:ops:tcp:{}".format(ops_port)]
        ops_url = "http://127.0.0.1:{}/metrics".format(ops_port)
        threading.Thread(target=scrape, args=(ops_url,), daemon=True).start()
    generators: List[LoadGenerator] = []
    with SnorkyServer(options.server_cpu, CONFIG, *write_delay) as snorky:
        try:
            run(options, snorky, generators)
        finally:
            for generator in generators:
                generator.stop()


def run(options: argparse.Namespace, snorky: SnorkyServer,
        generators: List[LoadGenerator]) -> None:
    """
    The measurements of :func:`main`, against the running *snorky*; every
    load generator started goes into *generators*.
    """
    server, url, backend_url = snorky.process, snorky.url, snorky.backend_url
    backend = SnorkyBackend(backend_url, KEY)

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
    tokens_path = os.path.join(snorky.workdir, "tokens.json")
    with open(tokens_path, "w") as f:
        json.dump(tokens, f)
    subscribers = LoadGenerator(options.client_cpu, url, "--tokens", tokens_path)
    generators.append(subscribers)
    subscribers.read("ready", 120)
    print("{} subscribers ready; {} s per phase".format(
        options.subscribers, options.seconds))
    header = ("{:<26} {:>7} {:>10} {:>12} {:>9} {:>7} {:>7} {:>7} {:>5} {:>4} "
              "{:>8} {:>9} {:>11}")
    print(header.format(
        "phase", "deltas/s", "deliveries", "deliveries/s", "server µs", "p50 ms",
        "p99 ms", "max ms", "lost", "dups", "server %", "loadgen %", "publisher %"))
    watched = (server.pid, subscribers.process.pid, os.getpid())
    known = {
        "batch1": ("batches of 1, max speed", 1, None),
        "batch50": ("batches of 50, max speed", 50, None),
        "steady": ("{:g}/s, batches of 1".format(options.rate), 1, options.rate),
    }
    phases = [(name, *known[name], options.seconds) for name in options.phases.split(",")]
    if options.warmup:
        # The server's first full garbage collection after the
        # subscribers connected would otherwise land in the first phase.
        phases.insert(0, ("warmup", "warm-up (not a result)", 1, options.rate,
                          options.warmup))
    report: Dict[str, Any] = {}
    for name, label, batch, rate, seconds in phases:
        cpu_before = cpu_seconds(server.pid)
        busy_before = [cpu_seconds(pid) for pid in watched]
        started = time.monotonic()
        if rate is None:
            publisher = Publisher(backend_url, name, batch, options.publishers)
            published, unsent = publisher.flat_out(seconds), 0
        else:
            publisher = Publisher(backend_url, name, batch, options.steady_workers)
            published, unsent = publisher.steady(seconds, rate, 10)
        busy = [
            (cpu_seconds(pid) - before) / (time.monotonic() - started) * 100
            for pid, before in zip(watched, busy_before)
        ]
        expected = published * options.subscribers
        # Max-speed phases can leave the load generator tens of seconds
        # behind; a shorter wait would count late deliveries as lost.
        report = drain(subscribers, name, expected, 90)
        cpu = cpu_seconds(server.pid) - cpu_before
        phase = report["phases"].get(name, {"received": 0})
        received = phase["received"]
        seconds = phase.get("seconds") or float("nan")
        row = ("{:<26} {:>7.0f} {:>10} {:>12.0f} {:>9.2f} {:>7} {:>7} {:>7} "
               "{:>5} {:>4} {:>8.0f} {:>9.0f} {:>11.0f}")
        print(row.format(
            label, published / seconds, received, received / seconds,
            cpu / max(received, 1) * 1e6, phase.get("p50_ms"), phase.get("p99_ms"),
            phase.get("max_ms"), expected - received, phase.get("duplicates", 0),
            *busy),
            flush=True)
        if unsent:
            print("  the publisher fell behind: {} batches were never sent".format(
                unsent))
    print("Connections closed early (client side): {}; slow consumers dropped "
          "(server log): {}".format(report.get("closed_early"),
                                    slow_consumer_drops(snorky.log_path)))
    backend.close()


if __name__ == "__main__":
    main()
