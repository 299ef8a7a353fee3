"""
An in-memory HTTP client for the SockJS unit tests: it feeds raw requests
to a real ``twisted.web`` site over a ``StringTransport`` and parses what
the site wrote, including streamed (chunked) answers still in progress.
"""

import json
from typing import Any, Dict, List, Optional, Sequence, Tuple

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import Site

from snorky.transports.sockjs.interfaces import HandlerFactory
from snorky.transports.sockjs.options import SockJSOptions
from snorky.transports.sockjs.resource import SockJSResource


class Response:
    """
    What the site has written so far for one request.

    :ivar status: the status code; ``None`` while nothing is written.
    :ivar headers: header name (lower case) to list of values.
    :ivar body: the body so far, de-chunked.
    :ivar chunks: the body's chunks so far, when chunked.
    :ivar complete: whether the answer is over.
    """

    def __init__(self, raw: bytes) -> None:
        self.status: Optional[int] = None
        self.headers: Dict[str, List[str]] = {}
        self.chunks: List[bytes] = []
        self.body = b""
        self.complete = False
        if not raw:
            return
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        self.status = int(lines[0].split(b" ")[1])
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            self.headers.setdefault(name.decode().lower(), []).append(
                value.strip().decode("latin-1")
            )
        if self.header("transfer-encoding") == "chunked":
            self.complete = False
            while rest:
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line, 16)
                if size == 0:
                    self.complete = True
                    break
                self.chunks.append(rest[:size])
                rest = rest[size + 2 :]
            self.body = b"".join(self.chunks)
        else:
            length = self.header("content-length")
            self.body = rest
            self.complete = length is None or len(rest) >= int(length)

    def header(self, name: str) -> Optional[str]:
        """
        The single value of header *name*, or ``None``.
        """
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Connection:
    """
    One client connection to *site*, for one request, from *host*.
    """

    def __init__(self, site: Site, host: str = "127.0.0.1") -> None:
        address: Any = (IPv6Address if ":" in host else IPv4Address)("TCP", host, 40000)
        self.transport = StringTransport(peerAddress=address)
        self.protocol = site.buildProtocol(address)
        self.protocol.makeConnection(self.transport)

    def request(
        self,
        method: bytes,
        path: bytes,
        body: bytes = b"",
        headers: Sequence[Tuple[bytes, bytes]] = (),
        version: bytes = b"HTTP/1.1",
    ) -> Response:
        """
        Send one request; return the answer written so far.
        """
        lines = [method + b" " + path + b" " + version, b"Host: 127.0.0.1"]
        lines += [name + b": " + value for name, value in headers]
        if body or method == b"POST":
            lines.append(b"Content-Length: %d" % len(body))
        self.protocol.dataReceived(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        return self.response()

    def response(self) -> Response:
        """
        The answer written so far.
        """
        return Response(self.transport.value())

    def lose(self) -> None:
        """
        Drop the connection, as a client going away does.
        """
        self.protocol.connectionLost(Failure(ConnectionDone()))


class SiteStub:
    """
    A site with one SockJS resource at ``/s`` running on a ``Clock``.
    """

    def __init__(
        self, handler_factory: HandlerFactory, **options: Any
    ) -> None:
        self.clock = Clock()
        self.resource = SockJSResource(
            handler_factory, SockJSOptions(**options), self.clock
        )
        root = Resource()
        root.putChild(b"s", self.resource)
        self.site = Site(root, reactor=self.clock)

    def connect(self, host: str = "127.0.0.1") -> Connection:
        """
        A new client connection from *host*.
        """
        return Connection(self.site, host)

    def request(self, method: bytes, path: bytes, body: bytes = b"", **kw: Any) -> Response:
        """
        Send one request on a new connection; return the answer so far.
        """
        return self.connect().request(method, b"/s" + path, body, **kw)

    def send(self, *messages: str) -> Response:
        """
        Send *messages* to session ``sid`` with ``xhr_send``.

        :raises AssertionError: unless the server took them (``204``).
        """
        body = json.dumps(list(messages)).encode("utf-8")
        response = self.request(b"POST", b"/0/sid/xhr_send", body)
        assert response.status == 204, (response.status, response.body)
        return response

    def open(self, conn: Optional[Connection] = None, method: bytes = b"POST",
             path: bytes = b"/000/sid/xhr", **kw: Any) -> Tuple[Connection, Response]:
        """
        Send a request on *conn* (a new connection when ``None``); return
        the connection and the answer so far.
        """
        conn = conn or self.connect()
        return conn, conn.request(method, b"/s" + path, **kw)


class RecordingHandler:
    """
    A session handler that records what happened to it and echoes.
    """

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.events: List[Any] = []

    def opened(self) -> None:
        self.events.append("opened")

    def received(self, message: str) -> None:
        self.events.append(("received", message))
        self.channel.send_encoded(self.channel.encode(message))

    def closed(self) -> None:
        self.events.append("closed")


class HandlerLog:
    """
    A handler factory that keeps every handler it built.
    """

    def __init__(self) -> None:
        self.handlers: List[RecordingHandler] = []

    def __call__(self, channel: Any) -> RecordingHandler:
        handler = RecordingHandler(channel)
        self.handlers.append(handler)
        return handler


class FakeReceiver:
    """
    A receiver that records frames; it takes *capacity* frames before it
    asks to be finished (1 for polling).
    """

    def __init__(self, capacity: int = 1000) -> None:
        self.frames: List[str] = []
        self.capacity = capacity
        self.finished = False

    def send_frame(self, frame: str) -> bool:
        self.frames.append(frame)
        return len(self.frames) < self.capacity

    def finish(self) -> None:
        self.finished = True
