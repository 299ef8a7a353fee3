"""`MessagingService`: private messages between named participants."""

import json
from typing import Any, Dict, List, Optional

from twisted.internet.defer import Deferred

from snorky.broker import IBroker, unavailable_error
from snorky.broker.sets import REFUSED
from snorky.broker.shared import SharedPart
from snorky.client import Client
from snorky.envelopes import canonical_json
from snorky.services.base import Request, RPCError, RPCService, rpc_command
from snorky.services.clientindex import ClientIndex

__all__ = ["MessagingService"]


class MessagingService(RPCService):
    """
    Connections register participant names and send messages from one
    of their names to another participant, who alone receives
    ``{"type": "message", "sender", "dest", "body"}``.

    A connection can only send as, and unregister, names it registered
    itself; its names are freed when it disconnects. Override
    :meth:`is_name_allowed` to decide who may take which name.

    :param name: the service name.
    :param max_names: names one connection may hold at once.
    :param max_name_length: longest participant name, in characters.

    With a shared broker (:meth:`use_broker`) names are unique across
    every node and reachable from every node; the names of a node that
    dies are freed within the broker's ``node_timeout``. Registering,
    listing and sending to another node's participant then answer once
    the broker has.
    """

    _NAMES = b"names"

    def __init__(
        self, name: str, max_names: int = 16, max_name_length: int = 256
    ) -> None:
        super().__init__(name)
        self.max_names = max_names
        self.max_name_length = max_name_length
        # A name is under one connection only.
        self._index: ClientIndex[str, None] = ClientIndex()
        #: Connection to the names it holds.
        self.names_by_client = self._index.keys_by_client
        #: The link to a shared broker, or ``None`` (in-process).
        self.shared: Optional[SharedPart] = None

    def use_broker(self, broker: IBroker) -> None:
        """
        Share names with the other nodes of *broker*, if it is shared.
        """
        if self.shared is not None:
            self.shared.close()
            self.shared = None
        if broker.shared:
            self.shared = SharedPart(broker, "messaging:" + self.name, self._received)
            broker.sets.on_reaped.append(self._hold_again)

    def _member(self, name: str) -> bytes:
        return name.encode("utf-8", "surrogatepass")

    def _received(self, payload: bytes) -> None:
        # b"s\n" + the name's JSON + b"\n" + the encoded envelope; other
        # kinds (names taken and freed) need nothing here.
        if not payload.startswith(b"s\n"):
            return
        _, name, data = payload.split(b"\n", 2)
        holder = self._holder(json.loads(name))
        if holder is not None:
            holder.send_encoded(data)

    def _hold_again(self) -> None:
        shared = self.shared
        if shared is None:
            return
        for client, names in self._index.keys_by_client.items():
            for name in names:
                shared.sets.join(
                    shared.topic, self._NAMES, self._member(name),
                    canonical_json(name).encode("utf-8"), b"", exclusive=True,
                ).addErrback(lambda _: None)

    @property
    def participants(self) -> Dict[str, Client]:
        """
        Participant name to the connection that holds it.
        """
        return {
            name: client
            for name, clients in self._index.clients_by_key.items()
            for client in clients
        }

    def _holder(self, name: Any) -> Optional[Client]:
        if not isinstance(name, str):
            return None
        for client in self._index.clients_of(name):
            return client
        return None

    def is_name_allowed(self, client: Client, name: str) -> bool:
        """
        Policy hook: whether *client* may register *name* (a string of
        at most *max_name_length* characters). The default allows every
        name; a subclass could, for example, only allow the name in
        ``client.identity``.
        """
        return True

    @rpc_command(name="registerParticipant")
    def register_participant(self, req: Request, name: Any) -> Any:
        if not isinstance(name, str) or len(name) > self.max_name_length:
            raise RPCError("Name not allowed")
        if self._holder(name) is not None:
            raise RPCError("Name already registered")
        if len(self._index.keys_of(req.client)) >= self.max_names:
            raise RPCError("Too many names")
        if not self.is_name_allowed(req.client, name):
            raise RPCError("Name not allowed")
        self._index.add(req.client, name)
        if self.shared is None:
            return None
        client = req.client
        d = self.shared.sets.join(
            self.shared.topic, self._NAMES, self._member(name),
            canonical_json(name).encode("utf-8"), self.shared.tag(client), exclusive=True,
        )

        def joined(answer: Any) -> None:
            if answer[0] == REFUSED:
                self._index.remove(client, name)
                raise RPCError("Name already registered")

        def failed(failure: Any) -> Any:
            if self._index.has(client, name):
                self._index.remove(client, name)
            return unavailable_error(failure)

        return d.addCallbacks(joined, failed)

    def _release(self, client: Client, name: str) -> None:
        if self.shared is not None:
            self.shared.sets.leave(
                self.shared.topic, self._NAMES, self._member(name), self.shared.tag(client)
            ).addErrback(lambda _: None)

    @rpc_command(name="unregisterParticipant")
    def unregister_participant(self, req: Request, name: Any) -> None:
        holder = self._holder(name)
        if holder is None:
            raise RPCError("Unknown participant")
        if holder is not req.client:
            raise RPCError("Invalid participant")
        self._index.remove(req.client, name)
        self._release(req.client, name)

    @rpc_command(name="listParticipants")
    def list_participants(self, req: Request) -> Any:
        if self.shared is not None:
            d = self.shared.sets.read(self.shared.topic, self._NAMES)
            return d.addCallbacks(
                lambda answer: sorted(json.loads(v) for v in answer[1]), unavailable_error
            )
        return sorted(self._index.clients_by_key)

    @rpc_command
    def send(self, req: Request, sender: Any, dest: Any, body: Any) -> Any:
        if self._holder(sender) is not req.client:
            raise RPCError("Invalid sender")
        message = {"type": "message", "sender": sender, "dest": dest, "body": body}
        dest_client = self._holder(dest)
        if dest_client is None and self.shared is not None and isinstance(dest, str):
            return self._send_shared(dest, message)
        if dest_client is None:
            raise RPCError("Unknown destination")
        self.send_message_to(dest_client, message)
        return None

    def _send_shared(self, dest: str, message: Any) -> Deferred:
        shared = self.shared
        assert shared is not None
        payload = b"s\n" + canonical_json(dest).encode("utf-8") + b"\n" + self.encode_message(message)

        def sent(found: bool) -> None:
            if not found:
                raise RPCError("Unknown destination")

        return shared.sets.send(  # type: ignore[no-any-return]
            shared.topic, self._NAMES, self._member(dest), payload
        ).addCallbacks(sent, unavailable_error)

    def client_disconnected(self, client: Client) -> None:
        for name in self._index.remove_client(client):
            self._release(client, name)
