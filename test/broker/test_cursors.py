"""
Cursors through a shared broker: the service-level tests on a shared
in-process broker, and two nodes (two services on one broker) sharing
documents.
"""

from typing import Any, List

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.broker import InProcessBroker
from snorky.services.cursors import CursorsService
from test.helpers import RecordingClient, ServiceNode
from test.services.test_cursors import ALICE, BOB, CursorsServiceTests


class SharedBrokerCursorsServiceTests(CursorsServiceTests):
    """
    The service-level Cursors tests, with the service on a shared broker.
    """

    def setUp(self) -> None:
        super().setUp()
        self.cursors.use_broker(InProcessBroker(shared=True, reactor=Clock()))


def notes(client: RecordingClient) -> List[Any]:
    return [(m["type"], m["cursor"]["position"]) for m in client.messages("cursors")
            if m["type"].startswith("cursor")]


class CursorsAcrossNodesTests(TestCase):
    """
    Two Cursors services on one shared broker behave as one.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        broker = InProcessBroker(shared=True, reactor=self.clock, node_timeout=8)
        self.a = ServiceNode(broker, CursorsService("cursors"))
        self.b = ServiceNode(broker.another_node(), CursorsService("cursors"))
        self.alice, self.bob = self.a.connect(ALICE), self.b.connect(BOB)
        self.a.call(self.alice, "join", document="doc")
        self.b.call(self.bob, "join", document="doc")

    def create(self, node: ServiceNode, client: RecordingClient, handle: Any, position: Any = 0) -> Any:
        return node.call(client, "createCursor", privateHandle=handle, document="doc",
                         position=position, status="idle")

    def test_seen_from_every_node(self) -> None:
        """
        Cursors created, moved and removed on A are seen on B, and a late
        joiner on B is given them.
        """
        handle = self.create(self.a, self.alice, "h", 1)["data"]
        self.a.call(self.alice, "updateCursor", privateHandle="h", newData={"position": 2})
        self.assertEqual(notes(self.bob), [("cursorAdded", 1), ("cursorUpdated", 2)])
        self.assertEqual(notes(self.alice), [])
        carol = self.b.connect({"id": 3})
        [cursor] = self.b.call(carol, "join", document="doc")["data"]["cursors"]
        self.assertEqual((cursor["publicHandle"], cursor["position"], cursor["owner"]),
                         (handle, 2, ALICE))
        self.a.call(self.alice, "removeCursor", privateHandle="h")
        self.assertEqual(notes(self.bob)[-1], ("cursorRemoved", 2))
        self.assertEqual(self.b.call(carol, "leave", document="doc")["type"], "response")

    def test_handles_unique_per_document(self) -> None:
        """
        Public handles drawn on both nodes differ within a document.
        """
        handles = {self.create(self.a, self.alice, n)["data"] for n in range(16)}
        handles |= {self.create(self.b, self.bob, n)["data"] for n in range(16)}
        self.assertEqual(len(handles), 32)

    def test_dead_node_cursors_removed(self) -> None:
        """
        A silent node's cursors are removed, with cursorRemoved, within
        node_timeout.
        """
        self.create(self.b, self.bob, "h", 5)
        self.b.broker.available = False
        self.clock.pump([2] * 3)
        self.assertEqual(notes(self.alice), [("cursorAdded", 5)])
        self.clock.pump([2] * 2)
        self.assertEqual(notes(self.alice), [("cursorAdded", 5), ("cursorRemoved", 5)])

    def test_disconnect_removes_cursors_elsewhere(self) -> None:
        """
        A connection dropping on B removes its cursors from A's view.
        """
        self.create(self.b, self.bob, "h", 5)
        self.b.registry.client_disconnected(self.bob)
        self.assertEqual(notes(self.alice), [("cursorAdded", 5), ("cursorRemoved", 5)])
        self.assertEqual(self.a.call(self.alice, "join", document="d2")["data"], {"cursors": []})

    def test_broker_unavailable(self) -> None:
        """
        Creating a cursor while the broker is unreachable answers Broker
        unavailable and keeps nothing.
        """
        self.a.broker.available = False
        self.assertEqual(self.create(self.a, self.alice, "h")["message"], "Broker unavailable")
        self.assertEqual(self.a.service.cursors_by_client, {})
