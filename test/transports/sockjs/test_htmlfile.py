"""Tests for snorky.transports.sockjs.htmlfile."""

import re
import shutil
import subprocess

from twisted.trial.unittest import TestCase

from test.transports.sockjs.httpstub import HandlerLog, SiteStub


class HtmlfileTests(TestCase):
    """
    Tests for the ``htmlfile`` transport.
    """

    def setUp(self):
        self.handlers = HandlerLog()
        self.stub = SiteStub(self.handlers, response_limit=4096)

    def test_page(self):
        """
        ``htmlfile`` sends a padded page calling the parent's callback,
        then frames as script elements.
        """
        conn, response = self.stub.open(
            method=b"GET", path=b"/0/sid/htmlfile?c=cb.x_1"
        )
        self.assertEqual(response.header("content-type"), "text/html; charset=UTF-8")
        head = response.chunks[0]
        self.assertGreater(len(head), 1024)
        self.assertIn(b"var c = parent.cb.x_1;", head)
        self.assertEqual(response.chunks[1], b'<script>\np("o");\n</script>\r\n')

    def test_callback_gone(self):
        """
        The page's script runs without an error in a parent that has
        dropped the callback (a page that loads after its client closed).
        """
        self.stub.open(method=b"GET", path=b"/0/sid/htmlfile?c=cb.x_1")
        self.stub.send("after")
        conn, _ = self.stub.open(method=b"GET", path=b"/0/other/htmlfile?c=cb.x_1")
        page = b"".join(conn.response().chunks).decode("utf-8")
        scripts = "\n".join(re.findall(r"<script>(.*?)</script>", page, re.S))
        node = shutil.which("node")
        self.assertIsNotNone(node, "node is needed for this test")
        program = (
            "var document = {domain: 'x'}, window = {}, parent = {cb: {}};\n"
            + scripts + "\nwindow.onload(); console.log('ran');"
        )
        result = subprocess.run([node, "-e", program], capture_output=True, text=True, timeout=30)
        self.assertEqual((result.returncode, result.stdout.strip()), (0, "ran"), result.stderr)

    def test_escapes_script_end(self):
        """
        A message holding ``</script>`` cannot end the frame's script
        element: no ``<`` of the message reaches the page.
        """
        conn, _ = self.stub.open(method=b"GET", path=b"/0/sid/htmlfile?c=cb")
        self.stub.send("</script><script>alert(1)</script>")
        frame = conn.response().chunks[-1]
        self.assertTrue(frame.startswith(b"<script>\np("))
        self.assertEqual(frame.count(b"<"), 2)
        self.assertIn(b"\\u003c/script>", frame)

    def test_callback_checked(self):
        """
        A missing or unsafe callback is refused with ``500``.
        """
        response = self.stub.request(b"GET", b"/0/sid/htmlfile")
        self.assertEqual(response.status, 500)
        self.assertIn(b'"callback" parameter required', response.body)
        for callback in [b"%20", b"*", b"abc(", b"abc%28", b"abc%0A", b"a" * 33]:
            response = self.stub.request(b"GET", b"/0/sid/htmlfile?c=" + callback)
            self.assertEqual(response.status, 500)
            self.assertIn(b'invalid "callback" parameter', response.body)
        self.assertEqual(len(self.stub.resource.sessions), 0)
