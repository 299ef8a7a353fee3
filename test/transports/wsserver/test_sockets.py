"""
Tests for snorky.transports.wsserver.sockets: the feature check that
fences the use of Twisted's private write buffer. If a Twisted release
changes that buffer, these tests fail.
"""

from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import TestCase

from snorky.transports.wsserver import sockets


class _Held(Protocol):
    def connectionMade(self) -> None:
        self.factory.made.callback(self)  # type: ignore[attr-defined]


class SocketsTests(TestCase):
    """
    Tests for the fenced direct-to-socket write, on real loopback sockets.
    """

    def test_supported(self) -> None:
        """
        The installed Twisted buffers writes as the shortcut assumes; when
        this fails, Twisted changed and every write takes the public path.
        """
        self.assertTrue(sockets.SUPPORTED)

    def test_other_transports(self) -> None:
        """
        A transport that is not a plain TCP connection gets no socket.
        """
        self.assertIsNone(sockets.direct_socket(StringTransport()))

    async def connected(self) -> Any:
        factory = Factory.forProtocol(_Held)
        factory.made = Deferred()  # type: ignore[attr-defined]
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(port.stopListening)
        client = await TCP4ClientEndpoint(
            reactor, "127.0.0.1", port.getHost().port
        ).connect(Factory.forProtocol(Protocol))
        self.addCleanup(client.transport.abortConnection)
        server = await factory.made
        return server.transport

    async def test_buffered_and_discarded(self) -> None:
        """
        A TCP connection gives its socket; it has nothing buffered until
        Twisted buffers a write, and once lost, discard_buffered empties
        its buffer.
        """
        transport = await self.connected()
        self.assertIs(sockets.direct_socket(transport), transport.socket)
        self.assertTrue(sockets.nothing_buffered(transport))
        transport.write(b"x" * 1000)
        self.assertFalse(sockets.nothing_buffered(transport))
        lost: Deferred = Deferred()
        transport.protocol.connectionLost = lambda reason: lost.callback(None)
        transport.abortConnection()
        await lost
        sockets.discard_buffered(transport)
        self.assertTrue(sockets.nothing_buffered(transport))

