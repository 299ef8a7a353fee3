"""Tests for snorky.transports.sockjs.sessions."""

from typing import List, Optional

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.transports.sockjs.options import SockJSOptions
from snorky.transports.sockjs.sessions import SessionTable
from test.transports.sockjs.httpstub import FakeReceiver, HandlerLog, SiteStub


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
