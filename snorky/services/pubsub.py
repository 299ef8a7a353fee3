"""`PubSubService` and `PubSubBackend`: publish/subscribe on channels."""

from typing import Any, Optional

from twisted.internet.defer import Deferred

from snorky.broker import IBroker, InProcessBroker, answer_broadcast
from snorky.client import Client, send_encoded_to_clients
from snorky.envelopes import canonical_json
from snorky.services.base import Request, RPCError, RPCService, rpc_command
from snorky.services.clientindex import ClientIndex

__all__ = ["PubSubService", "PubSubBackend"]


class PubSubService(RPCService):
    """
    Clients subscribe to channels (any JSON value) and publish messages
    that reach every subscriber as ``{"type": "message", "channel",
    "message"}``.

    :param max_subscriptions: channels one client may subscribe to.
    :param max_channel_length: longest channel, in characters of its
        canonical JSON; a client naming a longer one is answered
        ``Channel name too long``.
    :param broker: the broker (:mod:`snorky.broker`); an in-process one
        when ``None``. Messages go through it, so that with a shared one
        they reach the subscribers of every node; each node routes them to
        its own clients.
    """

    def __init__(
        self,
        name: str,
        max_subscriptions: int = 1000,
        max_channel_length: int = 1024,
        broker: Optional[IBroker] = None,
    ) -> None:
        super().__init__(name)
        self.max_subscriptions = max_subscriptions
        self.max_channel_length = max_channel_length
        self._index: ClientIndex[str, None] = ClientIndex()
        #: Channel key (canonical JSON) to its subscribers.
        self.subscribers = self._index.clients_by_key
        #: Client to the channel keys it subscribed to.
        self.channels_by_client = self._index.keys_by_client
        self.broker: IBroker = InProcessBroker()
        self.use_broker(broker or self.broker)

    def use_broker(self, broker: IBroker) -> None:
        """
        Publish and receive through *broker* from now on.
        """
        for key in self._index.clients_by_key:
            self.broker.unlisten(self._topic(key), self._received)
            broker.listen(self._topic(key), self._received)
        self.broker = broker

    def _topic(self, key: str) -> str:
        # One topic per channel: with a shared broker, a node receives only
        # the channels its own clients subscribed to.
        return self.name + ":" + key

    def can_publish(self, client: Client, channel: Any) -> bool:
        """
        Policy hook: whether *client* may publish on *channel*.
        """
        return True

    def publish(self, channel: Any, message: Any) -> "Deferred[None]":
        """
        Deliver *message* to every subscriber of *channel*; the one place
        where messages leave this service. It is encoded once, here, and
        every node sends the same bytes.

        :returns: a Deferred failing with
            :class:`~snorky.broker.BrokerUnavailable` if the broker cannot
            take it.
        """
        data = self.encode_message(
            {"type": "message", "channel": channel, "message": message}
        )
        key = canonical_json(channel)
        return self.broker.publish(self._topic(key), key.encode("utf-8") + b"\n" + data)

    def _received(self, payload: bytes) -> None:
        # Canonical JSON has no raw newline: the first one ends the key.
        key, _, data = payload.partition(b"\n")
        clients = self._index.clients_of(key.decode("utf-8"))
        if clients:
            self.messages_sent += len(clients)
            send_encoded_to_clients(clients, data)

    def _key(self, channel: Any) -> str:
        key = canonical_json(channel)
        if len(key) > self.max_channel_length:
            raise RPCError("Channel name too long")
        return key

    @rpc_command
    def subscribe(self, req: Request, channel: Any) -> Any:
        key = self._key(channel)
        channels = self._index.keys_of(req.client)
        if key in channels:
            raise RPCError("Already subscribed")
        if len(channels) >= self.max_subscriptions:
            raise RPCError("Too many subscriptions")
        if len(self._index.add(req.client, key)) == 1:
            # Answered once the broker listens: a message published after
            # the answer reaches this client.
            return self.broker.listen(self._topic(key), self._received).addCallback(
                lambda _: None
            )
        return None

    @rpc_command
    def unsubscribe(self, req: Request, channel: Any) -> None:
        key = canonical_json(channel)
        if not self._index.has(req.client, key):
            raise RPCError("Not subscribed")
        self._index.remove(req.client, key)
        self._forget(key)

    def _forget(self, key: str) -> None:
        if not self._index.clients_of(key):
            self.broker.unlisten(self._topic(key), self._received)

    @rpc_command(name="publish")
    def publish_command(self, req: Request, channel: Any, message: Any) -> Any:
        self._key(channel)
        if not self.can_publish(req.client, channel):
            raise RPCError("Not authorized")
        return answer_broadcast(self.publish(channel, message))

    def client_disconnected(self, client: Client) -> None:
        for key in self._index.remove_client(client):
            self._forget(key)


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
    def publish(self, req: Request, channel: Any, message: Any) -> Any:
        return answer_broadcast(self.frontend.publish(channel, message))
