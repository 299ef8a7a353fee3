"""Tests for snorky.services.datasync.service."""

import json

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.services.datasync import DataSyncService
from snorky.services.datasync.dealers import (
    BroadcastDealer,
    Dealer,
    FilterDealer,
    SimpleDealer,
)
from snorky.services.datasync.deltas import DeletionDelta, InsertionDelta, UpdateDelta
from snorky.services.datasync.service import delta_message
from snorky.services.datasync.subscriptions import State
from test.helpers import (
    AllPlayers,
    AllTeams,
    Harness,
    PlayerById,
    Players,
    RecordingClient,
    delete,
    insert,
    update,
)


class DealerRegistrationTests(TestCase):
    """
    DataSyncService accepts dealer classes or instances with unique names.
    """

    def test_classes_and_instances(self):
        """Classes are instantiated; instances are used as they are."""
        instance = FilterDealer(name="red", model="Player")
        service = DataSyncService("datasync", [AllPlayers, instance], reactor=Clock())
        self.assertIsInstance(service.dealers["AllPlayers"], AllPlayers)
        self.assertIs(service.dealers["red"], instance)

    def test_duplicate_name(self):
        """Two dealers with the same name are rejected."""
        e = self.assertRaises(
            ValueError,
            DataSyncService,
            "datasync",
            [AllPlayers, BroadcastDealer(name="AllPlayers", model="Team")],
            reactor=Clock(),
        )
        self.assertIn("AllPlayers", str(e))

    def test_no_model(self):
        """A dealer without a model is rejected."""
        self.assertRaises(
            ValueError, DataSyncService, "datasync", [BroadcastDealer], reactor=Clock()
        )

    def test_bad_options(self):
        """A negative grace period, buffer or replay log is rejected."""
        for options in [{"grace_period": -1}, {"max_buffer": -1}, {"max_replay": -1},
                        {"max_buffer_bytes": -1}, {"max_replay_bytes": -1}]:
            self.assertRaises(
                ValueError, DataSyncService, "datasync", reactor=Clock(), **options
            )


