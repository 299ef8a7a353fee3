"""
Tests for examples.chat.server: the whole chat example, started on
loopback ports and used from headless Chromium.
"""

import os
import shutil
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.trial.unittest import TestCase

from examples.chat.server import ChatExample
from test.cluster import KEY as CLUSTER_KEY
from test.cluster import Cluster
from test.helpers import (
    KEY,
    ProcessOutput,
    free_port,
    run_twistd,
    wait_listening,
    wait_until,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser.js")
#: Seconds the browser run may take before it is killed.
BROWSER_TIMEOUT = 60.0


class ChatExampleBrowserTests(TestCase):
    """
    The chat example in a real browser.
    """

    async def drive_browser(self, page_url: str, *bob_url: str) -> None:
        """
        Run browser.js on *page_url* (Bob on *bob_url* if given) and check
        that it passed.
        """
        node = shutil.which("node")
        self.assertIsNotNone(node, "node is needed to drive the browser")
        output = ProcessOutput()
        process = reactor.spawnProcess(
            output, node, [node, DRIVER, page_url, *bob_url], env=dict(os.environ), path=ROOT
        )
        killer = reactor.callLater(BROWSER_TIMEOUT, process.signalProcess, "KILL")
        code = await output.ended
        timed_out = not killer.active()
        if not timed_out:
            killer.cancel()
        text = output.output.decode("utf-8", "replace")
        self.assertFalse(timed_out, "browser run killed after {} s:\n{}".format(
            BROWSER_TIMEOUT, text))
        self.assertEqual((code, text.strip().splitlines()[-1:]), (0, ["ok"]), text)

    def test_chat_in_browser(self) -> None:
        """
        Two tabs of one user and a tab of another see each other's presence
        once per user, exchange messages, share read marks, and see a
        closed tab's user leave (the script browser.js checks each step);
        afterwards nothing of the browser's connections remains.
        """
        return ensureDeferred(self._in_process())

    async def _in_process(self) -> None:
        example = ChatExample(reactor)
        self.addCleanup(example.stop)
        await example.start(web_port=0, snorky_port=0)
        await self.drive_browser(example.page_url)
        assert example.registries is not None
        chat: Any = example.registries["frontend"].services["chat"]
        await wait_until(lambda: not chat.memberships, "the browser to leave")
        self.assertEqual((chat.memberships, chat.channels), ({}, {}))

    def test_with_twistd_default_app(self) -> None:
        """
        The example works the same against ``twistd -n snorky`` serving
        the default app.
        """
        return ensureDeferred(self._with_twistd())

    async def _with_twistd(self) -> None:
        ws_port, http_port = free_port(), free_port()
        twistd = run_twistd([
            "snorky",
            "--ports", "frontend:websocket:tcp:{}:interface=127.0.0.1".format(ws_port),
            "--ports", "backend:http:tcp:{}:interface=127.0.0.1".format(http_port),
            "--backend-key", KEY,
        ])
        self.addCleanup(self._kill, twistd)
        await wait_listening(ws_port, twistd)
        await wait_listening(http_port, twistd)
        example = ChatExample(reactor)
        self.addCleanup(example.stop)
        await example.start(
            web_port=0,
            snorky_url="ws://127.0.0.1:{}/ws".format(ws_port),
            backend_url="http://127.0.0.1:{}/backend".format(http_port),
            backend_key=KEY,
        )
        await self.drive_browser(example.page_url)

    def test_two_users_on_two_nodes(self) -> Deferred:
        """
        Alice's tabs on one node and Bob's on another, sharing Redis, see
        the same chat as on one node.
        """
        return ensureDeferred(self._on_two_nodes())

    async def _on_two_nodes(self) -> None:
        cluster = Cluster(self, count=2)
        await cluster.start()
        pages = []
        for node in cluster.nodes:
            example = ChatExample(reactor)
            self.addCleanup(example.stop)
            await example.start(web_port=0, snorky_url=node.ws_url,
                                backend_url=node.backend_url, backend_key=CLUSTER_KEY)
            pages.append(example.page_url)
        await self.drive_browser(*pages)

    def _kill(self, twistd: Any) -> Deferred:
        if not twistd.ended.called:
            twistd.transport.signalProcess("KILL")
        return twistd.ended
