"""
`ResponseReceiver`: an HTTP response that carries frames from a session.

Every HTTP transport (polling and streaming alike) is one of these, with
its own frame format and byte limit: polling answers end after one frame,
streaming answers after ``response_limit`` bytes.
"""

from typing import Callable, Optional

from twisted.python.failure import Failure
from twisted.web.iweb import IRequest

from snorky.transports.sockjs.session import Session

__all__ = ["ResponseReceiver", "POLLING"]

#: The byte limit of a polling answer: any frame ends it.
POLLING = 1


class ResponseReceiver:
    """
    Writes frames, each formatted by *frame_format*, to *request*.

    :param request: the ``twisted.web`` request; headers and any prelude
        are written before the receiver is attached.
    :param frame_format: turns a frame into the bytes written.
    :param limit: bytes of frames after which the response ends.
    """

    def __init__(
        self,
        request: IRequest,
        frame_format: Callable[[str], bytes],
        limit: int,
    ) -> None:
        self.request = request
        self._format = frame_format
        self._limit = limit
        self._written = 0
        self._ended = False
        self._session: Optional[Session] = None
        request.notifyFinish().addErrback(self._connection_lost)

    def attach_to(self, session: Session) -> None:
        """
        Lend this receiver to *session*.
        """
        self._session = session
        session.attach(self)

    def send_frame(self, frame: str) -> bool:
        if self._ended:
            return False
        data = self._format(frame)
        self.request.write(data)
        self._written += len(data)
        return self._written < self._limit

    def finish(self) -> None:
        if not self._ended:
            self._ended = True
            self.request.finish()

    def _connection_lost(self, failure: Failure) -> None:
        self._ended = True
        if self._session is not None:
            self._session.detach(self)