class AcquireTests(TestCase):
    """
    acquireSubscription links a subscription to a client and delivers its
    buffer.
    """

    def setUp(self):
        self.h = Harness()

    def test_buffered_deltas_after_response(self):
        """Deltas published before acquire arrive, in order, right after the response."""
        token = self.h.authorize(("AllPlayers", None))
        self.h.publish(insert({"id": 1}), delete({"id": 2}))
        self.h.publish(update({"id": 3}, {"id": 4}))
        browser = self.h.browser()
        self.h.front.process_frame(browser, json.dumps({
            "service": "datasync",
            "message": {"command": "acquireSubscription", "params": {"token": token},
                        "callId": 7},
        }))
        messages = [e["message"] for e in browser.sent]
        self.assertEqual(messages[0], {"type": "response", "callId": 7, "data": None})
        self.assertEqual(
            [m["delta"] for m in messages[1:]],
            [
                {"type": "insert", "model": "Player", "data": {"id": 1}},
                {"type": "delete", "model": "Player", "data": {"id": 2}},
                {"type": "update", "model": "Player", "newData": {"id": 4},
                 "oldData": {"id": 3}},
            ],
        )

    def test_live_after_acquire(self):
        """After acquiring, each delta is sent at once."""
        browser = self.h.browser()
        self.h.subscribe(browser, ("AllPlayers", None))
        self.h.publish(insert({"id": 1}))
        self.assertEqual(self.h.deltas(browser), [insert({"id": 1})])

    def test_unknown_token(self):
        """Unknown, malformed or missing tokens are refused."""
        browser = self.h.browser()
        for token in ["nope", "", 3, None, ["x"], "\u00e9" * 43]:
            self.assertEqual(
                self.h.acquire(browser, token)["message"], "No such subscription"
            )
        answer = self.h.call(self.h.front, browser, "datasync", "acquireSubscription")
        self.assertEqual(answer["message"], 'Missing field "token"')

    def test_wrong_token_same_prefix(self):
        """A token sharing the lookup prefix of a real one is refused."""
        token = self.h.authorize(("AllPlayers", None))
        forged = token[:-1] + ("A" if token[-1] != "A" else "B")
        answer = self.h.acquire(self.h.browser(), forged)
        self.assertEqual(answer["message"], "No such subscription")
        self.assertIsNone(self.h.frontend.find_subscription(token[:16] + "\ud800"))
        self.assertIsNotNone(self.h.frontend.find_subscription(token))

    def test_already_acquired(self):
        """A held token cannot be acquired again, by anyone."""
        first, second = self.h.browser(), self.h.browser()
        token = self.h.subscribe(first, ("AllPlayers", None))
        for client in (first, second):
            self.assertEqual(
                self.h.acquire(client, token)["message"],
                "Subscription already acquired",
            )

    def test_acquire_timeout(self):
        """A subscription not acquired within timeout_interval is gone, buffer and all."""
        h = Harness(timeout_interval=10)
        token = h.authorize(("AllPlayers", None))
        h.publish(insert({"id": 1}))
        h.clock.advance(10)
        browser = h.browser()
        self.assertEqual(h.acquire(browser, token)["message"], "No such subscription")
        self.assertEqual(browser.sent, [])
        h.assert_empty(self)

    def test_acquire_just_in_time(self):
        """A subscription acquired just before its timeout is kept."""
        h = Harness(timeout_interval=10)
        token = h.authorize(("AllPlayers", None))
        h.clock.advance(9.9)
        self.assertEqual(h.acquire(h.browser(), token)["type"], "response")
        h.clock.advance(100)
        self.assertEqual(len(h.frontend.subscriptions), 1)

    def test_overflow_expires(self):
        """Overflowing the buffer before acquire answers Subscription expired."""
        h = Harness(max_buffer=2)
        token = h.authorize(("AllPlayers", None))
        h.publish(insert({"id": 1}), insert({"id": 2}))
        h.publish(insert({"id": 3}))
        browser = h.browser()
        self.assertEqual(h.acquire(browser, token)["message"], "Subscription expired")
        self.assertEqual(h.acquire(browser, token)["message"], "Subscription expired")
        self.assertEqual(browser.sent, [])
        self.assertEqual(h.frontend.dealers["AllPlayers"].item_count(), 0)
        h.clock.advance(120)
        self.assertEqual(h.acquire(browser, token)["message"], "No such subscription")
        h.assert_empty(self)

    def test_buffer_at_limit(self):
        """A buffer filled exactly to max_buffer is delivered whole."""
        h = Harness(max_buffer=2)
        token = h.authorize(("AllPlayers", None))
        h.publish(insert({"id": 1}), insert({"id": 2}))
        browser = h.browser()
        self.assertEqual(h.acquire(browser, token)["type"], "response")
        self.assertEqual(len(h.deltas(browser)), 2)

    def test_overflow_by_bytes_expires(self):
        """
        Buffering more than max_buffer_bytes before acquire answers
        Subscription expired, however few deltas that is.
        """
        h = Harness(max_buffer_bytes=400)
        token = h.authorize(("AllPlayers", None))
        h.publish(insert({"id": 1, "text": "x" * 150}))
        self.assertEqual(h.frontend.find_subscription(token).state, State.AWAITING)
        h.publish(insert({"id": 2, "text": "x" * 150}))
        self.assertEqual(h.acquire(h.browser(), token)["message"], "Subscription expired")
        self.assertEqual(h.frontend.dealers["AllPlayers"].item_count(), 0)

    def test_large_deltas_bounded_by_default(self):
        """
        With the default settings, 64 KB deltas keep a subscription's buffer
        and replay log under 4 MiB each: an unheld subscription expires
        instead of growing, and a held one evicts its oldest messages.
        """
        h = Harness()
        unheld = h.authorize(("AllPlayers", None))
        browser = h.browser()
        held = h.subscribe(browser, ("AllPlayers", None))
        big = "x" * 65536
        for n in range(100):
            h.publish(insert({"id": n, "text": big}))
        self.assertIs(h.frontend.find_subscription(unheld).state, State.EXPIRED)
        subscription = h.frontend.find_subscription(held)
        self.assertLessEqual(subscription.logged_bytes, 4 * 1024 * 1024)
        self.assertEqual(subscription.logged, 63)
        self.assertEqual(len(h.deltas(browser)), 100)

    def test_subscription_limit(self):
        """A client may hold at most max_subscriptions_per_client subscriptions."""
        h = Harness(max_subscriptions_per_client=2)
        browser = h.browser()
        h.subscribe(browser, ("AllPlayers", None))
        h.subscribe(browser, ("AllPlayers", None))
        token = h.authorize(("AllPlayers", None))
        self.assertEqual(h.acquire(browser, token)["message"], "Too many subscriptions")
        self.assertEqual(h.acquire(h.browser(), token)["type"], "response")


class CancelTests(TestCase):
    """
    cancelSubscription ends a subscription, only for its holder.
    """

    def setUp(self):
        self.h = Harness()

    def test_cancel(self):
        """After cancelling, the holder gets no more deltas and the token is gone."""
        browser = self.h.browser()
        token = self.h.subscribe(browser, ("AllPlayers", None))
        self.assertEqual(self.h.cancel(browser, token)["type"], "response")
        self.h.publish(insert({"id": 1}))
        self.assertEqual(browser.sent, [])
        self.assertEqual(self.h.cancel(browser, token)["message"], "No such subscription")
        self.assertEqual(self.h.acquire(browser, token)["message"], "No such subscription")
        self.h.assert_empty(self)

    def test_only_holder(self):
        """Another client, or nobody yet, cannot cancel a subscription."""
        holder, other = self.h.browser(), self.h.browser()
        unheld = self.h.authorize(("AllPlayers", None))
        self.assertEqual(self.h.cancel(other, unheld)["message"], "No such subscription")
        token = self.h.subscribe(holder, ("AllPlayers", None))
        self.assertEqual(self.h.cancel(other, token)["message"], "No such subscription")
        self.h.publish(insert({"id": 1}))
        self.assertEqual(len(self.h.deltas(holder)), 1)

    def test_missing_or_bad_token(self):
        """A missing or non-string token is refused clearly."""
        browser = self.h.browser()
        answer = self.h.call(self.h.front, browser, "datasync", "cancelSubscription")
        self.assertEqual(answer["message"], 'Missing field "token"')
        self.assertEqual(self.h.cancel(browser, 5)["message"], "No such subscription")


