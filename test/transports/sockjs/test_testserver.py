"""Tests for snorky.transports.sockjs.testserver."""

import json

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.transports.sockjs.testserver import protocol_test_site
from test.transports.sockjs.httpstub import Connection


class ProtocolTestSiteTests(TestCase):
    """
    Tests for the four services the protocol suite expects.
    """

    def setUp(self):
        self.clock = Clock()
        self.site = protocol_test_site(self.clock)

    def request(self, method, path, body=b""):
        return Connection(self.site).request(method, path, body)

    def test_echo(self):
        """
        ``/echo`` sends every message back.
        """
        self.request(b"POST", b"/echo/0/s/xhr")
        self.request(b"POST", b"/echo/0/s/xhr_send", b'["a","b"]')
        self.assertEqual(self.request(b"POST", b"/echo/0/s/xhr").body, b'a["a","b"]\n')

    def test_close(self):
        """
        ``/close`` closes each session as it opens, with ``3000 Go away!``.
        """
        self.assertEqual(self.request(b"POST", b"/close/0/s/xhr").body, b"o\n")
        self.assertEqual(
            self.request(b"POST", b"/close/0/s/xhr").body, b'c[3000,"Go away!"]\n'
        )

    def test_variants(self):
        """
        The WebSocket-less and cookie-needing echoes say so in ``/info``.
        """
        off = json.loads(self.request(b"GET", b"/disabled_websocket_echo/info").body)
        cookie = json.loads(self.request(b"GET", b"/cookie_needed_echo/info").body)
        self.assertFalse(off["websocket"])
        self.assertTrue(cookie["cookie_needed"])

    def test_small_response_limit(self):
        """
        Streams end after 4 KiB, as the suite expects of test servers.
        """
        conn = Connection(self.site)
        conn.request(b"POST", b"/echo/0/s/xhr_streaming")
        self.request(b"POST", b"/echo/0/s/xhr_send", b'["' + b"x" * 4096 + b'"]')
        self.assertTrue(conn.response().complete)
