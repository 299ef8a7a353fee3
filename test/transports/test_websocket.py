"""
Tests for snorky.transports.websocket (the ``/ws`` transport): units on
Twisted's fakes, and integration tests with a real Autobahn client over
loopback sockets.
"""

import json
import struct
from typing import Any, List, Tuple

from twisted.internet import reactor
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, PartialDownloadError, readBody

from snorky import ServiceRegistry
from examples.intro_chat import MyChatService
from snorky.client import send_to_clients
from snorky.services.echo import EchoService
from snorky.services.pubsub import PubSubService
from snorky.transports.websocket import WebSocketClient, WebSocketOptions
from test.wsfixtures import (
    PEER,
    CountingFactory,
    LoopbackMixin,
    PresenceService,
    masked_frame,
    open_on_string_transport,
    unit_factory,
)


class WebSocketProtocolUnitTests(TestCase):
    """
    Tests for SnorkyWebSocketProtocol and WebSocketClient over a
    StringTransport.
    """

    def setUp(self) -> None:
        self.presence = PresenceService()
        self.registry = ServiceRegistry([self.presence, EchoService("echo")])

    def test_client_describes_connection(self) -> None:
        """
        Opening a connection registers a WebSocketClient with the peer's
        host as its remote address.
        """
        protocol, transport = open_on_string_transport(unit_factory(self.registry))
        [client] = self.presence.connected
        self.assertIsInstance(client, WebSocketClient)
        self.assertEqual((client.transport_name, client.remote_address), ("websocket", "192.0.2.7"))
        self.assertIs(client.frame_key, protocol.factory)
        protocol.connectionLost(Failure(ConnectionDone()))

    def test_disconnected_exactly_once(self) -> None:
        """
        The registry hears of a disconnect once, even if Autobahn reports
        the close twice.
        """
        protocol, transport = open_on_string_transport(unit_factory(self.registry))
        protocol.connectionLost(Failure(ConnectionDone()))
        protocol.onClose(False, 1006, "again")
        self.assertEqual(self.presence.disconnected, self.presence.connected)

    def test_write_buffer_overflow_drops(self) -> None:
        """
        While the transport says its buffer is full, writing more than
        max_write_buffer bytes aborts the connection and logs why.
        """
        events: List[dict] = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        protocol, transport = open_on_string_transport(
            unit_factory(self.registry, Clock(), max_write_buffer=1000)
        )
        [client] = self.presence.connected
        transport.producer.pauseProducing()
        client.send({"service": "echo", "message": "x" * 400})
        client.send({"service": "echo", "message": "x" * 400})
        self.assertFalse(transport.disconnected)
        client.send({"service": "echo", "message": "x" * 400})
        self.assertTrue(transport.disconnected)
        self.assertTrue(
            any(str(e.get("reason", "")).startswith("Slow consumer") for e in events)
        )
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.presence.disconnected, [client])

    def test_write_buffer_drained_resets(self) -> None:
        """
        Bytes written before the buffer drained do not count once the
        transport resumes the producer.
        """
        clock = Clock()
        protocol, transport = open_on_string_transport(
            unit_factory(self.registry, clock, max_write_buffer=1000)
        )
        [client] = self.presence.connected
        for _ in range(5):
            transport.producer.pauseProducing()
            client.send({"service": "echo", "message": "x" * 400})
            client.send({"service": "echo", "message": "x" * 400})
            clock.advance(1)
            transport.producer.resumeProducing()
        self.assertFalse(transport.disconnected)
        self.assertEqual(transport.value().count(b"x" * 400), 10)
        protocol.connectionLost(Failure(ConnectionDone()))

    def open_recorded(self, write_delay: float) -> Tuple[Clock, Any, Any, List[bytes]]:
        """
        A connection on a ``Clock`` with *write_delay*, its client, and
        the list its transport's writes go to.
        """
        clock = Clock()
        protocol, transport = open_on_string_transport(
            unit_factory(self.registry, clock, write_delay=write_delay)
        )
        [client] = self.presence.connected
        writes: List[bytes] = []
        transport.write = writes.append  # type: ignore[method-assign]
        return clock, protocol, client, writes

    def test_quiet_message_written_at_end_of_turn(self) -> None:
        """
        Fan-out messages to a connection that was not written to within
        write_delay go out together at the end of the reactor turn, not
        after the delay.
        """
        clock, protocol, client, writes = self.open_recorded(write_delay=0.05)
        send_to_clients([client], {"service": "echo", "message": "one"})
        send_to_clients([client], {"service": "echo", "message": "two"})
        self.assertEqual(writes, [])
        clock.advance(0)
        self.assertEqual(len(writes), 1)
        self.assertLess(writes[0].index(b'"one"'), writes[0].index(b'"two"'))
        clock.advance(1)
        send_to_clients([client], {"service": "echo", "message": "three"})
        clock.advance(0)
        self.assertEqual(len(writes), 2)
        protocol.connectionLost(Failure(ConnectionDone()))

    def test_fan_out_to_busy_connection_waits(self) -> None:
        """
        Fan-out messages to a connection written to less than write_delay
        ago wait until that much time has passed, then go out together, in
        order, in one write.
        """
        clock, protocol, client, writes = self.open_recorded(write_delay=0.05)
        send_to_clients([client], {"service": "echo", "message": "one"})
        clock.advance(0)
        clock.advance(0.01)
        send_to_clients([client], {"service": "echo", "message": "two"})
        clock.advance(0.03)
        send_to_clients([client], {"service": "echo", "message": "three"})
        self.assertEqual(len(writes), 1)
        clock.advance(0.009)
        self.assertEqual(len(writes), 1)
        clock.advance(0.001)
        self.assertEqual(len(writes), 2)
        self.assertLess(writes[1].index(b'"two"'), writes[1].index(b'"three"'))
        protocol.connectionLost(Failure(ConnectionDone()))

    def test_answer_to_busy_connection_not_delayed(self) -> None:
        """
        A message sent to one client alone (an RPC answer) goes out at the
        end of the reactor turn even on a busy connection, together with
        the fan-out messages queued before it, which keep their order.
        """
        clock, protocol, client, writes = self.open_recorded(write_delay=0.05)
        send_to_clients([client], {"service": "echo", "message": "one"})
        clock.advance(0)
        clock.advance(0.01)
        send_to_clients([client], {"service": "echo", "message": "fan"})
        protocol.dataReceived(
            masked_frame(0x1, b'{"service": "echo", "message": "ask"}')
        )
        self.assertEqual(len(writes), 1)
        clock.advance(0)
        self.assertEqual(len(writes), 2)
        self.assertLess(writes[1].index(b'"fan"'), writes[1].index(b'"ask"'))
        clock.advance(0.05)
        self.assertEqual(len(writes), 2)
        protocol.connectionLost(Failure(ConnectionDone()))

    def test_queue_over_write_buffer_written_at_once(self) -> None:
        """
        Queued messages beyond max_write_buffer bytes are written without
        waiting for the delay.
        """
        clock = Clock()
        protocol, transport = open_on_string_transport(
            unit_factory(self.registry, clock, max_write_buffer=1000, write_delay=10)
        )
        [client] = self.presence.connected
        client.send({"service": "echo", "message": "x" * 600})
        self.assertEqual(transport.value(), b"")
        client.send({"service": "echo", "message": "y" * 600})
        self.assertEqual(transport.value().count(b"x" * 600), 1)
        self.assertEqual(transport.value().count(b"y" * 600), 1)
        self.assertFalse(transport.disconnected)
        protocol.connectionLost(Failure(ConnectionDone()))

    def test_close_writes_queued_messages_first(self) -> None:
        """
        Closing writes the messages still queued, then the close frame.
        """
        clock = Clock()
        factory = unit_factory(self.registry, clock, write_delay=10)
        factory.setProtocolOptions(closeHandshakeTimeout=0)
        protocol, transport = open_on_string_transport(factory)
        [client] = self.presence.connected
        client.send({"service": "echo", "message": "last"})
        factory.close_all()
        written = transport.value()
        self.assertIn(b'"last"', written)
        self.assertTrue(written.endswith(b"\x88\x16\x03\xe9Server shutting down"), written)
        clock.advance(10)
        self.assertEqual(transport.value(), written)
        protocol.connectionLost(Failure(ConnectionDone()))

    def test_queue_dropped_with_connection(self) -> None:
        """
        Messages still queued when the connection is lost are not written.
        """
        clock = Clock()
        protocol, transport = open_on_string_transport(unit_factory(self.registry, clock))
        [client] = self.presence.connected
        client.send({"service": "echo", "message": "late"})
        protocol.connectionLost(Failure(ConnectionDone()))
        clock.advance(1)
        self.assertEqual(transport.value(), b"")

    def test_nothing_sent_when_closing(self) -> None:
        """
        Once the closing handshake has started, envelopes for the client
        are not written.
        """
        factory = unit_factory(self.registry)
        factory.setProtocolOptions(closeHandshakeTimeout=0)
        protocol, transport = open_on_string_transport(factory)
        [client] = self.presence.connected
        factory.close_all()
        transport.clear()
        client.send({"service": "echo", "message": "late"})
        self.assertEqual(transport.value(), b"")
        protocol.connectionLost(Failure(ConnectionDone()))



