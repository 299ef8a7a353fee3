"""
Starting the Players example: a Snorky with DataSync in this process, and
the example's web side.
"""

import secrets
from typing import Any, Dict, List, Optional

from twisted.internet.defer import Deferred, gatherResults, maybeDeferred
from twisted.internet.endpoints import serverFromString
from twisted.protocols.policies import WrappingFactory
from twisted.web.server import Site

from examples.players.dealers import AllPlayers, PlayersByColor
from examples.players.store import PlayerStore
from examples.players.web import PlayersWeb
from snorky import ServiceRegistry
from snorky.backend import TwistedSnorkyBackend
from snorky.server import ServerOptions, SnorkySite
from snorky.services.datasync import DataSyncBackend, DataSyncService

__all__ = ["registries", "PlayersExample"]


def registries(reactor: Any = None) -> Dict[str, ServiceRegistry]:
    """
    The Snorky services the example needs: ``datasync`` for browsers and
    ``datasync_backend`` for the web side.
    """
    datasync = DataSyncService("datasync", [AllPlayers, PlayersByColor], reactor=reactor)
    return {
        "frontend": ServiceRegistry([datasync]),
        "backend": ServiceRegistry([DataSyncBackend("datasync_backend", datasync)]),
    }


class PlayersExample:
    """
    The running example: Snorky's frontend port (WebSocket and SockJS),
    its backend port (private, on a free port), and the web side.

    Stopping it drops every connection and forgets every subscription, as
    the end of the process would, so stopping and starting it again is a
    restart: Snorky comes back empty, the database is opened again.

    :param reactor: the reactor to listen with; the global one when ``None``.
    :param host: the interface to listen on.
    :param db_path: the SQLite database file.
    :ivar page_url: where a browser opens the page, once started.
    """

    def __init__(
        self, reactor: Any = None, host: str = "127.0.0.1", db_path: str = ":memory:"
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.host = host
        self.db_path = db_path
        self.page_url = ""
        self.web: Optional[PlayersWeb] = None
        self._datasync: Optional[DataSyncService] = None
        # (listening port, WrappingFactory that knows its connections)
        self._ports: List[Any] = []
        self._closers: List[Any] = []

    async def _listen(self, port: int, site: Site) -> int:
        endpoint = serverFromString(
            self.reactor, "tcp:{}:interface={}".format(port, self.host)
        )
        factory = WrappingFactory(site)
        listening = await endpoint.listen(factory)
        self._ports.append((listening, factory))
        return int(listening.getHost().port)

    async def start(self, web_port: int = 8080, snorky_port: int = 5001) -> None:
        """
        Listen. Port 0 picks a free port.
        """
        apps = registries(self.reactor)
        self._datasync = apps["frontend"].services["datasync"]  # type: ignore[assignment]
        options = ServerOptions(backend_key=secrets.token_urlsafe(32))
        frontend = SnorkySite(apps["frontend"], ["websocket", "sockjs"], options, self.reactor)
        self._closers.extend(frontend.closers)
        port = await self._listen(snorky_port, frontend)
        snorky = "{}:{}".format(self.host, port)
        backend = SnorkySite(apps["backend"], ["http"], options, self.reactor)
        port = await self._listen(0, backend)
        connector = TwistedSnorkyBackend(
            "http://{}:{}/backend".format(self.host, port),
            options.backend_key,
            reactor=self.reactor,
        )
        self._closers.append(connector.close)
        store = PlayerStore(self.db_path, sample=True)
        self._closers.append(store.close)
        self.web = PlayersWeb(
            store, connector, "ws://{}/ws".format(snorky), "http://{}/sockjs".format(snorky)
        )
        port = await self._listen(web_port, Site(self.web.resource()))
        self.page_url = "http://{}:{}/".format(self.host, port)

    def stop(self) -> Deferred:
        """
        Close Snorky's clients, the database and every other connection,
        forget the subscriptions, and stop listening; a ``Deferred`` fires
        when done.
        """
        closers, self._closers = self._closers, []
        ports, self._ports = self._ports, []
        datasync, self._datasync = self._datasync, None
        if datasync is not None:
            for subscription in list(datasync.subscriptions.values()):
                datasync.cancel(subscription)

        def drop(_: Any) -> Deferred:
            # Keep-alive HTTP connections would otherwise outlive the stop.
            for _port, factory in ports:
                for protocol in list(factory.protocols):
                    protocol.transport.abortConnection()
            return gatherResults(
                [maybeDeferred(port.stopListening) for port, _factory in ports],
                consumeErrors=True,
            )

        closing = gatherResults([maybeDeferred(close) for close in closers],
                                consumeErrors=True)
        return closing.addBoth(drop)
