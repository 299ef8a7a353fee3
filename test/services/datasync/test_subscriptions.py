"""Tests for snorky.services.datasync.subscriptions."""

import gc

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.envelopes import encode
from snorky.services.datasync.deltas import InsertionDelta
from snorky.services.datasync.service import delta_message
from snorky.services.datasync.subscriptions import (
    State,
    Subscription,
    SubscriptionItem,
    message_seq,
)
from test.helpers import RecordingClient


def message(seq):
    """
    The encoded delta message numbered *seq*.
    """
    return b'{"message":{"seq":%d}}' % seq


class MessageSeqTests(TestCase):
    """
    The seq of an encoded delta message is read from its end.
    """

    def test_data_mentioning_seq(self):
        """Data holding its own "seq" members does not fool message_seq."""
        delta = InsertionDelta("Model", {"seq": 5, "text": '"seq":9}'})
        data = encode({"service": "datasync", "message": delta_message(delta, 42)})
        self.assertEqual(message_seq(data), 42)


class SubscriptionTests(TestCase):
    """
    A subscription buffers while unheld and hands the buffer to its holder.
    """

    def setUp(self):
        self.item = SubscriptionItem("dealer", "query")
        self.subscription = Subscription("token", [self.item])

    def test_items_linked(self):
        """Items know their subscription; a new one is AWAITING."""
        self.assertIs(self.item.subscription, self.subscription)
        self.assertIs(self.subscription.state, State.AWAITING)

    def test_buffer_then_attach(self):
        """Attaching returns the buffered messages in order and empties the buffer."""
        self.subscription.buffer(message(1), 10)
        self.subscription.buffer(message(2), 10)
        client = RecordingClient()
        self.assertEqual(self.subscription.attach(client), [message(1), message(2)])
        self.assertIs(self.subscription.state, State.ACTIVE)
        self.assertIs(self.subscription.client, client)
        self.assertEqual(self.subscription.buffered, 0)

    def test_overflow_expires(self):
        """Buffering past the limit expires the subscription and frees its buffer."""
        self.assertTrue(self.subscription.buffer(message(1), 1))
        self.assertFalse(self.subscription.buffer(message(2), 1))
        self.assertIs(self.subscription.state, State.EXPIRED)
        self.assertEqual(self.subscription.buffered, 0)

    def test_attach_cancels_timer(self):
        """Attaching cancels the pending drop."""
        clock = Clock()
        self.subscription.timer = clock.callLater(5, lambda: None)
        self.subscription.attach(RecordingClient())
        self.assertEqual(clock.getDelayedCalls(), [])
        self.assertIsNone(self.subscription.timer)

    def test_detach(self):
        """Detaching forgets the holder."""
        self.subscription.attach(RecordingClient())
        self.subscription.detach()
        self.assertIs(self.subscription.state, State.DETACHED)
        self.assertIsNone(self.subscription.client)

    def test_end(self):
        """Ending lets go of holder, buffer and timer."""
        clock = Clock()
        self.subscription.buffer(message(1), 10)
        self.subscription.timer = clock.callLater(5, lambda: None)
        self.subscription.end()
        self.assertIs(self.subscription.state, State.ENDED)
        self.assertEqual(self.subscription.buffered, 0)
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_cancel_fired_timer(self):
        """Cancelling a timer that already fired does not raise."""
        clock = Clock()
        self.subscription.timer = clock.callLater(1, lambda: None)
        clock.advance(1)
        self.subscription.cancel_timer()
        self.assertIsNone(self.subscription.timer)


