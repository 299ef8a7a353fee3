"""Tests for snorky.transports.origins."""

from typing import Optional, Sequence, Tuple

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.internet import reactor
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Protocol
from twisted.internet.testing import StringTransport
from twisted.protocols.policies import WrappingFactory
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from twisted.web.server import Request
from twisted.web.test.requesthelper import DummyChannel

from snorky.registry import ServiceRegistry
from snorky.server import ServerOptions, SnorkySite
from snorky.transports.origins import OriginPolicy, check_patterns, origin_patterns
from snorky.transports.sockjs import SockJSOptions
from snorky.transports.websocket import WebSocketOptions
from test.transports.sockjs.integration import wait_for


class OriginPatternsTests(TestCase):
    """
    Tests for origin_patterns, the patterns handed to Autobahn.
    """

    def test_spellings(self) -> None:
        """
        A pattern without port gains its default port, one without scheme
        both schemes; ``*``, ``null`` and patterns with a port stay alone.
        """
        self.assertEqual(
            origin_patterns(["*", "null", "https://a.example", "*.b.example", "http://c:8080"]),
            [
                "*",
                "null",
                "https://a.example",
                "https://a.example:443",
                "*.b.example",
                "http://*.b.example:80",
                "https://*.b.example:443",
                "http://c:8080",
            ],
        )

    def test_check_patterns(self) -> None:
        """
        A bare string, bytes, or a sequence holding a non-string is refused.
        """
        check_patterns(["https://a.example"])
        for bad in ["https://a.example", b"https://a.example", ["ok", 3]]:
            self.assertRaises(ValueError, check_patterns, bad)


class AllowsTests(TestCase):
    """
    Tests for OriginPolicy.allows, the match of one Origin value.
    """

    def assertAllowed(self, patterns: Sequence[str], origin: str, expected: bool) -> None:
        self.assertEqual(
            OriginPolicy(patterns).allows(origin), expected, (patterns, origin)
        )

    def test_wildcard(self) -> None:
        """
        ``*`` matches any run of characters, and anywhere in a pattern.
        """
        for origin in ["https://a.example", "http://x:1", "chrome-extension://abc"]:
            self.assertAllowed(["*"], origin, True)
        self.assertAllowed(["https://app-*.example.com"], "https://app-7.example.com", True)
        self.assertAllowed(["https://app-*.example.com"], "https://www.example.com", False)

    def test_default_ports(self) -> None:
        """
        A pattern without port matches the scheme's default port, written
        or not, and no other port.
        """
        patterns = ["https://app.example.com"]
        self.assertAllowed(patterns, "https://app.example.com", True)
        self.assertAllowed(patterns, "https://app.example.com:443", True)
        self.assertAllowed(patterns, "https://app.example.com:8443", False)
        self.assertAllowed(patterns, "http://app.example.com", False)
        self.assertAllowed(["http://localhost:8080"], "http://localhost:8080", True)
        self.assertAllowed(["http://localhost:8080"], "http://localhost", False)

    def test_scheme_less(self) -> None:
        """
        A pattern without scheme matches http and https on their default
        ports.
        """
        patterns = ["*.example.org"]
        self.assertAllowed(patterns, "http://www.example.org", True)
        self.assertAllowed(patterns, "https://www.example.org", True)
        self.assertAllowed(patterns, "https://www.example.org:8443", False)
        self.assertAllowed(patterns, "https://www.example.org.evil.com", False)

    def test_case(self) -> None:
        """
        Scheme and host are compared in lower case, as browsers send them.
        """
        self.assertAllowed(["https://app.example.com"], "HTTPS://App.Example.COM", True)

    def test_null(self) -> None:
        """
        The ``null`` origin (and a ``file://`` page) is allowed by ``*``
        or ``null`` only.
        """
        for origin in ["null", "NULL", "file://"]:
            self.assertAllowed(["*"], origin, True)
            self.assertAllowed(["null"], origin, True)
            self.assertAllowed(["https://a.example", "*.example.org"], origin, False)

    def test_no_match(self) -> None:
        """
        An origin no pattern matches, or a malformed one, is not allowed.
        """
        patterns = ["https://app.example.com", "*.example.org"]
        for origin in ["https://evil.example.com", "http://app.example.com.evil", ""]:
            self.assertAllowed(patterns, origin, False)
        for origin in ["test", "http://", "http://a:99999"]:
            self.assertAllowed(["*"], origin, False)

    def test_agrees_with_autobahn(self) -> None:
        """
        The policy allows what Autobahn's handshake allows with the same
        options, over a table of patterns and origins.
        """
        cases: Sequence[Tuple[Sequence[str], str]] = [
            (patterns, origin)
            for patterns in [["*"], ["null"], ["https://a.example"], ["*.b.example", "http://c:81"],
                             ["chrome-extension://*"]]
            for origin in [
                "https://a.example", "https://a.example:444", "http://x.b.example",
                "https://x.b.example:8443", "http://c:81", "http://c", "null", "file://",
                "chrome-extension://id", "test",
            ]
        ]
        for patterns, origin in cases:
            policy = OriginPolicy(patterns)
            self.assertEqual(
                policy.allows(origin), _autobahn_allows(policy, origin), (patterns, origin)
            )


