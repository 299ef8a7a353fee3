"""Tests for snorky.services.base: Service, RPCService, Request and the decorators."""

from typing import Any, Dict, List, Optional

from twisted.internet.defer import Deferred
from twisted.logger import capturedLogs
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky import (
    Client,
    Request,
    RPCError,
    RPCService,
    Service,
    rpc_asynchronous,
    rpc_command,
)
from snorky.loglimit import LogLimiter
from test.helpers import RecordingClient


class ExampleFailure(Exception):
    """
    The unexpected exception the example commands raise.
    """


class ExampleService(RPCService):
    """
    A service with a command of every kind the framework supports.
    """

    def __init__(self, name: str = "example") -> None:
        super().__init__(name)
        self.pending: List[Request] = []
        self.deferreds: List[Deferred] = []

    def _wait(self) -> Deferred:
        d: Deferred = Deferred()
        self.deferreds.append(d)
        return d

    def helper(self, req: Request) -> str:
        return "not a command"

    @rpc_command
    def add(self, req: Request, a: Any, b: Any) -> Any:
        return a + b

    @rpc_command
    def nothing(self, req: Request) -> None:
        pass

    @rpc_command
    def who(self, req: Request) -> Dict[str, Any]:
        return {
            "identity": req.client.identity,
            "address": req.client.remote_address,
            "command": req.command,
            "params": req.params,
            "callId": req.call_id,
        }

    @rpc_command
    def optional(self, req: Request, a: Any, b: Any = "default") -> List[Any]:
        return [a, b]

    @rpc_command
    def options(self, req: Request, **options: Any) -> List[str]:
        return sorted(options)

    @rpc_command(name="renamed")
    def renamed_method(self, req: Request) -> str:
        return "renamed"

    @rpc_command
    def refuse(self, req: Request, text: str) -> None:
        raise RPCError(text)

    @rpc_command
    def crash(self, req: Request) -> None:
        raise ExampleFailure("crash")

    @rpc_command
    def unencodable(self, req: Request) -> Any:
        return {"set": {1, 2}}

    @rpc_command
    def not_a_number(self, req: Request) -> float:
        return float("nan")

    @rpc_command
    def later(self, req: Request) -> Deferred:
        return self._wait()

    @rpc_command
    async def awaiting(self, req: Request) -> Any:
        return await self._wait()

    @rpc_command
    async def awaiting_refusal(self, req: Request) -> None:
        await self._wait()
        raise RPCError("refused after waiting")

    @rpc_command
    async def awaiting_crash(self, req: Request) -> None:
        await self._wait()
        raise ExampleFailure("crash after waiting")

    @rpc_asynchronous
    def hold(self, req: Request) -> str:
        self.pending.append(req)
        return "ignored"

    @rpc_asynchronous
    def hold_then_crash(self, req: Request) -> None:
        req.reply("answered")
        raise ExampleFailure("crash after answering")

    @rpc_asynchronous
    def hold_and_crash(self, req: Request) -> None:
        raise ExampleFailure("crash before answering")

    @rpc_asynchronous
    async def hold_async(self, req: Request) -> None:
        req.reply(await self._wait())

    @rpc_asynchronous
    async def hold_async_crash(self, req: Request) -> None:
        await self._wait()
        raise ExampleFailure("crash while holding")

    @rpc_asynchronous
    @rpc_command(name="held")
    def held_method(self, req: Request) -> None:
        self.pending.append(req)

    @rpc_command
    def answer_twice(self, req: Request) -> str:
        req.reply("first")
        return "second"


def failures_of(events: List[Dict[str, Any]], kind: type) -> List[Any]:
    """
    The failures of type *kind* among captured log *events*.
    """
    return [
        e["log_failure"]
        for e in events
        if "log_failure" in e and e["log_failure"].check(kind)
    ]


class RPCTestMixin:
    """
    Sets up an :class:`ExampleService` and a client, and calls commands.
    """

    def setUp(self) -> None:
        self.service = ExampleService()
        self.client = RecordingClient("10.0.0.7")

    def send(self, msg: Any) -> None:
        self.service.process_message_from(self.client, msg)

    def call(
        self, command: str, params: Optional[Any] = None, call_id: Any = 1
    ) -> None:
        msg: Dict[str, Any] = {"command": command, "callId": call_id}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def answers(self) -> List[Any]:
        return self.client.messages(self.service.name)

    def only_answer(self) -> Any:
        answers = self.answers()
        self.assertEqual(len(answers), 1, answers)  # type: ignore[attr-defined]
        return answers[0]


