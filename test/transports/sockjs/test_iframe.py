"""Tests for snorky.transports.sockjs.iframe."""

import os
import re

from twisted.trial.unittest import TestCase

from snorky.transports.sockjs.iframe import iframe_page
from snorky.transports.sockjs.options import DEFAULT_SOCKJS_URL
from test.transports.sockjs.httpstub import HandlerLog, SiteStub


class IframeTests(TestCase):
    """
    Tests for ``/iframe*.html`` and the local client file.
    """

    def test_page(self):
        """
        The page loads sockjs-client from ``sockjs_url`` and is cacheable
        with an ETag and no ``Last-Modified``.
        """
        stub = SiteStub(HandlerLog())
        for name in [b"/iframe.html", b"/iframe-1.6.1.html", b"/iframe-.html?t=1"]:
            response = stub.request(b"GET", name)
            self.assertEqual(response.status, 200, name)
            self.assertEqual(response.header("content-type"), "text/html; charset=UTF-8")
            self.assertIn('<script src="{}">'.format(DEFAULT_SOCKJS_URL), response.text)
            self.assertIn("SockJS.bootstrap_iframe();", response.text)
            self.assertRegex(response.header("cache-control"), "public.*max-age=31536000")
            self.assertIsNotNone(response.header("etag"))
            self.assertIsNone(response.header("last-modified"))

    def test_bad_names(self):
        """
        Names that merely resemble the page are ``404``.
        """
        stub = SiteStub(HandlerLog())
        for name in [b"/iframe.htm", b"/iframe", b"/IFRAME.HTML", b"/iframe-/.html",
                     b"/iframe.html%0A"]:
            self.assertEqual(stub.request(b"GET", name).status, 404, name)

    def test_not_modified(self):
        """
        A request with the current ETag gets ``304`` without a body or a
        content type.
        """
        stub = SiteStub(HandlerLog())
        etag = stub.request(b"GET", b"/iframe.html").header("etag")
        response = stub.request(
            b"GET", b"/iframe.html", headers=[(b"If-None-Match", etag.encode())]
        )
        self.assertEqual(response.status, 304)
        self.assertEqual(response.body, b"")
        self.assertIsNone(response.header("content-type"))

    def test_local_client_file(self):
        """
        With ``sockjs_file``, the resource serves that file and the page
        loads it from under the resource.
        """
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("var SockJS = 1;")
        stub = SiteStub(HandlerLog(), sockjs_file=path)
        page = stub.request(b"GET", b"/iframe.html").text
        self.assertIn('<script src="/s/sockjs.min.js">', page)
        script = stub.request(b"GET", b"/sockjs.min.js")
        self.assertEqual(script.body, b"var SockJS = 1;")
        self.assertEqual(
            script.header("content-type"), "application/javascript; charset=UTF-8"
        )
        self.assertIn("max-age=31536000", script.header("cache-control"))

    def test_missing_client_file(self):
        """
        A ``sockjs_file`` that does not exist is an error at start-up.
        """
        with self.assertRaises(FileNotFoundError):
            SiteStub(HandlerLog(), sockjs_file=os.path.join(self.mktemp(), "no.js"))

    def test_url_must_not_break_page(self):
        """
        A ``sockjs_url`` that would break out of the attribute is refused.
        """
        self.assertRaises(ValueError, iframe_page, 'x"><script>')

    def test_etag_follows_content(self):
        """
        Pages loading different scripts have different ETags.
        """
        self.assertNotEqual(iframe_page("/a.js").etag, iframe_page("/b.js").etag)
        self.assertTrue(re.match(rb'^"[0-9a-f]+"$', iframe_page("/a.js").etag))
