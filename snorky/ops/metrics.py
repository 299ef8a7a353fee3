"""
`Metrics`: every number Snorky exports, in one ``prometheus_client``
registry.

Most numbers are read when Prometheus scrapes, from what the server keeps
anyway (open sessions, subscriptions, channels) or from plain integers the
hot paths bump (frames written, deliveries): :class:`SnorkyCollector`
turns them into metric families. Only events that need a histogram (RPC
latency, publish-to-write latency, garbage-collection pauses) are recorded
as they happen, through ``prometheus_client``'s own metric objects.

Label sets are bounded: ports and registries come from the configuration,
services and dealers from the application, commands from the services'
declared commands; never a label per client, channel or token.
"""

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)

from snorky.ops.counting import PortCounts, PortRegistry
from snorky.ops.gcpauses import GCPauses
from snorky.reactors import default_reactor
from snorky.registry import ServiceRegistry
from snorky.services.base import RPCService, Service

__all__ = ["Metrics", "WatchedPort", "SnorkyCollector", "LATENCY_BUCKETS", "outcome_of"]

#: Histogram buckets, in seconds, for RPC and delivery latencies.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)

#: Error texts that mean the caller sent something unusable.
_BAD_INPUT = frozenset(["Unknown command", "Invalid params", "Invalid message"])
_BAD_INPUT_PREFIXES = ("Missing field", "Invalid ")


def outcome_of(error: Optional[str]) -> str:
    """
    The ``outcome`` label of an RPC call answered with *error* (``None``
    for a response): ``ok``, ``bad_input`` or ``error``.
    """
    if error is None:
        return "ok"
    if error in _BAD_INPUT or error.startswith(_BAD_INPUT_PREFIXES):
        return "bad_input"
    return "error"


@dataclass
class WatchedPort:
    """
    One listening port as the metrics see it.

    :ivar name: the ``port`` label.
    :ivar protocols: what it serves.
    :ivar counts: its connection and frame counters.
    :ivar websocket: its WebSocket factory, if it serves WebSocket.
    :ivar sockjs: its SockJS resource, if it serves SockJS.
    :ivar listening: tells whether it listens now.
    :ivar sockets: gives the port's connection-counting factory
        (:class:`snorky.limits.LimitedFactory`), once listening.
    :ivar responses: backend HTTP responses by status code.
    """

    name: str
    protocols: Tuple[str, ...]
    counts: PortCounts = field(default_factory=PortCounts)
    websocket: Any = None
    sockjs: Any = None
    listening: Callable[[], bool] = lambda: False
    sockets: Callable[[], Any] = lambda: None
    responses: Dict[str, int] = field(default_factory=dict)


#: Help text of every family the collector builds.
DOCS = {
    "snorky_port_listening": "Whether the port listens (1) or not (0).",
    "snorky_sockets_open": "TCP connections open now, whatever they carry.",
    "snorky_connections_open": "Connections open now.",
    "snorky_connections_opened": "Connections opened.",
    "snorky_connections_closed": "Connections closed.",
    "snorky_frames_received": "Frames received from clients.",
    "snorky_received_bytes": "Bytes of the frames received.",
    "snorky_frames_sent": "Frames written to clients.",
    "snorky_sent_bytes": "Bytes of the frames written (characters for SockJS).",
    "snorky_messages_received": "Envelopes received, by the service they name.",
    "snorky_messages_sent": "Messages sent to clients, by service.",
    "snorky_slow_consumers_dropped": "Connections dropped for reading too slowly.",
    "snorky_connections_refused": "Connections refused because a limit was reached.",
    "snorky_sockjs_sessions": "SockJS sessions open now, by the transport that "
    "opened them.",
    "snorky_backend_requests": "Backend API requests answered, by HTTP status code.",
    "snorky_datasync_subscriptions": "Subscriptions, by dealer and state (awaiting: "
    "authorized; active: held; detached: in grace; expired).",
    "snorky_datasync_deltas_published": "Deltas published.",
    "snorky_datasync_deliveries": "Delta messages handed to subscription holders.",
    "snorky_datasync_replays": "Re-acquisitions served from the replay log.",
    "snorky_datasync_translations": "Updates delivered as an insert or a delete "
    "because the item entered or left a subscription's view.",
    "snorky_datasync_expirations": "Subscriptions expired, by reason.",
    "snorky_broker_up": "Whether the broker can be used now (1) or not (0).",
    "snorky_broker_state": "The broker link's state (starting, up, down, refused): 1 "
    "for the current one.",
    "snorky_broker_published": "Messages and log entries this node sent to the broker.",
    "snorky_broker_received": "Messages this node received from the broker.",
    "snorky_pubsub_channels": "PubSub channels with subscribers.",
    "snorky_pubsub_subscriptions": "PubSub subscriptions (a client on a channel).",
    "snorky_chat_channels": "Chat channels with members.",
    "snorky_chat_members": "Chat members (an identity in a channel).",
    "snorky_messaging_participants": "Messaging participant names held.",
    "snorky_cursors": "Cursors in shared documents.",
    "snorky_cursors_documents": "Documents with clients in them.",
}