class ServiceTests(TestCase):
    """
    Tests for the plain :class:`Service`.
    """

    def test_name(self) -> None:
        """
        A service keeps the name it was given.
        """
        self.assertEqual(Service("things").name, "things")

    def test_send_message_to(self) -> None:
        """
        send_message_to wraps the message in an envelope naming the service.
        """
        client = RecordingClient()
        Service("things").send_message_to(client, {"type": "hello"})
        self.assertEqual(
            client.sent, [{"service": "things", "message": {"type": "hello"}}]
        )

    def test_send_message_to_disconnected(self) -> None:
        """
        Sending to a client that has disconnected writes nothing and raises nothing.
        """
        client = RecordingClient()
        client.connected = False
        Service("things").send_message_to(client, {"type": "hello"})
        self.assertEqual((client.sent, client.frames_prepared), ([], 0))

    def test_send_message_to_clients_encodes_once(self) -> None:
        """
        send_message_to_clients frames the message once for clients of one kind.
        """
        clients = [RecordingClient() for _ in range(5)]
        Service("things").send_message_to_clients(clients, ["hi"])
        self.assertEqual(sum(c.frames_prepared for c in clients), 1)
        for client in clients:
            self.assertEqual(client.sent, [{"service": "things", "message": ["hi"]}])

    def test_send_message_to_clients_one_frame_per_kind(self) -> None:
        """
        send_message_to_clients prepares one frame per frame_key, not per client.
        """

        class OtherClient(RecordingClient):
            pass

        plain = [RecordingClient() for _ in range(3)]
        other = [OtherClient() for _ in range(3)]
        Service("things").send_message_to_clients(plain + other, "hi")
        self.assertEqual(sum(c.frames_prepared for c in plain), 1)
        self.assertEqual(sum(c.frames_prepared for c in other), 1)
        for client in plain + other:
            self.assertEqual(client.messages("things"), ["hi"])

    def test_send_message_to_clients_skips_disconnected(self) -> None:
        """
        send_message_to_clients leaves out clients that have disconnected.
        """
        gone, there = RecordingClient(), RecordingClient()
        gone.connected = False
        Service("things").send_message_to_clients([gone, there], 1)
        self.assertEqual((gone.sent, there.messages("things")), ([], [1]))

    def test_encode_message(self) -> None:
        """
        encode_message gives the envelope's bytes, which reach clients as the message.
        """
        service = Service("things")
        data = service.encode_message({"n": 1})
        self.assertIsInstance(data, bytes)
        client = RecordingClient()
        client.send_encoded(data)
        self.assertEqual(client.messages("things"), [{"n": 1}])

    def test_hooks_do_nothing(self) -> None:
        """
        The base hooks accept a client and a message and send nothing.
        """
        service = Service("things")
        client = RecordingClient()
        service.client_connected(client)
        service.process_message_from(client, {"any": "thing"})
        service.client_disconnected(client)
        self.assertEqual(client.sent, [])


class RPCErrorTests(TestCase):
    """
    Tests for :class:`RPCError`.
    """

    def test_message(self) -> None:
        """
        An RPCError keeps its text as message and as str().
        """
        error = RPCError("No such room")
        self.assertEqual((error.message, str(error)), ("No such room", "No such room"))


