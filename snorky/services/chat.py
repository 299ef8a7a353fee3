"""`ChatService`: chat channels with presence of identities."""

import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Set, Tuple, Union

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

from snorky.broker import IBroker, answer_broadcast, unavailable_error
from snorky.broker.sets import parse_event
from snorky.broker.shared import JoinGate, SharedPart
from snorky.client import Client, send_encoded_to_clients
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

    With a shared broker (:meth:`use_broker`) channels span every node:
    presence is counted per identity cluster-wide, messages and ``read``
    reach connections on every node, and the members of a node that dies
    leave (with ``left``) within the broker's ``node_timeout``. ``join``
    then answers once the broker has; commands the broker cannot take
    answer ``Broker unavailable``.
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
        #: The link to a shared broker, or ``None`` (in-process).
        self.shared: Optional[SharedPart] = None
        self._gate = JoinGate()

    def use_broker(self, broker: IBroker) -> None:
        """
        Share channels with the other nodes of *broker*, if it is shared.
        """
        if self.shared is not None:
            self.shared.close()
            self.shared = None
        if broker.shared:
            self.shared = SharedPart(broker, "chat:" + self.name, self._received)
            broker.sets.on_reaped.append(self._hold_again)

    def timestamp(self) -> str:
        """
        The current time from the clock, ISO 8601 in UTC.
        """
        now = datetime.fromtimestamp(self.clock.seconds(), tz=timezone.utc)
        return now.isoformat(timespec="milliseconds")

    @rpc_command
    def join(self, req: Request, channel: Any) -> Union[Dict[str, List[Any]], Deferred]:
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
        if self.shared is not None:
            return self._join_shared(client, key, identity_key, member, arrived)
        members = [m.identity for m in room.members.values()]
        if arrived:
            self._send_presence(room, identity, "joined", client)
        return {"members": members}

    def _join_shared(
        self, client: Client, key: str, identity_key: str, member: ChatMember, arrived: bool
    ) -> Deferred:
        shared = self.shared
        assert shared is not None
        bkey = key.encode("utf-8")
        d: Deferred
        self._gate.pending(client, key)
        if arrived:
            d = shared.sets.join(shared.topic, bkey, identity_key.encode("utf-8"),
                                 canonical_json(member.identity).encode("utf-8"),
                                 shared.tag(client), read=True)
            d.addCallback(lambda answer: (answer[2], answer[1]))
        else:
            d = shared.sets.read(shared.topic, bkey)

        def members(answer: Tuple[int, List[bytes]]) -> Dict[str, List[Any]]:
            # Presence up to the answer is in it; later presence follows.
            seq, values = answer
            self._gate.opened(client, key, seq)
            return {"members": [json.loads(v) for v in values]}

        def failed(failure: Any) -> Any:
            # Not joined after all: undo this node's part, tell no one.
            if self._index.has(client, key):
                self._leave(client, key, tell=False)
            return unavailable_error(failure)

        return d.addCallbacks(members, failed)

    @rpc_command
    def leave(self, req: Request, channel: Any) -> None:
        self._leave(req.client, self._joined_key(req.client, channel))

    @rpc_command
    def send(self, req: Request, channel: Any, body: Any) -> Any:
        key = self._joined_key(req.client, channel)
        room = self.channels[key]
        member = room.members[self._index.keys_of(req.client)[key]]
        message = {
            "type": "message",
            "from": member.identity,
            "channel": room.name,
            "body": body,
            "timestamp": self.timestamp(),
        }
        if self.shared is not None:
            return answer_broadcast(self.shared.publish(
                b"m", key.encode("utf-8"), self.encode_message(message)
            ))
        # A copy: a write may disconnect a slow client, which leaves the room.
        self.send_message_to_clients(list(room.clients), message)
        return None

    @rpc_command
    def read(self, req: Request, channel: Any) -> Any:
        key = self._joined_key(req.client, channel)
        room = self.channels[key]
        identity_key = self._index.keys_of(req.client)[key]
        member = room.members[identity_key]
        if self.shared is not None:
            message = {"type": "read", "channel": room.name, "timestamp": self.timestamp()}
            return answer_broadcast(self.shared.publish(
                b"r" + self.shared.tag(req.client), key.encode("utf-8"),
                identity_key.encode("utf-8"), self.encode_message(message),
            ))
        others = [c for c in member.clients if c is not req.client]
        if others:
            self.send_message_to_clients(
                others,
                {"type": "read", "channel": room.name, "timestamp": self.timestamp()},
            )
        return None

    def client_disconnected(self, client: Client) -> None:
        for key in list(self._index.keys_of(client)):
            self._leave(client, key)

    def _joined_key(self, client: Client, channel: Any) -> str:
        key = canonical_json(channel)
        if not self._index.has(client, key):
            raise RPCError("Not joined")
        return key

    def _leave(self, client: Client, key: str, tell: bool = True) -> None:
        # Takes the client out of room.clients, the index's set.
        identity_key = self._index.remove(client, key)
        self._gate.forget(client, key)
        room = self.channels[key]
        member = room.members[identity_key]
        member.clients.discard(client)
        if member.clients:
            return
        del room.members[identity_key]
        if not room.clients:
            del self.channels[key]
        if self.shared is not None:
            if tell:
                # Others hear "left" from the broker if it was the last node.
                shared = self.shared
                shared.sets.leave(
                    shared.topic, key.encode("utf-8"), identity_key.encode("utf-8"),
                    shared.tag(client),
                ).addErrback(lambda _: None)
        elif room.clients:
            self._send_presence(room, member.identity, "left", client)

    def _received(self, payload: bytes) -> None:
        """
        An event or message of this service from any node (shared broker).
        """
        shared = self.shared
        if shared is None:
            return
        kind = payload[:1]
        if kind in (b"+", b"-"):
            _, tag, bkey, seq, value = parse_event(payload)
            key = bkey.decode("utf-8")
            room = self.channels.get(key)
            if room is not None:
                status = "joined" if kind == b"+" else "left"
                identity = json.loads(value)
                tell = room  # for the closure: the room as it is now

                def later(client: Client) -> Any:
                    return lambda: self._tell_presence(tell, identity, status, [client])

                self._tell_presence(room, identity, status, self._gate.admit(
                    shared.excluding(room.clients, tag), key, seq, later))
            return
        head, bkey, rest = payload.split(b"\n", 2)
        room = self.channels.get(bkey.decode("utf-8"))
        if room is None:
            return
        if kind == b"m":
            send_encoded_to_clients(room.clients, rest)
        elif kind == b"r":
            identity_key, data = rest.split(b"\n", 1)
            member = room.members.get(identity_key.decode("utf-8"))
            if member is not None:
                send_encoded_to_clients(shared.excluding(member.clients, head[1:]), data)

    def _hold_again(self) -> None:
        """
        This node was taken for dead: hold its members again (others are
        told they joined).
        """
        shared = self.shared
        if shared is None:
            return
        for key, room in self.channels.items():
            for identity_key, member in room.members.items():
                shared.sets.join(
                    shared.topic, key.encode("utf-8"), identity_key.encode("utf-8"),
                    canonical_json(member.identity).encode("utf-8"), b"",
                ).addErrback(lambda _: None)

    def _send_presence(
        self, room: ChatChannel, identity: Any, status: str, client: Client
    ) -> None:
        # State is updated before anyone is told, and *client* (the one
        # arriving or leaving) is not told.
        self._tell_presence(room, identity, status, [c for c in room.clients if c is not client])

    def _tell_presence(
        self, room: ChatChannel, identity: Any, status: str, others: List[Client]
    ) -> None:
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