class CloseAllUnitTests(TestCase):
    """
    Tests for SnorkyWebSocketFactory.close_all with a Clock.
    """

    def test_no_connections(self) -> None:
        """
        With no connections, close_all has fired already.
        """
        factory = unit_factory(ServiceRegistry(), clock=Clock())
        self.assertIsNone(self.successResultOf(factory.close_all()))

    def test_sends_close_frame(self) -> None:
        """
        close_all writes a close frame with code 1001 and its reason, and
        fires once the connection is lost.
        """
        clock = Clock()
        factory = unit_factory(ServiceRegistry(), clock=clock)
        factory.setProtocolOptions(closeHandshakeTimeout=0)
        protocol, transport = open_on_string_transport(factory)
        done = factory.close_all()
        reason = b"Server shutting down"
        self.assertEqual(transport.value(), b"\x88" + bytes([2 + len(reason)]) + b"\x03\xe9" + reason)
        self.assertNoResult(done)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertIsNone(self.successResultOf(done))

    def test_timeout_aborts(self) -> None:
        """
        A peer that never completes the closing handshake is aborted after
        the timeout, and close_all fires then.
        """
        clock = Clock()
        factory = unit_factory(ServiceRegistry(), clock=clock)
        # Only close_all's own timeout may end the wait.
        factory.setProtocolOptions(closeHandshakeTimeout=0)
        protocol, transport = open_on_string_transport(factory)
        done = factory.close_all(timeout=2.0)
        clock.advance(1.9)
        self.assertNoResult(done)
        self.assertFalse(transport.disconnected)
        clock.advance(0.2)
        self.assertIsNone(self.successResultOf(done))
        self.assertTrue(transport.disconnected)
        protocol.connectionLost(Failure(ConnectionDone()))

    def test_handshaking_connection_dropped(self) -> None:
        """
        A connection still in its opening handshake is dropped by
        close_all.
        """
        factory = unit_factory(ServiceRegistry(), clock=Clock())
        protocol = factory.buildProtocol(PEER)
        transport = StringTransport(peerAddress=PEER)
        protocol.makeConnection(transport)
        done = factory.close_all()
        self.assertTrue(transport.disconnected)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertIsNone(self.successResultOf(done))



