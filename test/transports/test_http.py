"""
Tests for snorky.transports.http: the resource through treq's in-memory
StubTreq, and integration tests with treq over loopback sockets.
"""

import json
from typing import Any, Dict, List, Optional

import treq
from treq.testing import RequestTraversalAgent, StubTreq
from twisted.internet import reactor
from twisted.internet.defer import succeed
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.task import Clock
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial.unittest import TestCase
from twisted.web.http_headers import Headers
from twisted.web.iweb import UNKNOWN_LENGTH, IBodyProducer
from twisted.web.resource import Resource
from twisted.web.server import Site
from zope.interface import implementer

from snorky import RPCService, Service, ServiceRegistry, rpc_asynchronous, rpc_command
from snorky.client import Client
from snorky.services.echo import EchoService
from snorky.services.pubsub import PubSubBackend, PubSubService
from snorky.transports.http import BackendClient, BackendOptions, backend_resource
from snorky.transports.websocket import SnorkyWebSocketFactory
from test.helpers import RecordingClient
from test.wsfixtures import LoopbackMixin

KEY = "s3cret-backend-key-for-tests"


class PresenceService(Service):
    """
    Records every connect and disconnect the registry reports.
    """

    def __init__(self) -> None:
        super().__init__("presence")
        self.connected: List[Client] = []
        self.disconnected: List[Client] = []

    def client_connected(self, client: Client) -> None:
        self.connected.append(client)

    def client_disconnected(self, client: Client) -> None:
        self.disconnected.append(client)


class LaterService(RPCService):
    """
    Answers ``later`` after a delay on a clock, ``never`` not at all, and
    greets every client that connects.
    """

    def __init__(self, clock: Clock) -> None:
        super().__init__("later")
        self.clock = clock

    def client_connected(self, client: Client) -> None:
        self.send_message_to(client, {"type": "greeting"})

    @rpc_asynchronous
    def later(self, req: Any, value: Any) -> None:
        self.clock.callLater(5, req.reply, value)

    @rpc_asynchronous
    def never(self, req: Any) -> None:
        pass

    @rpc_command
    def twice(self, req: Any) -> str:
        self.send_message_to(req.client, {"type": "first"})
        return "second"

    @rpc_command
    def decoys(self, req: Any) -> str:
        self.send_message_to(req.client, {"type": "response", "callId": -1, "data": "decoy"})
        EchoService("echo").send_message_to(
            req.client, {"type": "response", "callId": req.call_id, "data": "other service"}
        )
        req.client.send_encoded(
            self.encode_message({"type": "error", "callId": -1, "message": "encoded decoy"})
        )
        return "mine"


@implementer(IBodyProducer)
class UnknownLengthBody:
    """
    A request body of undeclared length, so that it is sent chunked.
    """

    length = UNKNOWN_LENGTH

    def __init__(self, data: bytes) -> None:
        self.data = data

    def startProducing(self, consumer: Any) -> Any:
        consumer.write(self.data)
        return succeed(None)

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass

    def stopProducing(self) -> None:
        pass


def rpc(service: str, command: str, call_id: int = 1, **params: Any) -> bytes:
    return json.dumps(
        {"service": service, "message": {"command": command, "params": params, "callId": call_id}}
    ).encode()


class BackendOptionsTests(TestCase):
    """
    Tests for BackendOptions.
    """

    def test_key_not_in_repr(self) -> None:
        """
        The key does not show in the options' repr, so logging them does
        not leak it.
        """
        self.assertNotIn(KEY, repr(BackendOptions(key=KEY)))

    def test_bad_values(self) -> None:
        """
        An empty key and non-positive limits are refused.
        """
        for bad in [{"key": ""}, {"key": KEY, "max_body_size": 0}, {"key": KEY, "timeout": 0}]:
            self.assertRaises(ValueError, BackendOptions, **bad)


