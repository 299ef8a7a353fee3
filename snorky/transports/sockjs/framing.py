"""
SockJS frames, the JSON escaping the protocol requires, and how each
HTTP transport wraps a frame.

The server sends *frames*: ``o`` (open), ``h`` (heartbeat), ``a[...]``
(an array of JSON-encoded messages) and ``c[code,"reason"]`` (close).
Clients send a JSON array of strings. Every message string is escaped so
that characters which browsers or proxies mangle travel as ``\\uXXXX``.
"""

import json
import re
from typing import Callable, Iterable, List

__all__ = [
    "OPEN",
    "HEARTBEAT",
    "FramingError",
    "quote",
    "quote_for_script",
    "messages_frame",
    "close_frame",
    "decode_messages",
    "line_frame",
    "event_frame",
    "script_frame",
    "callback_frame",
]

#: The frame that opens every session.
OPEN = "o"
#: The frame that keeps idle connections alive.
HEARTBEAT = "h"

# What the protocol asks servers to escape: characters that some
# browsers drop or treat as line ends (U+2028, U+2029), invisible
# formatting characters, the specials block and lone surrogates (which
# cannot be written as UTF-8 at all).
_ESCAPED = re.compile(
    "[\x00-\x1f\u200c-\u200f\u2028-\u202f\u2060-\u206f\ud800-\udfff\ufff0-\uffff]"
)
_ESCAPED_IN_SCRIPT = re.compile("[<\u2028\u2029]")

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _as_escape(match: "re.Match[str]") -> str:
    return "\\u{:04x}".format(ord(match.group()))


def quote(text: str) -> str:
    """
    Encode *text* as a JSON string literal with the protocol's escaping.
    """
    return _ESCAPED.sub(_as_escape, _encoder.encode(text))


def quote_for_script(text: str) -> str:
    """
    Encode *text* as a JavaScript string literal that is safe inside an
    HTML ``<script>`` element: ``<`` is escaped too, so a message holding
    ``</script>`` cannot end the element.
    """
    return _ESCAPED_IN_SCRIPT.sub(_as_escape, quote(text))


def messages_frame(quoted: Iterable[str]) -> str:
    """
    The ``a`` frame carrying messages already encoded with :func:`quote`.
    """
    return "a[" + ",".join(quoted) + "]"


def close_frame(code: int, reason: str) -> str:
    """
    The ``c`` frame closing a session with *code* and *reason*.
    """
    return "c[{:d},{}]".format(code, quote(reason))


class FramingError(ValueError):
    """
    A client sent something that is not a batch of messages; the text is
    the protocol's error message.
    """


def decode_messages(data: str, allow_single: bool = False) -> List[str]:
    """
    Decode what a client sent: a JSON array of strings.

    :param allow_single: also accept one JSON string, as the WebSocket
        transport does.

    :raises FramingError: ``Payload expected.`` when there is nothing to
        decode, ``Broken JSON encoding.`` when it is not such JSON.
    """
    if not data:
        raise FramingError("Payload expected.")
    try:
        decoded = json.loads(data)
    except (ValueError, RecursionError):
        raise FramingError("Broken JSON encoding.") from None
    if allow_single and isinstance(decoded, str):
        return [decoded]
    if not isinstance(decoded, list):
        raise FramingError("Payload expected.")
    # sockjs-client only ever sends strings; anything else is not a
    # SockJS message and must not reach a handler expecting text.
    if not all(isinstance(item, str) for item in decoded):
        raise FramingError("Broken JSON encoding.")
    return decoded


# How the HTTP transports wrap a frame.


def line_frame(frame: str) -> bytes:
    """
    A frame of the XHR transports: one per line.
    """
    return (frame + "\n").encode("utf-8")


def event_frame(frame: str) -> bytes:
    """
    A frame of ``eventsource``: one server-sent event, %-escaped.

    sockjs-client passes every event through ``decodeURI``, which turns
    ``%41`` into ``A``, ``%00`` into a NUL (the frame is then dropped as
    bad JSON, with every message batched in it) and throws on a lone
    ``%``. So ``%`` is written ``%25``, and CR, LF and NUL, which would
    end or break an event, as ``%0D``, ``%0A`` and ``%00`` (JSON
    escaping already keeps them out of frames; this holds without it).
    """
    # Four scans in C beat one regular expression (measured: about half
    # the time on a typical frame, a tenth on one full of "%").
    escaped = (
        frame.replace("%", "%25")
        .replace("\r", "%0D")
        .replace("\n", "%0A")
        .replace("\x00", "%00")
    )
    return ("data: " + escaped + "\r\n\r\n").encode("utf-8")


def script_frame(frame: str) -> bytes:
    """
    A frame of ``htmlfile``: a ``<script>`` element passing it to ``p``.
    """
    return ("<script>\np(" + quote_for_script(frame) + ");\n</script>\r\n").encode(
        "utf-8"
    )


def callback_frame(callback: str) -> Callable[[str], bytes]:
    """
    The frame format of ``jsonp``: a script calling *callback* (a name
    already checked as safe) with the frame.
    """

    def frame_format(frame: str) -> bytes:
        # The leading comment keeps the answer from being taken for a
        # Flash file (the "Rosetta Flash" attack).
        return "/**/{}({});\r\n".format(callback, quote_for_script(frame)).encode(
            "utf-8"
        )

    return frame_format
