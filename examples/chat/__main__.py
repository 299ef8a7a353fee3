"""
Run the chat example::

    .venv/bin/python -m examples.chat

starts a Snorky (``identity`` and ``chat`` over WebSocket, its backend on
a private port) and the example's web side, and prints the URL to open.
Ctrl-C stops both. To use a Snorky you run yourself, for example
``twistd -n snorky --backend-key KEY`` with the default app::

    .venv/bin/python -m examples.chat --snorky-url ws://127.0.0.1:5001/ws \\
        --backend-url http://127.0.0.1:5002/backend --backend-key KEY
"""

import argparse
import sys
from typing import List, Optional

from twisted.internet import reactor
from twisted.internet.defer import ensureDeferred
from twisted.python.failure import Failure

from examples.chat.server import ChatExample


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=".venv/bin/python -m examples.chat", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--web-port", type=int, default=8080, help="port of the page")
    parser.add_argument("--snorky-port", type=int, default=5001,
                        help="WebSocket port of the Snorky this starts")
    parser.add_argument("--snorky-url", help="WebSocket URL of an external Snorky")
    parser.add_argument("--backend-url", help="backend API URL of an external Snorky")
    parser.add_argument("--backend-key", help="backend key of an external Snorky")
    args = parser.parse_args(argv)
    external = [args.snorky_url, args.backend_url, args.backend_key]
    if any(external) and not all(external):
        parser.error("--snorky-url, --backend-url and --backend-key go together")
    return args


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    example = ChatExample(reactor, args.host)

    async def start() -> None:
        await example.start(args.web_port, args.snorky_port, args.snorky_url,
                            args.backend_url, args.backend_key)
        reactor.addSystemEventTrigger("before", "shutdown", example.stop)
        print("Chat example running: open {} (Ctrl-C stops it)".format(example.page_url),
              flush=True)

    failures = []

    def failed(failure: Failure) -> None:
        failures.append(failure)
        print("Cannot start the chat example: {}".format(failure.getErrorMessage()),
              file=sys.stderr)
        example.stop().addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(lambda: ensureDeferred(start()).addErrback(failed))
    reactor.run()
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
