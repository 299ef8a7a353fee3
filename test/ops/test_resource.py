"""
Tests for snorky.ops.resource and snorky.ops.health: the ops port's pages,
through the real resource in memory (treq's StubTreq).
"""

import json
from typing import Any, Tuple

from prometheus_client import CollectorRegistry, Counter, Gauge
from twisted.trial.unittest import TestCase
from treq.testing import StubTreq

from snorky.ops.health import Readiness
from snorky.ops.resource import OpsOptions, OpsResource, status_snapshot


class ReadinessTests(TestCase):
    """
    Named readiness checks.
    """

    def test_all_must_pass(self) -> None:
        """
        Ready only when every check passes; a check that raises fails.
        """
        readiness = Readiness()
        self.assertTrue(readiness.ready())
        readiness.add("a", lambda: True)
        self.assertTrue(readiness.ready())
        readiness.add("b", lambda: 1 / 0)  # type: ignore[arg-type,return-value]
        self.assertFalse(readiness.ready())
        self.assertEqual(readiness.results(), [("a", True), ("b", False)])
        readiness.remove("b")
        self.assertTrue(readiness.ready())


class OpsOptionsTests(TestCase):
    """
    Credentials of the ops port.
    """

    def test_bad(self) -> None:
        """
        An empty key or basic auth without a colon is refused.
        """
        self.assertRaises(ValueError, OpsOptions, key="")
        self.assertRaises(ValueError, OpsOptions, basic_auth="nocolon")

    def test_repr_hides_secrets(self) -> None:
        """
        Neither credential shows in the options' repr.
        """
        text = repr(OpsOptions(key="k3y-value", basic_auth="u:pa55word"))
        self.assertNotIn("k3y-value", text)
        self.assertNotIn("pa55word", text)


class OpsResourceTests(TestCase):
    """
    The pages of the ops port.
    """

    def setUp(self) -> None:
        self.registry = CollectorRegistry()
        self.hits = Counter("test_hits", "Hits.", registry=self.registry)
        self.hits.inc(3)
        self.options = OpsOptions()
        self.http = StubTreq(OpsResource(self.registry, self.options))

    def get(self, path: str, **kwargs: Any) -> Tuple[Any, bytes]:
        response = self.successResultOf(self.http.get("http://ops" + path, **kwargs))
        return response, self.successResultOf(response.content())

    def test_metrics(self) -> None:
        """
        /metrics is the registry in Prometheus text format.
        """
        response, body = self.get("/metrics")
        self.assertEqual(response.code, 200)
        self.assertIn(b"test_hits_total 3.0", body)
        self.assertTrue(response.headers.getRawHeaders("Content-Type")[0].startswith("text/plain"))

    def test_status_json(self) -> None:
        """
        /status.json holds the same samples.
        """
        response, body = self.get("/status.json")
        snapshot = json.loads(body)
        self.assertIn(["test_hits_total", {}, 3.0], snapshot["samples"])
        self.assertIsInstance(snapshot["time"], float)

    def test_snapshot_skips_non_numbers(self) -> None:
        """
        NaN and infinite samples are left out, as JSON has no such numbers.
        """
        registry = CollectorRegistry()
        gauge = Gauge("g", "G.", registry=registry)
        gauge.set(float("nan"))
        self.assertEqual(status_snapshot(registry, 1.0), {"time": 1.0, "samples": []})

    def test_page(self) -> None:
        """
        / is the status page, which loads its script and styles.
        """
        response, body = self.get("/")
        self.assertEqual(response.code, 200)
        self.assertIn(b'<script src="status.js">', body)
        for asset in ("/status.js", "/status.css"):
            response, body = self.get(asset)
            self.assertEqual(response.code, 200, asset)
            self.assertGreater(len(body), 100)

    def test_not_found(self) -> None:
        """
        Anything else is a 404.
        """
        response, _ = self.get("/nope")
        self.assertEqual(response.code, 404)

    def test_health(self) -> None:
        """
        /healthz answers 200; /readyz 200 with one line per check, or 503
        when one fails.
        """
        response, body = self.get("/healthz")
        self.assertEqual((response.code, body), (200, b"ok\n"))
        ready = [True]
        self.options.readiness.add("broker", lambda: ready[0])
        response, body = self.get("/readyz")
        self.assertEqual((response.code, body), (200, b"broker: ok\n"))
        ready[0] = False
        response, body = self.get("/readyz")
        self.assertEqual((response.code, body), (503, b"broker: failing\n"))


class ProtectedResourceTests(TestCase):
    """
    An ops resource with a key and basic auth.
    """

    def setUp(self) -> None:
        options = OpsOptions(key="the-key-0123", basic_auth="ops:the-password")
        self.http = StubTreq(OpsResource(CollectorRegistry(), options))

    def code(self, path: str, authorization: Any = None) -> int:
        headers = {"Authorization": authorization} if authorization else {}
        response = self.successResultOf(self.http.get("http://ops" + path, headers=headers))
        self.successResultOf(response.content())
        return response.code

    def test_metrics_need_credentials(self) -> None:
        """
        Without credentials, or with malformed or wrong ones, /metrics is
        a 401 asking for basic auth.
        """
        for header in (None, "Bearer nope", "Basic !!!", "Basic b3BzOm5vcGU=", "Digest x"):
            self.assertEqual(self.code("/metrics", header), 401, header)
        self.assertEqual(self.code("/status.json"), 401)
        self.assertEqual(self.code("/"), 401)

    def test_either_credential(self) -> None:
        """
        The key as a bearer token or the user and password admit.
        """
        self.assertEqual(self.code("/metrics", "Bearer the-key-0123"), 200)
        self.assertEqual(self.code("/metrics", "Basic b3BzOnRoZS1wYXNzd29yZA=="), 200)

    def test_probes_open(self) -> None:
        """
        The probes need no credentials.
        """
        self.assertEqual(self.code("/healthz"), 200)
        self.assertEqual(self.code("/readyz"), 200)
