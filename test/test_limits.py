"""Tests for snorky.limits: connection limits, request deadlines, body sizes."""

import json
import resource

from twisted.internet import ssl
from twisted.internet.address import IPv4Address, UNIXAddress
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.trial.unittest import TestCase

from snorky.limits import (
    RESERVED_FILES,
    LimitedFactory,
    LimitingReactor,
    PortLimits,
    connections_per_port,
    open_file_limit,
    raise_open_file_limit,
)
from snorky.registry import ServiceRegistry
from snorky.server import ServerOptions, SnorkySite
from snorky.services.echo import EchoService

KEY = "limits-test-key"


def address(host: str = "10.0.0.1", port: int = 4000) -> IPv4Address:
    return IPv4Address("TCP", host, port)


class Recorder(Protocol):
    """
    Records the data it receives and whether its connection was lost.
    """

    def __init__(self) -> None:
        self.received = b""
        self.lost = False

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: object = None) -> None:
        self.lost = True


def response_of(transport: StringTransport):
    """
    The status code and decoded JSON body of the one response written to
    *transport*.
    """
    head, _, body = transport.value().partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = head.split(b"\r\n")[1:]
    return status, headers, json.loads(body)


class PortLimitsTests(TestCase):
    """
    Tests for PortLimits.
    """

    def test_defaults(self) -> None:
        """
        By default there is no total limit, 1,000 connections per address
        and 20 seconds per request.
        """
        limits = PortLimits()
        self.assertEqual(
            (limits.max_connections, limits.max_connections_per_address, limits.request_timeout),
            (None, 1000, 20.0),
        )

    def test_bad_values(self) -> None:
        """
        Non-positive totals and timeouts and negative per-address limits
        are refused.
        """
        for bad in [{"max_connections": 0}, {"max_connections_per_address": -1},
                    {"request_timeout": 0}]:
            self.assertRaises(ValueError, PortLimits, **bad)


class LimitedFactoryTests(TestCase):
    """
    Tests for LimitedFactory.
    """

    def setUp(self) -> None:
        self.inner = Factory.forProtocol(Recorder)
        self.factory = LimitedFactory(self.inner, PortLimits(max_connections=3,
                                                             max_connections_per_address=2),
                                      Clock())

    def connect(self, addr=None):
        """
        A connection from *addr* built and connected like a TCP port does
        (the transport's protocol is the factory's).
        """
        protocol = self.factory.buildProtocol(addr or address())
        transport = StringTransport(peerAddress=addr)
        transport.protocol = protocol
        protocol.makeConnection(transport)
        return protocol, transport

    def test_wrapped_protocol_gets_the_real_transport(self) -> None:
        """
        On a plain connection the wrapped protocol writes to the real
        transport and receives what arrives.
        """
        protocol, transport = self.connect()
        recorder = protocol.wrappedProtocol
        self.assertIs(recorder.transport, transport)
        protocol.dataReceived(b"hello")
        self.assertEqual(recorder.received, b"hello")

    def test_per_address_limit(self) -> None:
        """
        A third connection from one address is answered 503 with a JSON
        error and closed; another address still gets in.
        """
        self.connect()
        self.connect()
        refused, transport = self.connect()
        self.assertNotIsInstance(refused, type(self.connect(address("10.0.0.2"))[0]))
        status, headers, body = response_of(transport)
        self.assertEqual(status, 503)
        self.assertIn(b"Connection: close", headers)
        self.assertEqual(body, {"error": "Too many connections from your address"})
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.factory.open, 3)
        self.assertEqual(self.factory.by_address, {"10.0.0.1": 2, "10.0.0.2": 1})

    def test_total_limit(self) -> None:
        """
        Past the total limit every address is refused.
        """
        for n in range(3):
            self.connect(address("10.0.1.{}".format(n)))
        refused, transport = self.connect(address("10.0.2.1"))
        self.assertEqual(response_of(transport)[2], {"error": "Too many connections"})

    def test_release(self) -> None:
        """
        A connection that ends frees its place, in total and for its
        address, and its wrapped protocol hears of the end.
        """
        first, _ = self.connect()
        self.connect()
        first_recorder = first.wrappedProtocol
        first.connectionLost(None)
        self.assertTrue(first_recorder.lost)
        self.assertEqual((self.factory.open, self.factory.by_address), (1, {"10.0.0.1": 1}))
        again, transport = self.connect()
        self.assertEqual(transport.value(), b"")
        again.connectionLost(None)
        self.assertEqual(self.factory.by_address, {"10.0.0.1": 1})

    def test_unix_peers_count_in_total_only(self) -> None:
        """
        UNIX socket peers have no address to count by; the total limit
        still applies.
        """
        for _ in range(3):
            self.connect(UNIXAddress(None))
        self.assertEqual(self.factory.by_address, {})
        refused, transport = self.connect(UNIXAddress(None))
        self.assertEqual(response_of(transport)[0], 503)


