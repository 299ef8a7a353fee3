"""Tests for snorky.transports.sockjs.session."""

from typing import List

from twisted.internet.defer import succeed
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.transports.sockjs.options import SockJSOptions
from snorky.transports.sockjs.session import CLOSED, CLOSING, OPEN_STATE, Session
from test.transports.sockjs.httpstub import FakeReceiver, HandlerLog


class SessionTests(TestCase):
    """
    Tests for `Session`.
    """

    def setUp(self):
        self.clock = Clock()
        self.handlers = HandlerLog()
        self.gone: List[Session] = []
        self.options = SockJSOptions(max_queue=3)
        self.session = self.make("sid")

    def make(self, session_id):
        return Session(
            session_id,
            self.handlers,
            self.options,
            self.clock,
            remote_address="10.0.0.1",
            on_gone=self.gone.append,
        )

    @property
    def handler(self):
        return self.handlers.handlers[0]

    def test_open_frame(self):
        """
        The first receiver gets the open frame; the handler is opened once.
        """
        receiver = FakeReceiver()
        self.session.attach(receiver)
        self.assertEqual(receiver.frames, ["o"])
        self.assertEqual(self.handler.events, ["opened"])
        self.assertEqual(self.session.state, OPEN_STATE)
        self.assertEqual(self.session.remote_address, "10.0.0.1")

    def test_probe_without_websocket(self):
        """
        A session without a WebSocket receiver answers probes with whether
        it is open: true between polls, false once closed.
        """
        answers: List[bool] = []
        self.session.attach(FakeReceiver(capacity=1))
        self.session.probe(5).addCallback(answers.append)
        self.session.close()
        self.session.probe(5).addCallback(answers.append)
        self.assertEqual(answers, [True, False])

    def test_probe_asks_receiver(self):
        """
        A receiver that can probe its peer answers for the session.
        """
        receiver = FakeReceiver()
        receiver.probe = lambda timeout: succeed(timeout == 3)
        self.session.attach(receiver)
        answers: List[bool] = []
        self.session.probe(3).addCallback(answers.append)
        self.assertEqual(answers, [True])

    def test_polling_receiver_finished_after_one_frame(self):
        """
        A polling receiver is finished after the open frame and the
        session waits for the next one.
        """
        receiver = FakeReceiver(capacity=1)
        self.session.attach(receiver)
        self.assertTrue(receiver.finished)
        self.assertIsNone(self.session.receiver)

    def test_messages_queued_until_a_receiver_comes(self):
        """
        Messages sent between polls are delivered together, in order.
        """
        self.session.attach(FakeReceiver(capacity=1))
        self.session.send("a")
        self.session.send("b")
        receiver = FakeReceiver(capacity=1)
        self.session.attach(receiver)
        self.assertEqual(receiver.frames, ['a["a","b"]'])
        self.assertEqual(self.session.queue, [])

    def test_messages_flushed_to_attached_receiver(self):
        """
        With a streaming receiver attached, each message goes out at once.
        """
        receiver = FakeReceiver()
        self.session.attach(receiver)
        self.session.send("a")
        self.assertEqual(receiver.frames, ["o", 'a["a"]'])

    def test_received_messages_reach_handler_in_order(self):
        """
        Messages from the client reach the handler in order.
        """
        self.session.attach(FakeReceiver())
        self.session.received(["1", "2", "3"])
        self.assertEqual(
            self.handler.events[1:],
            [("received", "1"), ("received", "2"), ("received", "3")],
        )

    def test_second_receiver_turned_away(self):
        """
        A second receiver gets ``c[2010,...]`` and is finished; the first
        one stays.
        """
        first = FakeReceiver()
        self.session.attach(first)
        second = FakeReceiver()
        self.session.attach(second)
        self.assertEqual(second.frames, ['c[2010,"Another connection still open"]'])
        self.assertTrue(second.finished)
        self.assertIs(self.session.receiver, first)

    def test_heartbeat(self):
        """
        An idle attached receiver gets ``h`` every ``heartbeat_delay``.
        """
        receiver = FakeReceiver()
        self.session.attach(receiver)
        self.clock.advance(24.9)
        self.assertEqual(receiver.frames, ["o"])
        self.clock.advance(0.1)
        self.assertEqual(receiver.frames, ["o", "h"])
        self.clock.advance(25)
        self.assertEqual(receiver.frames, ["o", "h", "h"])

    def test_heartbeat_waits_after_traffic(self):
        """
        A message resets the heartbeat timer.
        """
        receiver = FakeReceiver()
        self.session.attach(receiver)
        self.clock.advance(20)
        self.session.send("a")
        self.clock.advance(20)
        self.assertEqual(receiver.frames, ["o", 'a["a"]'])

    def test_timeout_without_receiver(self):
        """
        A session without a receiver for ``disconnect_delay`` closes: the
        handler is told once and the owner forgets the session.
        """
        self.session.attach(FakeReceiver(capacity=1))
        self.clock.advance(4.9)
        self.assertEqual(self.gone, [])
        self.clock.advance(0.1)
        self.assertEqual(self.handler.events, ["opened", "closed"])
        self.assertEqual(self.gone, [self.session])
        self.assertEqual(self.session.state, CLOSED)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_no_timeout_while_receiver_attached(self):
        """
        An attached receiver keeps the session alive.
        """
        self.session.attach(FakeReceiver())
        self.clock.pump([10] * 10)
        self.assertEqual(self.session.state, OPEN_STATE)

    def test_close_sends_queue_then_close_frame(self):
        """
        Closing flushes queued messages, then sends the close frame and
        finishes the receiver; the handler is told once.
        """
        self.session.attach(FakeReceiver(capacity=1))
        self.session.send("a")
        receiver = FakeReceiver()
        self.session.close(3000, "Go away!")
        self.session.attach(receiver)
        self.assertEqual(receiver.frames, ['a["a"]', 'c[3000,"Go away!"]'])
        self.assertTrue(receiver.finished)
        self.assertEqual(self.handler.events, ["opened", "closed"])

    def test_closed_session_repeats_close_frame(self):
        """
        Until it expires, a closed session answers every poll with its
        close frame, then is forgotten.
        """
        self.session.attach(FakeReceiver(capacity=1))
        self.session.close()
        for _ in range(2):
            receiver = FakeReceiver(capacity=1)
            self.session.attach(receiver)
            self.assertEqual(receiver.frames, ['c[3000,"Go away!"]'])
        self.assertEqual(self.session.state, CLOSING)
        self.clock.advance(5)
        self.assertEqual(self.gone, [self.session])

    def test_close_on_open(self):
        """
        A handler that closes as it opens sends the open frame and then
        the close frame on a streaming receiver.
        """
        self.handlers = lambda channel: type(
            "Closer", (), {"opened": lambda self: channel.close(), "closed": lambda self: None}
        )()
        session = self.make("other")
        receiver = FakeReceiver()
        session.attach(receiver)
        self.assertEqual(receiver.frames, ["o", 'c[3000,"Go away!"]'])
        self.assertTrue(receiver.finished)

    def test_interrupted_receiver(self):
        """
        A receiver whose connection broke closes the session with
        ``c[1002,"Connection interrupted"]``.
        """
        receiver = FakeReceiver()
        self.session.attach(receiver)
        self.session.detach(receiver)
        self.assertEqual(self.handler.events, ["opened", "closed"])
        later = FakeReceiver()
        self.session.attach(later)
        self.assertEqual(later.frames, ['c[1002,"Connection interrupted"]'])

    def test_detach_of_other_receiver_ignored(self):
        """
        A turned-away receiver going away does not affect the session.
        """
        self.session.attach(FakeReceiver())
        self.session.detach(FakeReceiver())
        self.assertEqual(self.session.state, OPEN_STATE)

    def test_messages_after_close_are_dropped(self):
        """
        Sending on a closed session does nothing, and the client's late
        messages do not reach the handler.
        """
        self.session.attach(FakeReceiver(capacity=1))
        self.session.close()
        self.session.send("late")
        self.session.received(["late"])
        self.assertEqual(self.session.queue, [])
        self.assertEqual(self.handler.events, ["opened", "closed"])

    def test_full_queue_closes(self):
        """
        A client that does not read closes its session once ``max_queue``
        messages wait.
        """
        self.session.attach(FakeReceiver(capacity=1))
        for i in range(4):
            self.session.send(str(i))
        self.assertEqual(self.session.state, CLOSING)
        receiver = FakeReceiver()
        self.session.attach(receiver)
        self.assertEqual(
            receiver.frames,
            ['a["0","1","2"]', 'c[1013,"Too many queued messages"]'],
        )

    def test_shutdown(self):
        """
        Shutdown closes the session at once, telling the receiver and the
        handler, and cancels its timers.
        """
        receiver = FakeReceiver()
        self.session.attach(receiver)
        self.session.shutdown()
        self.assertEqual(receiver.frames[-1], 'c[1001,"Server shutting down"]')
        self.assertTrue(receiver.finished)
        self.assertEqual(self.gone, [self.session])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_handler_failure_is_contained(self):
        """
        A handler that raises does not break the session.
        """
        def broken(message):
            raise ValueError(message)

        self.session.attach(FakeReceiver())
        self.handler.received = broken
        self.session.received(["x", "y"])
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 2)
        self.assertEqual(self.session.state, OPEN_STATE)

    def test_websocket_session_ends_with_connection(self):
        """
        A session without id (WebSocket) is gone as soon as its receiver
        is, with no timer left.
        """
        self.session.shutdown()
        session = self.make(None)
        receiver = FakeReceiver()
        session.attach(receiver)
        session.detach(receiver)
        self.assertEqual(self.gone, [self.session, session])
        self.assertEqual(self.clock.getDelayedCalls(), [])
