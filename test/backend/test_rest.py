"""
Unit tests of the REST idiom helpers, and the idiom end to end through a
WSGI app, the backend API and DataSync on a loopback port.
"""

import email.message
import json
import wsgiref.headers

from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.http_headers import Headers
from twisted.web.resource import Resource
from twisted.web.server import Site
from twisted.web.wsgi import WSGIResource

from snorky.backend import SnorkyBackend, SnorkyError
from snorky.backend.rest import (
    SUBSCRIPTION_TOKEN_HEADER,
    subscribe_if_asked,
    wants_subscription,
)
from snorky.registry import ServiceRegistry
from snorky.services.datasync import DataSyncBackend, DataSyncService
from snorky.services.datasync.dealers import SimpleDealer
from snorky.transports.http import BackendOptions, backend_resource
from test.backend.helpers import CannedBackend, reply, rpc_error
from test.backend.servers import KEY, ConnectionCounter
from test.helpers import RecordingClient

ITEMS = [{"dealer": "players_by_color", "query": "red"}]


class WantsSubscriptionTests(TestCase):
    """
    Telling whether a request asks for a subscription.
    """

    def test_dict(self):
        """
        A dict with ``X-Snorky: Subscribe``, the name in any case, asks.
        """
        for name in ("X-Snorky", "x-snorky", "X-SNORKY"):
            self.assertTrue(wants_subscription({name: "Subscribe"}))

    def test_value(self):
        """
        The value is compared without regard to case or surrounding
        spaces; any other value does not ask.
        """
        self.assertTrue(wants_subscription({"X-Snorky": " subscribe "}))
        for value in ("", "Subscribed", "Unsubscribe", "yes", None, 1):
            self.assertFalse(wants_subscription({"X-Snorky": value}))

    def test_absent(self):
        """
        Headers without ``X-Snorky`` do not ask.
        """
        self.assertFalse(wants_subscription({}))
        self.assertFalse(wants_subscription({"Accept": "Subscribe"}))
        self.assertFalse(wants_subscription(Headers({})))
        self.assertFalse(wants_subscription([]))

    def test_wsgi_environ(self):
        """
        A WSGI environ (or Django's ``request.META``) asks with
        ``HTTP_X_SNORKY``.
        """
        environ = {"REQUEST_METHOD": "GET", "wsgi.input": object(),
                   "HTTP_X_SNORKY": "Subscribe"}
        self.assertTrue(wants_subscription(environ))
        self.assertFalse(wants_subscription({"REQUEST_METHOD": "GET"}))

    def test_twisted_headers(self):
        """
        Twisted's ``Headers`` ask when any ``X-Snorky`` value is
        ``Subscribe``.
        """
        self.assertTrue(wants_subscription(Headers({b"x-snorky": [b"Subscribe"]})))
        self.assertTrue(wants_subscription(Headers({"X-Snorky": ["no", "Subscribe"]})))
        self.assertFalse(wants_subscription(Headers({b"x-snorky": [b"no"]})))

    def test_pairs(self):
        """
        An iterable of ``(name, value)`` pairs, as str or bytes, asks.
        """
        pairs = [("Accept", "*/*"), ("X-Snorky", "Subscribe")]
        self.assertTrue(wants_subscription(pairs))
        self.assertTrue(wants_subscription(iter([(b"x-snorky", b"Subscribe")])))
        self.assertFalse(wants_subscription([("Accept", "*/*")]))

    def test_header_objects(self):
        """
        ``items()`` objects of the standard library (``email`` messages,
        as ``http.client`` and ``http.server`` use, and ``wsgiref``
        headers) ask too.
        """
        message = email.message.Message()
        message["x-snorky"] = "Subscribe"
        self.assertTrue(wants_subscription(message))
        headers = wsgiref.headers.Headers([("X-Snorky", "Subscribe")])
        self.assertTrue(wants_subscription(headers))


