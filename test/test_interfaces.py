"""Tests for snorky.interfaces: the contracts between layers."""

from twisted.trial.unittest import TestCase

from snorky.interfaces import FrameReceiver
from snorky.registry import ServiceRegistry
from snorky.services.echo import EchoService
from test.helpers import RecordingClient


class FrameReceiverTests(TestCase):
    """
    Tests for :class:`FrameReceiver`.
    """

    def test_registry_is_one(self) -> None:
        """A ServiceRegistry is a FrameReceiver, and a plain object is not."""
        receiver: FrameReceiver = ServiceRegistry()
        self.assertIsInstance(receiver, FrameReceiver)
        self.assertNotIsInstance(object(), FrameReceiver)

    def test_contract(self) -> None:
        """A frame given through the contract reaches its service and is answered."""
        receiver: FrameReceiver = ServiceRegistry([EchoService("echo")])
        client = RecordingClient()
        receiver.client_connected(client)
        receiver.process_frame(client, b'{"service":"echo","message":1}')
        receiver.process_message_from(client, "echo", 2)
        receiver.client_disconnected(client)
        receiver.process_frame(client, b'{"service":"echo","message":3}')
        self.assertEqual(client.messages("echo"), [1, 2])
