"""
Starting the chat example: its web side and, unless an external Snorky is
given, a Snorky of its own in the same process.
"""

import secrets
from typing import Any, Dict, List, Optional

from twisted.internet.defer import gatherResults, maybeDeferred
from twisted.internet.endpoints import serverFromString
from twisted.web.server import Site

from examples.chat.web import ChatWeb
from snorky import ServiceRegistry
from snorky.backend import TwistedSnorkyBackend
from snorky.server import ServerOptions, SnorkySite
from snorky.services.chat import ChatService
from snorky.services.identity import IdentityBackend, IdentityService

__all__ = ["registries", "ChatExample"]


def registries() -> Dict[str, ServiceRegistry]:
    """
    The Snorky services the example needs: ``identity`` and ``chat`` for
    browsers, ``identity_backend`` for the web side.
    """
    identity = IdentityService("identity")
    return {
        "frontend": ServiceRegistry([identity, ChatService("chat")]),
        "backend": ServiceRegistry([IdentityBackend("identity_backend", identity)]),
    }


class ChatExample:
    """
    The running example.

    :param reactor: the reactor to listen with; the global one when ``None``.
    :param host: the interface to listen on.
    :ivar page_url: where a browser opens the chat, once started.
    :ivar registries: the registries of the Snorky it started, if any.
    """

    def __init__(self, reactor: Any = None, host: str = "127.0.0.1") -> None:
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.host = host
        self.page_url = ""
        self.web: Optional[ChatWeb] = None
        self.registries: Optional[Dict[str, ServiceRegistry]] = None
        self._ports: List[Any] = []
        self._closers: List[Any] = []

    async def _listen(self, port: int, site: Site) -> int:
        endpoint = serverFromString(
            self.reactor, "tcp:{}:interface={}".format(port, self.host)
        )
        listening = await endpoint.listen(site)
        self._ports.append(listening)
        return listening.getHost().port

    async def start(
        self,
        web_port: int = 8080,
        snorky_port: int = 5001,
        snorky_url: Optional[str] = None,
        backend_url: Optional[str] = None,
        backend_key: Optional[str] = None,
    ) -> None:
        """
        Listen. Port 0 picks a free port.

        :param snorky_url: with *backend_url* and *backend_key*, use that
            Snorky (for example ``twistd -n snorky`` with its default app)
            instead of starting one.
        """
        if backend_url is None:
            backend_key = secrets.token_urlsafe(32)
            self.registries = apps = registries()
            options = ServerOptions(backend_key=backend_key)
            frontend = SnorkySite(apps["frontend"], ["websocket"], options, self.reactor)
            self._closers.extend(frontend.closers)
            port = await self._listen(snorky_port, frontend)
            snorky_url = "ws://{}:{}/ws".format(self.host, port)
            backend = SnorkySite(apps["backend"], ["http"], options, self.reactor)
            port = await self._listen(0, backend)
            backend_url = "http://{}:{}/backend".format(self.host, port)
        connector = TwistedSnorkyBackend(backend_url, backend_key, reactor=self.reactor)
        self._closers.append(connector.close)
        self.web = ChatWeb(connector, snorky_url)
        port = await self._listen(web_port, Site(self.web.resource()))
        self.page_url = "http://{}:{}/".format(self.host, port)

    def stop(self) -> Any:
        """
        Close connections and stop listening; a ``Deferred`` fires when done.
        """
        closing = [maybeDeferred(close) for close in self._closers]
        closing += [maybeDeferred(port.stopListening) for port in self._ports]
        self._closers, self._ports = [], []
        return gatherResults(closing, consumeErrors=True)
