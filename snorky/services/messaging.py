"""`MessagingService`: private messages between named participants."""

from typing import Any, Dict, List, Optional

from snorky.client import Client
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
    """

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
    def register_participant(self, req: Request, name: Any) -> None:
        if not isinstance(name, str) or len(name) > self.max_name_length:
            raise RPCError("Name not allowed")
        if self._holder(name) is not None:
            raise RPCError("Name already registered")
        if len(self._index.keys_of(req.client)) >= self.max_names:
            raise RPCError("Too many names")
        if not self.is_name_allowed(req.client, name):
            raise RPCError("Name not allowed")
        self._index.add(req.client, name)

    @rpc_command(name="unregisterParticipant")
    def unregister_participant(self, req: Request, name: Any) -> None:
        holder = self._holder(name)
        if holder is None:
            raise RPCError("Unknown participant")
        if holder is not req.client:
            raise RPCError("Invalid participant")
        self._index.remove(req.client, name)

    @rpc_command(name="listParticipants")
    def list_participants(self, req: Request) -> List[str]:
        return sorted(self._index.clients_by_key)

    @rpc_command
    def send(self, req: Request, sender: Any, dest: Any, body: Any) -> None:
        if self._holder(sender) is not req.client:
            raise RPCError("Invalid sender")
        dest_client = self._holder(dest)
        if dest_client is None:
            raise RPCError("Unknown destination")
        self.send_message_to(
            dest_client, {"type": "message", "sender": sender, "dest": dest, "body": body}
        )

    def client_disconnected(self, client: Client) -> None:
        self._index.remove_client(client)
