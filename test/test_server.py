"""Tests for snorky.server: sites, ports and the service tree."""

import os
import select
import socket
import time

import treq
import twisted.test
from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol, connectWS
from twisted.application.service import IServiceCollection
from twisted.internet import reactor, ssl, tcp
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread
from twisted.logger import LogLevel, formatEvent, globalLogPublisher
from twisted.web.iweb import UNKNOWN_LENGTH, IBodyProducer
from zope.interface import implementer
from twisted.trial.unittest import TestCase

from snorky.limits import PortLimits, connections_per_port, open_file_limit
from snorky.ports import PortSpec, PortSpecError, parse_port_spec
from snorky.registry import ServiceRegistry
from snorky.server import (
    ListenError,
    PortService,
    ServerOptions,
    SnorkySite,
    make_service,
)
from snorky.services.echo import EchoService
from snorky.services.pubsub import PubSubBackend, PubSubService
from test.wsclient import connect

KEY = "server-test-key"


@implementer(IBodyProducer)
class _Chunks:
    """
    A request body of unknown length, so it is sent chunked.
    """

    length = UNKNOWN_LENGTH

    def startProducing(self, consumer):
        for _ in range(200):
            consumer.write(b"x" * 1000)
        return succeed(None)

    def pauseProducing(self):
        pass

    def resumeProducing(self):
        pass

    def stopProducing(self):
        pass