class ReplayLogTests(TestCase):
    """
    A subscription logs the last delta messages for replay and remembers
    the highest seq it let go of.
    """

    def test_replay_after(self):
        """Attaching with ``after`` returns the logged messages above it and empties the buffer."""
        subscription = Subscription("token", [], max_replay=10)
        subscription.attach(RecordingClient())
        subscription.record(message(1))
        subscription.record(message(2))
        subscription.detach()
        subscription.buffer(message(3), 10)
        self.assertEqual(
            subscription.attach(RecordingClient(), after=1), [message(2), message(3)]
        )
        self.assertEqual(subscription.buffered, 0)
        self.assertEqual(subscription.logged, 3)

    def test_eviction(self):
        """A full log drops its oldest message and remembers that message's seq."""
        subscription = Subscription("token", [], max_replay=2)
        for seq in (1, 2, 3):
            subscription.record(message(seq))
        self.assertEqual((subscription.logged, subscription.evicted), (2, 1))
        self.assertFalse(subscription.can_replay(0))
        self.assertTrue(subscription.can_replay(1))
        self.assertEqual(subscription.attach(RecordingClient(), after=1),
                         [message(2), message(3)])

    def test_ring_order(self):
        """A log that has wrapped around several times replays its messages oldest first."""
        subscription = Subscription("token", [], max_replay=3)
        for seq in range(1, 9):
            subscription.record(message(seq))
        self.assertEqual(subscription.evicted, 5)
        self.assertEqual(subscription.attach(RecordingClient(), after=5),
                         [message(6), message(7), message(8)])

    def test_log_not_scanned_by_gc(self):
        """Logging encoded messages adds nothing the garbage collector has to scan."""

        def tracked(subscription):
            return sum(
                gc.is_tracked(inner)
                for held in gc.get_referents(subscription)
                if gc.is_tracked(held)
                for inner in gc.get_referents(held)
            )

        subscription = Subscription("token", [], max_replay=1000)
        subscription.attach(RecordingClient())
        empty = tracked(subscription)
        for seq in range(1, 1001):
            subscription.record(message(seq))
        self.assertEqual(subscription.logged, 1000)
        self.assertEqual(tracked(subscription), empty)

    def test_empty_log(self):
        """With no log at all, every recorded seq counts as evicted."""
        subscription = Subscription("token", [], max_replay=0)
        subscription.record(message(4))
        self.assertEqual((subscription.logged, subscription.evicted), (0, 4))
        self.assertTrue(subscription.can_replay(4))
        self.assertFalse(subscription.can_replay(3))

    def test_eviction_by_bytes(self):
        """
        A log over max_replay_bytes drops its oldest messages, however few
        it holds, and keeps its byte count.
        """
        size = len(message(1))
        subscription = Subscription("token", [], max_replay=100,
                                    max_replay_bytes=2 * size)
        for seq in (1, 2, 3):
            subscription.record(message(seq))
        self.assertEqual((subscription.logged, subscription.logged_bytes), (2, 2 * size))
        self.assertEqual(subscription.evicted, 1)
        self.assertEqual(subscription.attach(RecordingClient(), after=1),
                         [message(2), message(3)])

    def test_message_larger_than_log(self):
        """A message larger than max_replay_bytes is evicted at once, with every older one."""
        subscription = Subscription("token", [], max_replay=100, max_replay_bytes=30)
        subscription.record(message(1))
        subscription.record(b'{"message":{"big":"' + b"x" * 30 + b'","seq":2}}')
        self.assertEqual((subscription.logged, subscription.logged_bytes), (0, 0))
        self.assertEqual(subscription.evicted, 2)
        subscription.record(message(3))
        self.assertEqual((subscription.logged, subscription.evicted), (1, 2))

    def test_pinned_log(self):
        """
        A pinned log keeps more than max_replay messages, but never more
        than max_replay_bytes; unpinning the last pin trims it.
        """
        size = len(message(1))
        subscription = Subscription("token", [], max_replay=2, max_replay_bytes=5 * size)
        subscription.pin_log()
        subscription.pin_log()
        for seq in range(1, 5):
            subscription.record(message(seq))
        self.assertEqual((subscription.logged, subscription.evicted), (4, None))
        for seq in range(5, 8):
            subscription.record(message(seq))
        self.assertEqual((subscription.logged, subscription.evicted), (5, 2))
        subscription.unpin_log()
        self.assertEqual(subscription.logged, 5)
        subscription.unpin_log()
        self.assertEqual((subscription.logged, subscription.evicted), (2, 5))

    def test_buffer_bounded_by_bytes(self):
        """
        A message that would take the buffer over its byte limit expires
        the subscription and frees both the buffer and the log.
        """
        size = len(message(1))
        subscription = Subscription("token", [])
        self.assertTrue(subscription.buffer(message(1), 10, 2 * size))
        self.assertTrue(subscription.buffer(message(2), 10, 2 * size))
        self.assertEqual(subscription.buffered_bytes, 2 * size)
        self.assertFalse(subscription.buffer(message(3), 10, 2 * size))
        self.assertIs(subscription.state, State.EXPIRED)
        self.assertEqual(
            (subscription.buffered, subscription.buffered_bytes,
             subscription.logged, subscription.logged_bytes),
            (0, 0, 0, 0),
        )

    def test_attach_empties_buffer_bytes(self):
        """Attaching hands over the buffer and counts its bytes as gone."""
        subscription = Subscription("token", [])
        subscription.buffer(message(1), 10, 1000)
        self.assertEqual(subscription.attach(RecordingClient()), [message(1)])
        self.assertEqual(subscription.buffered_bytes, 0)
        self.assertEqual(subscription.logged_bytes, len(message(1)))

    def test_expire_and_end_free_log(self):
        """Expiring or ending a subscription empties its log."""
        for finish in (Subscription.expire, Subscription.end):
            subscription = Subscription("token", [])
            subscription.buffer(message(1), 10)
            finish(subscription)
            self.assertEqual((subscription.logged, subscription.buffered), (0, 0))
