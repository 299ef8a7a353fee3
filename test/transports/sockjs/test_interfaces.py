"""
Tests for snorky.transports.sockjs.interfaces: the package's own parts
provide the contracts they are handed as.
"""

import inspect

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase
from twisted.web.test.requesthelper import DummyRequest

from snorky.registry import ServiceRegistry
from snorky.transports.sockjs import SockJSClient, eventsource, htmlfile, jsonp, xhr
from snorky.transports.sockjs.interfaces import (
    Channel,
    HTTPSessions,
    RawConnection,
    Receiver,
    SessionHandler,
    TransportSession,
    WebSocketConnection,
    WebSocketSessions,
)
from snorky.transports.sockjs.options import SockJSOptions
from snorky.transports.sockjs.receiver import ResponseReceiver
from snorky.transports.sockjs.sessions import SessionTable
from snorky.transports.sockjs.testserver import EchoHandler
from snorky.transports.sockjs.websocket import RawWebSocketProtocol, SockJSWebSocketProtocol
from test.transports.sockjs.httpstub import HandlerLog


class ConformanceTests(TestCase):
    """
    Each part provides every member of the interfaces it is used as.
    """

    def setUp(self):
        self.table = SessionTable(HandlerLog(), SockJSOptions(), Clock())

    def test_session(self):
        """
        A session is its handler's channel and its transports' session.
        """
        session = self.table.open("sid", DummyRequest([b""]))
        self.assertIsInstance(session, Channel)
        self.assertIsInstance(session, TransportSession)

    def test_table(self):
        """
        The session table is what both kinds of transport see.
        """
        self.assertIsInstance(self.table, HTTPSessions)
        self.assertIsInstance(self.table, WebSocketSessions)

    def test_receivers(self):
        """
        HTTP responses and SockJS WebSocket connections are receivers.
        """
        self.assertIsInstance(ResponseReceiver(DummyRequest([b""]), str.encode, 1), Receiver)
        framed = SockJSWebSocketProtocol()
        self.assertIsInstance(framed, Receiver)
        self.assertIsInstance(framed, WebSocketConnection)

    def test_raw_connection(self):
        """
        A raw WebSocket connection is a channel as well as a connection.
        """
        self.assertIsInstance(RawWebSocketProtocol(), RawConnection)

    def test_handlers(self):
        """
        The Snorky client and the test server's echo are session handlers.
        """
        session = self.table.open("sid", DummyRequest([b""]))
        self.assertIsInstance(SockJSClient(session, ServiceRegistry()), SessionHandler)
        self.assertIsInstance(EchoHandler(session), SessionHandler)

    def test_not_everything_conforms(self):
        """
        The checks can fail: a handler is no receiver, a session no table.
        """
        session = self.table.open("sid", DummyRequest([b""]))
        self.assertNotIsInstance(EchoHandler(session), Receiver)
        self.assertNotIsInstance(session, HTTPSessions)


class RouteTests(TestCase):
    """
    Each HTTP transport module declares well-formed routes.
    """

    def test_routes(self):
        """
        Every route names a method, and renders from the sessions, the
        request and the session id; names are unique.
        """
        routes = [r for m in (xhr, eventsource, htmlfile, jsonp) for r in m.ROUTES]
        self.assertEqual(
            sorted(r.name for r in routes),
            [b"eventsource", b"htmlfile", b"jsonp", b"jsonp_send", b"xhr",
             b"xhr_send", b"xhr_streaming"],
        )
        for route in routes:
            self.assertIn(route.method, (b"GET", b"POST"))
            self.assertEqual(
                list(inspect.signature(route.render).parameters),
                ["sessions", "request", "session_id"],
            )
        self.assertEqual(
            {r.name for r in routes if r.preflight}, {b"xhr", b"xhr_send", b"xhr_streaming"}
        )
