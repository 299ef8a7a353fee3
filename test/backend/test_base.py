"""
Unit tests of what both connectors share: settings, the request body, the
reading of answers and the texts of errors.
"""

import json
import traceback

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.backend import (
    SnorkyBackend,
    SnorkyConnectorError,
    SnorkyError,
    SnorkyTransportError,
    TwistedSnorkyBackend,
)
from snorky.backend.base import BaseSnorkyBackend
from test.backend.helpers import KEY, URL, CannedBackend, reply, rpc_error


def status(code, body=b""):
    """
    An answerer that answers every call with HTTP *code* and *body*.
    """
    return lambda service, call_id: (code, body)


def error_body(text):
    return json.dumps({"error": text}).encode()


class SettingsTests(TestCase):
    """
    What a connector accepts when it is made.
    """

    def test_bad_url(self):
        """
        A URL that is not http or https is refused.
        """
        for url in ("ftp://host/backend", "127.0.0.1:5002/backend", "http:///backend"):
            self.assertRaises(ValueError, BaseSnorkyBackend, url, KEY)

    def test_bad_key(self):
        """
        An empty or unprintable key is refused with a text that does not
        quote it.
        """
        for key in ("", "secret\r\nX-Evil: 1", "s\u00e9cret", None):
            e = self.assertRaises(ValueError, BaseSnorkyBackend, URL, key)
            if key:
                self.assertNotIn("secret", str(e))

    def test_bad_timeout(self):
        """
        A timeout that is not positive is refused.
        """
        self.assertRaises(ValueError, BaseSnorkyBackend, URL, KEY, timeout=0)

    def test_connectors_take_base_parameters(self):
        """
        Both connectors take the base parameters, by position or by name,
        besides their own, and check them the same way.
        """
        blocking = SnorkyBackend(URL, KEY, 3.0, "ds", ssl_context=None)
        twisted = TwistedSnorkyBackend(URL, KEY, 4.0, pubsub_service="ps",
                                       reactor=Clock())
        self.assertEqual((blocking.timeout, blocking.datasync_service), (3.0, "ds"))
        self.assertEqual((twisted.timeout, twisted.pubsub_service), (4.0, "ps"))
        for connector in (SnorkyBackend, TwistedSnorkyBackend):
            self.assertRaises(ValueError, connector, URL, KEY, 0)
            self.assertRaises(ValueError, connector, "ftp://x/", KEY)
            self.assertRaises(TypeError, connector, URL, KEY, nonsense=1)

    def test_repr_hides_key(self):
        """
        The repr shows the URL and not the key.
        """
        text = repr(BaseSnorkyBackend(URL, KEY))
        self.assertIn(URL, text)
        self.assertNotIn(KEY, text)

    def test_call_is_abstract(self):
        """
        The base class leaves ``call`` to its subclasses.
        """
        self.assertRaises(
            NotImplementedError, BaseSnorkyBackend(URL, KEY).call, "s", "c"
        )


class RequestTests(TestCase):
    """
    The envelope a call sends.
    """

    def test_envelope(self):
        """
        A call sends the RPC request envelope with a fresh callId each time.
        """
        backend = CannedBackend()
        backend.call("calls", "echo", a=1)
        backend.call("calls", "echo")
        self.assertEqual(
            backend.sent,
            [
                {"service": "calls",
                 "message": {"command": "echo", "params": {"a": 1}, "callId": 1}},
                {"service": "calls",
                 "message": {"command": "echo", "params": {}, "callId": 2}},
            ],
        )

    def test_params_named_like_arguments(self):
        """
        Params may be called ``service`` or ``command``.
        """
        backend = CannedBackend()
        backend.call("calls", "echo", service="x", command="y")
        self.assertEqual(
            backend.sent[0]["message"]["params"], {"service": "x", "command": "y"}
        )

    def test_params_not_json(self):
        """
        Params that are not JSON-able fail before anything is sent.
        """
        backend = CannedBackend()
        self.assertRaises(TypeError, backend.call, "calls", "echo", a=object())
        self.assertRaises(ValueError, backend.call, "calls", "echo", a=float("nan"))
        self.assertEqual(backend.sent, [])


class HelperTests(TestCase):
    """
    The helper methods send the right commands to the right services.
    """

    def test_default_services(self):
        """
        Each helper calls its command on the default service name.
        """
        backend = CannedBackend(reply("token"))
        delta = {"type": "insert", "model": "Player", "data": {"id": 1}}
        item = {"dealer": "players", "query": 1}
        backend.publish_deltas(iter([delta]))
        self.assertEqual(backend.authorize_subscription([item]), "token")
        backend.publish("news", {"text": "hi"})
        self.assertEqual(backend.authorize_identity({"id": 7}), "token")
        self.assertEqual(
            [(e["service"], e["message"]["command"], e["message"]["params"])
             for e in backend.sent],
            [
                ("datasync_backend", "publishDeltas", {"deltas": [delta]}),
                ("datasync_backend", "authorizeSubscription", {"items": [item]}),
                ("pubsub_backend", "publish",
                 {"channel": "news", "message": {"text": "hi"}}),
                ("identity_backend", "authorizeIdentity", {"identity": {"id": 7}}),
            ],
        )

    def test_configured_services(self):
        """
        The service names can be changed.
        """
        backend = CannedBackend(
            datasync_service="ds", pubsub_service="ps", identity_service="id"
        )
        backend.publish_deltas([])
        backend.publish("c", "m")
        backend.authorize_identity(1)
        self.assertEqual([e["service"] for e in backend.sent], ["ds", "ps", "id"])