class RpcCommandTests(TestCase):
    """
    Tests for the gathering of commands by :func:`rpc_command`.
    """

    def test_commands_gathered(self) -> None:
        """
        rpc_commands maps each command name to its method's name, and only commands.
        """
        commands = ExampleService.rpc_commands
        self.assertEqual(commands["add"], "add")
        self.assertEqual(commands["renamed"], "renamed_method")
        self.assertEqual(commands["held"], "held_method")
        self.assertNotIn("helper", commands)
        self.assertNotIn("renamed_method", commands)
        self.assertNotIn("process_message_from", commands)

    def test_bare_and_named(self) -> None:
        """
        rpc_command marks a method bare or with name= and returns the same function.
        """

        def method(self: Any, req: Request) -> None:
            pass

        self.assertIs(rpc_command(method), method)
        self.assertEqual(method.rpc_command, "method")  # type: ignore[attr-defined]
        self.assertIs(rpc_command(name="other")(method), method)
        self.assertEqual(method.rpc_command, "other")  # type: ignore[attr-defined]

    def test_inherited(self) -> None:
        """
        A subclass inherits its parent's commands and adds its own, without changing the
        parent.
        """

        class Child(ExampleService):
            @rpc_command
            def extra(self, req: Request) -> str:
                return "extra"

        self.assertIn("add", Child.rpc_commands)
        self.assertIn("extra", Child.rpc_commands)
        self.assertNotIn("extra", ExampleService.rpc_commands)

    def test_override_keeps_command(self) -> None:
        """
        A subclass that overrides a command's method runs the override.
        """

        class Child(ExampleService):
            def add(self, req: Request, a: Any, b: Any) -> Any:
                return "overridden"

        client = RecordingClient()
        Child("child").process_message_from(
            client, {"command": "add", "params": {"a": 1, "b": 2}}
        )
        self.assertEqual(client.messages("child")[0]["data"], "overridden")

    def test_asynchronous_marks_command(self) -> None:
        """
        rpc_asynchronous alone makes a method a command too.
        """
        self.assertEqual(ExampleService.rpc_commands["hold"], "hold")
        self.assertTrue(ExampleService.hold.rpc_asynchronous)  # type: ignore[attr-defined]


