"""
`Session`: one SockJS session, its send queue and its timers.

HTTP transports lend a session a *receiver* (an open response) for a
while; WebSocket lends it one for the whole connection. The session
writes frames to its receiver, sends heartbeats while one is attached,
and times out when none has been attached for ``disconnect_delay``.
"""

from typing import Any, Callable, List, Optional

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

from snorky.transports.sockjs.framing import (
    HEARTBEAT,
    OPEN,
    close_frame,
    messages_frame,
    quote,
)
from snorky.transports.sockjs.interfaces import HandlerFactory, Receiver
from snorky.transports.sockjs.options import SockJSOptions

__all__ = [
    "Session",
    "call_handler",
    "CONNECTING",
    "OPEN_STATE",
    "CLOSING",
    "CLOSED",
]

CONNECTING = "connecting"
OPEN_STATE = "open"
CLOSING = "closing"
CLOSED = "closed"

#: Close code and reason for a second receiving connection.
ANOTHER_CONNECTION = (2010, "Another connection still open")
#: Close code and reason when a receiving connection broke.
INTERRUPTED = (1002, "Connection interrupted")
#: Close code and reason when a client reads too slowly.
QUEUE_FULL = (1013, "Too many queued messages")
#: Close code and reason on server shutdown.
SHUTDOWN = (1001, "Server shutting down")


_log = Logger()


def call_handler(handler: Any, name: str, *args: Any) -> None:
    """
    Call method *name* of a session handler; a failure is logged, never
    passed on to the transport.
    """
    try:
        getattr(handler, name)(*args)
    except Exception:
        _log.failure(
            "SockJS handler {handler!r} failed in {name}", handler=handler, name=name
        )


