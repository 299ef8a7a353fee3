"""
Soak test: the attacks of the hardening issue against a real
``twistd -n snorky``, one after the other, each bounded in time and in
bytes, on loopback only.

For each attack it prints the server's resident memory before, at its
peak and 10 s after the attack ended (the floor is "within 10 MB of
before"), and whether a healthy client kept getting answers meanwhile:
a WebSocket client on another loopback address (127.0.0.2) calling
``echo`` every 100 ms, whose answers and failures are counted.

The attacks (numbers as in the issue):

1. slow consumers on ``/ws``, ``/sockjs/websocket`` and
   ``/sockjs/<server>/<session>/websocket``: subscribers that stop
   reading while ``--slow-mb`` MiB are published to them;
2. ping flood: clients sending ``--ping-mb`` MiB of pings, never reading;
3. (memory return: the "after" column of every attack);
4. PubSub channel names: ``--channels`` subscriptions with 1 MB names;
5. replay buffers: a DataSync subscription authorized but never acquired,
   while ``--deltas`` deltas of 64 KiB are published;
6. SockJS sessions from one address: ``--sessions`` pipelined opens,
   then whether the healthy client can still open one;
7. trickled HTTP requests: ``--trickled`` connections sending their
   headers one byte per second for ``--trickle-seconds``; whether the
   healthy client and the backend port stay reachable;
8. an oversized ``Content-Length`` (10^12): how long before the server
   answers.

Run from the source tree::

    .venv/bin/python bench/soak.py
"""

import argparse
import base64
import json
import os
import resource
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from fanout import free_port, rss_kib, stop_process, wait_for_port  # noqa: E402
from snorky.backend import SnorkyBackend  # noqa: E402

KEY = "soak-bench-key-0123456789abcdef0123"
CONFIG = """
[[datasync.dealers]]
name = "soak"
model = "Soak"
kind = "broadcast"
"""
TWISTD = "import sys; from twisted.scripts.twistd import run; sys.argv[0] = 'twistd'; run()"
MIB = 1 << 20
HEALTHY_ADDRESS = "127.0.0.2"


# A minimal WebSocket client on a plain socket: the attacks need to do what
# a polite client library will not (stop reading, send raw frames).

def ws_connect(port: int, path: str, source: str = "127.0.0.1",
               timeout: float = 5.0) -> socket.socket:
    """
    A WebSocket connection to 127.0.0.1:*port*/*path* from *source*, past
    its opening handshake.
    """
    sock = socket.socket()
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16))
    sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
    answer = b""
    while not answer.endswith(b"\r\n\r\n"):
        # One byte at a time: a frame may follow the handshake at once.
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionError("closed during the handshake")
        answer += chunk
    if not answer.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(answer.split(b"\r\n")[0].decode("latin-1"))
    return sock


def ws_frame(opcode: int, payload: bytes) -> bytes:
    """
    A final client frame (masked) carrying *payload*.
    """
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if length < 4096 \
        else _mask_fast(payload, mask)
    return header + mask + masked


def _mask_fast(payload: bytes, mask: bytes) -> bytes:
    repeated = (mask * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        len(payload), "big")


def ws_read(sock: socket.socket) -> Tuple[int, bytes]:
    """
    The next frame from the server: opcode and payload.
    """
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("connection closed")
            data += chunk
        return data

    first, second = exactly(2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", exactly(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", exactly(8))[0]
    return first & 0x0F, exactly(length)


def call(sock: socket.socket, service: str, command: str, call_id: int,
         framed: bool = False, **params: Any) -> Any:
    """
    Send one RPC request and return its reply message, skipping others.
    """
    request = json.dumps({"service": service, "message": {
        "command": command, "params": params, "callId": call_id}})
    if framed:
        request = json.dumps([request])
    sock.sendall(ws_frame(0x1, request.encode()))
    while True:
        opcode, payload = ws_read(sock)
        if opcode != 0x1:
            continue
        texts = [payload.decode()]
        if framed:
            if not payload.startswith(b"a"):
                continue
            texts = json.loads(payload[1:])
        for text in texts:
            message = json.loads(text).get("message")
            if isinstance(message, dict) and message.get("callId") == call_id:
                return message