class BackendResourceTests(TestCase):
    """
    Tests for backend_resource through treq's in-memory agent.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.presence = PresenceService()
        self.frontend = PubSubService("pubsub")
        self.registry = ServiceRegistry(
            [
                self.presence,
                EchoService("echo"),
                PubSubBackend("pubsub_backend", self.frontend),
                LaterService(self.clock),
            ]
        )
        self.options = BackendOptions(key=KEY, max_body_size=1000, timeout=30)
        self.stub = StubTreq(backend_resource(self.registry, self.options, reactor=self.clock))

    def post(self, body: Any, key: Optional[str] = KEY, path: str = "/", stub: Optional[StubTreq] = None) -> Any:
        headers = {} if key is None else {"X-Backend-Key": key}
        return (stub or self.stub).post("http://snorky.test" + path, data=body, headers=headers)

    def answer(self, request: Any) -> Any:
        """
        The response to *request*, which must have arrived.
        """
        return self.successResultOf(request)

    def json_of(self, response: Any) -> Any:
        """
        The decoded JSON body of *response*, checking its type and length.
        """
        self.assertEqual(response.headers.getRawHeaders("Content-Type"), ["application/json"])
        body = self.successResultOf(treq.content(response))
        self.assertEqual(response.length, len(body))
        return json.loads(body)

    def assert_refused(self, request: Any, code: int, error: str) -> None:
        response = self.answer(request)
        self.assertEqual(response.code, code)
        self.assertEqual(self.json_of(response), {"error": error})

    def test_reply_envelope(self) -> None:
        """
        A POSTed envelope is answered with the service's reply envelope,
        as JSON, with status 200.
        """
        response = self.answer(self.post(b'{"service": "echo", "message": {"a": [1, "\\u00e9"]}}'))
        self.assertEqual(response.code, 200)
        self.assertEqual(self.json_of(response), {"service": "echo", "message": {"a": [1, "\u00e9"]}})

    def test_publish_reaches_frontend(self) -> None:
        """
        A publish through pubsub_backend reaches the frontend's
        subscribers and answers with an RPC response.
        """
        subscriber = RecordingClient()
        self.frontend.process_message_from(
            subscriber, {"command": "subscribe", "params": {"channel": "news"}, "callId": 1}
        )
        subscriber.sent.clear()
        response = self.answer(self.post(rpc("pubsub_backend", "publish", 7, channel="news", message="hi")))
        self.assertEqual(
            self.json_of(response),
            {"service": "pubsub_backend", "message": {"type": "response", "callId": 7, "data": None}},
        )
        self.assertEqual(
            subscriber.messages("pubsub"), [{"type": "message", "channel": "news", "message": "hi"}]
        )

    def test_rpc_error_inside_200(self) -> None:
        """
        RPC errors travel inside a 200 response.
        """
        response = self.answer(self.post(rpc("pubsub_backend", "explode")))
        self.assertEqual(response.code, 200)
        self.assertEqual(
            self.json_of(response)["message"],
            {"type": "error", "callId": 1, "message": "Unknown command"},
        )

    def test_missing_key(self) -> None:
        """
        A request without X-Backend-Key is refused with 401 and reaches no
        service.
        """
        self.assert_refused(self.post(rpc("echo", "x"), key=None), 401, "Missing X-Backend-Key header")
        self.assertEqual(self.presence.connected, [])

    def test_wrong_key(self) -> None:
        """
        A wrong key, of the same length or not, is refused with 401.
        """
        for key in ["x" * len(KEY), "short", KEY + "x", KEY.upper()]:
            self.assert_refused(self.post(rpc("echo", "x"), key=key), 401, "Wrong X-Backend-Key")
        self.assertEqual(self.presence.connected, [])

    def test_not_json(self) -> None:
        """
        A body that is not JSON is refused with 400 and a JSON error.
        """
        self.assert_refused(self.post(b"{nope"), 400, "Invalid JSON")

    def test_not_an_envelope(self) -> None:
        """
        JSON that is not an envelope is refused with 400 saying why.
        """
        self.assert_refused(self.post(b"[1]"), 400, "Envelope must be an object")
        self.assert_refused(self.post(b'{"message": 1}'), 400, 'Envelope needs a "service" string')
        self.assert_refused(self.post(b'{"service": "echo"}'), 400, 'Envelope needs a "message"')
        self.assert_refused(self.post(b"\xff"), 400, "Invalid UTF-8")

    def test_unknown_service(self) -> None:
        """
        An envelope for a service that is not registered gets 404.
        """
        self.assert_refused(self.post(rpc("nope", "x")), 404, "Unknown service")
        self.assertEqual(self.presence.connected, [])

    def test_body_too_large(self) -> None:
        """
        A body over max_body_size is refused with 413, while one at the
        limit is served.
        """
        at_limit = json.dumps({"service": "echo", "message": "x" * 966}).encode()
        self.assertEqual(len(at_limit), 1000)
        self.assertEqual(self.answer(self.post(at_limit)).code, 200)
        self.assert_refused(self.post(at_limit + b" "), 413, "Body larger than 1000 bytes")

    def test_chunked_body_too_large(self) -> None:
        """
        A body of undeclared length is also refused with 413 once more than
        max_body_size bytes are read.
        """
        # StubTreq only sends bodies of known length; use its agent.
        agent = RequestTraversalAgent(
            backend_resource(self.registry, self.options, reactor=self.clock)
        )
        headers = Headers({"X-Backend-Key": [KEY]})
        body = json.dumps({"service": "echo", "message": "x" * 1000}).encode()
        response = self.answer(agent.request(b"POST", b"http://snorky.test/", headers, UnknownLengthBody(body)))
        self.assertEqual(response.code, 413)
        self.assertEqual(self.json_of(response), {"error": "Body larger than 1000 bytes"})
        small = UnknownLengthBody(b'{"service": "echo", "message": 1}')
        response = self.answer(agent.request(b"POST", b"http://snorky.test/", headers, small))
        self.assertEqual(response.code, 200)

    def test_other_methods(self) -> None:
        """
        Methods other than POST get 405 with an Allow header.
        """
        for method in ["GET", "PUT", "DELETE", "PATCH"]:
            response = self.answer(
                self.stub.request(method, "http://snorky.test/", headers={"X-Backend-Key": KEY})
            )
            self.assertEqual(response.code, 405)
            self.assertEqual(response.headers.getRawHeaders("Allow"), ["POST"])
            self.assertEqual(self.json_of(response), {"error": "Only POST is allowed"})

    def test_other_paths(self) -> None:
        """
        Paths below the resource's root get a JSON 404.
        """
        self.assert_refused(self.post(rpc("echo", "x"), path="/deeper"), 404, "Not found")

    def test_mounted_at_backend(self) -> None:
        """
        Mounted with putChild, the resource serves /backend and /backend/.
        """
        root = Resource()
        root.putChild(b"backend", backend_resource(self.registry, self.options, reactor=self.clock))
        stub = StubTreq(root)
        for path in ["/backend", "/backend/"]:
            response = self.answer(self.post(b'{"service": "echo", "message": 1}', path=path, stub=stub))
            self.assertEqual(self.json_of(response), {"service": "echo", "message": 1})
        self.assertEqual(self.answer(stub.get("http://snorky.test/backend")).code, 405)

    def test_one_client_per_request(self) -> None:
        """
        Each request is a BackendClient that connects before its message
        is routed and disconnects once answered.
        """
        self.answer(self.post(b'{"service": "echo", "message": 1}'))
        self.answer(self.post(b'{"service": "echo", "message": 2}'))
        first, second = self.presence.connected
        self.assertIsInstance(first, BackendClient)
        self.assertIsNot(first, second)
        self.assertEqual((first.transport_name, first.remote_address), ("http", "127.0.0.1"))
        self.assertEqual(self.presence.disconnected, [first, second])
        self.assertFalse(first.connected)

    def test_answer_later(self) -> None:
        """
        A command that answers later keeps the request open until it does;
        a greeting sent on connect is not taken for the answer.
        """
        request = self.post(rpc("later", "later", value="done"))
        self.assertNoResult(request)
        self.clock.advance(5)
        self.stub.flush()
        response = self.answer(request)
        self.assertEqual(
            self.json_of(response),
            {"service": "later", "message": {"type": "response", "callId": 1, "data": "done"}},
        )
        self.assertEqual(len(self.presence.disconnected), 1)

    def test_notification_before_the_answer(self) -> None:
        """
        A notification the RPC service sends to the request's client before
        its response is not the HTTP answer: the response is.
        """
        response = self.answer(self.post(rpc("later", "twice", 4)))
        self.assertEqual(
            self.json_of(response),
            {"service": "later", "message": {"type": "response", "callId": 4, "data": "second"}},
        )

    def test_answer_matched_by_call_id(self) -> None:
        """
        Responses with another callId, from another service, or already
        encoded for a fan-out are not the answer to the request.
        """
        response = self.answer(self.post(rpc("later", "decoys", 9)))
        self.assertEqual(
            self.json_of(response),
            {"service": "later", "message": {"type": "response", "callId": 9, "data": "mine"}},
        )

    def test_encoded_answer(self) -> None:
        """
        An answer that reaches the client already encoded is recognised.
        """
        client = BackendClient()
        client.expect_reply("later", {"command": "x", "callId": 3}, rpc=True)
        client.send_encoded(b'{"service":"later","message":{"type":"note","callId":3}}')
        self.assertNoResult(client.reply)
        client.send_encoded(b"not json")
        self.assertNoResult(client.reply)
        answer = b'{"service":"later","message":{"type":"error","callId":3,"message":"no"}}'
        client.send_encoded(answer)
        self.assertEqual(self.successResultOf(client.reply), answer)

    def test_timeout(self) -> None:
        """
        A service that does not answer within the timeout gets 504 and the
        client is disconnected.
        """
        request = self.post(rpc("later", "never"))
        self.clock.advance(29)
        self.stub.flush()
        self.assertNoResult(request)
        self.clock.advance(1)
        self.stub.flush()
        self.assert_refused(request, 504, "Service later did not answer within 30 seconds")
        self.assertEqual(self.presence.disconnected, self.presence.connected)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_caller_goes_away(self) -> None:
        """
        When the caller disconnects before the answer, the client is
        disconnected from the registry and the timeout is cancelled.
        """
        request = self.post(rpc("later", "never"))
        self.assertEqual(len(self.presence.connected), 1)
        request.cancel()
        self.stub.flush()
        self.failureResultOf(request)
        self.assertEqual(self.presence.disconnected, self.presence.connected)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_key_never_logged(self) -> None:
        """
        Neither accepted nor refused requests log the key.
        """
        events: List[Dict[str, Any]] = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        self.answer(self.post(b'{"service": "echo", "message": 1}'))
        self.answer(self.post(b"{nope"))
        wrong = KEY + "-wrong"
        self.answer(self.post(b"{nope", key=wrong))
        self.assertTrue(events)
        text = "\n".join(formatEvent(e) + repr(e) for e in events)
        self.assertIn("Wrong X-Backend-Key", text)
        self.assertNotIn(KEY, text)


class BackendIntegrationTests(LoopbackMixin, TestCase):
    """
    The backend API in a twisted.web Site on a real loopback port, called
    with treq.
    """

    timeout = 20

    async def listen_backend(self, registry: ServiceRegistry, log_path: Optional[str] = None) -> str:
        root = Resource()
        root.putChild(b"backend", backend_resource(registry, BackendOptions(key=KEY)))
        site = Site(root, logPath=log_path)
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(site)
        self.addCleanup(port.stopListening)
        return "http://127.0.0.1:{}/backend".format(port.getHost().port)

    async def test_publish_reaches_websocket_subscribers(self) -> None:
        """
        A publish POSTed to /backend reaches a WebSocket subscriber of the
        frontend registry, and the access log shows the request but not the
        key.
        """
        pubsub = PubSubService("pubsub")
        await self.serve([pubsub], factory_class=SnorkyWebSocketFactory)
        log_path = self.mktemp()
        url = await self.listen_backend(ServiceRegistry([PubSubBackend("pubsub_backend", pubsub)]), log_path)
        subscriber = await self.connect()
        await subscriber.call("pubsub", "subscribe", channel=["room", 1])
        response = await treq.post(
            url, data=rpc("pubsub_backend", "publish", channel=["room", 1], message={"n": 1}),
            headers={"X-Backend-Key": KEY}, persistent=False,
        )
        self.assertEqual(response.code, 200)
        self.assertEqual(
            await response.json(),
            {"service": "pubsub_backend", "message": {"type": "response", "callId": 1, "data": None}},
        )
        self.assertEqual(
            (await subscriber.receive())["message"],
            {"type": "message", "channel": ["room", 1], "message": {"n": 1}},
        )
        refused = await treq.get(url, headers={"X-Backend-Key": KEY + "-get"}, persistent=False)
        self.assertEqual(refused.code, 405)
        await refused.content()
        with open(log_path) as f:
            access_log = f.read()
        self.assertIn('"POST /backend HTTP/1.1" 200', access_log)
        self.assertIn('"GET /backend HTTP/1.1" 405', access_log)
        self.assertNotIn(KEY, access_log)

    async def test_wrong_key_over_the_wire(self) -> None:
        """
        Over a real socket, a wrong key gets 401 with a JSON error body.
        """
        url = await self.listen_backend(ServiceRegistry([EchoService("echo")]))
        response = await treq.post(
            url, data=b'{"service": "echo", "message": 1}', headers={"X-Backend-Key": "nope"},
            persistent=False,
        )
        self.assertEqual(response.code, 401)
        self.assertEqual(await response.json(), {"error": "Wrong X-Backend-Key"})
