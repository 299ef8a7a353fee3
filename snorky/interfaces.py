"""
The contracts between Snorky's layers, in one place.

* A transport turns each connection into a :class:`~snorky.client.Client`
  (the one class both sides share; its docstring says which of its
  members services use) and hands connections and frames to a
  :class:`FrameReceiver`, which :class:`~snorky.registry.ServiceRegistry`
  is.
* A :class:`FrameReceiver` routes each message to a service, which sees
  nothing of the transport but the :class:`~snorky.client.Client`.

The SockJS package's own contracts (its channels, receivers and session
tables) are in :mod:`snorky.transports.sockjs.interfaces`.
"""

from typing import Any, Protocol, Union, runtime_checkable

from snorky.client import Client

__all__ = ["Client", "FrameReceiver"]


@runtime_checkable
class FrameReceiver(Protocol):
    """
    What a transport gives its connections and their frames to.
    """

    def client_connected(self, client: Client) -> None:
        """
        *client* connected; call once, before any of its frames.
        """

    def client_disconnected(self, client: Client) -> None:
        """
        *client* disconnected; call once, after its last frame.
        """

    def process_frame(self, client: Client, data: Union[str, bytes]) -> None:
        """
        One frame from *client*, as it arrived (an encoded envelope).
        """

    def process_message_from(self, client: Client, name: str, message: Any) -> None:
        """
        One message from *client* to the service called *name*, already
        decoded (for transports that decode envelopes themselves).
        """
