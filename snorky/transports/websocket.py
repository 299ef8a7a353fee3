"""
The WebSocket transport at ``/ws``: each connection becomes a
:class:`~snorky.Client` of one :class:`~snorky.ServiceRegistry`.

:class:`SnorkyWebSocketFactory` listens on its own port
(``endpoint.listen(factory)``) or, through :func:`websocket_resource`, as a
``twisted.web`` resource next to others on one port. Limits, keep-alive
and the write policy come from the shared layer,
:mod:`snorky.transports.wsserver`.
"""

from typing import TYPE_CHECKING, Any, Optional

from autobahn.websocket.protocol import PreparedMessage
from twisted.internet.defer import Deferred

from snorky.client import Client
from snorky.transports.wsserver import (
    ServerFactory,
    ServerProtocol,
    WebSocketOptions,
    websocket_resource,
)
from snorky.transports.wsserver.connections import CLOSE_GOING_AWAY

if TYPE_CHECKING:
    from snorky.registry import ServiceRegistry

__all__ = [
    "WebSocketOptions",
    "WebSocketClient",
    "SnorkyWebSocketProtocol",
    "SnorkyWebSocketFactory",
    "websocket_resource",
]

#: Close code for a frame type we do not accept (RFC 6455, 7.4.1).
CLOSE_UNSUPPORTED_DATA = 1003


class WebSocketClient(Client):
    """
    One WebSocket connection as services see it. Frames are prepared once
    per factory, so a fan-out to many connections frames a message once.

    What is sent to this client alone (:meth:`send_encoded`: answers,
    errors, replays) is written at the end of the reactor turn; what is
    sent to many clients at once (``write_frame``, through
    :func:`~snorky.client.send_encoded_to_clients`) follows the fan-out
    policy of :mod:`snorky.transports.wsserver.writes`.
    """

    transport_name = "websocket"
    #: The connection's factory: its clients share prepared frames.
    frame_key: Any = None
    #: The factory counts the frames it writes, per flush (for metrics).
    counts_own_frames = True

    def __init__(self, protocol: "SnorkyWebSocketProtocol") -> None:
        super().__init__(protocol.peer_address)
        self.protocol = protocol
        # An attribute and the protocol's own method, rather than a
        # property and a forwarding method: a fan-out uses both once per
        # delivery, and the extra calls were a tenth of its cost.
        self.frame_key = protocol.factory
        self.write_frame = protocol.send_prepared  # type: ignore[method-assign, assignment]

    def prepare(self, data: bytes) -> PreparedMessage:
        return self.protocol.factory.prepareMessage(data, isBinary=False)

    def send_encoded(self, data: bytes) -> None:
        if self.connected:
            self.protocol.send_prepared(self.prepare(data), answer=True)

    def probe(self, timeout: float) -> "Deferred[bool]":
        return self.protocol.probe(timeout)


class SnorkyWebSocketProtocol(ServerProtocol):
    """
    One WebSocket connection to the factory's registry.

    Autobahn calls :meth:`onOpen`, :meth:`onMessageBegin`, :meth:`onMessage`
    and :meth:`onClose`; the connection's :class:`WebSocketClient` calls
    ``send_prepared``; the factory calls :meth:`close`.

    :ivar client: the :class:`WebSocketClient` while the connection is open,
        else ``None``.
    """

    factory: "SnorkyWebSocketFactory"
    client: Optional[WebSocketClient] = None

    def onOpen(self) -> None:
        super().onOpen()
        self.client = WebSocketClient(self)
        self.factory.registry.client_connected(self.client)

    def onMessageBegin(self, isBinary: bool) -> None:
        super().onMessageBegin(isBinary)
        if isBinary:
            # Failing (rather than closing) also makes Autobahn discard the
            # rest of the binary message instead of buffering it.
            self._fail_connection(CLOSE_UNSUPPORTED_DATA, "Binary frames are not supported")

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if self.client is not None:
            self.factory.registry.process_frame(self.client, payload)

    def onClose(self, wasClean: bool, code: Optional[int], reason: Optional[str]) -> None:
        client, self.client = self.client, None
        if client is not None:
            self.factory.registry.client_disconnected(client)

    def close(self, code: int, reason: str) -> None:
        """
        Start the closing handshake with *code*; a connection still in its
        opening handshake is dropped.
        """
        self.close_connection(code, reason)


class SnorkyWebSocketFactory(ServerFactory):
    """
    Makes a :class:`SnorkyWebSocketProtocol` for each connection and feeds
    their frames to *registry*.

    :param registry: the :class:`~snorky.ServiceRegistry` to serve.
    :param options: limits, keep-alive and write policy; defaults when
        ``None``.
    :param url: the public ``ws://`` or ``wss://`` URL, when known.
    :param reactor: for :meth:`close_all`'s timeout and the write rounds;
        the global reactor when ``None``. (Autobahn's own timers always
        use the global one.)
    """

    protocol = SnorkyWebSocketProtocol  # type: ignore[assignment]

    def __init__(
        self,
        registry: "ServiceRegistry",
        options: Optional[WebSocketOptions] = None,
        url: Optional[str] = None,
        reactor: Any = None,
    ) -> None:
        super().__init__(options, url=url, reactor=reactor)
        self.registry = registry

    def close_all(
        self,
        code: int = CLOSE_GOING_AWAY,
        reason: str = "Server shutting down",
        timeout: float = 3.0,
    ) -> "Deferred[None]":
        """
        Close every connection with *code* and *reason*, as
        :meth:`~snorky.transports.wsserver.ConnectionSet.close_all`:
        returns a ``Deferred`` that fires once all are closed or after
        *timeout* seconds, when the rest are dropped.
        """
        return self.connections.close_all(code, reason, timeout)
