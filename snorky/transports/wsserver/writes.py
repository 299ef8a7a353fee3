"""
`WriteRounds`: when the messages queued on a factory's connections are
written.

Two kinds of traffic want different things. A client waiting for an
answer (an RPC response, an error, a replay: anything sent to it alone)
wants it now; a fan-out (one message to many clients) is cheapest when a
connection's messages are written together, one system call for many. So:

* an **answer** is written at the end of the reactor turn that produced
  it, with whatever else is queued on its connection by then;
* a **fan-out** message to a connection that was not written to within
  ``write_delay`` is also written at the end of the turn: an idle
  connection pays nothing;
* a fan-out message to a connection written to less than ``write_delay``
  ago (a busy one) waits for the next *round*, ``write_delay`` after that
  write, and goes out with every other message queued by then.

"At the end of the turn" is a ``callLater(0)``: every frame the reactor
read in this turn is processed first, so answers to requests that arrived
together still share one write per connection.
"""

from typing import Any, Dict, Iterable, Optional, Protocol

from twisted.internet.interfaces import IDelayedCall, IReactorTime

__all__ = ["Writer", "WriteRounds", "DUE_TURN", "DUE_ROUND"]

#: A connection's queue is to be written at the end of this turn.
DUE_TURN = 1
#: A connection's queue is to be written at the next round.
DUE_ROUND = 2


class Writer(Protocol):
    """
    A connection whose queued messages :class:`WriteRounds` schedules.

    :ivar write_due: ``None`` while nothing is scheduled, else
        :data:`DUE_TURN` or :data:`DUE_ROUND`; :meth:`flush` resets it.
    :ivar last_write: when the queue was last written
        (``IReactorTime.seconds``).
    """

    write_due: Optional[int]
    last_write: float

    def flush(self) -> None:
        """
        Write everything queued, at once.
        """


class WriteRounds:
    """
    The write schedule of one factory's connections, on *reactor*.

    :param write_delay: seconds between two writes of a busy connection's
        fan-out messages.
    """

    def __init__(self, reactor: IReactorTime, write_delay: float) -> None:
        self._reactor = reactor
        self._delay = write_delay
        # Dicts as ordered sets: a lost connection leaves in O(1).
        self._turn: Dict[Writer, None] = {}
        self._turn_call: Optional[IDelayedCall] = None
        self._round: Dict[Writer, None] = {}
        self._round_call: Optional[IDelayedCall] = None

    def answer(self, writer: Writer) -> None:
        """
        Have *writer* written at the end of this reactor turn.
        """
        if writer.write_due == DUE_TURN:
            return
        writer.write_due = DUE_TURN
        self._turn[writer] = None
        if self._turn_call is None:
            self._turn_call = self._reactor.callLater(0, self._end_turn)

    def fan_out(self, writer: Writer) -> None:
        """
        Have *writer* written at the end of this turn if it is not busy,
        else at the next round.
        """
        if writer.write_due is not None:
            return
        now = self._reactor.seconds()
        due = writer.last_write + self._delay
        if due <= now:
            self.answer(writer)
            return
        writer.write_due = DUE_ROUND
        self._round[writer] = None
        if self._round_call is None:
            self._round_call = self._reactor.callLater(due - now, self._end_round)

    def last_call(self) -> Optional[IDelayedCall]:
        """
        The scheduled call after which everything queued so far is
        written (the round, if one is due), or ``None``.
        """
        for call in (self._round_call, self._turn_call):
            if call is not None and call.active():
                return call
        return None

    def discard(self, writer: Writer) -> None:
        """
        Forget *writer*, whose connection is lost; a call left with nothing
        to write is cancelled.
        """
        writer.write_due = None
        self._turn.pop(writer, None)
        self._round.pop(writer, None)
        if not self._turn and self._turn_call is not None:
            self._turn_call.cancel()
            self._turn_call = None
        if not self._round and self._round_call is not None:
            self._round_call.cancel()
            self._round_call = None

    def _end_turn(self) -> None:
        self._turn_call = None
        writers, self._turn = self._turn, {}
        _flush_all(writers)

    def _end_round(self) -> None:
        self._round_call = None
        writers, self._round = self._round, {}
        _flush_all(writers)


def _flush_all(writers: Iterable[Any]) -> None:
    for writer in writers:
        # A writer written since it was scheduled (an answer, a close, a
        # full queue) has nothing left for this call.
        if writer.write_due is not None:
            writer.flush()
