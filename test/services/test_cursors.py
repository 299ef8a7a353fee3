"""Tests for snorky.services.cursors."""

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky import ServiceRegistry
from snorky.services.cursors import CursorsService
from test.helpers import ServiceCalls

ALICE = {"id": 1}
BOB = {"id": 2}


class CursorsServiceTests(ServiceCalls, TestCase):
    """
    Tests for CursorsService through a ServiceRegistry.
    """

    service_name = "cursors"

    def setUp(self) -> None:
        self.cursors = CursorsService("cursors")
        self.registry = ServiceRegistry([self.cursors], clock=Clock())
        self.alice = self.connect(ALICE)
        self.bob = self.connect(BOB)

    def notifications(self, client):
        return [m for m in client.messages("cursors")
                if m["type"] not in ("response", "error")]

    def create(self, client, handle=0, document="doc", position=0, status="idle"):
        return self.ok(client, "createCursor", privateHandle=handle,
                       document=document, position=position, status=status)

    def assertClean(self) -> None:
        self.assertEqual(self.cursors.clients_by_document, {})
        self.assertEqual(self.cursors.documents_by_client, {})
        self.assertEqual(self.cursors.cursors_by_document, {})
        self.assertEqual(self.cursors.cursors_by_client, {})

    def test_not_authenticated(self) -> None:
        """
        A connection without identity cannot join a document.
        """
        anonymous = self.connect(None)
        self.assertEqual(self.error(anonymous, "join", document="doc"),
                         "Not authenticated")
        self.assertClean()

    def test_join_lists_cursors(self) -> None:
        """
        Joining answers the document's cursors with their owners.
        """
        self.assertEqual(self.ok(self.alice, "join", document="doc"), {"cursors": []})
        handle = self.create(self.alice, position={"line": 3}, status="typing")
        self.create(self.alice, handle=1, document="doc")
        cursors = self.ok(self.bob, "join", document="doc")["cursors"]
        self.assertEqual(cursors[0], {
            "publicHandle": handle, "document": "doc",
            "position": {"line": 3}, "status": "typing", "owner": ALICE,
        })
        self.assertEqual(len(cursors), 2)

    def test_already_joined(self) -> None:
        """
        A connection cannot join a document twice.
        """
        self.ok(self.alice, "join", document=["d", 1])
        self.assertEqual(self.error(self.alice, "join", document=["d", 1]),
                         "Already joined")

    def test_not_joined(self) -> None:
        """
        Leaving or creating a cursor needs the connection in the document.
        """
        self.assertEqual(self.error(self.alice, "leave", document="doc"), "Not joined")
        self.assertEqual(self.error(self.alice, "createCursor", privateHandle=0,
                                    document="doc", position=0, status=None),
                         "Not joined")

    def test_cursor_added(self) -> None:
        """
        Creating a cursor tells the other connections in the document, not
        the creator and not other documents.
        """
        carol = self.connect("carol")
        self.ok(self.alice, "join", document="doc")
        self.ok(self.bob, "join", document="doc")
        self.ok(carol, "join", document="other")
        handle = self.create(self.alice, position=5, status="s")
        self.assertEqual(self.notifications(self.bob), [{
            "type": "cursorAdded",
            "cursor": {"publicHandle": handle, "document": "doc", "position": 5,
                       "status": "s", "owner": ALICE},
        }])
        self.assertEqual(self.notifications(self.alice), [])
        self.assertEqual(self.notifications(carol), [])

    def test_cursor_updated(self) -> None:
        """
        Updating changes only the fields given and tells the others.
        """
        self.ok(self.alice, "join", document="doc")
        self.ok(self.bob, "join", document="doc")
        handle = self.create(self.alice, handle="mine", position=1, status="a")
        self.ok(self.alice, "updateCursor", privateHandle="mine", newData={"position": 2})
        self.assertEqual(self.notifications(self.bob)[-1], {
            "type": "cursorUpdated",
            "cursor": {"publicHandle": handle, "document": "doc", "position": 2,
                       "status": "a", "owner": ALICE},
        })
        self.ok(self.alice, "updateCursor", privateHandle="mine", newData={"status": "b"})
        self.assertEqual(self.notifications(self.bob)[-1]["cursor"]["status"], "b")
        self.assertEqual(self.notifications(self.bob)[-1]["cursor"]["position"], 2)

    def test_cursor_removed(self) -> None:
        """
        Removing a cursor tells the others and frees its private handle.
        """
        self.ok(self.alice, "join", document="doc")
        self.ok(self.bob, "join", document="doc")
        handle = self.create(self.alice)
        self.ok(self.alice, "removeCursor", privateHandle=0)
        self.assertEqual(self.notifications(self.bob)[-1]["type"], "cursorRemoved")
        self.assertEqual(self.notifications(self.bob)[-1]["cursor"]["publicHandle"], handle)
        self.assertEqual(self.ok(self.bob, "leave", document="doc"), None)
        self.assertEqual(self.cursors.cursors_by_document, {})
        self.assertNotEqual(self.create(self.alice), handle)

    def test_no_such_cursor(self) -> None:
        """
        Only the owner can update or remove a cursor, by its private handle.
        """
        self.ok(self.alice, "join", document="doc")
        self.ok(self.bob, "join", document="doc")
        public = self.create(self.alice, handle=0)
        for handle in [0, public, 99, None, True, [0]]:
            self.assertEqual(self.error(self.bob, "removeCursor", privateHandle=handle),
                             "No such cursor")
            self.assertEqual(self.error(self.bob, "updateCursor", privateHandle=handle,
                                        newData={"position": 9}),
                             "No such cursor")
        self.assertEqual(len(self.cursors.cursors_by_document['"doc"']), 1)

    def test_reused_handle(self) -> None:
        """
        A private handle can name one cursor of a connection at a time.
        """
        self.ok(self.alice, "join", document="doc")
        self.ok(self.alice, "join", document="doc2")
        self.create(self.alice, handle=3)
        self.assertEqual(self.error(self.alice, "createCursor", privateHandle=3,
                                    document="doc2", position=0, status=None),
                         "Reused handle")
        # Another connection's handles are its own business.
        self.ok(self.bob, "join", document="doc")
        self.create(self.bob, handle=3)

    def test_invalid_handle(self) -> None:
        """
        Private handles are integers or strings.
        """
        self.ok(self.alice, "join", document="doc")
        for handle in [None, True, 1.5, [1], {"a": 1}]:
            self.assertEqual(self.error(self.alice, "createCursor", privateHandle=handle,
                                        document="doc", position=0, status=None),
                             "Invalid params", handle)
        self.assertEqual(self.cursors.cursors_by_client, {})

    def test_invalid_new_data(self) -> None:
        """
        newData is an object with only position and status.
        """
        self.ok(self.alice, "join", document="doc")
        self.create(self.alice)
        for new_data in [None, [1], {"owner": "bob"}, {"position": 1, "x": 2}]:
            self.assertEqual(self.error(self.alice, "updateCursor", privateHandle=0,
                                        newData=new_data),
                             "Invalid params")
        self.assertEqual(self.cursors.cursors_by_client[self.alice][0].owner, ALICE)

    def test_public_handles_unique(self) -> None:
        """
        Public handles differ for all cursors of a document, even when
        their owners chose the same private handles.
        """
        clients = [self.connect({"id": n}) for n in range(4)]
        handles = []
        for client in clients:
            self.ok(client, "join", document="doc")
            handles += [self.create(client, handle=h) for h in range(3)]
        self.assertEqual(len(set(handles)), 12)

    def test_max_cursors(self) -> None:
        """
        A connection has at most 16 cursors, across documents.
        """
        self.ok(self.alice, "join", document="d1")
        self.ok(self.alice, "join", document="d2")
        for h in range(16):
            self.create(self.alice, handle=h, document="d1" if h % 2 else "d2")
        self.assertEqual(self.error(self.alice, "createCursor", privateHandle=16,
                                    document="d1", position=0, status=None),
                         "Too many cursors")
        self.ok(self.alice, "removeCursor", privateHandle=0)
        self.create(self.alice, handle=16, document="d1")

    def test_max_documents(self) -> None:
        """
        A connection is in at most max_documents documents.
        """
        self.cursors.max_documents = 2
        self.ok(self.alice, "join", document=1)
        self.ok(self.alice, "join", document=2)
        self.assertEqual(self.error(self.alice, "join", document=3), "Too many documents")

    def test_document_name_length(self) -> None:
        """
        A document longer than max_document_length is refused.
        """
        self.assertEqual(self.error(self.alice, "join", document=["x" * 2000]),
                         "Document name too long")
        self.assertClean()

    def test_cursor_size(self) -> None:
        """
        A cursor's position and status are bounded in size, on create and
        on update.
        """
        self.ok(self.alice, "join", document="doc")
        big = "x" * 5000
        self.assertEqual(self.error(self.alice, "createCursor", privateHandle=0,
                                    document="doc", position=big, status=None),
                         "Cursor too large")
        self.create(self.alice, handle=1)
        self.assertEqual(self.error(self.alice, "updateCursor", privateHandle=1,
                                    newData={"status": big}),
                         "Cursor too large")
        self.assertEqual(self.cursors.cursors_by_client[self.alice][1].status, "idle")

    def test_leave_removes_cursors(self) -> None:
        """
        Leaving a document removes the connection's cursors there (telling
        the others) and keeps those in other documents.
        """
        self.ok(self.alice, "join", document="d1")
        self.ok(self.alice, "join", document="d2")
        self.ok(self.bob, "join", document="d1")
        gone = self.create(self.alice, handle=0, document="d1")
        self.create(self.alice, handle=1, document="d2")
        self.ok(self.alice, "leave", document="d1")
        self.assertEqual(self.notifications(self.bob)[-1]["type"], "cursorRemoved")
        self.assertEqual(self.notifications(self.bob)[-1]["cursor"]["publicHandle"], gone)
        self.assertEqual(list(self.cursors.cursors_by_client[self.alice]), [1])
        self.assertEqual(self.ok(self.bob, "join", document="d2")["cursors"][0]["owner"],
                         ALICE)

    def test_owner_is_identity_at_join(self) -> None:
        """
        Cursors carry the identity their owner had when joining the document.
        """
        self.ok(self.alice, "join", document="doc")
        self.alice.identity = "changed"
        self.create(self.alice)
        self.assertEqual(self.ok(self.bob, "join", document="doc")["cursors"][0]["owner"],
                         ALICE)

    def test_disconnect_cleans_up(self) -> None:
        """
        Disconnecting removes every cursor and membership of the
        connection, tells the others, and leaves no entry of it.
        """
        self.ok(self.alice, "join", document="d1")
        self.ok(self.alice, "join", document="d2")
        self.ok(self.bob, "join", document="d1")
        self.create(self.alice, handle=0, document="d1")
        self.create(self.alice, handle=1, document="d2")
        bobs = self.create(self.bob, handle=0, document="d1")
        self.registry.client_disconnected(self.alice)
        self.assertEqual(self.notifications(self.bob)[-1]["type"], "cursorRemoved")
        self.assertNotIn(self.alice, self.cursors.documents_by_client)
        self.assertNotIn(self.alice, self.cursors.cursors_by_client)
        self.assertEqual(self.cursors.clients_by_document, {'"d1"': {self.bob}})
        self.assertEqual(list(self.cursors.cursors_by_document), ['"d1"'])
        self.assertEqual(list(self.cursors.cursors_by_document['"d1"']), [bobs])
        self.registry.client_disconnected(self.bob)
        self.assertClean()
