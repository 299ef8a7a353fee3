"""
DataSync across nodes (snorky.broker.datasync), with the nodes as
services in one process sharing an in-process broker on a Clock: the
same logic that runs over Redis, without the network.
"""

from typing import Any, List

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.broker import InProcessBroker
from test.helpers import Harness, RecordingClient, delete, insert, update


class Cluster:
    """
    *count* DataSync nodes (frontend and backend registries each) on one
    shared broker.
    """

    def __init__(self, count: int = 3, max_log_length: int = 1000, **options: Any) -> None:
        self.clock = Clock()
        self.broker = InProcessBroker(
            shared=True, max_log_length=max_log_length, reactor=self.clock
        )
        self.nodes: List[Harness] = []
        for _ in range(count):
            node = Harness(**options)
            node.clock = self.clock
            node.frontend.reactor = self.clock
            node.frontend.use_broker(self.broker.another_node())
            self.nodes.append(node)


def seqs(client: RecordingClient) -> List[int]:
    return [e["message"]["seq"] for e in client.sent if e["message"].get("type") == "delta"]


class DataSyncAcrossNodesTests(TestCase):
    """
    Deltas, tokens and replays shared by the nodes of a cluster.
    """

    def setUp(self) -> None:
        self.cluster = Cluster()
        self.a, self.b, self.c = self.cluster.nodes

    def test_authorize_publish_acquire_on_three_nodes(self) -> None:
        """
        Authorized on A, deltas published on B, acquired on C: C's browser gets them in order.
        """
        token = self.a.authorize(("AllPlayers", None))
        self.b.publish(insert({"id": 1}), insert({"id": 2}))
        browser = self.c.browser()
        self.assertEqual(self.c.acquire(browser, token)["type"], "response")
        self.assertEqual(seqs(browser), [1, 2])
        self.assertEqual(self.c.deltas(browser), [insert({"id": 1}), insert({"id": 2})])
        self.a.publish(insert({"id": 3}))
        self.assertEqual(self.c.deltas(browser), [insert({"id": 3})])

    def test_deltas_before_authorization_not_replayed(self) -> None:
        """
        Deltas published before the authorization are not sent on acquire.
        """
        self.b.publish(insert({"id": 1}))
        token = self.a.authorize(("AllPlayers", None))
        browser = self.b.browser()
        self.b.acquire(browser, token)
        self.assertEqual(browser.sent, [])

    def test_live_on_every_node_exactly_once(self) -> None:
        """
        One publish reaches matching subscriptions on every node, once, with one seq.
        """
        browsers = []
        for node in self.cluster.nodes:
            browser = node.browser()
            node.subscribe(browser, ("AllPlayers", None))
            browsers.append(browser)
        self.b.publish(insert({"id": 1}))
        self.assertEqual([seqs(b) for b in browsers], [[1], [1], [1]])

    def test_update_translation(self) -> None:
        """
        Each node turns an update into an insert or delete per subscription's view, live and on replay.
        """
        live = self.a.browser()
        self.a.subscribe(live, ("Players", ["==", "team", "red"]))
        token = self.b.authorize(("Players", ["==", "team", "red"]))
        self.c.publish(update({"id": 1, "team": "blue"}, {"id": 1, "team": "red"}))
        self.c.publish(update({"id": 1, "team": "red"}, {"id": 1, "team": "blue"}))
        later = self.c.browser()
        self.c.acquire(later, token)
        expected = [insert({"id": 1, "team": "red"}), delete({"id": 1, "team": "red"})]
        self.assertEqual(self.a.deltas(live), expected)
        self.assertEqual(self.c.deltas(later), expected)

    def test_reacquire_elsewhere_with_after(self) -> None:
        """
        A browser cut after seq 2 re-acquires on another node with after=2 and gets 3..5 once, in order.
        """
        token = self.a.authorize(("AllPlayers", None))
        first = self.a.browser()
        self.a.acquire(first, token)
        self.b.publish(insert({"id": 1}), insert({"id": 2}), insert({"id": 3}))
        self.a.disconnect(first)
        self.b.publish(insert({"id": 4}), insert({"id": 5}))
        second = self.c.browser()
        self.assertEqual(self.c.acquire(second, token, after=2)["type"], "response")
        self.assertEqual(seqs(second), [3, 4, 5])
        self.b.publish(insert({"id": 6}))
        self.assertEqual(seqs(second), [3, 4, 5, 6])

    def test_reacquire_without_after_resumes_where_holder_left(self) -> None:
        """
        Without after, the new holder gets what was published since the last one left.
        """
        token = self.a.authorize(("AllPlayers", None))
        first = self.a.browser()
        self.a.acquire(first, token)
        self.a.publish(insert({"id": 1}))
        self.a.disconnect(first)
        self.a.publish(insert({"id": 2}))
        second = self.b.browser()
        self.b.acquire(second, token)
        self.assertEqual(self.b.deltas(second), [insert({"id": 2})])

    def test_beyond_retention_expires(self) -> None:
        """
        A replay reaching past the retained log answers Subscription expired, never a gap.
        """
        cluster = Cluster(count=2, max_log_length=3)
        a, b = cluster.nodes
        token = a.authorize(("AllPlayers", None))
        for n in range(5):
            a.publish(insert({"id": n}))
        browser = b.browser()
        self.assertEqual(b.acquire(browser, token)["message"], "Subscription expired")
        self.assertEqual(b.acquire(browser, token)["message"], "No such subscription")

    def test_acquired_once_cluster_wide(self) -> None:
        """
        A subscription held on A cannot be acquired on B, with or without after, while its holder answers.
        """
        token = self.a.subscribe(self.a.browser(), ("AllPlayers", None))
        other = self.b.browser()
        self.assertEqual(self.b.acquire(other, token)["message"], "Subscription already acquired")
        self.assertEqual(
            self.b.acquire(other, token, after=0)["message"], "Subscription already acquired"
        )

    def test_silent_holder_taken_over_across_nodes(self) -> None:
        """
        A holder on A that does not answer loses the subscription to a browser re-acquiring on B.
        """
        token = self.a.authorize(("AllPlayers", None))
        holder = self.a.browser()
        self.a.acquire(holder, token)
        self.a.publish(insert({"id": 1}))
        holder.connected = False  # its probe now answers False
        browser = self.b.browser()
        self.assertEqual(self.b.acquire(browser, token, after=0)["type"], "response")
        self.assertEqual(seqs(browser), [1])
        self.a.publish(insert({"id": 2}))
        self.assertEqual(seqs(browser), [1, 2])
        self.assertEqual(self.a.frontend.shared.held, {})

    def test_dead_node_holder_taken_over(self) -> None:
        """
        A holder whose node never answers loses the subscription after holder_timeout.
        """
        token = self.a.authorize(("AllPlayers", None))
        self.a.acquire(self.a.browser(), token)
        shared = self.a.frontend.shared
        shared.broker.unlisten(shared.node_topic + shared.broker.node_id, shared._node_message)
        browser = self.b.browser()
        frame = {"command": "acquireSubscription", "params": {"token": token, "after": 0}, "callId": 9}
        self.b.front.process_message_from(browser, "datasync", frame)
        self.assertEqual(browser.sent, [])
        self.cluster.clock.advance(7)
        self.assertEqual(browser.sent[0]["message"]["type"], "response")

    def test_tokens_stored_hashed_and_expire(self) -> None:
        """
        The broker keeps no token, and an unacquired token expires after timeout_interval.
        """
        token = self.a.authorize(("AllPlayers", None))
        for key, (value, _) in self.cluster.broker._records.items():
            self.assertNotIn(token, key)
            self.assertNotIn(token.encode(), value)
        self.cluster.clock.advance(121)
        self.assertEqual(self.b.acquire(self.b.browser(), token)["message"], "No such subscription")

    def test_cancel(self) -> None:
        """
        A cancelled subscription is gone from every node.
        """
        browser = self.a.browser()
        token = self.a.subscribe(browser, ("AllPlayers", None))
        self.assertEqual(self.a.cancel(browser, token)["type"], "response")
        self.assertEqual(self.b.acquire(self.b.browser(), token)["message"], "No such subscription")
        self.assertEqual(self.cluster.broker.record_count, 0)

    def test_node_memory_bounded(self) -> None:
        """
        A node keeps only its clients' subscriptions: a holder leaving frees its tables.
        """
        browser = self.a.browser()
        self.a.subscribe(browser, ("AllPlayers", None))
        self.a.disconnect(browser)
        self.assertEqual(self.a.frontend.shared.held, {})
        self.assertEqual(self.a.frontend.subscriptions_by_client, {})
        self.assertEqual(self.a.frontend.dealers["AllPlayers"].item_count(), 0)

    def test_broker_unavailable(self) -> None:
        """
        Publishing, authorizing and acquiring answer Broker unavailable while the broker is down.
        """
        token = self.a.authorize(("AllPlayers", None))
        self.a.frontend.shared.broker.available = False
        answer = self.a.backend_call("publishDeltas", deltas=[insert({"id": 1})])
        self.assertEqual(answer["message"], "Broker unavailable")
        answer = self.a.backend_call(
            "authorizeSubscription", items=[{"dealer": "AllPlayers", "query": None}]
        )
        self.assertEqual(answer["message"], "Broker unavailable")
        self.assertEqual(self.a.acquire(self.a.browser(), token)["message"], "Broker unavailable")
