"""
`SockJSResource`: one SockJS server as a ``twisted.web`` resource, and
`sockjs_resource`, which puts a Snorky registry behind one.

Everything under the resource is routed here: the greeting, ``/info``,
``/iframe*.html``, the raw ``/websocket``, and
``/<server>/<session>/<transport>``, whose transports declare their own
routes (``ROUTES`` of each transport module). The transports see the
sessions only through the resource's :class:`~.sessions.SessionTable`.
"""

from typing import Callable, Dict, List, Optional, Union

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.web.resource import IResource, Resource
from twisted.web.server import Request

from snorky.reactors import default_reactor
from snorky.registry import ServiceRegistry
from snorky.transports.origins import OriginPolicy
from snorky.transports.sockjs import eventsource, htmlfile, jsonp, xhr
from snorky.transports.sockjs.client import SockJSClient
from snorky.transports.sockjs.headers import (
    method_not_allowed,
    not_found,
    origin_not_allowed,
    preflight,
    set_cors,
    set_not_cached,
    set_session_cookie,
)
from snorky.transports.sockjs.iframe import (
    CLIENT_FILE_NAME,
    IFRAME_NAME,
    CacheablePage,
    client_file,
    iframe_page,
)
from snorky.transports.sockjs.info import greeting, info
from snorky.transports.sockjs.interfaces import HandlerFactory, Route
from snorky.transports.sockjs.options import SockJSOptions
from snorky.transports.sockjs.sessions import SessionTable
from snorky.transports.sockjs.websocket import check_upgrade, websocket_resources
from snorky.transports.wsserver import WebSocketOptions

__all__ = ["SockJSResource", "sockjs_resource"]

#: The HTTP transports, by the last segment of their URL.
_ROUTES: Dict[bytes, Route] = {
    route.name: route
    for module in (xhr, eventsource, htmlfile, jsonp)
    for route in module.ROUTES
}

_READ_METHODS = (b"GET", b"HEAD")


def _valid_id(segment: bytes) -> bool:
    return bool(segment) and b"." not in segment


class SockJSResource(Resource):
    """
    One SockJS server; each connection gets a handler from
    *handler_factory*.

    :param handler_factory: builds the
        :class:`~snorky.transports.sockjs.interfaces.SessionHandler` of
        each new connection, given its channel.
    :param options: the resource's settings; defaults when ``None``.
    :param reactor: an ``IReactorTime`` (and the reactor Autobahn uses);
        the global reactor when ``None``.
    :param websocket: the limits of ``/ws`` that the WebSocket URLs get
        too (pings, write bound, connection limit, ping rate); defaults
        when ``None``.
    :ivar sessions: the :class:`~.sessions.SessionTable` of its sessions.
    :ivar origins: the origins allowed by ``options.allowed_origins``.
    """

    isLeaf = True

    def __init__(
        self,
        handler_factory: HandlerFactory,
        options: Optional[SockJSOptions] = None,
        reactor: Optional[IReactorTime] = None,
        websocket: Optional[WebSocketOptions] = None,
    ) -> None:
        super().__init__()
        self.options = options if options is not None else SockJSOptions()
        self.reactor: IReactorTime = default_reactor(reactor)
        self.origins = OriginPolicy(self.options.allowed_origins)
        self.sessions = SessionTable(handler_factory, self.options, self.reactor)
        self._client_file: Optional[CacheablePage] = None
        if self.options.sockjs_file:
            self._client_file = client_file(self.options.sockjs_file)
        # One page per path the resource is mounted at, when it links to
        # the local client file; else one page for all.
        self._iframes: Dict[bytes, CacheablePage] = {}
        self._websocket, self._raw_websocket = websocket_resources(
            self.sessions, websocket, self.reactor
        )

    # Routing.

    def render(self, request: Request) -> Union[bytes, int]:
        """
        Route a request under the resource.
        """
        path: List[bytes] = request.postpath or []
        if path in ([], [b""]):
            return self._static(request, greeting)
        if len(path) == 1:
            return self._render_top(request, path[0])
        if len(path) == 3 and _valid_id(path[0]) and _valid_id(path[1]):
            return self._render_session(request, path[1].decode("latin-1"), path[2])
        return not_found(request)

    def _static(
        self, request: Request, render: Callable[[Request], bytes]
    ) -> bytes:
        if request.method not in _READ_METHODS:
            return method_not_allowed(request, b"GET")
        return render(request)

    def _render_top(self, request: Request, name: bytes) -> Union[bytes, int]:
        if name == b"info":
            if not self.origins.admits(request):
                return origin_not_allowed(request)
            if request.method == b"OPTIONS":
                return preflight(request, b"OPTIONS, GET", self.reactor)
            return self._static(request, lambda r: info(r, self.options))
        if IFRAME_NAME.fullmatch(name):
            page = self._iframe_page(request)
            return self._static(request, lambda r: page.render(r, self.reactor))
        if name == b"websocket":
            return self._upgrade(request, self._raw_websocket)
        if name == CLIENT_FILE_NAME and self._client_file is not None:
            script = self._client_file
            return self._static(request, lambda r: script.render(r, self.reactor))
        return not_found(request)

    def _render_session(
        self, request: Request, session_id: str, transport: bytes
    ) -> Union[bytes, int]:
        if transport == b"websocket":
            return self._upgrade(request, self._websocket)
        route = _ROUTES.get(transport)
        if route is None:
            return not_found(request)
        # Before anything else, so that a refused request creates or
        # touches no session.
        if not self.origins.admits(request):
            return origin_not_allowed(request)
        if request.method == b"OPTIONS" and route.preflight:
            return preflight(request, b"OPTIONS, " + route.method, self.reactor)
        if request.method != route.method:
            allowed = route.method + (b", OPTIONS" if route.preflight else b"")
            return method_not_allowed(request, allowed)
        set_cors(request)
        set_not_cached(request)
        if self.options.cookie_needed:
            set_session_cookie(request)
        return route.render(self.sessions, request, session_id)

    def _upgrade(self, request: Request, resource: IResource) -> Union[bytes, int]:
        if not self.options.websocket:
            return not_found(request)
        failed = check_upgrade(request)
        if failed is not None:
            return failed
        return resource.render(request)

    def _iframe_page(self, request: Request) -> CacheablePage:
        key = b"/".join(request.prepath or []) if self._client_file else b""
        page = self._iframes.get(key)
        if page is None:
            if self._client_file is not None:
                url = "/" + (key + b"/" + CLIENT_FILE_NAME).decode("utf-8")
            else:
                url = self.options.sockjs_url
            page = self._iframes[key] = iframe_page(url)
        return page

    def close_all(self) -> "Deferred[None]":
        """
        Close every session and connection, for a server shutdown.

        :returns: a Deferred that fires when every WebSocket connection
            is gone.
        """
        return self.sessions.close_all()


def sockjs_resource(
    registry: ServiceRegistry,
    options: Optional[SockJSOptions] = None,
    reactor: Optional[IReactorTime] = None,
    websocket: Optional[WebSocketOptions] = None,
) -> SockJSResource:
    """
    A SockJS resource whose connections are Snorky clients of *registry*;
    mount it at ``/sockjs`` of a ``twisted.web`` site. *websocket* is as
    for :class:`SockJSResource`.
    """
    return SockJSResource(
        lambda channel: SockJSClient(channel, registry), options, reactor, websocket
    )
