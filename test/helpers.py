"""
The fixtures and helpers that tests share: test modules import them from
here, never from each other.
"""

import inspect
import json
import os
import shutil
import socket
import sys
from typing import Any, Callable, List, Optional

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import ProcessProtocol, Protocol
from twisted.internet.task import deferLater
from twisted.python.failure import Failure

from snorky.client import Client
from snorky.reactors import default_reactor
from snorky.registry import ServiceRegistry
from snorky.services.datasync import DataSyncBackend, DataSyncService
from snorky.services.datasync.dealers import (
    BroadcastDealer,
    FilterDealer,
    SimpleDealer,
)

#: The project's root directory.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# -- Waiting -----------------------------------------------------------------


async def wait_until(
    condition: Callable[[], Any],
    what: str = "a condition",
    timeout: float = 5.0,
    interval: float = 0.01,
    clock: Optional[IReactorTime] = None,
    details: Optional[Callable[[], str]] = None,
) -> Any:
    """
    Let the reactor run until *condition()* gives a true value, and
    return that value; the one polling loop of the integration tests.

    :param condition: called every *interval* seconds; it may return an
        awaitable, which is awaited.
    :param what: what is awaited, for the failure's text.
    :param timeout: seconds before the wait fails with AssertionError.
    :param clock: the reactor; the global one when ``None``.
    :param details: called on failure for more text (recent events...).
    """
    clock = default_reactor(clock)
    deadline = clock.seconds() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if clock.seconds() >= deadline:
            extra = "" if details is None else "; " + details()
            raise AssertionError(
                "timed out after {} s waiting for {}{}".format(timeout, what, extra)
            )
        await deferLater(clock, interval, lambda: None)


