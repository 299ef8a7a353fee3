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

import dataclasses
import ipaddress
import os
from dataclasses import dataclass, field
from typing import Any, Callable, List, Mapping, Optional, Sequence

from twisted.application.service import IService, MultiService, Service
from twisted.internet.defer import Deferred, gatherResults, maybeDeferred
from twisted.internet.endpoints import serverFromString
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import Site
from twisted.web.static import File

from snorky.limits import (
    BoundedRequest,
    LimitedFactory,
    LimitedHTTPChannel,
    LimitingReactor,
    PortLimits,
    connections_per_port,
    open_file_limit,
)
from snorky.loglimit import LogLimiter
from snorky.ports import UNKEYED_PROTOCOLS, PortSpec, PortSpecError
from snorky.ops import OpsService
from snorky.ops.service import check_exposure
from snorky.reactors import default_reactor
from snorky.registry import ServiceRegistry
from snorky.transports.http import BackendOptions, backend_resource
from snorky.transports.sockjs import SockJSOptions, sockjs_resource
from snorky.transports.websocket import (
    SnorkyWebSocketFactory,
    WebSocketOptions,
    websocket_resource,
)

__all__ = [
    "ServerOptions",
    "ListenError",
    "SnorkySite",
    "PortService",
    "make_service",
    "attach_broker",
    "BoundedRequest",
    "PortLimits",
]

#: Where snorky.js lives; browser-facing ports serve its scripts at the root.
STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")

#: The JavaScript client and its AngularJS and Knockout adapters.
SCRIPTS = ("snorky.js", "snorky-angular.js", "snorky-knockout.js")


@dataclass
class ServerOptions:
    """
    Options of every transport, shared by all ports.

    :ivar backend_key: the key the HTTP backend requires; needed by ports
        that serve ``http``.
    :ivar limits: the connection and request limits of every port (see
        :class:`~snorky.limits.PortLimits`).
    :ivar allow_unkeyed_private: serve private services (those marked
        ``private``, such as ``pubsub_backend``) on ports whose protocols
        do not check the backend key (``websocket``, ``sockjs``); without
        it such a port is refused.
    :ivar access_log: where each port writes a line per HTTP request (the
        combined log format): a file path, ``"-"`` for the Twisted log, or
        ``None`` (the default) for no access log.
    """

    websocket: WebSocketOptions = field(default_factory=WebSocketOptions)
    sockjs: SockJSOptions = field(default_factory=SockJSOptions)
    backend_key: Optional[str] = None
    backend_max_body_size: int = 1 << 20
    backend_timeout: float = 30.0
    limits: PortLimits = field(default_factory=PortLimits)
    allow_unkeyed_private: bool = False
    #: Credentials and readiness checks of ``ops`` ports
    #: (:class:`snorky.ops.OpsOptions`); defaults when ``None``.
    ops: Any = None
    access_log: Optional[str] = None


class ListenError(Exception):
    """
    A port could not start listening; the text says which and why.
    """


