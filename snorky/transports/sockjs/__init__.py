"""
SockJS for Snorky: a SockJS 0.3 server on ``twisted.web``, for browsers
that cannot use WebSocket.

Mount :func:`sockjs_resource` at ``/sockjs`` of a site; configure it with
:class:`SockJSOptions`.
"""

from snorky.transports.sockjs.client import SockJSClient
from snorky.transports.sockjs.options import SockJSOptions
from snorky.transports.sockjs.resource import SockJSResource, sockjs_resource

__all__ = ["SockJSClient", "SockJSOptions", "SockJSResource", "sockjs_resource"]
