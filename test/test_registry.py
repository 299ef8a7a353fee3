"""Tests for snorky.registry: ServiceRegistry."""

from typing import Any, List, Tuple

from twisted.internet.task import Clock
from twisted.logger import LogLevel, capturedLogs
from twisted.trial.unittest import TestCase

from snorky import Client, ServiceRegistry, Service
from snorky.loglimit import LogLimiter
from snorky.registry import error_message
from snorky.services.echo import EchoService
from test.helpers import RecordingClient


class HookFailure(Exception):
    """
    Raised by :class:`FailingService` on purpose.
    """


class RecordingService(Service):
    """
    A service that records every hook call and message.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.calls: List[Tuple[str, Any]] = []

    def process_message_from(self, client: Client, msg: Any) -> None:
        self.calls.append(("message", (client, msg)))

    def client_connected(self, client: Client) -> None:
        self.calls.append(("connected", client))

    def client_disconnected(self, client: Client) -> None:
        self.calls.append(("disconnected", client))


class FailingService(Service):
    """
    A service whose every hook raises.
    """

    def process_message_from(self, client: Client, msg: Any) -> None:
        raise HookFailure("message")

    def client_connected(self, client: Client) -> None:
        raise HookFailure("connected")

    def client_disconnected(self, client: Client) -> None:
        raise HookFailure("disconnected")


def dropped_warnings(events: Any) -> List[Any]:
    """
    The "Dropped a frame" warnings among captured log *events*.
    """
    return [
        e
        for e in events
        if e.get("log_level") == LogLevel.warn
        and e.get("log_format", "").startswith("Dropped a frame")
    ]


class RegistrationTests(TestCase):
    """
    Tests for registering and unregistering services.
    """

    def test_services_argument(self) -> None:
        """
        Services given to the constructor are registered under their names.
        """
        a, b = Service("a"), Service("b")
        self.assertEqual(ServiceRegistry([a, b]).services, {"a": a, "b": b})

    def test_empty(self) -> None:
        """
        A registry made without services has none.
        """
        self.assertEqual(ServiceRegistry().services, {})

    def test_register(self) -> None:
        """
        register_service adds a service under its name.
        """
        registry = ServiceRegistry()
        service = Service("a")
        registry.register_service(service)
        self.assertIs(registry.services["a"], service)

    def test_duplicate(self) -> None:
        """
        Registering a second service with a taken name raises and keeps the first.
        """
        first = Service("a")
        registry = ServiceRegistry([first])
        error = self.assertRaises(ValueError, registry.register_service, Service("a"))
        self.assertIn("'a'", str(error))
        self.assertIs(registry.services["a"], first)

    def test_duplicate_in_constructor(self) -> None:
        """
        Two services with one name given to the constructor raise.
        """
        self.assertRaises(ValueError, ServiceRegistry, [Service("a"), Service("a")])

    def test_unregister(self) -> None:
        """
        unregister_service removes a service given it or its name.
        """
        a, b = Service("a"), Service("b")
        registry = ServiceRegistry([a, b])
        registry.unregister_service(a)
        registry.unregister_service("b")
        self.assertEqual(registry.services, {})

    def test_unregister_unknown(self) -> None:
        """
        Unregistering a name that is not registered raises KeyError.
        """
        self.assertRaises(KeyError, ServiceRegistry().unregister_service, "nope")

    def test_unregistered_not_told(self) -> None:
        """
        An unregistered service gets no more messages or connection news.
        """
        service = RecordingService("rec")
        registry = ServiceRegistry([service])
        registry.unregister_service(service)
        client = RecordingClient()
        registry.client_connected(client)
        registry.process_frame(client, b'{"service":"rec","message":1}')
        registry.client_disconnected(client)
        self.assertEqual(service.calls, [])
        self.assertEqual(client.sent[0]["message"]["message"], "Unknown service")

    def test_register_again(self) -> None:
        """
        A name freed by unregister_service can be registered again.
        """
        registry = ServiceRegistry([Service("a")])
        registry.unregister_service("a")
        replacement = Service("a")
        registry.register_service(replacement)
        self.assertIs(registry.services["a"], replacement)


class RoutingTests(TestCase):
    """
    Tests for :meth:`ServiceRegistry.process_frame`.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.service = RecordingService("rec")
        self.registry = ServiceRegistry(
            [self.service, EchoService("echo")], clock=self.clock
        )
        self.client = RecordingClient()

    def test_routes_to_service(self) -> None:
        """
        A valid envelope reaches its service with the client and the message.
        """
        self.registry.process_frame(
            self.client, b'{"service":"rec","message":{"x":[1]}}'
        )
        self.assertEqual(self.service.calls, [("message", (self.client, {"x": [1]}))])

    def test_text_frame(self) -> None:
        """
        A frame given as text is routed like one given as bytes.
        """
        self.registry.process_frame(self.client, '{"service":"echo","message":"é"}')
        self.assertEqual(self.client.sent, [{"service": "echo", "message": "é"}])

    def test_process_message_from(self) -> None:
        """
        process_message_from routes an already decoded message.
        """
        self.registry.process_message_from(self.client, "rec", [2])
        self.assertEqual(self.service.calls, [("message", (self.client, [2]))])

    def assertErrorReply(self, frame: Any, service: Any, text: str) -> None:
        """
        Assert that *frame* is answered with an error envelope and reaches no service.
        """
        client = RecordingClient()
        with capturedLogs() as events:
            self.registry.process_frame(client, frame)
        self.assertEqual(
            client.sent, [{"service": service, "message": error_message(text)}]
        )
        self.assertEqual(self.service.calls, [])
        self.assertEqual(len(dropped_warnings(events)), 1)

    def test_error_message(self) -> None:
        """
        error_message is an error without callId.
        """
        self.assertEqual(error_message("x"), {"type": "error", "message": "x"})

    def test_malformed_json(self) -> None:
        """
        A frame that is not JSON is answered with Invalid JSON from service null.
        """
        self.assertErrorReply(b"{not json", None, "Invalid JSON")

    def test_not_object(self) -> None:
        """
        A JSON frame that is not an object is answered with an error.
        """
        self.assertErrorReply(b"[1,2]", None, "Envelope must be an object")

    def test_missing_service(self) -> None:
        """
        An envelope without a service string is answered with an error.
        """
        self.assertErrorReply(
            b'{"message":1}', None, 'Envelope needs a "service" string'
        )

    def test_missing_message(self) -> None:
        """
        An envelope without a message is answered with an error.
        """
        self.assertErrorReply(b'{"service":"rec"}', None, 'Envelope needs a "message"')

    def test_unknown_service(self) -> None:
        """
        An envelope naming no registered service is answered in that name's envelope.
        """
        self.assertErrorReply(
            b'{"service":"nope","message":1}', "nope", "Unknown service"
        )

    def test_non_finite(self) -> None:
        """
        NaN and Infinity are rejected before reaching a service.
        """
        self.assertErrorReply(
            b'{"service":"rec","message":NaN}', None, "Invalid JSON: NaN is not allowed"
        )
        self.assertErrorReply(
            b'{"service":"rec","message":-Infinity}',
            None,
            "Invalid JSON: -Infinity is not allowed",
        )
        self.assertErrorReply(
            b'{"service":"echo","message":1e999}',
            None,
            "Invalid JSON: number out of range",
        )

    def test_deep_nesting(self) -> None:
        """
        A frame nested too deeply is answered with an error, not a crash.
        """
        self.assertErrorReply(
            b'{"service":"rec","message":' + b"[" * 50000 + b"]" * 50000 + b"}",
            None,
            "Invalid JSON: nested deeper than 128 levels",
        )

    def test_invalid_utf8(self) -> None:
        """
        Bytes that are not UTF-8 are answered with Invalid UTF-8.
        """
        self.assertErrorReply(
            b'{"service":"rec","message":"\xc3\x28"}', None, "Invalid UTF-8"
        )

    def test_lone_surrogate(self) -> None:
        """
        An unpaired surrogate, even in the service name, is answered with an error.
        """
        self.assertErrorReply(
            rb'{"service":"\ud800","message":1}',
            None,
            "Invalid Unicode: unpaired surrogate",
        )

    def test_connection_usable_after_errors(self) -> None:
        """
        After bad frames the same client's good frames are still served.
        """
        for frame in (b"x", b"[]", b'{"service":"nope","message":1}', b"\xff"):
            self.registry.process_frame(self.client, frame)
        self.registry.process_frame(self.client, b'{"service":"echo","message":"ok"}')
        self.assertEqual(self.client.sent[-1], {"service": "echo", "message": "ok"})
        self.assertEqual(len(self.client.sent), 5)

    def test_bad_frame_logs_rate_limited(self) -> None:
        """
        Bad frames are all answered but logged at most ten a minute.
        """
        with capturedLogs() as events:
            for _ in range(25):
                self.registry.process_frame(self.client, b"oops")
            self.clock.advance(60)
            self.registry.process_frame(self.client, b"oops")
        self.assertEqual(len(self.client.sent), 26)
        warnings = dropped_warnings(events)
        self.assertEqual(len(warnings), 11)
        self.assertEqual(warnings[0]["reason"], "Invalid JSON")
        self.assertIs(warnings[0]["client"], self.client)

    def test_service_exception_logged(self) -> None:
        """
        A service raising on a message is logged and the registry keeps serving.
        """
        self.registry.register_service(FailingService("bad"))
        with capturedLogs() as events:
            self.registry.process_frame(self.client, b'{"service":"bad","message":1}')
        self.assertEqual(
            [e["log_failure"].value.args for e in events if "log_failure" in e],
            [("message",)],
        )
        self.assertEqual(len(self.flushLoggedErrors(HookFailure)), 1)
        self.registry.process_frame(self.client, b'{"service":"echo","message":2}')
        self.assertEqual(self.client.sent, [{"service": "echo", "message": 2}])

    def test_service_exception_logs_rate_limited(self) -> None:
        """
        A service failing on 2,000 frames is logged ten times a minute, not
        2,000 times, and logging resumes in the next minute.
        """
        self.registry.register_service(FailingService("bad"))
        with capturedLogs() as events:
            for _ in range(2000):
                self.registry.process_frame(self.client, b'{"service":"bad","message":1}')
            self.clock.advance(60)
            self.registry.process_frame(self.client, b'{"service":"bad","message":1}')
        self.assertEqual(len([e for e in events if "log_failure" in e]), 11)
        self.assertEqual(len(self.flushLoggedErrors(HookFailure)), 11)

    def test_failure_limit_shared_with_services(self) -> None:
        """
        A registered service logs its failures under the registry's limit,
        which runs on the registry's clock; one with its own keeps it.
        """
        service, own = Service("a"), Service("b")
        own.log_limiter = LogLimiter(Clock(), burst=1)
        self.registry.register_service(service)
        self.registry.register_service(own)
        self.assertEqual([service.may_log_failure() for _ in range(11)][-2:], [True, False])
        self.clock.advance(60)
        self.assertTrue(service.may_log_failure())
        self.assertEqual([own.may_log_failure() for _ in range(2)], [True, False])

    def test_disconnected_client_gets_nothing(self) -> None:
        """
        Answers to a client that has disconnected are dropped quietly.
        """
        self.registry.client_disconnected(self.client)
        self.registry.process_frame(self.client, b'{"service":"echo","message":1}')
        self.registry.process_frame(self.client, b"bad")
        self.assertEqual((self.client.sent, self.client.frames_prepared), ([], 0))


