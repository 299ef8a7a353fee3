"""Tests for snorky.transports.sockjs.incoming."""

from io import BytesIO

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase
from twisted.web.server import Request
from twisted.web.test.requesthelper import DummyChannel

from snorky.transports.sockjs.incoming import callback_of, deliver, read_text
from snorky.transports.sockjs.options import SockJSOptions
from snorky.transports.sockjs.sessions import SessionTable
from test.transports.sockjs.httpstub import FakeReceiver, HandlerLog


def _request(body: bytes = b"", **args: bytes) -> Request:
    """
    A twisted.web request with *body* and the query parameters *args*
    (already decoded from the URL, as twisted.web hands them).
    """
    request = Request(DummyChannel())
    request.content = BytesIO(body)
    request.args = {name.encode(): [value] for name, value in args.items()}
    return request


class ReadTextTests(TestCase):
    """
    Tests for `read_text`.
    """

    def test_text(self):
        """
        A UTF-8 body within the limit is its text.
        """
        self.assertEqual(read_text(_request("\u00fc".encode()), 2), "\u00fc")

    def test_too_large(self):
        """
        A body over the limit is ``413``.
        """
        request = _request(b"abc")
        self.assertEqual(read_text(request, 2), b"Payload too large.")
        self.assertEqual(request.code, 413)

    def test_not_utf8(self):
        """
        A body that is not UTF-8 is ``500 Broken JSON encoding.``.
        """
        request = _request(b"\xff")
        self.assertEqual(read_text(request, 10), b"Broken JSON encoding.")
        self.assertEqual(request.code, 500)


    def test_no_body(self):
        """
        A request whose body is gone (twisted.web drops it once the
        request is finished) is ``500 Payload expected.``, not a crash.
        """
        request = _request()
        request.content = None
        self.assertEqual(read_text(request, 10), b"Payload expected.")
        self.assertEqual(request.code, 500)


class CallbackTests(TestCase):
    """
    Tests for `callback_of`.
    """

    def test_named(self):
        """
        ``c`` names the callback; ``callback`` is taken too.
        """
        self.assertEqual(callback_of(_request(c=b"a.b_1-2")), "a.b_1-2")
        self.assertEqual(callback_of(_request(callback=b"f")), "f")

    def test_missing(self):
        """
        No callback is ``500`` with the protocol's text.
        """
        request = _request()
        self.assertEqual(callback_of(request), b'"callback" parameter required')
        self.assertEqual(request.code, 500)

    def test_unsafe(self):
        """
        A callback that could be more than a name is refused.
        """
        for name in [b"a(", b"a b", "\u2603".encode(), b"\xff", b"a" * 33, b""]:
            request = _request(c=name)
            self.assertIsInstance(callback_of(request), bytes, name)
            self.assertEqual(request.code, 500, name)


class DeliverTests(TestCase):
    """
    Tests for `deliver`.
    """

    def setUp(self):
        self.handlers = HandlerLog()
        self.sessions = SessionTable(self.handlers, SockJSOptions(), Clock())

    def test_delivered(self):
        """
        The messages reach the open session's handler, in order.
        """
        session = self.sessions.open("sid", _request())
        session.attach(FakeReceiver())
        self.assertIsNone(deliver(self.sessions, _request(), "sid", '["a","b"]'))
        self.assertEqual(
            self.handlers.handlers[0].events, ["opened", ("received", "a"), ("received", "b")]
        )

    def test_unknown_session(self):
        """
        Messages for no session are ``404``.
        """
        request = _request()
        self.assertIn(b"Page not found", deliver(self.sessions, request, "nobody", '["a"]'))
        self.assertEqual(request.code, 404)

    def test_bad_batch(self):
        """
        A batch that is not an array of strings is ``500`` and delivers
        nothing, even to an existing session.
        """
        self.sessions.open("sid", _request()).attach(FakeReceiver())
        for data, text in [("", b"Payload expected."), ("[1]", b"Broken JSON encoding."),
                           ('{"a":1}', b"Payload expected.")]:
            request = _request()
            self.assertEqual(deliver(self.sessions, request, "sid", data), text)
            self.assertEqual(request.code, 500)
        self.assertEqual(self.handlers.handlers[0].events, ["opened"])