class RPCServiceTests(RPCTestMixin, TestCase):
    """
    Tests for how :class:`RPCService` answers requests.
    """

    def test_response(self) -> None:
        """
        A command's return value is the data of a response carrying the callId.
        """
        self.call("add", {"a": 2, "b": 3}, call_id=7)
        self.assertEqual(
            self.client.sent,
            [
                {
                    "service": "example",
                    "message": {"type": "response", "callId": 7, "data": 5},
                }
            ],
        )

    def test_none_is_null(self) -> None:
        """
        A command that returns None answers with data null.
        """
        self.call("nothing")
        self.assertEqual(
            self.only_answer(), {"type": "response", "callId": 1, "data": None}
        )

    def test_call_id_echoed_as_is(self) -> None:
        """
        Any JSON callId comes back unchanged.
        """
        for call_id in ("abc", 0, [1, {"x": 2}], 2**60):
            self.call("nothing", call_id=call_id)
        self.assertEqual(
            [a["callId"] for a in self.answers()], ["abc", 0, [1, {"x": 2}], 2**60]
        )

    def test_call_id_missing(self) -> None:
        """
        Without a callId, the response carries callId null.
        """
        self.send({"command": "nothing"})
        self.assertEqual(
            self.only_answer(), {"type": "response", "callId": None, "data": None}
        )

    def test_params_missing_or_null(self) -> None:
        """
        Missing or null params call a command that takes none.
        """
        self.send({"command": "nothing", "callId": 1})
        self.send({"command": "nothing", "params": None, "callId": 2})
        self.assertEqual([a["type"] for a in self.answers()], ["response", "response"])

    def test_request_fields(self) -> None:
        """
        The command sees the client, its identity and address, its name, params and
        callId.
        """
        self.client.identity = {"user": "ada"}
        self.call("who", {}, call_id="c1")
        self.assertEqual(
            self.only_answer()["data"],
            {
                "identity": {"user": "ada"},
                "address": "10.0.0.7",
                "command": "who",
                "params": {},
                "callId": "c1",
            },
        )

    def test_renamed(self) -> None:
        """
        A command registered with name= is called by that name.
        """
        self.call("renamed")
        self.assertEqual(self.only_answer()["data"], "renamed")

    def test_default_and_keyword_params(self) -> None:
        """
        Params fill defaults and **keywords like any Python call.
        """
        self.call("optional", {"a": 1})
        self.call("optional", {"a": 1, "b": 2})
        self.call("options", {"x": 1, "y": 2})
        self.assertEqual(
            [a["data"] for a in self.answers()], [[1, "default"], [1, 2], ["x", "y"]]
        )

    def test_unknown_command(self) -> None:
        """
        A name that is no command, including plain methods, the Python name of a renamed
        command and dunders, is an Unknown command.
        """
        names = [
            "nope",
            "",
            "helper",
            "renamed_method",
            "_wait",
            "process_message_from",
            "call_command",
            "__init__",
            "__class__",
            "__dict__",
        ]
        for i, name in enumerate(names):
            self.call(name, {}, call_id=i)
        self.assertEqual(
            self.answers(),
            [
                {"type": "error", "callId": i, "message": "Unknown command"}
                for i in range(len(names))
            ],
        )

    def test_invalid_params(self) -> None:
        """
        Params that don't fit the signature, or are not an object, are Invalid params.
        """
        bad = [
            ("add", {"a": 1}),
            ("add", {"a": 1, "b": 2, "c": 3}),
            ("add", {"a": 1, "b": 2, "req": 3}),
            ("nothing", {"self": 1}),
            ("add", [1, 2]),
            ("add", "a"),
            ("nothing", 5),
            ("nothing", True),
        ]
        for i, (command, params) in enumerate(bad):
            self.call(command, params, call_id=i)
        self.assertEqual(
            self.answers(),
            [
                {"type": "error", "callId": i, "message": "Invalid params"}
                for i in range(len(bad))
            ],
        )

    def test_invalid_message(self) -> None:
        """
        A message that is not an object, or has no string command, is an Invalid
        message.
        """
        for msg in ([1], "add", 3, None, {}, {"command": 5}, {"params": {}}):
            self.send(msg)
        self.assertEqual(
            self.answers(),
            [{"type": "error", "callId": None, "message": "Invalid message"}] * 7,
        )

    def test_invalid_message_keeps_call_id(self) -> None:
        """
        An object without a command still gets its callId back.
        """
        self.send({"callId": 9})
        self.assertEqual(
            self.only_answer(),
            {"type": "error", "callId": 9, "message": "Invalid message"},
        )

    def test_rpc_error(self) -> None:
        """
        RPCError's text becomes the error message, and nothing is logged.
        """
        with capturedLogs() as events:
            self.call("refuse", {"text": "No such room"})
        self.assertEqual(
            self.only_answer(),
            {"type": "error", "callId": 1, "message": "No such room"},
        )
        self.assertEqual(list(events), [])

    def test_internal_error_logged(self) -> None:
        """
        Any other exception answers Internal error and is logged with its traceback.
        """
        with capturedLogs() as events:
            self.call("crash")
        self.assertEqual(
            self.only_answer(),
            {"type": "error", "callId": 1, "message": "Internal error"},
        )
        [failure] = failures_of(events, ExampleFailure)
        self.assertIn("in crash", failure.getTraceback())
        self.assertEqual(len(self.flushLoggedErrors(ExampleFailure)), 1)

    def test_failure_logs_rate_limited(self) -> None:
        """
        2,000 failing calls are all answered Internal error, but only ten
        tracebacks a minute are logged, on the limiter's clock.
        """
        clock = Clock()
        self.service.log_limiter = LogLimiter(clock)
        with capturedLogs() as events:
            for _ in range(2000):
                self.call("crash")
                self.call("unencodable")
            clock.advance(60)
            self.call("crash")
        answers = self.answers()
        self.assertEqual(len(answers), 4001)
        self.assertEqual({a["message"] for a in answers}, {"Internal error"})
        self.assertEqual(len([e for e in events if "log_failure" in e]), 11)
        self.flushLoggedErrors(ExampleFailure, TypeError)

    def test_unencodable_result(self) -> None:
        """
        A result that is not JSON-able (a set, NaN) answers Internal error, logged.
        """
        with capturedLogs() as events:
            self.call("unencodable", call_id=1)
            self.call("not_a_number", call_id=2)
        self.assertEqual(
            self.answers(),
            [
                {"type": "error", "callId": 1, "message": "Internal error"},
                {"type": "error", "callId": 2, "message": "Internal error"},
            ],
        )
        self.assertEqual(len(failures_of(events, TypeError)), 1)
        self.assertEqual(len(failures_of(events, ValueError)), 1)
        self.flushLoggedErrors(TypeError, ValueError)

    def test_too_deep_result(self) -> None:
        """
        A result nested too deeply to encode answers Internal error instead of nothing.
        """
        deep: List[Any] = []
        for _ in range(5000):
            deep = [deep]

        class Deep(RPCService):
            @rpc_command
            def deep(self, req: Request) -> Any:
                return deep

        service = Deep("deep")
        service.process_message_from(self.client, {"command": "deep", "callId": 3})
        self.assertEqual(
            self.client.messages("deep"),
            [{"type": "error", "callId": 3, "message": "Internal error"}],
        )
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)

    def test_resolved_once(self) -> None:
        """
        A command that answers itself and also returns a value leaves one answer and
        raises.
        """
        self.assertRaises(RuntimeError, self.call, "answer_twice")
        self.assertEqual(self.only_answer()["data"], "first")

    def test_disconnected_client(self) -> None:
        """
        A command called for a client that has gone runs and writes nothing.
        """
        self.client.connected = False
        self.call("add", {"a": 1, "b": 1})
        self.assertEqual((self.client.sent, self.client.frames_prepared), ([], 0))


