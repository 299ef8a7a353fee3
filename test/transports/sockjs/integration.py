"""
What the SockJS integration tests share: a real site on a loopback port
with a raw echo resource, a batch resource and a Snorky resource, and a
runner for the sockjs-client scripts in ``node/``.
"""

import json
import os
import shutil
from dataclasses import replace
from typing import Any, Dict, List, Sequence

from twisted.internet import defer
from twisted.internet.protocol import ProcessProtocol
from twisted.protocols.policies import WrappingFactory
from twisted.web.resource import Resource
from twisted.web.server import Site
from twisted.web.static import File

from snorky.client import Client
from snorky.registry import ServiceRegistry
from snorky.services.base import RPCService, Service, rpc_command
from snorky.services.pubsub import PubSubService
from snorky.transports.sockjs import SockJSOptions, SockJSResource, sockjs_resource
from snorky.transports.sockjs.interfaces import Channel
from snorky.transports.sockjs.testserver import EchoHandler
from test.helpers import wait_until

_HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(_HERE, "node")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(_HERE)))
CLIENT_FILE = os.path.join(
    ROOT, "node_modules", "sockjs-client", "dist", "sockjs.min.js"
)

#: The number of messages the scenario echoes (see node/scenario.js).
ECHOED = 219
#: The number of messages the scenario has sent back in one batch.
BATCHED = 10


def passed(transport: str) -> Dict[str, Any]:
    """
    The result of node/scenario.js over *transport* when all went well.
    """
    return {"transport": transport, "echoed": ECHOED, "batched": BATCHED,
            "snorky": True, "error": None}


class BatchHandler:
    """
    Sends back, one message each, the items of every JSON array it
    receives: on a resource whose responses end after one frame, all but
    the first travel batched in one frame.
    """

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def opened(self) -> None:
        pass

    def received(self, message: str) -> None:
        for item in json.loads(message):
            self.channel.send_encoded(self.channel.encode(item))

    def closed(self) -> None:
        pass


class TextService(RPCService):
    """
    An RPC service for the round trip: ``reverse`` answers its text
    reversed.
    """

    @rpc_command
    def reverse(self, req: Any, text: str) -> str:
        return text[::-1]


class ConnectionRecorder(Service):
    """
    Counts the connects and disconnects each client causes.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.connected: List[Client] = []
        self.disconnected: List[Client] = []

    def client_connected(self, client: Client) -> None:
        self.connected.append(client)

    def client_disconnected(self, client: Client) -> None:
        self.disconnected.append(client)


class LoopbackSite:
    """
    A ``twisted.web`` site on a free 127.0.0.1 port whose teardown closes
    every SockJS session and cuts every connection, leaving the reactor
    clean.

    :param children: path segment to resource, under the root.
    """

    def __init__(self, reactor: Any, children: Dict[bytes, Resource]) -> None:
        self.reactor = reactor
        self.children = children
        root = Resource()
        for name, child in children.items():
            root.putChild(name, child)
        self.factory = WrappingFactory(Site(root, reactor=reactor))
        self.port: Any = None

    def start(self) -> str:
        """
        Start listening; return the base URL.
        """
        self.port = self.reactor.listenTCP(0, self.factory, interface="127.0.0.1")
        return "http://127.0.0.1:{}".format(self.port.getHost().port)

    @defer.inlineCallbacks
    def stop(self) -> Any:
        """
        Close every session, stop listening and cut every connection.
        """
        yield defer.DeferredList(
            [
                child.close_all()
                for child in self.children.values()
                if isinstance(child, SockJSResource)
            ]
        )
        yield self.port.stopListening()
        for protocol in list(self.factory.protocols):
            protocol.transport.abortConnection()
        yield wait_for(self.reactor, lambda: not self.factory.protocols)


def wait_for(reactor: Any, condition: Any, seconds: float = 5.0) -> Any:
    """
    A Deferred that fires when *condition()* is true, or fails after
    *seconds* (:func:`test.helpers.wait_until` on *reactor*).
    """
    return defer.ensureDeferred(
        wait_until(condition, "a condition", seconds, 0.02, clock=reactor)
    )


class SockJSTestSite(LoopbackSite):
    """
    A loopback site with ``/echo`` (raw echo), ``/batch`` (a
    `BatchHandler` whose responses end after each frame), ``/sockjs``
    (Snorky, with ``text``, ``pubsub`` and a connection recorder) and
    ``/t/`` (the scenario page and scripts), serving sockjs-client from
    node_modules.

    :param allowed_origins: the ``allowed_origins`` of the SockJS resources.
    """

    def __init__(self, reactor: Any, allowed_origins: Sequence[str] = ("*",)) -> None:
        self.recorder = ConnectionRecorder("recorder")
        registry = ServiceRegistry(
            [TextService("text"), PubSubService("pubsub"), self.recorder]
        )
        options = SockJSOptions(sockjs_file=CLIENT_FILE, allowed_origins=allowed_origins)
        super().__init__(
            reactor,
            {
                b"sockjs": sockjs_resource(registry, options, reactor),
                b"echo": SockJSResource(EchoHandler, options, reactor),
                b"batch": SockJSResource(
                    BatchHandler, replace(options, response_limit=1), reactor
                ),
                b"t": File(NODE_DIR),
            },
        )

    def wait_disconnects(self, count: int) -> Any:
        """
        Wait (at most 5 s) until the recorder saw *count* disconnects.
        """
        return wait_for(
            self.reactor, lambda: len(self.recorder.disconnected) >= count
        )


class _Collector(ProcessProtocol):
    def __init__(self) -> None:
        self.out: List[bytes] = []
        self.err: List[bytes] = []
        self.ended: defer.Deferred = defer.Deferred()

    def outReceived(self, data: bytes) -> None:
        self.out.append(data)

    def errReceived(self, data: bytes) -> None:
        self.err.append(data)

    def processEnded(self, reason: Any) -> None:
        self.ended.callback(None)


@defer.inlineCallbacks
def run_script(reactor: Any, script: str, args: List[str], timeout: float) -> Any:
    """
    Run ``node node/<script> ARGS...`` and return the ``RESULT`` objects
    it printed, one per transport. The process is killed after *timeout*
    seconds.

    :raises AssertionError: if node is missing or printed no result.
    """
    node = shutil.which("node")
    assert node is not None, "node is not installed"
    collector = _Collector()
    process = reactor.spawnProcess(
        collector,
        node,
        [node, os.path.join(NODE_DIR, script)] + args,
        env=dict(os.environ),
        path=ROOT,
    )
    killer = reactor.callLater(timeout, process.signalProcess, "KILL")
    yield collector.ended
    if killer.active():
        killer.cancel()
    results: List[Dict[str, Any]] = []
    for line in b"".join(collector.out).decode("utf-8").splitlines():
        if line.startswith("RESULT "):
            results.append(json.loads(line[len("RESULT "):]))
    assert results, "no result; stderr: " + b"".join(collector.err).decode(
        "utf-8", "replace"
    )
    return results