class _Families:
    """
    Builds the families of one scrape, creating each on first use.
    """

    def __init__(self) -> None:
        self._families: Dict[str, Any] = {}

    def add(self, kind: Any, name: str, labels: Dict[str, str], value: float) -> None:
        family = self._families.get(name)
        if family is None:
            family = self._families[name] = kind(name, DOCS[name], labels=list(labels))
        family.add_metric(list(labels.values()), value)

    def declare(self, kind: Any, name: str, labels: Iterable[str]) -> None:
        """
        Make *name* appear even with no samples.
        """
        if name not in self._families:
            self._families[name] = kind(name, DOCS[name], labels=list(labels))

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._families.values())


_C, _G = CounterMetricFamily, GaugeMetricFamily

#: Port counters and the families they feed.
_PORT_COUNTERS = (
    ("opened", "snorky_connections_opened"),
    ("closed", "snorky_connections_closed"),
    ("frames_in", "snorky_frames_received"),
    ("bytes_in", "snorky_received_bytes"),
    ("frames_out", "snorky_frames_sent"),
    ("bytes_out", "snorky_sent_bytes"),
)


class SnorkyCollector:
    """
    A ``prometheus_client`` collector reading the watched ports and
    registries at scrape time.
    """

    def __init__(self, metrics: "Metrics") -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        out = _Families()
        out.declare(_G, "snorky_connections_open", ["port", "transport"])
        for _, name in _PORT_COUNTERS:
            out.declare(_C, name, ["port", "transport"])
        out.declare(_C, "snorky_messages_received", ["port", "service"])
        for port in self._metrics.ports:
            self._ports(out, port)
        for name, registry in self._metrics.registries.items():
            for service in list(registry.services.values()):
                self._service(out, name, service)
        if self._metrics.broker is not None:
            self._broker(out, self._metrics.broker)
        return iter(out)

    def _broker(self, out: _Families, broker: Any) -> None:
        out.add(_G, "snorky_broker_up", {}, 1 if getattr(broker, "available", True) else 0)
        state = getattr(broker, "state", None)
        if isinstance(state, str):
            out.add(_G, "snorky_broker_state", {"state": state}, 1)
        out.add(_C, "snorky_broker_published", {}, getattr(broker, "published", 0))
        out.add(_C, "snorky_broker_received", {}, getattr(broker, "received", 0))

    def _ports(self, out: _Families, port: WatchedPort) -> None:
        p = port.name
        counts = port.counts
        out.add(_G, "snorky_port_listening", {"port": p}, 1 if port.listening() else 0)
        sockets = port.sockets()
        if sockets is not None:
            out.add(_G, "snorky_sockets_open", {"port": p}, sockets.open)
            for limit, value in sockets.refused.items():
                out.add(_C, "snorky_connections_refused", {"port": p, "limit": "port_" + limit},
                        value)
        for label, value in counts.open_now().items():
            out.add(_G, "snorky_connections_open", {"port": p, "transport": label}, value)
        for attr, name in _PORT_COUNTERS:
            for label, value in getattr(counts, attr).items():
                out.add(_C, name, {"port": p, "transport": label}, value)
        for service, value in counts.messages_in.items():
            out.add(_C, "snorky_messages_received", {"port": p, "service": service}, value)
        factory = port.websocket
        if factory is not None:
            labels = {"port": p, "transport": "websocket"}
            if hasattr(factory, "frames_out"):
                out.add(_C, "snorky_frames_sent", labels, factory.frames_out)
                out.add(_C, "snorky_sent_bytes", labels, factory.bytes_out)
            out.add(_C, "snorky_slow_consumers_dropped", labels,
                    getattr(factory, "slow_consumers_dropped", 0))
            out.add(_C, "snorky_connections_refused", {"port": p, "limit": "max_connections"},
                    getattr(factory, "connections_refused", 0))
        if port.sockjs is not None:
            self._sockjs(out, p, port.sockjs)
        if "http" in port.protocols:
            out.declare(_C, "snorky_backend_requests", ["port", "code"])
            for code, value in port.responses.items():
                out.add(_C, "snorky_backend_requests", {"port": p, "code": code}, value)

    def _sockjs(self, out: _Families, p: str, sockjs: Any) -> None:
        # The resource's SessionTable; its tables are read as they are
        # (test_metrics checks the names).
        table = sockjs.sessions
        sessions: Dict[str, int] = {"websocket": table.websocket_sessions,
                                    "raw_websocket": len(table._raw)}
        for session in list(table._by_id.values()):
            kind = session.transport or "unknown"
            sessions[kind] = sessions.get(kind, 0) + 1
        for kind, value in sessions.items():
            out.add(_G, "snorky_sockjs_sessions", {"port": p, "transport": kind}, value)
        out.add(_C, "snorky_slow_consumers_dropped", {"port": p, "transport": "sockjs"},
                table.slow_consumers_dropped)
        out.add(_C, "snorky_connections_refused", {"port": p, "limit": "max_sessions"},
                table.refused)
        out.add(_C, "snorky_connections_refused",
                {"port": p, "limit": "max_sessions_per_address"},
                getattr(table, "refused_per_address", 0))

    def _service(self, out: _Families, registry: str, service: Service) -> None:
        labels = {"registry": registry, "service": service.name}
        out.add(_C, "snorky_messages_sent", labels, getattr(service, "messages_sent", 0))
        for kind, read in _GAUGES:
            if isinstance(service, kind):
                for name, value in read(service):
                    out.add(_G, name, labels, value)
        from snorky.services.datasync.service import DataSyncService

        if isinstance(service, DataSyncService):
            self._datasync(out, labels, service)

    def _datasync(self, out: _Families, labels: Dict[str, str], service: Any) -> None:
        states: Dict[Tuple[str, str], int] = {}
        for dealer in service.dealers:
            for state in ("awaiting", "active", "detached", "expired"):
                states[(dealer, state)] = 0
        for subscription in list(service.subscriptions.values()):
            state = subscription.state.value
            for dealer in {item.dealer.name for item in subscription.items}:
                key = (dealer, state)
                states[key] = states.get(key, 0) + 1
        for (dealer, state), value in states.items():
            out.add(_G, "snorky_datasync_subscriptions",
                    dict(labels, dealer=dealer, state=state), value)
        counts = getattr(service, "counts", {})
        for counted, name in (
            ("deltas", "snorky_datasync_deltas_published"),
            ("deliveries", "snorky_datasync_deliveries"),
            ("replays", "snorky_datasync_replays"),
        ):
            out.add(_C, name, labels, counts.get(counted, 0))
        for kind in ("insert", "delete"):
            out.add(_C, "snorky_datasync_translations", dict(labels, kind=kind),
                    counts.get("translated_" + kind, 0))
        for reason in EXPIRY_REASONS:
            out.add(_C, "snorky_datasync_expirations", dict(labels, reason=reason),
                    counts.get("expired_" + reason, 0))


