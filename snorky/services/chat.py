"""`ChatService`: chat channels with presence of identities."""

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Set

from twisted.internet.interfaces import IReactorTime

from snorky.client import Client
from snorky.envelopes import canonical_json
from snorky.reactors import default_reactor
from snorky.services.base import Request, RPCError, RPCService, rpc_command
from snorky.services.clientindex import ClientIndex

__all__ = ["ChatService", "ChatChannel", "ChatMember"]


class ChatMember:
    """
    One identity present in a channel, with its connections there.

    :ivar identity: the identity, as it was when its first connection
        joined.
    :ivar clients: its connections that joined the channel.
    """

    __slots__ = ("identity", "clients")

    def __init__(self, identity: Any) -> None:
        self.identity = identity
        self.clients: Set[Client] = set()


class ChatChannel:
    """
    One channel with at least one connection in it.

    :ivar name: the channel, as clients named it (any JSON value).
    :ivar members: identity key to :class:`ChatMember`, in order of
        arrival.
    :ivar clients: every connection in the channel.
    """

    __slots__ = ("name", "members", "clients")

    def __init__(self, name: Any, clients: Optional[Set[Client]] = None) -> None:
        self.name = name
        self.members: Dict[str, ChatMember] = {}
        self.clients: Set[Client] = set() if clients is None else clients


class ChatService(RPCService):
    """
    Authenticated connections join channels (any JSON value) and send
    messages to everyone in them.

    Presence is counted per identity: a user with several connections
    in a channel appears once, joins when the first of them joins and
    leaves when the last one leaves or disconnects. A connection's
    membership keeps the identity it had when it joined.

    :param name: the service name.
    :param max_channels: channels one connection may be in at once.
    :param max_channel_length: longest channel, in characters of its
        canonical JSON.
    :param clock: an ``IReactorTime`` for timestamps; the global reactor
        when ``None``.
    """

    def __init__(
        self,
        name: str,
        max_channels: int = 100,
        max_channel_length: int = 1024,
        clock: Optional[IReactorTime] = None,
    ) -> None:
        super().__init__(name)
        self.clock: IReactorTime = default_reactor(clock)
        self.max_channels = max_channels
        self.max_channel_length = max_channel_length
        #: Channel key to :class:`ChatChannel`, for non-empty channels.
        self.channels: Dict[str, ChatChannel] = {}
        self._index: ClientIndex[str, str] = ClientIndex()
        #: Client to {channel key: identity key} of the channels it joined.
        self.memberships = self._index.keys_by_client

    def timestamp(self) -> str:
        """
        The current time from the clock, ISO 8601 in UTC.
        """
        now = datetime.fromtimestamp(self.clock.seconds(), tz=timezone.utc)
        return now.isoformat(timespec="milliseconds")

    @rpc_command
    def join(self, req: Request, channel: Any) -> Dict[str, List[Any]]:
        client = req.client
        identity = client.identity
        if identity is None:
            raise RPCError("Not authenticated")
        key = canonical_json(channel)
        if len(key) > self.max_channel_length:
            raise RPCError("Channel name too long")
        joined = self._index.keys_of(client)
        if key in joined:
            raise RPCError("Already joined")
        if len(joined) >= self.max_channels:
            raise RPCError("Too many channels")

        identity_key = canonical_json(identity)
        clients = self._index.add(client, key, identity_key)
        room = self.channels.get(key)
        if room is None:
            room = self.channels[key] = ChatChannel(channel, clients)
        member = room.members.get(identity_key)
        arrived = member is None
        if member is None:
            member = room.members[identity_key] = ChatMember(identity)
        member.clients.add(client)
        members = [m.identity for m in room.members.values()]
        if arrived:
            self._send_presence(room, identity, "joined", client)
        return {"members": members}

    @rpc_command
    def leave(self, req: Request, channel: Any) -> None:
        self._leave(req.client, self._joined_key(req.client, channel))

    @rpc_command
    def send(self, req: Request, channel: Any, body: Any) -> None:
        key = self._joined_key(req.client, channel)
        room = self.channels[key]
        member = room.members[self._index.keys_of(req.client)[key]]
        # A copy: a write may disconnect a slow client, which leaves the room.
        self.send_message_to_clients(
            list(room.clients),
            {
                "type": "message",
                "from": member.identity,
                "channel": room.name,
                "body": body,
                "timestamp": self.timestamp(),
            },
        )

    @rpc_command
    def read(self, req: Request, channel: Any) -> None:
        key = self._joined_key(req.client, channel)
        room = self.channels[key]
        member = room.members[self._index.keys_of(req.client)[key]]
        others = [c for c in member.clients if c is not req.client]
        if others:
            self.send_message_to_clients(
                others,
                {"type": "read", "channel": room.name, "timestamp": self.timestamp()},
            )

    def client_disconnected(self, client: Client) -> None:
        for key in list(self._index.keys_of(client)):
            self._leave(client, key)

    def _joined_key(self, client: Client, channel: Any) -> str:
        key = canonical_json(channel)
        if not self._index.has(client, key):
            raise RPCError("Not joined")
        return key

    def _leave(self, client: Client, key: str) -> None:
        # Takes the client out of room.clients, the index's set.
        identity_key = self._index.remove(client, key)
        room = self.channels[key]
        member = room.members[identity_key]
        member.clients.discard(client)
        if member.clients:
            return
        del room.members[identity_key]
        if room.clients:
            self._send_presence(room, member.identity, "left", client)
        else:
            del self.channels[key]

    def _send_presence(
        self, room: ChatChannel, identity: Any, status: str, client: Client
    ) -> None:
        # State is updated before anyone is told, and *client* (the one
        # arriving or leaving) is not told.
        others = [c for c in room.clients if c is not client]
        if others:
            self.send_message_to_clients(
                others,
                {
                    "type": "presence",
                    "from": identity,
                    "channel": room.name,
                    "status": status,
                    "timestamp": self.timestamp(),
                },
            )
