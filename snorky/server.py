"""
Composing registries and ports into a Twisted service tree.

This is what ``twistd -n snorky`` runs, available as plain Python for
applications that embed Snorky in their own Twisted process::

    from snorky.server import ServerOptions, make_service
    from snorky.ports import parse_port_spec

    service = make_service(
        {"frontend": frontend, "backend": backend},
        [parse_port_spec("frontend:websocket:tcp:5001"),
         parse_port_spec("backend:http:tcp:5002:interface=127.0.0.1")],
        ServerOptions(backend_key="..."),
    )
    service.setServiceParent(application)
"""

import os
from io import BytesIO
from dataclasses import dataclass, field
from typing import Any, Callable, List, Mapping, Optional, Sequence

from twisted.application.service import MultiService, Service
from twisted.internet.defer import Deferred, gatherResults, maybeDeferred
from twisted.internet.endpoints import serverFromString
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import Request, Site
from twisted.web.static import File

from snorky.ports import PortSpec, PortSpecError
from snorky.registry import ServiceRegistry
from snorky.transports.http import BackendOptions, backend_resource
from snorky.transports.websocket import (
    SnorkyWebSocketFactory,
    WebSocketOptions,
    websocket_resource,
)

__all__ = ["ServerOptions", "ListenError", "SnorkySite", "PortService", "make_service"]

#: Where snorky.js lives; browser-facing ports serve its scripts at the root.
STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")

#: The JavaScript client and its AngularJS and Knockout adapters.
SCRIPTS = ("snorky.js", "snorky-angular.js", "snorky-knockout.js")


def _sockjs_options() -> Any:
    from snorky.transports.sockjs import SockJSOptions

    return SockJSOptions()


@dataclass
class ServerOptions:
    """
    Options of every transport, shared by all ports.

    :ivar backend_key: the key the HTTP backend requires; needed by ports
        that serve ``http``.
    """

    websocket: WebSocketOptions = field(default_factory=WebSocketOptions)
    sockjs: Any = field(default_factory=_sockjs_options)
    backend_key: Optional[str] = None
    backend_max_body_size: int = 1 << 20
    backend_timeout: float = 30.0


class ListenError(Exception):
    """
    A port could not start listening; the text says which and why.
    """


class BoundedRequest(Request):
    """
    A request that keeps at most its site's ``max_body_size`` + 1 bytes of
    body, in memory: a huge upload can neither fill the disk (as
    twisted.web's spooling to a temporary file would) nor memory, and the
    resource still sees that the body was too large.
    """

    def gotLength(self, length: Optional[int]) -> None:
        self.content = BytesIO()

    def handleContentChunk(self, data: bytes) -> None:
        room = self.channel.site.max_body_size + 1 - self.content.tell()
        if room > 0:
            self.content.write(data[:room])


class SnorkySite(Site):
    """
    A ``twisted.web`` site serving one registry: ``/ws`` (WebSocket),
    ``/sockjs`` (SockJS), ``/backend`` (HTTP backend API) and the
    JavaScript client (``/snorky.js``, ``/snorky-angular.js``,
    ``/snorky-knockout.js``), as the port's protocols ask.

    :ivar closers: callables returning Deferreds that close the clients of
        each transport, for an orderly shutdown.
    :ivar max_body_size: the most request body bytes kept (see
        :class:`BoundedRequest`).
    """

    requestFactory = BoundedRequest

    def __init__(
        self,
        registry: ServiceRegistry,
        protocols: Sequence[str],
        options: ServerOptions,
        reactor: Any = None,
    ) -> None:
        root = Resource()
        self.closers: List[Callable[[], Deferred]] = []
        if "websocket" in protocols:
            factory = SnorkyWebSocketFactory(
                registry, options.websocket, reactor=reactor
            )
            root.putChild(b"ws", websocket_resource(factory))
            self.closers.append(factory.close_all)
        if "sockjs" in protocols:
            from snorky.transports.sockjs import sockjs_resource

            sockjs = sockjs_resource(registry, options.sockjs, reactor=reactor)
            root.putChild(b"sockjs", sockjs)
            self.closers.append(sockjs.close_all)
        if "http" in protocols:
            if not options.backend_key:
                raise ValueError("a port serving http needs a backend key")
            backend = BackendOptions(
                key=options.backend_key,
                max_body_size=options.backend_max_body_size,
                timeout=options.backend_timeout,
            )
            root.putChild(b"backend", backend_resource(registry, backend, reactor))
        if "websocket" in protocols or "sockjs" in protocols:
            for name in SCRIPTS:
                root.putChild(
                    name.encode("ascii"),
                    File(os.path.join(STATIC_DIR, name), "text/javascript"),
                )
        super().__init__(root, reactor=reactor)
        self.max_body_size = max(
            options.backend_max_body_size, options.sockjs.max_message_size
        )


class PortService(Service):
    """
    Listens on one port while running; on stop, closes its clients (for
    WebSocket with code 1001) and stops listening.
    """

    log = Logger()

    def __init__(self, spec: PortSpec, site: SnorkySite, reactor: Any = None) -> None:
        if reactor is None:
            from twisted.internet import reactor
        self.spec = spec
        self.site = site
        try:
            self.endpoint = serverFromString(reactor, spec.endpoint)
        except Exception as e:
            raise PortSpecError(
                "port spec {!r}: bad endpoint {!r}: {}".format(
                    str(spec), spec.endpoint, e
                )
            ) from None
        self.port: Any = None
        self.setName(str(spec))

    def startService(self) -> None:
        """
        Listen; a failure that is known at once raises :class:`ListenError`.
        """
        super().startService()
        failures: list = []
        d = self.endpoint.listen(self.site)
        d.addCallbacks(self._listening, failures.append)
        if failures:
            self.running = False
            raise ListenError(
                "cannot listen on {}: {}".format(
                    self.spec.endpoint, failures[0].getErrorMessage()
                )
            )

    def _listening(self, port: Any) -> None:
        self.port = port
        self.log.info("Listening: {spec} at {address}", spec=str(self.spec),
                      address=port.getHost())

    def stopService(self) -> Deferred:
        super().stopService()
        d = gatherResults(
            [maybeDeferred(close) for close in self.site.closers], consumeErrors=True
        )
        if self.port is not None:
            port, self.port = self.port, None
            d.addBoth(lambda _: port.stopListening())
        return d


def make_service(
    registries: Mapping[str, ServiceRegistry],
    ports: Sequence[PortSpec],
    options: ServerOptions,
    reactor: Any = None,
) -> MultiService:
    """
    Build the service tree: one :class:`PortService` per port spec.

    :raises PortSpecError: if a spec names an unknown registry, an
        unparsable endpoint, or needs a backend key that is missing.
    """
    top = MultiService()
    for spec in ports:
        registry = registries.get(spec.registry)
        if registry is None:
            raise PortSpecError(
                "port spec {!r}: unknown registry {!r} (known: {})".format(
                    str(spec), spec.registry, ", ".join(sorted(registries))
                )
            )
        if "http" in spec.protocols and not options.backend_key:
            raise PortSpecError("port spec {!r} needs a backend key".format(str(spec)))
        site = SnorkySite(registry, spec.protocols, options, reactor)
        PortService(spec, site, reactor).setServiceParent(top)
    return top