#: Why a DataSync subscription expires.
EXPIRY_REASONS = ("buffer_full", "replay_gap", "not_acquired", "grace_ended")


_Read = Callable[[Any], List[Tuple[str, float]]]


def _pubsub(service: Any) -> List[Tuple[str, float]]:
    subscribers = getattr(service, "subscribers", {})
    return [
        ("snorky_pubsub_channels", len(subscribers)),
        ("snorky_pubsub_subscriptions", sum(len(c) for c in list(subscribers.values()))),
    ]


def _chat(service: Any) -> List[Tuple[str, float]]:
    channels = getattr(service, "channels", {})
    return [
        ("snorky_chat_channels", len(channels)),
        ("snorky_chat_members", sum(len(c.members) for c in list(channels.values()))),
    ]


def _messaging(service: Any) -> List[Tuple[str, float]]:
    return [("snorky_messaging_participants", len(getattr(service, "participants", {})))]


def _cursors(service: Any) -> List[Tuple[str, float]]:
    documents = getattr(service, "cursors_by_document", {})
    return [
        ("snorky_cursors", sum(len(c) for c in list(documents.values()))),
        ("snorky_cursors_documents", len(getattr(service, "clients_by_document", {}))),
    ]


def _service_gauges() -> List[Tuple[type, _Read]]:
    from snorky.services.chat import ChatService
    from snorky.services.cursors import CursorsService
    from snorky.services.messaging import MessagingService
    from snorky.services.pubsub import PubSubService

    return [
        (PubSubService, _pubsub),
        (ChatService, _chat),
        (MessagingService, _messaging),
        (CursorsService, _cursors),
    ]


