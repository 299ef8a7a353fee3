"""Tests for snorky.transports.sockjs.client."""

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.client import send_to_clients
from snorky.registry import ServiceRegistry
from snorky.services.echo import EchoService
from snorky.transports.sockjs import SockJSClient
from snorky.transports.sockjs.options import SockJSOptions
from snorky.transports.sockjs.session import Session
from snorky.transports.sockjs.websocket import RawWebSocketProtocol
from test.transports.sockjs.integration import ConnectionRecorder
from test.transports.sockjs.httpstub import FakeReceiver


class SockJSClientTests(TestCase):
    """
    Tests for `SockJSClient`, on real sessions driven by a `Clock`.
    """

    def setUp(self):
        self.clock = Clock()
        self.recorder = ConnectionRecorder("recorder")
        self.registry = ServiceRegistry([EchoService("echo"), self.recorder])

    def session(self, session_id="sid"):
        session = Session(
            session_id,
            lambda channel: SockJSClient(channel, self.registry),
            SockJSOptions(),
            self.clock,
            remote_address="10.1.1.1",
        )
        session.attach(FakeReceiver(capacity=1))
        return session

    def test_connected_once(self):
        """
        The registry hears of the client once, when the session opens.
        """
        session = self.session()
        self.assertEqual(self.recorder.connected, [session.handler])
        client = session.handler
        self.assertEqual(client.transport_name, "sockjs")
        self.assertEqual(client.remote_address, "10.1.1.1")

    def test_probe_asks_session(self):
        """
        Probing the client asks its session: open between polls, not once closed.
        """
        session = self.session()
        answers = []
        session.handler.probe(5).addCallback(answers.append)
        session.close()
        session.handler.probe(5).addCallback(answers.append)
        self.assertEqual(answers, [True, False])

    def test_messages_routed(self):
        """
        Messages from the client are envelopes for the registry; replies
        are queued on the session as SockJS messages.
        """
        session = self.session()
        session.received(['{"service":"echo","message":"\u2028"}'])
        self.assertEqual(session.queue, ['"{\\"service\\":\\"echo\\",\\"message\\":\\"\\u2028\\"}"'])

    def test_disconnected_once_on_timeout(self):
        """
        A session that times out disconnects its client once.
        """
        session = self.session()
        self.clock.advance(5)
        self.clock.advance(5)
        self.assertEqual(self.recorder.disconnected, [session.handler])
        self.assertFalse(session.handler.connected)

    def test_fan_out_encodes_once(self):
        """
        A message sent to many SockJS clients is escaped once: every
        session queues the same string.
        """
        sessions = [self.session(str(i)) for i in range(3)]
        send_to_clients([s.handler for s in sessions], {"service": "x", "message": 1})
        queued = [s.queue[0] for s in sessions]
        self.assertEqual(queued[0], '"{\\"service\\":\\"x\\",\\"message\\":1}"')
        self.assertIs(queued[0], queued[1])
        self.assertIs(queued[0], queued[2])

    def test_frame_key_by_channel_kind(self):
        """
        Framed sessions and raw WebSockets never share prepared frames.
        """
        session = self.session()
        raw = SockJSClient(RawWebSocketProtocol(), self.registry)
        self.assertNotEqual(session.handler.frame_key, raw.frame_key)
        self.assertEqual(raw.prepare(b"\xe2\x98\x83"), b"\xe2\x98\x83")
