"""
Tests for examples.chat.web: the example's login and token endpoints,
in memory, against a real backend resource with the identity services.
"""

import json
from typing import Any, Optional

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase
from treq.testing import StubTreq
from twisted.web.resource import Resource

from examples.chat.web import ChatWeb
from snorky import ServiceRegistry
from snorky.backend import TwistedSnorkyBackend
from snorky.services.identity import IdentityBackend, IdentityService
from snorky.transports.http import BackendOptions, backend_resource
from test.helpers import RecordingClient

KEY = "test-key"
JSON = {b"Content-Type": [b"application/json"]}


class ChatWebTests(TestCase):
    """
    Tests for ChatWeb through treq's in-memory HTTP stack.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.identity = IdentityService("identity", clock=self.clock)
        self.frontend = ServiceRegistry([self.identity], clock=self.clock)
        backend = ServiceRegistry(
            [IdentityBackend("identity_backend", self.identity)], clock=self.clock
        )
        root = Resource()
        root.putChild(b"backend", backend_resource(backend, BackendOptions(key=KEY), self.clock))
        self.snorky = StubTreq(root)
        self.web = ChatWeb(self.connector(KEY), "ws://127.0.0.1:5001/ws")
        self.browser = StubTreq(self.web.resource())

    def connector(self, key: str) -> TwistedSnorkyBackend:
        return TwistedSnorkyBackend(
            "http://127.0.0.1/backend", key, reactor=self.clock, client=self.snorky
        )

    def request(self, method: str, path: str, body: Any = None,
                cookie: Optional[bytes] = None, headers: Any = None) -> Any:
        """
        Make a request; return the response and its body.
        """
        headers = dict(headers if headers is not None else JSON)
        if cookie is not None:
            headers[b"Cookie"] = [cookie]
        data = None if body is None else json.dumps(body).encode("utf-8")
        response = self.successResultOf(self.browser.request(
            method, "http://127.0.0.1:8080" + path, data=data, headers=headers))
        return response, self.successResultOf(response.content())

    def login(self, name: str = "alice") -> bytes:
        response, _ = self.request("POST", "/login", {"name": name})
        self.assertEqual(response.code, 200)
        set_cookie = response.headers.getRawHeaders(b"Set-Cookie")[0]
        return set_cookie.split(b";")[0]

    def test_page(self) -> None:
        """
        The page loads snorky.js from the Snorky port.
        """
        response, body = self.request("GET", "/")
        self.assertEqual(response.code, 200)
        self.assertIn(b'<script src="http://127.0.0.1:5001/snorky.js">', body)

    def test_page_escapes_url(self) -> None:
        """
        A secure Snorky URL gives an https script URL, HTML-escaped.
        """
        self.web.snorky_url = 'wss://example.org/a"b/ws'
        _, body = self.request("GET", "/")
        self.assertIn(b'src="https://example.org/a&quot;b/snorky.js"', body)

    def test_session_anonymous(self) -> None:
        """
        Without a session the page learns it must log in, and where Snorky is.
        """
        _, body = self.request("GET", "/session")
        self.assertEqual(json.loads(body),
                         {"identity": None, "snorkyUrl": "ws://127.0.0.1:5001/ws"})

    def test_login(self) -> None:
        """
        Logging in sets an HTTP-only, same-site session cookie that
        identifies the user.
        """
        response, body = self.request("POST", "/login", {"name": "alice"})
        self.assertEqual(json.loads(body), {"identity": {"name": "alice"}})
        set_cookie = response.headers.getRawHeaders(b"Set-Cookie")[0].lower()
        self.assertIn(b"httponly", set_cookie)
        self.assertIn(b"samesite=strict", set_cookie)
        _, body = self.request("GET", "/session", cookie=self.login("bob"))
        self.assertEqual(json.loads(body)["identity"], {"name": "bob"})

    def test_login_bad_names(self) -> None:
        """
        Names are 1 to 32 printable characters without surrounding spaces.
        """
        for body in [{"name": ""}, {"name": " a"}, {"name": "x" * 33},
                     {"name": "a\nb"}, {"name": 5}, {}, ["alice"]]:
            response, _ = self.request("POST", "/login", body)
            self.assertEqual(response.code, 400, body)
        self.assertEqual(self.web.sessions, {})

    def test_login_needs_json(self) -> None:
        """
        A login that is not a JSON request (as a cross-site form would
        send) is refused.
        """
        response, _ = self.request(
            "POST", "/login", {"name": "alice"},
            headers={b"Content-Type": [b"application/x-www-form-urlencoded"]})
        self.assertEqual(response.code, 400)
        self.assertEqual(self.web.sessions, {})

    def test_token(self) -> None:
        """
        A logged-in page gets a token that makes a Snorky connection that
        user.
        """
        response, body = self.request("POST", "/token", cookie=self.login())
        self.assertEqual(response.code, 200)
        token = json.loads(body)["token"]
        client = RecordingClient()
        self.frontend.client_connected(client)
        self.frontend.process_message_from(
            client, "identity", {"command": "authenticate", "params": {"token": token}})
        self.assertEqual(client.identity, {"name": "alice"})

    def test_token_needs_login(self) -> None:
        """
        Without a valid session there is no token.
        """
        for cookie in [None, b"chat_session=forged"]:
            response, _ = self.request("POST", "/token", cookie=cookie)
            self.assertEqual(response.code, 401)
        self.assertEqual(self.identity.pending, {})

    def test_logout(self) -> None:
        """
        After logging out the session no longer gets tokens.
        """
        cookie = self.login()
        self.request("POST", "/logout", {}, cookie=cookie)
        response, _ = self.request("POST", "/token", cookie=cookie)
        self.assertEqual(response.code, 401)
        self.assertEqual(self.web.sessions, {})

    def test_sessions_bounded(self) -> None:
        """
        Beyond max_sessions the oldest session is forgotten.
        """
        self.web.max_sessions = 2
        first = self.login("a")
        self.login("b")
        self.login("c")
        self.assertEqual(len(self.web.sessions), 2)
        response, _ = self.request("POST", "/token", cookie=first)
        self.assertEqual(response.code, 401)

    def test_snorky_refuses(self) -> None:
        """
        When Snorky's backend cannot give a token, the page gets a 503 that
        says so.
        """
        self.web.backend = self.connector("wrong-key")
        response, body = self.request("POST", "/token", cookie=self.login())
        self.assertEqual(response.code, 503)
        self.assertIn("Snorky", json.loads(body)["error"])