class SnorkySite(Site):
    """
    A ``twisted.web`` site serving one registry: ``/ws`` (WebSocket),
    ``/sockjs`` (SockJS), ``/backend`` (HTTP backend API) and the
    JavaScript client (``/snorky.js``, ``/snorky-angular.js``,
    ``/snorky-knockout.js``), as the port's protocols ask.

    Requests are received by a :class:`~snorky.limits.LimitedHTTPChannel`
    (deadline, early 413); form bodies are not parsed into
    ``request.args`` (nothing here reads them, and a malformed multipart
    body would otherwise get twisted.web's bare 400).

    :ivar closers: callables returning Deferreds that close the clients of
        each transport, for an orderly shutdown.
    :ivar max_body_size: the largest request body accepted: the backend's
        limit on ports serving ``http``, SockJS's message size limit on
        ports serving ``sockjs``, none otherwise.
    :ivar request_timeout: seconds a request has to arrive whole.
    """

    requestFactory = BoundedRequest
    # A plain HTTP/1.1 channel instead of twisted.web's proxy that can
    # switch to HTTP/2 (which needs the h2 package, not installed).
    protocol = LimitedHTTPChannel  # type: ignore[assignment]

    def __init__(
        self,
        registry: ServiceRegistry,
        protocols: Sequence[str],
        options: ServerOptions,
        reactor: Any = None,
    ) -> None:
        root = Resource()
        self.closers: List[Callable[[], Deferred]] = []
        # The transports, for the metrics of the ops port.
        self.websocket_factory: Optional[SnorkyWebSocketFactory] = None
        self.sockjs_resource: Any = None
        if "websocket" in protocols:
            factory = SnorkyWebSocketFactory(
                registry, options.websocket, reactor=reactor
            )
            self.websocket_factory = factory
            root.putChild(b"ws", websocket_resource(factory))
            self.closers.append(factory.close_all)
        if "sockjs" in protocols:
            sockjs = sockjs_resource(
                registry, options.sockjs, reactor=reactor, websocket=options.websocket
            )
            self.sockjs_resource = sockjs
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
        log_path = options.access_log if options.access_log != "-" else None
        super().__init__(
            root, logPath=log_path, reactor=reactor, parsePOSTFormSubmission=False
        )
        self._access_log = options.access_log is not None
        sizes = [0]
        if "http" in protocols:
            sizes.append(options.backend_max_body_size)
        if "sockjs" in protocols:
            sizes.append(options.sockjs.max_message_size)
        self.max_body_size = max(sizes)
        self.request_timeout = options.limits.request_timeout
        self.log_limiter = LogLimiter(self.reactor)


    def log(self, request: Any) -> None:
        # Formatting and writing the access log line was a tenth of a
        # backend request's time: only when asked for.
        if self._access_log:
            super().log(request)


class PortService(Service):
    """
    Listens on one port while running, through a
    :class:`~snorky.limits.LimitedFactory` that applies *limits*; on stop,
    closes its clients (for WebSocket with code 1001) and stops listening.

    :param backend: whether the port serves the backend (``http``, or a
        registry with private services): listening beyond loopback without
        TLS is then worth a warning.
    """

    log = Logger()

    def __init__(
        self,
        spec: PortSpec,
        site: SnorkySite,
        reactor: Any = None,
        limits: Optional[PortLimits] = None,
        backend: bool = False,
    ) -> None:
        reactor = default_reactor(reactor)
        self.spec = spec
        self.site = site
        self.backend = backend
        self.limits = limits or PortLimits()
        self._listener = LimitingReactor(reactor, self.limits)
        try:
            self.endpoint = serverFromString(self._listener, spec.endpoint)
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

    @property
    def factory(self) -> Optional[LimitedFactory]:
        """
        The :class:`~snorky.limits.LimitedFactory` counting this port's
        connections, once listening.
        """
        return self._listener.factory

    def _listening(self, port: Any) -> None:
        self.port = port
        address = port.getHost()
        self.log.info("Listening: {spec} at {address}", spec=str(self.spec),
                      address=address)
        if self.backend and not self._listener.tls and not _is_loopback(address):
            self.log.warn(
                "The backend port {spec} listens on {host} without TLS: the "
                "backend key and requests cross the network in clear text",
                spec=str(self.spec), host=address.host,
            )

    def stopService(self) -> Deferred:
        super().stopService()
        d = gatherResults(
            [maybeDeferred(close) for close in self.site.closers], consumeErrors=True
        )
        if self.port is not None:
            port, self.port = self.port, None
            d.addBoth(lambda _: port.stopListening())
        return d


def _is_loopback(address: Any) -> bool:
    """
    Whether *address* is reachable from this machine only: a loopback IP
    address, or anything that is not an IP address (a UNIX socket).
    """
    host = getattr(address, "host", None)
    if not isinstance(host, str):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def private_services(registry: ServiceRegistry) -> List[str]:
    """
    The names of *registry*'s private services: those for trusted callers
    only (``private = True``), which a port may serve only behind the
    backend key.
    """
    return sorted(
        name for name, service in registry.services.items()
        if getattr(service, "private", False)
    )


_TCP_TYPES = {"tcp": "127.0.0.1", "tcp6": "\\:\\:1"}


def loopback_by_default(spec: PortSpec) -> PortSpec:
    """
    *spec*, listening on loopback if it is a TCP endpoint that names no
    ``interface``: backend ports are private unless they say otherwise.
    """
    kind, _, rest = spec.endpoint.partition(":")
    if kind not in _TCP_TYPES or any(
        part.startswith("interface=") for part in rest.split(":")
    ):
        return spec
    endpoint = "{}:interface={}".format(spec.endpoint, _TCP_TYPES[kind])
    return dataclasses.replace(spec, endpoint=endpoint)


