"""A real WebSocket client (Autobahn) for integration tests."""

import json
from typing import Any, List

from autobahn.twisted.websocket import (
    WebSocketClientFactory,
    WebSocketClientProtocol,
    connectWS,
)
from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredQueue


class _Protocol(WebSocketClientProtocol):
    def onOpen(self):
        self.factory.opened.callback(self)

    def onMessage(self, payload, isBinary):
        self.factory.messages.put(json.loads(payload.decode("utf-8")))

    def onClose(self, wasClean, code, reason):
        if not self.factory.opened.called:
            self.factory.opened.errback(ConnectionError(reason or "handshake failed"))
        self.factory.closed.callback(code)


class WSTestClient:
    """
    One connection: :meth:`send` envelopes, :meth:`receive` them in order,
    :attr:`closed` fires with the close code.
    """

    def __init__(self, factory: WebSocketClientFactory, protocol: _Protocol):
        self.protocol = protocol
        self.messages: DeferredQueue = factory.messages
        self.closed: Deferred = factory.closed
        self._call_id = 0
        self._notifications: List[Any] = []

    def send(self, envelope: Any) -> None:
        self.protocol.sendMessage(json.dumps(envelope).encode("utf-8"))

    def receive(self, timeout: float = 5.0) -> Deferred:
        """
        The next envelope received, decoded.
        """
        return self.messages.get().addTimeout(timeout, reactor)

    async def call(self, service: str, command: str, timeout: float = 5.0, **params) -> Any:
        """
        Call an RPC command and return its reply message (response or
        error), skipping notifications that arrive first.
        """
        self._call_id += 1
        call_id = self._call_id
        self.send(
            {"service": service,
             "message": {"command": command, "params": params, "callId": call_id}}
        )
        while True:
            envelope = await self.receive(timeout)
            message = envelope["message"]
            if message.get("type") not in ("response", "error"):
                self._notifications.append(envelope)
            elif message.get("callId") == call_id:
                return message

    async def next_notification(self, timeout: float = 5.0) -> Any:
        """
        The next envelope that is not an RPC reply.
        """
        if self._notifications:
            return self._notifications.pop(0)
        while True:
            envelope = await self.receive(timeout)
            if envelope["message"].get("type") not in ("response", "error"):
                return envelope

    def close(self) -> Deferred:
        self.protocol.sendClose(1000)
        return self.closed


async def connect(url: str, origin: Any = None, headers: Any = None) -> WSTestClient:
    """
    Open a WebSocket connection to *url*, e.g. ``ws://127.0.0.1:5001/ws``.
    """
    factory = WebSocketClientFactory(url, origin=origin, headers=headers)
    factory.protocol = _Protocol
    factory.opened = Deferred()
    factory.closed = Deferred()
    factory.messages = DeferredQueue()
    connectWS(factory)
    protocol = await factory.opened
    return WSTestClient(factory, protocol)

