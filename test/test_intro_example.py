"""
The introductory example of Snorky's product description, ``MyChatService``,
exactly as written there (in ``examples/intro_chat.py``) and importing
from ``snorky``, driven through a
:class:`~snorky.ServiceRegistry`.
"""

import inspect
import json
import os
import textwrap

from twisted.logger import capturedLogs
from twisted.trial.unittest import TestCase

from examples.intro_chat import MyChatService
from snorky import ServiceRegistry
from snorky.services.pubsub import PubSubService
from test.helpers import RecordingClient


class IntroExampleTests(TestCase):
    """
    Tests that the introductory ``MyChatService`` works as described.
    """

    def setUp(self) -> None:
        self.chat = MyChatService("chat")
        self.pubsub = PubSubService("pubsub")
        self.registry = ServiceRegistry([self.chat, self.pubsub])
        self.alice, self.bob, self.carol = (RecordingClient() for _ in range(3))
        for client in (self.alice, self.bob, self.carol):
            self.registry.client_connected(client)

    def call(
        self, client: RecordingClient, command: str, params: dict, call_id: int
    ) -> None:
        """
        Send *client*'s call of a chat command as a wire frame.
        """
        message = {"command": command, "params": params, "callId": call_id}
        self.registry.process_frame(
            client, json.dumps({"service": "chat", "message": message}).encode("utf-8")
        )

    def test_join(self) -> None:
        """
        join answers with data null and adds the client to the chat.
        """
        self.call(self.alice, "join", {}, 1)
        self.assertEqual(
            self.alice.sent,
            [
                {
                    "service": "chat",
                    "message": {"type": "response", "callId": 1, "data": None},
                }
            ],
        )
        self.assertEqual(self.chat.clients, {self.alice})

    def test_send_message(self) -> None:
        """
        send_message reaches every client that joined, the sender included, and no one
        else.
        """
        self.call(self.alice, "join", {}, 1)
        self.call(self.bob, "join", {}, 1)
        self.call(self.carol, "send_message", {"body": "hello"}, 2)
        note = {"type": "chatMessage", "body": "hello"}
        self.assertEqual(self.alice.messages("chat")[1:], [note])
        self.assertEqual(self.bob.messages("chat")[1:], [note])
        self.assertEqual(
            self.carol.messages("chat"),
            [{"type": "response", "callId": 2, "data": None}],
        )

    def test_send_message_without_body(self) -> None:
        """
        send_message without its body param is Invalid params.
        """
        self.call(self.alice, "send_message", {}, 3)
        self.assertEqual(
            self.alice.messages("chat"),
            [{"type": "error", "callId": 3, "message": "Invalid params"}],
        )

    def test_joined_client_leaves(self) -> None:
        """
        A client that joined and disconnects no longer gets messages.
        """
        self.call(self.alice, "join", {}, 1)
        self.call(self.bob, "join", {}, 1)
        self.registry.client_disconnected(self.alice)
        self.call(self.bob, "send_message", {"body": "still here?"}, 2)
        self.assertEqual(self.chat.clients, {self.bob})
        self.assertEqual(len(self.alice.sent), 1)

    def test_disconnect_without_joining(self) -> None:
        """
        A client that never joined disconnects: nothing is logged as failed,
        other services are told and the chat keeps serving.
        """
        self.registry.process_frame(
            self.carol,
            b'{"service":"pubsub","message":{"command":"subscribe","params":{"channel":"c"}}}',
        )
        with capturedLogs() as events:
            self.registry.client_disconnected(self.carol)
        self.assertEqual([e for e in events if "log_failure" in e], [])
        # PubSub comes after the chat service and was still told.
        self.assertEqual(self.pubsub.channels_by_client, {})
        self.assertEqual(self.pubsub.subscribers, {})
        self.call(self.alice, "join", {}, 1)
        self.call(self.alice, "send_message", {"body": "after"}, 2)
        self.assertEqual(
            self.alice.messages("chat")[1], {"type": "chatMessage", "body": "after"}
        )


class ReadmeTests(TestCase):
    """
    The README shows the introductory example as it is in the repository.
    """

    def test_readme_shows_the_example(self) -> None:
        """
        The class in the README's "A service" block is examples/intro_chat.py's
        MyChatService, character for character.
        """
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        with open(os.path.join(root, "README.rst"), encoding="utf-8") as f:
            readme = f.read()
        section = readme[readme.index("\nA service\n"):]
        block = section[section.index("::\n\n") + 4:section.index("\n\nThe documentation")]
        code = textwrap.dedent(block)
        self.assertIn("from snorky import RPCService, rpc_command\n", code)
        self.assertEqual(
            code[code.index("class MyChatService"):], inspect.getsource(MyChatService).rstrip()
        )
