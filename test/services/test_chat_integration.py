"""
Identity, Chat, Messaging and Cursors through real WebSocket connections
on a loopback port.
"""

from typing import Any, List, Tuple

from twisted.internet import reactor
from twisted.internet.defer import ensureDeferred
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.trial.unittest import TestCase

from snorky import ServiceRegistry
from snorky.services.chat import ChatService
from snorky.services.cursors import CursorsService
from snorky.services.identity import IdentityService
from snorky.services.messaging import MessagingService
from snorky.transports.websocket import SnorkyWebSocketFactory, WebSocketOptions
from test.helpers import wait_until
from test.wsclient import WSTestClient, connect

ALICE = {"id": 1, "name": "alice"}
BOB = {"id": 2, "name": "bob"}


class ChatIntegrationTests(TestCase):
    """
    Two connections of one identity and a third of another, through a real
    WebSocket port, with a disconnect in the middle.
    """

    def setUp(self) -> None:
        self.identity = IdentityService("identity")
        self.chat = ChatService("chat")
        self.messaging = MessagingService("messaging")
        self.cursors = CursorsService("cursors")
        registry = ServiceRegistry(
            [self.identity, self.chat, self.messaging, self.cursors]
        )
        self.factory = SnorkyWebSocketFactory(registry, WebSocketOptions(ping_interval=0))
        endpoint = TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
        return endpoint.listen(self.factory).addCallback(self._listening)

    def _listening(self, port: Any) -> None:
        self.addCleanup(port.stopListening)
        self.url = "ws://127.0.0.1:{}/ws".format(port.getHost().port)

    async def call(self, client: WSTestClient, service: str, command: str,
                   **params: Any) -> Tuple[Any, List[Any]]:
        """
        Call a command; return its reply and the notifications that came
        before it (none are thrown away).
        """
        client.send({"service": service,
                     "message": {"command": command, "params": params, "callId": 1}})
        notifications = []
        while True:
            message = (await client.receive())["message"]
            if message["type"] in ("response", "error"):
                return message, notifications
            notifications.append(message)

    async def ok(self, client: WSTestClient, service: str, command: str,
                 **params: Any) -> Any:
        """
        Call a command that must succeed, with no notification before its
        answer; return its data.
        """
        reply, notifications = await self.call(client, service, command, **params)
        self.assertEqual(reply["type"], "response", reply)
        self.assertEqual(notifications, [])
        return reply["data"]

    async def notification(self, client: WSTestClient) -> Any:
        """
        The next message received, which must be a notification.
        """
        message = (await client.receive())["message"]
        self.assertNotIn(message["type"], ("response", "error"), message)
        return message

    async def connect_as(self, identity: Any) -> WSTestClient:
        client = await connect(self.url)
        self.addCleanup(self._close, client)
        token = self.identity.authorize(identity)
        self.assertEqual(await self.ok(client, "identity", "authenticate", token=token),
                         identity)
        return client

    def _close(self, client: WSTestClient) -> Any:
        if not client.closed.called:
            client.close()
        return client.closed

    def test_session(self) -> None:
        """
        Presence is sent once per identity, read reaches only the same
        identity's other connection, and a connection dropped in the middle
        is announced as gone and leaves nothing behind.
        """
        return ensureDeferred(self._session())

    async def _session(self) -> None:
        alice1 = await self.connect_as(ALICE)
        alice2 = await self.connect_as(ALICE)
        bob = await self.connect_as(BOB)

        # A token works once.
        token = self.identity.authorize(BOB)
        await self.ok(bob, "identity", "authenticate", token=token)
        reply, _ = await self.call(alice1, "identity", "authenticate", token=token)
        self.assertEqual(reply["message"], "Invalid token")

        # Chat: presence once per identity.
        self.assertEqual(await self.ok(alice1, "chat", "join", channel="room"),
                         {"members": [ALICE]})
        self.assertEqual(await self.ok(bob, "chat", "join", channel="room"),
                         {"members": [ALICE, BOB]})
        joined = await self.notification(alice1)
        self.assertEqual((joined["type"], joined["from"], joined["status"]),
                         ("presence", BOB, "joined"))
        self.assertEqual(await self.ok(alice2, "chat", "join", channel="room"),
                         {"members": [ALICE, BOB]})

        # Everyone in the room gets a message, the sender included.
        reply, echoed = await self.call(bob, "chat", "send", channel="room", body="hi")
        self.assertEqual([m["body"] for m in echoed], ["hi"])
        for client in (alice1, alice2):
            message = await self.notification(client)
            self.assertEqual((message["from"], message["body"]), (BOB, "hi"))

        # read goes to alice's other connection only.
        await self.ok(alice1, "chat", "read", channel="room")
        self.assertEqual((await self.notification(alice2))["type"], "read")
        # Bob's answers come after anything sent to him earlier; the
        # presence of alice2 and the read must not be among them.
        await self.ok(bob, "messaging", "registerParticipant", name="bob")
        await self.ok(alice2, "messaging", "registerParticipant", name="alice")

        # Messaging reaches the destination only.
        await self.ok(bob, "messaging", "send", sender="bob", dest="alice", body="psst")
        self.assertEqual(await self.notification(alice2),
                         {"type": "message", "sender": "bob", "dest": "alice",
                          "body": "psst"})

        # Cursors carry their owner's identity.
        await self.ok(bob, "cursors", "join", document="doc")
        await self.ok(alice1, "cursors", "join", document="doc")
        public = await self.ok(bob, "cursors", "createCursor", privateHandle=0,
                               document="doc", position=1, status="typing")
        added = await self.notification(alice1)
        self.assertEqual((added["type"], added["cursor"]["publicHandle"],
                          added["cursor"]["owner"]), ("cursorAdded", public, BOB))

        # Bob drops without a closing handshake.
        bob.protocol.transport.abortConnection()
        self.assertEqual(set(map(_kind, [await self.notification(alice1),
                                         await self.notification(alice1)])),
                         {("presence", "left"), ("cursorRemoved", None)})
        left = await self.notification(alice2)
        self.assertEqual((left["from"], left["status"]), (BOB, "left"))
        self.assertEqual(await self.ok(alice1, "messaging", "listParticipants"), ["alice"])
        for identities in self._identities_held():
            self.assertNotIn(BOB, identities)

        # One of alice's connections closing is no news to anyone.
        await alice1.close()
        await wait_until(lambda: len(self.chat.memberships) == 1, "alice1 gone")
        reply, echoed = await self.call(alice2, "chat", "send", channel="room", body="bye")
        self.assertEqual([m["type"] for m in echoed], ["message"])
        self.assertEqual(list(alice2.messages.pending), [])

        await alice2.close()
        await wait_until(lambda: not any(self._identities_held()), "alice2 gone")
        self.assertEqual(self.chat.channels, {})
        self.assertEqual(self.messaging.participants, {})
        self.assertEqual(self.cursors.clients_by_document, {})
        self.assertEqual(self.cursors.cursors_by_document, {})

    def _identities_held(self) -> List[List[Any]]:
        """
        The identities of the clients each per-client table still holds.
        """
        return [
            [c.identity for c in self.chat.memberships],
            [c.identity for c in self.messaging.names_by_client],
            [c.identity for c in self.cursors.documents_by_client],
            [c.identity for c in self.cursors.cursors_by_client],
        ]


def _kind(message: Any) -> Tuple[str, Any]:
    return message["type"], message.get("status")
