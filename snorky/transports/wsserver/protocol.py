"""
`ServerProtocol`: what every Snorky WebSocket connection shares, whichever
URL it came through (``/ws``, SockJS's ``/websocket`` and
``/<server>/<session>/websocket``).

Autobahn calls ``connectionMade``, ``onConnect``, ``onOpen``, ``onPing``,
``onPong``, ``onCloseFrame`` and ``connectionLost``; subclasses add
``onMessage`` and ``onClose`` and, to send, call :meth:`send_prepared`;
the factory's :class:`~.connections.ConnectionSet` calls
:meth:`close_connection` and :meth:`abort_connection`.
"""

import socket
from typing import TYPE_CHECKING, Any, List, Optional

from autobahn.twisted.websocket import WebSocketServerProtocol
from autobahn.util import encode_truncate
from autobahn.websocket.protocol import PreparedMessage
from autobahn.websocket.types import ConnectionDeny
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from snorky.transports._addresses import address_text
from snorky.transports.wsserver import sockets
from snorky.transports.wsserver.pings import PingBudget
from snorky.transports.wsserver.probe import PingProbe
from snorky.transports.wsserver.writebuffer import WriteBufferWatch
from snorky.transports.wsserver.writes import DUE_TURN

if TYPE_CHECKING:
    from snorky.transports.wsserver.factory import ServerFactory

__all__ = ["ServerProtocol", "CLOSE_POLICY_VIOLATION", "CLOSE_PROTOCOL_ERROR"]

_log = Logger()

#: Close code for a peer breaking a rule of ours (RFC 6455, 7.4.1).
CLOSE_POLICY_VIOLATION = 1008
#: Close code for a frame that breaks the protocol (RFC 6455, 7.4.1).
CLOSE_PROTOCOL_ERROR = 1002


