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

    def test_percent_escaped(self):
        """
        Messages that look percent-encoded are escaped, batched or not.
        """
        conn, _ = self.stub.open(method=b"GET", path=b"/0/sid/eventsource")
        self.stub.send("100%", "%00", "%E2%80%A8")
        self.assertEqual(
            conn.response().chunks[-3:],
            [b'data: a["100%25"]\r\n\r\n', b'data: a["%2500"]\r\n\r\n',
             b'data: a["%25E2%2580%25A8"]\r\n\r\n'],
        )

    def test_percent_escaped_in_batch(self):
        """
        A batch of such messages is escaped as one event.
        """
        stub = SiteStub(HandlerLog(), response_limit=1)
        _, response = stub.open(method=b"GET", path=b"/0/sid/eventsource")
        self.assertTrue(response.complete)
        stub.send("%", "%41", "x")
        _, response = stub.open(method=b"GET", path=b"/0/sid/eventsource")
        self.assertEqual(response.chunks, [b"\r\n", b'data: a["%25","%2541","x"]\r\n\r\n'])