def make_service(
    registries: Mapping[str, ServiceRegistry],
    ports: Sequence[PortSpec],
    options: ServerOptions,
    reactor: Any = None,
    broker: Any = None,
) -> MultiService:
    """
    Build the service tree: one :class:`PortService` per port spec. With
    an ``ops`` port, the other ports and the registries are counted and
    served as metrics there (:mod:`snorky.ops`).

    A port that serves ``http`` or a registry with private services is a
    backend port: when its endpoint is TCP and names no interface, it
    listens on loopback only. When ``options.limits`` sets no total
    connection limit, each port gets an equal share of the open-file limit
    (see :func:`~snorky.limits.connections_per_port`), so that a flood of
    one port leaves the others the descriptors they need.

    :param broker: an :class:`~snorky.broker.IBroker` shared with other
        nodes (:func:`~snorky.broker.broker_from_url`); every service of
        *registries* that has a ``use_broker`` method is given it, and the
        broker (a Twisted service) runs in the tree, started before the
        ports. ``None`` keeps each service in-process.

    :raises PortSpecError: if a spec names an unknown registry, an
        unparsable endpoint, needs a backend key that is missing, or
        serves private services over a protocol that does not check the
        key (unless ``options.allow_unkeyed_private``).
    """
    limits = options.limits
    if limits.max_connections is None:
        limits = dataclasses.replace(
            limits, max_connections=connections_per_port(open_file_limit(), len(ports))
        )
    top = MultiService()
    if broker is not None:
        attach_broker(registries, broker)
        if IService.providedBy(broker):
            broker.setServiceParent(top)
    ops = None
    if any("ops" in spec.protocols for spec in ports):
        ops = OpsService(options.ops, reactor)
        ops.setServiceParent(top)
    for spec in ports:
        if ops is not None and "ops" in spec.protocols:
            _ops_port(ops, spec, reactor).setServiceParent(top)
            continue
        registry = registries.get(spec.registry)
        if registry is None:
            raise PortSpecError(
                "port spec {!r}: unknown registry {!r} (known: {})".format(
                    str(spec), spec.registry, ", ".join(sorted(registries))
                )
            )
        if "http" in spec.protocols and not options.backend_key:
            raise PortSpecError("port spec {!r} needs a backend key".format(str(spec)))
        private = private_services(registry)
        unkeyed = [p for p in spec.protocols if p in UNKEYED_PROTOCOLS]
        if private and unkeyed and not options.allow_unkeyed_private:
            raise PortSpecError(
                "port spec {!r} serves private services ({}) over {}, which "
                "does not check the backend key: serve registry {!r} over "
                "http only, or allow it explicitly".format(
                    str(spec), ", ".join(private), " and ".join(unkeyed),
                    spec.registry,
                )
            )
        backend = bool(private) or "http" in spec.protocols
        if backend:
            spec = loopback_by_default(spec)
        if ops is None:
            site = SnorkySite(registry, spec.protocols, options, reactor)
            PortService(spec, site, reactor, limits, backend).setServiceParent(top)
            continue
        watched, counted = ops.watch(spec, registry)
        site = SnorkySite(counted, spec.protocols, options, reactor)
        port = PortService(spec, site, reactor, limits, backend)
        port.setServiceParent(top)
        ops.attach(watched, site, port)
    if ops is not None:
        ops.watch_registries(registries)
        if broker is not None:
            ops.watch_broker(broker)
    return top


def attach_broker(registries: Mapping[str, ServiceRegistry], broker: Any) -> None:
    """
    Give *broker* to every service of *registries* that can use one (has
    a ``use_broker`` method), each once.
    """
    seen = set()
    for registry in registries.values():
        for service in registry.services.values():
            use = getattr(service, "use_broker", None)
            if use is not None and id(service) not in seen:
                seen.add(id(service))
                use(broker)


def _ops_port(ops: Any, spec: PortSpec, reactor: Any) -> "PortService":
    spec = loopback_by_default(spec)
    check_exposure(spec, ops.options)
    return PortService(spec, ops.site(), reactor)
