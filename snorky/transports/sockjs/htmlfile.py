"""
The ``htmlfile`` transport: frames as ``<script>`` elements of an HTML
page that a hidden iframe loads.
"""

from typing import Union

from twisted.web.server import Request

from snorky.transports.sockjs.framing import script_frame
from snorky.transports.sockjs.incoming import callback_of
from snorky.transports.sockjs.interfaces import HTTPSessions, Route
from snorky.transports.sockjs.receiver import respond

__all__ = ["htmlfile", "ROUTES"]

_HEAD = """<!doctype html>
<html><head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
</head><body><h2>Don't panic!</h2>
  <script>
    document.domain = document.domain;
    var c = parent.{callback};
    if (c) {{c.start();}}
    function p(d) {{if (c) {{c.message(d);}}}};
    window.onload = function() {{if (c) {{c.stop();}}}};
  </script>
"""


def htmlfile(sessions: HTTPSessions, request: Request, session_id: str) -> Union[bytes, int]:
    """
    Stream frames as ``<script>`` elements of an HTML page loaded in a
    hidden iframe; the page calls the ``c`` callback of its parent, unless
    the parent has dropped it (sockjs-client does when it closes while a
    page is still loading: calling it then would throw in the page).
    """
    callback = callback_of(request)
    if isinstance(callback, bytes):
        return callback
    head = _HEAD.format(callback=callback)
    # Safari renders nothing of a page before its first kilobyte.
    prelude = (head.ljust(1024) + "\r\n\r\n").encode("utf-8")
    return respond(
        sessions,
        request,
        session_id,
        b"text/html; charset=UTF-8",
        script_frame,
        sessions.options.response_limit,
        prelude,
    )


#: The transport's URL.
ROUTES = (Route(b"htmlfile", b"GET", htmlfile),)
