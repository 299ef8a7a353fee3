"""
`OriginPolicy`: which browser origins may use a transport, from the
``allowed_origins`` patterns of
:class:`~snorky.transports.websocket.WebSocketOptions` and
:class:`~snorky.transports.sockjs.SockJSOptions`.

One rule for every transport (``/ws``, SockJS's WebSocket and HTTP
transports): a request without ``Origin`` (not a browser's) is
admitted; one with an ``Origin`` is admitted only when the patterns
allow it. The ``Host`` header never counts: under DNS rebinding an
attacker's page reaches the server under the attacker's own name, so
its ``Origin`` equals its ``Host``, and admitting that would let any page
past the patterns.

WebSocket handshakes are checked by Autobahn, given
:meth:`OriginPolicy.websocket_options`; plain HTTP requests (SockJS's
polling and streaming transports) by :meth:`OriginPolicy.admits`, which
matches an ``Origin`` exactly as Autobahn does, so that both agree.
"""

import re
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit

from autobahn.util import wildcards2patterns
from twisted.web.iweb import IRequest

__all__ = ["OriginPolicy", "origin_patterns", "check_patterns"]

_DEFAULT_PORTS = {"http": 80, "https": 443}

#: An origin as Autobahn compares it: scheme, host and port (``None`` for
#: a scheme other than http(s) written without one), or ``"null"``.
_Origin = Union[str, Tuple[str, str, Optional[int]]]


def check_patterns(origins: Sequence[str]) -> None:
    """
    Refuse *origins* unless it is a sequence of patterns.

    :raises ValueError: for a bare string (a common slip for a list of
        one), or an item that is not a string.
    """
    if isinstance(origins, (str, bytes)):
        raise ValueError("allowed_origins must be a sequence of patterns")
    for origin in origins:
        if not isinstance(origin, str):
            raise ValueError("allowed_origins holds {!r}, not a string".format(origin))


def origin_patterns(origins: Sequence[str]) -> List[str]:
    """
    The patterns to hand Autobahn (``allowedOrigins``) for the
    ``allowed_origins`` patterns *origins*: each pattern, plus its
    spellings with the default port and, without a scheme, with http and
    https.
    """
    # Autobahn matches patterns against "scheme://host:port" with the port
    # always spelled out, so neither "https://example.com" (as browsers
    # send it) nor "*.example.com" would ever match on their own.
    patterns = []
    for origin in origins:
        patterns.append(origin)
        if origin in ("*", "null"):
            continue
        with_scheme = [origin] if "://" in origin else ["http://" + origin, "https://" + origin]
        for candidate in with_scheme:
            match = re.fullmatch(r"(https?)://[^/:]+", candidate)
            if match:
                patterns.append("{}:{}".format(candidate, _DEFAULT_PORTS[match.group(1)]))
    return patterns


def _parse_origin(origin: str) -> Optional[_Origin]:
    """
    *origin* (an ``Origin`` header, or ``scheme://host[:port]``) as
    Autobahn reads it, or ``None`` when it names no host or a bad port.
    """
    if origin.lower() == "null":
        return "null"
    try:
        parts = urlsplit(origin)
        scheme = parts.scheme.lower()
        # Chrome sends file:// for local pages, where Firefox sends null.
        if scheme == "file":
            return "null"
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    if port is None:
        port = _DEFAULT_PORTS.get(scheme)
    return scheme, parts.hostname, port


class OriginPolicy:
    """
    The ``allowed_origins`` of one transport, compiled once.

    :param origins: patterns as documented for
        ``WebSocketOptions.allowed_origins``: ``*`` matches any run of
        characters; a pattern without a port also matches the scheme's
        default port, one without a scheme means http and https; ``"*"``
        or ``"null"`` also admit the ``null`` origin.
    :ivar admits_any: whether the patterns include ``"*"``.
    """

    def __init__(self, origins: Sequence[str]) -> None:
        check_patterns(origins)
        origins = list(origins)
        self.admits_any = "*" in origins
        self._allow_null = self.admits_any or "null" in origins
        self._patterns = origin_patterns(origins)
        self._compiled = wildcards2patterns(self._patterns)

    def websocket_options(self) -> Dict[str, Any]:
        """
        The keyword arguments of Autobahn's ``setProtocolOptions`` that
        make its handshake apply this policy.
        """
        return {"allowedOrigins": self._patterns, "allowNullOrigin": self._allow_null}

    def allows(self, origin: str) -> bool:
        """
        Whether the ``Origin`` value *origin* is allowed, as Autobahn
        decides for a WebSocket handshake: ``null`` (or a ``file://``
        page) only when ``"*"`` or ``"null"`` is listed, a malformed
        origin never, any other matched as ``scheme://host:port`` against
        the patterns.
        """
        parsed = _parse_origin(origin.strip())
        if not isinstance(parsed, tuple):
            return parsed == "null" and self._allow_null
        # Autobahn writes the port of another scheme written without one
        # as "None"; so do we, so that both transports agree.
        text = "{}://{}:{}".format(*parsed)
        return any(pattern.match(text) for pattern in self._compiled)

    def admits(self, request: IRequest) -> bool:
        """
        Whether the HTTP *request* may proceed: it sends no ``Origin``
        (clients other than browsers), or one ``Origin`` that is allowed.
        The server's own origin is no exception (see the module's
        docstring): list it to admit it.

        With ``"*"`` every request is admitted, one with a malformed
        ``Origin`` too, as before origins were checked: the SockJS
        protocol's test suite sends ``Origin: test`` and expects it echoed.
        """
        if self.admits_any:
            return True
        values = request.requestHeaders.getRawHeaders(b"Origin")
        if not values:
            return True
        if len(values) > 1:
            # A browser sends one; Autobahn refuses a handshake with more.
            return False
        return self.allows(values[0].decode("latin-1"))
