"""
Run the Django Players example::

    .venv/bin/python -m examples.django_players

starts Snorky and a Django application in one process (Django served by
Twisted's WSGI container, its database an SQLite file in a temporary
directory) and prints the URL to open. Open it in two windows: a player
added, renamed, recoloured or deleted in one shows in the other at once.
Ctrl-C stops it.
"""

import argparse
import os
import sys
import tempfile
from typing import List, Optional

from twisted.internet import reactor
from twisted.internet.defer import ensureDeferred

from examples.django_players.server import start


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=".venv/bin/python -m examples.django_players", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--web-port", type=int, default=8000, help="port of the page")
    parser.add_argument("--snorky-port", type=int, default=5001,
                        help="WebSocket and SockJS port of Snorky")
    parser.add_argument("--db", help="SQLite database file (default: a new, temporary one)")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="snorky-django-") as tmp:
        db_path = args.db or os.path.join(tmp, "players.sqlite3")
        starting = start(reactor, args.host, args.web_port, args.snorky_port, db_path)

        def started(url: str) -> None:
            print("Django Players example running: open {} in two windows "
                  "(Ctrl-C stops it)".format(url), flush=True)

        def failed(failure):
            print("Cannot start the example: {}".format(failure.getErrorMessage()),
                  file=sys.stderr)
            reactor.stop()

        reactor.callWhenRunning(
            lambda: ensureDeferred(starting).addCallbacks(started, failed)
        )
        reactor.run()


if __name__ == "__main__":
    main()
