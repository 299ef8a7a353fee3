"""
The Players example's web side: a JSON REST API over the
:class:`~examples.players.store.PlayerStore`, and the page.

The two rules that keep browsers exact:

* listing authorizes the DataSync subscription *before* querying, so a
  change committed meanwhile is buffered by Snorky rather than lost;
* every change is committed *before* its delta is published, and deltas
  are published in commit order.
"""

import html
import json
import os
from typing import Any, Dict, List, Optional

from klein import Klein
from twisted.internet.defer import DeferredLock
from twisted.logger import Logger
from twisted.web.iweb import IRequest
from twisted.web.static import File

from examples.players.dealers import AllPlayers, PlayersByColor
from examples.players.store import COLORS, PlayerError, PlayerStore, check_color
from snorky.backend import SUBSCRIPTION_TOKEN_HEADER, SnorkyConnectorError, subscribe_if_asked

__all__ = ["PlayersWeb", "STATIC_DIR", "LIBRARIES"]

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(os.path.dirname(_HERE))

#: The page's own files.
STATIC_DIR = os.path.join(_HERE, "static")

#: Browser libraries served at ``/lib/NAME``: installed by npm at setup
#: time, or Snorky's adapter, never copied into the example.
LIBRARIES = {
    "knockout.js": os.path.join(_ROOT, "node_modules", "knockout", "build", "output",
                                "knockout-latest.js"),
    "sockjs.js": os.path.join(_ROOT, "node_modules", "sockjs-client", "dist",
                              "sockjs.min.js"),
    "snorky-knockout.js": os.path.join(_ROOT, "snorky", "static", "snorky-knockout.js"),
    "vue.js": os.path.join(_ROOT, "node_modules", "vue", "dist", "vue.esm-browser.prod.js"),
}

#: The npm package's ES modules, served at ``/lib/snorky/NAME`` for the Vue
#: page's import map (the React page bundles them).
SNORKY_MODULES = {
    name: os.path.join(_ROOT, "js", "src", name)
    for name in ("snorky.js", "live.js", "vue.js", "react.js")
}

#: The pages, by path: the Knockout page, and the same page in React and Vue.
PAGES = {"": "index.html", "react": "react.html", "vue": "vue.html"}

_JSON = b"application/json"