_GAUGES = _service_gauges()


class Metrics:
    """
    The metrics of one server: create it, :meth:`watch_port` each port and
    :meth:`watch_registry` each registry, :meth:`start` it, and serve
    :attr:`registry` (``prometheus_client.generate_latest``).

    :param reactor: for the publish-latency observation; the global reactor
        when ``None``.
    :param clock: the time source for latencies (``time.perf_counter``).
    """

    def __init__(self, reactor: Any = None, clock: Callable[[], float] = time.perf_counter):
        reactor = default_reactor(reactor)
        self.reactor = reactor
        self.clock = clock
        self.registry = CollectorRegistry()
        self.ports: List[WatchedPort] = []
        self.registries: Dict[str, ServiceRegistry] = {}
        self.rpc_calls = Counter(
            "snorky_rpc_calls", "RPC calls answered, by outcome (ok, error, bad_input).",
            ["registry", "service", "command", "outcome"], registry=self.registry,
        )
        self.rpc_duration = Histogram(
            "snorky_rpc_duration_seconds", "Time from an RPC call's arrival to its answer.",
            ["registry", "service", "command"], buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.publish_latency = Histogram(
            "snorky_datasync_publish_latency_seconds",
            "Time from a publishDeltas call's arrival to the last frame it caused "
            "being written.",
            ["service"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.gc_pauses = GCPauses(self.registry, clock)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.registry.register(SnorkyCollector(self))
        self._rpc_children: Dict[Tuple[str, str, str, str], Any] = {}
        self._watched_services: List[RPCService] = []
        #: The broker, once :meth:`OpsService.watch_broker` names it.
        self.broker: Any = None

    def port_name(self, wanted: str) -> str:
        """
        A ``port`` label not used yet: *wanted*, or *wanted* with ``-2``,
        ``-3``... when several ports serve the same registry.
        """
        taken = {port.name for port in self.ports}
        name, n = wanted, 1
        while name in taken:
            n += 1
            name = "{}-{}".format(wanted, n)
        return name

    def watch_port(self, name: str, protocols: Tuple[str, ...],
                   registry: ServiceRegistry) -> Tuple[WatchedPort, PortRegistry]:
        """
        Start counting a port called *name* serving *registry*.

        :returns: the port's record, whose ``websocket``, ``sockjs`` and
            ``listening`` the caller fills in, and the
            :class:`PortRegistry` to give its transports.
        """
        port = WatchedPort(name, tuple(protocols))
        self.ports.append(port)
        return port, PortRegistry(registry, port.counts)

    def count_responses(self, port: WatchedPort, site: Any, prefix: bytes = b"/backend") -> None:
        """
        Count the responses *site* gives under *prefix*, by status code,
        their bytes and their request bodies' bytes, through its
        access-log hook (``Site.log``, called once per finished request).
        """
        log = site.log
        responses = port.responses
        counts = port.counts

        def counting_log(request: Any) -> None:
            if request.path.startswith(prefix):
                code = str(request.code)
                responses[code] = responses.get(code, 0) + 1
                # The backend hands over decoded messages: its bytes are
                # the request bodies.
                content = getattr(request, "content", None)
                size = content.tell() if content is not None else 0
                counts.bytes_in["http"] = counts.bytes_in.get("http", 0) + size
                counts.frames_out["http"] = counts.frames_out.get("http", 0) + 1
                counts.bytes_out["http"] = (
                    counts.bytes_out.get("http", 0) + getattr(request, "sentLength", 0)
                )
            log(request)

        site.log = counting_log

    def watch_registry(self, name: str, registry: ServiceRegistry) -> None:
        """
        Export the services of *registry*, labelled ``registry=name``, and
        time their RPC calls.
        """
        self.registries[name] = registry
        for service in list(registry.services.values()):
            if isinstance(service, RPCService):
                service.rpc_observer = self._rpc_observer(name)
                self._watched_services.append(service)

    def _rpc_observer(self, registry: str) -> Callable[[Any, Optional[str]], None]:
        def observe(request: Any, error: Optional[str]) -> None:
            self.rpc_answered(registry, request, error)

        return observe

    def rpc_answered(self, registry: str, request: Any, error: Optional[str]) -> None:
        """
        Record an RPC call of *registry* answered with *error* (``None``
        for a response).
        """
        service = request.service
        command = request.command if request.command in service.rpc_commands else "unknown"
        outcome = outcome_of(error)
        key = (registry, service.name, command, outcome)
        children = self._rpc_children.get(key)
        if children is None:
            children = self._rpc_children[key] = (
                self.rpc_calls.labels(*key),
                self.rpc_duration.labels(*key[:3]),
            )
        children[0].inc()
        started = getattr(request, "started", None)
        if started is not None:
            children[1].observe(self.clock() - started)
            if command == "publishDeltas" and outcome == "ok":
                frontend = getattr(service, "frontend", None)
                if frontend is not None:
                    self._observe_publish(frontend.name, started)

    def _observe_publish(self, service: str, started: float) -> None:
        """
        Observe the publish latency once the frames the publish queued are
        written: WebSocket factories write queued frames in a timed flush;
        a call scheduled just after the last pending one runs after it.
        """
        histogram = self.publish_latency.labels(service)
        delay = -1.0
        now = self.reactor.seconds()
        for port in self.ports:
            writes = getattr(port.websocket, "writes", None)
            call = writes.last_call() if writes is not None else None
            if call is not None:
                delay = max(delay, call.getTime() - now)
        if delay < 0:
            histogram.observe(self.clock() - started)
            return
        self.reactor.callLater(
            delay + 1e-6, lambda: histogram.observe(self.clock() - started)
        )

    def start(self) -> None:
        """
        Start what records as it happens (garbage-collection pauses).
        """
        self.gc_pauses.start()

    def stop(self) -> None:
        """
        Stop recording and let go of the services' observers.
        """
        self.gc_pauses.stop()
        for service in self._watched_services:
            service.rpc_observer = None
        self._watched_services = []
