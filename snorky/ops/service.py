"""
`OpsService`: the metrics of a server and its ``ops`` ports, as one piece
of the service tree :func:`snorky.server.make_service` builds.

``make_service`` asks it, for each ordinary port, for the registry to give
the port's transports (:meth:`OpsService.watch`), tells it the port's site
and service once built (:meth:`OpsService.attach`), and listens on each
``ops`` port with :meth:`OpsService.site`.
"""

import re
from typing import Any, Mapping, Optional, Tuple

from twisted.application.service import Service
from twisted.web.server import Site

from snorky.ops.metrics import Metrics, WatchedPort
from snorky.ops.resource import OpsOptions, OpsResource
from snorky.ports import PortSpec, PortSpecError
from snorky.registry import ServiceRegistry

__all__ = ["OpsService", "OpsSite", "check_exposure"]

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def check_exposure(spec: PortSpec, options: OpsOptions) -> None:
    """
    Refuse an ``ops`` port listening beyond loopback without credentials
    (one that names no interface listens on loopback:
    :func:`snorky.server.loopback_by_default`).

    :raises PortSpecError: for a TCP ops port on another interface without
        a key or basic auth.
    """
    # Colons escaped with a backslash (IPv6 addresses) do not split.
    parts = re.split(r"(?<!\\):", spec.endpoint)
    if parts[0] not in ("tcp", "tcp6") or options.protected:
        return
    for part in parts[1:]:
        if part.startswith("interface="):
            interface = part[len("interface="):].replace("\\", "").strip("[]")
            if interface not in _LOOPBACK and not interface.startswith("127."):
                raise PortSpecError(
                    "port spec {!r}: an ops port beyond loopback needs "
                    "--ops-key-file or --ops-basic-auth-file".format(str(spec))
                )


class OpsSite(Site):
    """
    The site of an ``ops`` port; it has no clients to close on shutdown.
    """

    def __init__(self, resource: OpsResource, reactor: Any = None) -> None:
        super().__init__(resource, reactor=reactor)
        self.closers: list = []
        # Prometheus scrapes every few seconds: no access log line for each.
        self.noisy = False

    def log(self, request: Any) -> None:
        pass


class OpsService(Service):
    """
    Keeps the metrics of one server: starts and stops what records as it
    happens, and builds the ``ops`` ports' sites.

    :param options: the ops ports' credentials and readiness checks.
    :param reactor: for the metrics' timers and the sites.
    """

    def __init__(self, options: Optional[OpsOptions] = None, reactor: Any = None) -> None:
        self.options = options or OpsOptions()
        self.reactor = reactor
        self.metrics = Metrics(reactor)
        #: Times probes through a shared broker, once one is watched.
        self.broker_lag: Any = None

    def watch(self, spec: PortSpec, registry: ServiceRegistry) -> Tuple[WatchedPort, Any]:
        """
        Start counting the port of *spec*, serving *registry*.

        :returns: the port's record and the registry its transports get.
        """
        name = self.metrics.port_name(spec.registry)
        return self.metrics.watch_port(name, spec.protocols, registry)

    def attach(self, port: WatchedPort, site: Any, service: Any) -> None:
        """
        Tell the metrics about the port's *site* (its transports) and its
        *service* (whether it listens), and make it a readiness check.
        """
        port.websocket = getattr(site, "websocket_factory", None)
        port.sockjs = getattr(site, "sockjs_resource", None)
        port.listening = lambda: service.running and service.port is not None
        port.sockets = lambda: getattr(service, "factory", None)
        if "http" in port.protocols:
            self.metrics.count_responses(port, site)
        self.options.readiness.add("port " + port.name, port.listening)

    def watch_registries(self, registries: Mapping[str, ServiceRegistry]) -> None:
        """
        Export the services of every registry.
        """
        for name, registry in registries.items():
            self.metrics.watch_registry(name, registry)

    def watch_broker(self, broker: Any) -> None:
        """
        Export the link state and traffic of *broker*, and make its link a
        readiness check: a node cut off from the other nodes is not ready.
        """
        self.metrics.broker = broker
        self.options.readiness.add("broker", lambda: bool(getattr(broker, "available", True)))
        if getattr(broker, "shared", False):
            from snorky.ops.brokerlag import BrokerLag

            self.broker_lag = BrokerLag(broker, self.metrics.registry, self.metrics.reactor)

    def site(self) -> OpsSite:
        """
        A new site serving the ops resource.
        """
        return OpsSite(OpsResource(self.metrics.registry, self.options), self.reactor)

    def startService(self) -> None:
        super().startService()
        self.metrics.start()
        if self.broker_lag is not None:
            self.broker_lag.start()

    def stopService(self) -> None:
        super().stopService()
        self.metrics.stop()
        if self.broker_lag is not None:
            self.broker_lag.stop()