class PlayersWeb:
    """
    The Klein application of the Players example.

    :param store: the players.
    :param backend: a :class:`~snorky.backend.TwistedSnorkyBackend` for
        Snorky's backend API (``datasync_backend``).
    :param websocket_url: Snorky's WebSocket URL for browsers, e.g.
        ``ws://127.0.0.1:5001/ws``; ``snorky.js`` is loaded from the same
        host and port.
    :param sockjs_url: Snorky's SockJS URL, used by the page with
        ``?transport=sockjs``.
    :param title: the page's title, which tells the examples apart.
    """

    app = Klein()
    log = Logger()

    def __init__(
        self, store: PlayerStore, backend: Any, websocket_url: str, sockjs_url: str,
        title: str = "Players (Klein)",
    ) -> None:
        self.store = store
        self.title = title
        self.backend = backend
        self.websocket_url = websocket_url
        self.sockjs_url = sockjs_url
        # One publication at a time, so that deltas reach Snorky in the
        # order their changes were committed.
        self._publishing = DeferredLock()

    def resource(self) -> Any:
        """
        The ``twisted.web`` resource to serve.
        """
        return self.app.resource()

    def _json(self, request: IRequest, data: Any, code: int = 200) -> bytes:
        request.setResponseCode(code)
        request.setHeader(b"Content-Type", _JSON)
        request.setHeader(b"Cache-Control", b"no-store")
        return json.dumps(data).encode("utf-8")

    def _body(self, request: IRequest) -> Any:
        content_type = request.getHeader(b"Content-Type") or b""
        if content_type.split(b";")[0].strip() != _JSON:
            raise PlayerError("Send a JSON body (Content-Type: application/json)")
        try:
            body = json.loads(request.content.read())
        except ValueError:
            raise PlayerError("The body is not JSON") from None
        if not isinstance(body, dict):
            raise PlayerError("The body is not a JSON object")
        return body

    async def _publish(self, deltas: List[Dict[str, Any]]) -> None:
        try:
            await self._publishing.run(self.backend.publish_deltas, deltas)
        except SnorkyConnectorError as e:
            # The change is committed; browsers that missed it fetch the
            # data again when their subscription expires.
            self.log.error("Could not publish deltas to Snorky: {error}", error=str(e))

    # -- The page ---------------------------------------------------------

    @app.route("/", methods=["GET"])
    def index(self, request: IRequest) -> bytes:
        return self._page(request, PAGES[""])

    @app.route("/react", methods=["GET"])
    def react(self, request: IRequest) -> bytes:
        return self._page(request, PAGES["react"])

    @app.route("/vue", methods=["GET"])
    def vue(self, request: IRequest) -> bytes:
        return self._page(request, PAGES["vue"])

    def _page(self, request: IRequest, name: str) -> bytes:
        snorky_js = self.websocket_url.replace("ws", "http", 1).rsplit("/", 1)[0] + "/snorky.js"
        config = json.dumps({
            "websocketUrl": self.websocket_url,
            "sockjsUrl": self.sockjs_url,
            "colors": COLORS,
        })
        with open(os.path.join(STATIC_DIR, name), encoding="utf-8") as f:
            page = f.read()
        # In a <script> element "</" must not appear; JSON allows "<\/".
        page = page.replace("{{snorky_js}}", html.escape(snorky_js))
        page = page.replace("{{title}}", html.escape(self.title))
        page = page.replace("{{config}}", config.replace("</", "<\\/"))
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        return page.encode("utf-8")

    @app.route("/static/", branch=True)
    def static(self, request: IRequest) -> Any:
        return File(STATIC_DIR)

    @app.route("/lib/snorky/<name>", methods=["GET"])
    def snorky_module(self, request: IRequest, name: str) -> Any:
        return self._script(request, SNORKY_MODULES.get(name))

    @app.route("/lib/<name>", methods=["GET"])
    def library(self, request: IRequest, name: str) -> Any:
        return self._script(request, LIBRARIES.get(name))

    def _script(self, request: IRequest, path: Optional[str]) -> Any:
        if path is None or not os.path.exists(path):
            request.setResponseCode(404)
            request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
            return b"Not found (the npm packages are installed by `make run` or `npm ci`)"
        return File(path, defaultType="text/javascript")

    # -- The API ----------------------------------------------------------

    @app.route("/api/players", methods=["GET"])
    async def list_players(self, request: IRequest) -> bytes:
        colors = request.args.get(b"color")
        color: Optional[str] = None
        if colors:
            try:
                color = check_color(colors[0].decode("utf-8", "replace"))
            except PlayerError as e:
                return self._json(request, {"error": str(e)}, 400)
        if color is None:
            items = [{"dealer": AllPlayers.name, "query": None}]
        else:
            items = [{"dealer": PlayersByColor.name, "query": color}]
        # Authorize first, then query: see the module's documentation.
        try:
            token = await subscribe_if_asked(self.backend, request.requestHeaders, items)
        except SnorkyConnectorError as e:
            return self._json(request, {"error": "Snorky: {}".format(e)}, 503)
        players = self.store.list(color)
        if token is not None:
            request.setHeader(SUBSCRIPTION_TOKEN_HEADER.encode("ascii"), token.encode("ascii"))
        return self._json(request, players)

    @app.route("/api/players", methods=["POST"])
    async def create_player(self, request: IRequest) -> bytes:
        try:
            body = self._body(request)
            player = self.store.create(body.get("name"), body.get("color"))
        except PlayerError as e:
            return self._json(request, {"error": str(e)}, 400)
        await self._publish([{"type": "insert", "model": "Player", "data": player}])
        return self._json(request, player, 201)

    @app.route("/api/players/<int:player_id>", methods=["PUT"])
    async def update_player(self, request: IRequest, player_id: int) -> bytes:
        try:
            changed = self.store.update(player_id, self._body(request))
        except PlayerError as e:
            return self._json(request, {"error": str(e)}, 400)
        if changed is None:
            return self._json(request, {"error": "No such player"}, 404)
        old, new = changed
        await self._publish(
            [{"type": "update", "model": "Player", "oldData": old, "newData": new}]
        )
        return self._json(request, new)

    @app.route("/api/players/<int:player_id>", methods=["DELETE"])
    async def delete_player(self, request: IRequest, player_id: int) -> bytes:
        old = self.store.delete(player_id)
        if old is None:
            return self._json(request, {"error": "No such player"}, 404)
        await self._publish([{"type": "delete", "model": "Player", "data": old}])
        return self._json(request, old)
