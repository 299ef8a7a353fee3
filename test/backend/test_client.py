"""
Integration tests of the blocking `SnorkyBackend` against a real backend
API on a loopback port; the connector runs in a thread while the reactor
serves.
"""

from twisted.internet.defer import gatherResults
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import TestCase

from snorky.backend import SnorkyBackend
from test.backend.integration import ConnectorTests
from test.helpers import wait_until


class SnorkyBackendTests(ConnectorTests, TestCase):
    """
    The blocking connector, called from threads.
    """

    def connect(self, url, key, **kwargs):
        backend = SnorkyBackend(url, key, **kwargs)
        self.addCleanup(backend.close)
        return backend

    def invoke(self, method, *args, **kwargs):
        return deferToThread(method, *args, **kwargs)

    async def test_threads_share_one_instance(self):
        """
        Calls from several threads through one instance each get their
        own answer.
        """
        backend = self.backend()

        def calls(thread):
            return [backend.call("calls", "echo", t=thread, i=i) for i in range(5)]

        results = await gatherResults([deferToThread(calls, t) for t in range(6)])
        self.assertEqual(
            results, [[{"t": t, "i": i} for i in range(5)] for t in range(6)]
        )
        self.assertEqual(self.server.connections.accepted, 1)

    async def test_close(self):
        """
        ``close`` closes the connection, and a later call opens a new one;
        leaving a ``with`` block closes it too.
        """
        backend = self.backend()
        await deferToThread(backend.call, "calls", "echo")
        backend.close()
        await wait_until(lambda: not self.server.connections.protocols)
        await deferToThread(backend.call, "calls", "echo")
        with backend:
            pass
        await wait_until(lambda: not self.server.connections.protocols)
        self.assertEqual(self.server.connections.accepted, 2)
