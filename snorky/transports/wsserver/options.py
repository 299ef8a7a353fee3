"""`WebSocketOptions`: the limits, keep-alive and write policy of a WebSocket endpoint."""

from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence

from snorky.transports.origins import OriginPolicy, check_patterns

__all__ = ["WebSocketOptions", "autobahn_options"]


@dataclass
class WebSocketOptions:
    """
    Limits, keep-alive and write policy of a WebSocket endpoint: ``/ws``,
    and both WebSocket URLs of a SockJS endpoint.

    :param ping_interval: seconds between keep-alive pings; a peer that has
        not answered a ping within the same time is dropped. ``0`` turns
        pings off.
    :param allowed_origins: patterns the browser's ``Origin`` must match,
        ``*`` matching any run of characters (Autobahn's
        ``allowedOrigins``). Patterns are matched against
        ``scheme://host:port``; one written without a port
        (``https://app.example.com``) also matches the scheme's default
        port, and one without a scheme (``*.example.com``) means http and
        https on their default ports. ``"*"`` or ``"null"`` also admit the
        ``null`` origin of local files. Clients that send no ``Origin``
        (non-browsers) are always admitted.
    :param max_message_size: the largest message, in bytes, a client may
        send; a larger one closes the connection with code 1009.
    :param max_connections: open connections beyond which new handshakes
        are refused with HTTP 503; ``None`` for no limit.
    :param max_write_buffer: bytes that may wait to be sent to one client
        while its socket is backed up, control frames (pongs) included;
        beyond that the client is dropped as a slow consumer.
    :param write_delay: how long a message sent to many clients at once
        (a fan-out) may wait to be written together with the next ones. A
        connection written to less than *write_delay* seconds ago is busy:
        its fan-out messages wait until that much time has passed since
        the last write, so a busy stream costs one socket write per
        connection per *write_delay*. A connection that is not busy, and
        every answer to a client (an RPC response, an error, anything sent
        to one client alone), is written at the end of the reactor turn
        that produced it. ``0`` always writes at the end of the turn.
    :param max_ping_rate: pings per second a client may send, on average
        (bursts of twice as many are let through); a client that pings
        faster is closed with code 1008.
    """

    ping_interval: float = 90.0
    allowed_origins: Sequence[str] = ("*",)
    max_message_size: int = 1 << 20
    max_connections: Optional[int] = None
    max_write_buffer: int = 4 << 20
    write_delay: float = 0.02
    max_ping_rate: float = 10.0

    def __post_init__(self) -> None:
        if self.ping_interval < 0:
            raise ValueError("ping_interval must be 0 (off) or positive")
        check_patterns(self.allowed_origins)
        if self.max_message_size < 1:
            raise ValueError("max_message_size must be positive")
        if self.max_connections is not None and self.max_connections < 1:
            raise ValueError("max_connections must be positive or None")
        if self.max_write_buffer < 1:
            raise ValueError("max_write_buffer must be positive")
        if self.write_delay < 0:
            raise ValueError("write_delay must be 0 or positive")
        if self.max_ping_rate <= 0:
            raise ValueError("max_ping_rate must be positive")


def autobahn_options(options: WebSocketOptions) -> Dict[str, Any]:
    """
    The keyword arguments of Autobahn's ``setProtocolOptions`` that apply
    *options* (the connection limit and the write bound are Snorky's own).
    """
    return dict(
        webStatus=False,
        maxMessagePayloadSize=options.max_message_size,
        maxFramePayloadSize=options.max_message_size,
        autoPingInterval=options.ping_interval,
        autoPingTimeout=options.ping_interval,
        # Close with a proper code (1002, 1003, 1009) instead of dropping.
        failByDrop=False,
        **OriginPolicy(options.allowed_origins).websocket_options(),
    )
