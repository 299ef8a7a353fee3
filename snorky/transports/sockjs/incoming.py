"""
What clients send over HTTP: the bounded request body, the JavaScript
callback named in the query (``jsonp``, ``htmlfile``), and messages
(``xhr_send``, ``jsonp_send``) handed to their session.
"""

import re
from typing import Dict, List, Optional, Union

from twisted.web.server import Request

from snorky.transports.sockjs.framing import FramingError, decode_messages
from snorky.transports.sockjs.headers import error, not_found
from snorky.transports.sockjs.interfaces import HTTPSessions

__all__ = ["read_text", "callback_of", "deliver"]

_CALLBACK = re.compile(r"[a-zA-Z0-9_.-]{1,32}")


def read_text(request: Request, limit: int) -> Union[str, bytes]:
    """
    The request body as text, or (as bytes) the error answer when it is
    longer than *limit* bytes or not UTF-8.
    """
    content = request.content
    if content is None:
        return error(request, 500, "Payload expected.")
    content.seek(0)
    body = content.read(limit + 1)
    if len(body) > limit:
        return error(request, 413, "Payload too large.")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return error(request, 500, "Broken JSON encoding.")


def callback_of(request: Request) -> Union[str, bytes]:
    """
    The JavaScript callback named by the ``c`` (or ``callback``) query
    parameter, or (as bytes) the error answer when it is missing or
    unsafe.
    """
    args: Dict[bytes, List[bytes]] = request.args or {}
    values = args.get(b"c") or args.get(b"callback")
    if not values:
        return error(request, 500, '"callback" parameter required')
    callback = values[0].decode("utf-8", "replace")
    if not _CALLBACK.fullmatch(callback):
        return error(request, 500, 'invalid "callback" parameter')
    return callback


def deliver(
    sessions: HTTPSessions, request: Request, session_id: str, data: str
) -> Optional[bytes]:
    """
    Decode *data* (a JSON array of strings) and hand its messages to the
    session *session_id*.

    :returns: ``None`` on success, else the error answer to render.
    """
    try:
        messages = decode_messages(data)
    except FramingError as e:
        return error(request, 500, str(e))
    session = sessions.find(session_id)
    if session is None:
        return not_found(request)
    session.received(messages)
    return None
