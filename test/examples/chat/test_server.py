"""
Tests for examples.chat.server: the whole chat example, started on
loopback ports and used from headless Chromium.
"""

import os
import shutil
from typing import Any, List

from twisted.internet import reactor
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.task import deferLater
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from examples.chat.server import ChatExample

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser.js")
#: Seconds the browser run may take before it is killed.
BROWSER_TIMEOUT = 60.0


class _Output(ProcessProtocol):
    """
    Collects a process's output; :attr:`ended` fires with its exit code.
    """

    def __init__(self) -> None:
        self.output: List[bytes] = []
        self.ended: Deferred = Deferred()

    def outReceived(self, data: bytes) -> None:
        self.output.append(data)

    errReceived = outReceived

    def processEnded(self, reason: Failure) -> None:
        self.ended.callback(reason.value.exitCode)


class ChatExampleBrowserTests(TestCase):
    """
    The chat example in a real browser.
    """

    def test_chat_in_browser(self) -> None:
        """
        Two tabs of one user and a tab of another see each other's presence
        once per user, exchange messages, share read marks, and see a
        closed tab's user leave (the script browser.js checks each step).
        """
        return ensureDeferred(self._scenario())

    async def _scenario(self) -> None:
        example = ChatExample(reactor)
        self.addCleanup(example.stop)
        await example.start(web_port=0, snorky_port=0)

        node = shutil.which("node")
        self.assertIsNotNone(node, "node is needed to drive the browser")
        output = _Output()
        process = reactor.spawnProcess(
            output, node, [node, DRIVER, example.page_url], env=dict(os.environ), path=ROOT
        )
        killer = reactor.callLater(BROWSER_TIMEOUT, process.signalProcess, "KILL")
        code = await output.ended
        timed_out = not killer.active()
        if not timed_out:
            killer.cancel()
        text = b"".join(output.output).decode("utf-8", "replace")
        self.assertFalse(timed_out, "browser run killed after {} s:\n{}".format(
            BROWSER_TIMEOUT, text))
        self.assertEqual((code, text.strip().splitlines()[-1:]), (0, ["ok"]), text)
        # Once the browser is gone, nothing of its connections remains.
        assert example.registries is not None
        chat: Any = example.registries["frontend"].services["chat"]
        for _ in range(500):
            if not chat.memberships:
                break
            await deferLater(reactor, 0.01)
        self.assertEqual((chat.memberships, chat.channels), ({}, {}))
