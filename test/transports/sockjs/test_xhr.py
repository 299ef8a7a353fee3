"""Tests for snorky.transports.sockjs.xhr."""

from twisted.trial.unittest import TestCase

from test.transports.sockjs.httpstub import HandlerLog, SiteStub


class XhrTests(TestCase):
    """
    Tests for the ``xhr`` and ``xhr_send`` transports.
    """

    def setUp(self):
        self.handlers = HandlerLog()
        self.stub = SiteStub(self.handlers, max_message_size=100)
        self.first = self.stub.request(b"POST", b"/0/sid/xhr")

    def send(self, body, **kw):
        return self.stub.request(b"POST", b"/0/sid/xhr_send", body, **kw)

    def test_open(self):
        """
        The first poll opens the session with ``o``.
        """
        self.assertEqual(self.first.status, 200)
        self.assertEqual(self.first.body, b"o\n")
        self.assertEqual(
            self.first.header("content-type"), "application/javascript; charset=UTF-8"
        )
        self.assertTrue(self.first.complete)

    def test_send_then_poll(self):
        """
        Sent messages reach the handler; echoes come back on the next poll.
        """
        response = self.send(b'["a","\\u2028"]')
        self.assertEqual(response.status, 204)
        self.assertEqual(response.header("content-type"), "text/plain; charset=UTF-8")
        self.assertEqual(
            self.handlers.handlers[0].events[1:],
            [("received", "a"), ("received", "\u2028")],
        )
        poll = self.stub.request(b"POST", b"/0/sid/xhr")
        self.assertEqual(poll.body, b'a["a","\\u2028"]\n')

    def test_poll_waits(self):
        """
        A poll with nothing to say waits until a message comes.
        """
        conn, response = self.stub.open()
        self.assertIsNone(response.status)
        self.send(b'["late"]')
        self.assertEqual(conn.response().body, b'a["late"]\n')
        self.assertTrue(conn.response().complete)

    def test_second_poll_turned_away(self):
        """
        A second simultaneous poll gets the ``2010`` close frame.
        """
        self.stub.open()
        response = self.stub.request(b"POST", b"/0/sid/xhr")
        self.assertEqual(response.body, b'c[2010,"Another connection still open"]\n')

    def test_aborted_poll(self):
        """
        A poll whose connection breaks closes the session as interrupted.
        """
        conn, _ = self.stub.open()
        conn.lose()
        self.assertEqual(self.handlers.handlers[0].events, ["opened", "closed"])
        response = self.stub.request(b"POST", b"/0/sid/xhr")
        self.assertEqual(response.body, b'c[1002,"Connection interrupted"]\n')

    def test_errors(self):
        """
        Bad bodies get the protocol's error texts with ``500``.
        """
        for body, text in [
            (b"", b"Payload expected."),
            (b'["x', b"Broken JSON encoding."),
            (b"\xff", b"Broken JSON encoding."),
            (b'{"a": 1}', b"Payload expected."),
        ]:
            response = self.send(body)
            self.assertEqual(response.status, 500, body)
            self.assertIn(text, response.body)
            self.assertEqual(response.header("content-type"), "text/plain; charset=UTF-8")

    def test_too_large(self):
        """
        A body over ``max_message_size`` is refused with ``413``.
        """
        response = self.send(b'["' + b"x" * 100 + b'"]')
        self.assertEqual(response.status, 413)
        self.assertEqual(self.handlers.handlers[0].events, ["opened"])

    def test_unknown_session(self):
        """
        Sending to a session that does not exist is ``404``.
        """
        response = self.stub.request(b"POST", b"/0/nobody/xhr_send", b'["a"]')
        self.assertEqual(response.status, 404)

    def test_content_types_ignored(self):
        """
        ``xhr_send`` takes the body whatever content type it claims.
        """
        for content_type in [b"text/plain", b"application/xml", b"T"]:
            response = self.send(b'["a"]', headers=[(b"Content-Type", content_type)])
            self.assertEqual(response.status, 204)


class CookieTests(TestCase):
    """
    Tests for the optional ``JSESSIONID`` cookie.
    """

    def test_cookie_set(self):
        """
        With ``cookie_needed``, session answers set ``JSESSIONID=dummy``.
        """
        stub = SiteStub(HandlerLog(), cookie_needed=True)
        response = stub.request(b"POST", b"/0/sid/xhr")
        self.assertEqual(response.header("set-cookie"), "JSESSIONID=dummy; Path=/")

    def test_cookie_echoed(self):
        """
        A client's own ``JSESSIONID`` is echoed back.
        """
        stub = SiteStub(HandlerLog(), cookie_needed=True)
        response = stub.request(
            b"POST", b"/0/sid/xhr", headers=[(b"Cookie", b"JSESSIONID=abc")]
        )
        self.assertEqual(response.header("set-cookie"), "JSESSIONID=abc; Path=/")

    def test_odd_cookie_replaced(self):
        """
        A ``JSESSIONID`` with characters unfit for a header is not echoed.
        """
        stub = SiteStub(HandlerLog(), cookie_needed=True)
        response = stub.request(
            b"POST", b"/0/sid/xhr", headers=[(b"Cookie", b"JSESSIONID=a,b")]
        )
        self.assertEqual(response.header("set-cookie"), "JSESSIONID=dummy; Path=/")

    def test_no_cookie_by_default(self):
        """
        Without ``cookie_needed`` no cookie is set.
        """
        response = SiteStub(HandlerLog()).request(b"POST", b"/0/sid/xhr")
        self.assertIsNone(response.header("set-cookie"))


class XhrStreamingTests(TestCase):
    """
    Tests for the ``xhr_streaming`` transport.
    """

    def setUp(self):
        self.handlers = HandlerLog()
        self.stub = SiteStub(self.handlers, response_limit=4096)

    def test_prelude_then_frames(self):
        """
        ``xhr_streaming`` sends a 2 KiB prelude, then one frame per chunk.
        """
        conn, response = self.stub.open(path=b"/0/sid/xhr_streaming")
        self.assertEqual(response.chunks, [b"h" * 2048 + b"\n", b"o\n"])
        self.stub.send("x")
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
            self.stub.send(message)
        self.assertFalse(conn.response().complete)
        self.stub.send(message)
        self.assertTrue(conn.response().complete)
        self.assertEqual(self.handlers.handlers[0].events[-1], ("received", message))
        self.stub.send("after")
        poll = self.stub.request(b"POST", b"/0/sid/xhr")
        self.assertEqual(poll.body, b'a["after"]\n')

    def test_heartbeat(self):
        """
        An idle stream gets ``h`` frames every 25 seconds.
        """
        conn, _ = self.stub.open(path=b"/0/sid/xhr_streaming")
        self.stub.clock.advance(25)
        self.assertEqual(conn.response().chunks[-1], b"h\n")
