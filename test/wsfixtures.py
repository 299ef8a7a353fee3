"""
Fixtures for the WebSocket tests (``/ws``, the shared layer and SockJS's
WebSocket URLs): servers on Twisted's fakes, and real Autobahn clients
over loopback sockets.
"""

import json
from typing import Any, List, Optional, Tuple

from autobahn.twisted.websocket import (
    WebSocketClientFactory,
    WebSocketClientProtocol,
    connectWS,
)
from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, DeferredList, DeferredQueue
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.testing import StringTransport
from twisted.web.resource import Resource
from twisted.web.server import Site
from twisted.web.static import Data

from snorky import Service, ServiceRegistry
from snorky.client import Client
from snorky.transports.websocket import (
    SnorkyWebSocketFactory,
    WebSocketOptions,
    websocket_resource,
)


class PresenceService(Service):
    """
    Records every connect and disconnect the registry reports.
    """

    def __init__(self) -> None:
        super().__init__("presence")
        self.connected: List[Client] = []
        self.disconnected: List[Client] = []
        self.departures: DeferredQueue = DeferredQueue()

    def client_connected(self, client: Client) -> None:
        self.connected.append(client)

    def client_disconnected(self, client: Client) -> None:
        self.disconnected.append(client)
        self.departures.put(client)


class CountingFactory(SnorkyWebSocketFactory):
    """
    Counts the frames it prepares, to show that a fan-out frames once.
    """

    prepared = 0

    def prepareMessage(self, payload: bytes, isBinary: bool = False, doNotCompress: bool = False) -> Any:
        self.prepared += 1
        return super().prepareMessage(payload, isBinary, doNotCompress)



HANDSHAKE = (
    b"GET /ws HTTP/1.1\r\n"
    b"Host: 127.0.0.1\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)

PEER = IPv4Address("TCP", "192.0.2.7", 40000)


def open_on_string_transport(factory: SnorkyWebSocketFactory) -> Tuple[Any, StringTransport]:
    """
    A server protocol of *factory* that has completed its opening
    handshake over a ``StringTransport``.
    """
    protocol = factory.buildProtocol(PEER)
    transport = StringTransport(peerAddress=PEER)
    protocol.makeConnection(transport)
    protocol.dataReceived(HANDSHAKE)
    assert transport.value().startswith(b"HTTP/1.1 101"), transport.value()
    transport.clear()
    return protocol, transport


def unit_factory(registry: ServiceRegistry, clock: Any = None, **options: Any) -> SnorkyWebSocketFactory:
    # No pings: Autobahn's timers run on the global reactor.
    return SnorkyWebSocketFactory(
        registry, WebSocketOptions(ping_interval=0, **options), reactor=clock
    )

def masked_frame(opcode: int, payload: bytes) -> bytes:
    """
    A final client-to-server frame (masked, as RFC 6455 requires of
    clients) carrying a short *payload*.
    """
    mask = b"\x01\x02\x03\x04"
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked



class TestClientProtocol(WebSocketClientProtocol):
    """
    A real Autobahn client that queues decoded messages, counts pings and
    records how it was closed.
    """

    def __init__(self) -> None:
        super().__init__()
        self.messages: DeferredQueue = DeferredQueue()
        self.closed: Deferred = Deferred()
        self.pinged: Deferred = Deferred()
        self.call_id = 0

    def onOpen(self) -> None:
        self.factory.opened.callback(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.messages.put(json.loads(payload.decode("utf-8")))

    def onPing(self, payload: bytes) -> None:
        if not self.pinged.called:
            self.pinged.callback(None)
        super().onPing(payload)

    def onClose(self, wasClean: bool, code: Optional[int], reason: Optional[str]) -> None:
        if not self.factory.opened.called:
            self.factory.opened.errback(ConnectionError(reason))
        self.closed.callback((code, reason))

    def send_json(self, obj: Any) -> None:
        self.sendMessage(json.dumps(obj).encode("utf-8"))

    def receive(self) -> Deferred:
        """
        The next message, decoded; fails after five seconds.
        """
        return self.messages.get().addTimeout(5, reactor)

    async def call(self, service: str, command: str, **params: Any) -> Any:
        """
        Call an RPC command and return the reply's message, skipping the
        notifications that arrive first.
        """
        self.call_id += 1
        self.send_json(
            {"service": service,
             "message": {"command": command, "params": params, "callId": self.call_id}}
        )
        while True:
            message = (await self.receive())["message"]
            if message.get("callId") == self.call_id:
                return message

class LoopbackMixin:
    """
    Serves a registry over WebSocket on a loopback port, on its own or as
    a resource of a Site, and connects real clients to it.
    """

    as_resource = False

    async def serve(
        self, services: List[Service], options: Optional[WebSocketOptions] = None,
        factory_class: type = SnorkyWebSocketFactory,
    ) -> SnorkyWebSocketFactory:
        self.clients: List[TestClientProtocol] = []
        self.factory = factory_class(ServiceRegistry(services), options)
        if self.as_resource:
            root = Resource()
            root.putChild(b"ws", websocket_resource(self.factory))
            root.putChild(b"hello", Data(b"hello", "text/plain"))
            served = Site(root)
        else:
            served = self.factory
        endpoint = TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
        port = await endpoint.listen(served)
        self.port = port.getHost().port
        self.addCleanup(port.stopListening)
        self.addCleanup(self.close_clients)
        return self.factory

    #: The path clients connect to.
    path = "/ws"

    async def connect(self, origin: Optional[str] = None) -> TestClientProtocol:
        factory = WebSocketClientFactory(
            "ws://127.0.0.1:{}{}".format(self.port, self.path), origin=origin
        )
        factory.protocol = TestClientProtocol
        factory.opened = Deferred()
        connector = connectWS(factory)
        self.addCleanup(connector.disconnect)
        protocol = await factory.opened.addTimeout(5, reactor)
        self.clients.append(protocol)
        return protocol

    async def refused(self, origin: Optional[str] = None) -> str:
        """
        Try to connect, expecting the handshake to be refused; return why.
        """
        try:
            await self.connect(origin)
        except ConnectionError as e:
            return str(e)
        raise AssertionError("The handshake was accepted")

    async def close_clients(self) -> None:
        for client in self.clients:
            if not client.closed.called:
                client.transport.abortConnection()
        await DeferredList([c.closed for c in self.clients])
        # Wait until the server has seen every connection go.
        await self.factory.close_all()
