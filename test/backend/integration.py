"""
Integration tests that every connector passes, against a real backend API
on a loopback port.
"""

import socket
import traceback

from snorky.backend import SnorkyError, SnorkyTransportError
from test.backend.servers import KEY, BackendServer


def refused_url():
    """
    A URL on a loopback port where nothing listens.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:{}/backend".format(s.getsockname()[1])


class ConnectorTests:
    """
    Calls through a real HTTP connection, for any connector. Subclasses
    (which are also TestCases) define :meth:`connect` and :meth:`invoke`.
    """

    def setUp(self):
        self.server = BackendServer()
        self.server.start(self)

    def connect(self, url, key, **kwargs):
        """
        A connector to *url*.
        """
        raise NotImplementedError

    def invoke(self, method, *args, **kwargs):
        """
        Call the bound *method* of a connector; a Deferred of its result.
        """
        raise NotImplementedError

    def backend(self, path="backend", key=KEY, **kwargs):
        return self.connect(self.server.url(path), key, **kwargs)

    async def assertTransportError(self, backend, *args, **params):
        """
        Call and return the SnorkyTransportError the call raises.
        """
        try:
            await self.invoke(backend.call, *args, **params)
        except SnorkyTransportError as e:
            self.assertNotIn(KEY, "".join(traceback.format_exception(e)))
            return e
        self.fail("no SnorkyTransportError")

    async def test_data(self):
        """
        A call returns the data of the service's response.
        """
        backend = self.backend()
        data = await self.invoke(backend.call, "calls", "echo", a=[1, "é"], b=None)
        self.assertEqual(data, {"a": [1, "é"], "b": None})

    async def test_rpc_error(self):
        """
        An RPC error raises SnorkyError with the service's text.
        """
        backend = self.backend()
        with self.assertRaises(SnorkyError) as raised:
            await self.invoke(backend.call, "calls", "fail", text="Nope")
        self.assertEqual(raised.exception.message, "Nope")
        with self.assertRaises(SnorkyError) as raised:
            await self.invoke(backend.call, "calls", "unknown")
        self.assertEqual(raised.exception.message, "Unknown command")

    async def test_helpers(self):
        """
        The helper methods reach their services and return their tokens.
        """
        backend = self.backend()
        subscriber = self.server.subscriber("news")
        delta = {"type": "delete", "model": "Player", "data": {"id": 3}}
        await self.invoke(backend.publish, "news", {"text": "hi"})
        await self.invoke(backend.publish_deltas, [delta])
        items = [{"dealer": "d", "query": 1}]
        token = await self.invoke(backend.authorize_subscription, items)
        identity_token = await self.invoke(backend.authorize_identity, {"id": 7})
        self.assertEqual(
            subscriber.messages("pubsub")[-1],
            {"type": "message", "channel": "news", "message": {"text": "hi"}},
        )
        self.assertEqual(self.server.datasync.deltas, [delta])
        self.assertEqual(token, "token-1")
        self.assertEqual(self.server.datasync.authorized, [items])
        self.assertEqual(identity_token, "token-1")
        self.assertEqual(self.server.identity.authorized, [{"id": 7}])

    async def test_wrong_key(self):
        """
        A wrong key raises a transport error that mentions 401 and quotes
        neither key.
        """
        wrong = "wrong-key-that-must-stay-secret"
        e = await self.assertTransportError(self.backend(key=wrong), "calls", "echo")
        self.assertIn("refused the key (HTTP 401)", str(e))
        self.assertEqual(e.status, 401)
        self.assertNotIn(wrong, "".join(traceback.format_exception(e)))

    async def test_unknown_service(self):
        """
        An unknown service raises a transport error naming it.
        """
        e = await self.assertTransportError(self.backend(), "nope", "echo")
        self.assertIn("has no service 'nope' (HTTP 404)", str(e))

    async def test_wrong_path(self):
        """
        A URL where the backend API is not served raises a transport error
        that says to check the URL.
        """
        for path in ("backend/x", "elsewhere"):
            e = await self.assertTransportError(self.backend(path), "calls", "echo")
            self.assertIn("check the URL (HTTP 404)", str(e))

    async def test_gateway_timeout(self):
        """
        A service that does not answer within the server's timeout raises
        a transport error that mentions 504.
        """
        e = await self.assertTransportError(self.backend("impatient"), "calls", "hang")
        self.assertIn("got no answer from service 'calls' in time (HTTP 504)", str(e))

    async def test_too_large(self):
        """
        A request over the server's size limit raises a transport error
        that mentions 413.
        """
        e = await self.assertTransportError(
            self.backend("impatient"), "calls", "echo", text="x" * 300
        )
        self.assertIn(
            "refused the request as too large; send less per call (HTTP 413)", str(e)
        )

    async def test_refused(self):
        """
        A port where nothing listens raises a transport error.
        """
        backend = self.connect(refused_url(), KEY)
        e = await self.assertTransportError(backend, "calls", "echo")
        self.assertIn("cannot be reached: Connection refused", str(e))
        self.assertIsNone(e.status)

    async def test_not_json(self):
        """
        An answer that is not JSON raises a transport error.
        """
        e = await self.assertTransportError(self.backend("notjson"), "calls", "echo")
        self.assertIn("answered something that is not JSON (HTTP 200)", str(e))

    async def test_keep_alive(self):
        """
        Calls reuse one TCP connection.
        """
        backend = self.backend()
        for i in range(3):
            data = await self.invoke(backend.call, "calls", "echo", i=i)
            self.assertEqual(data, {"i": i})
        self.assertEqual(self.server.connections.accepted, 1)

    async def test_server_closed_idle_connection(self):
        """
        After the server closed the idle connection, the next call opens
        a new one and succeeds.
        """
        backend = self.backend()
        await self.invoke(backend.call, "calls", "echo")
        await self.server.connections.close_connections()
        data = await self.invoke(backend.call, "calls", "echo", a=1)
        self.assertEqual(data, {"a": 1})
        self.assertEqual(self.server.connections.accepted, 2)

    async def test_dropped_while_calling(self):
        """
        A call on a kept-alive connection that the server closes without
        answering is sent once more on a new connection.
        """
        backend = self.backend("flaky")
        subscriber = self.server.subscriber("news")
        await self.invoke(backend.publish, "news", 1)
        await self.invoke(backend.publish, "news", 2)
        self.assertEqual(
            [m["message"] for m in subscriber.messages("pubsub")[1:]], [1, 2]
        )
        self.assertEqual(self.server.connections.accepted, 2)

    async def test_always_dropped(self):
        """
        A server that always closes without answering gets the call twice,
        then a transport error says so.
        """
        e = await self.assertTransportError(self.backend("drop"), "calls", "echo")
        self.assertIn("closed the connection without answering", str(e))
        self.assertEqual(self.server.connections.accepted, 2)

    async def test_timeout(self):
        """
        A call that gets no answer in time raises a transport error, and
        the next call works on a new connection.
        """
        backend = self.backend(timeout=0.3)
        e = await self.assertTransportError(backend, "calls", "hang")
        self.assertIn("did not answer within 0.3 s", str(e))
        self.assertEqual(await self.invoke(backend.call, "calls", "echo"), {})
        self.assertEqual(self.server.connections.accepted, 2)

    async def test_stalled_answer(self):
        """
        An answer that stops before its end raises a timeout transport
        error.
        """
        backend = self.backend("stall", timeout=0.3)
        e = await self.assertTransportError(backend, "calls", "echo")
        self.assertIn("did not answer within 0.3 s", str(e))
