"""`PubSubService` and `PubSubBackend`: publish/subscribe on channels."""

from typing import Any, Dict, Set

from snorky.client import Client
from snorky.envelopes import canonical_json
from snorky.services.base import Request, RPCError, RPCService, rpc_command

__all__ = ["PubSubService", "PubSubBackend"]


class PubSubService(RPCService):
    """
    Clients subscribe to channels (any JSON value) and publish messages
    that reach every subscriber as ``{"type": "message", "channel",
    "message"}``.

    :param max_subscriptions: channels one client may subscribe to.
    """

    def __init__(self, name: str, max_subscriptions: int = 1000) -> None:
        super().__init__(name)
        self.max_subscriptions = max_subscriptions
        self.subscribers: Dict[str, Set[Client]] = {}
        self.channels_by_client: Dict[Client, Set[str]] = {}

    def can_publish(self, client: Client, channel: Any) -> bool:
        """
        Policy hook: whether *client* may publish on *channel*.
        """
        return True

    def publish(self, channel: Any, message: Any) -> None:
        """
        Deliver *message* to every subscriber of *channel*; the one place
        where messages leave this service.
        """
        clients = self.subscribers.get(canonical_json(channel))
        if clients:
            self.send_message_to_clients(
                clients, {"type": "message", "channel": channel, "message": message}
            )

    @rpc_command
    def subscribe(self, req: Request, channel: Any) -> None:
        key = canonical_json(channel)
        channels = self.channels_by_client.get(req.client, ())
        if key in channels:
            raise RPCError("Already subscribed")
        if len(channels) >= self.max_subscriptions:
            raise RPCError("Too many subscriptions")
        # Only a subscription that succeeds may create the client's entry.
        self.channels_by_client.setdefault(req.client, set()).add(key)
        self.subscribers.setdefault(key, set()).add(req.client)

    @rpc_command
    def unsubscribe(self, req: Request, channel: Any) -> None:
        key = canonical_json(channel)
        channels = self.channels_by_client.get(req.client, set())
        if key not in channels:
            raise RPCError("Not subscribed")
        self._remove(req.client, key)

    @rpc_command(name="publish")
    def publish_command(self, req: Request, channel: Any, message: Any) -> None:
        if not self.can_publish(req.client, channel):
            raise RPCError("Not authorized")
        self.publish(channel, message)

    def client_disconnected(self, client: Client) -> None:
        for key in list(self.channels_by_client.get(client, ())):
            self._remove(client, key)

    def _remove(self, client: Client, key: str) -> None:
        channels = self.channels_by_client[client]
        channels.discard(key)
        if not channels:
            del self.channels_by_client[client]
        clients = self.subscribers[key]
        clients.discard(client)
        if not clients:
            del self.subscribers[key]


class PubSubBackend(RPCService):
    """
    Lets trusted backends publish into a :class:`PubSubService`, bypassing
    its ``can_publish`` policy.
    """

    private = True

    def __init__(self, name: str, frontend: PubSubService) -> None:
        super().__init__(name)
        self.frontend = frontend

    @rpc_command
    def publish(self, req: Request, channel: Any, message: Any) -> None:
        self.frontend.publish(channel, message)
