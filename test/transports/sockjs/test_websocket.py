"""Tests for snorky.transports.sockjs.websocket."""

import json
import struct

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet import defer, reactor
from twisted.trial.unittest import TestCase

from snorky.registry import ServiceRegistry
from snorky.services.pubsub import PubSubService
from snorky.transports.sockjs import SockJSOptions, SockJSResource, sockjs_resource
from snorky.transports.sockjs.testserver import CloseHandler
from snorky.transports.wsserver import WebSocketOptions
from test.transports.sockjs.httpstub import HandlerLog, SiteStub
from test.transports.sockjs.integration import ConnectionRecorder, LoopbackSite, wait_for

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


class _PingedClient(_Client):
    def onPing(self, payload):
        if not self.factory.pinged.called:
            self.factory.pinged.callback(None)
        super().onPing(payload)


class SharedLimitsTests(_Connecting, TestCase):
    """
    Both SockJS WebSocket URLs have the limits of ``/ws`` (the shared
    Autobahn layer), tested with a real Autobahn client over loopback.
    """

    timeout = 30

    def serve(self, max_message_size=1 << 20, **limits):
        self.recorder = ConnectionRecorder("recorder")
        self.pubsub = PubSubService("pubsub")
        registry = ServiceRegistry([self.recorder, self.pubsub])
        self.endpoint = sockjs_resource(
            registry, SockJSOptions(max_message_size=max_message_size), reactor,
            websocket=WebSocketOptions(**limits),
        )
        self.site = LoopbackSite(reactor, {b"sockjs": self.endpoint})
        self.base = self.site.start().replace("http:", "ws:")
        self.addCleanup(self.site.stop)

    @defer.inlineCallbacks
    def subscribe(self, path):
        client = yield self.connect(path)
        request = json.dumps(
            {"service": "pubsub",
             "message": {"command": "subscribe", "params": {"channel": "c"}, "callId": 1}}
        )
        framed = path.endswith("/sid/websocket")
        if framed:
            self.assertEqual((yield self.next(client)), "o")
            request = json.dumps([request])
        client.sendMessage(request.encode())
        answer = yield self.next(client)
        self.assertIn("response", answer)
        return client

    @defer.inlineCallbacks
    def test_slow_consumer_dropped(self):
        """
        On both URLs a subscriber that stops reading is dropped once
        max_write_buffer bytes wait for it, while a reading one gets every
        message.
        """
        self.serve(max_write_buffer=256 * 1024)
        for path in ["/sockjs/websocket", "/sockjs/0/sid/websocket"]:
            slow = yield self.subscribe(path)
            fast = yield self.subscribe("/sockjs/websocket")
            dropped = len(self.recorder.disconnected)
            slow.transport.pauseProducing()
            chunk = "x" * 16384
            # Bounded: at most 2000 * 16 KiB.
            for _ in range(2000):
                self.pubsub.publish("c", chunk)
                self.assertIn(chunk, (yield self.next(fast)))
                if len(self.recorder.disconnected) > dropped:
                    break
            self.assertEqual(len(self.recorder.disconnected), dropped + 1, path)
            slow.transport.resumeProducing()
            yield self.close(fast)

    @defer.inlineCallbacks
    def test_keep_alive_pings(self):
        """
        The server pings clients of both URLs every ping_interval.
        """
        self.serve(ping_interval=0.2)
        for path in ["/sockjs/websocket", "/sockjs/0/sid/websocket"]:
            factory = WebSocketClientFactory(self.base + path, reactor=reactor)
            factory.protocol = _PingedClient
            factory.opened, factory.closed = defer.Deferred(), defer.Deferred()
            factory.pinged = defer.Deferred()
            factory.messages = defer.DeferredQueue()
            reactor.connectTCP("127.0.0.1", self.site.port.getHost().port, factory)
            client = yield factory.opened.addTimeout(_WAIT, reactor)
            yield factory.pinged.addTimeout(_WAIT, reactor)
            yield self.close(client)
        # Autobahn's batched timers (whole-second buckets) leave their
        # bucket's call behind when cancelled; let them run out.
        yield wait_for(reactor, lambda: not [
            call for call in reactor.getDelayedCalls()
            if "_notify_bucket" in repr(call.func)
        ], seconds=3)

    @defer.inlineCallbacks
    def test_connection_limit_shared(self):
        """
        max_connections counts the connections of both URLs together;
        beyond it a handshake is refused with 503.
        """
        self.serve(max_connections=2)
        yield self.connect("/sockjs/websocket")
        yield self.connect("/sockjs/0/sid/websocket")
        for path in ["/sockjs/websocket", "/sockjs/0/other/websocket"]:
            failure = yield self.assertFailure(self.connect(path), Exception)
            self.assertIn("503", str(failure))

    @defer.inlineCallbacks
    def test_oversize_closes_1009(self):
        """
        A message over the endpoint's max_message_size closes either kind
        of connection with 1009.
        """
        self.serve(max_message_size=100)
        for path in ["/sockjs/websocket", "/sockjs/0/sid/websocket"]:
            client = yield self.connect(path)
            client.sendMessage(b'"' + b"x" * 200 + b'"')
            _, code, _ = yield client.factory.closed.addTimeout(_WAIT, reactor)
            self.assertEqual(code, 1009, path)

    @defer.inlineCallbacks
    def test_invalid_close_frames_1002(self):
        """
        On both URLs, close frames with code 999 or 1005, a 1-byte payload
        or a reason that is not UTF-8 are answered with 1002.
        """
        self.serve()
        for path in ["/sockjs/websocket", "/sockjs/0/sid/websocket"]:
            for payload in [
                struct.pack("!H", 999), struct.pack("!H", 1005), b"\x03",
                struct.pack("!H", 1000) + b"\xff\xfe",
            ]:
                client = yield self.connect(path)
                client.sendFrame(opcode=8, payload=payload)
                _, code, _ = yield client.factory.closed.addTimeout(_WAIT, reactor)
                self.assertEqual(code, 1002, (path, payload))

    @defer.inlineCallbacks
    def test_shutdown_1001(self):
        """
        On server shutdown a raw connection is closed with 1001, and a
        SockJS session gets a SockJS close frame saying 1001.
        """
        self.serve()
        raw = yield self.connect("/sockjs/websocket")
        framed = yield self.connect("/sockjs/0/sid/websocket")
        self.assertEqual((yield self.next(framed)), "o")
        yield self.endpoint.close_all()
        _, code, reason = yield raw.factory.closed.addTimeout(_WAIT, reactor)
        self.assertEqual((code, reason), (1001, "Server shutting down"))
        self.assertEqual((yield self.next(framed)), 'c[1001,"Server shutting down"]')
