"""
Identity through a shared broker: the service-level tests on a shared
in-process broker, and two nodes (two services on one broker) where a
token authorized on one is taken on the other.
"""

from typing import Any, Dict

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky import ServiceRegistry
from snorky.broker import InProcessBroker
from snorky.services.identity import IdentityBackend, IdentityService
from test.helpers import RecordingClient
from test.services.test_identity import ALICE, IdentityTests


class _PendingView:
    """
    The shared table's unexpired tokens, compared as the local table's
    dict is in the service-level tests.
    """

    def __init__(self, service: IdentityService) -> None:
        self.service = service

    def __len__(self) -> int:
        return self.service.shared.token_count(self.service.name)  # type: ignore[no-any-return]

    def __eq__(self, other: object) -> bool:
        return other == {} and len(self) == 0


class SharedBrokerIdentityTests(IdentityTests):
    """
    The service-level Identity tests, with tokens kept in a shared broker.
    """

    def setUp(self) -> None:
        super().setUp()
        self.identity.use_broker(InProcessBroker(shared=True, reactor=self.clock))
        self.identity.pending = _PendingView(self.identity)  # type: ignore[assignment]

    def test_nothing_kept_locally(self) -> None:
        """
        With a shared broker the node's own table stays empty.
        """
        self.authorize()
        self.assertEqual(self.identity._tokens.by_digest, {})
        self.assertEqual(len(self.identity.pending), 1)


class IdentityAcrossNodesTests(TestCase):
    """
    Two Identity services on one shared broker behave as one.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        broker = InProcessBroker(shared=True, reactor=self.clock)
        self.broker = broker
        self.nodes: Dict[str, Any] = {}
        for name, node_broker in (("a", broker), ("b", broker.another_node())):
            service = IdentityService("identity", max_pending=2, clock=self.clock)
            service.use_broker(node_broker)
            self.nodes[name] = (
                service,
                ServiceRegistry([service], clock=self.clock),
                ServiceRegistry([IdentityBackend("identity_backend", service)], clock=self.clock),
            )

    def call(self, registry: ServiceRegistry, service: str, command: str, **params: Any) -> Any:
        client = RecordingClient()
        registry.client_connected(client)
        registry.process_message_from(
            client, service, {"command": command, "params": params, "callId": 1}
        )
        return client, client.messages(service)[-1]

    def authorize(self, node: str, identity: Any = ALICE) -> Any:
        return self.call(self.nodes[node][2], "identity_backend", "authorizeIdentity",
                         identity=identity)[1]

    def authenticate(self, node: str, token: Any) -> Any:
        return self.call(self.nodes[node][1], "identity", "authenticate", token=token)

    def test_authorize_here_authenticate_there(self) -> None:
        """
        A token authorized on A sets the identity of a connection on B.
        """
        token = self.authorize("a")["data"]
        client, reply = self.authenticate("b", token)
        self.assertEqual(reply["data"], ALICE)
        self.assertEqual(client.identity, ALICE)

    def test_single_use_cluster_wide(self) -> None:
        """
        A token taken on B is refused on A, and on B again.
        """
        token = self.authorize("a")["data"]
        self.authenticate("b", token)
        for node in ("a", "b"):
            client, reply = self.authenticate(node, token)
            self.assertEqual(reply["message"], "Invalid token")
            self.assertIsNone(client.identity)

    def test_bound_cluster_wide(self) -> None:
        """
        max_pending counts the tokens authorized on every node.
        """
        self.authorize("a")
        self.authorize("b")
        self.assertEqual(self.authorize("a")["message"], "Too many pending tokens")
        self.assertEqual(self.authorize("b")["message"], "Too many pending tokens")

    def test_expiry_cluster_wide(self) -> None:
        """
        A token expires after its lifetime on every node, and frees room.
        """
        token = self.authorize("a")["data"]
        self.authorize("a")
        self.clock.advance(60)
        self.assertEqual(self.authenticate("b", token)[1]["message"], "Invalid token")
        self.assertEqual(self.authorize("b")["type"], "response")

    def test_hashed_at_rest(self) -> None:
        """
        The broker keeps the token's digest, never the token itself.
        """
        token = self.authorize("a")["data"]
        kept = self.broker.sets.state.tokens["identity"]
        self.assertEqual(len(kept), 1)
        self.assertNotIn(token.encode(), b"".join(kept))

    def test_broker_unavailable(self) -> None:
        """
        While the broker is unreachable, authorizing and authenticating
        answer Broker unavailable.
        """
        token = self.authorize("a")["data"]
        self.broker.available = False
        self.assertEqual(self.authorize("a")["message"], "Broker unavailable")
        client, reply = self.authenticate("a", token)
        self.assertEqual(reply["message"], "Broker unavailable")
        self.assertIsNone(client.identity)
