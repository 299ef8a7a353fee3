"""
A real Snorky backend API on a loopback port for the connectors'
integration tests, plus a few misbehaving resources next to it.
"""

from typing import Any, Callable, List

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.protocols.policies import WrappingFactory
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from snorky.registry import ServiceRegistry
from snorky.services.base import RPCError, RPCService, rpc_asynchronous, rpc_command
from snorky.services.pubsub import PubSubBackend, PubSubService
from snorky.transports.http import BackendOptions, backend_resource
from test.helpers import RecordingClient

KEY = "test-backend-key-0123456789abcdef"


class CallsService(RPCService):
    """
    Backend commands to call: ``echo`` answers its params, ``fail``
    answers an RPC error, ``hang`` never answers.
    """

    @rpc_command
    def echo(self, req, **params):
        return params

    @rpc_command
    def fail(self, req, text):
        raise RPCError(text)

    @rpc_asynchronous
    def hang(self, req):
        pass


class TokensService(RPCService):
    """
    Stands in for the DataSync and identity backends: records what it is
    sent and answers tokens.

    :ivar deltas: every delta published, in order.
    :ivar authorized: every ``items`` or ``identity`` authorized, in order.
    """

    def __init__(self, name):
        super().__init__(name)
        self.deltas: List[Any] = []
        self.authorized: List[Any] = []

    def _token(self, what):
        self.authorized.append(what)
        return "token-{}".format(len(self.authorized))

    @rpc_command
    def publishDeltas(self, req, deltas):
        self.deltas.extend(deltas)

    @rpc_command
    def authorizeSubscription(self, req, items):
        return self._token(items)

    @rpc_command
    def authorizeIdentity(self, req, identity):
        return self._token(identity)


class Answer(Resource):
    """
    Answers every request with a fixed status and body.
    """

    isLeaf = True

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__()
        self.status = status
        self.body = body

    def render(self, request):
        request.setResponseCode(self.status)
        return self.body


class Stall(Resource):
    """
    Starts a 200 answer and never finishes it.
    """

    isLeaf = True

    def render(self, request):
        request.setHeader(b"content-length", b"100")
        request.write(b'{"service": ')
        return NOT_DONE_YET


class DropOnConnection(Resource):
    """
    Closes the connection without answering a request when
    ``drop(n)`` is true, *n* counting the requests on that connection
    from 1; other requests go to *resource*.
    """

    isLeaf = True

    def __init__(self, resource: Resource, drop: Callable[[int], bool]) -> None:
        super().__init__()
        self.resource = resource
        self.drop = drop

    def render(self, request):
        channel = request.channel
        channel.snorky_requests = getattr(channel, "snorky_requests", 0) + 1
        if self.drop(channel.snorky_requests):
            request.transport.loseConnection()
            return NOT_DONE_YET
        return self.resource.render(request)


class ConnectionCounter(WrappingFactory):
    """
    Counts the connections a factory accepts and closes them on demand.
    """

    def __init__(self, wrapped):
        super().__init__(wrapped)
        self.accepted = 0
        self._all_closed: List[Deferred] = []

    def buildProtocol(self, addr):
        self.accepted += 1
        return super().buildProtocol(addr)

    def unregisterProtocol(self, protocol):
        super().unregisterProtocol(protocol)
        if not self.protocols:
            waiting, self._all_closed = self._all_closed, []
            for d in waiting:
                d.callback(None)

    def close_connections(self) -> Deferred:
        """
        Close every open connection; fires when all are closed.
        """
        d = Deferred()
        if not self.protocols:
            d.callback(None)
            return d
        self._all_closed.append(d)
        for protocol in list(self.protocols):
            protocol.transport.loseConnection()
        return d


class BackendServer:
    """
    A backend registry (``pubsub_backend`` into a ``pubsub`` frontend,
    ``calls``, and :class:`TokensService` as ``datasync_backend`` and
    ``identity_backend``) served on 127.0.0.1 at ``/backend``, with
    ``/impatient`` (the same with a 0.2 s timeout and 200 bytes of
    body at most), ``/notjson`` (200, HTML), ``/stall`` (an answer that stops),
    ``/flaky`` (the backend, but a connection's second request is
    dropped) and ``/drop`` (every request dropped).

    :param clock: what the backend API times out with; the global reactor
        by default.

    :ivar frontend: the :class:`PubSubService` that ``pubsub_backend``
        publishes into.
    :ivar root: the root resource.
    :ivar connections: the :class:`ConnectionCounter` of the port.
    """

    def __init__(self, key: str = KEY, clock: Any = None) -> None:
        self.frontend = PubSubService("pubsub")
        self.datasync = TokensService("datasync_backend")
        self.identity = TokensService("identity_backend")
        self.registry = ServiceRegistry(
            [
                PubSubBackend("pubsub_backend", self.frontend),
                CallsService("calls"),
                self.datasync,
                self.identity,
            ]
        )
        backend = backend_resource(self.registry, BackendOptions(key=key), clock)
        impatient = BackendOptions(key=key, timeout=0.2, max_body_size=200)
        self.root = root = Resource()
        root.putChild(b"backend", backend)
        root.putChild(b"impatient", backend_resource(self.registry, impatient, clock))
        root.putChild(b"notjson", Answer(200, b"<html>Not Snorky</html>"))
        root.putChild(b"stall", Stall())
        root.putChild(b"flaky", DropOnConnection(backend, lambda n: n == 2))
        root.putChild(b"drop", DropOnConnection(backend, lambda n: True))
        self.connections = ConnectionCounter(Site(root))
        self.port: Any = None

    def start(self, testcase: Any) -> None:
        """
        Listen, and stop listening and close connections at *testcase*'s
        clean-up.
        """
        self.port = reactor.listenTCP(0, self.connections, interface="127.0.0.1")
        testcase.addCleanup(self.port.stopListening)
        testcase.addCleanup(self.connections.close_connections)

    def url(self, path: str = "backend") -> str:
        return "http://127.0.0.1:{}/{}".format(self.port.getHost().port, path)

    def subscriber(self, channel: Any) -> RecordingClient:
        """
        A frontend client subscribed to *channel* in ``pubsub``; its
        :attr:`sent` holds the subscription's response.
        """
        client = RecordingClient()
        self.frontend.process_message_from(
            client,
            {"command": "subscribe", "params": {"channel": channel}, "callId": 1},
        )
        return client
