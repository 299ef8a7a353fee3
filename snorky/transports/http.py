"""
The HTTP backend transport, on ``twisted.web``: trusted application servers
``POST`` one envelope and get the service's reply envelope back.

Each request becomes a short-lived :class:`BackendClient` of one
:class:`~snorky.ServiceRegistry`: it connects, sends its envelope, takes
the service's answer to it as the response body, and disconnects.
"""

import hmac
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, List, Optional

from twisted.internet.defer import CancelledError, Deferred, TimeoutError
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource
from twisted.web.server import NOT_DONE_YET

from snorky.broker.interface import BROKER_UNAVAILABLE
from snorky.client import Client
from snorky.envelopes import EnvelopeError, decode_envelope, encode
from snorky.loglimit import LogLimiter
from snorky.reactors import default_reactor
from snorky.services.base import RPCService
from snorky.transports._addresses import address_text

if TYPE_CHECKING:
    from snorky.registry import ServiceRegistry

__all__ = ["BackendOptions", "BackendClient", "backend_resource", "KEY_HEADER"]

#: The request header that carries the backend key.
KEY_HEADER = b"X-Backend-Key"

_JSON = b"application/json"

_UNAVAILABLE = BROKER_UNAVAILABLE.encode("ascii")


@dataclass
class BackendOptions:
    """
    Settings of the HTTP backend API.

    :param key: the shared secret every request must carry in the
        ``X-Backend-Key`` header. It is left out of ``repr`` so that it
        does not end up in logs.
    :param max_body_size: the largest request body accepted, in bytes.
    :param timeout: seconds to wait for the service's answer before
        answering 504.
    """

    key: str = field(repr=False)
    max_body_size: int = 1 << 20
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("The backend key must not be empty")
        if self.max_body_size < 1:
            raise ValueError("max_body_size must be positive")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")


class BackendClient(Client):
    """
    One backend request as services see it. Once its message is being
    routed (:meth:`expect_reply`), the answer to it fires :attr:`reply`:
    for an :class:`~snorky.RPCService`, the ``response`` or ``error``
    carrying the request's ``callId``; for other services, the first
    envelope the service sends. Anything else (a notification sent before
    the answer, an envelope of another service, anything after the
    answer) is dropped.

    :ivar reply: a ``Deferred`` that fires with the encoded reply envelope.
    """

    transport_name = "http"

    _expecting = False
    _service: Optional[str] = None
    _rpc = False
    _call_id: Any = None

    def __init__(self, remote_address: Optional[str] = None) -> None:
        super().__init__(remote_address)
        self.reply: "Deferred[bytes]" = Deferred()

    def expect_reply(self, service: Optional[str] = None, message: Any = None,
                     rpc: bool = False) -> None:
        """
        Take the answer to *message*, sent to *service*, as the reply.
        Envelopes sent before (for example by a service greeting every
        client that connects) are not answers to the request, and are
        dropped.

        :param rpc: whether *service* is an RPC service, whose answer is
            the ``response`` or ``error`` with the request's ``callId``.
            When *service* is ``None``, the next envelope is the reply.
        """
        self._service = service
        self._rpc = rpc
        if rpc and isinstance(message, dict):
            self._call_id = message.get("callId")
        self._expecting = True

    def _is_answer(self, envelope: Any) -> bool:
        if self._service is None:
            return True
        if not isinstance(envelope, dict) or envelope.get("service") != self._service:
            return False
        if not self._rpc:
            return True
        message = envelope.get("message")
        return (
            isinstance(message, dict)
            and message.get("type") in ("response", "error")
            and message.get("callId") == self._call_id
        )

    def send(self, envelope: Any) -> None:
        if self._expecting and not self.reply.called and self._is_answer(envelope):
            self.reply.callback(encode(envelope))

    def write_frame(self, frame: bytes) -> None:
        # Encoded envelopes (a fan-out that includes this client) are rare
        # here: decode them to see whether one is the answer.
        if not self._expecting or self.reply.called:
            return
        try:
            service, message = decode_envelope(frame)
        except EnvelopeError:
            return
        if self._is_answer({"service": service, "message": message}):
            self.reply.callback(frame)


def reply_status(frame: bytes) -> int:
    """
    The HTTP status of a service's reply: 200, or 503 when the service
    answered that the broker is unavailable (nothing was published, and
    the application may retry).
    """
    if _UNAVAILABLE in frame:
        _, message = decode_envelope(frame)
        if isinstance(message, dict) and message.get("message") == BROKER_UNAVAILABLE:
            return 503
    return 200


