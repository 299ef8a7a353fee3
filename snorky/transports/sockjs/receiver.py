"""
`ResponseReceiver`: an HTTP response that carries frames from a session,
and `respond`, which every receiving HTTP transport answers with.

Every such transport (polling and streaming alike) is one of these, with
its own frame format and byte limit: polling answers end after one frame,
streaming answers after ``response_limit`` bytes.
"""

from typing import Callable, Optional, Union

from twisted.python.failure import Failure
from twisted.web.server import NOT_DONE_YET, Request

from snorky.transports.sockjs.interfaces import HTTPSessions, TransportSession

__all__ = ["ResponseReceiver", "POLLING", "respond"]

#: The byte limit of a polling answer: any frame ends it.
POLLING = 1

#: Turns a frame into the bytes a transport writes.
FrameFormat = Callable[[str], bytes]


class ResponseReceiver:
    """
    Writes frames, each formatted by *frame_format*, to *request*.

    :param request: the ``twisted.web`` request; headers and any prelude
        are written before the receiver is attached.
    :param frame_format: turns a frame into the bytes written.
    :param limit: bytes of frames after which the response ends.
    """

    def __init__(self, request: Request, frame_format: FrameFormat, limit: int) -> None:
        self.request = request
        self._format = frame_format
        self._limit = limit
        self._written = 0
        self._ended = False
        self._session: Optional[TransportSession] = None
        request.notifyFinish().addErrback(self._connection_lost)

    def attach_to(self, session: TransportSession) -> None:
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


def respond(
    sessions: HTTPSessions,
    request: Request,
    session_id: str,
    content_type: bytes,
    frame_format: FrameFormat,
    limit: int,
    prelude: bytes = b"",
) -> Union[bytes, int]:
    """
    Answer *request* with frames of the session *session_id*, opening it
    if new: the headers, the *prelude*, then frames in *frame_format*
    until *limit* bytes.

    :returns: ``NOT_DONE_YET``, or the error answer when the session
        cannot be opened.
    """
    session = sessions.open(session_id, request)
    if isinstance(session, bytes):
        return session
    request.setHeader(b"Content-Type", content_type)
    if prelude:
        request.write(prelude)
    ResponseReceiver(request, frame_format, limit).attach_to(session)
    return NOT_DONE_YET
