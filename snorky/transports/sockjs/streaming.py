"""
The streaming transports: ``xhr_streaming``, ``eventsource`` and
``htmlfile``. Each sends a prelude, then frames in its own format until
the response limit is reached.
"""

import re
from typing import TYPE_CHECKING, Callable, Union

from twisted.web.iweb import IRequest
from twisted.web.server import NOT_DONE_YET

from snorky.transports.sockjs.framing import quote_for_script
from snorky.transports.sockjs.headers import error
from snorky.transports.sockjs.receiver import ResponseReceiver
from snorky.transports.sockjs.xhr import line_frame

if TYPE_CHECKING:
    from snorky.transports.sockjs.resource import SockJSResource

__all__ = ["xhr_streaming", "eventsource", "htmlfile", "callback_of"]

# Old Internet Explorers show nothing of a streamed XHR until 2 KiB.
_XHR_PRELUDE = b"h" * 2048 + b"\n"
# Opera once needed a first line before the first event.
_EVENTSOURCE_PRELUDE = b"\r\n"

_HTMLFILE_HEAD = """<!doctype html>
<html><head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
</head><body><h2>Don't panic!</h2>
  <script>
    document.domain = document.domain;
    var c = parent.{callback};
    c.start();
    function p(d) {{c.message(d);}};
    window.onload = function() {{c.stop();}};
  </script>
"""

_CALLBACK = re.compile(r"[a-zA-Z0-9_.-]{1,32}")


def callback_of(request: IRequest) -> Union[str, bytes]:
    """
    The JavaScript callback named by the ``c`` (or ``callback``) query
    parameter, or the error answer when it is missing or unsafe.
    """
    values = request.args.get(b"c") or request.args.get(b"callback")
    if not values:
        return error(request, 500, '"callback" parameter required')
    callback = values[0].decode("utf-8", "replace")
    if not _CALLBACK.fullmatch(callback):
        return error(request, 500, 'invalid "callback" parameter')
    return callback


def _stream(
    endpoint: "SockJSResource",
    request: IRequest,
    session_id: str,
    content_type: bytes,
    prelude: bytes,
    frame_format: Callable[[str], bytes],
) -> Union[bytes, int]:
    session = endpoint.open_session(session_id, request)
    if session is None:
        return endpoint.unavailable(request)
    request.setHeader(b"Content-Type", content_type)
    request.write(prelude)
    receiver = ResponseReceiver(
        request, frame_format, endpoint.options.response_limit
    )
    receiver.attach_to(session)
    return NOT_DONE_YET


def xhr_streaming(
    endpoint: "SockJSResource", request: IRequest, session_id: str
) -> Union[bytes, int]:
    """
    Stream frames one per line in a long POST answer.
    """
    return _stream(
        endpoint,
        request,
        session_id,
        b"application/javascript; charset=UTF-8",
        _XHR_PRELUDE,
        line_frame,
    )


def _event(frame: str) -> bytes:
    # Frames are JSON-escaped, so they hold no line breaks.
    return ("data: " + frame + "\r\n\r\n").encode("utf-8")


def eventsource(
    endpoint: "SockJSResource", request: IRequest, session_id: str
) -> Union[bytes, int]:
    """
    Stream frames as server-sent events.
    """
    return _stream(
        endpoint,
        request,
        session_id,
        b"text/event-stream",
        _EVENTSOURCE_PRELUDE,
        _event,
    )


def _script(frame: str) -> bytes:
    return ("<script>\np(" + quote_for_script(frame) + ");\n</script>\r\n").encode(
        "utf-8"
    )


def htmlfile(
    endpoint: "SockJSResource", request: IRequest, session_id: str
) -> Union[bytes, int]:
    """
    Stream frames as ``<script>`` elements of an HTML page loaded in a
    hidden iframe; the page calls the ``c`` callback of its parent.
    """
    callback = callback_of(request)
    if isinstance(callback, bytes):
        return callback
    head = _HTMLFILE_HEAD.format(callback=callback)
    # Safari renders nothing of a page before its first kilobyte.
    prelude = (head.ljust(1024) + "\r\n\r\n").encode("utf-8")
    return _stream(
        endpoint,
        request,
        session_id,
        b"text/html; charset=UTF-8",
        prelude,
        _script,
    )
