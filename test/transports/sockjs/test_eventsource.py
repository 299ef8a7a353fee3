"""Tests for snorky.transports.sockjs.eventsource."""

from twisted.trial.unittest import TestCase

from test.transports.sockjs.httpstub import HandlerLog, SiteStub


class EventSourceTests(TestCase):
    """
    Tests for the ``eventsource`` transport.
    """

    def setUp(self):
        self.handlers = HandlerLog()
        self.stub = SiteStub(self.handlers, response_limit=4096)

    def test_events(self):
        """
        ``eventsource`` sends frames as events after a blank-line prelude.
        """
        conn, response = self.stub.open(method=b"GET", path=b"/0/sid/eventsource")
        self.assertEqual(response.header("content-type"), "text/event-stream")
        self.assertEqual(response.chunks, [b"\r\n", b"data: o\r\n\r\n"])
        self.stub.send("  \x00\n\r ")
        self.assertEqual(
            conn.response().chunks[-1], b'data: a["  \\u0000\\n\\r "]\r\n\r\n'
        )
