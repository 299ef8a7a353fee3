"""
Tests for examples.django_players: ``python -m examples.django_players``
run as a subprocess on free loopback ports, used by a real WebSocket
client and by headless Chromium.
"""

import json
import os
import re
import shutil
import sqlite3
import sys
from typing import Any, List, Optional

import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred, ensureDeferred, succeed
from twisted.internet.protocol import ProcessProtocol
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from treq.client import HTTPClient

from examples.players.store import SAMPLE
from test import wsclient
from test.helpers import PLAYERS_BROWSER_TIMEOUT, PLAYERS_DRIVER, PlayersBrowser

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
#: Seconds the example may take to print its URL.
START_TIMEOUT = 30.0
_URL = re.compile(rb"open (http://127\.0\.0\.1:\d+/) ")
_CONFIG = re.compile(r'<script id="config" type="application/json">(.*?)</script>')


class _Example(ProcessProtocol):
    """
    One run of the example: :attr:`url` fires with the page's URL once it
    is printed; :meth:`stop` stops it.
    """

    def __init__(self) -> None:
        self.output = b""
        self.url: Deferred = Deferred()
        self.code: Optional[int] = None
        self._ended = False
        self._waiting: List[Deferred] = []

    def outReceived(self, data: bytes) -> None:
        self.output += data
        found = _URL.search(self.output)
        if found and not self.url.called:
            self.url.callback(found.group(1).decode("ascii"))

    errReceived = outReceived

    def processEnded(self, reason: Failure) -> None:
        if not self.url.called:
            self.url.errback(RuntimeError(self.output.decode("utf-8", "replace")))
        self.code, self._ended = reason.value.exitCode, True
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.callback(self.code)

    def stop(self) -> Deferred:
        """
        Send SIGINT (Ctrl-C) unless it has ended; fires with the exit code.
        """
        if self._ended:
            return succeed(self.code)
        if self.transport.pid is not None:
            self.transport.signalProcess("INT")
        d: Deferred = Deferred()
        self._waiting.append(d)
        return d


def _http() -> HTTPClient:
    # No connection outlives its request: the example's process ends.
    return HTTPClient(Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False)))


class DjangoPlayersExampleTests(TestCase):
    """
    The Django Players example as a newcomer runs it.
    """

    timeout = 120

    async def run_example(self, *args: str) -> Any:
        """
        Start the example with *args*, stopped with SIGINT (Ctrl-C) at
        cleanup; return its :class:`_Example` once its URL is printed.
        """
        example = _Example()
        process = reactor.spawnProcess(
            example, sys.executable,
            [sys.executable, "-m", "examples.django_players", *args],
            env=dict(os.environ, PYTHONPATH=ROOT), path=ROOT,
        )
        # Bounded: a run that hangs is killed when the test times out.
        killed = reactor.callLater(self.timeout, process.signalProcess, "KILL")

        async def stop() -> None:
            code = await example.stop()
            if killed.active():
                killed.cancel()
            self.assertEqual(code, 0, example.output)

        self.addCleanup(lambda: ensureDeferred(stop()))
        await example.url.addTimeout(START_TIMEOUT, reactor)
        return example

    def test_deltas_of_api_calls(self) -> Any:
        """
        A WebSocket client holding the token of the list view receives the
        insert, update and delete deltas of players created, changed and
        deleted through the API, each as Django's save or delete commits.
        """

        async def check() -> None:
            example = await self.run_example("--web-port", "0", "--snorky-port", "0")
            url = await example.url
            http = _http()
            page = await treq.text_content(await http.get(url))
            config = json.loads(_CONFIG.search(page).group(1))
            self.assertIn("<title>Players (Django)</title>", page)
            response = await http.get(url + "api/players", headers={"X-Snorky": "Subscribe"})
            # A new database starts with the Klein example's sample players.
            self.assertEqual([(p["name"], p["color"]) for p in json.loads(await treq.content(response))],
                             list(SAMPLE))
            [token] = response.headers.getRawHeaders("X-Subscription-Token")

            browser = await wsclient.connect(config["websocketUrl"])
            self.addCleanup(browser.close)
            answer = await browser.call("datasync", "acquireSubscription", token=token)
            self.assertEqual(answer["type"], "response", answer)

            async def send(method: str, path: str, body: Optional[Any] = None) -> Any:
                response = await http.request(
                    method, url + "api/players" + path,
                    data=None if body is None else json.dumps(body).encode("utf-8"),
                    headers={"Content-Type": "application/json"},
                )
                return response.code, json.loads(await treq.content(response))

            async def delta() -> Any:
                envelope = await browser.next_notification()
                self.assertEqual(envelope["message"]["type"], "delta")
                return envelope["message"]["delta"]

            code, created = await send("POST", "", {"name": "Alice", "color": "red"})
            self.assertEqual(code, 201)
            self.assertEqual(await delta(), {"type": "insert", "model": "Player",
                                             "data": created})
            path = "/{}".format(created["id"])
            code, changed = await send("PUT", path, {"color": "blue"})
            self.assertEqual(changed, dict(created, color="blue"))
            self.assertEqual(await delta(), {"type": "update", "model": "Player",
                                             "oldData": created, "newData": changed})
            self.assertEqual(await send("DELETE", path), (200, changed))
            self.assertEqual(await delta(), {"type": "delete", "model": "Player",
                                             "data": changed})
            self.assertEqual(await send("PUT", path, {"color": "red"}),
                             (404, {"error": "No such player"}))
            code, error = await send("POST", "", {"name": "Bob", "color": "plaid"})
            self.assertEqual(code, 400, error)

        return ensureDeferred(check())

    def test_players_in_browser(self) -> Any:
        """
        The Players page, served with this example's Django API, passes
        the Players browser scenario: changes in one page show in another
        within a second, over WebSocket and SockJS, and across a restart.
        """
        return ensureDeferred(self._scenario())

    async def _scenario(self) -> None:
        db = os.path.abspath(self.mktemp())
        runs: List[Any] = [await self.run_example(
            "--web-port", "0", "--snorky-port", "0", "--db", db)]
        url = await runs[0].url
        page = await treq.text_content(await _http().get(url))
        snorky = re.search(r'"websocketUrl": "ws://127\.0\.0\.1:(\d+)/ws"', page).group(1)
        web = url.rsplit(":", 1)[1].strip("/")
        transports = iter(["websocket", "sockjs"])

        async def restart() -> None:
            self.assertEqual(await runs[-1].stop(), 0)
            with sqlite3.connect(db) as connection:
                connection.execute(
                    "INSERT INTO django_players_player (name, color) VALUES (?, ?)",
                    ("Dave " + next(transports), "red"))
            connection.close()
            runs.append(await self.run_example(
                "--web-port", web, "--snorky-port", snorky, "--db", db))

        node = shutil.which("node")
        self.assertIsNotNone(node, "node is needed for this test")
        browser = PlayersBrowser(restart)
        process = reactor.spawnProcess(browser, node, [node, PLAYERS_DRIVER, url], env=os.environ.copy())
        self.addCleanup(lambda: process.pid is None or process.signalProcess("KILL"))
        code = await browser.ended.addTimeout(PLAYERS_BROWSER_TIMEOUT, reactor)
        report = b"".join(browser.output).decode("utf-8", "replace")
        self.assertTrue(code == 0 and "ok " in report, report)