def nested(depth: int) -> List[Any]:
    """
    A list nested *depth* levels deep (``[]`` is one level).
    """
    value: List[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


class RecordingClient(Client):
    """
    A client that keeps every envelope sent to it, decoded, in
    :attr:`sent`.
    """

    transport_name = "recording"

    def __init__(self, remote_address: str = "127.0.0.1") -> None:
        super().__init__(remote_address)
        self.sent: List[Any] = []
        self.frames_prepared = 0

    def prepare(self, data: bytes) -> Any:
        self.frames_prepared += 1
        return data

    def write_frame(self, frame: Any) -> None:
        self.sent.append(json.loads(frame.decode("utf-8")))

    def messages(self, service: str) -> List[Any]:
        """
        The messages sent to this client by *service*.
        """
        return [e["message"] for e in self.sent if e["service"] == service]

    def pop(self) -> Any:
        """
        Remove and return the oldest envelope sent.
        """
        return self.sent.pop(0)

class ServiceNode:
    """
    One node of a cluster in one process: *service* on its own broker
    (``broker.another_node()`` of a shared in-process broker), in a
    registry of its own, with clients to connect and commands to call.
    """

    def __init__(self, broker: Any, service: Any, clock: Any = None) -> None:
        self.broker = broker
        self.service = service
        service.use_broker(broker)
        self.registry = ServiceRegistry([service], clock=clock or broker.reactor)

    def connect(self, identity: Any = None) -> RecordingClient:
        client = RecordingClient()
        if identity is not None:
            client.identity = identity
        self.registry.client_connected(client)
        return client

    def call(self, client: RecordingClient, command: str, **params: Any) -> Any:
        """
        Call *command* of the service as *client*; returns its answer.
        """
        name = self.service.name
        self.registry.process_message_from(
            client, name, {"command": command, "params": params, "callId": 1}
        )
        return [m for m in client.messages(name) if m.get("callId") == 1][-1]



class ServiceCalls:
    """
    A TestCase mixin calling the RPC commands of the service named
    :attr:`service_name` through :attr:`registry`.
    """

    service_name: str
    registry: Any

    def connect(self, identity: Any = None) -> RecordingClient:
        """
        A new client with *identity*, connected to the registry.
        """
        client = RecordingClient()
        client.identity = identity
        self.registry.client_connected(client)
        return client

    def call(self, client: RecordingClient, command: str, **params: Any) -> Any:
        """
        Call *command* as *client*; return the reply message.
        """
        self.registry.process_message_from(
            client, self.service_name, {"command": command, "params": params, "callId": 1}
        )
        return client.messages(self.service_name)[-1]

    def ok(self, client: RecordingClient, command: str, **params: Any) -> Any:
        """
        Call *command*, assert it succeeded and return its data.
        """
        reply = self.call(client, command, **params)
        self.assertEqual(reply["type"], "response", reply)  # type: ignore[attr-defined]
        return reply["data"]

    def error(self, client: RecordingClient, command: str, **params: Any) -> str:
        """
        Call *command*, assert it failed and return the error text.
        """
        reply = self.call(client, command, **params)
        self.assertEqual(reply["type"], "error", reply)  # type: ignore[attr-defined]
        return reply["message"]


# -- twistd as a subprocess ---------------------------------------------------

#: The backend key the twistd tests give their server.
KEY = "test-backend-key"


def twistd_path() -> Optional[str]:
    """
    The twistd of the Python running the tests (the README's venv).
    """
    beside = os.path.join(os.path.dirname(sys.executable), "twistd")
    return beside if os.path.exists(beside) else shutil.which("twistd")


def free_port() -> int:
    """
    A loopback TCP port that nothing listens on right now.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ProcessOutput(ProcessProtocol):
    """
    Collects a process's output in :attr:`output`; :attr:`ended` fires
    with its exit code, or the signal that ended it if it has none.
    """

    def __init__(self) -> None:
        self.output = b""
        self.ended: Deferred = Deferred()

    def outReceived(self, data: bytes) -> None:
        self.output += data

    errReceived = outReceived

    def processEnded(self, reason: Failure) -> None:
        # twistd ends itself with the signal that stopped it, so a clean
        # stop on SIGTERM has no exit code but the signal.
        code = reason.value.exitCode
        self.ended.callback(reason.value.signal if code is None else code)


def run_twistd(args: List[str], cwd: str = ROOT, pythonpath: bool = True) -> ProcessOutput:
    """
    Start ``twistd -n --pidfile= ARGS``; returns the process protocol.
    """
    from twisted.internet import reactor

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.pop("SNORKY_BACKEND_KEY", None)
    if pythonpath:
        env["PYTHONPATH"] = ROOT
    proto = ProcessOutput()
    twistd = twistd_path()
    assert twistd is not None, "twistd not found"
    proto.transport = reactor.spawnProcess(  # type: ignore[attr-defined]
        proto, twistd, [twistd, "-n", "--pidfile="] + list(args), env=env, path=cwd,
    )
    return proto


async def wait_listening(port: int, proto: ProcessOutput, timeout: float = 20.0) -> None:
    """
    Wait until something accepts connections on 127.0.0.1:*port*; fail at
    once, with its output, if the process *proto* ends first.
    """
    from twisted.internet import reactor

    async def accepts() -> bool:
        if proto.ended.called:
            raise AssertionError("twistd ended early:\n" + proto.output.decode())
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port)
        try:
            connected = await connectProtocol(endpoint, Protocol())
        except Exception:
            return False
        connected.transport.loseConnection()
        return True

    await wait_until(accepts, "a listener on port {}".format(port), timeout, 0.1)


async def wait_ended(proto: ProcessOutput, timeout: float = 15.0) -> Any:
    """
    The exit code (or signal) of *proto*'s process, once it ends.
    """
    from twisted.internet import reactor

    return await proto.ended.addTimeout(timeout, reactor)


# -- The Players example in a browser ------------------------------------------

#: The script that drives the Players page in headless Chromium.
PLAYERS_DRIVER = os.path.join(ROOT, "test", "examples", "players", "browser.js")
#: Seconds the browser run may take before it is killed.
PLAYERS_BROWSER_TIMEOUT = 90.0


class PlayersBrowser(ProcessProtocol):
    """
    Runs the Players browser script: restarts the example when asked
    (*restart* returns an awaitable), collects the output; :attr:`ended`
    fires with the exit code.
    """

    def __init__(self, restart: Callable[[], Any]) -> None:
        self.restart = restart
        self.output: List[bytes] = []
        self.ended: Deferred = Deferred()
        self._buffer = b""

    def outReceived(self, data: bytes) -> None:
        self.output.append(data)
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            if line == b"RESTART":
                ensureDeferred(self.restart()).addCallbacks(
                    lambda _: self.transport.write(b"RESTARTED\n"),
                    lambda f: self.transport.write(
                        "failed: {}\n".format(f.getErrorMessage()).encode("utf-8")
                    ),
                )

    def errReceived(self, data: bytes) -> None:
        self.output.append(data)

    def processEnded(self, reason: Failure) -> None:
        self.ended.callback(reason.value.exitCode)


# -- DataSync ----------------------------------------------------------------


class AllPlayers(BroadcastDealer):
    model = "Player"


class PlayerById(SimpleDealer):
    model = "Player"
    key = "id"


class Players(FilterDealer):
    model = "Player"


class AllTeams(BroadcastDealer):
    model = "Team"


def insert(data: Any, model: str = "Player") -> Any:
    """
    The wire form of an insert delta.
    """
    return {"type": "insert", "model": model, "data": data}


def delete(data: Any, model: str = "Player") -> Any:
    """
    The wire form of a delete delta.
    """
    return {"type": "delete", "model": model, "data": data}


def update(old: Any, new: Any, model: str = "Player") -> Any:
    """
    The wire form of an update delta.
    """
    return {"type": "update", "model": model, "oldData": old, "newData": new}


class Harness:
    """
    A frontend and a backend registry holding DataSync, a backend client
    (the application) and helpers to drive them by RPC, on a Clock.
    """

    def __init__(self, dealers: Any = (AllPlayers, PlayerById, Players, AllTeams),
                 timeout_interval: float = 120, **options: Any) -> None:
        from twisted.internet.task import Clock

        self.clock = Clock()
        self.frontend = DataSyncService(
            "datasync", dealers, reactor=self.clock, **options
        )
        self.backend = DataSyncBackend(
            "datasync_backend", self.frontend, timeout_interval=timeout_interval
        )
        self.front = ServiceRegistry([self.frontend], clock=self.clock)
        self.back = ServiceRegistry([self.backend], clock=self.clock)
        self.app = RecordingClient()
        self.back.client_connected(self.app)
        self._call_id = 0

    def browser(self):
        """
        A new connected browser.
        """
        client = RecordingClient()
        self.front.client_connected(client)
        return client

    def disconnect(self, client):
        self.front.client_disconnected(client)

    def call(self, registry, client, service, command, **params):
        """
        Call *command* and return its response or error message; other
        messages sent meanwhile stay in ``client.sent``.
        """
        self._call_id += 1
        frame = {"command": command, "params": params, "callId": self._call_id}
        registry.process_frame(
            client, json.dumps({"service": service, "message": frame})
        )
        for index, envelope in enumerate(client.sent):
            message = envelope["message"]
            if message.get("callId") == self._call_id:
                del client.sent[index]
                return message
        raise AssertionError("no answer to {}".format(command))

    def backend_call(self, command, **params):
        return self.call(self.back, self.app, "datasync_backend", command, **params)

    def authorize(self, *items):
        """
        Authorize ``(dealer, query)`` pairs and return the token.
        """
        answer = self.backend_call(
            "authorizeSubscription",
            items=[{"dealer": dealer, "query": query} for dealer, query in items],
        )
        assert answer["type"] == "response", answer
        return answer["data"]

    def publish(self, *deltas):
        answer = self.backend_call("publishDeltas", deltas=list(deltas))
        assert answer == {"type": "response", "callId": self._call_id, "data": None}
        return answer

    def acquire(self, client, token, **params):
        return self.call(
            self.front, client, "datasync", "acquireSubscription", token=token, **params
        )

    def cancel(self, client, token):
        return self.call(self.front, client, "datasync", "cancelSubscription", token=token)

    def subscribe(self, client, *items):
        """
        Authorize and acquire; return the token.
        """
        token = self.authorize(*items)
        assert self.acquire(client, token)["type"] == "response"
        return token

    @staticmethod
    def deltas(client):
        """
        The deltas received by *client* so far, which are then forgotten.
        """
        received = [e["message"] for e in client.sent]
        client.sent.clear()
        assert all(m["type"] == "delta" for m in received), received
        return [m["delta"] for m in received]

    def assert_empty(self, case):
        """
        Check that no table of the service or of its dealers holds anything
        and no timer is pending.
        """
        case.assertEqual(self.frontend.subscriptions, {})
        case.assertEqual(self.frontend.subscriptions_by_client, {})
        for dealer in self.frontend.dealers.values():
            case.assertEqual(dealer.item_count(), 0, dealer)
        for dealer in self.frontend.dealers.values():
            if isinstance(dealer, BroadcastDealer):
                case.assertEqual(dealer.items, set())
            if isinstance(dealer, SimpleDealer):
                case.assertEqual(dealer.items_by_key, {})
            if isinstance(dealer, FilterDealer):
                case.assertEqual((dealer.fields, dealer.unindexed), ({}, {}))
        case.assertEqual(self.clock.getDelayedCalls(), [])
