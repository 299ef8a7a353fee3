"""The ``jsonp`` (polling) and ``jsonp_send`` transports."""

from typing import Union
from urllib.parse import parse_qs

from twisted.web.server import Request

from snorky.transports.sockjs.framing import callback_frame
from snorky.transports.sockjs.headers import error, set_content_type
from snorky.transports.sockjs.incoming import callback_of, deliver, read_text
from snorky.transports.sockjs.interfaces import HTTPSessions, Route
from snorky.transports.sockjs.receiver import POLLING, respond

__all__ = ["jsonp_poll", "jsonp_send", "ROUTES"]

_FORM = b"application/x-www-form-urlencoded"


def jsonp_poll(sessions: HTTPSessions, request: Request, session_id: str) -> Union[bytes, int]:
    """
    Answer with a script calling the ``c`` callback with the next frame.
    """
    callback = callback_of(request)
    if isinstance(callback, bytes):
        return callback
    # With the frame's leading comment, nosniff keeps the answer from
    # being taken for a Flash file (the "Rosetta Flash" attack).
    request.setHeader(b"X-Content-Type-Options", b"nosniff")
    return respond(
        sessions,
        request,
        session_id,
        b"application/javascript; charset=UTF-8",
        callback_frame(callback),
        POLLING,
    )


def jsonp_send(sessions: HTTPSessions, request: Request, session_id: str) -> bytes:
    """
    Take messages posted by a form (field ``d``) or as a raw JSON body;
    answer ``ok``.
    """
    body = read_text(request, sessions.options.max_message_size)
    if isinstance(body, bytes):
        return body
    content_type = request.getHeader(b"Content-Type") or b""
    if content_type.split(b";")[0].strip().lower() == _FORM:
        try:
            fields = parse_qs(body, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            return error(request, 500, "Broken JSON encoding.")
        body = fields.get("d", [""])[0]
    failed = deliver(sessions, request, session_id, body)
    if failed is not None:
        return failed
    set_content_type(request, b"text/plain")
    return b"ok"


#: The JSONP transports' URLs.
ROUTES = (
    Route(b"jsonp", b"GET", jsonp_poll),
    Route(b"jsonp_send", b"POST", jsonp_send),
)
