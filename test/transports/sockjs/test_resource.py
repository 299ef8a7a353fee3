"""Tests for snorky.transports.sockjs.resource."""

from twisted.trial.unittest import TestCase

from snorky.registry import ServiceRegistry
from snorky.transports.sockjs import SockJSClient, sockjs_resource
from test.transports.sockjs.httpstub import HandlerLog, SiteStub


class RoutingTests(TestCase):
    """
    Tests for the URL routing of `SockJSResource`.
    """

    def setUp(self):
        self.stub = SiteStub(HandlerLog())

    def test_greeting(self):
        """
        The endpoint's root, with or without a slash, greets in plain text.
        """
        for path in [b"", b"/"]:
            response = self.stub.request(b"GET", path)
            self.assertEqual(response.status, 200)
            self.assertEqual(response.body, b"Welcome to SockJS!\n")
            self.assertEqual(response.header("content-type"), "text/plain; charset=UTF-8")
            self.assertIsNone(response.header("set-cookie"))

    def test_not_found(self):
        """
        Paths outside the protocol are ``404``.
        """
        for path in [b"/a", b"/a.html", b"//", b"/a/a", b"/a/a/", b"/a/b/c/d",
                     b"/a./a/xhr", b"/a/a./xhr", b"//a/xhr", b"/a//xhr",
                     b"/a/a/nothing", b"/sockjs.min.js"]:
            self.assertEqual(self.stub.request(b"GET", path).status, 404, path)

    def test_method_not_allowed(self):
        """
        A transport asked with the wrong method is ``405`` with ``Allow``
        and no body or content type.
        """
        response = self.stub.request(b"GET", b"/a/a/xhr")
        self.assertEqual(response.status, 405)
        self.assertEqual(response.header("allow"), "POST, OPTIONS")
        self.assertIsNone(response.header("content-type"))
        self.assertEqual(response.body, b"")

    def test_preflight(self):
        """
        ``OPTIONS`` on an XHR transport is a cacheable CORS preflight that
        echoes the requested headers.
        """
        response = self.stub.request(
            b"OPTIONS",
            b"/a/a/xhr_send",
            headers=[(b"Origin", b"http://x"),
                     (b"Access-Control-Request-Headers", b"a, b")],
        )
        self.assertEqual(response.status, 204)
        self.assertEqual(response.header("access-control-allow-methods"), "OPTIONS, POST")
        self.assertEqual(response.header("access-control-allow-headers"), "a, b")
        self.assertEqual(response.header("access-control-allow-origin"), "http://x")
        self.assertEqual(response.header("access-control-max-age"), "31536000")
        self.assertIn("public", response.header("cache-control"))
        self.assertIsNotNone(response.header("expires"))

    def test_session_routes_not_cached(self):
        """
        Session answers forbid caching and allow the caller's origin.
        """
        response = self.stub.request(
            b"POST", b"/a/a/xhr", headers=[(b"Origin", b"null")]
        )
        self.assertEqual(
            response.header("cache-control"),
            "no-store, no-cache, no-transform, must-revalidate, max-age=0",
        )
        self.assertEqual(response.header("access-control-allow-origin"), "null")
        self.assertEqual(response.header("access-control-allow-credentials"), "true")


class SessionTableTests(TestCase):
    """
    Tests for the session table of `SockJSResource`.
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
        self.assertEqual(self.stub.resource.sessions, {})

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
        self.assertEqual(self.stub.resource.sessions, {})
        self.assertEqual(fired, [None])
        self.assertEqual(self.handlers.handlers[0].events, ["opened", "closed"])


class SockJSResourceFactoryTests(TestCase):
    """
    Tests for `sockjs_resource`.
    """

    def test_sessions_are_snorky_clients(self):
        """
        Each session's handler is a `SockJSClient` of the given registry.
        """
        registry = ServiceRegistry()
        resource = sockjs_resource(registry)
        client = resource.handler_factory(resource.open_session("x", _Request()))
        self.assertIsInstance(client, SockJSClient)
        self.assertIs(client.registry, registry)
        resource.close_all()


class _Request:
    def getClientAddress(self):
        return None
