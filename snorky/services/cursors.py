"""`CursorsService`: live cursors of several users in shared documents."""

import itertools
import json
import secrets
from typing import Any, Dict, Optional

from twisted.internet.defer import Deferred

from snorky.broker import IBroker, unavailable_error
from snorky.broker.sets import REFUSED, parse_event
from snorky.broker.shared import JoinGate, SharedPart
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

    With a shared broker (:meth:`use_broker`) documents span every node:
    cursors are seen from every node, public handles are unique per
    document cluster-wide (random numbers below 2**31, claimed in the
    broker), and the cursors of a node that dies are removed, with
    ``cursorRemoved``, within the broker's ``node_timeout``.
    """

    #: Events of the shared sets to the notification they become.
    _EVENTS = {b"+": "cursorAdded", b"~": "cursorUpdated", b"-": "cursorRemoved"}

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
        #: The link to a shared broker, or ``None`` (in-process).
        self.shared: Optional[SharedPart] = None
        self._gate = JoinGate()

    def use_broker(self, broker: IBroker) -> None:
        """
        Share documents with the other nodes of *broker*, if it is shared.
        """
        if self.shared is not None:
            self.shared.close()
            self.shared = None
        if broker.shared:
            self.shared = SharedPart(broker, "cursors:" + self.name, self._received)
            broker.sets.on_reaped.append(self._hold_again)

    def _received(self, payload: bytes) -> None:
        shared = self.shared
        kind = self._EVENTS.get(payload[:1])
        if shared is None or kind is None:
            return
        _, tag, bkey, seq, value = parse_event(payload)
        key = bkey.decode("utf-8")
        message = {"type": kind, "cursor": json.loads(value)}

        def later(client: Client) -> Any:
            return lambda: self.send_message_to(client, message)

        others = self._gate.admit(
            shared.excluding(self._index.clients_of(key), tag), key, seq, later)
        if others:
            self.send_message_to_clients(others, message)

    def _claim(self, client: Client, cursor: Cursor, tries: int = 5) -> Deferred:
        """
        Hold *cursor* in the broker under its public handle, drawing
        another handle while the one drawn is taken in its document.
        """
        shared = self.shared
        assert shared is not None
        d = shared.sets.join(
            shared.topic, cursor.document_key.encode("utf-8"), b"%d" % cursor.public_handle,
            canonical_json(cursor.for_json()).encode("utf-8"), shared.tag(client),
            exclusive=True,
        )

        def claimed(answer: Any) -> Any:
            if answer[0] != REFUSED:
                return cursor.public_handle
            if tries <= 1:
                raise RPCError("Too many cursors")
            in_document = self.cursors_by_document[cursor.document_key]
            del in_document[cursor.public_handle]
            cursor.public_handle = self._new_handle()
            in_document[cursor.public_handle] = cursor
            return self._claim(client, cursor, tries - 1)

        return d.addCallback(claimed)

    def _new_handle(self) -> int:
        if self.shared is None:
            return next(self._public_handles)
        return 1 + secrets.randbelow(2**31 - 1)

    def _hold_again(self) -> None:
        for client, cursors in self.cursors_by_client.items():
            for cursor in cursors.values():
                self._claim(client, cursor).addErrback(lambda _: None)

    @rpc_command
    def join(self, req: Request, document: Any) -> Any:
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
        if self.shared is not None:
            return self._join_shared(client, key)
        cursors = self.cursors_by_document.get(key, {}).values()
        return {"cursors": [cursor.for_json() for cursor in cursors]}

    def _join_shared(self, client: Client, key: str) -> Deferred:
        shared = self.shared
        assert shared is not None

        def failed(failure: Any) -> Any:
            if self._index.has(client, key):
                self._leave(client, key)
            return unavailable_error(failure)

        def cursors(answer: Any) -> Dict[str, Any]:
            # Changes up to the answer are in it; later ones follow.
            seq, values = answer
            self._gate.opened(client, key, seq)
            return {"cursors": [json.loads(v) for v in values]}

        self._gate.pending(client, key)
        return shared.sets.read(shared.topic, key.encode("utf-8")).addCallbacks(  # type: ignore[no-any-return]
            cursors, failed
        )

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
    ) -> Any:
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
            self._new_handle(),
            document,
            key,
            position,
            status,
            joined[key],
        )
        self.cursors_by_client.setdefault(client, {})[privateHandle] = cursor
        self.cursors_by_document.setdefault(key, {})[cursor.public_handle] = cursor
        if self.shared is not None:
            # Others hear of it from the broker, once its handle is claimed.
            def failed(failure: Any) -> Any:
                if self.cursors_by_client.get(client, {}).get(privateHandle) is cursor:
                    self._remove_cursor(client, cursor, tell=False)
                if failure.check(RPCError):
                    return failure
                return unavailable_error(failure)

            return self._claim(client, cursor).addErrback(failed)
        self._tell_others(client, "cursorAdded", cursor)
        return cursor.public_handle

    @rpc_command(name="updateCursor")
    def update_cursor(self, req: Request, privateHandle: Any, newData: Any) -> Any:
        cursor = self._own_cursor(req.client, privateHandle)
        if not isinstance(newData, dict) or not set(newData) <= {"position", "status"}:
            raise RPCError("Invalid params")
        position = newData.get("position", cursor.position)
        status = newData.get("status", cursor.status)
        self._check_size(position, status)
        cursor.position = position
        cursor.status = status
        if self.shared is not None:
            shared = self.shared
            return shared.sets.update(
                shared.topic, cursor.document_key.encode("utf-8"),
                b"%d" % cursor.public_handle,
                canonical_json(cursor.for_json()).encode("utf-8"), shared.tag(req.client),
            ).addCallbacks(lambda _: None, unavailable_error)
        self._tell_others(req.client, "cursorUpdated", cursor)
        return None

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

    def _remove_cursor(self, client: Client, cursor: Cursor, tell: bool = True) -> None:
        own = self.cursors_by_client[client]
        del own[cursor.private_handle]
        if not own:
            del self.cursors_by_client[client]
        in_document = self.cursors_by_document[cursor.document_key]
        del in_document[cursor.public_handle]
        if not in_document:
            del self.cursors_by_document[cursor.document_key]
        if self.shared is None:
            self._tell_others(client, "cursorRemoved", cursor)
        elif tell:
            # Others hear "cursorRemoved" from the broker.
            shared = self.shared
            shared.sets.leave(
                shared.topic, cursor.document_key.encode("utf-8"),
                b"%d" % cursor.public_handle, shared.tag(client),
            ).addErrback(lambda _: None)

    def _leave(self, client: Client, key: str) -> None:
        for cursor in list(self.cursors_by_client.get(client, {}).values()):
            if cursor.document_key == key:
                self._remove_cursor(client, cursor)
        self._index.remove(client, key)
        self._gate.forget(client, key)
