"""
A real Snorky (DataSync frontend on WebSocket, backend API over HTTP) on a
loopback port, and a thread that runs the blocking Django code against
it, for the Django integration tests.
"""

import logging
from typing import Any, Callable, List

from django.db import connection, connections
from django.test import override_settings
from twisted.internet import reactor
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool
from twisted.web.resource import Resource
from twisted.web.server import Site

from snorky.registry import ServiceRegistry
from snorky.services.datasync import DataSyncBackend, DataSyncService
from snorky.services.datasync.dealers import BroadcastDealer
from snorky.transports.http import BackendOptions, backend_resource
from snorky.transports.websocket import SnorkyWebSocketFactory, websocket_resource
from test.backend.django.models import MODELS
from test.wsclient import connect

KEY = "django-integration-key-0123456789abcdef"


class AllPlayers(BroadcastDealer):
    model = "Player"


class AllTeams(BroadcastDealer):
    model = "Team"


class RecordingDataSync(DataSyncService):
    """
    DataSync that also keeps each published batch, as a list of delta
    types, in :attr:`batches`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches: List[List[str]] = []

    def publish_deltas(self, deltas):
        deltas = list(deltas)
        self.batches.append([type(d).__name__ for d in deltas])
        super().publish_deltas(deltas)


class LogRecords(logging.Handler):
    """
    Keeps the formatted records of the ``snorky.backend.django`` logger,
    with tracebacks, in :attr:`lines`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.lines: List[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class DjangoSnorkyTestCase:
    """
    A TestCase mixin: a real Snorky with :class:`RecordingDataSync`,
    settings pointing at it, an empty database, and :meth:`django` to run
    code in the one thread that owns that database.
    """

    def setUp(self):
        self.frontend = RecordingDataSync("datasync", [AllPlayers, AllTeams])
        backend = DataSyncBackend("datasync_backend", self.frontend)
        root = Resource()
        root.putChild(
            b"ws", websocket_resource(SnorkyWebSocketFactory(ServiceRegistry([self.frontend])))
        )
        root.putChild(
            b"backend",
            backend_resource(ServiceRegistry([backend]), BackendOptions(key=KEY)),
        )
        self.port = reactor.listenTCP(0, Site(root), interface="127.0.0.1")
        self.addCleanup(self.port.stopListening)
        self.addCleanup(self.end_subscriptions)
        number = self.port.getHost().port
        self.ws_url = "ws://127.0.0.1:{}/ws".format(number)
        self.use_settings(SNORKY_BACKEND_URL="http://127.0.0.1:{}/backend".format(number))
        self.pool = ThreadPool(minthreads=1, maxthreads=1, name="django")
        self.pool.start()
        self.addCleanup(self.pool.stop)
        self.addCleanup(self.django, connections.close_all)
        self.log = LogRecords()
        logger = logging.getLogger("snorky.backend.django")
        logger.addHandler(self.log)
        self.addCleanup(logger.removeHandler, self.log)
        return self.django(create_tables)

    def use_settings(self, **values: Any) -> None:
        """
        Override settings (with the key) until the end of the test.
        """
        override = override_settings(**{"SNORKY_API_KEY": KEY, **values})
        override.enable()
        self.addCleanup(override.disable)

    def django(self, f: Callable[..., Any], *args: Any, **kwargs: Any):
        """
        Run ``f(*args, **kwargs)`` in the Django thread; a Deferred of its
        result.
        """
        return deferToThreadPool(reactor, self.pool, f, *args, **kwargs)

    def end_subscriptions(self):
        # Their timers would outlive the test otherwise.
        for subscription in list(self.frontend.subscriptions.values()):
            self.frontend.cancel(subscription)

    async def browser(self, *dealers: str):
        """
        A WebSocket client holding a subscription to *dealers*,
        authorized through the Django connector.
        """
        from snorky.backend.django import authorize_subscription

        client = await connect(self.ws_url)
        self.addCleanup(lambda: None if client.closed.called else client.close())
        token = await self.django(
            authorize_subscription, [{"dealer": d, "query": None} for d in dealers]
        )
        answer = await client.call("datasync", "acquireSubscription", token=token)
        self.assertEqual(answer["type"], "response", answer)
        return client

    async def deltas(self, browser, count: int) -> List[Any]:
        """
        The next *count* deltas *browser* receives.
        """
        received = []
        for _ in range(count):
            envelope = await browser.next_notification()
            received.append(envelope["message"]["delta"])
        return received


def create_tables() -> None:
    """
    Create the test models' tables in this thread's database.
    """
    with connection.schema_editor() as editor:
        for model in MODELS:
            editor.create_model(model)
