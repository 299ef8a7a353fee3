"""
Identity, Chat, Messaging and Cursors across two real ``twistd snorky``
nodes sharing a real ``redis-server``, with browsers on WebSocket.
"""

import subprocess
import time
from typing import Any, List

from twisted.trial.unittest import TestCase

from test.cluster import Cluster, Node
from test.wsclient import WSTestClient, connect

ALICE = {"id": 1, "name": "alice"}
BOB = {"id": 2, "name": "bob"}

#: Dead nodes are noticed within this many seconds.
NODE_TIMEOUT = 2


async def browser(node: Node, identity: Any = None) -> WSTestClient:
    """
    A WebSocket connection to *node*, authenticated as *identity* through
    a token authorized on the same node's backend.
    """
    client = await connect(node.ws_url)
    if identity is not None:
        token = await node.ok("identity_backend", "authorizeIdentity", identity=identity)
        reply = await client.call("identity", "authenticate", token=token)
        assert reply["type"] == "response", reply
    return client


async def notification(client: WSTestClient, timeout: float = 5.0) -> Any:
    return (await client.next_notification(timeout))["message"]


class ServicesAcrossNodesTests(TestCase):
    """
    Two nodes on one Redis serve one set of identities, channels, names and
    documents.
    """

    timeout = 120

    async def setUp(self) -> None:  # type: ignore[override]
        self.cluster = Cluster(self, count=2,
                               config="[broker]\nnode_timeout = {}\n".format(NODE_TIMEOUT))
        await self.cluster.start()
        self.a, self.b = self.cluster.nodes
        self.clients: List[WSTestClient] = []

    async def open(self, node: Node, identity: Any = None) -> WSTestClient:
        client = await browser(node, identity)
        transport: Any = client.protocol.transport
        self.addCleanup(transport.abortConnection)
        return client

    async def test_identity_authorize_here_authenticate_there(self) -> None:
        """
        A token authorized on A's backend authenticates a browser on B, once.
        """
        token = await self.a.ok("identity_backend", "authorizeIdentity", identity=ALICE)
        on_b = await self.open(self.b)
        self.assertEqual(await on_b.call("identity", "authenticate", token=token),
                         {"type": "response", "callId": 1, "data": ALICE})
        on_a = await self.open(self.a)
        self.assertEqual((await on_a.call("identity", "authenticate", token=token))["message"],
                         "Invalid token")

    async def test_chat_two_identities_two_nodes(self) -> None:
        """
        Alice on A and Bob on B share a channel: members, presence, messages
        once, read to Bob's other connection on A, and Bob leaves when B is
        killed.
        """
        alice = await self.open(self.a, ALICE)
        bob = await self.open(self.b, BOB)
        bob_on_a = await self.open(self.a, BOB)
        self.assertEqual((await alice.call("chat", "join", channel="room"))["data"],
                         {"members": [ALICE]})
        self.assertEqual((await bob.call("chat", "join", channel="room"))["data"],
                         {"members": [ALICE, BOB]})
        joined = await notification(alice)
        self.assertEqual((joined["type"], joined["from"], joined["status"]),
                         ("presence", BOB, "joined"))
        await bob_on_a.call("chat", "join", channel="room")
        await alice.call("chat", "send", channel="room", body="hello")
        for client in (alice, bob, bob_on_a):
            message = await notification(client)
            self.assertEqual((message["type"], message["body"]), ("message", "hello"))
        await bob.call("chat", "read", channel="room")
        self.assertEqual((await notification(bob_on_a))["type"], "read")
        await bob_on_a.close()
        self.b.kill()
        started = time.monotonic()
        left = await notification(alice, timeout=NODE_TIMEOUT * 4)
        self.assertEqual((left["type"], left["from"], left["status"]),
                         ("presence", BOB, "left"))
        self.assertLess(time.monotonic() - started, NODE_TIMEOUT * 3)

    async def test_messaging_across_nodes(self) -> None:
        """
        A name registered on A is unique on B and reachable from B.
        """
        alice = await self.open(self.a)
        bob = await self.open(self.b)
        await alice.call("messaging", "registerParticipant", name="alice")
        self.assertEqual(
            (await bob.call("messaging", "registerParticipant", name="alice"))["message"],
            "Name already registered",
        )
        await bob.call("messaging", "registerParticipant", name="bob")
        self.assertEqual((await bob.call("messaging", "listParticipants"))["data"],
                         ["alice", "bob"])
        await bob.call("messaging", "send", sender="bob", dest="alice", body="hi")
        self.assertEqual(await notification(alice),
                         {"type": "message", "sender": "bob", "dest": "alice", "body": "hi"})

    async def test_cursors_across_nodes(self) -> None:
        """
        A cursor made on A is seen on B, and removed when A is killed.
        """
        alice = await self.open(self.a, ALICE)
        bob = await self.open(self.b, BOB)
        await alice.call("cursors", "join", document="doc")
        await bob.call("cursors", "join", document="doc")
        handle = (await alice.call("cursors", "createCursor", privateHandle=1,
                                   document="doc", position=3, status="typing"))["data"]
        added = await notification(bob)
        self.assertEqual((added["type"], added["cursor"]["publicHandle"], added["cursor"]["owner"]),
                         ("cursorAdded", handle, ALICE))
        self.a.kill()
        removed = await notification(bob, timeout=NODE_TIMEOUT * 4)
        self.assertEqual((removed["type"], removed["cursor"]["publicHandle"]),
                         ("cursorRemoved", handle))

    async def test_clean_stop_cleans_up(self) -> None:
        """
        A node stopped with SIGTERM: its members leave at once and it leaves
        no key of its own in Redis.
        """
        alice = await self.open(self.a, ALICE)
        bob = await self.open(self.b, BOB)
        await alice.call("chat", "join", channel="room")
        await bob.call("chat", "join", channel="room")
        await notification(alice)
        self.b.proto.transport.signalProcess("TERM")
        await self.b.proto.ended
        left = await notification(alice, timeout=NODE_TIMEOUT / 2)
        self.assertEqual((left["from"], left["status"]), (BOB, "left"))
        keys = subprocess.run(
            ["redis-cli", "-p", str(self.cluster.redis.port), "--raw", "keys", "*node-b*"],
            capture_output=True, text=True, check=True,
        ).stdout.split()
        self.assertEqual(keys, [])


