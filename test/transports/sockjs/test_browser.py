"""
The real sockjs-client in headless Chromium against Snorky's SockJS
resources, over the browser-only transports. The page comes from
``localhost`` and talks to ``127.0.0.1``: another origin, so CORS and
the iframe page are exercised too.
"""

from twisted.internet import defer, reactor
from twisted.trial.unittest import TestCase

from test.transports.sockjs.integration import SockJSTestSite, passed, run_script


class BrowserClientTests(TestCase):
    """
    Each test runs node/scenario.js in a Chromium page over one transport:
    awkward payloads echoed intact and in order, an RPC round trip and a
    PubSub notification through Snorky, then a clean close.
    """

    timeout = 120

    def setUp(self) -> None:
        self.site = SockJSTestSite(reactor)
        self.base = self.site.start()
        self.addCleanup(self.site.stop)

    @defer.inlineCallbacks
    def check(self, transport: str):
        page = self.base.replace("127.0.0.1", "localhost") + "/t/page.html"
        [result] = yield run_script(
            reactor, "run_browser.js", [page, self.base, transport], timeout=90
        )
        self.assertEqual(result, passed(transport))
        yield self.site.wait_disconnects(1)
        recorder = self.site.recorder
        self.assertEqual(len(recorder.connected), 1)
        self.assertEqual(recorder.disconnected, recorder.connected)

    def test_eventsource(self):
        """
        The eventsource transport carries the whole scenario.
        """
        return self.check("eventsource")

    def test_iframe_eventsource(self):
        """
        The iframe-eventsource transport carries the whole scenario.
        """
        return self.check("iframe-eventsource")

    def test_iframe_htmlfile(self):
        """
        The iframe-htmlfile transport carries the whole scenario, including
        messages holding ``</script>``.
        """
        return self.check("iframe-htmlfile")

    def test_iframe_xhr_polling(self):
        """
        The iframe-xhr-polling transport carries the whole scenario.
        """
        return self.check("iframe-xhr-polling")

    def test_jsonp_polling(self):
        """
        The jsonp-polling transport carries the whole scenario.
        """
        return self.check("jsonp-polling")


class BrowserOriginTests(TestCase):
    """
    sockjs-client in a Chromium page from ``localhost`` against SockJS resources
    on ``127.0.0.1`` that limit ``allowed_origins``.
    """

    timeout = 120

    @defer.inlineCallbacks
    def scenario(self, allowed_origins, *transports):
        """
        Serve with *allowed_origins*; return the scenario's result over
        each of *transports*.
        """
        self.site = SockJSTestSite(reactor, allowed_origins)
        base = self.site.start()
        self.addCleanup(self.site.stop)
        page = base.replace("127.0.0.1", "localhost") + "/t/page.html"
        results = yield run_script(
            reactor, "run_browser.js", [page, base] + list(transports), timeout=90
        )
        return results

    @defer.inlineCallbacks
    def test_listed_page(self):
        """
        A page from a listed origin carries the scenario over a direct
        transport, and over an iframe one when Snorky's own origin, where
        the iframe's requests come from, is listed too.
        """
        transports = ["xhr-polling", "iframe-xhr-polling"]
        results = yield self.scenario(
            ["http://localhost:*", "http://127.0.0.1:*"], *transports
        )
        self.assertEqual(results, [passed(t) for t in transports])

    @defer.inlineCallbacks
    def test_own_origin_not_listed(self):
        """
        With only the page's origin listed, a direct transport works but
        an iframe one cannot connect: Snorky's own origin is not admitted
        unless listed.
        """
        results = yield self.scenario(
            ["http://localhost:*"], "xhr-polling", "iframe-xhr-polling"
        )
        self.assertEqual(results[0], passed("xhr-polling"))
        self.assertEqual((results[1]["echoed"], results[1]["snorky"]), (0, False))
        self.assertIsNotNone(results[1]["error"])

    @defer.inlineCallbacks
    def test_unlisted_page(self):
        """
        A page from an unlisted origin cannot connect: sockjs-client gives
        up on its refused ``/info``, and no Snorky client is made.
        """
        [result] = yield self.scenario(["https://app.example.com"], "xhr-polling")
        self.assertEqual(result["echoed"], 0)
        self.assertIn("1002", result["error"])
        self.assertEqual(self.site.recorder.connected, [])