class LimitingReactorTests(TestCase):
    """
    Tests for LimitingReactor, the reactor of a port's endpoint.
    """

    def test_tcp_and_unix(self) -> None:
        """
        listenTCP and listenUNIX listen with the factory wrapped in the
        limits, passing every other argument on.
        """
        memory = MemoryReactorClock()
        site = Factory.forProtocol(Recorder)
        limiting = LimitingReactor(memory, PortLimits(max_connections=5))
        limiting.listenTCP(80, site, 10, "127.0.0.1")
        port, factory, backlog, interface = memory.tcpServers[0]
        self.assertIs(factory, limiting.factory)
        self.assertIs(factory.wrappedFactory, site)
        self.assertEqual((port, backlog, interface, limiting.tls), (80, 10, "127.0.0.1", False))
        limiting.listenUNIX("/tmp/s", site)
        self.assertIs(memory.unixServers[0][1].wrappedFactory, site)
        self.assertEqual(limiting.seconds(), memory.seconds())

    def test_tls_inside_the_limits(self) -> None:
        """
        listenSSL listens on TCP with the limits outside a TLS factory;
        a connection over the limit is closed without a plain-text answer.
        """
        memory = MemoryReactorClock()
        site = Factory.forProtocol(Recorder)
        limiting = LimitingReactor(memory, PortLimits(max_connections=1))
        context = ssl.CertificateOptions()
        limiting.listenSSL(443, site, context, 50, "::")
        port, factory, backlog, interface = memory.tcpServers[0]
        self.assertIsInstance(factory.wrappedFactory, TLSMemoryBIOFactory)
        self.assertIs(factory.wrappedFactory.wrappedFactory, site)
        self.assertEqual((port, backlog, interface, limiting.tls), (443, 50, "::", True))
        factory.open = 1
        refused = factory.buildProtocol(address())
        transport = StringTransport()
        refused.makeConnection(transport)
        self.assertEqual(transport.value(), b"")
        self.assertTrue(transport.disconnecting)