class WebSocketIntegrationTests(LoopbackMixin, TestCase):
    """
    Tests for the WebSocket transport with real Autobahn clients over
    loopback sockets, on its own port.
    """

    timeout = 20

    async def test_rpc_round_trip(self) -> None:
        """
        MyChatService works as written: a joined client's message reaches
        every joined client, and RPC responses carry the callId.
        """
        await self.serve([MyChatService("chat")])
        alice, bob = await self.connect(), await self.connect()
        self.assertEqual(
            await alice.call("chat", "join"), {"type": "response", "callId": 1, "data": None}
        )
        await bob.call("chat", "join")
        bob.send_json(
            {"service": "chat",
             "message": {"command": "send_message", "params": {"body": "hi"}, "callId": 9}}
        )
        note = {"service": "chat", "message": {"type": "chatMessage", "body": "hi"}}
        self.assertEqual(await alice.receive(), note)
        received = [await bob.receive(), await bob.receive()]
        self.assertIn(note, received)
        self.assertIn(
            {"service": "chat", "message": {"type": "response", "callId": 9, "data": None}},
            received,
        )

    async def test_rpc_errors(self) -> None:
        """
        Unknown commands, wrong params and a service's own errors get their
        texts in error replies.
        """
        await self.serve([PubSubService("pubsub")])
        client = await self.connect()
        self.assertEqual(
            await client.call("pubsub", "fly"),
            {"type": "error", "callId": 1, "message": "Unknown command"},
        )
        self.assertEqual((await client.call("pubsub", "subscribe", wrong=1))["message"], "Invalid params")
        self.assertEqual((await client.call("pubsub", "unsubscribe", channel=1))["message"], "Not subscribed")

    async def test_fan_out_frames_once(self) -> None:
        """
        A publish to several subscribers is framed once and reaches each.
        """
        pubsub = PubSubService("pubsub")
        factory = await self.serve([pubsub], factory_class=CountingFactory)
        clients = [await self.connect() for _ in range(4)]
        for client in clients:
            await client.call("pubsub", "subscribe", channel="news")
        before = factory.prepared
        pubsub.publish("news", {"headline": "Snorky"})
        self.assertEqual(factory.prepared - before, 1)
        expected = {
            "service": "pubsub",
            "message": {"type": "message", "channel": "news", "message": {"headline": "Snorky"}},
        }
        for client in clients:
            self.assertEqual(await client.receive(), expected)

    async def test_malformed_frames(self) -> None:
        """
        Text frames that are not valid envelopes get an error message and
        the connection stays usable.
        """
        await self.serve([EchoService("echo")])
        client = await self.connect()
        client.sendMessage(b"{not json")
        self.assertEqual(
            await client.receive(),
            {"service": None, "message": {"type": "error", "message": "Invalid JSON"}},
        )
        client.sendMessage(b"[1, 2]")
        self.assertEqual(
            await client.receive(),
            {"service": None, "message": {"type": "error", "message": "Envelope must be an object"}},
        )
        client.send_json({"service": "nope", "message": 1})
        self.assertEqual(
            await client.receive(),
            {"service": "nope", "message": {"type": "error", "message": "Unknown service"}},
        )
        client.send_json({"service": "echo", "message": "still here"})
        self.assertEqual(await client.receive(), {"service": "echo", "message": "still here"})

    async def test_binary_frame_closes_1003(self) -> None:
        """
        A binary frame closes the connection with code 1003, and the
        registry hears of the disconnect.
        """
        presence = PresenceService()
        await self.serve([presence, EchoService("echo")])
        client = await self.connect()
        client.sendMessage(b'{"service": "echo", "message": 1}', isBinary=True)
        code, reason = await client.closed
        self.assertEqual(code, 1003)
        self.assertEqual(await presence.departures.get(), presence.connected[0])
        self.assertEqual(client.messages.pending, [])

    async def test_oversize_closes_1009(self) -> None:
        """
        A message over max_message_size closes the connection with 1009,
        while one at the limit is served.
        """
        await self.serve([EchoService("echo")], WebSocketOptions(max_message_size=100))
        client = await self.connect()
        at_limit = json.dumps({"service": "echo", "message": "x" * 66}).encode()
        self.assertEqual(len(at_limit), 100)
        client.sendMessage(at_limit)
        self.assertEqual((await client.receive())["message"], "x" * 66)
        client.sendMessage(at_limit + b" ")
        code, reason = await client.closed
        self.assertEqual(code, 1009)

    async def test_invalid_utf8_closes_1007(self) -> None:
        """
        A text frame that is not UTF-8 closes the connection with 1007.
        """
        await self.serve([EchoService("echo")])
        client = await self.connect()
        # Autobahn's client would refuse to send it; write the raw frame.
        client.sendFrame(opcode=1, payload=b"\xff\xfe")
        code, reason = await client.closed
        self.assertEqual(code, 1007)

    async def test_invalid_close_frames_1002(self) -> None:
        """
        Close frames with code 999 or 1005, a 1-byte payload or a reason
        that is not UTF-8 are answered with 1002, not a dropped connection.
        """
        await self.serve([EchoService("echo")])
        for payload in [
            struct.pack("!H", 999), struct.pack("!H", 1005), b"\x03",
            struct.pack("!H", 1000) + b"\xff\xfe",
        ]:
            client = await self.connect()
            client.sendFrame(opcode=8, payload=payload)
            code, reason = await client.closed
            self.assertEqual(code, 1002, payload)

    async def test_disconnect_without_join(self) -> None:
        """
        Clients that leave MyChatService without joining (cleanly or by
        dropping the socket) leave the server healthy, and nothing fails.
        """
        presence = PresenceService()
        # Presence last, so that the chat service has been told when a
        # departure is reported.
        await self.serve([MyChatService("chat"), presence])
        polite, rude = await self.connect(), await self.connect()
        polite.sendClose(1000)
        await polite.closed
        rude.transport.abortConnection()
        await rude.closed
        await presence.departures.get()
        await presence.departures.get()
        self.assertEqual(self.flushLoggedErrors(), [])
        alice, bob = await self.connect(), await self.connect()
        await alice.call("chat", "join")
        await bob.call("chat", "join")
        await alice.call("chat", "send_message", body="still up")
        self.assertEqual((await bob.receive())["message"], {"type": "chatMessage", "body": "still up"})

    async def test_each_disconnect_reported_once(self) -> None:
        """
        Every way a connection ends tells the registry exactly once.
        """
        presence = PresenceService()
        await self.serve([presence, EchoService("echo")], WebSocketOptions(max_message_size=10))
        clients = [await self.connect() for _ in range(3)]
        clients[0].sendClose(1000)
        clients[1].transport.abortConnection()
        clients[2].sendMessage(b"x" * 11)
        for _ in clients:
            await presence.departures.get()
        self.assertEqual(sorted(map(id, presence.disconnected)), sorted(map(id, presence.connected)))
        await self.factory.close_all()
        self.assertEqual(len(presence.disconnected), 3)

    async def test_keep_alive_pings(self) -> None:
        """
        The server pings clients every ping_interval.
        """
        await self.serve([EchoService("echo")], WebSocketOptions(ping_interval=0.5))
        client = await self.connect()
        await client.pinged.addTimeout(3, reactor)
        self.assertFalse(client.closed.called)

    async def test_unanswered_ping_drops(self) -> None:
        """
        A client that does not answer pings is dropped.
        """
        presence = PresenceService()
        await self.serve([presence], WebSocketOptions(ping_interval=0.5))
        client = await self.connect()
        # Stop reading: the pings go unanswered.
        client.transport.pauseProducing()
        gone = await presence.departures.get().addTimeout(5, reactor)
        self.assertIs(gone, presence.connected[0])

    async def test_origin_refused(self) -> None:
        """
        A browser from an origin not in allowed_origins is refused (HTTP
        400, as Autobahn answers) and never reaches the registry.
        """
        presence = PresenceService()
        await self.serve([presence], WebSocketOptions(allowed_origins=["https://app.example.com"]))
        reason = await self.refused(origin="https://evil.example.com")
        self.assertIn("[400]", reason)
        self.assertIn("not allowed", reason)
        self.assertEqual(presence.connected, [])

    async def test_origin_allowed(self) -> None:
        """
        An allowed origin written without a port matches on the scheme's
        default port, one without a scheme matches http and https, an
        explicit port must match, and a client without Origin is admitted.
        """
        presence = PresenceService()
        await self.serve(
            [presence],
            WebSocketOptions(
                allowed_origins=["https://app.example.com", "*.example.org", "http://localhost:8080"]
            ),
        )
        for origin in [
            "https://app.example.com", "http://www.example.org", "https://a.b.example.org",
            "http://localhost:8080", None,
        ]:
            await self.connect(origin=origin)
        self.assertEqual(len(presence.connected), 5)
        for origin in [
            "http://app.example.com", "https://app.example.com:8443", "https://example.org.evil.com",
            "http://localhost:8081",
        ]:
            self.assertIn("not allowed", await self.refused(origin=origin))
        self.assertEqual(len(presence.connected), 5)

    async def test_plain_http_request(self) -> None:
        """
        A plain HTTP request gets 426 Upgrade Required, not Autobahn's
        status page nor its redirect.
        """
        await self.serve([EchoService("echo")])
        url = "http://127.0.0.1:{}/ws?redirect=http%3A%2F%2Fevil.example.com".format(self.port)
        response = await Agent(reactor).request(b"GET", url.encode())
        self.assertEqual(response.code, 426)
        self.assertFalse(response.headers.hasHeader(b"Location"))
        # The answer has no length: its body ends with the connection.
        body = await readBody(response).addErrback(
            lambda failure: failure.trap(PartialDownloadError) and failure.value.response
        )
        self.assertNotIn(b"Autobahn", body)

    async def test_max_connections(self) -> None:
        """
        Beyond max_connections the handshake is refused with 503; a slot
        freed by a departing client can be taken again.
        """
        presence = PresenceService()
        await self.serve([presence], WebSocketOptions(max_connections=2))
        first = await self.connect()
        await self.connect()
        self.assertIn("[503]", await self.refused())
        first.sendClose(1000)
        await first.closed
        await presence.departures.get()
        await self.connect()
        self.assertEqual(len(presence.connected), 3)

    async def test_close_all(self) -> None:
        """
        close_all closes every client with 1001 and fires once they are
        gone.
        """
        presence = PresenceService()
        factory = await self.serve([presence])
        clients = [await self.connect() for _ in range(3)]
        await factory.close_all()
        for client in clients:
            code, reason = await client.closed
            self.assertEqual((code, reason), (1001, "Server shutting down"))
        self.assertEqual(len(presence.disconnected), 3)


