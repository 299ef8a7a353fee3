"""
Messages that clients send over HTTP (``xhr_send``, ``jsonp_send``):
reading the bounded body and handing the messages to their session.
"""

from typing import TYPE_CHECKING, Optional, Union

from twisted.web.iweb import IRequest

from snorky.transports.sockjs.framing import FramingError, decode_messages
from snorky.transports.sockjs.headers import error, not_found

if TYPE_CHECKING:
    from snorky.transports.sockjs.resource import SockJSResource

__all__ = ["read_text", "deliver"]


def read_text(request: IRequest, limit: int) -> Union[str, bytes]:
    """
    The request body as text, or (as bytes) the error answer when it is
    longer than *limit* bytes or not UTF-8.
    """
    request.content.seek(0)
    body = request.content.read(limit + 1)
    if len(body) > limit:
        return error(request, 413, "Payload too large.")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return error(request, 500, "Broken JSON encoding.")


def deliver(
    endpoint: "SockJSResource", request: IRequest, session_id: str, data: str
) -> Optional[bytes]:
    """
    Decode *data* (a JSON array of strings) and hand its messages to the
    session.

    :returns: ``None`` on success, else the error answer to render.
    """
    try:
        messages = decode_messages(data)
    except FramingError as e:
        return error(request, 500, str(e))
    session = endpoint.find_session(session_id)
    if session is None:
        return not_found(request)
    session.received(messages)
    return None
