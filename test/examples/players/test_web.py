"""
Tests for examples.players.web: the REST API and the page, in memory, with
the example's real Snorky services behind a real connector.
"""

import json
from typing import Any, Dict, List

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase
from twisted.web.resource import Resource
from treq.testing import StubTreq

from examples.players.server import registries
from examples.players.store import PlayerStore
from examples.players.web import PlayersWeb
from snorky.backend import TwistedSnorkyBackend
from snorky.transports.http import BackendOptions, backend_resource
from test.helpers import RecordingClient

KEY = "test-key"


class PlayersWebTests(TestCase):
    """
    The Players API over a real store and the example's DataSync.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        apps = registries(self.clock)
        self.datasync = apps["frontend"].services["datasync"]
        root = Resource()
        backend = backend_resource(apps["backend"], BackendOptions(KEY), self.clock)
        root.putChild(b"backend", backend)
        self.store = PlayerStore()
        self.addCleanup(self.store.close)
        self.connector = TwistedSnorkyBackend(
            "http://snorky/backend", KEY, reactor=self.clock, client=StubTreq(root)
        )
        self.web = PlayersWeb(
            self.store, self.connector, "ws://snorky:5001/ws", "http://snorky:5001/sockjs"
        )
        self.http = StubTreq(self.web.resource())
        self.alice = self.store.create("Alice", "red")

    def request(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        if body is not None:
            kwargs["data"] = json.dumps(body).encode("utf-8")
            kwargs.setdefault("headers", {})["Content-Type"] = "application/json"
        response = self.successResultOf(self.http.request(method, "http://web" + path, **kwargs))
        return response, self.successResultOf(response.content())

    def subscribe(self, path: str) -> RecordingClient:
        """
        List *path* with a subscription, and acquire it from a client.
        """
        response, _ = self.request("GET", path, headers={"X-Snorky": "Subscribe"})
        (token,) = response.headers.getRawHeaders("X-Subscription-Token")
        client = RecordingClient()
        self.datasync.process_message_from(
            client, {"command": "acquireSubscription", "params": {"token": token}, "callId": 1}
        )
        self.assertEqual(client.messages("datasync")[0]["type"], "response")
        return client

    def deltas(self, client: RecordingClient) -> List[Dict[str, Any]]:
        return [m["delta"] for m in client.messages("datasync") if m["type"] == "delta"]

    def test_list(self) -> None:
        """
        The list is JSON, and without X-Snorky no subscription is made.
        """
        bob = self.store.create("Bob", "blue")
        response, content = self.request("GET", "/api/players")
        self.assertEqual(response.code, 200)
        self.assertEqual(json.loads(content), [self.alice, bob])
        self.assertIsNone(response.headers.getRawHeaders("X-Subscription-Token"))
        self.assertEqual(self.datasync.subscriptions, {})

    def test_list_by_color(self) -> None:
        """
        A colour lists the players of that colour; an unknown one is a 400.
        """
        self.store.create("Bob", "blue")
        _, content = self.request("GET", "/api/players?color=red")
        self.assertEqual(json.loads(content), [self.alice])
        response, content = self.request("GET", "/api/players?color=pink")
        self.assertEqual(response.code, 400)
        self.assertIn("colour", json.loads(content)["error"])

    def test_authorizes_before_querying(self) -> None:
        """
        A change committed while the subscription is being authorized is in
        the list: the database is queried after the authorization.
        """
        store = self.store
        real = self.connector.authorize_subscription

        def authorize_then_commit(items: Any) -> Deferred:
            d = real(items)
            store.create("Late", "red")
            return d

        self.connector.authorize_subscription = authorize_then_commit
        _, content = self.request("GET", "/api/players", headers={"X-Snorky": "Subscribe"})
        self.assertEqual([p["name"] for p in json.loads(content)], ["Alice", "Late"])

    def test_changes_reach_subscribers(self) -> None:
        """
        Creating, updating and deleting commit and publish the matching
        deltas, in order.
        """
        client = self.subscribe("/api/players")
        response, content = self.request("POST", "/api/players", {"name": "Bob", "color": "blue"})
        self.assertEqual(response.code, 201)
        bob = json.loads(content)
        path = "/api/players/{}".format(bob["id"])
        response, content = self.request("PUT", path, {"name": "Rob"})
        rob = json.loads(content)
        self.assertEqual(rob, dict(bob, name="Rob"))
        response, _ = self.request("DELETE", path)
        self.assertEqual(response.code, 200)
        self.assertEqual(self.deltas(client), [
            {"type": "insert", "model": "Player", "data": bob},
            {"type": "update", "model": "Player", "oldData": bob, "newData": rob},
            {"type": "delete", "model": "Player", "data": rob},
        ])
        self.assertEqual(self.store.list(), [self.alice])

    def test_color_subscription(self) -> None:
        """
        A colour list's subscription sees players enter and leave it as
        their colour changes.
        """
        client = self.subscribe("/api/players?color=blue")
        path = "/api/players/{}".format(self.alice["id"])
        self.request("PUT", path, {"color": "blue"})
        self.request("PUT", path, {"color": "green"})
        self.assertEqual([d["type"] for d in self.deltas(client)], ["insert", "delete"])

    def test_bad_requests(self) -> None:
        """
        Bad bodies and unknown players get clear errors and change nothing.
        """
        cases = [
            ("POST", "/api/players", {"name": "", "color": "red"}, 400),
            ("POST", "/api/players", ["not", "an", "object"], 400),
            ("PUT", "/api/players/1", {"id": 9}, 400),
            ("PUT", "/api/players/99", {"name": "Nobody"}, 404),
            ("DELETE", "/api/players/99", None, 404),
        ]
        for method, path, body, code in cases:
            response, content = self.request(method, path, body)
            self.assertEqual(response.code, code, (method, path, body))
            self.assertIn("error", json.loads(content))
        response, content = self.request(
            "POST", "/api/players", data=b'{"name": "X", "color": "red"}',
            headers={"Content-Type": "text/plain"},
        )
        self.assertEqual(response.code, 400)
        self.assertIn("JSON", json.loads(content)["error"])
        self.assertEqual(self.store.list(), [self.alice])

    def test_snorky_unreachable(self) -> None:
        """
        Without Snorky, a subscribed list is a 503, and changes are still
        committed (and answered) without their deltas.
        """
        web = PlayersWeb(
            self.store,
            TwistedSnorkyBackend("http://snorky/backend", KEY, reactor=self.clock,
                                 client=StubTreq(Resource())),
            "ws://snorky:5001/ws", "http://snorky:5001/sockjs",
        )
        self.http = StubTreq(web.resource())
        response, content = self.request("GET", "/api/players", headers={"X-Snorky": "Subscribe"})
        self.assertEqual(response.code, 503)
        self.assertIn("Snorky", json.loads(content)["error"])
        response, _ = self.request("POST", "/api/players", {"name": "Bob", "color": "blue"})
        self.assertEqual(response.code, 201)
        self.assertEqual(len(self.store.list()), 2)

    def test_page(self) -> None:
        """
        The page, titled "Players (Klein)", loads snorky.js from Snorky's
        port and carries the URLs and colours in its configuration.
        """
        response, content = self.request("GET", "/")
        page = content.decode("utf-8")
        self.assertIn("<title>Players (Klein)</title>", page)
        self.assertIn("<h1>Players (Klein)</h1>", page)
        self.assertIn('<script src="http://snorky:5001/snorky.js"></script>', page)
        start = page.index('<script id="config" type="application/json">')
        config = page[page.index(">", start) + 1:page.index("</script>", start)]
        self.assertEqual(json.loads(config)["sockjsUrl"], "http://snorky:5001/sockjs")
        self.assertIn("red", json.loads(config)["colors"])

    def test_unknown_library(self) -> None:
        """
        A library the page does not use is a 404 that says how the others
        are installed (those are fetched over real HTTP in test_server).
        """
        response, content = self.request("GET", "/lib/jquery.js")
        self.assertEqual(response.code, 404)
        self.assertIn(b"npm ci", content)