class DeferredCommandTests(RPCTestMixin, TestCase):
    """
    Tests for commands that return a Deferred or are ``async def``.
    """

    def test_deferred_success(self) -> None:
        """
        A Deferred's result is the response, sent when it fires.
        """
        self.call("later", call_id=4)
        self.assertEqual(self.answers(), [])
        self.service.deferreds[0].callback({"late": True})
        self.assertEqual(
            self.only_answer(),
            {"type": "response", "callId": 4, "data": {"late": True}},
        )

    def test_deferred_rpc_error(self) -> None:
        """
        A Deferred that fails with RPCError answers its text.
        """
        self.call("later")
        self.service.deferreds[0].errback(RPCError("Too late"))
        self.assertEqual(self.only_answer()["message"], "Too late")

    def test_deferred_failure(self) -> None:
        """
        A Deferred that fails otherwise answers Internal error and is logged.
        """
        self.call("later")
        self.service.deferreds[0].errback(ExampleFailure("boom"))
        self.assertEqual(self.only_answer()["message"], "Internal error")
        self.assertEqual(len(self.flushLoggedErrors(ExampleFailure)), 1)

    def test_async_success(self) -> None:
        """
        An async def command answers with what it returns once it finishes.
        """
        self.call("awaiting", call_id=5)
        self.assertEqual(self.answers(), [])
        self.service.deferreds[0].callback([1, 2])
        self.assertEqual(
            self.only_answer(), {"type": "response", "callId": 5, "data": [1, 2]}
        )

    def test_async_rpc_error(self) -> None:
        """
        An async def command that raises RPCError answers its text.
        """
        self.call("awaiting_refusal")
        self.service.deferreds[0].callback(None)
        self.assertEqual(self.only_answer()["message"], "refused after waiting")

    def test_async_exception(self) -> None:
        """
        An async def command that raises anything else answers Internal error, logged
        with traceback.
        """
        with capturedLogs() as events:
            self.call("awaiting_crash")
            self.service.deferreds[0].callback(None)
        self.assertEqual(self.only_answer()["message"], "Internal error")
        [failure] = failures_of(events, ExampleFailure)
        self.assertIn("awaiting_crash", failure.getTraceback())
        self.flushLoggedErrors(ExampleFailure)

    def test_client_gone_before_answer(self) -> None:
        """
        A late answer to a client that disconnected meanwhile is dropped quietly.
        """
        self.call("later")
        self.client.connected = False
        self.service.deferreds[0].callback("late")
        self.assertEqual(self.client.sent, [])


