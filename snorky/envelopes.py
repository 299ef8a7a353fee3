"""Encoding and decoding of the wire envelope ``{"service", "message"}``."""

import json
import math
import re
from typing import Any, Tuple, Union

__all__ = [
    "EnvelopeError",
    "MAX_DEPTH",
    "canonical_json",
    "encode",
    "decode_envelope",
]

#: Deepest nesting of arrays and objects a frame may have, the envelope
#: itself counting as one level. Every later step (services wrapping a
#: message in a reply, the encoder, canonical keys, DataSync filters)
#: handles data this deep with room to spare, so a frame that decodes
#: can always be answered; the standard library's own limits are near
#: 1,000 levels and depend on how deep the stack already is.
MAX_DEPTH = 128
_TOO_DEEP = "Invalid JSON: nested deeper than {} levels".format(MAX_DEPTH)

_encoder = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False
)


class EnvelopeError(ValueError):
    """
    A frame that is not a valid envelope; the text says why.
    """


def encode(obj: Any) -> bytes:
    """
    Encode a JSON-able object as compact UTF-8 JSON.

    :raises ValueError: or :class:`TypeError` if *obj* is not JSON-able
        (this includes data nested too deeply to encode).
    """
    try:
        return _encoder.encode(obj).encode("utf-8")
    except RecursionError:
        raise ValueError("Nested too deeply to encode") from None


def canonical_json(value: Any) -> str:
    """
    The canonical text of a JSON value: equal values (identities, channels,
    documents) give equal keys, whatever the order of their object members.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _deeper_than(obj: Any, limit: int) -> bool:
    # Iterative, so that checking depth cannot itself run out of stack.
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        for child in value.values() if isinstance(value, dict) else value:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return False


def _reject_constant(name: str) -> Any:
    raise EnvelopeError("Invalid JSON: {} is not allowed".format(name))


def _parse_float(text: str) -> float:
    # 1e400 parses as infinity, which could never be encoded again.
    value = float(text)
    if math.isinf(value):
        raise EnvelopeError("Invalid JSON: number out of range")
    return value


# One decoder for every frame: json.loads with options builds a new one
# (and its scanner) per call, a tenth of an RPC call's CPU time.
_decoder = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_parse_float)


# A "\ud800" escape without its pair decodes to a lone surrogate, which
# can never be encoded as UTF-8 again; frames holding one are rejected so
# that every decoded message can be sent back out.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = "Invalid Unicode: unpaired surrogate"


def decode_envelope(data: Union[str, bytes]) -> Tuple[str, Any]:
    """
    Decode one frame into ``(service name, message)``.

    :raises EnvelopeError: if the frame is not UTF-8 JSON holding an object
        with a string ``service`` and a ``message``, or is nested deeper
        than :data:`MAX_DEPTH`.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise EnvelopeError("Invalid UTF-8") from None
    elif not data.isascii():
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            raise EnvelopeError(_LONE_SURROGATE) from None
    try:
        obj = _decoder.decode(data)
    except RecursionError:
        raise EnvelopeError(_TOO_DEEP) from None
    except ValueError as e:
        if isinstance(e, EnvelopeError):
            raise
        raise EnvelopeError("Invalid JSON") from None
    # Counting brackets is cheap and bounds the depth from above, so only
    # frames with many containers are walked.
    if (
        isinstance(obj, (dict, list))
        and data.count("[") + data.count("{") > MAX_DEPTH
        and _deeper_than(obj, MAX_DEPTH)
    ):
        raise EnvelopeError(_TOO_DEEP)
    if _SURROGATE_ESCAPE.search(data) is not None:
        try:
            encode(obj)
        except UnicodeEncodeError:
            raise EnvelopeError(_LONE_SURROGATE) from None
    if not isinstance(obj, dict):
        raise EnvelopeError("Envelope must be an object")
    service = obj.get("service")
    if not isinstance(service, str):
        raise EnvelopeError('Envelope needs a "service" string')
    if "message" not in obj:
        raise EnvelopeError('Envelope needs a "message"')
    return service, obj["message"]
