"""Tests for snorky.services.datasync.subscriptions."""

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.services.datasync.subscriptions import (
    State,
    Subscription,
    SubscriptionItem,
    new_token,
    token_lookup_key,
)
from test.helpers import RecordingClient


class TokenTests(TestCase):
    """
    Tokens are unguessable and looked up by a prefix.
    """

    def test_length(self):
        """A token holds at least 128 random bits (43 URL-safe characters)."""
        self.assertGreaterEqual(len(new_token()), 43)

    def test_unique(self):
        """Fresh tokens differ."""
        self.assertEqual(len({new_token() for _ in range(1000)}), 1000)

    def test_lookup_key(self):
        """The lookup key is a strict prefix of the token."""
        token = new_token()
        key = token_lookup_key(token)
        self.assertTrue(token.startswith(key))
        self.assertLess(len(key), len(token))


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
        self.subscription.buffer("a", 10)
        self.subscription.buffer("b", 10)
        client = RecordingClient()
        self.assertEqual(self.subscription.attach(client), ["a", "b"])
        self.assertIs(self.subscription.state, State.ACTIVE)
        self.assertIs(self.subscription.client, client)
        self.assertEqual(self.subscription.buffered, 0)

    def test_overflow_expires(self):
        """Buffering past the limit expires the subscription and frees its buffer."""
        self.assertTrue(self.subscription.buffer("a", 1))
        self.assertFalse(self.subscription.buffer("b", 1))
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
        self.subscription.buffer("a", 10)
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
