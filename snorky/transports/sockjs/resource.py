"""
`SockJSResource`: one SockJS endpoint as a ``twisted.web`` resource, and
`sockjs_resource`, which puts a Snorky registry behind one.

Everything under the resource is routed here: the greeting, ``/info``,
``/iframe*.html``, the raw ``/websocket``, and
``/<server>/<session>/<transport>``.
"""

from typing import Any, Callable, Dict, List, Optional, Set, Tuple, Union

from twisted.internet.defer import Deferred, DeferredList
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource

from snorky.registry import ServiceRegistry
from snorky.transports.origins import OriginPolicy
from snorky.transports.sockjs.client import SockJSClient
from snorky.transports.sockjs.headers import (
    error,
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
from snorky.transports.sockjs.interfaces import HandlerFactory
from snorky.transports.sockjs.jsonp import jsonp_poll, jsonp_send
from snorky.transports.sockjs.options import SockJSOptions
from snorky.transports.sockjs.session import Session
from snorky.transports.sockjs.streaming import eventsource, htmlfile, xhr_streaming
from snorky.transports.sockjs.websocket import (
    RawWebSocketProtocol,
    SockJSWebSocketProtocol,
    check_upgrade,
    websocket_resource,
)
from snorky.transports.sockjs.xhr import xhr_poll, xhr_send

__all__ = ["SockJSResource", "sockjs_resource"]

_Render = Callable[["SockJSResource", IRequest, str], Union[bytes, int]]

# Transport name -> (its HTTP method, its renderer, whether browsers
# send a CORS preflight for it).
_TRANSPORTS: Dict[bytes, Tuple[bytes, _Render, bool]] = {
    b"xhr": (b"POST", xhr_poll, True),
    b"xhr_send": (b"POST", xhr_send, True),
    b"xhr_streaming": (b"POST", xhr_streaming, True),
    b"eventsource": (b"GET", eventsource, False),
    b"htmlfile": (b"GET", htmlfile, False),
    b"jsonp": (b"GET", jsonp_poll, False),
    b"jsonp_send": (b"POST", jsonp_send, False),
}

_READ_METHODS = (b"GET", b"HEAD")


def _valid_id(segment: bytes) -> bool:
    return bool(segment) and b"." not in segment


class SockJSResource(Resource):
    """
    One SockJS endpoint; each connection gets a handler from
    *handler_factory*.

    :param handler_factory: builds the
        :class:`~snorky.transports.sockjs.interfaces.SessionHandler` of
        each new connection, given its channel.
    :param options: the endpoint's settings; defaults when ``None``.
    :param reactor: an ``IReactorTime`` (and the reactor Autobahn uses);
        the global reactor when ``None``.
    :ivar sessions: the HTTP sessions, by session id.
    :ivar origins: the origins allowed by ``options.allowed_origins``.
    """

    isLeaf = True

    def __init__(
        self,
        handler_factory: HandlerFactory,
        options: Optional[SockJSOptions] = None,
        reactor: Any = None,
    ) -> None:
        super().__init__()
        if reactor is None:
            from twisted.internet import reactor
        self.handler_factory = handler_factory
        self.options = options if options is not None else SockJSOptions()
        self.reactor = reactor
        self.origins = OriginPolicy(self.options.allowed_origins)
        self.sessions: Dict[str, Session] = {}
        self._websocket_sessions: Set[Session] = set()
        self._websockets: Set[Any] = set()
        self._client_file: Optional[CacheablePage] = None
        if self.options.sockjs_file:
            self._client_file = client_file(self.options.sockjs_file)
        # One page per path the resource is mounted at, when it links to
        # the local client file; else one page for all.
        self._iframes: Dict[bytes, CacheablePage] = {}
        self._websocket = websocket_resource(self, SockJSWebSocketProtocol, reactor)
        self._raw_websocket = websocket_resource(self, RawWebSocketProtocol, reactor)

    # Routing.

    def render(self, request: IRequest) -> Union[bytes, int]:
        """
        Route a request under the endpoint.
        """
        path: List[bytes] = request.postpath
        if path in ([], [b""]):
            return self._static(request, greeting)
        if len(path) == 1:
            return self._render_top(request, path[0])
        if len(path) == 3 and _valid_id(path[0]) and _valid_id(path[1]):
            return self._render_session(request, path[1].decode("latin-1"), path[2])
        return not_found(request)

    def _static(
        self, request: IRequest, render: Callable[[IRequest], bytes]
    ) -> bytes:
        if request.method not in _READ_METHODS:
            return method_not_allowed(request, b"GET")
        return render(request)

    def _render_top(self, request: IRequest, name: bytes) -> Union[bytes, int]:
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
        self, request: IRequest, session_id: str, transport: bytes
    ) -> Union[bytes, int]:
        if transport == b"websocket":
            return self._upgrade(request, self._websocket)
        try:
            method, render, has_preflight = _TRANSPORTS[transport]
        except KeyError:
            return not_found(request)
        # Before anything else, so that a refused request creates or
        # touches no session.
        if not self.origins.admits(request):
            return origin_not_allowed(request)
        if request.method == b"OPTIONS" and has_preflight:
            return preflight(request, b"OPTIONS, " + method, self.reactor)
        if request.method != method:
            allowed = method + (b", OPTIONS" if has_preflight else b"")
            return method_not_allowed(request, allowed)
        set_cors(request)
        set_not_cached(request)
        if self.options.cookie_needed:
            set_session_cookie(request)
        return render(self, request, session_id)

    def _upgrade(self, request: IRequest, resource: IResource) -> Union[bytes, int]:
        if not self.options.websocket:
            return not_found(request)
        failed = check_upgrade(request)
        if failed is not None:
            return failed
        return resource.render(request)

    def _iframe_page(self, request: IRequest) -> CacheablePage:
        key = b"/".join(request.prepath) if self._client_file else b""
        page = self._iframes.get(key)
        if page is None:
            if self._client_file is not None:
                url = "/" + (key + b"/" + CLIENT_FILE_NAME).decode("utf-8")
            else:
                url = self.options.sockjs_url
            page = self._iframes[key] = iframe_page(url)
        return page

    # Sessions, for the transports.

    def open_session(self, session_id: str, request: IRequest) -> Optional[Session]:
        """
        The session *session_id*, created if new; ``None`` when the
        endpoint holds ``max_sessions`` already.
        """
        session = self.sessions.get(session_id)
        if session is None:
            if len(self.sessions) >= self.options.max_sessions:
                return None
            address = getattr(request.getClientAddress(), "host", None)
            session = Session(
                session_id,
                self.handler_factory,
                self.options,
                self.reactor,
                remote_address=address,
                on_gone=self._forget,
            )
            self.sessions[session_id] = session
        return session

    def find_session(self, session_id: str) -> Optional[Session]:
        """
        The session *session_id*, or ``None``.
        """
        return self.sessions.get(session_id)

    def unavailable(self, request: IRequest) -> bytes:
        """
        Answer a new session that the endpoint has no room for.
        """
        return error(request, 503, "Too many sessions.")

    def websocket_session(self, protocol: SockJSWebSocketProtocol) -> Session:
        """
        A new session living on one WebSocket connection.
        """
        session = Session(
            None,
            self.handler_factory,
            self.options,
            self.reactor,
            remote_address=protocol.remote_host(),
            on_gone=self._forget,
        )
        self._websocket_sessions.add(session)
        self._track(protocol)
        return session

    def raw_opened(self, protocol: RawWebSocketProtocol) -> None:
        """
        Keep track of an open raw WebSocket connection.
        """
        self._track(protocol)

    def _track(self, protocol: Any) -> None:
        self._websockets.add(protocol)
        protocol.gone.addBoth(lambda _: self._websockets.discard(protocol))

    def _forget(self, session: Session) -> None:
        if session.session_id is None:
            self._websocket_sessions.discard(session)
        elif self.sessions.get(session.session_id) is session:
            del self.sessions[session.session_id]

    def close_all(self) -> Deferred:
        """
        Close every session and connection, for a server shutdown.

        :returns: a Deferred that fires when every WebSocket connection
            is gone.
        """
        waiting = [protocol.gone for protocol in self._websockets]
        for session in list(self.sessions.values()) + list(self._websocket_sessions):
            session.shutdown()
        for protocol in list(self._websockets):
            if isinstance(protocol, RawWebSocketProtocol):
                protocol.close(1000, "Server shutting down")
        return DeferredList(waiting).addCallback(lambda _: None)


def sockjs_resource(
    registry: ServiceRegistry,
    options: Optional[SockJSOptions] = None,
    reactor: Any = None,
) -> SockJSResource:
    """
    A SockJS endpoint whose connections are Snorky clients of *registry*;
    mount it at ``/sockjs`` of a ``twisted.web`` site.
    """
    return SockJSResource(
        lambda channel: SockJSClient(channel, registry), options, reactor
    )
