"""Tests for snorky.client: Client, send_to_clients and send_encoded_to_clients."""

from typing import Any, List, Set

from twisted.trial.unittest import TestCase

from snorky.client import Client, send_encoded_to_clients, send_to_clients
from test.helpers import RecordingClient


class FrameClient(Client):
    """
    A client that keeps the raw data it prepares and the frames it writes.
    """

    transport_name = "frames"

    def __init__(self, remote_address: Any = None) -> None:
        super().__init__(remote_address)
        self.prepared: List[bytes] = []
        self.frames: List[Any] = []

    def prepare(self, data: bytes) -> Any:
        self.prepared.append(data)
        return ("frame", data)

    def write_frame(self, frame: Any) -> None:
        self.frames.append(frame)


class OtherFrameClient(FrameClient):
    """
    A client of another kind, so its frames are prepared separately.
    """


class ClientTests(TestCase):
    """
    Tests for :class:`Client`.
    """

    def test_identity_starts_none(self) -> None:
        """
        A new client has no identity and is connected.
        """
        client = Client("127.0.0.1")
        self.assertEqual((client.identity, client.connected), (None, True))

    def test_remote_address(self) -> None:
        """
        A client keeps its remote address, which defaults to None.
        """
        self.assertEqual(Client("203.0.113.9:4000").remote_address, "203.0.113.9:4000")
        self.assertIsNone(Client().remote_address)

    def test_send_encodes_compact_utf8(self) -> None:
        """
        send writes the envelope as compact UTF-8 JSON through prepare and write_frame.
        """
        client = FrameClient()
        client.send({"service": "chat", "message": "héllo ☃"})
        expected = '{"service":"chat","message":"héllo ☃"}'.encode("utf-8")
        self.assertEqual(client.prepared, [expected])
        self.assertEqual(client.frames, [("frame", expected)])

    def test_send_encoded(self) -> None:
        """
        send_encoded writes already encoded data unchanged.
        """
        client = FrameClient()
        client.send_encoded(b'{"a":1}')
        self.assertEqual(client.frames, [("frame", b'{"a":1}')])

    def test_send_disconnected_is_noop(self) -> None:
        """
        Sending to a disconnected client neither prepares nor writes anything.
        """
        client = FrameClient()
        client.connected = False
        client.send({"service": "chat", "message": 1})
        client.send_encoded(b"{}")
        self.assertEqual((client.prepared, client.frames), ([], []))

    def test_send_not_json(self) -> None:
        """
        Sending something that is not JSON-able raises and writes nothing.
        """
        client = FrameClient()
        self.assertRaises(TypeError, client.send, {"x": object()})
        self.assertRaises(ValueError, client.send, {"x": float("inf")})
        self.assertEqual(client.frames, [])

    def test_write_frame_abstract(self) -> None:
        """
        The base Client has no transport, so writing raises NotImplementedError.
        """
        self.assertRaises(NotImplementedError, Client().send, {"a": 1})

    def test_default_prepare_and_key(self) -> None:
        """
        By default prepare returns the data and clients of one class share a frame_key.
        """
        self.assertEqual(Client().prepare(b"x"), b"x")
        self.assertEqual(FrameClient().frame_key, FrameClient().frame_key)
        self.assertNotEqual(FrameClient().frame_key, OtherFrameClient().frame_key)

    def test_repr(self) -> None:
        """
        repr names the class, the transport and the address.
        """
        self.assertEqual(repr(FrameClient("10.1.2.3")), "<FrameClient frames 10.1.2.3>")


class ProbeDefaultTests(TestCase):
    """
    Tests for the default :meth:`Client.probe`.
    """

    def test_answers_connected(self) -> None:
        """
        A transport that cannot ask its peer answers whether it is still connected.
        """
        client = FrameClient()
        answers: List[bool] = []
        client.probe(5).addCallback(answers.append)
        client.connected = False
        client.probe(5).addCallback(answers.append)
        self.assertEqual(answers, [True, False])


