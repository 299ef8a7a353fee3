"""The ``xhr`` (polling) and ``xhr_send`` transports."""

from typing import TYPE_CHECKING, Union

from twisted.web.iweb import IRequest
from twisted.web.server import NOT_DONE_YET

from snorky.transports.sockjs.headers import set_content_type
from snorky.transports.sockjs.incoming import deliver, read_text
from snorky.transports.sockjs.receiver import POLLING, ResponseReceiver

if TYPE_CHECKING:
    from snorky.transports.sockjs.resource import SockJSResource

__all__ = ["xhr_poll", "xhr_send", "line_frame"]


def line_frame(frame: str) -> bytes:
    """
    Frames of the XHR transports: one per line.
    """
    return (frame + "\n").encode("utf-8")


def xhr_poll(
    endpoint: "SockJSResource", request: IRequest, session_id: str
) -> Union[bytes, int]:
    """
    Answer with the next frame of the session, opening it if new.
    """
    session = endpoint.open_session(session_id, request)
    if session is None:
        return endpoint.unavailable(request)
    set_content_type(request, b"application/javascript")
    ResponseReceiver(request, line_frame, POLLING).attach_to(session)
    return NOT_DONE_YET


def xhr_send(
    endpoint: "SockJSResource", request: IRequest, session_id: str
) -> bytes:
    """
    Take a JSON array of messages for the session; answer ``204``.
    """
    body = read_text(request, endpoint.options.max_message_size)
    if isinstance(body, bytes):
        return body
    failed = deliver(endpoint, request, session_id, body)
    if failed is not None:
        return failed
    # Firefox takes an answer without a content type for XML.
    set_content_type(request, b"text/plain")
    request.setResponseCode(204)
    return b""
