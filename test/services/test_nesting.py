"""
Tests that every frame the decoder accepts can be answered, on each path
of the default app that sends data back out (echo, pubsub, chat, cursors,
messaging, identity): data as deep as :data:`snorky.envelopes.MAX_DEPTH`
allows is answered and delivered intact, and deeper frames get an error
naming the limit.
"""

import json
from typing import Any, List

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.app import default_app
from snorky.envelopes import MAX_DEPTH
from test.helpers import RecordingClient, nested
from test.wsclient import connect

TOO_DEEP = "Invalid JSON: nested deeper than 128 levels"

# envelope, message, params: three levels above a parameter's value.
DEEPEST_PARAM = nested(MAX_DEPTH - 3)


def command(service: str, command_name: str, /, **params: Any) -> str:
    """
    The frame calling *command_name* of *service* with *params*.
    """
    return json.dumps(
        {"service": service,
         "message": {"command": command_name, "params": params, "callId": 1}}
    )


def deep_frame(service: str, name: str, param: str, depth: int = 950) -> str:
    """
    A frame calling *name* with *param* nested *depth* levels, written as
    text because the standard encoder cannot write it.
    """
    return (
        '{"service":"%s","message":{"command":"%s","callId":1,"params":{"%s":'
        % (service, name, param)
        + "[" * depth + "]" * depth + "}}}"
    )


