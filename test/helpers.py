"""Helpers shared by the unit tests."""

import json
from typing import Any, List

from snorky.client import Client


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
