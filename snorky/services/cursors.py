"""`CursorsService`: live cursors of several users in shared documents."""

import itertools
from typing import Any, Dict

from snorky.client import Client
from snorky.envelopes import canonical_json, encode
from snorky.services.base import Request, RPCError, RPCService, rpc_command
from snorky.services.clientindex import ClientIndex

__all__ = ["CursorsService", "Cursor"]


class Cursor:
    """
    One cursor in a document.

    :ivar private_handle: the name its owner gave it (an int or string),
        known only to the owner.
    :ivar public_handle: the number everyone else knows it by, unique
        within the service and so within its document.
    :ivar document: the document (any JSON value).
    :ivar document_key: the document's canonical JSON.
    :ivar position: where it is (any JSON value).
    :ivar status: what its owner is doing (any JSON value).
    :ivar owner: the owner's identity when it joined the document.
    """

    __slots__ = (
        "private_handle",
        "public_handle",
        "document",
        "document_key",
        "position",
        "status",
        "owner",
    )

    def __init__(
        self,
        private_handle: Any,
        public_handle: int,
        document: Any,
        document_key: str,
        position: Any,
        status: Any,
        owner: Any,
    ) -> None:
        self.private_handle = private_handle
        self.public_handle = public_handle
        self.document = document
        self.document_key = document_key
        self.position = position
        self.status = status
        self.owner = owner

    def for_json(self) -> Dict[str, Any]:
        """
        What other clients are told about the cursor.
        """
        return {
            "publicHandle": self.public_handle,
            "document": self.document,
            "position": self.position,
            "status": self.status,
            "owner": self.owner,
        }


def _valid_handle(handle: Any) -> bool:
    # bool is an int in Python, but True and 1 must not be the same handle.
    return isinstance(handle, (int, str)) and not isinstance(handle, bool)


class CursorsService(RPCService):
    """
    Authenticated connections join documents (any JSON value) and
    create cursors in them; the other connections in the document are
    told ``cursorAdded``, ``cursorUpdated`` and ``cursorRemoved`` with
    the cursor's public data, its owner's identity included.

    Leaving a document or disconnecting removes the connection's cursors
    there, and the others are told.

    :param name: the service name.
    :param max_cursors: cursors one connection may have at once.
    :param max_documents: documents one connection may be in at once.
    :param max_document_length: longest document, in characters of its
        canonical JSON.
    :param max_cursor_size: largest ``position`` plus ``status`` of a
        cursor, in bytes of JSON.
    """

    def __init__(
        self,
        name: str,
        max_cursors: int = 16,
        max_documents: int = 100,
        max_document_length: int = 1024,
        max_cursor_size: int = 4096,
    ) -> None:
        super().__init__(name)
        self.max_cursors = max_cursors
        self.max_documents = max_documents
        self.max_document_length = max_document_length
        self.max_cursor_size = max_cursor_size
        self._public_handles = itertools.count(1)
        self._index: ClientIndex[str, Any] = ClientIndex()
        #: Document key to the connections in it.
        self.clients_by_document = self._index.clients_by_key
        #: Connection to {document key: its identity when it joined}.
        self.documents_by_client = self._index.keys_by_client
        #: Document key to {public handle: cursor}.
        self.cursors_by_document: Dict[str, Dict[int, Cursor]] = {}
        #: Connection to {private handle: cursor}.
        self.cursors_by_client: Dict[Client, Dict[Any, Cursor]] = {}

    @rpc_command
    def join(self, req: Request, document: Any) -> Dict[str, Any]:
        client = req.client
        if client.identity is None:
            raise RPCError("Not authenticated")
        key = canonical_json(document)
        if len(key) > self.max_document_length:
            raise RPCError("Document name too long")
        joined = self._index.keys_of(client)
        if key in joined:
            raise RPCError("Already joined")
        if len(joined) >= self.max_documents:
            raise RPCError("Too many documents")
        self._index.add(client, key, client.identity)
        cursors = self.cursors_by_document.get(key, {}).values()
        return {"cursors": [cursor.for_json() for cursor in cursors]}

    @rpc_command
    def leave(self, req: Request, document: Any) -> None:
        key = canonical_json(document)
        if not self._index.has(req.client, key):
            raise RPCError("Not joined")
        self._leave(req.client, key)

    @rpc_command(name="createCursor")
    def create_cursor(
        self,
        req: Request,
        privateHandle: Any,
        document: Any,
        position: Any,
        status: Any,
    ) -> int:
        client = req.client
        key = canonical_json(document)
        joined = self._index.keys_of(client)
        if key not in joined:
            raise RPCError("Not joined")
        if not _valid_handle(privateHandle):
            raise RPCError("Invalid params")
        own = self.cursors_by_client.get(client, {})
        if privateHandle in own:
            raise RPCError("Reused handle")
        if len(own) >= self.max_cursors:
            raise RPCError("Too many cursors")
        self._check_size(position, status)

        cursor = Cursor(
            privateHandle,
            next(self._public_handles),
            document,
            key,
            position,
            status,
            joined[key],
        )
        self.cursors_by_client.setdefault(client, {})[privateHandle] = cursor
        self.cursors_by_document.setdefault(key, {})[cursor.public_handle] = cursor
        self._tell_others(client, "cursorAdded", cursor)
        return cursor.public_handle

    @rpc_command(name="updateCursor")
    def update_cursor(self, req: Request, privateHandle: Any, newData: Any) -> None:
        cursor = self._own_cursor(req.client, privateHandle)
        if not isinstance(newData, dict) or not set(newData) <= {"position", "status"}:
            raise RPCError("Invalid params")
        position = newData.get("position", cursor.position)
        status = newData.get("status", cursor.status)
        self._check_size(position, status)
        cursor.position = position
        cursor.status = status
        self._tell_others(req.client, "cursorUpdated", cursor)

    @rpc_command(name="removeCursor")
    def remove_cursor(self, req: Request, privateHandle: Any) -> None:
        self._remove_cursor(req.client, self._own_cursor(req.client, privateHandle))

    def client_disconnected(self, client: Client) -> None:
        for key in list(self._index.keys_of(client)):
            self._leave(client, key)

    def _own_cursor(self, client: Client, handle: Any) -> Cursor:
        cursor = None
        if _valid_handle(handle):
            cursor = self.cursors_by_client.get(client, {}).get(handle)
        if cursor is None:
            raise RPCError("No such cursor")
        return cursor

    def _check_size(self, position: Any, status: Any) -> None:
        if len(encode([position, status])) > self.max_cursor_size:
            raise RPCError("Cursor too large")

    def _tell_others(self, client: Client, kind: str, cursor: Cursor) -> None:
        others = [
            c for c in self._index.clients_of(cursor.document_key) if c is not client
        ]
        if others:
            self.send_message_to_clients(
                others, {"type": kind, "cursor": cursor.for_json()}
            )

    def _remove_cursor(self, client: Client, cursor: Cursor) -> None:
        own = self.cursors_by_client[client]
        del own[cursor.private_handle]
        if not own:
            del self.cursors_by_client[client]
        in_document = self.cursors_by_document[cursor.document_key]
        del in_document[cursor.public_handle]
        if not in_document:
            del self.cursors_by_document[cursor.document_key]
        self._tell_others(client, "cursorRemoved", cursor)

    def _leave(self, client: Client, key: str) -> None:
        for cursor in list(self.cursors_by_client.get(client, {}).values()):
            if cursor.document_key == key:
                self._remove_cursor(client, cursor)
        self._index.remove(client, key)
