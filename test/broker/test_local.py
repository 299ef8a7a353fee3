"""
Tests for snorky.broker.local: the in-process broker's topics, logs and
records, on a Clock.
"""

from typing import List, Tuple

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.broker import BrokerUnavailable, HistoryExpired, InProcessBroker, LogFollower


class Recorder(LogFollower):
    """
    Keeps every entry handed to it.
    """

    def __init__(self) -> None:
        self.entries: List[Tuple[int, bytes]] = []

    def entry(self, seq: int, payload: bytes) -> None:
        self.entries.append((seq, payload))


class InProcessBrokerTests(TestCase):
    """
    Tests for :class:`InProcessBroker`.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.broker = InProcessBroker(
            shared=True, max_log_length=3, max_log_age=60, reactor=self.clock
        )

    def test_topic_reaches_listeners_in_order(self) -> None:
        """
        Payloads published on a topic reach each of its listeners once, in order.
        """
        got: List[bytes] = []
        other: List[bytes] = []
        self.broker.listen("t", got.append)
        self.broker.listen("u", other.append)
        self.broker.publish("t", b"1")
        self.broker.publish("t", b"2")
        self.assertEqual(got, [b"1", b"2"])
        self.assertEqual(other, [])

    def test_unlisten(self) -> None:
        """
        A receiver that stopped listening gets nothing more.
        """
        got: List[bytes] = []
        self.broker.listen("t", got.append)
        self.broker.unlisten("t", got.append)
        self.broker.publish("t", b"1")
        self.assertEqual(got, [])

    def test_log_numbers_and_follows(self) -> None:
        """
        Appended payloads are numbered consecutively and handed to followers.
        """
        follower = Recorder()
        self.broker.follow("d", follower)
        self.assertEqual(self.successResultOf(self.broker.append("d", [b"a", b"b"])), 1)
        self.assertEqual(self.successResultOf(self.broker.append("d", [b"c"])), 3)
        self.assertEqual(follower.entries, [(1, b"a"), (2, b"b"), (3, b"c")])
        self.assertEqual(self.broker.position("d"), 3)

    def test_read_within_retention(self) -> None:
        """
        Reading a range still retained answers its entries.
        """
        self.broker.append("d", [b"a", b"b", b"c"])
        self.assertEqual(
            self.successResultOf(self.broker.read("d", 1, 3)), [(2, b"b"), (3, b"c")]
        )

    def test_read_beyond_length(self) -> None:
        """
        Reading entries that the length cap dropped fails with HistoryExpired.
        """
        self.broker.append("d", [b"a", b"b", b"c", b"d"])
        self.failureResultOf(self.broker.read("d", 0, 4), HistoryExpired)
        self.assertEqual(len(self.successResultOf(self.broker.read("d", 1, 4))), 3)

    def test_read_beyond_age(self) -> None:
        """
        Entries older than the age cap are no longer retained.
        """
        self.broker.append("d", [b"a"])
        self.clock.advance(61)
        self.failureResultOf(self.broker.read("d", 0, 1), HistoryExpired)

    def test_records_expire(self) -> None:
        """
        A record is stored with the log's position and expires after its ttl.
        """
        self.broker.append("d", [b"a"])
        self.assertEqual(self.successResultOf(self.broker.create_record("k", b"v", 10, "d")), 1)
        self.assertEqual(self.successResultOf(self.broker.get_record("k")), b"1\nv")
        self.clock.advance(10)
        self.assertIsNone(self.successResultOf(self.broker.get_record("k")))

    def test_swap_record(self) -> None:
        """
        A record is replaced only if it holds the expected value; None means absent.
        """
        self.assertTrue(self.successResultOf(self.broker.swap_record("k", None, b"a", 10)))
        self.assertFalse(self.successResultOf(self.broker.swap_record("k", None, b"b", 10)))
        self.assertFalse(self.successResultOf(self.broker.swap_record("k", b"x", b"b", 10)))
        self.assertTrue(self.successResultOf(self.broker.swap_record("k", b"a", None, 10)))
        self.assertIsNone(self.successResultOf(self.broker.get_record("k")))

    def test_touch_records(self) -> None:
        """
        Touching a record gives it a new expiry.
        """
        self.broker.swap_record("k", None, b"a", 10)
        self.clock.advance(9)
        self.broker.touch_records(["k", "missing"], 10)
        self.clock.advance(9)
        self.assertEqual(self.successResultOf(self.broker.get_record("k")), b"a")

    def test_unavailable(self) -> None:
        """
        A switched-off broker fails every operation with BrokerUnavailable.
        """
        self.broker.available = False
        self.failureResultOf(self.broker.publish("t", b"x"), BrokerUnavailable)
        self.failureResultOf(self.broker.append("d", [b"x"]), BrokerUnavailable)
        self.failureResultOf(self.broker.get_record("k"), BrokerUnavailable)