class ChannelTests(TestCase):
    """
    Tests for LimitedHTTPChannel and BoundedRequest, in a SnorkySite
    serving the HTTP backend on a Clock.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.registry = ServiceRegistry([EchoService("echo")])
        options = ServerOptions(backend_key=KEY, backend_max_body_size=100)
        options.limits.request_timeout = 10
        self.site = SnorkySite(self.registry, ("http",), options, reactor=self.clock)

    def connect(self):
        channel = self.site.buildProtocol(address())
        transport = StringTransport(peerAddress=address())
        channel.makeConnection(transport)
        return channel, transport

    def head(self, length: int, *extra: bytes) -> bytes:
        return b"\r\n".join([
            b"POST /backend HTTP/1.1", b"Host: snorky.test",
            b"X-Backend-Key: " + KEY.encode(), b"Content-Length: %d" % length,
            *extra, b"", b"",
        ])

    def test_declared_body_too_large(self) -> None:
        """
        A Content-Length over the limit is answered 413 as soon as the
        headers end, before any body, and the connection is closed.
        """
        channel, transport = self.connect()
        channel.dataReceived(self.head(10 ** 12))
        status, headers, body = response_of(transport)
        self.assertEqual((status, body), (413, {"error": "Body larger than 100 bytes"}))
        self.assertTrue(transport.disconnecting)
        transport.clear()
        channel.dataReceived(b"x" * 1000)
        self.assertEqual(transport.value(), b"")

    def test_sockjs_port(self) -> None:
        """
        A port serving SockJS refuses a declared body over its message
        size limit at once too.
        """
        options = ServerOptions()
        options.sockjs.max_message_size = 50
        site = SnorkySite(self.registry, ("sockjs",), options, reactor=self.clock)
        channel = site.buildProtocol(address())
        transport = StringTransport(peerAddress=address())
        channel.makeConnection(transport)
        channel.dataReceived(
            b"POST /sockjs/000/abc/xhr_send HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 51\r\n\r\n"
        )
        status, _, body = response_of(transport)
        self.assertEqual((status, body), (413, {"error": "Body larger than 50 bytes"}))

    def test_expect_continue_too_large(self) -> None:
        """
        A request that waits for 100 Continue with a body over the limit
        gets 413 instead.
        """
        channel, transport = self.connect()
        channel.dataReceived(self.head(101, b"Expect: 100-continue"))
        self.assertNotIn(b"100 Continue", transport.value())
        self.assertEqual(response_of(transport)[0], 413)

    def test_body_at_the_limit(self) -> None:
        """
        A body of exactly the limit is served.
        """
        channel, transport = self.connect()
        body = json.dumps({"service": "echo", "message": "x" * 66}).encode()
        self.assertEqual(len(body), 100)
        channel.dataReceived(self.head(len(body)) + body)
        self.assertIn(b"HTTP/1.1 200", transport.value())
        self.assertFalse(transport.disconnecting)

    def test_chunked_body_too_large(self) -> None:
        """
        A chunked body is refused with 413 as soon as more than the limit
        arrived, even when its end comes in the same data.
        """
        channel, transport = self.connect()
        head = self.head(0).replace(b"Content-Length: 0", b"Transfer-Encoding: chunked")
        channel.dataReceived(head + b"40\r\n" + b"x" * 64 + b"\r\n")
        self.assertEqual(transport.value(), b"")
        channel.dataReceived(b"40\r\n" + b"x" * 64 + b"\r\n0\r\n\r\n")
        status, _, body = response_of(transport)
        self.assertEqual((status, body), (413, {"error": "Body larger than 100 bytes"}))
        self.assertTrue(transport.disconnecting)

    def test_trickling_does_not_extend_the_deadline(self) -> None:
        """
        A request sent one byte a second is answered 408 when the request
        timeout has passed since its first byte.
        """
        channel, transport = self.connect()
        for byte in self.head(5)[:9]:
            channel.dataReceived(bytes([byte]))
            self.clock.advance(1)
        self.assertEqual(transport.value(), b"")
        self.clock.advance(1)
        status, _, body = response_of(transport)
        self.assertEqual(
            (status, body), (408, {"error": "Request not received within 10 seconds"})
        )
        self.assertTrue(transport.disconnecting)

    def test_silent_connection_closed(self) -> None:
        """
        A connection that sends nothing is closed, without an answer, when
        the request timeout has passed.
        """
        channel, transport = self.connect()
        self.clock.advance(9.9)
        self.assertFalse(transport.disconnecting)
        self.clock.advance(0.1)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(transport.value(), b"")

    def test_peer_that_does_not_read_is_aborted(self) -> None:
        """
        After a refusal, a connection still open when twisted.web's abort
        timeout has passed is aborted, and no timer is left behind once it
        is lost.
        """
        channel, transport = self.connect()
        channel.dataReceived(self.head(10 ** 6))
        self.assertFalse(transport.disconnected)
        self.clock.advance(channel.abortTimeout)
        self.assertTrue(transport.disconnected)
        channel.connectionLost(None)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_keep_alive(self) -> None:
        """
        After a complete request the deadline waits for the next request's
        first byte, and each request gets a deadline of its own.
        """
        channel, transport = self.connect()
        body = b'{"service": "echo", "message": 1}'
        channel.dataReceived(self.head(len(body)) + body)
        self.assertIn(b"HTTP/1.1 200", transport.value())
        self.clock.advance(30)
        self.assertFalse(transport.disconnecting)
        transport.clear()
        channel.dataReceived(self.head(len(body)))
        self.clock.advance(9)
        channel.dataReceived(body)
        self.assertIn(b"HTTP/1.1 200", transport.value())
        self.clock.advance(9)
        self.assertFalse(transport.disconnecting)
        channel.connectionLost(None)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_multipart_body_gets_json_error(self) -> None:
        """
        A multipart/form-data body, malformed or not, reaches the backend
        and gets its JSON error rather than twisted.web's bare 400.
        """
        channel, transport = self.connect()
        body = b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b--\r\n"
        channel.dataReceived(
            self.head(len(body), b"Content-Type: multipart/form-data; boundary=zz") + body
        )
        status, _, answer = response_of(transport)
        self.assertEqual((status, answer), (400, {"error": "Invalid JSON"}))


class FileLimitTests(TestCase):
    """
    Tests for the open-file limit helpers.
    """

    def test_raise_to_hard_limit(self) -> None:
        """
        raise_open_file_limit sets the soft limit to the hard limit.
        """
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        lower = min(soft, hard, 512) - 1
        resource.setrlimit(resource.RLIMIT_NOFILE, (lower, hard))
        self.assertEqual(raise_open_file_limit(), hard)
        self.assertEqual(resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard)
        self.assertEqual(open_file_limit(), None if hard == resource.RLIM_INFINITY else hard)

    def test_connections_per_port(self) -> None:
        """
        Each port gets an equal share of the open files left after the
        reserve; no limit when files are unlimited.
        """
        self.assertEqual(connections_per_port(1024, 2), (1024 - RESERVED_FILES) // 2)
        self.assertEqual(connections_per_port(RESERVED_FILES, 3), 1)
        self.assertIsNone(connections_per_port(None, 2))
