"""
Subscriptions: what a browser asked to be kept up to date about, and the
state of its delivery.

A :class:`Subscription` is created by the backend (authorization), linked
to a browser's connection by its token (acquisition), and buffers deltas
while nobody holds it::

    AWAITING --acquire--> ACTIVE --holder disconnects--> DETACHED
       |                    ^                               |
       |                    +-----------acquire-------------+
       +--buffer overflows--> EXPIRED <--buffer overflows---+

AWAITING, DETACHED and EXPIRED subscriptions end when their timer runs
out; any of them ends when cancelled (ENDED).

It also keeps a bounded log of the last delta messages sent or buffered
for it, each with its ``seq``, so that a holder whose connection died
with deltas still in flight can ask for everything after the last ``seq``
it saw (:meth:`Subscription.attach` with ``after``). The buffer and the
log are bounded both by a number of messages and by their total size in
bytes.
"""

import enum
from collections import deque
from typing import Any, Deque, List, Optional

from twisted.internet.interfaces import IDelayedCall

from snorky.client import Client

__all__ = [
    "State",
    "Subscription",
    "SubscriptionItem",
    "message_seq",
]


_SEQ = b'"seq":'


def message_seq(message: bytes) -> int:
    """
    The ``seq`` of an encoded delta message: the number after its last
    ``"seq":``, the member the service writes last.
    """
    start = message.rindex(_SEQ) + len(_SEQ)
    return int(message[start:].rstrip(b"} "))


class State(enum.Enum):
    """
    Where a subscription is in its life.
    """

    #: Authorized, not acquired yet; deltas are buffered.
    AWAITING = "awaiting"
    #: Held by a connected client; deltas are sent at once.
    ACTIVE = "active"
    #: Its holder disconnected; deltas are buffered for the grace period.
    DETACHED = "detached"
    #: Its buffer overflowed; it only remembers that, until its timer ends.
    EXPIRED = "expired"
    #: Gone from every table; nothing can reach it any more.
    ENDED = "ended"


class SubscriptionItem:
    """
    One ``(dealer, query)`` pair of a subscription; what dealers index.

    :ivar dealer: the :class:`~snorky.services.datasync.dealers.Dealer`.
    :ivar query: the query as the backend sent it.
    :ivar prepared: what the dealer's ``prepare_query`` made of it (a key,
        a compiled filter...).
    :ivar subscription: the :class:`Subscription` it belongs to.
    """

    __slots__ = ("dealer", "query", "prepared", "subscription")

    def __init__(self, dealer: Any, query: Any, prepared: Any = None) -> None:
        self.dealer = dealer
        self.query = query
        self.prepared = prepared
        self.subscription: Optional["Subscription"] = None

    def __repr__(self) -> str:
        return "<SubscriptionItem {} {!r}>".format(
            getattr(self.dealer, "name", self.dealer), self.query
        )


