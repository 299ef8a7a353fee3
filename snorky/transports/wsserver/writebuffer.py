"""`WriteBufferWatch`: the bound on bytes waiting to be sent to one peer."""

from typing import Callable, Optional

from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

__all__ = ["WriteBufferWatch"]


@implementer(IPushProducer)
class WriteBufferWatch:
    """
    Registered as the streaming producer of one connection, so that its
    transport says when the outgoing buffer is full (``pauseProducing``)
    and when it has drained (``resumeProducing``). Bytes written in between
    are waiting in the buffer; when they exceed *limit*, *overflow* is
    called once.
    """

    def __init__(self, limit: int, overflow: Callable[[], None]) -> None:
        self._limit = limit
        self._overflow: Optional[Callable[[], None]] = overflow
        self._paused = False
        self._waiting = 0

    def pauseProducing(self) -> None:
        self._paused = True

    def resumeProducing(self) -> None:
        self._paused = False
        self._waiting = 0

    def stopProducing(self) -> None:
        self._paused = False

    def wrote(self, size: int) -> None:
        """
        Account for *size* bytes just written to the transport.
        """
        if not self._paused or self._overflow is None:
            return
        self._waiting += size
        if self._waiting > self._limit:
            overflow, self._overflow = self._overflow, None
            overflow()

    def release(self) -> None:
        """
        Stop watching and forget the overflow callback, which refers back
        to the connection, so that neither keeps the other alive.
        """
        self._overflow = None