class AnswerTests(TestCase):
    """
    Reading the answer to a call.
    """

    def test_data(self):
        """
        A response's data is returned.
        """
        backend = CannedBackend(reply({"a": [1, None]}))
        self.assertEqual(backend.call("calls", "echo"), {"a": [1, None]})

    def test_rpc_error(self):
        """
        An RPC error raises SnorkyError with the service's text.
        """
        backend = CannedBackend(rpc_error("No such dealer"))
        e = self.assertRaises(SnorkyError, backend.call, "calls", "x")
        self.assertEqual(e.message, "No such dealer")
        self.assertEqual(str(e), "No such dealer")
        self.assertIsInstance(e, SnorkyConnectorError)
        self.assertNotIsInstance(e, SnorkyTransportError)

    def transport_error(self, answer, service="calls"):
        e = self.assertRaises(
            SnorkyTransportError, CannedBackend(answer).call, service, "x"
        )
        self.assertIsInstance(e, SnorkyConnectorError)
        self.assertNotIsInstance(e, SnorkyError)
        self.assertTrue(str(e).startswith("Snorky backend at 127.0.0.1:5002 "), str(e))
        text = "".join(traceback.format_exception(e))
        self.assertNotIn(KEY, text)
        return e

    def test_unauthorized(self):
        """
        A 401 says the key was refused.
        """
        e = self.transport_error(status(401, error_body("Wrong backend key")))
        self.assertIn("refused the key (HTTP 401)", str(e))
        self.assertEqual(e.status, 401)

    def test_unknown_service(self):
        """
        A 404 with an error body names the missing service.
        """
        e = self.transport_error(status(404, error_body("Unknown service")), "nope")
        self.assertIn("has no service 'nope' (HTTP 404): Unknown service", str(e))

    def test_wrong_path(self):
        """
        A 404 or 405 without an error body points at the URL.
        """
        for code, body in (
            (404, b"<html>No Such Resource</html>"),
            (404, error_body("Not found")),
            (405, error_body("Only POST is allowed")),
        ):
            e = self.transport_error(status(code, body))
            self.assertIn(
                "does not serve the backend API at /backend; check the URL "
                "(HTTP {})".format(code),
                str(e),
            )

    def test_bad_request(self):
        """
        A 400 quotes the server's reason.
        """
        e = self.transport_error(status(400, error_body("Invalid JSON")))
        self.assertIn(
            "rejected the request as malformed (HTTP 400): Invalid JSON", str(e)
        )

    def test_too_large(self):
        """
        A 413 says the request was too large.
        """
        e = self.transport_error(status(413))
        self.assertIn("too large; send less per call (HTTP 413)", str(e))

    def test_gateway_timeout(self):
        """
        A 504 says the service did not answer in time.
        """
        e = self.transport_error(status(504, error_body("Timeout")))
        self.assertIn("got no answer from service 'calls' in time (HTTP 504)", str(e))

    def test_server_error(self):
        """
        A 5xx says the server failed.
        """
        e = self.transport_error(status(502, b"Bad gateway"))
        self.assertIn("failed (HTTP 502)", str(e))
        self.assertEqual(e.status, 502)

    def test_other_status(self):
        """
        Any other status is unexpected.
        """
        e = self.transport_error(status(302))
        self.assertIn("answered an unexpected status (HTTP 302)", str(e))

    def test_detail_shortened(self):
        """
        A long server reason is cut short.
        """
        e = self.transport_error(status(400, error_body("x" * 1000)))
        self.assertLess(len(str(e)), 350)
        self.assertTrue(str(e).endswith("x..."))

    def test_detail_never_carries_key(self):
        """
        A server reason that quotes the key is quoted without it.
        """
        e = self.transport_error(status(401, error_body("bad key " + KEY)))
        self.assertIn("bad key <backend key>", str(e))

    def test_not_json(self):
        """
        A 200 that is not JSON is a transport error.
        """
        for body in (b"<html>", b"\xff\xfe", b"[" * 100000):
            e = self.transport_error(status(200, body))
            self.assertIn("answered something that is not JSON (HTTP 200)", str(e))

    def test_not_a_reply(self):
        """
        JSON that is not the reply to this call is a transport error.
        """
        def envelope(service="calls", **message):
            return lambda s, call_id: (200, json.dumps(
                {"service": service, "message": dict({"callId": call_id}, **message)}
            ).encode())

        for answer in (
            status(200, b"[]"),
            status(200, b'{"service": "calls"}'),
            envelope(service="other", type="response", data=1),
            envelope(type="response", callId=99, data=1),
            envelope(type="error", message=["not", "text"]),
            envelope(type="message", channel="x"),
        ):
            e = self.transport_error(answer)
            self.assertIn("answered JSON that is not a reply to this call", str(e))
