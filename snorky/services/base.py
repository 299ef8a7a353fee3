"""`Service` and `RPCService`: the base classes of every Snorky service."""

import functools
import inspect
import time
from typing import Any, Callable, Dict, Iterable, Optional, TypeVar

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from snorky.client import Client, send_to_clients
from snorky.envelopes import encode
from snorky.loglimit import LogLimiter

__all__ = [
    "Service",
    "RPCService",
    "RPCError",
    "Request",
    "rpc_command",
    "rpc_asynchronous",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The clock of :attr:`Request.started`.
_now = time.perf_counter


class _Params:
    """
    Which keyword parameters a command accepts, to check a call's params
    without ``Signature.bind`` (a tenth of each RPC call). Signatures
    this does not cover (fewer leading positional parameters than the
    call passes, or positional-only ones after them) fall back to
    ``bind``.
    """

    def __init__(self, function: Callable[..., Any], leading: int) -> None:
        self.signature = inspect.signature(function)
        self.simple = True
        self.allowed: Optional[frozenset] = frozenset()
        required = []
        allowed = []
        parameters = list(self.signature.parameters.values())
        first, rest = parameters[:leading], parameters[leading:]
        positional = (inspect.Parameter.POSITIONAL_ONLY,
                      inspect.Parameter.POSITIONAL_OR_KEYWORD)
        if len(first) < leading or any(p.kind not in positional for p in first):
            self.simple = False
        # A leading parameter's name given as a keyword too is an error.
        self.forbidden = frozenset(
            p.name for p in first if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        )
        for p in rest:
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                self.allowed = None
            elif p.kind is inspect.Parameter.POSITIONAL_ONLY:
                self.simple = False
            elif p.kind is not inspect.Parameter.VAR_POSITIONAL:
                allowed.append(p.name)
                if p.default is inspect.Parameter.empty:
                    required.append(p.name)
        if self.allowed is not None:
            self.allowed = frozenset(allowed)
        self.required = frozenset(required)

    def accept(self, params: Dict[str, Any], *leading: Any) -> bool:
        """
        Whether the command can be called with *leading* and *params*.
        """
        if not self.simple:
            try:
                self.signature.bind(*leading, **params)
            except TypeError:
                return False
            return True
        names = params.keys()
        if self.allowed is not None and not names <= self.allowed:
            return False
        return self.required <= names and self.forbidden.isdisjoint(names)


@functools.lru_cache(maxsize=1024)
def _params(function: Callable[..., Any], leading: int) -> _Params:
    # Commands are few: each signature is read once.
    return _Params(function, leading)


class Service:
    """
    A named service. Subclasses override :meth:`process_message_from` and
    the connect/disconnect hooks, and push with :meth:`send_message_to`.
    """

    #: Rate limit of this service's failure logs (tracebacks), so that a
    #: client repeating a failing call cannot flood the log. The registry
    #: the service joins gives it its own, which runs on the registry's
    #: clock; a service used alone makes one on the global reactor.
    log_limiter: Optional[LogLimiter] = None
    #: A service for trusted callers only (the application's servers):
    #: ports serve it only behind the backend key (``http``).
    private = False
    #: Messages sent to clients so far (read by :mod:`snorky.ops`).
    messages_sent = 0

    def __init__(self, name: str) -> None:
        self.name = name

    def may_log_failure(self) -> bool:
        """
        Whether one more failure may be logged now (see :attr:`log_limiter`).
        """
        if self.log_limiter is None:
            self.log_limiter = LogLimiter()
        return self.log_limiter.allow()

    def process_message_from(self, client: Client, msg: Any) -> None:
        """
        Handle one message from *client*.
        """

    def client_connected(self, client: Client) -> None:
        """
        Called once when *client* connects to this service's registry.
        """

    def client_disconnected(self, client: Client) -> None:
        """
        Called once when *client* disconnects; forget everything about it.
        """

    def send_message_to(self, client: Client, msg: Any) -> None:
        """
        Send *msg* from this service to *client*.
        """
        self.messages_sent += 1
        client.send({"service": self.name, "message": msg})

    def encode_message(self, msg: Any) -> bytes:
        """
        The envelope that carries *msg* from this service, encoded once to
        go to several clients (:meth:`Client.send_encoded`) or to be kept.
        """
        return encode({"service": self.name, "message": msg})

    def send_message_to_clients(self, clients: Iterable[Client], msg: Any) -> None:
        """
        Send *msg* to many clients, encoding it only once.
        """
        clients = list(clients)
        self.messages_sent += len(clients)
        send_to_clients(clients, {"service": self.name, "message": msg})


class RPCError(Exception):
    """
    Raised by a command to answer the caller with an error text.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def rpc_command(method: Any = None, *, name: Optional[str] = None) -> Any:
    """
    Mark a method of an :class:`RPCService` as a command callable by
    clients. It takes ``(self, req, **params)``; what it returns (a value,
    a ``Deferred``, or a coroutine) becomes the response.

    Use it bare (the command is the method's name) or as
    ``@rpc_command(name="publish")`` when the command's name is taken by
    another method.
    """

    def mark(method: F) -> F:
        method.rpc_command = name or method.__name__  # type: ignore[attr-defined]
        return method

    return mark if method is None else mark(method)


def rpc_asynchronous(method: F) -> F:
    """
    Mark a command that answers later through ``req.reply`` or
    ``req.error``; its return value is ignored. Use it above or instead of
    ``@rpc_command``. It may be ``async def`` or return a ``Deferred``: if
    that fails before the request is answered, the caller gets the error.
    """
    if not getattr(method, "rpc_command", None):
        method = rpc_command(method)
    method.rpc_asynchronous = True  # type: ignore[attr-defined]
    return method


class Request:
    """
    One call of an RPC command, resolved exactly once by :meth:`reply` or
    :meth:`error`.

    :ivar client: the calling :class:`~snorky.Client`.
    :ivar command: the command name.
    :ivar params: the parameters, a dict.
    :ivar call_id: the caller's ``callId``, or ``None``.
    :ivar started: when the call arrived (``time.perf_counter``).
    """

    log = Logger()

    def __init__(
        self,
        service: Service,
        client: Client,
        command: Optional[str],
        params: Dict[str, Any],
        call_id: Any,
    ) -> None:
        self.service = service
        self.client = client
        self.command = command
        self.params = params
        self.call_id = call_id
        self.resolved = False
        self.started = _now()

    def _resolve(self, error: Optional[str] = None) -> None:
        if self.resolved:
            raise RuntimeError("Request already resolved")
        self.resolved = True
        observer = getattr(self.service, "rpc_observer", None)
        if observer is not None:
            observer(self, error)

    def reply(self, data: Any = None) -> None:
        """
        Answer with *data*; data that is not JSON-able becomes an
        ``Internal error``.
        """
        self._resolve()
        try:
            self.service.send_message_to(
                self.client,
                {"type": "response", "callId": self.call_id, "data": data},
            )
        except (TypeError, ValueError):
            if self.service.may_log_failure():
                self.log.failure(
                    "Command {command} of {service} answered data that is not JSON",
                    command=self.command,
                    service=self.service.name,
                )
            self._send_error("Internal error")

    def error(self, message: str) -> None:
        """
        Answer with an error text.
        """
        self._resolve(str(message))
        self._send_error(message)

    def _send_error(self, message: str) -> None:
        self.service.send_message_to(
            self.client,
            {"type": "error", "callId": self.call_id, "message": str(message)},
        )


class RPCService(Service):
    """
    A service whose messages are calls of ``@rpc_command`` methods:
    ``{"command", "params", "callId"}`` in, ``response`` or ``error`` out.
    """

    log = Logger()

    #: Told ``(request, error text or None)`` as each call is answered;
    #: set by :mod:`snorky.ops` to count and time calls.
    rpc_observer: Optional[Callable[[Request, Optional[str]], None]] = None

    #: Command name to method name, gathered from the class's methods.
    rpc_commands: Dict[str, str] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        commands = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                command = getattr(value, "rpc_command", None)
                if isinstance(command, str):
                    commands[command] = attr
        cls.rpc_commands = commands

    def process_message_from(self, client: Client, msg: Any) -> None:
        call_id = msg.get("callId") if isinstance(msg, dict) else None
        if not isinstance(msg, dict) or not isinstance(msg.get("command"), str):
            Request(self, client, None, {}, call_id).error("Invalid message")
            return
        params = msg.get("params", {})
        if params is None:
            params = {}
        req = Request(self, client, msg["command"], params, call_id)
        self.call_command(req)

    def call_command(self, req: Request) -> None:
        """
        Run the command that *req* names and resolve *req* with its result.
        """
        attr = self.rpc_commands.get(req.command or "")
        if attr is None:
            req.error("Unknown command")
            return
        method = getattr(self, attr)
        if not isinstance(req.params, dict):
            req.error("Invalid params")
            return
        function = getattr(method, "__func__", None)
        if function is None:
            accepted = _params(method, 1).accept(req.params, req)
        else:
            accepted = _params(function, 2).accept(req.params, self, req)
        if not accepted:
            req.error("Invalid params")
            return
        try:
            result = method(req, **req.params)
        except Exception:
            self._fail(req, Failure())
            return
        if inspect.iscoroutine(result):
            result = ensureDeferred(result)
        if getattr(method, "rpc_asynchronous", False):
            # The command answers through req; only its failure is ours.
            if isinstance(result, Deferred):
                result.addErrback(lambda failure: self._fail(req, failure))
            return
        if isinstance(result, Deferred):
            result.addCallbacks(req.reply, lambda failure: self._fail(req, failure))
        else:
            req.reply(result)

    def _fail(self, req: Request, failure: Failure) -> None:
        if not req.resolved and failure.check(RPCError):
            req.error(failure.value.message)
            return
        if self.may_log_failure():
            self.log.failure(
                "Command {command} of {service} failed",
                failure=failure,
                command=req.command,
                service=self.name,
            )
        # A command that failed after answering has nobody left to tell.
        if not req.resolved:
            req.error("Internal error")
