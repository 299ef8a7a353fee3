"""
SockJS for Snorky: a SockJS 0.3 server on ``twisted.web``, for browsers
that cannot use WebSocket.

Mount :func:`sockjs_resource` at ``/sockjs`` of a site; configure it with
:class:`SockJSOptions`.

The modules form floors; each imports only from the floors below it::

    resource                       routing, origins, CORS; mounts the rest
    xhr eventsource htmlfile       one module per transport, each declaring
      jsonp websocket sessions     its routes; the table of sessions
    session receiver incoming      one session; a response carrying frames;
      client                       what clients send; the Snorky adapter
    interfaces info iframe         the contracts; /info; the iframe page
    framing headers options        frames; HTTP headers; settings
"""

from snorky.transports.sockjs.client import SockJSClient
from snorky.transports.sockjs.options import SockJSOptions
from snorky.transports.sockjs.resource import SockJSResource, sockjs_resource

__all__ = ["SockJSClient", "SockJSOptions", "SockJSResource", "sockjs_resource"]
