"""
Tests for examples.players.server: the whole Players example, started on
loopback ports, used over HTTP and from headless Chromium.
"""

import json
import os
import shutil
from typing import Any
from urllib.parse import urlsplit

import treq
from twisted.internet import reactor
from twisted.internet.defer import ensureDeferred
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.http_headers import Headers
from treq.client import HTTPClient

from examples.players.server import PlayersExample
from examples.players.store import PlayerStore
from test.helpers import PLAYERS_BROWSER_TIMEOUT, PLAYERS_DRIVER, PlayersBrowser


class PlayersExampleTests(TestCase):
    """
    The Players example as a newcomer runs it.
    """

    timeout = 120

    async def start(self) -> PlayersExample:
        example = PlayersExample(reactor, db_path=self.mktemp())
        self.addCleanup(lambda: example.stop())
        await example.start(web_port=0, snorky_port=0)
        return example

    def test_page_and_api(self) -> Any:
        """
        The page names Snorky's snorky.js, the libraries it loads are
        served, and the API lists the sample players with a subscription
        token when asked.
        """

        async def check() -> None:
            example = await self.start()
            pool = HTTPConnectionPool(reactor, persistent=False)
            http = HTTPClient(Agent(reactor, pool=pool))
            page = await treq.text_content(await http.get(example.page_url))
            assert example.web is not None
            snorky = urlsplit(example.web.websocket_url).netloc
            self.assertIn('src="http://{}/snorky.js"'.format(snorky), page)
            for path in ["lib/knockout.js", "lib/sockjs.js", "lib/snorky-knockout.js",
                         "static/players.js"]:
                response = await http.get(example.page_url + path)
                await treq.content(response)
                self.assertEqual(response.code, 200, path)
            response = await http.get(
                example.page_url + "api/players", headers=Headers({"X-Snorky": ["Subscribe"]})
            )
            players = json.loads(await treq.content(response))
            self.assertEqual([p["name"] for p in players], ["Alice", "Bob", "Carol"])
            token = response.headers.getRawHeaders("X-Subscription-Token")
            self.assertEqual(len(token[0]), 43)

        return ensureDeferred(check())

    def test_react_and_vue_pages(self) -> Any:
        """
        The React and Vue pages are served with what they load: the React
        bundle, and Vue and snorky.js's ES modules for the import map.
        """

        async def check() -> None:
            example = await self.start()
            pool = HTTPConnectionPool(reactor, persistent=False)
            http = HTTPClient(Agent(reactor, pool=pool))
            for page, scripts in [
                ("react", ["static/build/players-react.js"]),
                ("vue", ["static/players-vue.js", "static/players-common.js", "lib/vue.js",
                         "lib/snorky/snorky.js", "lib/snorky/live.js", "lib/snorky/vue.js"]),
            ]:
                response = await http.get(example.page_url + page)
                html = await treq.text_content(response)
                self.assertEqual(response.code, 200, page)
                self.assertIn('"colors"', html)
                self.assertIn("/" + scripts[0], html)
                for path in scripts:
                    response = await http.get(example.page_url + path)
                    await treq.content(response)
                    self.assertEqual(response.code, 200, path)
                    self.assertIn("javascript", response.headers.getRawHeaders(
                        "Content-Type")[0], path)
            response = await http.get(example.page_url + "lib/snorky/build.js")
            await treq.content(response)
            self.assertEqual(response.code, 404)

        return ensureDeferred(check())

    def test_players_in_browser(self) -> Any:
        """
        Changes made in one page show in another within a second, in and
        out of a colour filter, over WebSocket and over SockJS, and a page
        open across a restart catches up (browser.js checks each step).
        """
        return ensureDeferred(self._scenario(""))

    def test_players_in_browser_react(self) -> Any:
        """
        The React page behaves as the Knockout one, step for step.
        """
        return ensureDeferred(self._scenario("react"))

    def test_players_in_browser_vue(self) -> Any:
        """
        The Vue page behaves as the Knockout one, step for step.
        """
        return ensureDeferred(self._scenario("vue"))

    async def _scenario(self, page: str) -> None:
        example = await self.start()
        assert example.web is not None
        web_port = urlsplit(example.page_url).port
        snorky_port = urlsplit(example.web.websocket_url).port
        assert web_port is not None and snorky_port is not None
        transports = iter(["websocket", "sockjs"])

        async def restart() -> None:
            await example.stop()
            store = PlayerStore(example.db_path)
            store.create("Dave " + next(transports), "red")
            store.close()
            await example.start(web_port, snorky_port)

        node = shutil.which("node")
        if node is None:
            self.fail("node is needed for this test")
        browser = PlayersBrowser(restart)
        process = reactor.spawnProcess(
            browser, node, [node, PLAYERS_DRIVER, example.page_url + page, page or "knockout"],
            env=os.environ.copy()
        )
        killer = reactor.callLater(PLAYERS_BROWSER_TIMEOUT, process.signalProcess, "KILL")
        code = await browser.ended
        if killer.active():
            killer.cancel()
        output = b"".join(browser.output).decode("utf-8", "replace")
        self.assertEqual(code, 0, output)
        self.assertIn("ok ", output)
