"""Tests for snorky.transports.sockjs.websocket."""

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet import defer, reactor
from twisted.trial.unittest import TestCase

from snorky.transports.sockjs import SockJSOptions, SockJSResource
from snorky.transports.sockjs.testserver import CloseHandler
from test.transports.sockjs.httpstub import HandlerLog, SiteStub
from test.transports.sockjs.integration import LoopbackSite, wait_for

_WAIT = 5


class _Client(WebSocketClientProtocol):
    def onOpen(self):
        self.factory.opened.callback(self)

    def onMessage(self, payload, isBinary):
        self.factory.messages.put(payload.decode("utf-8"))

    def onClose(self, wasClean, code, reason):
        if not self.factory.opened.called:
            self.factory.opened.errback(Exception("closed: {}".format(reason)))
        self.factory.closed.callback((wasClean, code, reason))


class _Connecting:
    """
    Connecting a real Autobahn client to ``self.site``, for the test
    cases below.
    """

    @defer.inlineCallbacks
    def connect(self, path, origin=None):
        factory = WebSocketClientFactory(self.base + path, origin=origin, reactor=reactor)
        factory.protocol = _Client
        factory.opened = defer.Deferred()
        factory.closed = defer.Deferred()
        factory.messages = defer.DeferredQueue()
        port = self.site.port.getHost().port
        reactor.connectTCP("127.0.0.1", port, factory)
        client = yield factory.opened.addTimeout(_WAIT, reactor)
        self.addCleanup(self.close, client)
        return client

    def close(self, client):
        # A clean close from the client side leaves no Autobahn timer
        # behind in the reactor.
        if not client.factory.closed.called:
            client.sendClose(1000)
        return client.factory.closed.addTimeout(_WAIT, reactor)

    def next(self, client):
        return client.factory.messages.get().addTimeout(_WAIT, reactor)


class WebSocketTests(_Connecting, TestCase):
    """
    Tests for the SockJS and raw WebSocket transports, with a real
    Autobahn client over loopback.
    """

    def setUp(self):
        self.handlers = HandlerLog()
        self.site = LoopbackSite(
            reactor,
            {
                b"echo": SockJSResource(self.handlers, reactor=reactor),
                b"close": SockJSResource(CloseHandler, reactor=reactor),
            },
        )
        self.base = self.site.start().replace("http:", "ws:")
        self.addCleanup(self.site.stop)

    @defer.inlineCallbacks
    def test_sockjs_echo(self):
        """
        A SockJS WebSocket session opens with ``o`` and echoes messages
        sent as arrays or single strings; empty frames are ignored.
        """
        client = yield self.connect("/echo/0/sid/websocket")
        self.assertEqual((yield self.next(client)), "o")
        client.sendMessage(b"")
        client.sendMessage(b"[]")
        client.sendMessage('["a","\u2028"]'.encode())
        client.sendMessage(b'"b"')
        self.assertEqual((yield self.next(client)), 'a["a"]')
        self.assertEqual((yield self.next(client)), 'a["\\u2028"]')
        self.assertEqual((yield self.next(client)), 'a["b"]')

    @defer.inlineCallbacks
    def test_client_close(self):
        """
        When the client closes, the handler is told once and the session
        is forgotten.
        """
        client = yield self.connect("/echo/0/sid/websocket")
        yield self.next(client)
        client.sendClose(1000)
        yield client.factory.closed.addTimeout(_WAIT, reactor)
        yield wait_for(reactor, lambda: "closed" in self.handlers.handlers[0].events)
        self.assertEqual(self.handlers.handlers[0].events, ["opened", "closed"])
        self.assertEqual(self.site.children[b"echo"].sessions.websocket_sessions, 0)

    @defer.inlineCallbacks
    def test_server_close(self):
        """
        A session closed by its handler sends the close frame, then
        closes the WebSocket.
        """
        client = yield self.connect("/close/0/sid/websocket")
        self.assertEqual((yield self.next(client)), "o")
        self.assertEqual((yield self.next(client)), 'c[3000,"Go away!"]')
        yield client.factory.closed.addTimeout(_WAIT, reactor)

    @defer.inlineCallbacks
    def test_broken_framing(self):
        """
        Broken JSON ends the connection abruptly and closes the session.
        """
        client = yield self.connect("/echo/0/sid/websocket")
        yield self.next(client)
        client.sendMessage(b'["a')
        was_clean, _, _ = yield client.factory.closed.addTimeout(_WAIT, reactor)
        self.assertFalse(was_clean)
        yield wait_for(reactor, lambda: "closed" in self.handlers.handlers[0].events)
        self.assertEqual(self.handlers.handlers[0].events, ["opened", "closed"])

    @defer.inlineCallbacks
    def test_raw_echo(self):
        """
        ``/websocket`` carries raw text messages, without SockJS frames.
        """
        client = yield self.connect("/echo/websocket")
        client.sendMessage("hi \u2603".encode())
        self.assertEqual((yield self.next(client)), "hi \u2603")
        self.assertEqual(self.handlers.handlers[0].events, ["opened", ("received", "hi \u2603")])

    @defer.inlineCallbacks
    def test_raw_close(self):
        """
        A raw WebSocket closed by its handler gets its code and reason.
        """
        client = yield self.connect("/close/websocket")
        _, code, reason = yield client.factory.closed.addTimeout(_WAIT, reactor)
        self.assertEqual((code, reason), (3000, "Go away!"))


