"""
Messages that clients send over HTTP (``xhr_send``, ``jsonp_send``):
reading the bounded body and handing the messages to their session.
"""

from typing import TYPE_CHECKING, Optional

from twisted.web.iweb import IRequest

from snorky.transports.sockjs.framing import FramingError, decode_messages
from snorky.transports.sockjs.headers import error, not_found

if TYPE_CHECKING:
    from snorky.transports.sockjs.resource import SockJSResource

__all__ = ["read_body", "deliver", "too_large"]


def read_body(request: IRequest, limit: int) -> Optional[bytes]:
    """
    The request body, or ``None`` when it is longer than *limit* bytes.
    """
    request.content.seek(0)
    body = request.content.read(limit + 1)
    return body if len(body) <= limit else None


def too_large(request: IRequest) -> bytes:
    """
    Answer a body that exceeds the endpoint's ``max_message_size``.
    """
    return error(request, 413, "Payload too large.")


def deliver(
    endpoint: "SockJSResource", request: IRequest, session_id: str, data: bytes
) -> Optional[bytes]:
    """
    Decode *data* (a JSON array of strings) and hand its messages to the
    session.

    :returns: ``None`` on success, else the error answer to render.
    """
    try:
        messages = decode_messages(data.decode("utf-8"))
    except UnicodeDecodeError:
        return error(request, 500, "Broken JSON encoding.")
    except FramingError as e:
        return error(request, 500, str(e))
    session = endpoint.find_session(session_id)
    if session is None:
        return not_found(request)
    session.received(messages)
    return None