class ServerProtocol(PingProbe, WebSocketServerProtocol):  # type: ignore[misc]
    """
    One WebSocket connection with Snorky's limits: the connection limit of
    its :class:`~.connections.ConnectionSet`, the write bound (every byte
    written while the socket is backed up counts, control frames
    included), the ping rate, 1002 for invalid close frames, the write
    policy of :mod:`.writes`, and nothing left holding memory once the
    connection is lost.

    :ivar peer_address: the peer's address as text, once connected.
    """

    factory: "ServerFactory"
    peer_address: Optional[str] = None
    #: Messages waiting to be written, and their size in bytes. The list
    #: lasts as long as the connection: a new one per write made the
    #: garbage collector run every few milliseconds under a fan-out.
    _pending: List[bytes]
    _pending_size = 0
    #: For WriteRounds: when the queue is to be written, and when it was.
    write_due: Optional[int] = None
    last_write = float("-inf")
    _write_watch: Optional[WriteBufferWatch] = None
    _pings: Optional[PingBudget] = None
    #: The connection's socket, when frames may be written to it directly.
    _socket: Optional[socket.socket] = None

    # Autobahn's side.

    def connectionMade(self) -> None:
        self._pending = []
        transport: Any = self.transport
        self.peer_address = address_text(transport.getPeer())
        super().connectionMade()
        self.factory.connections.add(self)

    def onConnect(self, request: object) -> None:
        if self.factory.connections.full():
            self.factory.connections_refused += 1
            raise ConnectionDeny(503, "Too many connections")

    def onOpen(self) -> None:
        options = self.factory.options
        self._write_watch = WriteBufferWatch(
            options.max_write_buffer, self._drop_slow_consumer
        )
        transport: Any = self.transport
        try:
            transport.registerProducer(self._write_watch, True)
        except RuntimeError:
            # Inside a twisted.web Site, the HTTP channel that handed this
            # connection over is still registered as its producer, and has
            # no further use for it.
            transport.unregisterProducer()
            transport.registerProducer(self._write_watch, True)
        self._pings = PingBudget(options.max_ping_rate, self.factory.reactor)
        self._socket = sockets.direct_socket(self.transport)

    def onPing(self, payload: bytes) -> None:
        if self._pings is not None and not self._pings.allow():
            self._pings = None
            self.close_connection(CLOSE_POLICY_VIOLATION, "Too many pings")
            return
        super().onPing(payload)

    def onCloseFrame(self, code: Optional[int], reasonRaw: Optional[bytes]) -> Optional[bool]:
        if self.state == self.STATE_OPEN and not _valid_close(code, reasonRaw):
            self.failedByMe = True
            self.close_connection(CLOSE_PROTOCOL_ERROR, "Invalid close frame")
        if self.state == self.STATE_CLOSING and self.failedByMe:
            # We failed the connection (just now, or on a 1-byte close
            # frame): this close is not an answer to ours, and Autobahn
            # would abort the connection, so that ours might never arrive.
            # Close gracefully instead: ours goes out first.
            self.dropConnection(abort=False)
            return True
        # (Autobahn calls this with None for either; its annotation says not.)
        return super().onCloseFrame(code, reasonRaw)  # type: ignore[arg-type]

    def sendData(self, data: bytes, sync: bool = False, chopsize: Optional[int] = None) -> None:
        # Autobahn's own frames (pongs, pings, close, handshake) count
        # against the write bound like messages.
        super().sendData(data, sync, chopsize)
        if self._write_watch is not None:
            self._write_watch.wrote(len(data))

    def sendCloseFrame(
        self, code: Optional[int] = None, reasonUtf8: Optional[bytes] = None,
        isReply: bool = False,
    ) -> None:
        # Messages queued before the close frame go out before it.
        self.flush()
        super().sendCloseFrame(code, reasonUtf8, isReply)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        try:
            super().connectionLost(reason)
        finally:
            # Autobahn leaves this timer running when the peer goes before
            # answering our close frame.
            if self.closeHandshakeTimeoutCall is not None:
                self.closeHandshakeTimeoutCall.cancel()
                self.closeHandshakeTimeoutCall = None
            self._probe_answered(False)
            self.factory.connections.discard(self)
            self.factory.writes.discard(self)
            self._release()

    def _release(self) -> None:
        """
        Let go of every buffer the connection holds, and of the references
        that made cycles through it, so that its memory returns now rather
        than at the next full garbage collection (which may not come for
        long: long-lived connections live in the oldest generation).
        """
        self._pending = []
        self._pending_size = 0
        self._socket = None
        if self._write_watch is not None:
            self._write_watch.release()
            self._write_watch = None
        # Autobahn's receive buffers: a message being received may be as
        # large as max_message_size.
        self.data = b""
        self.message_data = []
        self.frame_data = []
        self.control_frame_data = []
        send_queue = getattr(self, "send_queue", None)
        if send_queue:
            send_queue.clear()
        sockets.discard_buffered(self.transport)

    # The write path.

    def send_prepared(self, prepared: PreparedMessage, answer: bool = False) -> None:
        """
        Queue a message prepared by the factory, unless the connection is
        closing, to be written as :mod:`.writes` says: at the end of the
        turn for an *answer*, else as a fan-out. A queue beyond
        ``max_write_buffer`` bytes is written at once.
        """
        pending = self._pending
        if pending:
            # The fast path of a fan-out: the queue is scheduled already,
            # and the state was checked when it was started (a close since
            # then wrote it, a drop discards it).
            data = prepared.payloadHybi
            pending.append(data)
            self._pending_size += len(data)
            if self._pending_size > self.factory.options.max_write_buffer:
                self.flush()
            elif answer and self.write_due != DUE_TURN:
                self.factory.writes.answer(self)
            return
        if self.state != self.STATE_OPEN:
            return
        if self._perMessageCompress is not None:
            # Compressed messages are framed per connection by Autobahn.
            self.sendPreparedMessage(prepared)
            return
        data = prepared.payloadHybi
        pending.append(data)
        self._pending_size = len(data)
        if self._pending_size > self.factory.options.max_write_buffer:
            self.flush()
        elif answer:
            self.factory.writes.answer(self)
        else:
            self.factory.writes.fan_out(self)

    def flush(self) -> None:
        """
        Write the queued messages, in one write; drops the connection if its
        outgoing buffer overflows.
        """
        self.write_due = None
        pending = self._pending
        if not pending:
            return
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        factory = self.factory
        factory.frames_out += len(pending)
        factory.bytes_out += len(data)
        pending.clear()
        self._pending_size = 0
        if self.state != self.STATE_OPEN:
            return
        self.last_write = factory.reactor.seconds()
        transport: Any = self.transport
        if self.send_queue:
            self.sendData(data)
            return
        if self._socket is not None and sockets.nothing_buffered(transport):
            # See snorky.transports.wsserver.sockets for why. What the
            # kernel does not take is buffered by Twisted as usual.
            try:
                sent = self._socket.send(data)
            except OSError:
                # Twisted's own write then meets the error and reports it.
                sent = 0
            if sent < len(data):
                transport.write(data[sent:])
        else:
            # What sendData does in this case, minus the debug log line
            # Autobahn formats on every send even when debug logging is
            # off: that formatting cost 4x the rest of a fan-out delivery.
            transport.write(data)
        if self._write_watch is not None:
            self._write_watch.wrote(len(data))

    # Closing, for ConnectionSet and subclasses.

    def close_connection(self, code: int, reason: str) -> None:
        """
        Start the closing handshake with *code* (any valid code, 1001 for a
        shutdown included); a connection still in its opening handshake is
        dropped.
        """
        if self.state == self.STATE_OPEN:
            self.sendCloseFrame(code=code, reasonUtf8=encode_truncate(reason, 123))
        elif self.state != self.STATE_CLOSING:
            self.abort_connection()

    def abort_connection(self) -> None:
        """
        Drop the connection at once, whatever its state. (The transport
        itself: Autobahn may already have closed a connection with
        ``loseConnection``, which waits for ever on a peer that stopped
        reading.)
        """
        transport: Any = self.transport
        if transport is not None:
            transport.abortConnection()

    def _drop_slow_consumer(self) -> None:
        reason = "Slow consumer: more than {} bytes waiting to be sent".format(
            self.factory.options.max_write_buffer
        )
        _log.warn("Dropped {peer}: {reason}", peer=self.peer_address, reason=reason)
        self.factory.slow_consumers_dropped += 1
        self.wasNotCleanReason = reason
        self.dropConnection(abort=True)


def _valid_close(code: Optional[int], reason: Optional[bytes]) -> bool:
    """
    Whether a close frame's *code* and *reason* are allowed (RFC 6455,
    7.4): no reserved code, and a UTF-8 reason.
    """
    if code is not None and (
        code < 1000
        or (code < 3000 and code not in WebSocketServerProtocol.CLOSE_STATUS_CODES_ALLOWED)
        or code >= 5000
    ):
        return False
    if reason is not None:
        try:
            reason.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True