class RoutingTests(TestCase):
    """
    Deltas reach exactly the subscriptions that cover them, translated to
    each subscription's view.
    """

    def setUp(self):
        self.h = Harness()
        self.browser = self.h.browser()

    def test_each_dealer(self):
        """Broadcast, key and filter subscriptions each get exactly their deltas."""
        everyone, by_id, red, teams = (self.h.browser() for _ in range(4))
        self.h.subscribe(everyone, ("AllPlayers", None))
        self.h.subscribe(by_id, ("PlayerById", 1))
        self.h.subscribe(red, ("Players", ["==", "color", "red"]))
        self.h.subscribe(teams, ("AllTeams", None))
        alice = {"id": 1, "color": "blue"}
        bob = {"id": 2, "color": "red"}
        self.h.publish(insert(alice), insert(bob), insert({"id": 9}, model="Team"))
        self.assertEqual(self.h.deltas(everyone), [insert(alice), insert(bob)])
        self.assertEqual(self.h.deltas(by_id), [insert(alice)])
        self.assertEqual(self.h.deltas(red), [insert(bob)])
        self.assertEqual(self.h.deltas(teams), [insert({"id": 9}, model="Team")])

    def test_update_translation(self):
        """An update is an insert into, a delete from, or an update within a view."""
        self.h.subscribe(self.browser, ("Players", ["==", "color", "red"]))
        blue = {"id": 1, "color": "blue", "name": "Alice"}
        red = {"id": 1, "color": "red", "name": "Alice"}
        red2 = {"id": 1, "color": "red", "name": "Alicia"}
        blue2 = {"id": 1, "color": "blue", "name": "Alicia"}
        self.h.publish(update(blue, red), update(red, red2), update(red2, blue2))
        self.h.publish(update(blue2, blue))
        self.assertEqual(
            self.h.deltas(self.browser),
            [insert(red), update(red, red2), delete(red2)],
        )

    def test_key_update_translation(self):
        """A SimpleDealer subscription sees an item changing key as insert or delete."""
        one, two = self.h.browser(), self.h.browser()
        self.h.subscribe(one, ("PlayerById", 1))
        self.h.subscribe(two, ("PlayerById", 2))
        self.h.publish(update({"id": 1}, {"id": 2}))
        self.assertEqual(self.h.deltas(one), [delete({"id": 1})])
        self.assertEqual(self.h.deltas(two), [insert({"id": 2})])

    def test_once_per_subscription(self):
        """A subscription whose several items match a delta receives it once."""
        self.h.subscribe(
            self.browser,
            ("AllPlayers", None),
            ("PlayerById", 1),
            ("Players", ["==", "id", 1]),
        )
        self.h.publish(insert({"id": 1}))
        self.assertEqual(self.h.deltas(self.browser), [insert({"id": 1})])

    def test_update_wins(self):
        """Items seeing an insert and a delete make the subscription get the update."""
        self.h.subscribe(
            self.browser,
            ("Players", ["==", "color", "red"]),
            ("Players", ["==", "color", "blue"]),
        )
        old, new = {"id": 1, "color": "red"}, {"id": 1, "color": "blue"}
        self.h.publish(update(old, new))
        self.assertEqual(self.h.deltas(self.browser), [update(old, new)])

    def test_once_per_subscription_not_per_client(self):
        """A client holding two matching subscriptions gets the delta for each."""
        self.h.subscribe(self.browser, ("AllPlayers", None))
        self.h.subscribe(self.browser, ("PlayerById", 1))
        self.h.publish(insert({"id": 1}))
        self.assertEqual(len(self.h.deltas(self.browser)), 2)

    def test_unhandled_model(self):
        """A delta for a model no dealer handles is accepted and reaches nobody."""
        self.h.subscribe(self.browser, ("AllPlayers", None))
        self.h.publish(insert({"id": 1}, model="Ghost"))
        self.assertEqual(self.browser.sent, [])

    def test_publish_order(self):
        """Deltas arrive in publish order across batches."""
        self.h.subscribe(self.browser, ("AllPlayers", None))
        self.h.publish(*[insert({"n": n}) for n in range(5)])
        self.h.publish(*[insert({"n": n}) for n in range(5, 8)])
        self.assertEqual(
            [d["data"]["n"] for d in self.h.deltas(self.browser)], list(range(8))
        )

    def test_encoded_once(self):
        """A delta for many clients is encoded and framed once."""
        browsers = [self.h.browser() for _ in range(5)]
        for browser in browsers:
            self.h.subscribe(browser, ("AllPlayers", None))
        self.h.publish(insert({"id": 1}))
        self.assertEqual(sum(b.frames_prepared for b in browsers), 1 + 5)

    def test_python_publish(self):
        """Embedders can publish Delta objects directly."""
        self.h.subscribe(self.browser, ("AllPlayers", None))
        self.h.frontend.publish_deltas([InsertionDelta("Player", {"id": 1})])
        self.assertEqual(self.h.deltas(self.browser), [insert({"id": 1})])

    def test_failing_dealer(self):
        """A dealer that raises is logged and other dealers still deliver."""

        class Broken(Dealer):
            model = "Player"

            def add_subscription_item(self, item):
                pass

            def remove_subscription_item(self, item):
                pass

            def get_subscription_items_for_model(self, data):
                raise KeyError("oops")

            def item_count(self):
                return 0

        h = Harness(dealers=[AllPlayers, Broken])
        browser = h.browser()
        h.subscribe(browser, ("AllPlayers", None), ("Broken", None))
        h.publish(insert({"id": 1}))
        self.assertEqual(h.deltas(browser), [insert({"id": 1})])
        self.assertEqual(len(self.flushLoggedErrors(KeyError)), 1)


