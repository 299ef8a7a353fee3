"""
Run the Players example::

    .venv/bin/python -m examples.players

starts a Snorky (DataSync over WebSocket and SockJS, its backend on a
private port) and the example's web side over an SQLite database, and
prints the URL to open. Open it in two windows: a change made in one
shows in the other at once. Add ``?transport=sockjs`` to the URL to use
SockJS instead of WebSocket. Ctrl-C stops it.
"""

import argparse
import os
import sys
from typing import List, Optional

from twisted.internet import reactor
from twisted.internet.defer import ensureDeferred

from examples.players.server import PlayersExample

#: The database used unless --db says otherwise (ignored by git).
DEFAULT_DB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "players.sqlite3")


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=".venv/bin/python -m examples.players", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--web-port", type=int, default=8080, help="port of the page")
    parser.add_argument("--snorky-port", type=int, default=5001,
                        help="WebSocket and SockJS port of Snorky")
    parser.add_argument("--db", default=DEFAULT_DB, help="SQLite database file")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    example = PlayersExample(reactor, args.host, args.db)

    async def start() -> None:
        await example.start(args.web_port, args.snorky_port)
        reactor.addSystemEventTrigger("before", "shutdown", example.stop)
        print("Players example running: open {} in two windows "
              "(add ?transport=sockjs for SockJS; Ctrl-C stops it)".format(example.page_url),
              flush=True)

    def failed(failure):
        print("Cannot start the Players example: {}".format(failure.getErrorMessage()),
              file=sys.stderr)
        example.stop()
        reactor.stop()

    reactor.callWhenRunning(lambda: ensureDeferred(start()).addErrback(failed))
    reactor.run()


if __name__ == "__main__":
    main()
