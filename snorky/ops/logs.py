"""
JSON logs: one JSON object per line, for log pipelines.

Built on Twisted's own JSON log observer
(:func:`twisted.logger.jsonFileLogObserver`): each event keeps Twisted's
keys (``log_namespace``, ``log_level``...) and gains the ones a pipeline
looks for first:

``time``
    ISO 8601, UTC, with milliseconds.
``level``
    ``debug``, ``info``, ``warn``, ``error`` or ``critical``.
``system``
    Twisted's ``log_system`` (for example ``-`` or a protocol's name).
``message``
    The event's text, as the plain log would show it.

The structured fields of Snorky's own events stay as they are: ``service``,
``command``, ``code`` (close or status codes), ``reason``; a ``client``
becomes its address (``client``) and its transport (``transport``).

Keys and tokens never appear: fields whose names say they hold a secret
(``key``, ``token``, ``password``, ``secret``, ``authorization``...) are
replaced with ``"<redacted>"``, and the secret values the server knows
(:func:`register_secret`: the backend and ops keys) are cut out of every
text. Use it with ``twistd --logger snorky.ops.logs.json_logger snorky ...``
(standard output) or ``twistd snorky --log-json PATH``.
"""

import re
import sys
from datetime import datetime, timezone
from typing import IO, Any, Dict, Optional, Set

from twisted.logger import (
    FileLogObserver,
    ILogObserver,
    LogEvent,
    formatEvent,
    jsonFileLogObserver,
)
from zope.interface import implementer

from snorky.client import Client

__all__ = ["JSONLogObserver", "json_logger", "register_secret", "REDACTED"]

REDACTED = "<redacted>"

#: Field names that hold secrets, matched anywhere in the name.
_SECRET_NAME = re.compile(
    r"key|token|passw|secret|authori[sz]ation|credential|cookie", re.IGNORECASE
)

#: Twisted's own keys, whose names may match the above but hold no secret.
_TWISTED_KEYS = frozenset(
    ["log_format", "log_level", "log_namespace", "log_source", "log_logger",
     "log_time", "log_system", "log_failure", "log_io", "log_text", "log_trace",
     "log_flattened", "log_legacy", "format", "message", "isError", "system",
     "time", "why", "failure"]
)

#: The secret values the process knows; cut out of every logged text.
_SECRETS: Set[str] = set()


def register_secret(value: Optional[str]) -> None:
    """
    Have *value* cut out of every JSON log line from now on (values shorter
    than 8 characters are ignored: they would cut ordinary words).
    """
    if value and len(value) >= 8:
        _SECRETS.add(value)


def _scrub(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _iso(timestamp: Optional[float]) -> Optional[str]:
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def prepare(event: LogEvent) -> Dict[str, Any]:
    """
    A copy of *event* with the pipeline's keys added and secrets removed,
    for Twisted's JSON encoder.
    """
    out: Dict[str, Any] = {}
    for name, value in event.items():
        if name not in _TWISTED_KEYS and _SECRET_NAME.search(name):
            value = REDACTED
        elif isinstance(value, Client):
            out["transport"] = value.transport_name
            value = value.remote_address
        elif isinstance(value, str):
            value = _scrub(value)
        out[name] = value
    # Formatted from the redacted fields: a secret named in the format
    # string stays out of the message too.
    text = formatEvent(out)
    level = event.get("log_level")
    out["time"] = _iso(event.get("log_time"))
    out["level"] = getattr(level, "name", "info")
    out["system"] = event.get("log_system", "-")
    failure = event.get("log_failure")
    if failure is not None:
        text = "{}\n{}".format(text, failure.getTraceback())
    out["message"] = _scrub(text)
    # Already rendered into message, with the secrets cut out; Twisted's
    # encoder would otherwise render the format again from the raw fields.
    out.pop("log_format", None)
    out.pop("log_failure", None)
    # Objects Twisted's encoder can only write as "unpersistable".
    out.pop("log_logger", None)
    out.pop("log_source", None)
    return out


@implementer(ILogObserver)
class JSONLogObserver:
    """
    Writes each event to *out* as one line of JSON (no record separator).
    """

    def __init__(self, out: IO[Any]) -> None:
        self._observer: FileLogObserver = jsonFileLogObserver(out, recordSeparator="")

    def __call__(self, event: LogEvent) -> None:
        self._observer(prepare(event))


def json_logger(out: Optional[IO[Any]] = None) -> JSONLogObserver:
    """
    The observer ``twistd --logger snorky.ops.logs.json_logger`` makes:
    JSON lines on the process's standard output.
    """
    return JSONLogObserver(out if out is not None else sys.__stdout__)  # type: ignore[arg-type]
