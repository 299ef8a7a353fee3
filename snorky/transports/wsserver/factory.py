"""`ServerFactory`: an Autobahn server factory with Snorky's options, and `websocket_resource`."""

from typing import Any, Optional

from autobahn.twisted.resource import WebSocketResource
from autobahn.twisted.websocket import WebSocketServerFactory
from twisted.web.resource import IResource

from snorky.reactors import default_reactor
from snorky.transports.wsserver.connections import ConnectionSet
from snorky.transports.wsserver.options import WebSocketOptions, autobahn_options
from snorky.transports.wsserver.writes import WriteRounds

__all__ = ["ServerFactory", "websocket_resource"]


class ServerFactory(WebSocketServerFactory):
    """
    Makes :class:`~.protocol.ServerProtocol` connections (of the subclass
    in ``protocol``) with *options*.

    :param options: limits, keep-alive and write policy; defaults when
        ``None``.
    :param url: the public ``ws://`` or ``wss://`` URL, when known.
    :param reactor: for timers (the write rounds, probes, close
        timeouts); the global reactor when ``None``. (Autobahn's own
        timers always use the global one.)
    :param connections: the :class:`~.connections.ConnectionSet` to count
        connections in, shared by several factories of one endpoint; a new
        one when ``None``.
    :ivar writes: the :class:`~.writes.WriteRounds` of its connections.
    """

    #: Counts read by :mod:`snorky.ops`: frames and bytes written, slow
    #: consumers dropped, handshakes refused by ``max_connections``.
    frames_out = 0
    bytes_out = 0
    slow_consumers_dropped = 0
    connections_refused = 0

    def __init__(
        self,
        options: Optional[WebSocketOptions] = None,
        url: Optional[str] = None,
        reactor: Any = None,
        connections: Optional[ConnectionSet] = None,
    ) -> None:
        super().__init__(url=url, reactor=default_reactor(reactor), server="Snorky")
        self.options = options = options or WebSocketOptions()
        self.setProtocolOptions(**autobahn_options(options))
        if connections is None:
            connections = ConnectionSet(options.max_connections, self.reactor)
        self.connections = connections
        self.writes = WriteRounds(self.reactor, options.write_delay)


def websocket_resource(factory: ServerFactory) -> IResource:
    """
    A ``twisted.web`` resource serving WebSocket through *factory*, to
    mount in a ``Site`` (``root.putChild(b"ws", websocket_resource(f))``).
    """
    return WebSocketResource(factory)
