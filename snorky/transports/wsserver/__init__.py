"""
The Autobahn layer every Snorky WebSocket URL is built on: ``/ws``
(:mod:`snorky.transports.websocket`) and both WebSocket URLs of SockJS
(:mod:`snorky.transports.sockjs.websocket`), so that their limits cannot
drift apart.

One concept per module: :mod:`.options` (``WebSocketOptions``),
:mod:`.connections` (open connections, their limit, shutdown),
:mod:`.writebuffer` (the slow-consumer bound), :mod:`.writes` (the write
policy), :mod:`.sockets` (the fenced direct-to-socket write),
:mod:`.pings` (the ping rate), :mod:`.probe` (asking a peer whether it is
there), :mod:`.protocol` and :mod:`.factory` (putting them together).
"""

from snorky.transports.wsserver.connections import ConnectionSet
from snorky.transports.wsserver.factory import ServerFactory, websocket_resource
from snorky.transports.wsserver.options import WebSocketOptions
from snorky.transports.wsserver.protocol import ServerProtocol

__all__ = [
    "ConnectionSet",
    "ServerFactory",
    "ServerProtocol",
    "WebSocketOptions",
    "websocket_resource",
]
