"""
Tests of `TwistedSnorkyBackend`: units on treq's in-memory HTTP stack and a
Clock, and the shared integration tests over a real loopback port.
"""

from twisted.internet.defer import CancelledError, gatherResults
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase
from treq.testing import StubTreq

from snorky.backend import SnorkyError, SnorkyTransportError, TwistedSnorkyBackend
from snorky.backend.rest import subscribe_if_asked
from test.backend.integration import ConnectorTests
from test.helpers import wait_until
from test.backend.servers import KEY, BackendServer


class InMemoryTests(TestCase):
    """
    The connector driving a real backend resource in memory.
    """

    def setUp(self):
        self.clock = Clock()
        self.server = BackendServer(clock=self.clock)
        self.backend = TwistedSnorkyBackend(
            "http://127.0.0.1/backend",
            KEY,
            timeout=5,
            reactor=self.clock,
            client=StubTreq(self.server.root),
        )

    def test_deferred_data(self):
        """
        A call returns a Deferred that fires with the data.
        """
        d = self.backend.call("calls", "echo", a=1)
        self.assertEqual(self.successResultOf(d), {"a": 1})

    def test_deferred_rpc_error(self):
        """
        An RPC error fails the Deferred with SnorkyError.
        """
        d = self.backend.call("calls", "fail", text="No")
        failure = self.failureResultOf(d, SnorkyError)
        self.assertEqual(failure.value.message, "No")

    def test_params_not_json(self):
        """
        Params that are not JSON-able fail the Deferred with TypeError.
        """
        self.failureResultOf(self.backend.call("calls", "echo", a=object()), TypeError)

    def test_helpers(self):
        """
        The helper methods return Deferreds of their results.
        """
        items = [{"dealer": "d", "query": 1}]
        token = self.successResultOf(self.backend.authorize_subscription(items))
        self.assertEqual(token, "token-1")
        token = self.successResultOf(self.backend.authorize_identity(7))
        self.assertEqual(token, "token-1")
        self.assertIsNone(self.successResultOf(self.backend.publish_deltas([])))

    def test_timeout(self):
        """
        A call that gets no answer within the timeout, on the connector's
        reactor, fails with a transport error.
        """
        d = self.backend.call("calls", "hang")
        self.clock.advance(4.9)
        self.assertNoResult(d)
        self.clock.advance(0.1)
        failure = self.failureResultOf(d, SnorkyTransportError)
        self.assertIn("did not answer within 5 s", str(failure.value))

    def test_cancel(self):
        """
        Cancelling a call fails it with CancelledError, not a transport error.
        """
        d = self.backend.call("calls", "hang")
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.clock.advance(10)

    def test_close_with_injected_client(self):
        """
        ``close`` leaves an injected client alone and fires at once.
        """
        self.assertIsNone(self.successResultOf(self.backend.close()))

    def test_subscribe_if_asked(self):
        """
        The REST helper returns a Deferred of the token, or of None when
        no subscription was asked for.
        """
        items = [{"dealer": "d", "query": 1}]
        asked = subscribe_if_asked(self.backend, {"X-Snorky": "Subscribe"}, items)
        self.assertEqual(self.successResultOf(asked), "token-1")
        not_asked = subscribe_if_asked(self.backend, {}, items)
        self.assertIsNone(self.successResultOf(not_asked))
        self.assertEqual(self.server.datasync.authorized, [items])


class TwistedSnorkyBackendTests(ConnectorTests, TestCase):
    """
    The Twisted connector over real connections from its own pool.
    """

    def connect(self, url, key, **kwargs):
        backend = TwistedSnorkyBackend(url, key, **kwargs)
        self.addCleanup(backend.close)
        return backend

    def invoke(self, method, *args, **kwargs):
        return method(*args, **kwargs)

    async def test_close(self):
        """
        ``close`` closes the kept-alive connection, and a later call opens
        a new one.
        """
        backend = self.backend()
        await backend.call("calls", "echo")
        self.assertEqual(len(self.server.connections.protocols), 1)
        await backend.close()
        await wait_until(lambda: not self.server.connections.protocols)
        self.assertEqual(await backend.call("calls", "echo", a=2), {"a": 2})
        self.assertEqual(self.server.connections.accepted, 2)

    async def test_concurrent_calls(self):
        """
        Calls made at once each get their own answer.
        """
        backend = self.backend()
        results = await gatherResults(
            [backend.call("calls", "echo", i=i) for i in range(10)]
        )
        self.assertEqual(results, [{"i": i} for i in range(10)])