class SubscribeIfAskedTests(TestCase):
    """
    Authorizing a subscription when the request asks for one.
    """

    def test_asked(self):
        """
        When asked, the items are authorized and the token returned.
        """
        backend = CannedBackend(reply("the-token"))
        self.assertEqual(
            subscribe_if_asked(backend, {"X-Snorky": "Subscribe"}, ITEMS), "the-token"
        )
        self.assertEqual(
            [(e["message"]["command"], e["message"]["params"]) for e in backend.sent],
            [("authorizeSubscription", {"items": ITEMS})],
        )

    def test_not_asked(self):
        """
        When not asked, nothing is called and the result is None.
        """
        backend = CannedBackend(reply("the-token"))
        self.assertIsNone(subscribe_if_asked(backend, {"Accept": "*/*"}, ITEMS))
        self.assertEqual(backend.sent, [])

    def test_error(self):
        """
        A refused authorization raises, so the app does not answer
        without the subscription it promised.
        """
        backend = CannedBackend(rpc_error("No such dealer"))
        e = self.assertRaises(
            SnorkyError, subscribe_if_asked, backend, {"X-Snorky": "Subscribe"}, ITEMS
        )
        self.assertEqual(e.message, "No such dealer")

    def test_header_name(self):
        """
        The token travels in ``X-Subscription-Token``.
        """
        self.assertEqual(SUBSCRIPTION_TOKEN_HEADER, "X-Subscription-Token")


class RestIdiomTests(TestCase):
    """
    The idiom end to end: a plain WSGI app, served by ``twisted.web`` on a
    loopback port, authorizes through :class:`SnorkyBackend` against
    Snorky's real backend API and DataSync, then queries, then responds.
    """

    def setUp(self):
        dealer = SimpleDealer(name="players_by_color", model="Player", key="color")
        # DataSync's expiry timers are not what this test is about.
        self.datasync = DataSyncService("datasync", [dealer], reactor=Clock())
        registry = ServiceRegistry([DataSyncBackend("datasync_backend", self.datasync)])
        root = Resource()
        root.putChild(b"backend", backend_resource(registry, BackendOptions(key=KEY)))
        wsgi = WSGIResource(reactor, reactor.getThreadPool(), self.app)
        root.putChild(b"players", wsgi)
        connections = ConnectionCounter(Site(root))
        port = reactor.listenTCP(0, connections, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.addCleanup(connections.close_connections)
        self.url = "http://127.0.0.1:{}/".format(port.getHost().port)
        self.backend = SnorkyBackend(self.url + "backend", KEY)
        self.addCleanup(self.backend.close)
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.http = HTTPClient(Agent(reactor, pool=pool))
        self.players = [{"id": 1, "name": "Alice", "color": "red"}]

    def app(self, environ, start_response):
        """
        ``GET /players?COLOR``: the players of that color, subscribed to
        if asked.
        """
        color = environ["QUERY_STRING"]
        # 1. Authorize first...
        token = subscribe_if_asked(
            self.backend, environ, [{"dealer": "players_by_color", "query": color}]
        )
        # 2. ...then query...
        rows = [p for p in self.players if p["color"] == color]
        self.another_request_commits({"id": 2, "name": "Bob", "color": color})
        # 3. ...then respond.
        headers = [("Content-Type", "application/json")]
        if token is not None:
            headers.append((SUBSCRIPTION_TOKEN_HEADER, token))
        start_response("200 OK", headers)
        return [json.dumps(rows).encode()]

    def another_request_commits(self, player):
        """
        A change committed after this request's query and before its
        response reaches the browser.
        """
        self.players.append(player)
        delta = {"type": "insert", "model": "Player", "data": player}
        self.backend.publish_deltas([delta])

    async def test_subscribe(self):
        """
        A request with ``X-Snorky: Subscribe`` gets the data and a token,
        and acquiring the token delivers the change committed while the
        request was answered.
        """
        response = await self.http.get(
            self.url + "players?red", headers={"X-Snorky": "Subscribe"}
        )
        alice = {"id": 1, "name": "Alice", "color": "red"}
        self.assertEqual(await response.json(), [alice])
        [token] = response.headers.getRawHeaders(SUBSCRIPTION_TOKEN_HEADER)
        browser = RecordingClient()
        self.datasync.process_message_from(
            browser,
            {"command": "acquireSubscription", "params": {"token": token}, "callId": 1},
        )
        self.assertIn(
            {"type": "delta",
             "delta": {"type": "insert", "model": "Player",
                       "data": {"id": 2, "name": "Bob", "color": "red"}},
             "seq": 1},
            browser.messages("datasync"),
        )

    async def test_no_subscription(self):
        """
        A request without ``X-Snorky`` gets the data, no token, and no
        subscription is made.
        """
        response = await self.http.get(self.url + "players?red")
        self.assertEqual(len(await response.json()), 1)
        self.assertFalse(response.headers.hasHeader(SUBSCRIPTION_TOKEN_HEADER))
        self.assertEqual(self.datasync.subscriptions, {})
