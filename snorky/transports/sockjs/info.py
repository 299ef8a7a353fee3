"""The greeting at the resource's root and the ``/info`` resource."""

import json
import secrets
from typing import Any

from twisted.web.server import Request

from snorky.transports.sockjs.headers import (
    set_content_type,
    set_cors,
    set_not_cached,
)
from snorky.transports.sockjs.options import SockJSOptions

__all__ = ["greeting", "info"]


def greeting(request: Request) -> bytes:
    """
    The text that tells a person they found a SockJS server.
    """
    set_content_type(request, b"text/plain")
    return b"Welcome to SockJS!\n"


def info(request: Request, options: SockJSOptions) -> bytes:
    """
    What a client asks before it picks a transport: whether WebSocket is
    offered and cookies are needed, plus random ``entropy`` for browsers
    without a good random source.
    """
    set_content_type(request, b"application/json")
    set_cors(request)
    set_not_cached(request)
    body: Any = {
        "websocket": options.websocket,
        "cookie_needed": options.cookie_needed,
        "origins": ["*:*"],
        "entropy": secrets.randbits(32),
    }
    return json.dumps(body).encode("utf-8")