class _TCPLikeTransport(StringTransport):
    """
    A ``StringTransport`` that, like Twisted's TCP transports, lets a
    refused handshake unregister a producer it never registered.
    """

    def unregisterProducer(self) -> None:
        self.producer = None


def _autobahn_allows(policy: OriginPolicy, origin: str) -> bool:
    """
    Whether Autobahn's server handshake, given the policy's options,
    accepts *origin*: the handshake is fed to a real protocol and its
    answer read.
    """
    factory = WebSocketServerFactory()
    factory.protocol = WebSocketServerProtocol
    # No handshake timer, so that no call is left in the reactor.
    factory.setProtocolOptions(openHandshakeTimeout=0, **policy.websocket_options())
    protocol = factory.buildProtocol(None)
    transport = _TCPLikeTransport()
    protocol.makeConnection(transport)
    protocol.dataReceived(
        b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\nOrigin: " + origin.encode() + b"\r\n\r\n"
    )
    protocol.connectionLost(Failure(ConnectionDone()))
    return transport.value().startswith(b"HTTP/1.1 101")


class AdmitsTests(TestCase):
    """
    Tests for OriginPolicy.admits, the decision on one HTTP request.
    """

    def request(self, *origins: bytes, host: bytes = b"snorky.example:8000",
                secure: bool = False) -> Request:
        channel = DummyChannel()
        if secure:
            channel.transport = DummyChannel.SSL()
        request = Request(channel)
        if host:
            request.requestHeaders.setRawHeaders(b"Host", [host])
        if origins:
            request.requestHeaders.setRawHeaders(b"Origin", list(origins))
        return request

    def test_no_origin(self) -> None:
        """
        A request without ``Origin`` is admitted whatever the patterns.
        """
        self.assertTrue(OriginPolicy(["https://a.example"]).admits(self.request()))

    def test_allowed_and_not(self) -> None:
        """
        An ``Origin`` the patterns allow is admitted, another is not.
        """
        policy = OriginPolicy(["https://a.example"])
        self.assertTrue(policy.admits(self.request(b"https://a.example")))
        self.assertFalse(policy.admits(self.request(b"https://evil.example")))
        self.assertFalse(policy.admits(self.request(b"null")))

    def test_host_does_not_count(self) -> None:
        """
        An ``Origin`` equal to the request's ``Host`` (as a DNS-rebound
        page sends) is refused unless listed, and admitted when listed.
        """
        policy = OriginPolicy(["https://a.example"])
        self.assertFalse(policy.admits(self.request(b"http://snorky.example:8000")))
        self.assertFalse(
            policy.admits(self.request(b"https://snorky.example", host=b"snorky.example",
                                       secure=True))
        )
        self.assertFalse(policy.admits(self.request(b"http://[::1]:80", host=b"[::1]")))
        listed = OriginPolicy(["https://a.example", "http://snorky.example:8000"])
        self.assertTrue(listed.admits(self.request(b"http://snorky.example:8000")))
        self.assertTrue(listed.admits(self.request(b"http://snorky.example:8000", host=b"")))

    def test_several_origins(self) -> None:
        """
        A request with more than one ``Origin`` is refused, as Autobahn
        refuses such a handshake.
        """
        policy = OriginPolicy(["https://a.example"])
        self.assertFalse(policy.admits(self.request(b"https://a.example", b"https://a.example")))

    def test_any(self) -> None:
        """
        With ``*`` every request is admitted, a malformed ``Origin`` too.
        """
        policy = OriginPolicy(["*"])
        self.assertTrue(policy.admits_any)
        for origin in [b"https://a.example", b"null", b"test"]:
            self.assertTrue(policy.admits(self.request(origin)))
        self.assertFalse(OriginPolicy(["https://*"]).admits_any)


