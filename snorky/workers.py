"""
``--workers N``: one machine's cores as N Snorky processes.

``twistd -n snorky --workers N --broker URL ...`` runs a parent that does
not serve anything itself: it starts N worker processes (``python -m
twisted snorky`` with the same options, and ``--worker I:N:DIR``), restarts
any that dies (and logs it), and stops them all on SIGTERM, waiting for
them to close their clients (WebSocket code 1001).

Each worker is a node of the broker (its node id ends in ``-wI``) and
listens on every configured port itself, with ``SO_REUSEPORT``: the kernel
spreads new connections over the workers. A WebSocket (raw or SockJS)
lives on one connection, so on one worker. SockJS's HTTP transports
(``xhr``, ``xhr_streaming``, ``eventsource``...) send a session's requests
on several connections, which may reach different workers: each session
belongs to the worker its id hashes to, and any other worker forwards that
session's requests, streaming the answer back, over a UNIX socket in DIR
(``wI-pJ.sock`` for worker I's J-th SockJS port), which only the workers
use.
"""

import os
import shutil
import socket
import sys
import tempfile
import zlib
from typing import Any, List, Mapping, Optional, Sequence

from twisted.application.service import MultiService
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.defer import Deferred
from twisted.internet.tcp import Port
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.runner.procmon import ProcessMonitor
from twisted.web.proxy import ProxyClient, ProxyClientFactory
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from snorky.reactors import default_reactor

__all__ = [
    "WorkerInfo",
    "parse_worker",
    "worker_count",
    "Supervisor",
    "ReusePortReactor",
    "serve_as_worker",
    "owner_of",
]

#: SockJS transports whose session spans several HTTP requests.
HTTP_TRANSPORTS = frozenset(
    [b"xhr", b"xhr_send", b"xhr_streaming", b"eventsource", b"htmlfile",
     b"jsonp", b"jsonp_send"]
)

#: Header carrying the browser's address on a forwarded request.
FORWARDED_FOR = b"X-Snorky-Worker-Client"


class WorkerInfo:
    """
    What a worker is told by ``--worker I:N:DIR``.
    """

    def __init__(self, index: int, count: int, directory: str) -> None:
        self.index = index
        self.count = count
        self.directory = directory

    def socket_path(self, worker: int, port: int) -> str:
        """
        Where worker *worker* takes forwarded requests of its *port*-th
        SockJS port.
        """
        return os.path.join(self.directory, "w{}-p{}.sock".format(worker, port))


def parse_worker(text: str) -> WorkerInfo:
    """
    Parse ``--worker I:N:DIR``.

    :raises ValueError: if it is not that.
    """
    index, count, directory = text.split(":", 2)
    info = WorkerInfo(int(index), int(count), directory)
    if not 0 <= info.index < info.count or not directory:
        raise ValueError("--worker wants I:N:DIR with 0 <= I < N")
    return info


def worker_count(text: Any) -> int:
    """
    The number of workers ``--workers`` asks for: 0 is one per core.

    :raises ValueError: for anything but a whole number from 0 to 1024.
    """
    try:
        count = int(text)
    except (TypeError, ValueError):
        raise ValueError("--workers wants a whole number (0: one per core)") from None
    if not 0 <= count <= 1024:
        raise ValueError("--workers wants a number from 0 (one per core) to 1024")
    return count or os.cpu_count() or 1


def owner_of(session: bytes, count: int) -> int:
    """
    The worker that holds SockJS session *session* (its id from the URL).
    """
    return zlib.crc32(session) % count


