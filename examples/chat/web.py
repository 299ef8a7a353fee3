"""
The chat example's web side: the page, and a tiny login that authorizes
identities through Snorky's backend.

A user logs in with a name only (this is an example: there are no
passwords). The session lives in a cookie; the page asks ``POST /token``
for a single-use identity token each time it connects to Snorky, and
presents it to Snorky's ``identity`` service.
"""

import html
import json
import os
import secrets
from typing import Any, Dict, Optional

from klein import Klein
from twisted.web.iweb import IRequest
from twisted.web.static import File

from snorky.backend import SnorkyConnectorError

__all__ = ["ChatWeb", "STATIC_DIR"]

#: The page's files.
STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")

_COOKIE = b"chat_session"
_JSON = b"application/json"


def _valid_name(name: Any) -> bool:
    return (
        isinstance(name, str)
        and 0 < len(name) <= 32
        and name == name.strip()
        and name.isprintable()
    )


class ChatWeb:
    """
    The Klein application of the chat example.

    :param backend: a :class:`~snorky.backend.TwistedSnorkyBackend` for
        Snorky's backend API.
    :param snorky_url: the WebSocket URL browsers connect to, e.g.
        ``ws://127.0.0.1:5001/ws``; ``snorky.js`` is loaded from the same
        host and port.
    :param max_sessions: sessions kept at once; the oldest is forgotten
        beyond that.
    """

    app = Klein()

    def __init__(self, backend: Any, snorky_url: str, max_sessions: int = 10_000) -> None:
        self.backend = backend
        self.snorky_url = snorky_url
        self.max_sessions = max_sessions
        #: Session id to the identity of its user.
        self.sessions: Dict[str, Any] = {}

    def resource(self) -> Any:
        """
        The ``twisted.web`` resource to serve.
        """
        return self.app.resource()

    def _identity(self, request: IRequest) -> Optional[Any]:
        sid = request.getCookie(_COOKIE)
        return self.sessions.get(sid.decode("ascii", "replace")) if sid else None

    def _json(self, request: IRequest, data: Any, code: int = 200) -> bytes:
        request.setResponseCode(code)
        request.setHeader(b"Content-Type", _JSON)
        request.setHeader(b"Cache-Control", b"no-store")
        return json.dumps(data).encode("utf-8")

    def _json_body(self, request: IRequest) -> Any:
        # Only a JSON body is taken: a cross-site form cannot send one
        # without the browser asking this server first (CORS preflight).
        content_type = request.getHeader(b"Content-Type") or b""
        if content_type.split(b";")[0].strip() != _JSON:
            return None
        try:
            return json.loads(request.content.read())
        except (ValueError, RecursionError):
            return None

    @app.route("/", methods=["GET"])
    def index(self, request: IRequest) -> bytes:
        http_url = self.snorky_url.replace("ws", "http", 1)
        script = http_url.rsplit("/", 1)[0] + "/snorky.js"
        with open(os.path.join(STATIC_DIR, "index.html"), encoding="utf-8") as f:
            page = f.read()
        page = page.replace("{{snorky_js}}", html.escape(script))
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        return page.encode("utf-8")

    @app.route("/static/", branch=True)
    def static(self, request: IRequest) -> Any:
        return File(STATIC_DIR)

    @app.route("/session", methods=["GET"])
    def session(self, request: IRequest) -> bytes:
        return self._json(
            request, {"identity": self._identity(request), "snorkyUrl": self.snorky_url}
        )

    @app.route("/login", methods=["POST"])
    def login(self, request: IRequest) -> bytes:
        body = self._json_body(request)
        name = body.get("name") if isinstance(body, dict) else None
        if not _valid_name(name):
            return self._json(
                request, {"error": "A name is 1 to 32 printable characters"}, 400
            )
        if len(self.sessions) >= self.max_sessions:
            del self.sessions[next(iter(self.sessions))]
        sid = secrets.token_urlsafe(32)
        identity = {"name": name}
        self.sessions[sid] = identity
        request.addCookie(
            _COOKIE, sid.encode("ascii"), path=b"/", httpOnly=True, sameSite="strict"
        )
        return self._json(request, {"identity": identity})

    @app.route("/logout", methods=["POST"])
    def logout(self, request: IRequest) -> bytes:
        sid = request.getCookie(_COOKIE)
        if sid:
            self.sessions.pop(sid.decode("ascii", "replace"), None)
        request.addCookie(_COOKIE, b"", path=b"/", max_age="0")
        return self._json(request, {"identity": None})

    @app.route("/token", methods=["POST"])
    async def token(self, request: IRequest) -> bytes:
        identity = self._identity(request)
        if identity is None:
            return self._json(request, {"error": "Not logged in"}, 401)
        try:
            token = await self.backend.authorize_identity(identity)
        except SnorkyConnectorError as e:
            return self._json(request, {"error": "Snorky: {}".format(e)}, 503)
        return self._json(request, {"token": token})
