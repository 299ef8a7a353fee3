"""`SockJSOptions`: the settings of one SockJS resource."""

from dataclasses import dataclass
from typing import Optional, Sequence

from snorky.transports.origins import check_patterns

__all__ = ["SockJSOptions", "DEFAULT_SOCKJS_URL"]

#: Where the iframe page loads sockjs-client from unless told otherwise;
#: the public CDN copy of sockjs-client 1.x, as other SockJS servers use.
DEFAULT_SOCKJS_URL = "https://cdn.jsdelivr.net/npm/sockjs-client@1/dist/sockjs.min.js"


@dataclass
class SockJSOptions:
    """
    Settings of one SockJS resource.

    :ivar heartbeat_delay: seconds between heartbeat frames on an idle
        receiving connection.
    :ivar disconnect_delay: seconds a session without a receiving
        connection is kept before it times out; also how long a closed
        session keeps answering with its close frame.
    :ivar response_limit: bytes a streaming response may carry before it
        is ended, so that browsers can free the memory it holds.
    :ivar websocket: whether the WebSocket transports are offered.
    :ivar cookie_needed: whether session responses set a ``JSESSIONID``
        cookie, for load balancers that need it for sticky sessions.
    :ivar sockjs_url: the sockjs-client script the iframe page loads.
    :ivar sockjs_file: a local copy of that script (for example
        ``node_modules/sockjs-client/dist/sockjs.min.js``); when set, the
        resource serves it and the iframe page loads it from there, so
        pages work without network access.
    :ivar max_message_size: bytes one request body or one WebSocket
        message may have.
    :ivar max_queue: messages that may wait for a slow client; past it
        the session is closed.
    :ivar max_sessions: HTTP sessions one resource keeps at a time.
    :ivar max_sessions_per_address: HTTP sessions one client address may
        hold at a time (IPv6 addresses count by their /64 prefix), so that
        one client cannot take all of ``max_sessions``; ``None`` for no
        such limit (behind a proxy or load balancer every session comes
        from its address).
    :ivar allowed_origins: patterns a browser's ``Origin`` must match, as
        for ``WebSocketOptions.allowed_origins`` (``*`` matches anything,
        ``https://app.example.com`` also its default port,
        ``*.example.com`` http and https). A WebSocket handshake from
        another origin is refused; an HTTP request gets ``403``. Clients
        that send no ``Origin`` are always admitted. The server's own
        origin is not admitted unless listed (DNS rebinding); the iframe
        transports need it listed.
    """

    heartbeat_delay: float = 25.0
    disconnect_delay: float = 5.0
    response_limit: int = 128 * 1024
    websocket: bool = True
    cookie_needed: bool = False
    sockjs_url: str = DEFAULT_SOCKJS_URL
    sockjs_file: Optional[str] = None
    max_message_size: int = 1024 * 1024
    max_queue: int = 1000
    max_sessions: int = 10000
    max_sessions_per_address: Optional[int] = 1000
    allowed_origins: Sequence[str] = ("*",)

    def __post_init__(self) -> None:
        check_patterns(self.allowed_origins)
        cap = self.max_sessions_per_address
        if cap is not None and (not isinstance(cap, int) or cap < 1):
            raise ValueError(
                "max_sessions_per_address must be a positive integer or None, "
                "not {!r}".format(cap)
            )