def _json_body(request: IRequest, code: int, body: bytes) -> bytes:
    request.setResponseCode(code)
    request.setHeader(b"Content-Type", _JSON)
    # Answers that come later would be chunked without a length.
    request.setHeader(b"Content-Length", b"%d" % len(body))
    return body


class _BackendResource(Resource):
    """
    The resource behind :func:`backend_resource`: ``POST`` at its own root
    (``/backend`` and ``/backend/`` once mounted); JSON errors for other
    methods and paths.

    It is a plain ``twisted.web`` resource: the API has one route, and a
    router (Klein) cost about a sixth of each request's time.
    """

    isLeaf = True
    log = Logger()

    def __init__(
        self, registry: "ServiceRegistry", options: BackendOptions, reactor: Any
    ) -> None:
        super().__init__()
        reactor = default_reactor(reactor)
        self._registry = registry
        self._options = options
        self._key = options.key.encode("utf-8")
        self._reactor = reactor
        self._log_limiter = LogLimiter(reactor)

    def _refuse(self, request: IRequest, code: int, text: str) -> bytes:
        if self._log_limiter.allow():
            self.log.warn(
                "Refused a backend request from {peer} ({code}): {reason}",
                peer=address_text(request.getClientAddress()),
                code=code,
                reason=text,
            )
        return _json_body(request, code, encode({"error": text}))

    def render(self, request: IRequest) -> Any:
        postpath = getattr(request, "postpath", None)
        if postpath and postpath != [b""]:
            return self._refuse(request, 404, "Not found")
        if request.method != b"POST":
            request.setHeader(b"Allow", b"POST")
            return self._refuse(request, 405, "Only POST is allowed")
        return self.post(request)

    def post(self, request: IRequest) -> Any:
        key = request.getHeader(KEY_HEADER)
        if key is None:
            return self._refuse(request, 401, "Missing X-Backend-Key header")
        if not hmac.compare_digest(key, self._key):
            return self._refuse(request, 401, "Wrong X-Backend-Key")
        limit = self._options.max_body_size
        body = request.content.read(limit + 1)
        if len(body) > limit:
            return self._refuse(request, 413, "Body larger than {} bytes".format(limit))
        try:
            name, message = decode_envelope(body)
        except EnvelopeError as e:
            return self._refuse(request, 400, str(e))
        service = self._registry.services.get(name)
        if service is None:
            return self._refuse(request, 404, "Unknown service")
        return self._route(request, name, message, isinstance(service, RPCService))

    def _route(self, request: IRequest, name: str, message: Any, rpc: bool) -> Any:
        client = BackendClient(address_text(request.getClientAddress()))
        self._registry.client_connected(client)
        client.expect_reply(name, message, rpc)
        self._registry.process_message_from(client, name, message)
        reply = client.reply
        if reply.called:
            # The usual case: the service answered at once.
            frames: List[bytes] = []
            reply.addCallback(frames.append)
            self._registry.client_disconnected(client)
            return _json_body(request, reply_status(frames[0]), frames[0])

        def disconnect(result: Any) -> Any:
            self._registry.client_disconnected(client)
            return result

        def answer(frame: bytes) -> None:
            request.write(_json_body(request, reply_status(frame), frame))
            request.finish()

        def timed_out(failure: Failure) -> None:
            if failure.check(CancelledError):
                # The caller went away.
                return
            failure.trap(TimeoutError)
            text = "Service {} did not answer within {} seconds".format(
                name, self._options.timeout
            )
            request.write(self._refuse(request, 504, text))
            request.finish()

        reply.addTimeout(self._options.timeout, self._reactor)
        reply.addBoth(disconnect)
        reply.addCallbacks(answer, timed_out)
        finished: Deferred = request.notifyFinish()  # type: ignore[attr-defined]
        finished.addErrback(lambda _: reply.cancel())
        return NOT_DONE_YET


def backend_resource(
    registry: "ServiceRegistry", options: BackendOptions, reactor: Any = None
) -> IResource:
    """
    The ``twisted.web`` resource of the backend API for *registry*. It
    answers at its own root: mount it with ``root.putChild(b"backend",
    backend_resource(...))`` to serve ``POST /backend``.

    :param registry: the (private) :class:`~snorky.ServiceRegistry` to serve.
    :param options: the key and limits.
    :param reactor: for the answer timeout; the global reactor when
        ``None``.
    """
    return _BackendResource(registry, options, reactor)
