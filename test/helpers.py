"""Helpers shared by the unit tests."""

import json
from typing import Any, List

from snorky.client import Client


def nested(depth: int) -> List[Any]:
    """
    A list nested *depth* levels deep (``[]`` is one level).
    """
    value: List[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


class RecordingClient(Client):
    """
    A client that keeps every envelope sent to it, decoded, in
    :attr:`sent`.
    """

    transport_name = "recording"

    def __init__(self, remote_address: str = "127.0.0.1") -> None:
        super().__init__(remote_address)
        self.sent: List[Any] = []
        self.frames_prepared = 0

    def prepare(self, data: bytes) -> Any:
        self.frames_prepared += 1
        return data

    def write_frame(self, frame: Any) -> None:
        self.sent.append(json.loads(frame.decode("utf-8")))

    def messages(self, service: str) -> List[Any]:
        """
        The messages sent to this client by *service*.
        """
        return [e["message"] for e in self.sent if e["service"] == service]

    def pop(self) -> Any:
        """
        Remove and return the oldest envelope sent.
        """
        return self.sent.pop(0)


class ServiceCalls:
    """
    A TestCase mixin calling the RPC commands of the service named
    :attr:`service_name` through :attr:`registry`.
    """

    service_name: str
    registry: Any

    def connect(self, identity: Any = None) -> RecordingClient:
        """
        A new client with *identity*, connected to the registry.
        """
        client = RecordingClient()
        client.identity = identity
        self.registry.client_connected(client)
        return client

    def call(self, client: RecordingClient, command: str, **params: Any) -> Any:
        """
        Call *command* as *client*; return the reply message.
        """
        self.registry.process_message_from(
            client, self.service_name, {"command": command, "params": params, "callId": 1}
        )
        return client.messages(self.service_name)[-1]

    def ok(self, client: RecordingClient, command: str, **params: Any) -> Any:
        """
        Call *command*, assert it succeeded and return its data.
        """
        reply = self.call(client, command, **params)
        self.assertEqual(reply["type"], "response", reply)  # type: ignore[attr-defined]
        return reply["data"]

    def error(self, client: RecordingClient, command: str, **params: Any) -> str:
        """
        Call *command*, assert it failed and return the error text.
        """
        reply = self.call(client, command, **params)
        self.assertEqual(reply["type"], "error", reply)  # type: ignore[attr-defined]
        return reply["message"]