def worker_arguments(argv: Sequence[str]) -> List[str]:
    """
    The options after ``snorky`` in *argv*, without ``--workers``.
    """
    args = list(argv)
    if "snorky" in args:
        args = args[args.index("snorky") + 1:]
    out: List[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == "--workers":
            skip = True
            continue
        if arg.startswith("--workers="):
            continue
        out.append(arg)
    return out


# -- The parent -----------------------------------------------------------------


class Supervisor(ProcessMonitor):
    """
    Runs the workers: restarts one that dies (with a log line), and on stop
    sends each SIGTERM and waits until all have ended (SIGKILL after
    *kill_time* seconds).
    """

    log = Logger()
    threshold = 5

    def __init__(self, count: int, argv: Sequence[str], env: Mapping[str, str],
                 kill_time: int = 15, reactor: Any = None) -> None:
        reactor = default_reactor(reactor)
        super().__init__(reactor=reactor)
        self.killTime = kill_time
        self.minRestartDelay = 1
        self.maxRestartDelay = 10
        self.count = count
        self.directory = tempfile.mkdtemp(prefix="snorky-workers-")
        self._waiting: List[Deferred] = []
        args = worker_arguments(argv)
        for index in range(count):
            self.addProcess(
                "worker-{}".format(index),
                [sys.executable, "-m", "twisted", "--log-format", "text", "snorky", *args,
                 "--worker", "{}:{}:{}".format(index, count, self.directory)],
                env=dict(env),
            )

    def startService(self) -> None:
        self.log.info("Snorky: starting {count} workers", count=self.count)
        super().startService()

    def _monitoredProcessExited(self, name: str, reason: Optional[Failure] = None) -> None:
        if self.running:
            self.log.warn("Snorky: {name} ended ({why}); restarting it",
                          name=name, why=reason.getErrorMessage() if reason else "?")
        super()._monitoredProcessExited(name, reason)
        if not self.protocols:
            waiting, self._waiting = self._waiting, []
            for d in waiting:
                d.callback(None)

    def stopService(self) -> Deferred:  # type: ignore[override]
        super().stopService()
        d: Deferred = Deferred()
        if self.protocols:
            self._waiting.append(d)
        else:
            d.callback(None)
        return d.addCallback(lambda _: shutil.rmtree(self.directory, ignore_errors=True))


# -- The workers ------------------------------------------------------------------


class _ReusePort(Port):
    def createInternetSocket(self) -> socket.socket:
        s = super().createInternetSocket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        return s


class ReusePortReactor:
    """
    The reactor, but every TCP port it listens on has ``SO_REUSEPORT`` set,
    so that the workers all listen on it.
    """

    def __init__(self, reactor: Any) -> None:
        self._reactor = reactor

    def listenTCP(self, port: int, factory: Any, backlog: int = 50, interface: str = "") -> Any:
        p = _ReusePort(port, factory, backlog, interface, self._reactor)
        p.startListening()
        return p

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reactor, name)


class _Forward(ProxyClient):
    """
    Streams the owner's answer back, and hangs up on the owner when the
    browser goes.
    """

    def connectionMade(self) -> None:
        super().connectionMade()
        finished = self.father.notifyFinish()
        finished.addErrback(self._browser_gone)

    def _browser_gone(self, _: Any) -> None:
        # Nothing more to write to the browser (ProxyClient's own flag).
        self._finished = True
        transport: Any = self.transport
        transport.loseConnection()


class _ForwardFactory(ProxyClientFactory):
    protocol = _Forward
    noisy = False

    log = Logger()

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        self.log.warn("Snorky: cannot forward a SockJS request to {address}: {why}",
                      address=connector.getDestination(), why=reason.getErrorMessage())
        if not self.father.finished and not getattr(self.father, "_disconnected", False):
            self.father.setResponseCode(503)
            self.father.setHeader(b"content-type", b"text/plain; charset=utf-8")
            self.father.write(b"The worker holding this session is restarting; retry.\n")
            self.father.finish()


class _Forwarding(Resource):
    """
    Forwards one request to the worker holding its session.
    """

    isLeaf = True

    def __init__(self, reactor: Any, path: str) -> None:
        super().__init__()
        self.reactor = reactor
        self.path = path

    def render(self, request: Any) -> Any:
        # The body was read whole: it goes on with its length, whatever
        # framing the browser used.
        skip = {b"transfer-encoding", b"content-length", b"connection", FORWARDED_FOR.lower()}
        headers = {k: b", ".join(v) for k, v in request.requestHeaders.getAllRawHeaders()
                   if k.lower() not in skip}
        request.content.seek(0, 0)
        body = request.content.read()
        headers[FORWARDED_FOR] = _address_text(request.getClientAddress())
        headers[b"Connection"] = b"close"
        headers[b"Content-Length"] = b"%d" % len(body)
        factory = _ForwardFactory(
            request.method, request.uri, b"HTTP/1.0", headers, body, request
        )
        self.reactor.connectUNIX(self.path, factory)
        return NOT_DONE_YET