class HealthyClient:
    """
    Calls ``echo`` every 100 ms from 127.0.0.2 in a thread, reconnecting
    when needed, and counts answers and failures.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.answered = 0
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def counts(self) -> Tuple[int, int]:
        return self.answered, self.failed

    def _run(self) -> None:
        sock: Optional[socket.socket] = None
        n = 0
        while not self._stop.is_set():
            try:
                if sock is None:
                    sock = ws_connect(self.port, "/ws", HEALTHY_ADDRESS, timeout=2)
                n += 1
                sock.sendall(ws_frame(0x1, json.dumps(
                    {"service": "echo", "message": n}).encode()))
                while True:
                    opcode, payload = ws_read(sock)
                    if opcode == 0x1 and json.loads(payload).get("message") == n:
                        break
                self.answered += 1
            except (OSError, ValueError):
                self.failed += 1
                if sock is not None:
                    sock.close()
                sock = None
            self._stop.wait(0.1)
        if sock is not None:
            sock.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


class Server:
    """
    ``twistd -n snorky`` with WebSocket and SockJS on one loopback port, the
    backend on another, and a DataSync dealer; a context manager.
    """

    def __init__(self) -> None:
        self.workdir = tempfile.mkdtemp(prefix="snorky-soak-")
        config = os.path.join(self.workdir, "snorky.toml")
        with open(config, "w") as f:
            f.write(CONFIG)
        self.port, self.backend_port = free_port(), free_port()
        self.log_path = os.path.join(self.workdir, "server.log")
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", TWISTD, "-n", "--pidfile=", "snorky",
                 "--config", config,
                 "--ports", "frontend:websocket+sockjs:tcp:{}:interface=127.0.0.1".format(
                     self.port),
                 "--ports", "backend:http:tcp:{}:interface=127.0.0.1".format(
                     self.backend_port),
                 "--backend-key", KEY],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
                env=dict(os.environ, PYTHONPATH=ROOT),
            )
        try:
            wait_for_port(self.port, self.process, 30)
            wait_for_port(self.backend_port, self.process, 30)
        except BaseException:
            self.stop()
            raise
        self.backend_url = "http://127.0.0.1:{}/backend".format(self.backend_port)

    def rss_mib(self) -> float:
        return rss_kib(self.process.pid) / 1024

    def stop(self) -> None:
        stop_process(self.process)
        shutil.rmtree(self.workdir, ignore_errors=True)


def close_all(socks: List[socket.socket]) -> None:
    for sock in socks:
        try:
            sock.close()
        except OSError:
            pass
    socks.clear()


# The attacks. Each returns a short note; its sockets go into *held*,
# which the caller closes when the attack ends.

def slow_consumers(server: Server, options: Any, held: List[socket.socket]) -> str:
    backend = SnorkyBackend(server.backend_url, KEY, timeout=30)
    paths = ["/ws", "/sockjs/websocket", "/sockjs/0/soak{}/websocket"]
    for n in range(options.slow_clients):
        path = paths[n % 3].format(n)
        sock = ws_connect(server.port, path)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        framed = path.endswith("/websocket") and path.count("/") == 4
        if framed:
            ws_read(sock)  # the open frame
        call(sock, "pubsub", "subscribe", 1, framed=framed, channel="soak")
        held.append(sock)
    chunk = "x" * (64 * 1024)
    published = 0
    deadline = time.monotonic() + options.attack_seconds
    while published < options.slow_mb * 16 and time.monotonic() < deadline:
        backend.publish("soak", chunk)
        published += 1
    backend.close()
    return "{} subscribers, {:.0f} MiB published to each".format(
        options.slow_clients, published / 16)


def ping_flood(server: Server, options: Any, held: List[socket.socket]) -> str:
    ping = ws_frame(0x9, b"p" * 125)
    sent = 0
    deadline = time.monotonic() + options.attack_seconds
    socks = [ws_connect(server.port, "/ws") for _ in range(4)]
    held.extend(socks)
    for sock in socks:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
    burst = ping * 512
    while sent < options.ping_mb * MIB and time.monotonic() < deadline and socks:
        for sock in list(socks):
            try:
                sent += sock.send(burst)
            except BlockingIOError:
                pass
            except OSError:
                socks.remove(sock)
        time.sleep(0.001)
    return "{:.0f} MiB of pings from 4 clients; {} still connected".format(
        sent / MIB, len(socks))


def channel_names(server: Server, options: Any, held: List[socket.socket]) -> str:
    sock = ws_connect(server.port, "/ws", timeout=30)
    held.append(sock)
    accepted = 0
    for n in range(options.channels):
        # 1 MB (10^6 bytes): a name of 1 MiB would not fit in a message.
        name = "{}-".format(n) + "c" * 1000000
        reply = call(sock, "pubsub", "subscribe", n + 1, channel=name)
        accepted += reply.get("type") == "response"
    return "{} of {} subscriptions with 1 MB names accepted".format(
        accepted, options.channels)


def replay_buffers(server: Server, options: Any, held: List[socket.socket]) -> str:
    backend = SnorkyBackend(server.backend_url, KEY, timeout=30)
    backend.authorize_subscription([{"dealer": "soak", "query": None}])
    data = "d" * (64 * 1024)
    refused = 0
    for n in range(options.deltas):
        try:
            backend.publish_deltas(
                [{"type": "insert", "model": "Soak", "data": {"n": n, "blob": data}}])
        except Exception:
            refused += 1
    backend.close()
    return "{} deltas of 64 KiB, {} refused".format(options.deltas, refused)


def _http_status(port: int, request: bytes, source: str = "127.0.0.1",
                 timeout: float = 5.0) -> Optional[int]:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                      source_address=(source, 0)) as sock:
            sock.sendall(request)
            answer = sock.recv(4096)
        return int(answer.split(b" ")[1]) if answer.startswith(b"HTTP/") else None
    except (OSError, ValueError, IndexError):
        return None


def _xhr_open(session: str) -> bytes:
    return ("POST /sockjs/0/{}/xhr HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Length: 0\r\n\r\n".format(session)).encode()


def sockjs_sessions(server: Server, options: Any, held: List[socket.socket]) -> str:
    opened = refused = 0
    deadline = time.monotonic() + options.attack_seconds
    batch = 100
    for start in range(0, options.sessions, batch):
        if time.monotonic() > deadline:
            break
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"".join(_xhr_open("flood{}".format(n))
                                  for n in range(start, start + batch)))
            answers = b""
            sock.settimeout(10)
            while answers.count(b"HTTP/1.1 ") < batch:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answers += chunk
        opened += answers.count(b"HTTP/1.1 200")
        refused += answers.count(b"HTTP/1.1 503")
    status = _http_status(server.port, _xhr_open("healthy"), HEALTHY_ADDRESS)
    return "{} sessions opened, {} refused; a session from another address: {}".format(
        opened, refused, status)


def trickled_requests(server: Server, options: Any, held: List[socket.socket]) -> str:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    count = min(options.trickled, hard - 100)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 200), hard))
    for port in (server.port,):
        for _ in range(count):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            except OSError:
                break
            sock.sendall(b"G")
            held.append(sock)
    start = time.monotonic()
    frontend = backend = None
    while time.monotonic() - start < options.trickle_seconds:
        for sock in list(held):
            try:
                sock.send(b"E")
            except OSError:
                held.remove(sock)
        if frontend is None and time.monotonic() - start > 2:
            frontend = _http_status(
                server.port, b"GET /snorky.js HTTP/1.1\r\nHost: x\r\n\r\n",
                HEALTHY_ADDRESS, timeout=3)
            backend = _http_status(
                server.backend_port,
                b"POST /backend HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
                HEALTHY_ADDRESS, timeout=3)
        time.sleep(1)
    return ("{} trickling connections, {} still open after {:.0f} s; during it a "
            "new frontend request got {}, a backend request got {}").format(
                count, len(held), options.trickle_seconds, frontend, backend)


def oversized_body(server: Server, options: Any, held: List[socket.socket]) -> str:
    sock = socket.create_connection(("127.0.0.1", server.backend_port), timeout=10)
    held.append(sock)
    sock.sendall(b"POST /backend HTTP/1.1\r\nHost: x\r\nX-Backend-Key: " + KEY.encode()
                 + b"\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 1000000000000\r\n\r\n{")
    started = time.monotonic()
    sock.settimeout(0.2)
    answer = b""
    while time.monotonic() - started < options.attack_seconds:
        try:
            answer = sock.recv(4096)
            break
        except socket.timeout:
            try:
                sock.sendall(b" " * 65536)
            except OSError:
                break
    if answer.startswith(b"HTTP/"):
        return "answered {} after {:.1f} s".format(
            answer.split(b"\r\n")[0].decode("latin-1"), time.monotonic() - started)
    return "no answer within {:.0f} s".format(options.attack_seconds)


ATTACKS: List[Tuple[str, Callable[[Server, Any, List[socket.socket]], str]]] = [
    ("1 slow consumers", slow_consumers),
    ("2 ping flood", ping_flood),
    ("4 channel names", channel_names),
    ("5 replay buffers", replay_buffers),
    ("6 SockJS sessions", sockjs_sessions),
    ("7 trickled HTTP", trickled_requests),
    ("8 huge Content-Length", oversized_body),
]


def run_attack(server: Server, healthy: HealthyClient, name: str,
               attack: Callable[..., str], options: Any) -> None:
    time.sleep(1)
    before = server.rss_mib()
    peak = [before]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set() and server.process.poll() is None:
            peak[0] = max(peak[0], server.rss_mib())
            sampling.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    answered, failed = healthy.counts()
    held: List[socket.socket] = []
    try:
        note = attack(server, options, held)
    except Exception as e:  # the attack's own failure is a result too
        note = "attack stopped: {}: {}".format(type(e).__name__, e)
    finally:
        close_all(held)
    answered = healthy.counts()[0] - answered
    failed = healthy.counts()[1] - failed
    ended = time.monotonic()
    while time.monotonic() - ended < options.settle:
        time.sleep(0.5)
        if server.rss_mib() <= before + 10:
            break
    settled = time.monotonic() - ended
    sampling.set()
    sampler.join(2)
    after = server.rss_mib()
    verdict = "ok" if after <= before + 10 else "KEPT"
    print("{:<22} {:>7.1f} {:>7.1f} {:>7.1f} {:>6} {:>5.1f}s {:>8} {:>6}  {}".format(
        name, before, peak[0], after, verdict, settled, answered, failed, note),
        flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attack-seconds", type=float, default=20.0,
                        help="the longest any attack runs")
    parser.add_argument("--settle", type=float, default=10.0,
                        help="seconds for the memory to come back after an attack")
    parser.add_argument("--slow-clients", type=int, default=6)
    parser.add_argument("--slow-mb", type=int, default=40, help="MiB published")
    parser.add_argument("--ping-mb", type=int, default=80)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--deltas", type=int, default=600)
    parser.add_argument("--sessions", type=int, default=10400)
    parser.add_argument("--trickled", type=int, default=1100,
                        help="beyond the server's usual 1,024 open files")
    parser.add_argument("--trickle-seconds", type=float, default=10.0)
    parser.add_argument("--only", default=None,
                        help="comma-separated attack numbers to run (default: all)")
    options = parser.parse_args()
    print("Command: .venv/bin/python " + " ".join(sys.argv))
    print("RSS in MiB; 'after' is read once it is within 10 MiB of 'before', or "
          "after {:g} s; healthy = echo answers / failures of the client on {} "
          "during the attack".format(options.settle, HEALTHY_ADDRESS))
    print("{:<22} {:>7} {:>7} {:>7} {:>6} {:>6} {:>8} {:>6}  {}".format(
        "attack", "before", "peak", "after", "floor", "settle", "healthy", "failed",
        "what happened"))
    only = set(options.only.split(",")) if options.only else None
    server = Server()
    healthy = HealthyClient(server.port)
    try:
        for name, attack in ATTACKS:
            if only is None or name.split()[0] in only:
                run_attack(server, healthy, name, attack, options)
                if server.process.poll() is not None:
                    print("the server exited with status {}".format(
                        server.process.returncode))
                    break
    finally:
        healthy.stop()
        server.stop()


if __name__ == "__main__":
    main()
