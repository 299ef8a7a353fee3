"""Tests for snorky.transports.sockjs.sessions."""

from typing import Any, List, Optional, Tuple

from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.defer import Deferred, ensureDeferred, gatherResults
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.task import Clock
from twisted.logger import Logger
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.iweb import IAgentEndpointFactory
from zope.interface import implementer

from snorky.transports.sockjs import SockJSResource
from snorky.transports.sockjs import sessions
from snorky.transports.sockjs.options import SockJSOptions
from snorky.transports.sockjs.sessions import SessionTable, address_group
from test.transports.sockjs.httpstub import FakeReceiver, HandlerLog, SiteStub
from test.transports.sockjs.integration import LoopbackSite


class _Connection:
    """
    A WebSocket connection as the table sees it: it records how it was
    closed, and is gone when told.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.gone: Deferred = Deferred()
        self.host = host
        self.closes: List[tuple] = []

    def remote_host(self) -> Optional[str]:
        return self.host

    @property
    def remote_address(self) -> Optional[str]:
        return self.host

    def close(self, code: int = 3000, reason: str = "Go away!") -> None:
        self.closes.append((code, reason))

    def encode(self, message: str) -> bytes:
        return message.encode("utf-8")

    def send_encoded(self, encoded: bytes) -> None:
        pass

    def probe(self, timeout: float) -> Deferred:
        return Deferred()


class SessionTableTests(TestCase):
    """
    Tests for the HTTP sessions of `SessionTable`, through a resource.
    """

    def setUp(self):
        self.handlers = HandlerLog()
        self.stub = SiteStub(self.handlers, max_sessions=2)

    def test_server_id_ignored(self):
        """
        A session is found by its id whatever the server part says.
        """
        self.stub.request(b"POST", b"/000/sid/xhr")
        self.stub.request(b"POST", b"/111/sid/xhr_send", b'["a"]')
        self.assertEqual(self.stub.request(b"POST", b"/999/sid/xhr").body, b'a["a"]\n')

    def test_bounded(self):
        """
        Past ``max_sessions``, new sessions get ``503``; old ones still work.
        """
        self.stub.request(b"POST", b"/0/a/xhr")
        self.stub.request(b"POST", b"/0/b/xhr")
        self.assertEqual(self.stub.request(b"POST", b"/0/c/xhr").status, 503)
        self.assertEqual(self.stub.request(b"POST", b"/0/a/xhr_send", b"[]").status, 204)

    def test_forgotten_after_timeout(self):
        """
        An expired session leaves the table.
        """
        self.stub.request(b"POST", b"/0/a/xhr")
        self.stub.clock.advance(5)
        self.assertEqual(len(self.stub.resource.sessions), 0)

    def test_close_all(self):
        """
        ``close_all`` ends waiting responses with a close frame and
        empties the table.
        """
        self.stub.request(b"POST", b"/0/a/xhr")
        conn, _ = self.stub.open(path=b"/0/a/xhr")
        fired = []
        self.stub.resource.close_all().addCallback(fired.append)
        response = conn.response()
        self.assertEqual(response.body, b'c[1001,"Server shutting down"]\n')
        self.assertTrue(response.complete)
        self.assertEqual(len(self.stub.resource.sessions), 0)
        self.assertEqual(fired, [None])
        self.assertEqual(self.handlers.handlers[0].events, ["opened", "closed"])


class WebSocketTableTests(TestCase):
    """
    Tests for the WebSocket side of `SessionTable`.
    """

    def setUp(self):
        self.handlers = HandlerLog()
        self.table = SessionTable(self.handlers, SockJSOptions(), Clock())

    def test_websocket_session_kept_while_open(self):
        """
        A WebSocket session counts until it closes, and not among the
        HTTP sessions.
        """
        connection = _Connection("10.1.2.3")
        session = self.table.open_websocket(connection)
        self.assertEqual(session.remote_address, "10.1.2.3")
        self.assertEqual((self.table.websocket_sessions, len(self.table)), (1, 0))
        receiver = FakeReceiver()
        session.attach(receiver)
        session.detach(receiver)
        self.assertEqual(self.table.websocket_sessions, 0)

    def test_raw_handler(self):
        """
        A raw connection gets a handler whose channel is the connection.
        """
        connection = _Connection()
        handler = self.table.open_raw(connection)
        self.assertIs(handler, self.handlers.handlers[0])
        self.assertIs(handler.channel, connection)

    def test_close_all(self):
        """
        ``close_all`` closes raw connections and fires once every
        WebSocket connection is gone.
        """
        raw, framed = _Connection(), _Connection()
        self.table.open_raw(raw)
        self.table.open_websocket(framed)
        fired: List[None] = []
        self.table.close_all().addCallback(fired.append)
        self.assertEqual(raw.closes, [(1001, "Server shutting down")])
        self.assertEqual((fired, self.table.websocket_sessions), ([], 0))
        raw.gone.callback(None)
        framed.gone.callback(None)
        self.assertEqual(fired, [None])
        fired = []
        self.table.close_all().addCallback(fired.append)
        self.assertEqual((fired, raw.closes[1:]), ([None], []))


class AddressGroupTests(TestCase):
    """
    Tests for `address_group`.
    """

    def test_groups(self):
        """
        IPv4 addresses count alone, IPv6 ones by their /64, mapped IPv4
        as IPv4, anything else as it is.
        """
        self.assertEqual(address_group("10.0.0.1"), "10.0.0.1")
        self.assertEqual(address_group("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64")
        self.assertEqual(address_group("2001:db8:1:2::ffff"), "2001:db8:1:2::/64")
        self.assertEqual(address_group("fe80::1%eth0"), "fe80::/64")
        self.assertEqual(address_group("::ffff:10.0.0.1"), "10.0.0.1")
        self.assertEqual(address_group("/run/snorky.sock"), "/run/snorky.sock")
        self.assertEqual(address_group(None), "")


class PerAddressTests(TestCase):
    """
    Tests for ``max_sessions_per_address``.
    """

    def setUp(self):
        self.stub = SiteStub(HandlerLog(), max_sessions_per_address=2)

    def open(self, host: str, session_id: bytes):
        return self.stub.connect(host).request(b"POST", b"/s/0/" + session_id + b"/xhr")

    def test_cap(self):
        """
        An address past its cap gets ``503``; others still connect, and
        its own sessions still work.
        """
        self.assertEqual(self.open("10.0.0.1", b"a").status, 200)
        self.assertEqual(self.open("10.0.0.1", b"b").status, 200)
        refused = self.open("10.0.0.1", b"c")
        self.assertEqual((refused.status, refused.body),
                         (503, b"Too many sessions from your address."))
        self.assertNotIn("c", self.stub.resource.sessions)
        self.assertEqual(self.open("10.0.0.2", b"d").status, 200)
        sent = self.stub.connect("10.0.0.1").request(b"POST", b"/s/0/a/xhr_send", b'["x"]')
        self.assertEqual(sent.status, 204)

    def test_ipv6_prefix(self):
        """
        Addresses of one IPv6 /64 share one cap.
        """
        self.assertEqual(self.open("2001:db8::1", b"a").status, 200)
        self.assertEqual(self.open("2001:db8::2", b"b").status, 200)
        self.assertEqual(self.open("2001:db8::3", b"c").status, 503)
        self.assertEqual(self.open("2001:db8:0:1::1", b"d").status, 200)

    def test_freed_when_sessions_go(self):
        """
        Sessions that time out give their address's room back, and the
        count of an address without sessions is dropped.
        """
        self.open("10.0.0.1", b"a")
        self.open("10.0.0.1", b"b")
        self.stub.clock.advance(5)
        self.assertEqual(self.stub.resource.sessions._per_address, {})
        self.assertEqual(self.open("10.0.0.1", b"c").status, 200)
        self.assertEqual(self.stub.resource.sessions._per_address, {"10.0.0.1": 1})

    def test_logged_once(self):
        """
        Reaching the cap is logged once, not once per refused request.
        """
        logged: List[dict] = []
        self.patch(sessions, "_log", Logger(observer=logged.append))
        for session_id in [b"a", b"b", b"c", b"d"]:
            self.open("10.0.0.1", session_id)
        self.assertEqual(len(logged), 1)
        self.assertEqual((logged[0]["group"], logged[0]["cap"]), ("10.0.0.1", 2))

    def test_no_cap(self):
        """
        With ``None``, only ``max_sessions`` bounds one address.
        """
        self.stub = SiteStub(HandlerLog(), max_sessions_per_address=None, max_sessions=3)
        for session_id in [b"a", b"b", b"c"]:
            self.assertEqual(self.open("10.0.0.1", session_id).status, 200)
        response = self.open("10.0.0.2", b"d")
        self.assertEqual((response.status, response.body), (503, b"Too many sessions."))


class PerAddressLoopbackTests(TestCase):
    """
    ``max_sessions_per_address`` with real sockets: one loopback address
    fills its cap, another still connects.
    """

    def setUp(self) -> None:
        self.handlers = HandlerLog()
        resource = SockJSResource(
            self.handlers, SockJSOptions(max_sessions_per_address=3), reactor
        )
        self.site = LoopbackSite(reactor, {b"s": resource})
        self.base = self.site.start()
        self.addCleanup(self.site.stop)

    async def open(self, source: str, session_id: str) -> Tuple[int, bytes]:
        """
        Open a session with an ``xhr`` request from the address *source*.
        """
        agent = Agent.usingEndpointFactory(
            reactor, _BoundEndpoints(source), HTTPConnectionPool(reactor, persistent=False)
        )
        response = await HTTPClient(agent).post(
            self.base + "/s/0/" + session_id + "/xhr"
        )
        return response.code, await response.content()

    async def test_one_address_fills_its_cap(self) -> None:
        """
        Pipelined opens from 127.0.0.1 stop at its cap with ``503``;
        127.0.0.2 still opens a session.
        """
        results = await gatherResults(
            [ensureDeferred(self.open("127.0.0.1", "s%d" % i)) for i in range(6)]
        )
        self.assertEqual(sorted(code for code, _ in results), [200] * 3 + [503] * 3)
        self.assertEqual(await self.open("127.0.0.2", "other"), (200, b"o\n"))
        self.assertEqual(len(self.handlers.handlers), 4)
        self.assertEqual(self.handlers.handlers[-1].channel.remote_address, "127.0.0.2")


@implementer(IAgentEndpointFactory)
class _BoundEndpoints:
    """
    Endpoints for an ``Agent`` whose connections leave from *source*.
    """

    def __init__(self, source: str) -> None:
        self.source = source

    def endpointForURI(self, uri: Any) -> TCP4ClientEndpoint:
        return TCP4ClientEndpoint(
            reactor, uri.host.decode(), uri.port, bindAddress=(self.source, 0)
        )