class Session:
    """
    One SockJS session, which is also the :class:`~.interfaces.Channel`
    its handler sends through and the
    :class:`~.interfaces.TransportSession` its transports see.

    :param session_id: the client's session id, or ``None`` for a
        WebSocket session (which lives exactly as long as its connection).
    :param handler_factory: builds the session's handler.
    :param options: the SockJS resource's options.
    :param reactor: an ``IReactorTime`` for the timers.
    :param remote_address: the peer's address as text.
    :param on_gone: called with the session once it is closed for good,
        so its owner can forget it.
    """

    log = Logger()

    def __init__(
        self,
        session_id: Optional[str],
        handler_factory: HandlerFactory,
        options: SockJSOptions,
        reactor: IReactorTime,
        remote_address: Optional[str] = None,
        on_gone: Optional[Callable[["Session"], None]] = None,
    ) -> None:
        self.session_id = session_id
        self.options = options
        self.remote_address = remote_address
        self.state = CONNECTING
        self.receiver: Optional[Receiver] = None
        self.queue: List[str] = []
        self._reactor = reactor
        self._on_gone = on_gone
        self._close_frame: Optional[str] = None
        #: The code the session closed with, once closing.
        self.close_code: Optional[int] = None
        #: The transport that opened the session (``xhr_streaming``...),
        #: set by the resource, for metrics.
        self.transport: Optional[str] = None if session_id else "websocket"
        self._heartbeat_call: Optional[IDelayedCall] = None
        self._disconnect_call: Optional[IDelayedCall] = None
        self.handler = handler_factory(self)
        self._start_disconnect_timer()

    # The channel side, used by the handler.

    @staticmethod
    def encode(message: str) -> str:
        """
        Encode a message as the JSON string it travels as.
        """
        return quote(message)

    def send(self, message: str) -> None:
        """
        Send one message.
        """
        self.send_encoded(quote(message))

    def send_encoded(self, encoded: str) -> None:
        """
        Queue a message encoded by :meth:`encode` and flush it if a
        receiver is attached. Messages sent after the session has left
        the open state are dropped; a full queue closes the session.
        """
        if self.state != OPEN_STATE:
            return
        if len(self.queue) >= self.options.max_queue:
            self.log.warn(
                "Closing SockJS session of {address}: too many queued messages",
                address=self.remote_address,
            )
            self.close(*QUEUE_FULL)
            return
        self.queue.append(encoded)
        self._flush()

    def close(self, code: int = 3000, reason: str = "Go away!") -> None:
        """
        Close the session: queued messages and then a close frame go to
        the client; later requests get the same close frame until the
        session expires.
        """
        if self.state not in (CONNECTING, OPEN_STATE):
            return
        self._enter_closing(code, reason)
        self._flush()
        self._send_close_frame()

    def probe(self, timeout: float) -> "Deferred[bool]":
        """
        Whether the client is still there (:meth:`snorky.Client.probe`):
        a WebSocket receiver is pinged; otherwise the answer is whether the
        session is open, since a client that stopped polling is let go of
        after ``disconnect_delay`` anyway.
        """
        probe = getattr(self.receiver, "probe", None)
        if probe is not None:
            return probe(timeout)
        return succeed(self.state == OPEN_STATE)

    # The transport side.

    def attach(self, receiver: Receiver) -> None:
        """
        Lend *receiver* to this session: it gets the open frame on a new
        session, queued messages, and the close frame on a closed one.
        A second receiver is turned away with a close frame of its own.
        """
        if self.receiver is not None:
            receiver.send_frame(close_frame(*ANOTHER_CONNECTION))
            receiver.finish()
            return
        self._cancel(self._disconnect_call)
        self._disconnect_call = None
        self.receiver = receiver
        if self.state == CONNECTING:
            self.state = OPEN_STATE
            self._write(OPEN)
            call_handler(self.handler, "opened")
        self._flush()
        if self.state in (CLOSING, CLOSED):
            self._send_close_frame()
        if self.receiver is receiver and self._heartbeat_call is None:
            self._start_heartbeat()

    def detach(self, receiver: Receiver) -> None:
        """
        Tell the session that *receiver*'s connection broke. An open
        session is then closed as interrupted.
        """
        if self.receiver is not receiver:
            return
        self._drop_receiver()
        if self.state in (CONNECTING, OPEN_STATE):
            self._enter_closing(*INTERRUPTED)
        self._wait_or_go()

    def received(self, messages: List[str]) -> None:
        """
        Hand messages from the client to the handler, in order, while the
        session is open.
        """
        for message in messages:
            if self.state != OPEN_STATE:
                return
            call_handler(self.handler, "received", message)

    def shutdown(self) -> None:
        """
        Close the session at once: on server shutdown.
        """
        self.close(*SHUTDOWN)
        if self.receiver is not None:
            receiver = self.receiver
            self._drop_receiver()
            receiver.finish()
        self._gone()

    # Internals.

    def _enter_closing(self, code: int, reason: str) -> None:
        was_open = self.state == OPEN_STATE
        self.state = CLOSING
        self.close_code = code
        self._close_frame = close_frame(code, reason)
        # The handler hears of the close now, not when the session
        # expires: for it the connection is over.
        if was_open:
            call_handler(self.handler, "closed")

    def _send_close_frame(self) -> None:
        # The close frame ends the receiving connection, if the frame
        # itself did not.
        receiver = self.receiver
        if receiver is None:
            return
        self._write(self._close_frame)  # type: ignore[arg-type]
        if self.receiver is receiver:
            self._release()

    def _flush(self) -> None:
        if self.receiver is not None and self.queue:
            frame = messages_frame(self.queue)
            self.queue = []
            self._write(frame)

    def _write(self, frame: str) -> None:
        receiver = self.receiver
        assert receiver is not None
        if receiver.send_frame(frame):
            self._start_heartbeat()
        else:
            self._release()

    def _release(self) -> None:
        receiver = self.receiver
        assert receiver is not None
        self._drop_receiver()
        receiver.finish()
        self._wait_or_go()

    def _drop_receiver(self) -> None:
        self.receiver = None
        self._cancel(self._heartbeat_call)
        self._heartbeat_call = None

    def _wait_or_go(self) -> None:
        # A WebSocket session has no id to come back with: it ends with
        # its connection. Others wait for the client's next request.
        if self.session_id is None and self.state != OPEN_STATE:
            self._gone()
        else:
            self._start_disconnect_timer()

    def _start_heartbeat(self) -> None:
        self._cancel(self._heartbeat_call)
        self._heartbeat_call = self._reactor.callLater(
            self.options.heartbeat_delay, self._heartbeat
        )

    def _heartbeat(self) -> None:
        self._heartbeat_call = None
        if self.receiver is not None:
            self._write(HEARTBEAT)

    def _start_disconnect_timer(self) -> None:
        if self.state == CLOSED:
            return
        self._cancel(self._disconnect_call)
        self._disconnect_call = self._reactor.callLater(
            self.options.disconnect_delay, self._expire
        )

    def _expire(self) -> None:
        self._disconnect_call = None
        if self.state in (CONNECTING, OPEN_STATE):
            self._enter_closing(*INTERRUPTED)
        self._gone()

    def _gone(self) -> None:
        if self.state == CLOSED:
            return
        self.state = CLOSED
        self.queue = []
        self._cancel(self._disconnect_call)
        self._cancel(self._heartbeat_call)
        self._disconnect_call = self._heartbeat_call = None
        if self._on_gone is not None:
            self._on_gone(self)

    @staticmethod
    def _cancel(call: Optional[IDelayedCall]) -> None:
        if call is not None and call.active():
            call.cancel()
