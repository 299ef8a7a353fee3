"""Tests for snorky.server: sites, ports and the service tree."""

import socket

import treq
from twisted.internet import reactor
from twisted.internet.defer import succeed
from twisted.web.iweb import UNKNOWN_LENGTH, IBodyProducer
from zope.interface import implementer
from twisted.trial.unittest import TestCase
from twisted.web.test.requesthelper import DummyChannel

from snorky.ports import PortSpec, PortSpecError, parse_port_spec
from snorky.registry import ServiceRegistry
from snorky.server import (
    BoundedRequest,
    ListenError,
    PortService,
    ServerOptions,
    SnorkySite,
    make_service,
)
from snorky.services.echo import EchoService
from test.wsclient import connect

KEY = "server-test-key"


class BoundedRequestTests(TestCase):
    """
    Tests for BoundedRequest.
    """

    def test_keeps_at_most_one_byte_past_the_limit(self):
        """
        However much body arrives, at most max_body_size + 1 bytes are kept.
        """
        channel = DummyChannel()
        channel.site = SnorkySite(ServiceRegistry(), ("http",), ServerOptions(backend_key=KEY))
        channel.site.max_body_size = 10
        request = BoundedRequest(channel)
        request.gotLength(None)
        for _ in range(1000):
            request.handleContentChunk(b"x" * 7)
        self.assertEqual(request.content.getvalue(), b"x" * 11)

    def test_keeps_a_body_within_the_limit(self):
        """
        A body within the limit is kept whole.
        """
        channel = DummyChannel()
        channel.site = SnorkySite(ServiceRegistry(), ("http",), ServerOptions(backend_key=KEY))
        request = BoundedRequest(channel)
        request.gotLength(5)
        request.handleContentChunk(b"ab")
        request.handleContentChunk(b"cde")
        self.assertEqual(request.content.getvalue(), b"abcde")


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
