"""Tests for snorky.transports.wsserver.writebuffer."""

from typing import List

from twisted.trial.unittest import TestCase

from snorky.transports.wsserver.writebuffer import WriteBufferWatch


class WriteBufferWatchTests(TestCase):
    """
    Tests for WriteBufferWatch.
    """

    def setUp(self) -> None:
        self.overflows: List[None] = []
        self.watch = WriteBufferWatch(100, lambda: self.overflows.append(None))

    def test_counts_only_while_paused(self) -> None:
        """
        Bytes written while the transport is not backed up do not count;
        once paused, more than the limit calls overflow, once.
        """
        self.watch.wrote(1000)
        self.watch.pauseProducing()
        self.watch.wrote(100)
        self.assertEqual(self.overflows, [])
        self.watch.wrote(1)
        self.watch.wrote(1000)
        self.assertEqual(self.overflows, [None])

    def test_resume_resets(self) -> None:
        """
        Bytes written before the buffer drained no longer count.
        """
        self.watch.pauseProducing()
        self.watch.wrote(90)
        self.watch.resumeProducing()
        self.watch.pauseProducing()
        self.watch.wrote(90)
        self.assertEqual(self.overflows, [])

    def test_released(self) -> None:
        """
        A released watch calls nothing any more.
        """
        self.watch.pauseProducing()
        self.watch.release()
        self.watch.wrote(1000)
        self.assertEqual(self.overflows, [])