class FailingIndexTests(TestCase):
    """
    A dealer whose index fails does not leave half a subscription behind.
    """

    def test_add_fails(self):
        """If a dealer fails to add an item, items added before are removed."""

        class Refusing(BroadcastDealer):
            model = "Player"

            def add_subscription_item(self, item):
                raise RuntimeError("index full")

        h = Harness(dealers=[AllPlayers, PlayerById, Refusing])
        answer = h.backend_call(
            "authorizeSubscription",
            items=[
                {"dealer": "AllPlayers", "query": None},
                {"dealer": "PlayerById", "query": 1},
                {"dealer": "Refusing", "query": None},
            ],
        )
        self.assertEqual(answer["message"], "Internal error")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        h.assert_empty(self)


class GracePeriodTests(TestCase):
    """
    A subscription outlives its holder's connection for the grace period.
    """

    def test_resume(self):
        """Reacquiring within the grace period delivers the missed deltas first."""
        h = Harness(grace_period=30)
        first = h.browser()
        token = h.subscribe(first, ("AllPlayers", None))
        h.publish(insert({"id": 1}))
        h.disconnect(first)
        h.publish(insert({"id": 2}), insert({"id": 3}))
        h.clock.advance(29)
        second = h.browser()
        self.assertEqual(h.acquire(second, token)["type"], "response")
        h.publish(insert({"id": 4}))
        self.assertEqual(
            [d["data"]["id"] for d in h.deltas(second)], [2, 3, 4]
        )
        self.assertEqual([d["data"]["id"] for d in h.deltas(first)], [1])
        h.clock.advance(60)
        self.assertEqual(len(h.frontend.subscriptions), 1)

    def test_gone_after_grace(self):
        """After the grace period the subscription is gone."""
        h = Harness(grace_period=30)
        first = h.browser()
        token = h.subscribe(first, ("Players", ["==", "id", 1]))
        h.disconnect(first)
        h.publish(insert({"id": 1}))
        h.clock.advance(30)
        self.assertEqual(h.acquire(h.browser(), token)["message"], "No such subscription")
        h.assert_empty(self)

    def test_no_grace(self):
        """With a grace period of 0, disconnecting ends the subscription at once."""
        h = Harness(grace_period=0)
        first = h.browser()
        token = h.subscribe(first, ("AllPlayers", None))
        h.disconnect(first)
        self.assertEqual(h.acquire(h.browser(), token)["message"], "No such subscription")
        h.assert_empty(self)

    def test_overflow_during_grace(self):
        """Overflowing the buffer during the grace period answers Subscription expired."""
        h = Harness(grace_period=30, max_buffer=1)
        first = h.browser()
        token = h.subscribe(first, ("AllPlayers", None))
        h.disconnect(first)
        h.publish(insert({"id": 1}), insert({"id": 2}))
        second = h.browser()
        self.assertEqual(h.acquire(second, token)["message"], "Subscription expired")
        self.assertEqual(second.sent, [])
        h.clock.advance(30)
        h.assert_empty(self)

    def test_detached_not_cancellable(self):
        """Nobody holds a detached subscription, so nobody can cancel it."""
        h = Harness()
        first = h.browser()
        token = h.subscribe(first, ("AllPlayers", None))
        h.disconnect(first)
        self.assertEqual(h.cancel(h.browser(), token)["message"], "No such subscription")
        (subscription,) = h.frontend.subscriptions.values()
        self.assertIs(subscription.state, State.DETACHED)


