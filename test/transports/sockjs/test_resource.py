"""Tests for snorky.transports.sockjs.resource."""

from typing import Any, Dict, Optional, Tuple

import treq
from twisted.internet import reactor
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase
from twisted.web.server import Request
from twisted.web.test.requesthelper import DummyChannel

from snorky.registry import ServiceRegistry
from snorky.transports.sockjs import SockJSClient, SockJSOptions, SockJSResource, sockjs_resource
from test.transports.sockjs.httpstub import HandlerLog, SiteStub
from test.transports.sockjs.integration import LoopbackSite


class RoutingTests(TestCase):
    """
    Tests for the URL routing of `SockJSResource`.
    """

    def setUp(self):
        self.stub = SiteStub(HandlerLog())

    def test_greeting(self):
        """
        The resource's root, with or without a slash, greets in plain text.
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


class OriginTests(TestCase):
    """
    Tests for ``allowed_origins`` on the HTTP transports, with real
    requests over loopback.
    """

    ALLOWED = "https://app.example.com"

    def setUp(self) -> None:
        self.handlers = HandlerLog()
        self.resource = SockJSResource(
            self.handlers, SockJSOptions(allowed_origins=[self.ALLOWED]), reactor
        )
        self.site = LoopbackSite(reactor, {b"s": self.resource})
        self.base = self.site.start()
        self.addCleanup(self.site.stop)

    async def request(
        self, method: str, path: str, origin: Optional[str] = None, body: bytes = b""
    ) -> Tuple[int, Dict[str, str], bytes]:
        """
        Send one request to the resource; return its status, its headers
        (lower-case names, first values) and its body.
        """
        headers: Dict[str, Any] = {"Origin": origin} if origin else {}
        response = await treq.request(
            method, self.base + "/s" + path, headers=headers, data=body or None,
            persistent=False,
        )
        content = await response.content()
        names = {
            name.decode().lower(): values[0].decode()
            for name, values in response.headers.getAllRawHeaders()
        }
        return response.code, names, content

    async def test_disallowed_refused(self) -> None:
        """
        Every HTTP transport, ``/info`` and the preflight answer a
        disallowed origin ``403`` without CORS headers, creating no
        session.
        """
        for method, path in [
            ("POST", "/0/sid/xhr"), ("POST", "/0/sid/xhr_send"),
            ("POST", "/0/sid/xhr_streaming"), ("GET", "/0/sid/eventsource"),
            ("GET", "/0/sid/htmlfile?c=f"), ("GET", "/0/sid/jsonp?c=f"),
            ("POST", "/0/sid/jsonp_send"), ("GET", "/info"),
            ("OPTIONS", "/info"), ("OPTIONS", "/0/sid/xhr"),
        ]:
            code, headers, body = await self.request(
                method, path, "https://evil.example.com", b'["a"]'
            )
            self.assertEqual(code, 403, path)
            self.assertIn(b"Origin not allowed", body)
            self.assertNotIn("access-control-allow-origin", headers)
        self.assertEqual(len(self.resource.sessions), 0)
        self.assertEqual(self.handlers.handlers, [])

    async def test_disallowed_send_touches_no_session(self) -> None:
        """
        ``xhr_send`` from a disallowed origin to an open session is
        ``403`` and delivers nothing.
        """
        code, _, body = await self.request("POST", "/0/sid/xhr", self.ALLOWED)
        self.assertEqual((code, body), (200, b"o\n"))
        code, _, _ = await self.request(
            "POST", "/0/sid/xhr_send", "https://evil.example.com", b'["a"]'
        )
        self.assertEqual(code, 403)
        self.assertEqual(self.handlers.handlers[0].events, ["opened"])

    async def test_allowed(self) -> None:
        """
        An allowed origin opens a session, sends to it, and is echoed in
        the CORS headers.
        """
        code, headers, body = await self.request("POST", "/0/sid/xhr", self.ALLOWED)
        self.assertEqual((code, body), (200, b"o\n"))
        self.assertEqual(headers["access-control-allow-origin"], self.ALLOWED)
        self.assertEqual(headers["access-control-allow-credentials"], "true")
        code, headers, _ = await self.request(
            "POST", "/0/sid/xhr_send", self.ALLOWED + ":443", b'["a"]'
        )
        self.assertEqual(code, 204)
        self.assertEqual(headers["access-control-allow-origin"], self.ALLOWED + ":443")
        self.assertEqual(self.handlers.handlers[0].events, ["opened", ("received", "a")])
        code, headers, _ = await self.request("GET", "/info", self.ALLOWED)
        self.assertEqual(code, 200)
        self.assertEqual(headers["access-control-allow-origin"], self.ALLOWED)

    async def test_no_origin(self) -> None:
        """
        A request without ``Origin`` (not a browser's) is admitted.
        """
        code, headers, body = await self.request("POST", "/0/sid/xhr")
        self.assertEqual((code, body), (200, b"o\n"))
        self.assertEqual(headers["access-control-allow-origin"], "*")

    async def test_own_origin(self) -> None:
        """
        The server's own origin (equal to ``Host``, as the iframe
        transports and a DNS-rebound page send it) is refused when not
        listed, creating no session.
        """
        for path in ["/0/sid/xhr", "/info", "/0/sid/eventsource"]:
            method = "GET" if path != "/0/sid/xhr" else "POST"
            code, headers, _ = await self.request(method, path, self.base)
            self.assertEqual(code, 403, path)
            self.assertNotIn("access-control-allow-origin", headers)
        self.assertEqual(len(self.resource.sessions), 0)


class SockJSResourceFactoryTests(TestCase):
    """
    Tests for `sockjs_resource`.
    """

    def test_sessions_are_snorky_clients(self):
        """
        Each session's handler is a `SockJSClient` of the given registry.
        """
        registry = ServiceRegistry()
        resource = sockjs_resource(registry, reactor=Clock())
        session = resource.sessions.open("x", _request())
        client = session.handler
        self.assertIsInstance(client, SockJSClient)
        self.assertIs(client.registry, registry)
        self.assertIs(client.channel, session)
        resource.close_all()


def _request() -> Request:
    """
    A request from 127.0.0.1, as twisted.web makes it.
    """
    return Request(DummyChannel())
