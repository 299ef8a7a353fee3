"""
`OpsResource`: what the ``ops`` port serves.

* ``/metrics``: every metric, in Prometheus text format;
* ``/healthz``: 200 while the process serves;
* ``/readyz``: 200 when every readiness check passes, else 503, with one
  line per check;
* ``/status.json``: the same numbers as ``/metrics``, as JSON, for
* ``/``: the live status page (``snorky/static/ops/``).

With a key or a user and password configured, ``/metrics``, the status
page and its JSON require them (``Authorization: Bearer KEY`` or HTTP
basic auth); ``/healthz`` and ``/readyz`` stay open, as load balancers and
Kubernetes probe them without credentials, and tell nothing secret.
"""

import base64
import binascii
import hmac
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource

from snorky.ops.health import Readiness

__all__ = ["OpsOptions", "OpsResource", "status_snapshot", "STATIC_DIR"]

#: The status page's files.
STATIC_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "static", "ops"
)

_FILES = {
    b"": ("index.html", b"text/html; charset=utf-8"),
    b"status.js": ("status.js", b"text/javascript; charset=utf-8"),
    b"status.css": ("status.css", b"text/css; charset=utf-8"),
}


@dataclass
class OpsOptions:
    """
    Settings of the ``ops`` port.

    :param key: a key clients must send as ``Authorization: Bearer KEY``;
        left out of ``repr`` so that it never reaches a log.
    :param basic_auth: ``user:password`` for HTTP basic auth, also kept out
        of ``repr``. Either credential admits a request.
    :param readiness: the checks of ``/readyz``; each port adds one.
    """

    key: Optional[str] = field(default=None, repr=False)
    basic_auth: Optional[str] = field(default=None, repr=False)
    readiness: Readiness = field(default_factory=Readiness)

    def __post_init__(self) -> None:
        if self.key is not None and not self.key:
            raise ValueError("the ops key must not be empty")
        if self.basic_auth is not None and ":" not in self.basic_auth:
            raise ValueError("ops basic auth must be USER:PASSWORD")

    @property
    def protected(self) -> bool:
        """
        Whether requests need credentials.
        """
        return bool(self.key or self.basic_auth)


def status_snapshot(registry: Any, now: Optional[float] = None) -> Dict[str, Any]:
    """
    Every sample of *registry*, as the status page reads them:
    ``{"time": seconds, "samples": [[name, {label: value}, value], ...]}``.
    """
    samples: List[Tuple[str, Dict[str, str], float]] = []
    for family in registry.collect():
        for sample in family.samples:
            value = sample.value
            if value != value or value in (float("inf"), float("-inf")):
                continue
            samples.append((sample.name, sample.labels, value))
    return {"time": time.time() if now is None else now, "samples": samples}


class OpsResource(Resource):
    """
    The root of the ``ops`` port.

    :param registry: the ``prometheus_client`` registry to serve.
    :param options: credentials and readiness checks.
    """

    isLeaf = True

    def __init__(self, registry: Any, options: Optional[OpsOptions] = None) -> None:
        super().__init__()
        self.registry = registry
        self.options = options or OpsOptions()
        self._key = (self.options.key or "").encode("utf-8")
        self._basic = (self.options.basic_auth or "").encode("utf-8")

    def render_GET(self, request: IRequest) -> bytes:
        path = b"/".join(request.postpath)
        if path == b"healthz":
            return self._text(request, 200, b"ok\n")
        if path == b"readyz":
            return self._readyz(request)
        if path not in _FILES and path not in (b"metrics", b"status.json"):
            return self._text(request, 404, b"Not found\n")
        if not self._admitted(request):
            request.setHeader(b"WWW-Authenticate", b'Basic realm="snorky ops"')
            return self._text(request, 401, b"Credentials required\n")
        if path == b"metrics":
            request.setHeader(b"Content-Type", CONTENT_TYPE_LATEST.encode("ascii"))
            return generate_latest(self.registry)
        if path == b"status.json":
            request.setHeader(b"Content-Type", b"application/json")
            request.setHeader(b"Cache-Control", b"no-store")
            return json.dumps(status_snapshot(self.registry)).encode("utf-8")
        name, content_type = _FILES[path]
        with open(os.path.join(STATIC_DIR, name), "rb") as f:
            body = f.read()
        request.setHeader(b"Content-Type", content_type)
        return body

    def render_HEAD(self, request: IRequest) -> bytes:
        return self.render_GET(request)

    def _readyz(self, request: IRequest) -> bytes:
        results = self.options.readiness.results()
        lines = "".join(
            "{}: {}\n".format(name, "ok" if ok else "failing") for name, ok in results
        )
        ready = all(ok for _, ok in results)
        return self._text(request, 200 if ready else 503, lines.encode("utf-8"))

    @staticmethod
    def _text(request: IRequest, code: int, body: bytes) -> bytes:
        request.setResponseCode(code)
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        request.setHeader(b"Cache-Control", b"no-store")
        return body

    def _admitted(self, request: IRequest) -> bool:
        if not self.options.protected:
            return True
        header = request.getHeader(b"Authorization") or b""
        scheme, _, credentials = header.partition(b" ")
        scheme = scheme.lower()
        if scheme == b"bearer" and self._key:
            return hmac.compare_digest(credentials.strip(), self._key)
        if scheme == b"basic" and self._basic:
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True)
            except (binascii.Error, ValueError):
                return False
            return hmac.compare_digest(decoded, self._basic)
        return False