class CleanupTests(TestCase):
    """
    Nothing is left behind once every client has left and timers ran out.
    """

    def test_indexes_empty(self):
        """After all clients leave and every timer runs out, every index is empty."""
        h = Harness(grace_period=5, max_buffer=3)
        browsers = [h.browser() for _ in range(4)]
        queries = [
            ("AllPlayers", None),
            ("PlayerById", 1),
            ("Players", ["==", "color", "red"]),
            ("Players", ["and", ["in", "id", [1, 2]], [">", "score", 3]]),
            ("Players", ["<", "score", 10]),
            ("AllTeams", None),
        ]
        tokens = []
        for browser in browsers:
            for query in queries:
                tokens.append(h.subscribe(browser, query))
            h.subscribe(browser, *queries)
        # Some never acquired, one cancelled, one expired by overflow.
        h.authorize(*queries)
        h.authorize(("PlayerById", 2))
        self.assertEqual(h.cancel(browsers[0], tokens[0])["type"], "response")
        h.disconnect(browsers[1])
        for n in range(5):
            h.publish(insert({"id": 1, "color": "red", "score": n}))
            h.publish(update({"id": 1, "score": n}, {"id": 2, "score": n + 1}))
        subscriptions = list(h.frontend.subscriptions.values())
        self.assertTrue(any(s.logged for s in subscriptions))
        for browser in browsers:
            if browser.connected:
                h.disconnect(browser)
        self.assertEqual(h.frontend.subscriptions_by_client, {})
        h.clock.advance(200)
        h.assert_empty(self)
        for subscription in subscriptions:
            self.assertIs(subscription.state, State.ENDED)
            self.assertEqual((subscription.logged, subscription.buffered), (0, 0))


class SeqTests(TestCase):
    """
    Every delta message carries a service-wide increasing seq, shared by
    all the subscriptions it goes to.
    """

    @staticmethod
    def seqs(client):
        seqs = [e["message"]["seq"] for e in client.sent]
        client.sent.clear()
        return seqs

    def test_increasing_and_shared(self):
        """Subscribers of the same deltas see the same, increasing seqs."""
        h = Harness()
        one, two, keyed = h.browser(), h.browser(), h.browser()
        h.subscribe(one, ("AllPlayers", None))
        h.subscribe(two, ("AllPlayers", None))
        h.subscribe(keyed, ("PlayerById", 2))
        h.publish(insert({"id": 1}), insert({"id": 2}))
        h.publish(insert({"id": 3}))
        seqs = self.seqs(one)
        self.assertEqual(seqs, sorted(set(seqs)))
        self.assertEqual(len(seqs), 3)
        self.assertEqual(self.seqs(two), seqs)
        self.assertEqual(self.seqs(keyed), [seqs[1]])

    def test_message_bytes(self):
        """
        The bytes a delta message goes out as are exactly the encoded
        envelope of :func:`delta_message`, for every kind of delta an
        update becomes and for text that is not ASCII.
        """
        raw = []

        class RawClient(RecordingClient):
            def prepare(self, data):
                raw.append(data)
                return data

        h = Harness()
        browser = RawClient()
        h.front.client_connected(browser)
        h.subscribe(browser, ("Players", ["==", "color", "red"]))
        red, blue = {"id": 1, "color": "red", "name": "Zoë ✓"}, {"id": 1, "color": "blue"}
        h.publish(insert(red), update(red, red), update(red, blue), update(blue, red))
        expected = [
            (InsertionDelta("Player", red), 1),
            (UpdateDelta("Player", red, red), 2),
            (DeletionDelta("Player", red), 3),
            (InsertionDelta("Player", red), 4),
        ]
        deltas = [data for data in raw if b'"type":"delta"' in data]
        self.assertEqual(deltas, [
            h.frontend.encode_message(delta_message(delta, seq)) for delta, seq in expected
        ])

    def test_seq_across_batches(self):
        """Seqs keep increasing across batches and unmatched deltas take none."""
        h = Harness()
        browser = h.browser()
        h.subscribe(browser, ("PlayerById", 1))
        h.publish(insert({"id": 1}), insert({"id": 5}))
        h.publish(insert({"id": 1}, model="Ghost"), insert({"id": 1}))
        self.assertEqual(self.seqs(browser), [1, 2])
        self.assertEqual(h.frontend.last_seq, 2)

    def test_update_translation_seqs(self):
        """The insert, update and delete made of one update each get their own seq."""
        h = Harness()
        red, blue, everyone = h.browser(), h.browser(), h.browser()
        h.subscribe(red, ("Players", ["==", "color", "red"]))
        h.subscribe(blue, ("Players", ["==", "color", "blue"]))
        h.subscribe(everyone, ("AllPlayers", None))
        old, new = {"id": 1, "color": "red"}, {"id": 1, "color": "blue"}
        h.publish(update(old, new))
        received = {
            name: [(e["message"]["seq"], e["message"]["delta"]) for e in c.sent]
            for name, c in [("red", red), ("blue", blue), ("everyone", everyone)]
        }
        (blue_seq, blue_delta), = received["blue"]
        (all_seq, all_delta), = received["everyone"]
        (red_seq, red_delta), = received["red"]
        self.assertEqual(
            [blue_delta, all_delta, red_delta], [insert(new), update(old, new), delete(old)]
        )
        self.assertEqual([blue_seq, all_seq, red_seq], [1, 2, 3])


