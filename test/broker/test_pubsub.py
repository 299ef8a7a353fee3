"""
PubSub through a broker: two services sharing one in-process broker stand
for two nodes; a broker that cannot be reached refuses publishes (503 at
the HTTP backend).
"""

import json

import treq
from treq.testing import StubTreq
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky import ServiceRegistry
from snorky.broker import InProcessBroker
from snorky.services.pubsub import PubSubBackend, PubSubService
from snorky.transports.http import BackendOptions, backend_resource
from test.services.test_pubsub import PubSubServiceTests
from test.helpers import RecordingClient

KEY = "k" * 32


class SharedBrokerPubSubServiceTests(PubSubServiceTests):
    """
    The service-level PubSub tests, with the service on a shared broker.
    """

    def setUp(self) -> None:
        super().setUp()
        self.pubsub.use_broker(InProcessBroker(shared=True))


class PubSubAcrossNodesTests(TestCase):
    """
    Two PubSub services on one broker behave as one service.
    """

    def setUp(self) -> None:
        broker = InProcessBroker(shared=True)
        self.a = PubSubService("pubsub", broker=broker)
        self.b = PubSubService("pubsub", broker=broker)
        self.registry_a = ServiceRegistry([self.a])
        self.registry_b = ServiceRegistry([self.b])
        self.broker = broker

    def call(self, registry: ServiceRegistry, client: RecordingClient, command: str, **params: object) -> object:
        registry.process_message_from(
            client, "pubsub", {"command": command, "params": params, "callId": 1}
        )
        return client.messages("pubsub")[-1]

    def test_publish_reaches_other_node_once_in_order(self) -> None:
        """
        A browser's publish on A reaches subscribers on A and B once each, in order.
        """
        alice, bob = RecordingClient(), RecordingClient()
        self.registry_a.client_connected(alice)
        self.registry_b.client_connected(bob)
        self.call(self.registry_a, alice, "subscribe", channel="c")
        self.call(self.registry_b, bob, "subscribe", channel="c")
        for n in range(3):
            self.call(self.registry_a, alice, "publish", channel="c", message=n)
        for client in (alice, bob):
            self.assertEqual(
                [m["message"] for m in client.messages("pubsub") if m.get("type") == "message"],
                [0, 1, 2],
            )

    def test_node_listens_only_to_its_clients_channels(self) -> None:
        """
        A node listens to a channel while one of its clients subscribes to it, and stops when the last leaves.
        """
        alice, bob = RecordingClient(), RecordingClient()
        self.registry_a.client_connected(alice)
        self.registry_a.client_connected(bob)
        self.call(self.registry_a, alice, "subscribe", channel="c")
        self.call(self.registry_a, bob, "subscribe", channel="c")
        self.call(self.registry_b, RecordingClient(), "publish", channel="other", message=1)
        self.assertEqual(sorted(self.broker._listeners), ['pubsub:"c"'])
        self.call(self.registry_a, alice, "unsubscribe", channel="c")
        self.assertEqual(len(self.broker._listeners['pubsub:"c"']), 1)
        self.registry_a.client_disconnected(bob)
        self.assertEqual(self.broker._listeners, {})

    def test_broker_unavailable(self) -> None:
        """
        A publish that the broker cannot take is answered Broker unavailable.
        """
        alice = RecordingClient()
        self.registry_a.client_connected(alice)
        self.broker.available = False
        self.assertEqual(
            self.call(self.registry_a, alice, "publish", channel="c", message=1),
            {"type": "error", "callId": 1, "message": "Broker unavailable"},
        )


class BackendUnavailableTests(TestCase):
    """
    The HTTP backend answers 503 when a publish cannot be broadcast.
    """

    def test_503(self) -> None:
        """
        POSTing a publish while the broker is unreachable answers 503, Broker unavailable.
        """
        broker = InProcessBroker(shared=True)
        pubsub = PubSubService("pubsub", broker=broker)
        registry = ServiceRegistry([PubSubBackend("pubsub_backend", pubsub)])
        stub = StubTreq(backend_resource(registry, BackendOptions(key=KEY), reactor=Clock()))
        body = json.dumps({"service": "pubsub_backend", "message": {
            "command": "publish", "params": {"channel": "c", "message": 1}, "callId": 1}})
        ok = self.successResultOf(stub.post("http://s/", data=body, headers={"X-Backend-Key": KEY}))
        self.assertEqual(ok.code, 200)
        broker.available = False
        refused = self.successResultOf(stub.post("http://s/", data=body, headers={"X-Backend-Key": KEY}))
        self.assertEqual(refused.code, 503)
        answer = json.loads(self.successResultOf(treq.content(refused)))
        self.assertEqual(answer["message"]["message"], "Broker unavailable")
