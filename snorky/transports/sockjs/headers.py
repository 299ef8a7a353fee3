"""
The HTTP headers and error answers every SockJS resource shares: CORS,
caching, the ``JSESSIONID`` cookie, and the protocol's plain-text errors.
"""

import re

from twisted.internet.interfaces import IReactorTime
from twisted.web.http import datetimeToString
from twisted.web.server import Request

__all__ = [
    "ONE_YEAR",
    "set_content_type",
    "set_cors",
    "set_not_cached",
    "set_cacheable",
    "set_session_cookie",
    "preflight",
    "error",
    "not_found",
    "method_not_allowed",
    "origin_not_allowed",
]

#: Seconds that cacheable answers may be kept: the protocol asks for long.
ONE_YEAR = 365 * 24 * 3600

_NOT_CACHED = b"no-store, no-cache, no-transform, must-revalidate, max-age=0"
_COOKIE_VALUE = re.compile(rb"[A-Za-z0-9._~-]{1,128}")


def set_content_type(request: Request, content_type: bytes) -> None:
    """
    Set the ``Content-Type`` with the UTF-8 charset.
    """
    request.setHeader(b"Content-Type", content_type + b"; charset=UTF-8")


def set_cors(request: Request) -> None:
    """
    Allow the request's origin, with credentials, or any origin when the
    request names none. A browser on a ``file://`` page sends ``null``,
    which is echoed like any other origin. The resource answers requests
    from origins it does not allow with :func:`origin_not_allowed` before
    this is called, so only allowed origins are echoed.
    """
    origin = request.getHeader(b"Origin")
    if origin:
        request.setHeader(b"Access-Control-Allow-Origin", origin)
        request.setHeader(b"Access-Control-Allow-Credentials", b"true")
        request.setHeader(b"Vary", b"Origin")
    else:
        request.setHeader(b"Access-Control-Allow-Origin", b"*")


def set_not_cached(request: Request) -> None:
    """
    Forbid caching: session answers are private, and some browsers cache
    even POST answers.
    """
    request.setHeader(b"Cache-Control", _NOT_CACHED)


def set_cacheable(request: Request, reactor: IReactorTime) -> None:
    """
    Let caches keep the answer for a year.
    """
    request.setHeader(b"Cache-Control", b"public, max-age=%d" % ONE_YEAR)
    request.setHeader(b"Expires", datetimeToString(reactor.seconds() + ONE_YEAR))


def set_session_cookie(request: Request) -> None:
    """
    Set ``JSESSIONID``, echoing the client's value when it has a sane
    one, so that load balancers can keep a session on one server.
    """
    value = request.getCookie(b"JSESSIONID")
    if not value or not _COOKIE_VALUE.fullmatch(value):
        value = b"dummy"
    request.addCookie(b"JSESSIONID", value, path=b"/")


def preflight(request: Request, methods: bytes, reactor: IReactorTime) -> bytes:
    """
    Answer a CORS preflight ``OPTIONS`` request, cacheably.

    :param methods: the allowed methods, e.g. ``b"OPTIONS, POST"``.
    """
    request.setResponseCode(204)
    request.defaultContentType = None
    set_cors(request)
    set_cacheable(request, reactor)
    request.setHeader(b"Access-Control-Max-Age", b"%d" % ONE_YEAR)
    request.setHeader(b"Access-Control-Allow-Methods", methods)
    wanted = request.getHeader(b"Access-Control-Request-Headers")
    if wanted:
        request.setHeader(b"Access-Control-Allow-Headers", wanted)
    return b""


def error(request: Request, code: int, text: str) -> bytes:
    """
    Answer with a status code and a plain-text explanation.
    """
    request.setResponseCode(code)
    set_content_type(request, b"text/plain")
    return text.encode("utf-8")


def not_found(request: Request) -> bytes:
    """
    Answer ``404``.
    """
    return error(request, 404, "404 Error: Page not found\n")


def method_not_allowed(request: Request, allowed: bytes) -> bytes:
    """
    Answer ``405`` with an ``Allow`` header and no body or content type.
    """
    request.setResponseCode(405)
    request.defaultContentType = None
    request.setHeader(b"Allow", allowed)
    return b""


def origin_not_allowed(request: Request) -> bytes:
    """
    Answer ``403`` to a browser whose ``Origin`` the resource does not
    allow; no CORS headers, so the page cannot read even that.
    """
    return error(request, 403, "403 Error: Origin not allowed by allowed_origins\n")