class ReplayTests(TestCase):
    """
    acquireSubscription with ``after`` replays what a cut connection may
    have lost, exactly once, or says the subscription expired.
    """

    def setUp(self):
        self.h = Harness(grace_period=30)
        self.first = self.h.browser()
        self.token = self.h.subscribe(self.first, ("AllPlayers", None))

    def ids(self, client):
        """
        The ids of the deltas *client* received, checking seqs increase.
        """
        messages = [e["message"] for e in client.sent]
        client.sent.clear()
        seqs = [m["seq"] for m in messages]
        self.assertEqual(seqs, sorted(set(seqs)))
        return [m["delta"]["data"]["id"] for m in messages]

    def seq_of(self, client, index):
        return client.sent[index]["message"]["seq"]

    def test_in_flight_and_buffered_replayed(self):
        """Deltas after ``after``, sent before the cut or buffered since, arrive once, in order."""
        self.h.publish(*[insert({"id": n}) for n in range(1, 6)])
        # The browser only got the first three before its connection died.
        seen = self.seq_of(self.first, 2)
        self.h.disconnect(self.first)
        self.h.publish(insert({"id": 6}), insert({"id": 7}))
        second = self.h.browser()
        answer = self.h.acquire(second, self.token, after=seen)
        self.assertEqual(answer["type"], "response")
        self.h.publish(insert({"id": 8}))
        self.assertEqual(self.ids(second), [4, 5, 6, 7, 8])

    def test_response_first(self):
        """The replayed deltas come right after the response."""
        self.h.publish(insert({"id": 1}))
        self.h.disconnect(self.first)
        second = self.h.browser()
        self.h.front.process_frame(second, json.dumps({
            "service": "datasync",
            "message": {"command": "acquireSubscription",
                        "params": {"token": self.token, "after": 0}, "callId": 3},
        }))
        messages = [e["message"] for e in second.sent]
        self.assertEqual(messages[0], {"type": "response", "callId": 3, "data": None})
        self.assertEqual([m["delta"]["data"] for m in messages[1:]], [{"id": 1}])

    def test_exactly_once_over_many_reconnects(self):
        """Reconnecting again after a replay never repeats a delta."""
        client, received = self.first, []
        for n in range(4):
            self.h.publish(insert({"id": n}))
            last = client.sent[-1]["message"]["seq"]
            received += self.ids(client)
            self.h.disconnect(client)
            self.h.publish(insert({"id": 100 + n}))
            client = self.h.browser()
            self.assertEqual(
                self.h.acquire(client, self.token, after=last)["type"], "response"
            )
        received += self.ids(client)
        self.assertEqual(received, [0, 100, 1, 101, 2, 102, 3, 103])

    def test_without_after_only_buffer(self):
        """Without ``after``, only what was buffered since the disconnect arrives."""
        self.h.publish(insert({"id": 1}))
        self.h.disconnect(self.first)
        self.h.publish(insert({"id": 2}))
        second = self.h.browser()
        self.assertEqual(self.h.acquire(second, self.token)["type"], "response")
        self.assertEqual(self.ids(second), [2])

    def test_first_acquire_with_after(self):
        """``after`` on a first acquisition replays the buffered deltas after it."""
        token = self.h.authorize(("AllPlayers", None))
        self.first.sent.clear()
        self.h.publish(insert({"id": 1}), insert({"id": 2}))
        browser = self.h.browser()
        seq_of_first = self.seq_of(self.first, 0)
        answer = self.h.acquire(browser, token, after=seq_of_first)
        self.assertEqual(answer["type"], "response")
        self.assertEqual(self.ids(browser), [2])

    def test_evicted_expires(self):
        """An ``after`` older than the log reaches answers Subscription expired and drops it."""
        h = Harness(grace_period=30, max_replay=2)
        first = h.browser()
        token = h.subscribe(first, ("AllPlayers", None))
        h.publish(*[insert({"id": n}) for n in range(1, 5)])
        seqs = [e["message"]["seq"] for e in first.sent]
        h.disconnect(first)
        second = h.browser()
        self.assertEqual(
            h.acquire(second, token, after=seqs[0])["message"], "Subscription expired"
        )
        self.assertEqual(second.sent, [])
        self.assertEqual(h.acquire(second, token)["message"], "No such subscription")
        h.disconnect(second)
        h.assert_empty(self)

    def test_oldest_kept(self):
        """An ``after`` equal to the last evicted seq is still caught up."""
        h = Harness(grace_period=30, max_replay=2)
        first = h.browser()
        token = h.subscribe(first, ("AllPlayers", None))
        h.publish(*[insert({"id": n}) for n in range(1, 5)])
        seqs = [e["message"]["seq"] for e in first.sent]
        h.disconnect(first)
        second = h.browser()
        self.assertEqual(h.acquire(second, token, after=seqs[1])["type"], "response")
        self.assertEqual(self.ids(second), [3, 4])

    def test_no_replay_log(self):
        """With max_replay 0, only an ``after`` at the last seq sent is accepted."""
        h = Harness(grace_period=30, max_replay=0)
        first = h.browser()
        token = h.subscribe(first, ("AllPlayers", None))
        h.publish(insert({"id": 1}), insert({"id": 2}))
        seqs = [e["message"]["seq"] for e in first.sent]
        h.disconnect(first)
        second = h.browser()
        self.assertEqual(h.acquire(second, token, after=seqs[1])["type"], "response")
        self.assertEqual(second.sent, [])
        h.disconnect(second)
        answer = h.acquire(h.browser(), token, after=seqs[0])
        self.assertEqual(answer["message"], "Subscription expired")

    def test_invalid_after(self):
        """An ``after`` that is not an integer is refused and the token stays usable."""
        self.h.disconnect(self.first)
        browser = self.h.browser()
        for after in ["1", 1.5, True, None, [1], {"seq": 1}]:
            answer = self.h.acquire(browser, self.token, after=after)
            self.assertEqual(answer["message"], "Invalid params", after)
        self.assertEqual(self.h.acquire(browser, self.token, after=0)["type"], "response")

    def test_evicted_by_bytes_expires(self):
        """An ``after`` older than what max_replay_bytes keeps answers Subscription expired."""
        h = Harness(grace_period=30, max_replay_bytes=250)
        first = h.browser()
        token = h.subscribe(first, ("AllPlayers", None))
        h.publish(*[insert({"id": n, "text": "x" * 100}) for n in range(1, 5)])
        seqs = [e["message"]["seq"] for e in first.sent]
        h.disconnect(first)
        answer = h.acquire(h.browser(), token, after=seqs[0])
        self.assertEqual(answer["message"], "Subscription expired")

    def test_held_not_dropped(self):
        """A held subscription is not dropped by a stale ``after`` from another client."""
        self.h = Harness(grace_period=30, max_replay=1)
        holder = self.h.browser()
        token = self.h.subscribe(holder, ("AllPlayers", None))
        self.h.publish(insert({"id": 1}), insert({"id": 2}))
        answer = self.h.acquire(self.h.browser(), token, after=0)
        self.assertEqual(answer["message"], "Subscription already acquired")
        self.h.publish(insert({"id": 3}))
        self.assertEqual(self.ids(holder), [1, 2, 3])


