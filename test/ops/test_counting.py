"""
Tests for snorky.ops.counting: a port's registry counts connections,
frames and messages, and forwards everything to the real registry.
"""

from typing import Any, List

from twisted.trial.unittest import TestCase

from snorky.ops.counting import PortCounts, PortRegistry, transport_label
from snorky.registry import ServiceRegistry
from snorky.services.echo import EchoService
from test.helpers import RecordingClient


class _SockJSLike(RecordingClient):
    transport_name = "sockjs"

    def __init__(self, transport: Any) -> None:
        super().__init__()
        self.channel = type("Channel", (), {"transport": transport})()


class _SelfCounting(RecordingClient):
    transport_name = "websocket"
    counts_own_frames = True


class TransportLabelTests(TestCase):
    """
    The ``transport`` label of a client.
    """

    def test_plain(self) -> None:
        """
        A client's label is its transport's name.
        """
        self.assertEqual(transport_label(RecordingClient()), "recording")

    def test_sockjs(self) -> None:
        """
        A SockJS client's label names the SockJS transport of its session.
        """
        self.assertEqual(transport_label(_SockJSLike("xhr_streaming")), "sockjs_xhr_streaming")

    def test_sockjs_unknown(self) -> None:
        """
        A SockJS client whose session does not say is just ``sockjs``.
        """
        self.assertEqual(transport_label(_SockJSLike(None)), "sockjs")


class PortRegistryTests(TestCase):
    """
    A :class:`PortRegistry` before an echo service.
    """

    def setUp(self) -> None:
        self.registry = ServiceRegistry([EchoService("echo")])
        self.counts = PortCounts()
        self.port = PortRegistry(self.registry, self.counts)

    def test_connections(self) -> None:
        """
        Connects and disconnects are counted per transport; open is the
        difference.
        """
        clients: List[RecordingClient] = [RecordingClient() for _ in range(3)]
        for client in clients:
            self.port.client_connected(client)
        self.port.client_disconnected(clients[0])
        self.assertEqual(self.counts.opened, {"recording": 3})
        self.assertEqual(self.counts.closed, {"recording": 1})
        self.assertEqual(self.counts.open_now(), {"recording": 2})
        self.assertFalse(clients[0].connected)

    def test_frames(self) -> None:
        """
        Frames in and out are counted with their sizes, and the echo
        still answers.
        """
        client = RecordingClient()
        self.port.client_connected(client)
        frame = b'{"service": "echo", "message": "hi"}'
        self.port.process_frame(client, frame)
        self.assertEqual(client.messages("echo"), ["hi"])
        self.assertEqual(self.counts.frames_in, {"recording": 1})
        self.assertEqual(self.counts.bytes_in, {"recording": len(frame)})
        self.assertEqual(self.counts.frames_out, {"recording": 1})
        self.assertEqual(self.counts.bytes_out["recording"], len(b'{"service":"echo","message":"hi"}'))
        self.assertEqual(self.counts.messages_in, {"echo": 1})

    def test_bad_frame(self) -> None:
        """
        A frame that is no envelope is counted, and the registry answers
        it with its usual error.
        """
        client = RecordingClient()
        self.port.client_connected(client)
        self.port.process_frame(client, b"nonsense")
        self.assertEqual(self.counts.frames_in, {"recording": 1})
        self.assertEqual(client.sent[0]["message"]["type"], "error")
        self.assertEqual(self.counts.messages_in, {})

    def test_unknown_service(self) -> None:
        """
        Messages to a service the registry lacks count as ``unknown``:
        a client cannot make up labels.
        """
        client = RecordingClient()
        self.port.client_connected(client)
        self.port.process_message_from(client, "made-up-name", {})
        self.assertEqual(self.counts.messages_in, {"unknown": 1})
        self.assertEqual(client.sent[0]["message"]["message"], "Unknown service")

    def test_self_counting(self) -> None:
        """
        A client whose transport counts its own writes is not wrapped.
        """
        client = _SelfCounting()
        self.port.client_connected(client)
        self.port.process_message_from(client, "echo", "x")
        self.assertEqual(self.counts.frames_out, {})
        self.assertEqual(client.messages("echo"), ["x"])

    def test_http_not_wrapped(self) -> None:
        """
        A backend client's answers are left to the site to count.
        """
        client = RecordingClient()
        client.transport_name = "http"
        write = client.write_frame
        self.port.client_connected(client)
        self.assertEqual(client.write_frame, write)

    def test_forwards(self) -> None:
        """
        Anything else is the registry's own.
        """
        self.assertIs(self.port.services, self.registry.services)
        self.assertEqual(self.port.register_service, self.registry.register_service)
