"""
The real sockjs-client in Node against Snorky's SockJS resources, over
each transport it offers in Node.
"""

from twisted.internet import defer, reactor
from twisted.trial.unittest import TestCase

from test.transports.sockjs.integration import SockJSTestSite, passed, run_script


class NodeClientTests(TestCase):
    """
    Each test runs node/scenario.js over one transport: awkward payloads
    echoed intact and in order, an RPC round trip and a PubSub
    notification through Snorky, then a clean close.
    """

    timeout = 90

    def setUp(self) -> None:
        self.site = SockJSTestSite(reactor)
        self.base = self.site.start()
        self.addCleanup(self.site.stop)

    @defer.inlineCallbacks
    def check(self, transport: str):
        [result] = yield run_script(
            reactor, "run_node.js", [self.base, transport], timeout=60
        )
        self.assertEqual(result, passed(transport))
        yield self.site.wait_disconnects(1)
        recorder = self.site.recorder
        self.assertEqual(len(recorder.connected), 1)
        self.assertEqual(recorder.disconnected, recorder.connected)
        self.assertEqual(recorder.connected[0].transport_name, "sockjs")

    def test_websocket(self):
        """
        The websocket transport carries the whole scenario.
        """
        return self.check("websocket")

    def test_xhr_streaming(self):
        """
        The xhr-streaming transport carries the whole scenario.
        """
        return self.check("xhr-streaming")

    def test_xhr_polling(self):
        """
        The xhr-polling transport carries the whole scenario.
        """
        return self.check("xhr-polling")

    def test_eventsource(self):
        """
        The eventsource transport carries the whole scenario.
        """
        return self.check("eventsource")
