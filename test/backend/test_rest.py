"""
Unit tests of the REST idiom helpers.
"""

import email.message
import wsgiref.headers

from twisted.trial.unittest import TestCase
from twisted.web.http_headers import Headers

from snorky.backend import SnorkyError
from snorky.backend.rest import SUBSCRIPTION_TOKEN_HEADER, subscribe_if_asked, wants_subscription
from test.backend.helpers import CannedBackend, reply, rpc_error

ITEMS = [{"dealer": "players_by_color", "query": "red"}]


class WantsSubscriptionTests(TestCase):
    """
    Telling whether a request asks for a subscription.
    """

    def test_dict(self):
        """
        A dict with ``X-Snorky: Subscribe``, the name in any case, asks.
        """
        for name in ("X-Snorky", "x-snorky", "X-SNORKY"):
            self.assertTrue(wants_subscription({name: "Subscribe"}))

    def test_value(self):
        """
        The value is compared without regard to case or surrounding
        spaces; any other value does not ask.
        """
        self.assertTrue(wants_subscription({"X-Snorky": " subscribe "}))
        for value in ("", "Subscribed", "Unsubscribe", "yes", None, 1):
            self.assertFalse(wants_subscription({"X-Snorky": value}))

    def test_absent(self):
        """
        Headers without ``X-Snorky`` do not ask.
        """
        self.assertFalse(wants_subscription({}))
        self.assertFalse(wants_subscription({"Accept": "Subscribe"}))
        self.assertFalse(wants_subscription(Headers({})))
        self.assertFalse(wants_subscription([]))

    def test_wsgi_environ(self):
        """
        A WSGI environ (or Django's ``request.META``) asks with
        ``HTTP_X_SNORKY``.
        """
        environ = {"REQUEST_METHOD": "GET", "wsgi.input": object(),
                   "HTTP_X_SNORKY": "Subscribe"}
        self.assertTrue(wants_subscription(environ))
        self.assertFalse(wants_subscription({"REQUEST_METHOD": "GET"}))

    def test_twisted_headers(self):
        """
        Twisted's ``Headers`` ask when any ``X-Snorky`` value is
        ``Subscribe``.
        """
        self.assertTrue(wants_subscription(Headers({b"x-snorky": [b"Subscribe"]})))
        self.assertTrue(wants_subscription(Headers({"X-Snorky": ["no", "Subscribe"]})))
        self.assertFalse(wants_subscription(Headers({b"x-snorky": [b"no"]})))

    def test_pairs(self):
        """
        An iterable of ``(name, value)`` pairs, as str or bytes, asks.
        """
        self.assertTrue(wants_subscription([("Accept", "*/*"), ("X-Snorky", "Subscribe")]))
        self.assertTrue(wants_subscription(iter([(b"x-snorky", b"Subscribe")])))
        self.assertFalse(wants_subscription([("Accept", "*/*")]))

    def test_header_objects(self):
        """
        ``items()`` objects of the standard library (``email`` messages,
        as ``http.client`` and ``http.server`` use, and ``wsgiref``
        headers) ask too.
        """
        message = email.message.Message()
        message["x-snorky"] = "Subscribe"
        self.assertTrue(wants_subscription(message))
        headers = wsgiref.headers.Headers([("X-Snorky", "Subscribe")])
        self.assertTrue(wants_subscription(headers))


class SubscribeIfAskedTests(TestCase):
    """
    Authorizing a subscription when the request asks for one.
    """

    def test_asked(self):
        """
        When asked, the items are authorized and the token returned.
        """
        backend = CannedBackend(reply("the-token"))
        self.assertEqual(
            subscribe_if_asked(backend, {"X-Snorky": "Subscribe"}, ITEMS), "the-token"
        )
        self.assertEqual(
            [(e["message"]["command"], e["message"]["params"]) for e in backend.sent],
            [("authorizeSubscription", {"items": ITEMS})],
        )

    def test_not_asked(self):
        """
        When not asked, nothing is called and the result is None.
        """
        backend = CannedBackend(reply("the-token"))
        self.assertIsNone(subscribe_if_asked(backend, {"Accept": "*/*"}, ITEMS))
        self.assertEqual(backend.sent, [])

    def test_error(self):
        """
        A refused authorization raises, so the app does not answer
        without the subscription it promised.
        """
        backend = CannedBackend(rpc_error("No such dealer"))
        e = self.assertRaises(
            SnorkyError, subscribe_if_asked, backend, {"X-Snorky": "Subscribe"}, ITEMS
        )
        self.assertEqual(e.message, "No such dealer")

    def test_header_name(self):
        """
        The token travels in ``X-Subscription-Token``.
        """
        self.assertEqual(SUBSCRIPTION_TOKEN_HEADER, "X-Subscription-Token")
