"""
The live status page in headless Chromium, while real clients receive
DataSync deltas from the real backend API.
"""

import os
import shutil
from typing import Any, List

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from test.ops.servers import OpsServer
from test.wsclient import connect

DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser.js")
#: Seconds the browser run may take before it is killed.
BROWSER_TIMEOUT = 60.0
#: Seconds between two published deltas while the browser looks.
PUBLISH_EVERY = 0.05


class _Browser(ProcessProtocol):
    """
    Collects browser.js's output; :attr:`ended` fires with its exit code.
    """

    def __init__(self) -> None:
        self.output: List[bytes] = []
        self.ended: Deferred = Deferred()

    def outReceived(self, data: bytes) -> None:
        self.output.append(data)

    def errReceived(self, data: bytes) -> None:
        self.output.append(data)

    def processEnded(self, reason: Failure) -> None:
        self.ended.callback(reason.value.exitCode)


class StatusPageTests(TestCase):
    """
    The status page as an operator opens it.
    """

    timeout = 120

    async def test_charts_move_under_load(self) -> None:
        """
        The page loads, its charts move while deltas are published to ten
        subscribers, and its screenshot is not that of an empty page.
        """
        server = OpsServer()
        self.addCleanup(server.stop)
        for _ in range(10):
            client = await connect(server.urls["ws"])
            self.addCleanup(lambda c=client: None if c.closed.called else c.close())
            answer = await server.backend(
                "datasync_backend", "authorizeSubscription",
                items=[{"dealer": "all_items", "query": None}])
            reply = await client.call("datasync", "acquireSubscription",
                                      token=answer["message"]["data"])
            self.assertEqual(reply["type"], "response")
        published = [0]
        busy = [False]

        def publish() -> None:
            # One request at a time; bounded by the browser's run.
            if busy[0]:
                return
            busy[0] = True
            published[0] += 1
            delta = {"type": "insert", "model": "Item", "data": {"id": published[0]}}
            d = Deferred.fromCoroutine(
                server.backend("datasync_backend", "publishDeltas", deltas=[delta]))
            d.addBoth(lambda _: busy.__setitem__(0, False))

        load = LoopingCall(publish)
        load.start(PUBLISH_EVERY)
        self.addCleanup(lambda: load.running and load.stop())

        node = shutil.which("node")
        self.assertIsNotNone(node, "node is needed for this test")
        screenshot = os.path.abspath(self.mktemp() + ".png")
        browser = _Browser()
        process: Any = reactor.spawnProcess(
            browser, node, [node, DRIVER, server.urls["ops"] + "/", screenshot],
            env=os.environ.copy(),
        )
        killer = reactor.callLater(BROWSER_TIMEOUT, process.signalProcess, "KILL")
        code = await browser.ended
        if killer.active():
            killer.cancel()
        load.stop()
        output = b"".join(browser.output).decode("utf-8", "replace")
        self.assertEqual(code, 0, output)
        self.assertIn("ok ", output)
        self.assertGreater(published[0], 10)
        self.assertTrue(os.path.exists(screenshot))
