"""The ``twistd snorky`` command: its options and ``makeService``."""

import gc
import importlib
import os
import secrets
import sys
import textwrap
from typing import Any, Dict, List, Mapping, Optional

from twisted.application.service import IService, MultiService
from twisted.python import usage

from snorky.app import default_app
from snorky.broker.config import broker_from_config
from snorky.configfile import load_toml
from snorky.limits import PortLimits, raise_open_file_limit
from snorky.ops.logs import json_logger, register_secret
from snorky.ops.resource import OpsOptions
from snorky.ports import PortSpec, PortSpecError, parse_port_spec
from snorky.registry import ServiceRegistry
from snorky.server import ListenError, ServerOptions, make_service
from snorky.transports.sockjs import SockJSOptions
from snorky.transports.websocket import WebSocketOptions

__all__ = ["Options", "ConfigError", "makeService", "DEFAULT_PORTS"]

DEFAULT_PORTS = (
    "frontend:websocket+sockjs:tcp:5001",
    "backend:http:tcp:5002:interface=127.0.0.1",
)

KEY_ENV = "SNORKY_BACKEND_KEY"


class ConfigError(Exception):
    """
    Options that cannot start a server; the text is one line saying why.
    """


class Options(usage.Options):
    """
    Options of ``twistd snorky``.
    """

    synopsis = "[--app MODULE:CALLABLE] [--ports SPEC ...] [options]"
    longdesc = (
        "Run a Snorky server. Each --ports SPEC is REGISTRY:PROTOCOLS:ENDPOINT, "
        "where PROTOCOLS joins websocket, sockjs and http with '+', and ENDPOINT "
        "is a Twisted server endpoint string, e.g. frontend:websocket:tcp:5001 "
        "or backend:http:tcp:5002:interface=127.0.0.1. Default ports: "
        + " and ".join(DEFAULT_PORTS)
        + ". The backend key comes from --backend-key, --backend-key-file or "
        "the " + KEY_ENV + " environment variable; without any, a random one "
        "is generated and printed. NAME:ops:ENDPOINT (e.g. ops:ops:tcp:9102) "
        "serves metrics, health checks and a status page, on loopback unless "
        "an interface is named."
    )

    optParameters = [
        ["app", None, None,
         "MODULE:CALLABLE; CALLABLE() returns {registry name: ServiceRegistry}. "
         "MODULE is imported with the current directory on the path."],
        ["config", None, None,
         "TOML file configuring the default app (e.g. DataSync dealers)."],
        ["backend-key", None, None, "Key the HTTP backend requires."],
        ["backend-key-file", None, None, "File holding the backend key."],
        ["backend-timeout", None, 30.0,
         "Seconds a backend request may wait for its answer.", float],
        ["backend-max-body-size", None, 1 << 20,
         "Largest backend request body, in bytes.", int],
        ["ping-interval", None, 90.0,
         "Seconds between WebSocket keep-alive pings (0: none).", float],
        ["max-message-size", None, 1 << 20,
         "Largest WebSocket message, in bytes.", int],
        ["max-connections", None, None,
         "Most WebSocket connections per port (default: no limit).", int],
        ["max-port-connections", None, None,
         "Most connections open at once on each port, of any kind (default: "
         "an equal share of the open-file limit).", int],
        ["max-connections-per-address", None, 1000,
         "Most connections open at once on each port from one IP address "
         "(0: no limit; raise it behind a reverse proxy).", int],
        ["access-log", None, None,
         "Write a line per HTTP request to this file ('-': to the Twisted "
         "log; default: no access log)."],
        ["request-timeout", None, 20.0,
         "Seconds a connection has to send a whole HTTP request (headers "
         "and body), however slowly it sends.", float],
        ["write-delay", None, 0.02,
         "Seconds a message sent to many WebSocket clients may wait on a busy "
         "connection to be written with the next ones; answers go out at "
         "the end of the reactor turn (0: everything does).", float],
        ["sockjs-heartbeat", None, 25.0, "Seconds between SockJS heartbeats.", float],
        ["sockjs-disconnect-delay", None, 5.0,
         "Seconds a SockJS session waits for its client to poll again.", float],
        ["sockjs-response-limit", None, 128 * 1024,
         "Bytes a SockJS streaming response sends before it is renewed.", int],
        ["sockjs-url", None, None,
         "Address of sockjs-client that the SockJS iframe page loads."],
        ["sockjs-file", None, None,
         "A local sockjs.min.js to serve to the SockJS iframe page instead."],
        ["sockjs-sessions-per-address", None, 1000,
         "SockJS HTTP sessions one client address (IPv6: one /64) may hold "
         "(0: no limit, as behind a reverse proxy).", int],
        ["broker", None, None,
         "redis://[:PASSWORD@]HOST:PORT/DB (or rediss:// for TLS): share PubSub "
         "and DataSync with the other nodes using this Redis (see [broker] in "
         "the --config file)."],
        ["node-id", None, None, "This node's name in the cluster (default: random)."],
        ["ops-key-file", None, None,
         "File holding the key an ops port requires (Authorization: Bearer KEY)."],
        ["ops-basic-auth-file", None, None,
         "File holding USER:PASSWORD for HTTP basic auth on ops ports."],
        ["log-json", None, None,
         "Log one JSON object per line to this file ('-': standard output)."],
        ["workers", None, None,
         "Run N worker processes sharing the ports and the broker (0: one per "
         "core); needs --broker."],
        ["worker", None, None, "(internal) I:N:DIR: run as worker I of N."],
    ]

    optFlags = [
        ["allow-keyless-backend", None,
         "Allow private (backend) services on websocket and sockjs ports, "
         "where the backend key is not checked."],
        ["sockjs-no-websocket", None, "Do not offer SockJS's websocket transport."],
        ["sockjs-cookie", None, "Set the JSESSIONID cookie (for sticky load balancers)."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["ports"] = []
        self["allowed-origins"] = []
        # Help taken from docstrings keeps their indentation: collapse it.
        self.docs = {name: " ".join(doc.split()) for name, doc in self.docs.items() if doc}

    def getUsage(self, width: Optional[int] = None) -> str:
        """
        Twisted's usage text, with the long description wrapped without
        breaking option names and endpoints (at hyphens, or when long).
        """
        width = width or int(os.environ.get("COLUMNS", "80"))
        self.longdesc = ""
        try:
            options = super().getUsage(width)
        finally:
            del self.longdesc
        return options + "\n" + "\n".join(
            textwrap.wrap(
                type(self).longdesc, width, break_on_hyphens=False, break_long_words=False
            )
        ) + "\n"

    def opt_ports(self, spec: str) -> None:
        """
        A port to listen on, REGISTRY:PROTOCOLS:ENDPOINT (repeatable).
        """
        self["ports"].append(spec)

    def opt_allowed_origin(self, origin: str) -> None:
        """
        An origin allowed to use WebSocket and SockJS, e.g.
        https://example.com or *.example.com (repeatable; default: any).
        """
        self["allowed-origins"].append(origin)


def load_app(spec: str) -> Dict[str, ServiceRegistry]:
    """
    Import ``MODULE:CALLABLE``, call it, and check it returns registries.

    :raises ConfigError: if any of that fails.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError("--app {!r} is not MODULE:CALLABLE".format(spec))
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
        app = getattr(module, attr)
    except Exception as e:
        raise ConfigError(
            "cannot load --app {!r}: {}: {}".format(spec, type(e).__name__, e)
        ) from None
    try:
        registries = app()
    except Exception as e:
        raise ConfigError(
            "--app {!r} failed: {}: {}".format(spec, type(e).__name__, e)
        ) from None
    if not isinstance(registries, Mapping) or not all(
        isinstance(r, ServiceRegistry) for r in registries.values()
    ):
        raise ConfigError(
            "--app {!r} must return a mapping of names to ServiceRegistry".format(spec)
        )
    return dict(registries)


def load_config(path: Optional[str]) -> Dict[str, Any]:
    """
    Read the ``--config`` TOML file (an empty config without one).
    """
    if path is None:
        return {}
    try:
        return load_toml(path)
    except ValueError as e:
        raise ConfigError("cannot read --config {}".format(e)) from None


def backend_key(options: Mapping[str, Any]) -> Optional[str]:
    """
    The backend key from the option, the file or the environment.
    """
    if options["backend-key"]:
        return options["backend-key"]
    path = options["backend-key-file"]
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                key = f.read().strip()
        except OSError as e:
            raise ConfigError(
                "cannot read --backend-key-file {!r}: {}".format(path, e.strerror)
            ) from None
        if not key:
            raise ConfigError("--backend-key-file {!r} is empty".format(path))
        return key
    return os.environ.get(KEY_ENV) or None


def server_options(options: Mapping[str, Any], key: Optional[str]) -> ServerOptions:
    """
    The transports' options from the command line.
    """
    origins = tuple(options["allowed-origins"]) or ("*",)
    websocket = WebSocketOptions(
        ping_interval=options["ping-interval"],
        allowed_origins=origins,
        max_message_size=options["max-message-size"],
        max_connections=options["max-connections"],
        write_delay=options["write-delay"],
    )
    sockjs = SockJSOptions(
        heartbeat_delay=options["sockjs-heartbeat"],
        disconnect_delay=options["sockjs-disconnect-delay"],
        response_limit=options["sockjs-response-limit"],
        websocket=not options["sockjs-no-websocket"],
        cookie_needed=bool(options["sockjs-cookie"]),
        sockjs_file=options["sockjs-file"],
        max_sessions_per_address=options["sockjs-sessions-per-address"] or None,
        allowed_origins=origins,
    )
    if options["sockjs-url"]:
        sockjs.sockjs_url = options["sockjs-url"]
    limits = PortLimits(
        max_connections=options["max-port-connections"],
        max_connections_per_address=options["max-connections-per-address"],
        request_timeout=options["request-timeout"],
    )
    return ServerOptions(
        websocket=websocket,
        sockjs=sockjs,
        backend_key=key,
        backend_max_body_size=options["backend-max-body-size"],
        backend_timeout=options["backend-timeout"],
        limits=limits,
        allow_unkeyed_private=bool(options["allow-keyless-backend"]),
        ops=ops_options(options),
        access_log=options["access-log"],
    )


def _secret_file(options: Mapping[str, Any], name: str) -> Optional[str]:
    path = options.get(name)
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            value = f.read().strip()
    except OSError as e:
        raise ConfigError("cannot read --{} {!r}: {}".format(name, path, e.strerror)) from None
    if not value:
        raise ConfigError("--{} {!r} is empty".format(name, path))
    return value


def ops_options(options: Mapping[str, Any]) -> OpsOptions:
    """
    The ops ports' credentials from the command line.
    """
    key = _secret_file(options, "ops-key-file")
    basic = _secret_file(options, "ops-basic-auth-file")
    register_secret(key)
    register_secret(basic)
    return OpsOptions(key=key, basic_auth=basic)


class SnorkyService(MultiService):
    """
    The top service of ``twistd snorky``: a port that cannot listen stops
    start-up with one line instead of a traceback.

    Once started, it moves every object made so far (modules, the app, the
    services: half of what a server with 1,000 connections holds) out of
    the garbage collector's sight with :func:`gc.freeze`, so that its full
    collections, which pause everything, scan only what came later; then
    collects once, so that full collections keep coming at the usual rate.
    """

    #: The log observer of ``--log-json``, if given.
    log_observer: Any = None

    def setServiceParent(self, parent: Any) -> Any:
        # twistd starts logging after adding this service to its
        # application, with the application's log observer if it has one.
        if self.log_observer is not None and hasattr(parent, "setComponent"):
            from twisted.logger import ILogObserver

            parent.setComponent(ILogObserver, self.log_observer)
        return super().setServiceParent(parent)

    def startService(self) -> None:
        try:
            super().startService()
        except ListenError as e:
            raise SystemExit("snorky: {}".format(e)) from None
        gc.freeze()
        # Full collections run once the oldest generation has grown by a
        # quarter since the last one; frozen objects no longer count, so
        # without a fresh baseline the next one could take for ever, and
        # memory held in cycles (closed connections) with it.
        gc.collect()


def build(options: Mapping[str, Any], out: Any = None) -> MultiService:
    """
    Build the service tree from parsed options.

    :param out: where to print the generated backend key (standard error).
    :raises ConfigError: for anything that cannot start.
    """
    out = out or sys.stderr
    try:
        specs: List[PortSpec] = [
            parse_port_spec(s) for s in (options["ports"] or DEFAULT_PORTS)
        ]
    except PortSpecError as e:
        raise ConfigError(str(e)) from None
    if options["app"]:
        registries = load_app(options["app"])
    else:
        try:
            registries = default_app(load_config(options["config"]))
        except ValueError as e:
            raise ConfigError("bad --config: {}".format(e)) from None
    try:
        broker = broker_from_config(
            load_config(options["config"]), options["broker"], options["node-id"]
        )
    except ValueError as e:
        raise ConfigError(str(e)) from None
    supervising = options.get("workers") is not None and not options.get("worker")
    if supervising and broker is None:
        raise ConfigError(
            "--workers needs a broker (--broker redis://...): workers share "
            "their clients' state through it"
        )
    key = backend_key(options)
    if key is None and any("http" in s.protocols for s in specs):
        key = secrets.token_urlsafe(32)
        print(
            "snorky: no backend key given; generated for this run: {}\n"
            "snorky: set one with --backend-key-file PATH or {}".format(key, KEY_ENV),
            file=out,
            flush=True,
        )
    register_secret(key)
    try:
        transports = server_options(options, key)
    except ValueError as e:
        raise ConfigError("bad transport option: {}".format(e)) from None
    if supervising:
        return supervise(options, key)
    worker = worker_info(options)
    reactor = None
    if worker is not None:
        from twisted.internet import reactor as real_reactor

        from snorky.workers import ReusePortReactor

        reactor = ReusePortReactor(real_reactor)
        if broker is not None:
            broker.node_id = "{}-w{}".format(broker.node_id, worker.index)
    top = SnorkyService()
    if options.get("log-json"):
        top.log_observer = json_log_observer(options["log-json"])
    try:
        tree = make_service(registries, specs, transports, reactor=reactor, broker=broker)
    except PortSpecError as e:
        raise ConfigError(str(e)) from None
    if worker is not None:
        from snorky.workers import serve_as_worker

        serve_as_worker(tree, worker, reactor)
    tree.setServiceParent(top)
    return top


def worker_info(options: Mapping[str, Any]) -> Any:
    """
    The :class:`~snorky.workers.WorkerInfo` of ``--worker``, or ``None``.
    """
    if not options.get("worker"):
        return None
    from snorky.workers import parse_worker

    try:
        return parse_worker(options["worker"])
    except ValueError as e:
        raise ConfigError(str(e)) from None


def supervise(options: Mapping[str, Any], key: Optional[str]) -> MultiService:
    """
    The parent of ``--workers``: the workers' supervisor, after checking
    that they can share a broker.
    """
    from snorky.workers import Supervisor, worker_count

    try:
        count = worker_count(options["workers"])
    except ValueError as e:
        raise ConfigError(str(e)) from None
    env = dict(os.environ)
    if key is not None:
        # One key for every worker, also when it was generated here.
        env[KEY_ENV] = key
    top = SnorkyService()
    Supervisor(count, sys.argv, env).setServiceParent(top)
    return top


def json_log_observer(path: str) -> Any:
    """
    The observer of ``--log-json PATH`` (``-``: standard output).
    """
    if path == "-":
        return json_logger()
    try:
        out = open(path, "a", encoding="utf-8")
    except OSError as e:
        raise ConfigError("cannot open --log-json {!r}: {}".format(path, e.strerror)) from None
    return json_logger(out)


def makeService(options: Mapping[str, Any]) -> IService:
    """
    The twistd entry point: bad options end start-up with one clear line.

    It first raises the open-file soft limit to the hard limit, so that
    the ports' connection limits (a share of it each), not the file
    descriptors, are what a flood of connections runs into.
    """
    raise_open_file_limit()
    try:
        return build(options)
    except ConfigError as e:
        raise SystemExit("snorky: {}".format(e)) from None
