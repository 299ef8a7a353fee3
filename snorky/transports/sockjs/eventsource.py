"""The ``eventsource`` transport: frames as server-sent events."""

from typing import Union

from twisted.web.server import Request

from snorky.transports.sockjs.framing import event_frame
from snorky.transports.sockjs.interfaces import HTTPSessions, Route
from snorky.transports.sockjs.receiver import respond

__all__ = ["eventsource", "ROUTES"]

# Opera once needed a first line before the first event.
_PRELUDE = b"\r\n"


def eventsource(
    sessions: HTTPSessions, request: Request, session_id: str
) -> Union[bytes, int]:
    """
    Stream frames as server-sent events.
    """
    return respond(
        sessions,
        request,
        session_id,
        b"text/event-stream",
        event_frame,
        sessions.options.response_limit,
        _PRELUDE,
    )


#: The transport's URL.
ROUTES = (Route(b"eventsource", b"GET", eventsource),)
