"""`SockJSClient`: a SockJS connection as a Snorky client."""

from typing import Any

from twisted.internet.defer import Deferred

from snorky.client import Client
from snorky.registry import ServiceRegistry
from snorky.transports.sockjs.interfaces import Channel

__all__ = ["SockJSClient"]


class SockJSClient(Client):
    """
    The :class:`~snorky.Client` of one SockJS connection, and the
    connection's session handler: it tells *registry* of the connect,
    each message and the disconnect.

    A message sent to many SockJS clients is JSON-escaped once per kind of
    channel (framed sessions, raw WebSocket), not once per client.
    """

    transport_name = "sockjs"

    def __init__(self, channel: Channel, registry: ServiceRegistry) -> None:
        super().__init__(channel.remote_address)
        self.channel = channel
        self.registry = registry

    @property
    def frame_key(self) -> Any:
        return type(self.channel)

    def prepare(self, data: bytes) -> Any:
        return self.channel.encode(data.decode("utf-8"))

    def write_frame(self, frame: Any) -> None:
        self.channel.send_encoded(frame)

    def probe(self, timeout: float) -> "Deferred[bool]":
        return self.channel.probe(timeout)

    def opened(self) -> None:
        self.registry.client_connected(self)

    def received(self, message: str) -> None:
        self.registry.process_frame(self, message)

    def closed(self) -> None:
        self.registry.client_disconnected(self)
