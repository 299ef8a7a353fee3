"""
Starting the Django Players example in this process: Snorky with
DataSync, and the Django application in Twisted's WSGI container.
"""

import secrets
from typing import Any

from twisted.internet.endpoints import serverFromString
from twisted.python.threadpool import ThreadPool
from twisted.web.resource import Resource
from twisted.web.server import Site
from twisted.web.wsgi import WSGIResource

from examples.django_players.settings import configure
from examples.players.server import registries
from examples.players.store import SAMPLE
from examples.players.web import PlayersWeb
from snorky.server import ServerOptions, SnorkySite

__all__ = ["start"]

#: Django's worker threads; each holds its own database connection.
THREADS = 4


class _Root(Resource):
    """
    ``/api/`` goes to Django; every other path to the Players page and
    its files.
    """

    def __init__(self, api: Resource, page: Resource) -> None:
        super().__init__()
        self.putChild(b"api", api)
        self.page = page

    def getChild(self, path: bytes, request: Any) -> Resource:
        # The page's Klein application routes on the whole path.
        request.postpath.insert(0, request.prepath.pop())
        return self.page


async def _listen(reactor: Any, host: str, port: int, site: Site) -> str:
    endpoint = serverFromString(reactor, "tcp:{}:interface={}".format(port, host))
    listening = await endpoint.listen(site)
    return "{}:{}".format(host, listening.getHost().port)


def _create_tables() -> None:
    from django.db import connection

    from examples.django_players.models import Player

    if Player._meta.db_table not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(Player)
        # The sample players of the Klein example. bulk_create sends no
        # signals, so publishes no deltas: no page is open yet, and this
        # thread must not wait for the reactor it runs in.
        Player.objects.bulk_create([Player(name=name, color=color) for name, color in SAMPLE])
    # The reactor's thread makes no more queries.
    connection.close()


async def start(
    reactor: Any, host: str, web_port: int, snorky_port: int, db_path: str
) -> str:
    """
    Start Snorky (``datasync`` over WebSocket and SockJS on *snorky_port*,
    ``datasync_backend`` on a free port with a new key) and the Django
    application (page and API on *web_port*); Django is configured here,
    so once per process. Port 0 picks a free port. Everything stops with
    the reactor.

    :param db_path: the SQLite database file; its table is created if
        missing, with the sample players.
    :returns: the page's URL.
    """
    apps = registries(reactor)
    options = ServerOptions(backend_key=secrets.token_urlsafe(32))
    frontend = SnorkySite(apps["frontend"], ["websocket", "sockjs"], options, reactor)
    snorky = await _listen(reactor, host, snorky_port, frontend)
    backend = SnorkySite(apps["backend"], ["http"], options, reactor)
    backend_address = await _listen(reactor, host, 0, backend)

    configure(db_path, "http://{}/backend".format(backend_address), options.backend_key)
    _create_tables()
    from django.core.wsgi import get_wsgi_application

    threads = ThreadPool(minthreads=1, maxthreads=THREADS, name="django")
    threads.start()
    # Before shutdown: a request still running may need the reactor, to
    # reach Snorky's backend or to write its response.
    reactor.addSystemEventTrigger("before", "shutdown", threads.stop)
    api = WSGIResource(reactor, threads, get_wsgi_application())
    # Only the page's routes are reached: /api/ is Django's.
    page = PlayersWeb(
        None, None, "ws://{}/ws".format(snorky), "http://{}/sockjs".format(snorky),
        title="Players (Django)",
    )
    web = await _listen(reactor, host, web_port, Site(_Root(api, page.resource())))
    return "http://{}/".format(web)
