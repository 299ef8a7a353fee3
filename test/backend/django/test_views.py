"""
Integration tests of the view helpers: tokens authorized through a real
Snorky before the view runs, and acquired by a real WebSocket client.
"""

from django.http import JsonResponse
from django.test import RequestFactory
from twisted.internet import reactor
from twisted.internet.threads import blockingCallFromThread
from twisted.trial.unittest import TestCase

from snorky.backend.django import subscription_in_response, subscription_token
from snorky.backend.errors import SnorkyError
from test.backend.django.helpers import DjangoSnorkyTestCase
from test.backend.django.models import Player
from test.wsclient import connect

ALL_PLAYERS = [{"dealer": "AllPlayers", "query": None}]
ASK = {"HTTP_X_SNORKY": "Subscribe"}


class SubscriptionInResponseTests(DjangoSnorkyTestCase, TestCase):
    """
    A view decorated with ``subscription_in_response`` answers a token
    when, and only when, the request asks for a subscription.
    """

    def setUp(self):
        self.subscriptions_seen = []

        def authorized():
            return len(self.frontend.subscriptions)

        @subscription_in_response(lambda request, color: [
            {"dealer": "AllPlayers", "query": color}])
        def players(request, color):
            # What Snorky had authorized when the view queried.
            self.subscriptions_seen.append(blockingCallFromThread(reactor, authorized))
            rows = Player.objects.filter(color=color).values("id", "name")
            return JsonResponse(list(rows), safe=False)

        self.view = players
        return super().setUp()

    async def test_token_when_asked(self):
        """Asked for a subscription, the view gets one authorized before it runs, and its token acquires it."""
        request = RequestFactory().get("/players/red", **ASK)
        response = await self.django(self.view, request, "red")
        self.assertEqual(self.subscriptions_seen, [1])
        self.assertEqual(response["Vary"], "X-Snorky")
        token = response["X-Subscription-Token"]
        browser = await connect(self.ws_url)
        self.addCleanup(browser.close)
        answer = await browser.call("datasync", "acquireSubscription", token=token)
        self.assertEqual(answer["type"], "response", answer)
        await self.django(Player.objects.create, name="Alice", color="red")
        self.assertEqual((await self.deltas(browser, 1))[0]["data"]["name"], "Alice")

    async def test_no_token_unless_asked(self):
        """A request without X-Snorky: Subscribe authorizes nothing and gets no token header."""
        for headers in ({}, {"HTTP_X_SNORKY": "Something"}):
            request = RequestFactory().get("/players/red", **headers)
            response = await self.django(self.view, request, "red")
            self.assertFalse(response.has_header("X-Subscription-Token"))
            self.assertEqual(response["Vary"], "X-Snorky")
        self.assertEqual(self.subscriptions_seen, [0, 0])

    async def test_authorization_fails(self):
        """An item Snorky refuses raises before the view runs."""

        @subscription_in_response([{"dealer": "Nobody", "query": None}])
        def view(request):
            raise AssertionError("the view ran")

        request = RequestFactory().get("/", **ASK)
        error = await self.assertFailure(self.django(view, request), SnorkyError)
        self.assertEqual(error.message, "No such dealer")


class SubscriptionTokenTests(DjangoSnorkyTestCase, TestCase):
    """
    ``subscription_token`` authorizes a subscription only for a request
    that asks for one.
    """

    async def test_asked(self):
        """It returns a token that a browser can acquire."""
        request = RequestFactory().get("/", HTTP_X_SNORKY=" subscribe ")
        token = await self.django(subscription_token, request, ALL_PLAYERS)
        browser = await connect(self.ws_url)
        self.addCleanup(browser.close)
        answer = await browser.call("datasync", "acquireSubscription", token=token)
        self.assertEqual(answer["type"], "response", answer)

    async def test_not_asked(self):
        """It returns None and authorizes nothing."""
        request = RequestFactory().get("/")
        self.assertIsNone(await self.django(subscription_token, request, ALL_PLAYERS))
        self.assertEqual(self.frontend.subscriptions, {})