class NestingTests(TestCase):
    """
    Frames at and beyond the depth limit on every built-in path.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        app = default_app(reactor=self.clock)
        self.frontend, self.backend = app["frontend"], app["backend"]
        self.alice, self.bob = RecordingClient(), RecordingClient()
        for client in (self.alice, self.bob):
            self.frontend.client_connected(client)
            client.identity = "user"

    def send(self, client: RecordingClient, frame: str) -> List[Any]:
        """
        Send *frame* from *client*; return the messages it got.
        """
        self.frontend.process_frame(client, frame)
        return self.take(client)

    def take(self, client: RecordingClient) -> List[Any]:
        """
        The messages *client* got, which are then forgotten.
        """
        got = [e["message"] for e in client.sent]
        client.sent.clear()
        return got

    def assertAnswered(self, client: RecordingClient, frame: str) -> Any:
        """
        Assert that *frame* gets a response; return its data.
        """
        [answer] = [m for m in self.send(client, frame) if "callId" in m]
        self.assertEqual(answer["type"], "response", answer)
        return answer["data"]

    def assertTooDeep(self, client: RecordingClient, frame: str) -> None:
        """
        Assert that *frame* is answered with the depth error only.
        """
        self.assertEqual(
            self.send(client, frame), [{"type": "error", "message": TOO_DEEP}]
        )

    def test_echo(self) -> None:
        """Echo sends back a message as deep as the limit allows."""
        message = nested(MAX_DEPTH - 1)
        frame = json.dumps({"service": "echo", "message": message})
        self.assertEqual(self.send(self.alice, frame), [message])
        self.assertTooDeep(
            self.alice, '{"service":"echo","message":' + "[" * 950 + "]" * 950 + "}"
        )

    def test_pubsub(self) -> None:
        """A deepest channel and message are published and delivered."""
        channel = nested(MAX_DEPTH - 3)
        self.assertAnswered(self.bob, command("pubsub", "subscribe", channel=channel))
        self.assertAnswered(
            self.alice,
            command("pubsub", "publish", channel="c", message=DEEPEST_PARAM),
        )
        self.assertAnswered(self.bob, command("pubsub", "subscribe", channel="c"))
        self.assertAnswered(
            self.alice,
            command("pubsub", "publish", channel="c", message=DEEPEST_PARAM),
        )
        self.assertEqual(
            self.take(self.bob),
            [{"type": "message", "channel": "c", "message": DEEPEST_PARAM}],
        )
        self.assertTooDeep(self.alice, deep_frame("pubsub", "publish", "message"))
        self.assertTooDeep(self.alice, deep_frame("pubsub", "subscribe", "channel"))

    def test_chat_join(self) -> None:
        """
        A deepest identity, authorized by the backend, is answered in a
        join's member list one level deeper than it came in.
        """
        app = RecordingClient()
        self.backend.process_frame(
            app, command("identity_backend", "authorizeIdentity", identity=DEEPEST_PARAM)
        )
        token = app.pop()["message"]["data"]
        self.assertEqual(
            self.assertAnswered(self.alice, command("identity", "authenticate", token=token)),
            DEEPEST_PARAM,
        )
        self.assertEqual(
            self.assertAnswered(self.alice, command("chat", "join", channel=DEEPEST_PARAM)),
            {"members": [DEEPEST_PARAM]},
        )
        self.assertTooDeep(self.alice, deep_frame("chat", "join", "channel"))
        self.assertTooDeep(self.alice, deep_frame("chat", "send", "body"))

    def test_create_cursor(self) -> None:
        """A deepest cursor position is created and told to the others."""
        for client in (self.alice, self.bob):
            self.assertAnswered(client, command("cursors", "join", document="d"))
        self.assertAnswered(
            self.alice,
            command("cursors", "createCursor", privateHandle=1, document="d",
                    position=DEEPEST_PARAM, status=None),
        )
        [added] = self.take(self.bob)
        self.assertEqual(added["cursor"]["position"], DEEPEST_PARAM)
        self.assertTooDeep(self.alice, deep_frame("cursors", "createCursor", "position"))

    def test_messaging_send(self) -> None:
        """A deepest message body reaches its destination."""
        self.assertAnswered(
            self.alice, command("messaging", "registerParticipant", name="a")
        )
        self.assertAnswered(
            self.bob, command("messaging", "registerParticipant", name="b")
        )
        self.assertAnswered(
            self.alice,
            command("messaging", "send", sender="a", dest="b", body=DEEPEST_PARAM),
        )
        [received] = self.take(self.bob)
        self.assertEqual(received["body"], DEEPEST_PARAM)
        self.assertTooDeep(self.alice, deep_frame("messaging", "send", "body"))


class WebSocketNestingTests(TestCase):
    """
    The same limits through a real WebSocket port, where the stack under
    the encoder is as deep as it gets in production.
    """

    def setUp(self) -> Any:
        from twisted.internet import reactor
        from twisted.internet.endpoints import TCP4ServerEndpoint

        from snorky.transports.websocket import SnorkyWebSocketFactory, WebSocketOptions

        frontend = default_app(reactor=reactor)["frontend"]
        factory = SnorkyWebSocketFactory(frontend, WebSocketOptions(ping_interval=0))
        endpoint = TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
        return endpoint.listen(factory).addCallback(self._listening)

    def _listening(self, port: Any) -> None:
        self.addCleanup(port.stopListening)
        self.url = "ws://127.0.0.1:{}/ws".format(port.getHost().port)

    async def test_every_decoded_frame_answered(self) -> None:
        """
        Over a real socket, the deepest echo and pubsub frames are answered
        and delivered, and a 950-level frame gets the depth error, after
        which the connection still works.
        """
        client = await connect(self.url)
        self.addCleanup(client.close)
        message = nested(MAX_DEPTH - 1)
        client.protocol.sendMessage(
            json.dumps({"service": "echo", "message": message}).encode()
        )
        self.assertEqual((await client.receive())["message"], message)
        self.assertEqual(
            (await client.call("pubsub", "subscribe", channel="c"))["type"], "response"
        )
        answer = await client.call("pubsub", "publish", channel="c", message=DEEPEST_PARAM)
        self.assertEqual(answer["type"], "response")
        notification = await client.next_notification()
        self.assertEqual(notification["message"]["message"], DEEPEST_PARAM)
        for frame in (
            '{"service":"echo","message":' + "[" * 950 + "]" * 950 + "}",
            deep_frame("pubsub", "publish", "message"),
        ):
            client.protocol.sendMessage(frame.encode())
            self.assertEqual(
                (await client.receive())["message"],
                {"type": "error", "message": TOO_DEEP},
            )
        client.protocol.sendMessage(b'{"service":"echo","message":"still here"}')
        self.assertEqual((await client.receive())["message"], "still here")
