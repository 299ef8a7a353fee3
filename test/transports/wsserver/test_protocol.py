"""
Tests for snorky.transports.wsserver.protocol, through the ``/ws``
protocol: units over a StringTransport and a Clock, and memory release
over real loopback sockets.
"""

import gc
import struct
import tracemalloc
from typing import Any

from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock, deferLater
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from snorky import ServiceRegistry
from snorky.services.pubsub import PubSubService
from snorky.transports.websocket import WebSocketOptions
from test.wsfixtures import (
    LoopbackMixin,
    PresenceService,
    masked_frame,
    open_on_string_transport,
    unit_factory,
)


def close_frame_sent(written: bytes) -> int:
    """
    The code of the close frame at the end of *written* (server frames
    are not masked).
    """
    start = written.rindex(b"\x88")
    return struct.unpack("!H", written[start + 2:start + 4])[0]


class ControlFrameTests(TestCase):
    """
    Pongs count against the write bound, pings are rate-limited and
    invalid close frames get 1002.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.presence = PresenceService()
        self.registry = ServiceRegistry([self.presence])

    def open(self, **options: Any) -> Any:
        factory = unit_factory(self.registry, self.clock, **options)
        factory.setProtocolOptions(closeHandshakeTimeout=0)
        protocol, transport = open_on_string_transport(factory)
        self.addCleanup(protocol.connectionLost, Failure(ConnectionDone()))
        return protocol, transport

    def test_pongs_count_against_write_bound(self) -> None:
        """
        A client that pings and stops reading is dropped once the pongs
        waiting for it exceed max_write_buffer.
        """
        protocol, transport = self.open(max_write_buffer=1000, max_ping_rate=1e6)
        transport.producer.pauseProducing()
        ping = masked_frame(0x9, b"p" * 100)
        for _ in range(9):
            protocol.dataReceived(ping)
        self.assertFalse(transport.disconnected)
        protocol.dataReceived(ping)
        self.assertTrue(transport.disconnected)

    def test_ping_flood_closed_1008(self) -> None:
        """
        Pings beyond twice max_ping_rate at once are not answered and the
        connection is closed with 1008; pings at the rate are answered.
        """
        protocol, transport = self.open(max_ping_rate=5)
        for _ in range(10):
            protocol.dataReceived(masked_frame(0x9, b"ok"))
            self.clock.advance(0.2)
        self.assertEqual(transport.value().count(b"\x8a\x02ok"), 10)
        transport.clear()
        for _ in range(11):
            protocol.dataReceived(masked_frame(0x9, b"ok"))
        self.assertEqual(transport.value().count(b"\x8a\x02ok"), 10)
        self.assertEqual(close_frame_sent(transport.value()), 1008)
        self.assertIn(b"Too many pings", transport.value())

    def test_invalid_close_frames_1002(self) -> None:
        """
        Close frames with a reserved code (999, 1005), a 1-byte payload or
        a reason that is not UTF-8 are answered with 1002.
        """
        for payload in [
            struct.pack("!H", 999), struct.pack("!H", 1005), b"\x03",
            struct.pack("!H", 1000) + b"\xff\xfe",
        ]:
            protocol, transport = self.open()
            protocol.dataReceived(masked_frame(0x8, payload))
            self.assertEqual(close_frame_sent(transport.value()), 1002, payload)

    def test_valid_close_frame_answered(self) -> None:
        """
        A valid close frame, with a UTF-8 reason, is answered with 1000.
        """
        protocol, transport = self.open()
        protocol.dataReceived(masked_frame(0x8, struct.pack("!H", 3000) + "\u00e9".encode()))
        self.assertEqual(close_frame_sent(transport.value()), 1000)


class MemoryReleaseTests(LoopbackMixin, TestCase):
    """
    A dropped connection gives its buffers back without a garbage
    collection.
    """

    timeout = 30

    async def test_slow_consumer_memory_returns(self) -> None:
        """
        With the garbage collector off, the megabytes waiting for a slow
        consumer are freed as soon as it is dropped.
        """
        presence = PresenceService()
        pubsub = PubSubService("pubsub")
        await self.serve([presence, pubsub], WebSocketOptions(max_write_buffer=4 << 20))
        slow = await self.connect()
        await slow.call("pubsub", "subscribe", channel="c")
        gc.collect()
        gc.disable()
        self.addCleanup(gc.enable)
        tracemalloc.start()
        self.addCleanup(tracemalloc.stop)
        slow.transport.pauseProducing()
        before = tracemalloc.get_traced_memory()[0]
        chunk = "x" * 65536
        published = 0
        # Bounded: at most 1000 * 64 KiB.
        while not presence.disconnected and published < 1000:
            pubsub.publish("c", chunk)
            published += 1
            await presence.departures.get().addTimeout(0.01, self.reactor()).addErrback(
                lambda failure: None
            )
        self.assertTrue(presence.disconnected)
        # The departure is told from within connectionLost; let it end.
        await deferLater(self.reactor(), 0, lambda: None)
        after = tracemalloc.get_traced_memory()[0]
        self.assertGreater(published * len(chunk), 4 << 20)
        self.assertLess(after - before, 1 << 20)

    def reactor(self) -> Any:
        from twisted.internet import reactor

        return reactor