class SiteTests(TestCase):
    """
    A SnorkySite serves the paths its protocols ask for, on a real port.
    """

    def listen(self, protocols, **options):
        registry = ServiceRegistry([EchoService("echo")])
        site = SnorkySite(registry, protocols, ServerOptions(backend_key=KEY, **options))
        port = reactor.listenTCP(0, site, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        for close in site.closers:
            self.addCleanup(close)
        return "127.0.0.1:{}".format(port.getHost().port)

    def get(self, url):
        return treq.get(url, persistent=False)

    async def test_websocket_port(self):
        """
        A websocket port serves /ws and /snorky.js, and not /backend.
        """
        address = self.listen(("websocket",))
        client = await connect("ws://{}/ws".format(address))
        client.send({"service": "echo", "message": "hi"})
        self.assertEqual((await client.receive())["message"], "hi")
        await client.close()
        for name in ("snorky.js", "snorky-angular.js", "snorky-knockout.js"):
            script = await self.get("http://{}/{}".format(address, name))
            self.assertEqual(script.code, 200)
            self.assertIn(b"javascript", script.headers.getRawHeaders(b"content-type")[0])
            self.assertIn(b"Snorky", await script.content())
        backend = await self.get("http://{}/backend".format(address))
        self.assertEqual(backend.code, 404)
        await backend.content()

    async def test_http_port(self):
        """
        An http port serves /backend only.
        """
        address = self.listen(("http",))
        response = await treq.post(
            "http://{}/backend".format(address),
            b'{"service": "echo", "message": "ping"}',
            headers={"X-Backend-Key": KEY}, persistent=False,
        )
        self.assertEqual(await response.json(), {"service": "echo", "message": "ping"})
        for path in ("ws", "snorky.js"):
            response = await self.get("http://{}/{}".format(address, path))
            self.assertEqual(response.code, 404)
            await response.content()

    async def test_chunked_body_too_large(self):
        """
        A chunked body past the limit is answered with 413.
        """
        address = self.listen(("http",), backend_max_body_size=1000)
        response = await treq.post(
            "http://{}/backend".format(address), _Chunks(),
            headers={"X-Backend-Key": KEY}, persistent=False,
        )
        self.assertEqual(response.code, 413)
        await response.content()


class AccessLogTests(TestCase):
    """
    The access log of a SnorkySite: off by default, to a file on request.
    """

    async def post(self, **options):
        registry = ServiceRegistry([EchoService("echo")])
        site = SnorkySite(registry, ("http",), ServerOptions(backend_key=KEY, **options))
        port = reactor.listenTCP(0, site, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        response = await treq.post(
            "http://127.0.0.1:{}/backend".format(port.getHost().port),
            b'{"service": "echo", "message": 1}',
            headers={"X-Backend-Key": KEY}, persistent=False,
        )
        await response.content()

    async def test_off_by_default(self):
        """
        Without access_log no line about the request is logged.
        """
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        await self.post()
        self.assertFalse([e for e in events if "POST /backend" in formatEvent(e)])

    async def test_to_a_file(self):
        """
        With a path, each request gets a line in that file, without the
        key.
        """
        path = self.mktemp()
        await self.post(access_log=path)
        with open(path) as f:
            text = f.read()
        self.assertIn('"POST /backend HTTP/1.1" 200', text)
        self.assertNotIn(KEY, text)


class PortServiceTests(TestCase):
    """
    Tests for PortService and make_service.
    """

    def test_port_in_use(self):
        """
        Starting on a port in use raises ListenError naming the endpoint.
        """
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            spec = parse_port_spec("r:websocket:tcp:{}:interface=127.0.0.1".format(port))
            site = SnorkySite(ServiceRegistry(), spec.protocols, ServerOptions())
            service = PortService(spec, site)
            e = self.assertRaises(ListenError, service.startService)
            self.assertIn("tcp:{}".format(port), str(e))
            self.assertFalse(service.running)

    def test_start_and_stop(self):
        """
        A started port listens; stopping it closes the port.
        """
        spec = parse_port_spec("r:websocket:tcp:0:interface=127.0.0.1")
        service = PortService(spec, SnorkySite(ServiceRegistry(), spec.protocols, ServerOptions()))
        service.startService()
        self.assertTrue(service.port.connected)
        port = service.port
        d = service.stopService()
        d.addCallback(lambda _: self.assertFalse(port.connected))
        return d

    def test_make_service_errors(self):
        """
        make_service refuses unknown registries, bad endpoints and http
        ports without a key.
        """
        registries = {"r": ServiceRegistry()}
        for spec, fragment in [
            (PortSpec("x", ("websocket",), "tcp:0"), "unknown registry"),
            (PortSpec("r", ("websocket",), "bogus:0"), "bad endpoint"),
            (PortSpec("r", ("http",), "tcp:0"), "needs a backend key"),
        ]:
            e = self.assertRaises(PortSpecError, make_service, registries, [spec], ServerOptions())
            self.assertIn(fragment, str(e))


class PrivateServicesTests(TestCase):
    """
    make_service and private services, backend ports and their addresses.
    """

    def registries(self):
        frontend = PubSubService("pubsub")
        return {
            "frontend": ServiceRegistry([frontend]),
            "backend": ServiceRegistry([EchoService("echo"), PubSubBackend("pubsub_backend", frontend)]),
        }

    def ports(self, top):
        return list(IServiceCollection(top))

    def test_private_services_over_unkeyed_protocols(self):
        """
        A registry with private services served over websocket or sockjs
        is refused, naming the services and the protocol.
        """
        for protocols in ("websocket", "sockjs", "http+websocket"):
            spec = parse_port_spec("backend:{}:tcp:0".format(protocols))
            e = self.assertRaises(
                PortSpecError, make_service, self.registries(), [spec],
                ServerOptions(backend_key=KEY),
            )
            self.assertIn("private services (pubsub_backend)", str(e))
            self.assertIn("does not check the backend key", str(e))

    def test_private_services_allowed_explicitly(self):
        """
        allow_unkeyed_private lets such a port be built; http alone never
        needs it.
        """
        spec = parse_port_spec("backend:websocket:tcp:0")
        top = make_service(self.registries(), [spec],
                           ServerOptions(backend_key=KEY, allow_unkeyed_private=True))
        self.assertEqual(len(self.ports(top)), 1)
        make_service(self.registries(), [parse_port_spec("backend:http:tcp:0")],
                     ServerOptions(backend_key=KEY))

    def test_backend_on_loopback_by_default(self):
        """
        A backend TCP port that names no interface listens on loopback; an
        explicit interface, a frontend port and other endpoints are kept.
        """
        specs = [parse_port_spec(s) for s in (
            "backend:http:tcp:5002", "backend:http:tcp6:5003",
            "backend:http:tcp:5004:interface=0.0.0.0", "frontend:websocket:tcp:5001",
            "backend:http:unix:/tmp/x.sock",
        )]
        top = make_service(self.registries(), specs, ServerOptions(backend_key=KEY))
        self.assertEqual([p.spec.endpoint for p in self.ports(top)], [
            "tcp:5002:interface=127.0.0.1", "tcp6:5003:interface=\\:\\:1",
            "tcp:5004:interface=0.0.0.0", "tcp:5001", "unix:/tmp/x.sock",
        ])

    def test_warning_beyond_loopback(self):
        """
        A backend port listening beyond loopback without TLS logs one
        warning line; on loopback, or for a frontend port, nothing.
        """
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        specs = [parse_port_spec(s) for s in (
            "backend:http:tcp:0:interface=0.0.0.0", "backend:http:tcp:0",
            "frontend:websocket:tcp:0:interface=0.0.0.0",
        )]
        top = make_service(self.registries(), specs, ServerOptions(backend_key=KEY))
        top.startService()
        self.addCleanup(top.stopService)
        warnings = [formatEvent(e) for e in events if e.get("log_level") == LogLevel.warn]
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("backend:http:tcp:0:interface=0.0.0.0 listens on 0.0.0.0 without TLS",
                      warnings[0])
        self.assertNotIn("\n", warnings[0])

    def test_automatic_connection_limit(self):
        """
        Without a total limit each port gets an equal share of the open
        files; an explicit one is kept.
        """
        specs = [parse_port_spec("frontend:websocket:tcp:0"), parse_port_spec("backend:http:tcp:0")]
        top = make_service(self.registries(), specs, ServerOptions(backend_key=KEY))
        expected = connections_per_port(open_file_limit(), 2)
        self.assertEqual([p.limits.max_connections for p in self.ports(top)],
                         [expected, expected])
        top = make_service(self.registries(), specs, ServerOptions(
            backend_key=KEY, limits=PortLimits(max_connections=7)))
        self.assertEqual([p.limits.max_connections for p in self.ports(top)], [7, 7])

    def test_max_body_size_by_protocol(self):
        """
        A site accepts the bodies its protocols need: the backend's limit
        for http, SockJS's message limit for sockjs, none for websocket.
        """
        options = ServerOptions(backend_key=KEY, backend_max_body_size=5000)
        options.sockjs.max_message_size = 3000
        sizes = [SnorkySite(ServiceRegistry(), protocols, options).max_body_size
                 for protocols in (("http",), ("sockjs",), ("websocket",), ("http", "sockjs"))]
        self.assertEqual(sizes, [5000, 3000, 0, 5000])


HALF_SENT = b"POST /sockjs/000/flood/xhr_send HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"


def flood(port, count):
    """
    Open *count* connections to 127.0.0.1:*port*, each sending half a
    request.
    """
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(HALF_SENT)
        sockets.append(s)
    return sockets


def answers(sockets, expected, timeout):
    """
    What the sockets that become readable received, by socket (the start
    of their data, b"" when closed, or "reset"), once *expected* of them
    have or *timeout* seconds have passed. (Connections that overflowed
    the listening backlog are only accepted when the kernel retries them.)
    """
    deadline = time.monotonic() + timeout
    waiting, received = list(sockets), {}
    while len(received) < expected and time.monotonic() < deadline:
        ready, _, _ = select.select(waiting, [], [], max(0, deadline - time.monotonic()))
        for s in ready:
            waiting.remove(s)
            try:
                received[s] = s.recv(4096)
            except ConnectionResetError:
                received[s] = "reset"
    return received


class FloodTests(TestCase):
    """
    Ports under a flood of half-sent requests from real loopback sockets.
    """

    timeout = 60

    async def wait_for(self, condition, seconds=10.0):
        for _ in range(int(seconds / 0.05)):
            if condition():
                return
            await deferLater(reactor, 0.05, lambda: None)
        self.fail("condition not met within {} s".format(seconds))

    async def test_backend_answers_while_frontend_is_flooded(self):
        """
        Half-sent requests fill the frontend port up to its limit, further
        connections get 503, the backend port still answers, and the
        frontend serves again once the flood ends.
        """
        registries = {"frontend": ServiceRegistry([EchoService("echo")]),
                      "backend": ServiceRegistry([EchoService("echo")])}
        specs = [parse_port_spec("frontend:websocket+sockjs:tcp:0:interface=127.0.0.1"),
                 parse_port_spec("backend:http:tcp:0:interface=127.0.0.1")]
        options = ServerOptions(backend_key=KEY, limits=PortLimits(max_connections=40))
        top = make_service(registries, specs, options)
        top.startService()
        self.addCleanup(top.stopService)
        front, back = list(IServiceCollection(top))
        sockets = await deferToThread(flood, front.port.getHost().port, 60)
        self.addCleanup(lambda: [s.close() for s in sockets])
        await self.wait_for(lambda: front.factory.open == 40)
        refused = list((await deferToThread(answers, sockets, 20, 30)).values())
        self.assertEqual(len(refused), 20)
        self.assertTrue(all(a == "reset" or a.startswith(b"HTTP/1.1 503") for a in refused),
                        refused)
        self.assertEqual(front.factory.open, 40)
        response = await treq.post(
            "http://127.0.0.1:{}/backend".format(back.port.getHost().port),
            b'{"service": "echo", "message": "still here"}',
            headers={"X-Backend-Key": KEY}, persistent=False,
        )
        self.assertEqual(await response.json(), {"service": "echo", "message": "still here"})
        for s in sockets:
            s.close()
        await self.wait_for(lambda: front.factory.open == 0)
        script = await treq.get("http://127.0.0.1:{}/snorky.js".format(front.port.getHost().port),
                                persistent=False)
        self.assertEqual(script.code, 200)
        await script.content()


class Presence(EchoService):
    """
    An echo service that records the clients that connect.
    """

    def __init__(self):
        super().__init__("echo")
        self.clients = []

    def client_connected(self, client):
        self.clients.append(client)


SERVER_PEM = os.path.join(os.path.dirname(twisted.test.__file__), "server.pem")


class CountedWebSocketTests(TestCase):
    """
    WebSocket connections taken over from twisted.web by Autobahn stay
    counted by their port until they end.
    """

    timeout = 30

    async def serve(self, endpoint):
        self.presence = Presence()
        spec = parse_port_spec("r:websocket:" + endpoint)
        site = SnorkySite(ServiceRegistry([self.presence]), spec.protocols, ServerOptions())
        service = PortService(spec, site)
        service.startService()
        self.addCleanup(service.stopService)
        return service

    async def wait_for(self, condition):
        for _ in range(200):
            if condition():
                return
            await deferLater(reactor, 0.05, lambda: None)
        self.fail("condition not met")

    async def test_plain_tcp(self):
        """
        Over plain TCP the WebSocket protocol writes to the TCP transport
        itself (nothing in between), and its end frees its place.
        """
        service = await self.serve("tcp:0:interface=127.0.0.1")
        client = await connect("ws://127.0.0.1:{}/ws".format(service.port.getHost().port))
        self.assertEqual(service.factory.open, 1)
        [server_side] = self.presence.clients
        self.assertIsInstance(server_side.protocol.transport, tcp.Connection)
        await client.close()
        await self.wait_for(lambda: service.factory.open == 0)

    async def test_tls(self):
        """
        Inside TLS, a WebSocket connection is counted and its end frees
        its place.
        """
        service = await self.serve(
            "ssl:0:interface=127.0.0.1:privateKey={0}:certKey={0}".format(SERVER_PEM)
        )
        factory = WebSocketClientFactory("wss://127.0.0.1:{}/ws".format(service.port.getHost().port))
        opened = Deferred()

        class Opening(WebSocketClientProtocol):
            def onOpen(self):
                opened.callback(self)

        factory.protocol = Opening
        connectWS(factory, contextFactory=ssl.CertificateOptions(verify=False))
        protocol = await opened
        protocol.sendMessage(b'{"service": "echo", "message": 1}')
        self.assertEqual(service.factory.open, 1)
        protocol.sendClose(1000)
        await self.wait_for(lambda: service.factory.open == 0)