class RedisRestartTests(TestCase):
    """
    Redis restarted without its data.
    """

    timeout = 120

    async def test_members_held_again_after_redis_restart(self) -> None:
        """
        After Redis comes back empty, each node holds its chat members
        again within a heartbeat, so a newcomer is told of everyone.
        """
        cluster = Cluster(self, count=2,
                          config="[broker]\nnode_timeout = {}\n".format(NODE_TIMEOUT))
        await cluster.start()
        a, b = cluster.nodes
        clients = []
        for node, identity in ((a, ALICE), (b, BOB)):
            client = await browser(node, identity)
            transport: Any = client.protocol.transport
            self.addCleanup(transport.abortConnection)
            await client.call("chat", "join", channel="room")
            clients.append(client)
        cluster.redis.stop()
        cluster.redis.start()
        await cluster.connected(times=2)
        carol = await browser(a, {"id": 3})
        transport = carol.protocol.transport
        self.addCleanup(transport.abortConnection)
        deadline = time.monotonic() + NODE_TIMEOUT * 3
        members: Any = None
        while time.monotonic() < deadline:
            members = (await carol.call("chat", "join", channel="room"))["data"]["members"]
            if len(members) == 3:
                break
            await carol.call("chat", "leave", channel="room")
            await notification_or_none(carol)
        self.assertEqual(sorted(m["id"] for m in members), [1, 2, 3],
                         a.output[-1500:] + b.output[-1500:])


async def notification_or_none(client: WSTestClient) -> Any:
    try:
        return await client.next_notification(0.2)
    except Exception:
        return None
