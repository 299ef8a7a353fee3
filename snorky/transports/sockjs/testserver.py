"""
A server exposing the four services the SockJS protocol test suite
(sockjs/sockjs-protocol, ``sockjs-protocol.py``) expects, with raw
message semantics rather than Snorky envelopes::

    python3 -m snorky.transports.sockjs.testserver --port 8081

then point the suite at it with ``SOCKJS_URL=http://127.0.0.1:8081``.
The services are ``/echo``, ``/close``, ``/disabled_websocket_echo`` and
``/cookie_needed_echo``; streaming responses end after 4 KiB, as the
suite asks of test servers.
"""

import argparse
import sys
from typing import Any, List, Optional

from twisted.web.resource import Resource
from twisted.web.server import Site

from snorky.transports.sockjs.interfaces import Channel
from snorky.transports.sockjs.options import SockJSOptions
from snorky.transports.sockjs.resource import SockJSResource

__all__ = ["EchoHandler", "CloseHandler", "protocol_test_site", "main"]

#: The streaming response limit the protocol suite expects of test servers.
TEST_RESPONSE_LIMIT = 4096


class EchoHandler:
    """
    Sends every message back to its sender.
    """

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def opened(self) -> None:
        pass

    def received(self, message: str) -> None:
        self.channel.send_encoded(self.channel.encode(message))

    def closed(self) -> None:
        pass


class CloseHandler(EchoHandler):
    """
    Closes every session as soon as it opens, with ``3000 Go away!``.
    """

    def opened(self) -> None:
        self.channel.close(3000, "Go away!")


def protocol_test_site(reactor: Any = None, **options: Any) -> Site:
    """
    The site with the suite's four services; *options* override the
    :class:`SockJSOptions` of all of them.
    """
    root = Resource()

    def mount(name: bytes, handler: Any, **extra: Any) -> None:
        settings = dict(response_limit=TEST_RESPONSE_LIMIT, **options)
        settings.update(extra)
        root.putChild(
            name, SockJSResource(handler, SockJSOptions(**settings), reactor)
        )

    mount(b"echo", EchoHandler)
    mount(b"close", CloseHandler)
    mount(b"disabled_websocket_echo", EchoHandler, websocket=False)
    mount(b"cookie_needed_echo", EchoHandler, cookie_needed=True)
    return Site(root, reactor=reactor)


def main(argv: Optional[List[str]] = None) -> None:
    """
    Run the protocol test server until interrupted.
    """
    from twisted.internet import reactor
    from twisted.internet.endpoints import TCP4ServerEndpoint
    from twisted.python import log

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args(argv)
    log.startLogging(sys.stdout)
    endpoint = TCP4ServerEndpoint(reactor, args.port, interface=args.host)
    endpoint.listen(protocol_test_site(reactor))
    reactor.run()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