class AsynchronousCommandTests(RPCTestMixin, TestCase):
    """
    Tests for ``@rpc_asynchronous`` commands and :class:`Request`.
    """

    def test_reply_later(self) -> None:
        """
        An asynchronous command answers when it calls req.reply, not with its return
        value.
        """
        self.call("hold", call_id=6)
        self.assertEqual(self.answers(), [])
        [req] = self.service.pending
        self.assertFalse(req.resolved)
        req.reply({"ok": 1})
        self.assertTrue(req.resolved)
        self.assertEqual(
            self.only_answer(), {"type": "response", "callId": 6, "data": {"ok": 1}}
        )

    def test_reply_default_null(self) -> None:
        """
        req.reply() without data answers data null.
        """
        self.call("hold")
        self.service.pending[0].reply()
        self.assertEqual(self.only_answer()["data"], None)

    def test_error_later(self) -> None:
        """
        req.error answers with an error carrying the callId.
        """
        self.call("held", call_id=8)
        self.service.pending[0].error("No seats left")
        self.assertEqual(
            self.only_answer(),
            {"type": "error", "callId": 8, "message": "No seats left"},
        )

    def test_resolved_exactly_once(self) -> None:
        """
        After a reply or an error, any further reply or error raises and sends nothing.
        """
        self.call("hold", call_id=1)
        self.call("hold", call_id=2)
        first, second = self.service.pending
        first.reply("yes")
        second.error("no")
        for req in (first, second):
            self.assertRaises(RuntimeError, req.reply, "again")
            self.assertRaises(RuntimeError, req.error, "again")
        self.assertEqual(
            self.answers(),
            [
                {"type": "response", "callId": 1, "data": "yes"},
                {"type": "error", "callId": 2, "message": "no"},
            ],
        )

    def test_reply_unencodable(self) -> None:
        """
        req.reply with data that is not JSON-able answers Internal error, logged.
        """
        self.call("hold")
        self.service.pending[0].reply(object())
        self.assertEqual(self.only_answer()["message"], "Internal error")
        self.assertEqual(len(self.flushLoggedErrors(TypeError)), 1)

    def test_raises_before_answering(self) -> None:
        """
        An asynchronous command that raises before answering answers Internal error.
        """
        self.call("hold_and_crash")
        self.assertEqual(self.only_answer()["message"], "Internal error")
        self.assertEqual(len(self.flushLoggedErrors(ExampleFailure)), 1)

    def test_raises_after_answering(self) -> None:
        """
        An asynchronous command that raises after answering keeps its answer; the
        failure is logged.
        """
        self.call("hold_then_crash")
        self.assertEqual(self.only_answer()["data"], "answered")
        self.assertEqual(len(self.flushLoggedErrors(ExampleFailure)), 1)

    def test_async_def_reply(self) -> None:
        """
        An asynchronous async def command runs and answers through req.reply.
        """
        self.call("hold_async", call_id=2)
        self.assertEqual(self.answers(), [])
        self.service.deferreds[0].callback("awaited")
        self.assertEqual(
            self.only_answer(), {"type": "response", "callId": 2, "data": "awaited"}
        )

    def test_async_def_failure(self) -> None:
        """
        An asynchronous async def command that fails before answering answers Internal
        error.
        """
        self.call("hold_async_crash")
        self.service.deferreds[0].callback(None)
        self.assertEqual(self.only_answer()["message"], "Internal error")
        self.assertEqual(len(self.flushLoggedErrors(ExampleFailure)), 1)

    def test_request_direct(self) -> None:
        """
        A Request built by hand sends its answer through its service to its client.
        """
        written: List[bytes] = []

        class BytesClient(Client):
            def write_frame(self, frame: Any) -> None:
                written.append(frame)

        Request(Service("svc"), BytesClient(), "cmd", {}, 3).reply([1])
        self.assertEqual(
            written,
            [b'{"service":"svc","message":{"type":"response","callId":3,"data":[1]}}'],
        )


class ParamsCheckTests(TestCase):
    """
    The fast check of a call's params agrees with ``Signature.bind``.
    """

    def test_agrees_with_bind(self) -> None:
        """
        For commands of every parameter kind and many params, the check
        accepts exactly what ``Signature.bind`` accepts.
        """
        import inspect

        from snorky.services.base import _Params

        def plain(self: Any, req: Any, a: Any, b: Any = 1) -> None: ...
        def keyword_only(self: Any, req: Any, *, a: Any, b: Any = 1) -> None: ...
        def any_keyword(self: Any, req: Any, a: Any, **rest: Any) -> None: ...
        def star_args(self: Any, req: Any, *args: Any, a: Any = 1) -> None: ...
        def positional_only(self: Any, req: Any, a: Any, /, b: Any = 1) -> None: ...
        def leading_only(self: Any, req: Any, /, **rest: Any) -> None: ...
        def too_few(self: Any) -> None: ...

        param_sets: List[Dict[str, Any]] = [
            {}, {"a": 1}, {"b": 2}, {"a": 1, "b": 2}, {"a": 1, "c": 3},
            {"req": 1}, {"self": 1}, {"a": 1, "req": 1}, {"rest": 1}, {"args": 1},
        ]
        for function in (plain, keyword_only, any_keyword, star_args,
                         positional_only, leading_only, too_few):
            check = _Params(function, 2)
            for params in param_sets:
                try:
                    inspect.signature(function).bind(None, None, **params)
                    expected = True
                except TypeError:
                    expected = False
                self.assertEqual(check.accept(params, None, None), expected,
                                 (function.__name__, params))