class WebSocketProbeTests(_Connecting, TestCase):
    """
    A SockJS session or raw WebSocket channel answers ``probe`` with a
    WebSocket ping its client must answer.
    """

    def setUp(self):
        self.handlers = HandlerLog()
        self.site = LoopbackSite(
            reactor, {b"echo": SockJSResource(self.handlers, reactor=reactor)}
        )
        self.base = self.site.start().replace("http:", "ws:")
        self.addCleanup(self.site.stop)

    @defer.inlineCallbacks
    def assert_answered(self, path):
        yield self.connect(path)
        yield wait_for(reactor, lambda: self.handlers.handlers)
        self.assertTrue((yield self.handlers.handlers[0].channel.probe(_WAIT)))

    def test_session_answered(self):
        """
        A SockJS session whose client reads answers the ping: the probe
        fires True.
        """
        return self.assert_answered("/echo/0/sid/websocket")

    def test_raw_answered(self):
        """
        A raw WebSocket channel whose client reads answers the ping: the
        probe fires True.
        """
        return self.assert_answered("/echo/websocket")

    @defer.inlineCallbacks
    def test_unanswered(self):
        """
        A client that stops reading does not answer: the probe fires
        False and the session closes.
        """
        client = yield self.connect("/echo/0/sid/websocket")
        self.assertEqual((yield self.next(client)), "o")
        client.transport.pauseProducing()
        handler = self.handlers.handlers[0]
        self.assertFalse((yield handler.channel.probe(0.2)))
        yield wait_for(reactor, lambda: "closed" in handler.events)
        client.transport.resumeProducing()
        was_clean, _, _ = yield client.factory.closed.addTimeout(_WAIT, reactor)
        self.assertFalse(was_clean)


class WebSocketOriginTests(_Connecting, TestCase):
    """
    Tests for ``allowed_origins`` on both WebSocket URLs, with a real
    Autobahn client over loopback.
    """

    def setUp(self):
        self.handlers = HandlerLog()
        options = SockJSOptions(allowed_origins=["https://app.example.com"])
        self.site = LoopbackSite(
            reactor, {b"echo": SockJSResource(self.handlers, options, reactor)}
        )
        self.base = self.site.start().replace("http:", "ws:")
        self.addCleanup(self.site.stop)

    @defer.inlineCallbacks
    def test_origins(self):
        """
        On ``/<server>/<session>/websocket`` and ``/websocket``, a
        disallowed origin's handshake is refused; an allowed origin, or
        none, connects.
        """
        for path in ["/echo/0/sid/websocket", "/echo/websocket"]:
            failure = yield self.assertFailure(
                self.connect(path, origin="https://evil.example.com"), Exception
            )
            self.assertIn("not allowed", str(failure))
            for origin in ["https://app.example.com", None]:
                client = yield self.connect(path, origin=origin)
                yield self.close(client)
        self.assertEqual(len(self.handlers.handlers), 4)


class UpgradeCheckTests(TestCase):
    """
    Tests for requests that cannot become WebSockets.
    """

    def test_not_an_upgrade(self):
        """
        A plain ``GET`` is ``400``.
        """
        response = SiteStub(HandlerLog()).request(b"GET", b"/0/0/websocket")
        self.assertEqual(response.status, 400)

    def test_connection_header_rewritten(self):
        """
        An upgrade whose ``Connection`` header a proxy rewrote is ``400``.
        """
        response = SiteStub(HandlerLog()).request(
            b"GET",
            b"/0/0/websocket",
            headers=[(b"Upgrade", b"WebSocket"), (b"Connection", b"close")],
        )
        self.assertEqual(response.status, 400)
        self.assertIn(b"Connection", response.body)

    def test_post(self):
        """
        ``POST`` is ``405`` allowing ``GET``.
        """
        response = SiteStub(HandlerLog()).request(b"POST", b"/0/0/websocket")
        self.assertEqual(response.status, 405)
        self.assertEqual(response.header("allow"), "GET")

    def test_disabled(self):
        """
        With ``websocket`` off, both WebSocket URLs are ``404``.
        """
        stub = SiteStub(HandlerLog(), websocket=False)
        upgrade = [(b"Upgrade", b"websocket"), (b"Connection", b"Upgrade")]
        for path in [b"/0/0/websocket", b"/websocket"]:
            self.assertEqual(stub.request(b"GET", path, headers=upgrade).status, 404)