class ProbedClient(RecordingClient):
    """
    A browser whose connection answers :meth:`probe` only when the test
    says, through the Deferreds in :attr:`probes`.
    """

    def __init__(self):
        super().__init__()
        self.probes = []

    def probe(self, timeout):
        probe = Deferred()
        self.probes.append((timeout, probe))
        return probe


class HolderProbeTests(TestCase):
    """
    A client re-acquiring with ``after`` a subscription that another
    connection holds gets it if that connection does not answer a probe.
    """

    def setUp(self):
        self.h = Harness(grace_period=30, holder_timeout=4)
        self.holder = ProbedClient()
        self.h.front.client_connected(self.holder)
        self.token = self.h.subscribe(self.holder, ("AllPlayers", None))
        self.h.publish(insert({"id": 1}), insert({"id": 2}))
        # The holder's connection died after the first delta; the server
        # has not noticed.
        self.seen = self.holder.sent[0]["message"]["seq"]
        self.newcomer = self.h.browser()

    def reacquire(self):
        frame = {"command": "acquireSubscription",
                 "params": {"token": self.token, "after": self.seen}, "callId": 7}
        self.h.front.process_frame(
            self.newcomer, json.dumps({"service": "datasync", "message": frame})
        )
        return [e["message"] for e in self.newcomer.sent]

    def test_unanswered_holder_let_go(self):
        """When the holder does not answer, the newcomer gets the subscription and what it missed."""
        self.assertEqual(self.reacquire(), [])
        [(timeout, probe)] = self.holder.probes
        self.assertEqual(timeout, 4)
        probe.callback(False)
        messages = [e["message"] for e in self.newcomer.sent]
        self.assertEqual(messages[0], {"type": "response", "callId": 7, "data": None})
        self.assertEqual([m["delta"]["data"] for m in messages[1:]], [{"id": 2}])
        self.assertEqual(self.h.frontend.subscriptions_by_client.keys(), {self.newcomer})
        self.holder.sent.clear()
        self.newcomer.sent.clear()
        self.h.publish(insert({"id": 3}))
        self.assertEqual(self.h.deltas(self.holder), [])
        self.assertEqual(self.h.deltas(self.newcomer), [insert({"id": 3})])

    def test_answering_holder_keeps_it(self):
        """A holder that answers keeps the subscription; the newcomer is told it is taken."""
        self.reacquire()
        self.holder.probes[0][1].callback(True)
        [answer] = [e["message"] for e in self.newcomer.sent]
        self.assertEqual(answer["message"], "Subscription already acquired")
        self.assertEqual(self.h.frontend.subscriptions_by_client.keys(), {self.holder})

    def test_without_after_no_probe(self):
        """Acquiring without ``after`` is refused at once, without probing the holder."""
        answer = self.h.acquire(self.newcomer, self.token)
        self.assertEqual(answer["message"], "Subscription already acquired")
        self.assertEqual(self.holder.probes, [])

    def test_zero_timeout_no_probe(self):
        """With holder_timeout 0 the holder is never probed and keeps the subscription."""
        h = Harness(grace_period=30, holder_timeout=0)
        holder = ProbedClient()
        h.front.client_connected(holder)
        token = h.subscribe(holder, ("AllPlayers", None))
        answer = h.acquire(h.browser(), token, after=0)
        self.assertEqual(answer["message"], "Subscription already acquired")
        self.assertEqual(holder.probes, [])

    def test_newcomer_gone_while_waiting(self):
        """A newcomer that disconnects before the probe ends gets nothing; the subscription waits."""
        self.reacquire()
        self.h.disconnect(self.newcomer)
        self.holder.probes[0][1].callback(False)
        self.assertEqual(self.h.frontend.subscriptions_by_client, {})
        subscription = self.h.frontend.find_subscription(self.token)
        self.assertIs(subscription.state, State.DETACHED)

    def test_negative_timeout_refused(self):
        """A negative holder_timeout is refused."""
        self.assertRaises(ValueError, DataSyncService, "datasync", holder_timeout=-1)