class SendEncodedToClientsTests(TestCase):
    """
    Tests for :func:`send_encoded_to_clients`.
    """

    def test_bytes_framed_once(self) -> None:
        """
        Bytes already encoded are framed once and written to every connected client as they are.
        """
        clients = [FrameClient() for _ in range(3)]
        clients[1].connected = False
        send_encoded_to_clients(clients, b'{"service":"s","message":2}')
        self.assertEqual(sum(len(c.prepared) for c in clients), 1)
        self.assertEqual(
            [c.frames for c in clients],
            [[("frame", b'{"service":"s","message":2}')], [],
             [("frame", b'{"service":"s","message":2}')]],
        )


class SendToClientsTests(TestCase):
    """
    Tests for :func:`send_to_clients`.
    """

    def test_encodes_once(self) -> None:
        """
        Every client gets the very same prepared frame, prepared once.
        """
        clients = [FrameClient() for _ in range(4)]
        send_to_clients(clients, {"service": "s", "message": [1]})
        self.assertEqual(sum(len(c.prepared) for c in clients), 1)
        frames = [c.frames[0] for c in clients]
        for frame in frames:
            self.assertIs(frame, frames[0])
        self.assertEqual(frames[0], ("frame", b'{"service":"s","message":[1]}'))

    def test_one_frame_per_key(self) -> None:
        """
        Clients of different kinds get one prepared frame per kind, all from one
        encoding.
        """
        plain = [FrameClient() for _ in range(3)]
        other = [OtherFrameClient() for _ in range(3)]
        send_to_clients(plain + other, {"service": "s", "message": None})
        self.assertEqual(sum(len(c.prepared) for c in plain), 1)
        self.assertEqual(sum(len(c.prepared) for c in other), 1)
        encoded = [data for c in plain + other for data in c.prepared]
        self.assertIs(encoded[0], encoded[1])
        for client in plain + other:
            self.assertEqual(len(client.frames), 1)

    def test_recording_clients_count(self) -> None:
        """
        RecordingClients count one prepared frame in all for a fan-out to them.
        """
        clients = [RecordingClient() for _ in range(10)]
        send_to_clients(clients, {"service": "s", "message": "m"})
        self.assertEqual(sum(c.frames_prepared for c in clients), 1)
        self.assertEqual([c.messages("s") for c in clients], [["m"]] * 10)

    def test_skips_disconnected(self) -> None:
        """
        Disconnected clients are skipped, and prepare nothing.
        """
        gone, there = FrameClient(), OtherFrameClient()
        gone.connected = False
        send_to_clients([gone, there], {"service": "s", "message": 1})
        self.assertEqual((gone.prepared, gone.frames), ([], []))
        self.assertEqual(len(there.frames), 1)

    def test_not_json_writes_nothing(self) -> None:
        """
        An envelope that is not JSON-able raises before any client is written.
        """
        client = FrameClient()
        self.assertRaises(TypeError, send_to_clients, [client], {"x": {1}})
        self.assertEqual(client.frames, [])

    def test_empty(self) -> None:
        """
        Sending to no connected clients prepares no frame and returns
        nothing, but still refuses an envelope that is not JSON.
        """
        gone = FrameClient()
        gone.connected = False
        for clients in ([], iter(()), [gone]):
            self.assertIsNone(send_to_clients(clients, {"service": "s", "message": 1}))
        self.assertEqual((gone.prepared, gone.frames), ([], []))
        self.assertRaises(TypeError, send_to_clients, [], {"x": {1}})

    def test_generator(self) -> None:
        """
        Any iterable of clients will do, a generator included.
        """
        clients = [FrameClient() for _ in range(3)]
        send_to_clients((c for c in clients), {"service": "s", "message": 1})
        self.assertEqual([len(c.frames) for c in clients], [1, 1, 1])

    def test_set_changed_by_write(self) -> None:
        """
        A write that disconnects clients and removes them from the set being sent to
        disturbs nobody else.
        """
        members: Set[Client] = set()

        class DroppingClient(FrameClient):
            def write_frame(self, frame: Any) -> None:
                super().write_frame(frame)
                # As a transport dropping a slow consumer would do.
                for member in list(members):
                    if isinstance(member, DroppingClient):
                        member.connected = False
                        members.discard(member)

        droppers = [DroppingClient() for _ in range(2)]
        others = [OtherFrameClient() for _ in range(5)]
        members.update(droppers + others)
        send_to_clients(members, {"service": "s", "message": 1})
        self.assertEqual([len(c.frames) for c in others], [1] * 5)
        self.assertEqual(sum(len(c.frames) for c in droppers), 1)
