"""
Integration tests of DataSync: real Autobahn WebSocket clients on the
frontend and the real HTTP backend API, on one loopback port.
"""

from twisted.internet import reactor
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import TestCase
from twisted.web.resource import Resource
from twisted.web.server import Site

from snorky.backend import SnorkyBackend, SnorkyError
from snorky.backend.txclient import TwistedSnorkyBackend
from snorky.registry import ServiceRegistry
from snorky.services.datasync import DataSyncBackend, DataSyncService
from snorky.transports.http import BackendOptions, backend_resource
from snorky.transports.websocket import SnorkyWebSocketFactory, websocket_resource
from test.helpers import (
    AllPlayers,
    PlayerById,
    Players,
    delete,
    insert,
    update,
    wait_until,
)
from test.wsclient import connect

KEY = "datasync-integration-key-0123456789"


class DataSyncIntegrationTests(TestCase):
    """
    Subscriptions authorized through the HTTP backend, acquired over
    WebSocket, receive exactly their deltas.
    """

    def setUp(self):
        self.frontend = DataSyncService(
            "datasync", [AllPlayers, PlayerById, Players], grace_period=30,
            holder_timeout=0.5,
        )
        backend = DataSyncBackend("datasync_backend", self.frontend)
        root = Resource()
        factory = SnorkyWebSocketFactory(ServiceRegistry([self.frontend]))
        root.putChild(b"ws", websocket_resource(factory))
        root.putChild(
            b"backend",
            backend_resource(ServiceRegistry([backend]), BackendOptions(key=KEY)),
        )
        port = reactor.listenTCP(0, Site(root), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.addCleanup(self.end_subscriptions)
        number = port.getHost().port
        self.ws_url = "ws://127.0.0.1:{}/ws".format(number)
        self.backend_url = "http://127.0.0.1:{}/backend".format(number)
        self.app = TwistedSnorkyBackend(self.backend_url, KEY)
        self.addCleanup(self.app.close)

    def end_subscriptions(self):
        # Their timers would outlive the test otherwise.
        for subscription in list(self.frontend.subscriptions.values()):
            self.frontend.cancel(subscription)

    async def browser(self):
        client = await connect(self.ws_url)
        self.addCleanup(lambda: None if client.closed.called else client.close())
        return client

    async def subscribe(self, browser, *items):
        token = await self.app.authorize_subscription(
            [{"dealer": dealer, "query": query} for dealer, query in items]
        )
        answer = await browser.call("datasync", "acquireSubscription", token=token)
        self.assertEqual(answer["type"], "response", answer)
        return token

    async def deltas(self, browser, count):
        received = []
        for _ in range(count):
            envelope = await browser.next_notification()
            self.assertEqual(envelope["service"], "datasync")
            self.assertEqual(envelope["message"]["type"], "delta")
            received.append(envelope["message"]["delta"])
        return received

    async def test_each_dealer_exactly(self):
        """Broadcast, key and filter subscriptions get exactly their deltas, translated."""
        everyone, alice_only, reds = [await self.browser() for _ in range(3)]
        await self.subscribe(everyone, ("AllPlayers", None))
        await self.subscribe(alice_only, ("PlayerById", 1))
        await self.subscribe(reds, ("Players", ["==", "color", "red"]))
        alice_blue = {"id": 1, "name": "Alice", "color": "blue"}
        alice_red = {"id": 1, "name": "Alice", "color": "red"}
        alicia_red = {"id": 1, "name": "Alicia", "color": "red"}
        alicia_blue = {"id": 1, "name": "Alicia", "color": "blue"}
        bob = {"id": 2, "name": "Bob", "color": "green"}
        published = [
            insert(alice_blue),
            insert(bob),
            update(alice_blue, alice_red),
            update(alice_red, alicia_red),
            update(alicia_red, alicia_blue),
            delete(bob),
        ]
        await self.app.publish_deltas(published[:2])
        await self.app.publish_deltas(published[2:])
        # A last delta that every subscription covers: whatever a client
        # receives before it is everything it received.
        last = insert({"id": 1, "name": "Last", "color": "red"})
        await self.app.publish_deltas([last])
        self.assertEqual(await self.deltas(everyone, 7), published + [last])
        self.assertEqual(
            await self.deltas(alice_only, 5),
            [insert(alice_blue)] + published[2:5] + [last],
        )
        self.assertEqual(
            await self.deltas(reds, 4),
            [insert(alice_red), update(alice_red, alicia_red), delete(alicia_red), last],
        )

    async def test_buffered_on_acquire(self):
        """Deltas published between authorize and acquire arrive right after acquiring."""
        token = await self.app.authorize_subscription(
            [{"dealer": "AllPlayers", "query": None}]
        )
        published = [insert({"id": n}) for n in range(3)]
        await self.app.publish_deltas(published)
        browser = await self.browser()
        answer = await browser.call("datasync", "acquireSubscription", token=token)
        self.assertEqual(answer["data"], None)
        self.assertEqual(await self.deltas(browser, 3), published)

    async def test_reconnect_within_grace(self):
        """A browser that reconnects within the grace period loses no delta."""
        first = await self.browser()
        token = await self.subscribe(first, ("Players", ["==", "color", "red"]))
        before = insert({"id": 1, "color": "red"})
        await self.app.publish_deltas([before])
        self.assertEqual(await self.deltas(first, 1), [before])
        await first.close()
        await wait_until(lambda: not self.frontend.subscriptions_by_client)
        missed = [insert({"id": n, "color": "red"}) for n in range(2, 5)]
        await self.app.publish_deltas(missed + [insert({"id": 9, "color": "blue"})])
        second = await self.browser()
        answer = await second.call("datasync", "acquireSubscription", token=token)
        self.assertEqual(answer["type"], "response")
        after = insert({"id": 5, "color": "red"})
        await self.app.publish_deltas([after])
        self.assertEqual(await self.deltas(second, 4), missed + [after])

    async def test_silent_holder_let_go(self):
        """A browser whose old connection went silent gets its subscription back, missing nothing."""
        first = await self.browser()
        token = await self.subscribe(first, ("AllPlayers", None))
        await self.app.publish_deltas([insert({"id": 1})])
        seen = (await first.next_notification())["message"]["seq"]
        # The first connection stops reading, as over a network that died
        # without a word: it cannot answer the server's ping any more.
        first.protocol.transport.pauseProducing()
        missed = [insert({"id": n}) for n in (2, 3)]
        await self.app.publish_deltas(missed)
        second = await self.browser()
        answer = await second.call(
            "datasync", "acquireSubscription", token=token, after=seen
        )
        self.assertEqual(answer["type"], "response", answer)
        self.assertEqual(await self.deltas(second, 2), missed)
        last = insert({"id": 4})
        await self.app.publish_deltas([last])
        self.assertEqual(await self.deltas(second, 1), [last])
        first.protocol.transport.resumeProducing()
        self.assertNotEqual(await first.closed.addTimeout(5, reactor), 1000)

    async def test_answering_holder_keeps_it(self):
        """A subscription whose holder still answers is not handed to another connection."""
        first = await self.browser()
        token = await self.subscribe(first, ("AllPlayers", None))
        second = await self.browser()
        answer = await second.call("datasync", "acquireSubscription", token=token, after=0)
        self.assertEqual(answer["message"], "Subscription already acquired")
        await self.app.publish_deltas([insert({"id": 1})])
        self.assertEqual(await self.deltas(first, 1), [insert({"id": 1})])

    async def test_backend_errors(self):
        """Backend errors reach the application with their exact text."""
        cases = [
            ([{"dealer": "Nobody", "query": 1}], "No such dealer"),
            ([{"dealer": "Players", "query": ["=", "a", 1]}], "Invalid query"),
            ([{"dealer": "Players"}], 'Missing field "query" in item 0'),
        ]
        for items, text in cases:
            with self.assertRaises(SnorkyError) as caught:
                await self.app.authorize_subscription(items)
            self.assertEqual(caught.exception.message, text)
        with self.assertRaises(SnorkyError) as caught:
            await self.app.publish_deltas([insert(1), {"type": "update", "model": "P"}])
        self.assertEqual(caught.exception.message, 'Missing field "newData" in delta 1')

    async def test_frontend_errors(self):
        """Acquiring an unknown or held token answers the exact error over WebSocket."""
        browser, other = await self.browser(), await self.browser()
        answer = await browser.call("datasync", "acquireSubscription", token="nope")
        self.assertEqual(answer["message"], "No such subscription")
        token = await self.subscribe(browser, ("AllPlayers", None))
        answer = await other.call("datasync", "acquireSubscription", token=token)
        self.assertEqual(answer["message"], "Subscription already acquired")

    async def test_blocking_connector(self):
        """The blocking SnorkyBackend authorizes and publishes too."""
        connector = SnorkyBackend(self.backend_url, KEY)
        self.addCleanup(connector.close)
        token = await deferToThread(
            connector.authorize_subscription, [{"dealer": "PlayerById", "query": 7}]
        )
        browser = await self.browser()
        await browser.call("datasync", "acquireSubscription", token=token)
        await deferToThread(connector.publish_deltas, [insert({"id": 7})])
        self.assertEqual(await self.deltas(browser, 1), [insert({"id": 7})])