class ConnectionTests(TestCase):
    """
    Tests for the connect and disconnect fan-out.
    """

    def test_connect_told_to_all(self) -> None:
        """
        Every service is told of a connect, once.
        """
        a, b = RecordingService("a"), RecordingService("b")
        registry = ServiceRegistry([a, b])
        client = RecordingClient()
        registry.client_connected(client)
        self.assertEqual(
            (a.calls, b.calls), ([("connected", client)], [("connected", client)])
        )

    def test_disconnect_told_to_all(self) -> None:
        """
        Every service is told of a disconnect, once, and the client is marked
        disconnected.
        """
        a, b = RecordingService("a"), RecordingService("b")
        registry = ServiceRegistry([a, b])
        client = RecordingClient()
        registry.client_disconnected(client)
        self.assertFalse(client.connected)
        self.assertEqual(
            (a.calls, b.calls), ([("disconnected", client)], [("disconnected", client)])
        )

    def test_disconnect_exception_logged_others_told(self) -> None:
        """
        A service raising in client_disconnected is logged and later services are still
        told.
        """
        before, after = RecordingService("before"), RecordingService("after")
        registry = ServiceRegistry([before, FailingService("bad"), after])
        client = RecordingClient()
        with capturedLogs() as events:
            registry.client_disconnected(client)
        self.assertEqual(before.calls, [("disconnected", client)])
        self.assertEqual(after.calls, [("disconnected", client)])
        [event] = [e for e in events if "log_failure" in e]
        self.assertEqual(event["method"], "client_disconnected")
        self.assertEqual(event["service"], "bad")
        self.assertIn("client_disconnected", event["log_failure"].getTraceback())
        self.assertEqual(len(self.flushLoggedErrors(HookFailure)), 1)

    def test_connect_exception_logged_others_told(self) -> None:
        """
        A service raising in client_connected is logged and later services are still
        told.
        """
        after = RecordingService("after")
        registry = ServiceRegistry([FailingService("bad"), after])
        client = RecordingClient()
        registry.client_connected(client)
        self.assertEqual(after.calls, [("connected", client)])
        self.assertEqual(len(self.flushLoggedErrors(HookFailure)), 1)

    def test_hook_may_change_registry(self) -> None:
        """
        A service may unregister services while being told of a disconnect.
        """
        registry = ServiceRegistry()

        class Unregistering(RecordingService):
            def client_disconnected(self, client: Client) -> None:
                super().client_disconnected(client)
                registry.unregister_service(self)

        services = [Unregistering("u{}".format(i)) for i in range(3)]
        for service in services:
            registry.register_service(service)
        registry.client_disconnected(RecordingClient())
        self.assertEqual([len(s.calls) for s in services], [1, 1, 1])
        self.assertEqual(registry.services, {})

    def test_many_clients(self) -> None:
        """
        Connecting and disconnecting many clients tells each service about each one.
        """
        service = RecordingService("rec")
        registry = ServiceRegistry([service])
        clients = [RecordingClient() for _ in range(200)]
        for client in clients:
            registry.client_connected(client)
        for client in clients:
            registry.client_disconnected(client)
        self.assertEqual(len(service.calls), 400)
        self.assertEqual([c.connected for c in clients], [False] * 200)
