"""The ``jsonp`` (polling) and ``jsonp_send`` transports."""

from typing import TYPE_CHECKING, Union
from urllib.parse import parse_qs

from twisted.web.iweb import IRequest
from twisted.web.server import NOT_DONE_YET

from snorky.transports.sockjs.framing import quote_for_script
from snorky.transports.sockjs.headers import error, set_content_type
from snorky.transports.sockjs.incoming import deliver, read_text
from snorky.transports.sockjs.receiver import POLLING, ResponseReceiver
from snorky.transports.sockjs.streaming import callback_of

if TYPE_CHECKING:
    from snorky.transports.sockjs.resource import SockJSResource

__all__ = ["jsonp_poll", "jsonp_send"]

_FORM = b"application/x-www-form-urlencoded"


def jsonp_poll(
    endpoint: "SockJSResource", request: IRequest, session_id: str
) -> Union[bytes, int]:
    """
    Answer with a script calling the ``c`` callback with the next frame.
    """
    callback = callback_of(request)
    if isinstance(callback, bytes):
        return callback
    session = endpoint.open_session(session_id, request)
    if session is None:
        return endpoint.unavailable(request)
    set_content_type(request, b"application/javascript")
    # The leading comment and nosniff keep the answer from being taken
    # for a Flash file (the "Rosetta Flash" attack).
    request.setHeader(b"X-Content-Type-Options", b"nosniff")

    def frame_format(frame: str) -> bytes:
        return "/**/{}({});\r\n".format(callback, quote_for_script(frame)).encode(
            "utf-8"
        )

    ResponseReceiver(request, frame_format, POLLING).attach_to(session)
    return NOT_DONE_YET


def jsonp_send(
    endpoint: "SockJSResource", request: IRequest, session_id: str
) -> bytes:
    """
    Take messages posted by a form (field ``d``) or as a raw JSON body;
    answer ``ok``.
    """
    body = read_text(request, endpoint.options.max_message_size)
    if isinstance(body, bytes):
        return body
    content_type = request.getHeader(b"Content-Type") or b""
    if content_type.split(b";")[0].strip().lower() == _FORM:
        try:
            fields = parse_qs(body, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            return error(request, 500, "Broken JSON encoding.")
        body = fields.get("d", [""])[0]
    failed = deliver(endpoint, request, session_id, body)
    if failed is not None:
        return failed
    set_content_type(request, b"text/plain")
    return b"ok"
