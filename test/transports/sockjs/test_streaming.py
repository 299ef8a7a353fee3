"""Tests for snorky.transports.sockjs.streaming."""

from twisted.trial.unittest import TestCase

from test.transports.sockjs.httpstub import HandlerLog, SiteStub


class StreamingTests(TestCase):
    """
    Tests for ``xhr_streaming``, ``eventsource`` and ``htmlfile``.
    """

    def setUp(self):
        self.handlers = HandlerLog()
        self.stub = SiteStub(self.handlers, response_limit=4096)

    def send(self, *messages):
        body = "[" + ",".join('"{}"'.format(m) for m in messages) + "]"
        response = self.stub.request(b"POST", b"/0/sid/xhr_send", body.encode())
        self.assertEqual(response.status, 204)

    def test_xhr_streaming(self):
        """
        ``xhr_streaming`` sends a 2 KiB prelude, then one frame per chunk.
        """
        conn, response = self.stub.open(path=b"/0/sid/xhr_streaming")
        self.assertEqual(response.chunks, [b"h" * 2048 + b"\n", b"o\n"])
        self.send("x")
        self.assertEqual(conn.response().chunks[2:], [b'a["x"]\n'])
        self.assertFalse(conn.response().complete)

    def test_response_limit(self):
        """
        A stream ends once ``response_limit`` bytes of frames were sent;
        the session lives on for the next request.
        """
        conn, _ = self.stub.open(path=b"/0/sid/xhr_streaming")
        message = "x" * 128
        for _ in range(30):
            self.send(message)
        self.assertFalse(conn.response().complete)
        self.send(message)
        self.assertTrue(conn.response().complete)
        self.assertEqual(self.handlers.handlers[0].events[-1], ("received", message))
        self.send("after")
        poll = self.stub.request(b"POST", b"/0/sid/xhr")
        self.assertEqual(poll.body, b'a["after"]\n')

    def test_heartbeat(self):
        """
        An idle stream gets ``h`` frames every 25 seconds.
        """
        conn, _ = self.stub.open(path=b"/0/sid/xhr_streaming")
        self.stub.clock.advance(25)
        self.assertEqual(conn.response().chunks[-1], b"h\n")

    def test_eventsource(self):
        """
        ``eventsource`` sends frames as events after a blank-line prelude.
        """
        conn, response = self.stub.open(method=b"GET", path=b"/0/sid/eventsource")
        self.assertEqual(response.header("content-type"), "text/event-stream")
        self.assertEqual(response.chunks, [b"\r\n", b"data: o\r\n\r\n"])
        self.send("  \\u0000\\n\\r ")
        self.assertEqual(
            conn.response().chunks[-1], b'data: a["  \\u0000\\n\\r "]\r\n\r\n'
        )

    def test_htmlfile(self):
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

    def test_htmlfile_escapes_script_end(self):
        """
        A message holding ``</script>`` cannot end the frame's script
        element: no ``<`` of the message reaches the page.
        """
        conn, _ = self.stub.open(method=b"GET", path=b"/0/sid/htmlfile?c=cb")
        self.send("</script><script>alert(1)</script>")
        frame = conn.response().chunks[-1]
        self.assertTrue(frame.startswith(b"<script>\np("))
        self.assertEqual(frame.count(b"<"), 2)
        self.assertIn(b"\\u003c/script>", frame)

    def test_htmlfile_callback_checked(self):
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
        self.assertEqual(self.stub.resource.sessions, {})
