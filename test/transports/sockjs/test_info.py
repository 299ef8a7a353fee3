"""Tests for snorky.transports.sockjs.info."""

import json

from twisted.trial.unittest import TestCase

from test.transports.sockjs.httpstub import HandlerLog, SiteStub


class InfoTests(TestCase):
    """
    Tests for ``/info``.
    """

    def get(self, **options):
        return SiteStub(HandlerLog(), **options).request(
            b"GET", b"/info", headers=[(b"Origin", b"http://x")]
        )

    def test_info(self):
        """
        ``/info`` describes the resource in uncached JSON, with CORS.
        """
        response = self.get()
        self.assertEqual(response.status, 200)
        self.assertEqual(
            response.header("content-type"), "application/json; charset=UTF-8"
        )
        self.assertIn("no-cache", response.header("cache-control"))
        self.assertEqual(response.header("access-control-allow-origin"), "http://x")
        info = json.loads(response.body)
        self.assertEqual(info["websocket"], True)
        self.assertEqual(info["cookie_needed"], False)
        self.assertEqual(info["origins"], ["*:*"])
        self.assertTrue(0 <= info["entropy"] < 2**32)

    def test_options_reflected(self):
        """
        Disabling WebSocket and needing cookies show in ``/info``.
        """
        info = json.loads(self.get(websocket=False, cookie_needed=True).body)
        self.assertEqual((info["websocket"], info["cookie_needed"]), (False, True))

    def test_entropy_varies(self):
        """
        Each answer carries fresh entropy.
        """
        values = {json.loads(self.get().body)["entropy"] for _ in range(5)}
        self.assertGreater(len(values), 1)

    def test_preflight(self):
        """
        ``OPTIONS /info`` allows ``GET``.
        """
        response = SiteStub(HandlerLog()).request(b"OPTIONS", b"/info")
        self.assertEqual(response.status, 204)
        self.assertEqual(response.header("access-control-allow-methods"), "OPTIONS, GET")