class SlowConsumerTestsMixin(LoopbackMixin):
    """
    A client that stops reading is dropped while others keep receiving.
    """

    timeout = 30

    async def test_slow_consumer_dropped(self) -> None:
        """
        A subscriber that stops reading is dropped with a logged reason once
        max_write_buffer bytes wait for it; a reading subscriber gets every
        message.
        """
        events: List[dict] = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        presence = PresenceService()
        pubsub = PubSubService("pubsub")
        await self.serve([presence, pubsub], WebSocketOptions(max_write_buffer=256 * 1024))
        slow, fast = await self.connect(), await self.connect()
        await slow.call("pubsub", "subscribe", channel="c")
        await fast.call("pubsub", "subscribe", channel="c")
        slow.transport.pauseProducing()
        chunk = "x" * 16384
        # Bounded: at most 2000 * 16 KiB = 32 MiB, far above what the
        # kernel's socket buffers can hide.
        for _ in range(2000):
            pubsub.publish("c", chunk)
            self.assertEqual((await fast.receive())["message"]["message"], chunk)
            if presence.disconnected:
                break
        self.assertEqual(presence.disconnected, presence.connected[:1])
        self.assertTrue(
            any(str(e.get("reason", "")).startswith("Slow consumer") for e in events)
        )
        pubsub.publish("c", "after")
        self.assertEqual((await fast.receive())["message"]["message"], "after")


