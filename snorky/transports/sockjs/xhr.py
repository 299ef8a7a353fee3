"""The XHR transports: ``xhr`` (polling), ``xhr_streaming`` and ``xhr_send``."""

from typing import Union

from twisted.web.server import Request

from snorky.transports.sockjs.framing import line_frame
from snorky.transports.sockjs.headers import set_content_type
from snorky.transports.sockjs.incoming import deliver, read_text
from snorky.transports.sockjs.interfaces import HTTPSessions, Route
from snorky.transports.sockjs.receiver import POLLING, respond

__all__ = ["xhr_poll", "xhr_streaming", "xhr_send", "ROUTES"]

_CONTENT_TYPE = b"application/javascript; charset=UTF-8"
# Old Internet Explorers show nothing of a streamed XHR until 2 KiB.
_PRELUDE = b"h" * 2048 + b"\n"


def xhr_poll(sessions: HTTPSessions, request: Request, session_id: str) -> Union[bytes, int]:
    """
    Answer with the next frame of the session, opening it if new.
    """
    return respond(sessions, request, session_id, _CONTENT_TYPE, line_frame, POLLING)


def xhr_streaming(
    sessions: HTTPSessions, request: Request, session_id: str
) -> Union[bytes, int]:
    """
    Stream frames one per line in a long POST answer.
    """
    return respond(
        sessions,
        request,
        session_id,
        _CONTENT_TYPE,
        line_frame,
        sessions.options.response_limit,
        _PRELUDE,
    )


def xhr_send(sessions: HTTPSessions, request: Request, session_id: str) -> bytes:
    """
    Take a JSON array of messages for the session; answer ``204``.
    """
    body = read_text(request, sessions.options.max_message_size)
    if isinstance(body, bytes):
        return body
    failed = deliver(sessions, request, session_id, body)
    if failed is not None:
        return failed
    # Firefox takes an answer without a content type for XML.
    set_content_type(request, b"text/plain")
    request.setResponseCode(204)
    return b""


#: The XHR transports' URLs; browsers send each a CORS preflight.
ROUTES = (
    Route(b"xhr", b"POST", xhr_poll, preflight=True),
    Route(b"xhr_streaming", b"POST", xhr_streaming, preflight=True),
    Route(b"xhr_send", b"POST", xhr_send, preflight=True),
)
