"""Tests for snorky.services.echo: EchoService."""

from twisted.trial.unittest import TestCase

from snorky import ServiceRegistry
from snorky.services.echo import EchoService
from test.helpers import RecordingClient


class EchoServiceTests(TestCase):
    """
    Tests for :class:`EchoService`.
    """

    def setUp(self) -> None:
        self.registry = ServiceRegistry([EchoService("echo")])
        self.client = RecordingClient()
        self.other = RecordingClient()
        for client in (self.client, self.other):
            self.registry.client_connected(client)

    def test_echoes_any_message(self) -> None:
        """
        Every JSON message comes back unchanged, in an envelope from the echo service.
        """
        messages = [None, 0, -2.5, "héllo 😀", [1, [2]], {"a": {"b": None}}, True]
        for message in messages:
            self.registry.process_message_from(self.client, "echo", message)
        self.assertEqual(
            self.client.sent, [{"service": "echo", "message": m} for m in messages]
        )

    def test_not_rpc(self) -> None:
        """
        A message shaped like an RPC request is echoed as is, not answered.
        """
        request = {"command": "nothing", "params": {}, "callId": 3}
        self.registry.process_frame(
            self.client,
            b'{"service":"echo","message":{"command":"nothing","params":{},"callId":3}}',
        )
        self.assertEqual(self.client.messages("echo"), [request])

    def test_sender_only(self) -> None:
        """
        Only the sender gets the echo.
        """
        self.registry.process_message_from(self.client, "echo", "mine")
        self.assertEqual(self.other.sent, [])

    def test_name(self) -> None:
        """
        The echo answers under whatever name the service was registered with.
        """
        client = RecordingClient()
        EchoService("mirror").process_message_from(client, 1)
        self.assertEqual(client.sent, [{"service": "mirror", "message": 1}])

    def test_disconnected(self) -> None:
        """
        A message from a client that has gone is not echoed.
        """
        self.registry.client_disconnected(self.client)
        self.registry.process_message_from(self.client, "echo", "late")
        self.assertEqual(self.client.sent, [])