class SilentClient(RecordingClient):
    """
    A browser connection that died without the server noticing: from
    :meth:`die` on it receives nothing, and a probe gets no answer within
    its timeout, on *clock*.
    """

    def __init__(self, clock):
        super().__init__()
        self.clock = clock
        self.dead = False

    def die(self):
        self.dead = True

    def write_frame(self, frame):
        if not self.dead:
            super().write_frame(frame)

    def probe(self, timeout):
        answer = Deferred()
        self.clock.callLater(timeout, answer.callback, not self.dead)
        return answer


class TakeoverUnderLoadTests(TestCase):
    """
    With the default settings, a browser whose connection died silently
    resumes its subscription through the holder probe while deltas keep
    coming at 500 a second.
    """

    rate = 500

    def publish_for(self, h, seconds, first_id):
        """
        Publish one delta every 1/rate seconds of *h*'s clock for *seconds*;
        return the next id.
        """
        count = round(seconds * self.rate)
        for n in range(count):
            h.publish(insert({"id": first_id + n, "name": "player {}".format(n),
                              "color": "red", "score": n}))
            h.clock.advance(1 / self.rate)
        return first_id + count

    @staticmethod
    def reacquire(h, browser, token, after):
        """
        Have *browser* re-acquire *token* with *after*; the answer comes
        once the holder is dealt with.
        """
        frame = {"command": "acquireSubscription",
                 "params": {"token": token, "after": after}, "callId": 9}
        h.front.process_frame(browser, json.dumps({"service": "datasync", "message": frame}))

    def probing(self, **options):
        """
        A harness whose subscription is held by a ProbedClient and that a
        new browser is re-acquiring: ``(harness, holder, browser, token)``.
        """
        h = Harness(**options)
        holder = ProbedClient()
        h.front.client_connected(holder)
        token = h.subscribe(holder, ("AllPlayers", None))
        browser = h.browser()
        self.reacquire(h, browser, token, 0)
        return h, holder, browser, token

    def test_resume_through_dead_holder(self):
        """
        A holder dies after 1 s, the browser reconnects 1.5 s later and
        re-acquires with ``after`` while deltas keep coming; after the 5 s
        probe it gets every delta it missed (3,250, more than the 1,000
        messages of the replay log), in order, exactly once, and then the
        live ones; the log is then trimmed back to its bound.
        """
        h = Harness()
        self.assertEqual(h.frontend.holder_timeout, 5)
        holder = SilentClient(h.clock)
        h.front.client_connected(holder)
        token = h.subscribe(holder, ("AllPlayers", None))
        next_id = self.publish_for(h, 1, 0)
        holder.die()
        seen = holder.sent[-1]["message"]["seq"]
        next_id = self.publish_for(h, 1.5, next_id)
        browser = h.browser()
        self.reacquire(h, browser, token, seen)
        self.assertEqual(browser.sent, [])
        next_id = self.publish_for(h, 5, next_id)
        h.clock.advance(0.001)  # past the probe's 5 s, whatever the rounding
        messages = [e["message"] for e in browser.sent]
        self.assertEqual(messages[0], {"type": "response", "callId": 9, "data": None})
        ids = [m["delta"]["data"]["id"] for m in messages[1:]]
        self.assertEqual(ids, list(range(self.rate, next_id)))
        self.assertEqual(len(ids), 3250)
        self.assertEqual(h.frontend.find_subscription(token).logged, 1000)
        browser.sent.clear()
        self.publish_for(h, 0.01, next_id)
        self.assertEqual([d["data"]["id"] for d in h.deltas(browser)],
                         list(range(next_id, next_id + 5)))

    def test_answering_holder_log_trimmed(self):
        """
        When the probed holder answers, it keeps the subscription, the
        newcomer is refused, and the log kept during the probe is trimmed
        back to max_replay.
        """
        h, holder, browser, token = self.probing(max_replay=100)
        self.publish_for(h, 1, 0)
        subscription = h.frontend.find_subscription(token)
        self.assertEqual(subscription.logged, 500)
        holder.probes[0][1].callback(True)
        self.assertEqual(browser.pop()["message"]["message"], "Subscription already acquired")
        self.assertEqual(subscription.logged, 100)

    def test_failed_probe_unpins(self):
        """
        A probe that fails answers Internal error to the newcomer and leaves
        the log bounded again.
        """
        h, holder, browser, token = self.probing(max_replay=10)
        self.publish_for(h, 0.1, 0)
        holder.probes[0][1].errback(ZeroDivisionError())
        self.assertEqual(browser.pop()["message"]["message"], "Internal error")
        self.assertEqual(h.frontend.find_subscription(token).logged, 10)
        self.flushLoggedErrors(ZeroDivisionError)
