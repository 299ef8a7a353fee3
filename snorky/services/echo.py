"""`EchoService`: answers every message with itself."""

from typing import Any

from snorky.client import Client
from snorky.services.base import Service

__all__ = ["EchoService"]


class EchoService(Service):
    """
    Sends every message straight back to its sender; for examples and
    tests.
    """

    def process_message_from(self, client: Client, msg: Any) -> None:
        self.send_message_to(client, msg)