class Subscription:
    """
    A set of :class:`SubscriptionItem`, its token, its holder, its buffer
    and its replay log.

    :param max_replay: how many of the last delta messages the replay log
        keeps.
    :param max_replay_bytes: how many bytes of messages the replay log
        keeps at most; the oldest go first.
    :ivar token: the secret that lets a client acquire it.
    :ivar items: its items, in the order they were authorized.
    :ivar state: a :class:`State`.
    :ivar client: the holder while ACTIVE, else ``None``.
    :ivar timer: the pending drop while AWAITING, DETACHED or EXPIRED.
    """

    __slots__ = (
        "token",
        "items",
        "state",
        "client",
        "timer",
        "_evicted",
        "_buffer",
        "_buffer_bytes",
        "_log",
        "_room",
        "_max_replay",
        "_max_replay_bytes",
        "_pins",
    )

    def __init__(
        self,
        token: str,
        items: List[SubscriptionItem],
        max_replay: int = 1000,
        max_replay_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        self.token = token
        self.items = items
        for item in items:
            item.subscription = self
        self.state = State.AWAITING
        self.client: Optional[Client] = None
        self.timer: Optional[IDelayedCall] = None
        # Messages are kept as the service encoded them, bytes that the
        # garbage collector does not look into; the seq is read from them
        # only when a holder asks for a replay.
        self._evicted: Optional[bytes] = None
        self._buffer: List[bytes] = []
        self._buffer_bytes = 0
        # Evicting for the count is left to the deque, in C; only the byte
        # bound costs Python, as the bytes left (_room) of the budget.
        self._log: Deque[bytes] = deque(maxlen=max_replay)
        self._room = max_replay_bytes
        self._max_replay = max_replay
        self._max_replay_bytes = max_replay_bytes
        self._pins = 0

    @property
    def buffered(self) -> int:
        """
        How many messages wait for a holder.
        """
        return len(self._buffer)

    @property
    def buffered_bytes(self) -> int:
        """
        How many bytes of messages wait for a holder.
        """
        return self._buffer_bytes

    @property
    def logged(self) -> int:
        """
        How many messages the replay log holds.
        """
        return len(self._log)

    @property
    def logged_bytes(self) -> int:
        """
        How many bytes of messages the replay log holds.
        """
        return self._max_replay_bytes - self._room

    @property
    def evicted(self) -> Optional[int]:
        """
        The highest ``seq`` that fell out of the replay log, or ``None``; a
        holder that saw less than that cannot be caught up.
        """
        return None if self._evicted is None else message_seq(self._evicted)

    def record(self, message: bytes) -> None:
        """
        Add *message*, an encoded delta message with a ``seq`` higher than
        any recorded before, to the replay log, evicting the oldest ones
        while the log holds too many messages (unless pinned) or bytes.
        """
        log = self._log
        size = len(message)
        if len(log) == log.maxlen:
            # Full: appending drops the oldest, or, with no log at all,
            # the message itself is as good as evicted.
            if not log:
                self._evicted = message
                return
            first = log[0]
            self._evicted = first
            size -= len(first)
        log.append(message)
        self._room -= size
        if self._room < 0:
            self._evict()

    def pin_log(self) -> None:
        """
        Stop evicting messages for their number, until as many
        :meth:`unpin_log` calls; the byte bound still holds. Used while a
        newcomer waits for the holder to answer a probe, so that the wait
        does not eat into what it can be caught up from.
        """
        self._pins += 1
        if self._pins == 1:
            self._log = deque(self._log)

    def unpin_log(self) -> None:
        """
        Undo one :meth:`pin_log`; the log is trimmed to its bounds again
        when none is left.
        """
        self._pins -= 1
        if not self._pins:
            log = self._log
            while len(log) > self._max_replay:
                self._evicted = log.popleft()
                self._room += len(self._evicted)
            self._log = deque(log, maxlen=self._max_replay)

    def _evict(self) -> None:
        # Over the byte bound; a message too large for the log at all is
        # evicted at once, with every older one.
        log = self._log
        while self._room < 0:
            self._evicted = log.popleft()
            self._room += len(self._evicted)

    def buffer(
        self, message: bytes, limit: int, limit_bytes: Optional[int] = None
    ) -> bool:
        """
        Record *message* and keep it for the next holder.

        :param limit: the most messages the buffer may hold.
        :param limit_bytes: the most bytes of messages it may hold, if
            bounded.
        :returns: ``False`` if that would exceed either limit; the
            subscription is then EXPIRED and its buffer is freed.
        """
        size = len(message)
        if len(self._buffer) >= limit or (
            limit_bytes is not None and self._buffer_bytes + size > limit_bytes
        ):
            self.expire()
            return False
        self.record(message)
        self._buffer.append(message)
        self._buffer_bytes += size
        return True

    def expire(self) -> None:
        """
        Give up on this subscription's deltas; acquiring it now fails.
        """
        self.state = State.EXPIRED
        self._forget_messages()

    def end(self) -> None:
        """
        Let go of the holder, the messages and the timer.
        """
        self.cancel_timer()
        self.state = State.ENDED
        self.client = None
        self._forget_messages()

    def _forget_messages(self) -> None:
        self._buffer = []
        self._buffer_bytes = 0
        self._log.clear()
        self._room = self._max_replay_bytes

    def can_replay(self, after: int) -> bool:
        """
        Whether the log still holds every message with a ``seq`` above
        *after*.
        """
        return self._evicted is None or after >= message_seq(self._evicted)

    def attach(self, client: Client, after: Optional[int] = None) -> List[bytes]:
        """
        Make *client* the holder.

        :param after: the last ``seq`` the holder saw, if it says; check
            :meth:`can_replay` first.
        :returns: what it must be sent now, oldest first: the logged
            messages after *after* if given, else the buffered ones. The
            buffer is emptied either way.
        """
        self.state = State.ACTIVE
        self.client = client
        self.cancel_timer()
        buffered, self._buffer = self._buffer, []
        self._buffer_bytes = 0
        if after is None:
            return buffered
        newer = []
        # Newest first, reading seqs only as far back as needed.
        for message in reversed(self._log):
            if message_seq(message) <= after:
                break
            newer.append(message)
        newer.reverse()
        return newer

    def detach(self) -> None:
        """
        Forget the holder; deltas are buffered from now on.
        """
        self.state = State.DETACHED
        self.client = None

    def cancel_timer(self) -> None:
        """
        Cancel the pending drop, if any.
        """
        if self.timer is not None:
            if self.timer.active():
                self.timer.cancel()
            self.timer = None

    def __repr__(self) -> str:
        return "<Subscription {} {} items>".format(self.state.value, len(self.items))