def _address_text(address: Any) -> bytes:
    if isinstance(address, IPv6Address):
        return b"6 " + address.host.encode("ascii") + b" %d" % address.port
    if isinstance(address, IPv4Address):
        return b"4 " + address.host.encode("ascii") + b" %d" % address.port
    return b""


def _address_from(text: bytes) -> Any:
    try:
        family, host, port = text.decode("ascii").split(" ")
        kind = IPv6Address if family == "6" else IPv4Address
        return kind("TCP", host, int(port))
    except ValueError:
        return None


class WorkerSockJS(Resource):
    """
    In front of a worker's SockJS resource: the requests of a session that
    another worker holds go to that worker; forwarded requests (arriving
    on the worker's own UNIX socket) keep the browser's address.
    """

    def __init__(self, sockjs: Any, info: WorkerInfo, port: int, reactor: Any) -> None:
        super().__init__()
        self.sockjs = sockjs
        self.info = info
        self.port = port
        self.reactor = reactor
        #: How many requests this worker forwarded.
        self.forwarded = 0

    def __getattr__(self, name: str) -> Any:
        # close_all and the rest are the SockJS resource's.
        return getattr(self.sockjs, name)

    isLeaf = True
    log = Logger()

    def render(self, request: Any) -> Any:
        if isinstance(request.getClientAddress(), UNIXAddress):
            forwarded = request.requestHeaders.getRawHeaders(FORWARDED_FOR)
            address = _address_from(forwarded[0]) if forwarded else None
            if address is not None:
                request.getClientAddress = lambda: address
        else:
            # /sockjs/SERVER/SESSION/TRANSPORT
            path = request.postpath or []
            if len(path) >= 3 and path[2] in HTTP_TRANSPORTS:
                owner = owner_of(path[1], self.info.count)
                if owner != self.info.index:
                    if not self.forwarded:
                        self.log.info("Snorky: worker {index} forwards requests of "
                                      "SockJS sessions held by other workers (first: "
                                      "to worker {owner})", index=self.info.index,
                                      owner=owner)
                    self.forwarded += 1
                    forward = _Forwarding(self.reactor, self.info.socket_path(owner, self.port))
                    return forward.render(request)
        return self.sockjs.render(request)


def serve_as_worker(top: MultiService, info: WorkerInfo, reactor: Any) -> None:
    """
    Make the service tree *top* (from :func:`snorky.server.make_service`)
    a worker's: each SockJS port forwards other workers' sessions, and
    takes forwarded requests on its UNIX socket.
    """
    from snorky.server import PortService

    ports = [s for s in _walk(top) if isinstance(s, PortService)]
    sockjs_ports = [p for p in ports if "sockjs" in p.spec.protocols]
    for number, port in enumerate(sockjs_ports):
        root = port.site.resource
        sockjs = root.children[b"sockjs"]
        root.putChild(b"sockjs", WorkerSockJS(sockjs, info, number, reactor))
        _UnixListener(port.site, info.socket_path(info.index, number), reactor).setServiceParent(top)


def _walk(service: Any) -> List[Any]:
    found = [service]
    for child in getattr(service, "services", []):
        found.extend(_walk(child))
    return found


class _UnixListener(MultiService):
    def __init__(self, site: Any, path: str, reactor: Any) -> None:
        super().__init__()
        self.site = site
        self.path = path
        self.reactor = reactor
        self.port: Any = None

    def startService(self) -> None:
        super().startService()
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.port = self.reactor.listenUNIX(self.path, self.site, mode=0o600)

    def stopService(self) -> Any:
        super().stopService()
        if self.port is not None:
            port, self.port = self.port, None
            return port.stopListening()
        return None
