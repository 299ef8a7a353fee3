"""Tests for snorky.transports.sockjs.receiver."""

from twisted.internet.error import ConnectionLost
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from snorky.transports.sockjs.framing import line_frame
from snorky.transports.sockjs.options import SockJSOptions
from snorky.transports.sockjs.receiver import POLLING, ResponseReceiver, respond
from snorky.transports.sockjs.sessions import SessionTable
from test.transports.sockjs.httpstub import HandlerLog


class ResponseReceiverTests(TestCase):
    """
    Tests for `ResponseReceiver`.
    """

    def setUp(self):
        self.request = DummyRequest([b""])

    def test_frames_until_limit(self):
        """
        Frames are written formatted; the receiver asks to be let go once
        its limit is reached, and takes nothing after.
        """
        receiver = ResponseReceiver(self.request, line_frame, 4)
        self.assertTrue(receiver.send_frame("o"))
        self.assertFalse(receiver.send_frame("h"))
        receiver.finish()
        receiver.finish()
        self.assertFalse(receiver.send_frame("late"))
        self.assertEqual(self.request.written, [b"o\n", b"h\n"])
        self.assertEqual(self.request.finished, 1)

    def test_polling(self):
        """
        A polling receiver takes one frame.
        """
        self.assertFalse(ResponseReceiver(self.request, line_frame, POLLING).send_frame("o"))

    def test_connection_lost(self):
        """
        A response whose connection breaks detaches from its session,
        which closes as interrupted.
        """
        handlers = HandlerLog()
        table = SessionTable(handlers, SockJSOptions(), Clock())
        session = table.open("sid", DummyRequest([b""]))
        receiver = ResponseReceiver(self.request, line_frame, 1000)
        receiver.attach_to(session)
        self.assertIs(session.receiver, receiver)
        self.request.processingFailed(Failure(ConnectionLost()))
        self.assertIsNone(session.receiver)
        self.assertEqual(handlers.handlers[0].events, ["opened", "closed"])
        self.assertFalse(receiver.send_frame("late"))


class RespondTests(TestCase):
    """
    Tests for `respond`.
    """

    def test_opens_and_streams(self):
        """
        The answer gets its content type, its prelude, then frames.
        """
        table = SessionTable(HandlerLog(), SockJSOptions(), Clock())
        request = DummyRequest([b""])
        result = respond(table, request, "sid", b"text/x", line_frame, 1000, b"pre")
        self.assertEqual(result, NOT_DONE_YET)
        self.assertEqual(request.responseHeaders.getRawHeaders(b"Content-Type"), [b"text/x"])
        self.assertEqual(request.written, [b"pre", b"o\n"])
        self.assertIn("sid", table)

    def test_refused(self):
        """
        When the session cannot be opened, the error answer is returned
        and nothing is written.
        """
        table = SessionTable(HandlerLog(), SockJSOptions(max_sessions=0), Clock())
        request = DummyRequest([b""])
        result = respond(table, request, "sid", b"text/x", line_frame, 1000, b"pre")
        self.assertEqual(result, b"Too many sessions.")
        self.assertEqual((request.responseCode, request.written), (503, []))
