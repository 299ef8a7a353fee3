"""Tests for snorky.services.identity."""

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky import ServiceRegistry
from snorky.envelopes import canonical_json
from snorky.services.identity import IdentityBackend, IdentityService
from test.helpers import RecordingClient

ALICE = {"id": 7, "name": "alice"}


class JsonKeyTests(TestCase):
    """
    Tests for canonical_json.
    """

    def test_member_order(self) -> None:
        """
        Objects with the same members in another order have the same key.
        """
        self.assertEqual(canonical_json({"a": 1, "b": [2]}), canonical_json({"b": [2], "a": 1}))

    def test_distinct_values(self) -> None:
        """
        Values that differ, even only in type, have different keys.
        """
        self.assertNotEqual(canonical_json("1"), canonical_json(1))
        self.assertNotEqual(canonical_json([1, 2]), canonical_json([2, 1]))


class IdentityTests(TestCase):
    """
    Tests for IdentityService and IdentityBackend through two registries.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.identity = IdentityService("identity", clock=self.clock)
        self.frontend = ServiceRegistry([self.identity], clock=self.clock)
        self.backend = ServiceRegistry(
            [IdentityBackend("identity_backend", self.identity)], clock=self.clock
        )
        self.app = RecordingClient()
        self.backend.client_connected(self.app)
        self.browser = RecordingClient()
        self.frontend.client_connected(self.browser)

    def call(self, registry, client, service, command, **params):
        registry.process_message_from(
            client, service, {"command": command, "params": params, "callId": 1}
        )
        return client.messages(service)[-1]

    def authorize(self, identity=ALICE):
        reply = self.call(
            self.backend, self.app, "identity_backend", "authorizeIdentity",
            identity=identity,
        )
        self.assertEqual(reply["type"], "response", reply)
        return reply["data"]

    def authenticate(self, token, client=None):
        return self.call(
            self.frontend, client or self.browser, "identity", "authenticate",
            token=token,
        )

    def test_authenticate(self) -> None:
        """
        A token authorized by the backend sets the identity of the
        connection that presents it, and the answer is that identity.
        """
        reply = self.authenticate(self.authorize())
        self.assertEqual(reply, {"type": "response", "callId": 1, "data": ALICE})
        self.assertEqual(self.browser.identity, ALICE)

    def test_token_strength(self) -> None:
        """
        Tokens are text of at least 128 bits of randomness, different
        each time.
        """
        tokens = {self.authorize() for _ in range(50)}
        self.assertEqual(len(tokens), 50)
        for token in tokens:
            # URL-safe base64 carries 6 bits per character.
            self.assertGreaterEqual(len(token) * 6, 128)

    def test_single_use(self) -> None:
        """
        A token that was used once is refused the second time, even from
        another connection, and that connection gets no identity.
        """
        token = self.authorize()
        self.authenticate(token)
        other = RecordingClient()
        self.frontend.client_connected(other)
        reply = self.authenticate(token, other)
        self.assertEqual(reply["message"], "Invalid token")
        self.assertIsNone(other.identity)
        self.assertEqual(self.identity.pending, {})

    def test_wrong_token(self) -> None:
        """
        A token that was never authorized, or is not text, is refused.
        """
        self.authorize()
        for token in ["nope", "", 12, None, ["x"], "x" * 10000]:
            reply = self.authenticate(token)
            self.assertEqual(reply["message"], "Invalid token", token)
        self.assertIsNone(self.browser.identity)
        self.assertEqual(len(self.identity.pending), 1)

    def test_expired(self) -> None:
        """
        A token presented after its lifetime is refused, and it no longer
        takes room in the table of pending tokens.
        """
        token = self.authorize()
        self.clock.advance(59.9)
        self.assertEqual(len(self.identity.pending), 1)
        self.clock.advance(0.1)
        self.assertEqual(self.identity.pending, {})
        self.assertEqual(self.authenticate(token)["message"], "Invalid token")

    def test_used_token_timer_cancelled(self) -> None:
        """
        Using a token cancels its expiry timer.
        """
        self.authenticate(self.authorize())
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_custom_lifetime(self) -> None:
        """
        The lifetime is configurable.
        """
        identity = IdentityService("identity", lifetime=5, clock=self.clock)
        identity.authorize("bob")
        self.clock.advance(4.9)
        self.assertEqual(len(identity.pending), 1)
        self.clock.advance(0.1)
        self.assertEqual(identity.pending, {})

    def test_null_identity(self) -> None:
        """
        The backend cannot authorize null, which means "not authenticated".
        """
        reply = self.call(
            self.backend, self.app, "identity_backend", "authorizeIdentity",
            identity=None,
        )
        self.assertEqual(reply["message"], "Invalid identity")

    def test_pending_bounded(self) -> None:
        """
        Beyond max_pending unused tokens the backend gets an error, and a
        token freed by use or expiry makes room again.
        """
        self.identity.max_pending = 3
        first = self.authorize()
        self.authorize()
        self.authorize()
        reply = self.call(
            self.backend, self.app, "identity_backend", "authorizeIdentity",
            identity=ALICE,
        )
        self.assertEqual(reply["message"], "Too many pending tokens")
        self.assertEqual(len(self.identity.pending), 3)
        self.authenticate(first)
        self.authorize()

    def test_reauthenticate(self) -> None:
        """
        A connection may take another identity with a fresh token.
        """
        self.authenticate(self.authorize())
        self.authenticate(self.authorize({"id": 8}))
        self.assertEqual(self.browser.identity, {"id": 8})

    def test_any_json_identity(self) -> None:
        """
        Identities may be any JSON value but null.
        """
        for identity in ["alice", 0, False, [1, "a"], {"n": {"m": []}}]:
            self.authenticate(self.authorize(identity))
            self.assertEqual(self.browser.identity, identity)

    def test_not_reachable_from_frontend(self) -> None:
        """
        The frontend service has no command to authorize identities.
        """
        reply = self.call(
            self.frontend, self.browser, "identity", "authorizeIdentity",
            identity=ALICE,
        )
        self.assertEqual(reply["message"], "Unknown command")
        self.assertEqual(self.identity.pending, {})
