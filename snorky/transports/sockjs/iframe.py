"""
The ``/iframe*.html`` page, through which transports that cannot go
cross-origin (``htmlfile``, ``xhr-polling`` and ``eventsource`` in some
browsers) talk to the server from its own origin, and the optional local
copy of sockjs-client that the page loads.
"""

import hashlib
import re

from twisted.internet.interfaces import IReactorTime
from twisted.web.server import Request

from snorky.transports.sockjs.headers import set_cacheable, set_content_type

__all__ = [
    "IFRAME_NAME",
    "CLIENT_FILE_NAME",
    "CacheablePage",
    "iframe_page",
    "client_file",
]

#: The names the page is served under; the client may put its version in.
IFRAME_NAME = re.compile(rb"iframe[0-9a-z._-]*\.html")
#: Where the local copy of sockjs-client is served, under the resource.
CLIENT_FILE_NAME = b"sockjs.min.js"
# sockjs.min.js 1.x is about 60 KB; more is surely the wrong file.
_MAX_CLIENT_FILE = 4 * 1024 * 1024

_TEMPLATE = """<!DOCTYPE html>
<html>
<head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
  <script src="{url}"></script>
  <script>
    document.domain = document.domain;
    SockJS.bootstrap_iframe();
  </script>
</head>
<body>
  <h2>Don't panic!</h2>
  <p>This is a SockJS hidden iframe. It's used for cross domain magic.</p>
</body>
</html>"""


class CacheablePage:
    """
    A fixed answer that browsers may cache for a year, with an ETag so
    that they revalidate it cheaply.

    :param body: the page.
    :param content_type: its media type, without charset (UTF-8).
    """

    def __init__(self, body: bytes, content_type: bytes) -> None:
        self.body = body
        self.content_type = content_type
        self.etag = b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'

    def render(self, request: Request, reactor: IReactorTime) -> bytes:
        """
        Answer the page, or ``304`` when the client has this version.
        """
        set_cacheable(request, reactor)
        request.setHeader(b"ETag", self.etag)
        if request.getHeader(b"If-None-Match") == self.etag:
            request.setResponseCode(304)
            request.defaultContentType = None
            return b""
        set_content_type(request, self.content_type)
        return self.body


def iframe_page(sockjs_url: str) -> CacheablePage:
    """
    The iframe page, loading sockjs-client from *sockjs_url*.

    :raises ValueError: if the URL would break out of its attribute.
    """
    if '"' in sockjs_url or "<" in sockjs_url:
        raise ValueError("sockjs_url must not hold quotes or '<'")
    return CacheablePage(_TEMPLATE.format(url=sockjs_url).encode("utf-8"), b"text/html")


def client_file(path: str) -> CacheablePage:
    """
    A local copy of the sockjs-client script, read once.

    :raises OSError: if *path* cannot be read.
    :raises ValueError: if it is implausibly large for that script.
    """
    with open(path, "rb") as f:
        body = f.read(_MAX_CLIENT_FILE + 1)
    if len(body) > _MAX_CLIENT_FILE:
        raise ValueError("{} is too large for sockjs-client".format(path))
    return CacheablePage(body, b"application/javascript")
