"""
The ``/iframe*.html`` page, through which transports that cannot go
cross-origin (``htmlfile``, ``xhr-polling`` and ``eventsource`` in some
browsers) talk to the server from its own origin, and the optional local
copy of sockjs-client that the page loads.
"""

import hashlib
import re
from typing import Any

from twisted.web.iweb import IRequest
from twisted.web.resource import IResource
from twisted.web.static import File

from snorky.transports.sockjs.headers import set_cacheable, set_content_type

__all__ = ["IFRAME_NAME", "CLIENT_FILE_NAME", "IframePage", "client_file"]

#: The names the page is served under; the client may put its version in.
IFRAME_NAME = re.compile(rb"^iframe[0-9a-z._-]*\.html$")
#: Where the local copy of sockjs-client is served, under the endpoint.
CLIENT_FILE_NAME = b"sockjs.min.js"

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


class IframePage:
    """
    The iframe page loading sockjs-client from *sockjs_url*; cacheable,
    with an ETag so that browsers revalidate it cheaply.
    """

    def __init__(self, sockjs_url: str) -> None:
        if '"' in sockjs_url or "<" in sockjs_url:
            raise ValueError("sockjs_url must not hold quotes or '<'")
        self.body = _TEMPLATE.format(url=sockjs_url).encode("utf-8")
        self.etag = b'"' + hashlib.sha256(self.body).hexdigest()[:32].encode() + b'"'

    def render(self, request: IRequest, reactor: Any) -> bytes:
        """
        Answer the page, or ``304`` when the client has this version.
        """
        set_cacheable(request, reactor)
        request.setHeader(b"ETag", self.etag)
        if request.getHeader(b"If-None-Match") == self.etag:
            request.setResponseCode(304)
            request.defaultContentType = None
            return b""
        set_content_type(request, b"text/html")
        return self.body


def client_file(path: str) -> IResource:
    """
    The resource serving a local sockjs-client script.

    :raises FileNotFoundError: if *path* is not a file.
    """
    resource = File(path, defaultType="application/javascript")
    if not resource.isfile():
        raise FileNotFoundError(path)
    return resource
