"""Tests for snorky.transports.wsserver.writes: both sides of the write policy, on a Clock."""

from typing import List, Optional

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.transports.wsserver.writes import WriteRounds


class FakeWriter:
    """
    A connection that records when it was written.
    """

    write_due: Optional[int] = None
    last_write = float("-inf")

    def __init__(self, clock: Clock, log: List[float]) -> None:
        self.clock = clock
        self.log = log

    def flush(self) -> None:
        self.write_due = None
        self.last_write = self.clock.seconds()
        self.log.append(self.clock.seconds())


class WriteRoundsTests(TestCase):
    """
    Tests for WriteRounds: answers at the end of the turn, fan-out
    coalesced only on busy connections.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.rounds = WriteRounds(self.clock, 0.02)
        self.log: List[float] = []
        self.writer = FakeWriter(self.clock, self.log)

    def test_answer_at_end_of_turn(self) -> None:
        """
        An answer is written at the end of the turn, once however many
        were queued in it, even on a connection written to just before.
        """
        self.rounds.answer(self.writer)
        self.rounds.answer(self.writer)
        self.assertEqual(self.log, [])
        self.clock.advance(0)
        self.assertEqual(self.log, [0])
        self.clock.advance(0.001)
        self.rounds.answer(self.writer)
        self.clock.advance(0)
        self.assertEqual(self.log, [0, 0.001])

    def test_idle_fan_out_at_end_of_turn(self) -> None:
        """
        A fan-out message to a connection not written to within
        write_delay costs no delay.
        """
        self.clock.advance(5)
        self.rounds.fan_out(self.writer)
        self.clock.advance(0)
        self.assertEqual(self.log, [5])

    def test_busy_fan_out_waits_for_round(self) -> None:
        """
        Fan-out messages to a connection written to less than write_delay
        ago wait for write_delay after that write, and share one write.
        """
        self.rounds.fan_out(self.writer)
        self.clock.advance(0)
        self.clock.advance(0.005)
        self.rounds.fan_out(self.writer)
        self.clock.advance(0.005)
        self.rounds.fan_out(self.writer)
        self.clock.advance(0.009)
        self.assertEqual(self.log, [0])
        self.clock.advance(0.001)
        self.assertEqual(len(self.log), 2)
        self.assertAlmostEqual(self.log[1], 0.02)

    def test_answer_overtakes_round(self) -> None:
        """
        An answer on a connection waiting for a round is written at the
        end of the turn, and the round then has nothing left to write.
        """
        self.rounds.fan_out(self.writer)
        self.clock.advance(0)
        self.clock.advance(0.005)
        self.rounds.fan_out(self.writer)
        self.rounds.answer(self.writer)
        self.clock.advance(0)
        self.assertEqual(self.log, [0, 0.005])
        self.clock.advance(0.1)
        self.assertEqual(self.log, [0, 0.005])

    def test_round_shared_by_connections(self) -> None:
        """
        Busy connections are written in one round, each once.
        """
        writers = [FakeWriter(self.clock, self.log) for _ in range(3)]
        for writer in writers:
            self.rounds.fan_out(writer)
        self.clock.advance(0)
        self.clock.advance(0.001)
        for writer in writers + writers:
            self.rounds.fan_out(writer)
        self.clock.advance(0.019)
        self.assertEqual(len(self.log), 6)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_no_delay(self) -> None:
        """
        With a write_delay of 0 every fan-out goes at the end of the turn.
        """
        rounds = WriteRounds(self.clock, 0)
        rounds.fan_out(self.writer)
        self.clock.advance(0)
        rounds.fan_out(self.writer)
        self.clock.advance(0)
        self.assertEqual(self.log, [0, 0])

    def test_last_call(self) -> None:
        """
        last_call is the round when one is due, else the end of the turn,
        else None.
        """
        self.assertIsNone(self.rounds.last_call())
        self.rounds.answer(self.writer)
        turn = self.rounds.last_call()
        self.assertEqual(turn.getTime(), 0)  # type: ignore[union-attr]
        self.clock.advance(0)
        self.rounds.fan_out(self.writer)
        self.assertAlmostEqual(self.rounds.last_call().getTime(), 0.02)  # type: ignore[union-attr]

    def test_discard(self) -> None:
        """
        A discarded connection is not written, and a call left with
        nothing to write is cancelled.
        """
        other = FakeWriter(self.clock, self.log)
        self.rounds.fan_out(self.writer)
        self.rounds.answer(other)
        self.clock.advance(0)
        self.clock.advance(0.001)
        self.rounds.fan_out(self.writer)
        self.rounds.answer(other)
        self.rounds.discard(other)
        self.rounds.discard(self.writer)
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertEqual(self.log, [0, 0])