class SlowConsumerTests(SlowConsumerTestsMixin, TestCase):
    """
    Slow consumers on a WebSocket port of its own.
    """


class WebSocketResourceTests(SlowConsumerTestsMixin, TestCase):
    """
    Tests for websocket_resource in a twisted.web Site on a real port.
    """

    as_resource = True

    async def test_round_trip_next_to_other_resources(self) -> None:
        """
        WebSocket at /ws and a plain page at /hello share one port.
        """
        await self.serve([EchoService("echo")])
        client = await self.connect()
        client.send_json({"service": "echo", "message": [1, "two"]})
        self.assertEqual(await client.receive(), {"service": "echo", "message": [1, "two"]})
        response = await Agent(reactor).request(
            b"GET", "http://127.0.0.1:{}/hello".format(self.port).encode()
        )
        self.assertEqual(await readBody(response), b"hello")

    async def test_close_all(self) -> None:
        """
        close_all closes clients of the mounted resource with 1001.
        """
        factory = await self.serve([EchoService("echo")])
        client = await self.connect()
        await factory.close_all()
        code, reason = await client.closed
        self.assertEqual(code, 1001)

    async def test_binary_frame_closes_1003(self) -> None:
        """
        A binary frame through the resource closes with 1003.
        """
        await self.serve([EchoService("echo")])
        client = await self.connect()
        client.sendMessage(b"\x00", isBinary=True)
        code, reason = await client.closed
        self.assertEqual(code, 1003)