class _StatusLine(Protocol):
    """
    Sends one raw request and fires :attr:`status` with the status code
    of the answer, then drops the connection.
    """

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.received = b""
        self.status: Deferred = Deferred()

    def connectionMade(self) -> None:
        self.transport.write(self.request)

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if b"\r\n" in self.received and not self.status.called:
            self.status.callback(int(self.received.split(b" ")[1]))
            self.transport.abortConnection()


class OneRuleTests(TestCase):
    """
    ``/ws``, SockJS's WebSocket transports and its HTTP transports admit
    and refuse the same origins, over real loopback sockets.
    """

    ALLOWED = "https://app.example.com"

    def setUp(self) -> None:
        options = ServerOptions(
            websocket=WebSocketOptions(allowed_origins=[self.ALLOWED]),
            sockjs=SockJSOptions(allowed_origins=[self.ALLOWED]),
        )
        self.site = SnorkySite(ServiceRegistry(), ["websocket", "sockjs"], options, reactor)
        self.factory = WrappingFactory(self.site)
        self.port = reactor.listenTCP(0, self.factory, interface="127.0.0.1")
        self.own = "http://127.0.0.1:{}".format(self.port.getHost().port)
        self.addCleanup(self.stop)

    async def stop(self) -> None:
        await gatherResults([close() for close in self.site.closers])
        await self.port.stopListening()
        for protocol in list(self.factory.protocols):
            protocol.transport.abortConnection()
        await wait_for(reactor, lambda: not self.factory.protocols)

    async def status(self, path: str, origin: Optional[str]) -> int:
        """
        The status of a WebSocket handshake (or, for an ``xhr`` path, a
        POST) to *path* with *origin*.
        """
        lines = [b"POST " if path.endswith("/xhr") else b"GET ", path.encode(),
                 b" HTTP/1.1\r\nHost: " + self.own[len("http://"):].encode() + b"\r\n"]
        if path.endswith("/xhr"):
            lines.append(b"Content-Length: 0\r\n")
        else:
            lines.append(b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         b"Sec-WebSocket-Version: 13\r\n")
        if origin is not None:
            lines.append(b"Origin: " + origin.encode() + b"\r\n")
        protocol = _StatusLine(b"".join(lines) + b"\r\n")
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.port.getHost().port)
        await connectProtocol(endpoint, protocol)
        return await protocol.status

    async def test_one_rule(self) -> None:
        """
        No ``Origin`` and a listed one are admitted everywhere; the
        server's own origin (equal to ``Host``) and another are refused
        everywhere.
        """
        paths = ["/ws", "/sockjs/0/a/websocket", "/sockjs/websocket"]
        origins = [None, self.ALLOWED, self.own, "https://evil.example.com"]
        seen = {}
        for number, origin in enumerate(origins):
            for path in paths + ["/sockjs/0/s{}/xhr".format(number)]:
                status = await self.status(path, origin)
                seen[(path.split("/")[-1], origin)] = status in (101, 200)
        expected = {
            (path.split("/")[-1], origin): origin in (None, self.ALLOWED)
            for origin in origins
            for path in paths + ["/xhr"]
        }
        self.assertEqual(seen, expected)
