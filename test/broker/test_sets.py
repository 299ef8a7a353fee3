"""
The shared sets and tokens (snorky.broker.sets), one contract run on the
in-process broker (under a Clock) and on the Redis broker (a real
redis-server): members, events, dead nodes, cleanup, tokens.
"""

from typing import TYPE_CHECKING, Any, List

from twisted.internet import reactor
from twisted.internet.task import Clock, deferLater
from twisted.trial.unittest import TestCase

from snorky.broker import InProcessBroker
from snorky.broker.sets import FIRST, LAST, REFUSED, SHARED, parse_event
from snorky.broker.url import parse_broker_url
from test.helpers import wait_until
from test.redisserver import RedisServer

T = "chat:chat"

if TYPE_CHECKING:
    _Base = TestCase
else:
    _Base = object


class SetsContract(_Base):
    """
    What every broker's shared sets do; subclasses make nodes a and b.
    """

    a: Any
    b: Any
    events: List[Any]

    async def until(self, condition: Any) -> None:
        await wait_until(condition, "an event", timeout=10)

    async def pass_time(self, seconds: float) -> None:
        raise NotImplementedError

    def silence(self, node: Any) -> None:
        raise NotImplementedError

    async def listen(self) -> None:
        self.events = []
        self.a.listen(T, lambda p: self.events.append(parse_event(p)))
        await self.pass_time(0.3)

    async def test_join_leave_events(self) -> None:
        """
        A member's first holder publishes +, its last leaving publishes -
        with the value; join can answer the values in order of arrival.
        """
        await self.listen()
        self.assertEqual(await self.a.sets.join(T, b"c", b"x", b"X", b"t1", read=True),
                         (FIRST, [b"X"], 1))
        self.assertEqual(await self.b.sets.join(T, b"c", b"x", b"X2", b"t2"), (SHARED, [], 1))
        self.assertEqual(await self.b.sets.join(T, b"c", b"y", b"Y", b"t3", read=True),
                         (FIRST, [b"X", b"Y"], 2))
        self.assertEqual(await self.a.sets.leave(T, b"c", b"x", b"t1"), SHARED)
        self.assertEqual(await self.a.sets.leave(T, b"c", b"x", b"t1"), 0)
        self.assertEqual(await self.b.sets.leave(T, b"c", b"x", b"t2"), LAST)
        await self.until(lambda: len(self.events) == 3)
        self.assertEqual(self.events, [(b"+", b"t1", b"c", 1, b"X"), (b"+", b"t3", b"c", 2, b"Y"),
                                       (b"-", b"t2", b"c", 3, b"X")])
        self.assertEqual(await self.a.sets.read(T, b"c"), (3, [b"Y"]))

    async def test_exclusive_update_send(self) -> None:
        """
        An exclusive join is refused while another node holds the member;
        update and send only work for a held member.
        """
        await self.listen()
        self.assertEqual((await self.a.sets.join(T, b"n", b"x", b"1", b"", exclusive=True))[0], FIRST)
        self.assertEqual((await self.b.sets.join(T, b"n", b"x", b"1", b"", exclusive=True))[0], REFUSED)
        self.assertTrue(await self.a.sets.update(T, b"n", b"x", b"2", b"u"))
        self.assertFalse(await self.b.sets.update(T, b"n", b"x", b"3", b"u"))
        self.assertTrue(await self.b.sets.send(T, b"n", b"x", b"?t\nn\n0\nbody"))
        self.assertFalse(await self.b.sets.send(T, b"n", b"nobody", b"?t\nn\n0\nlost"))
        await self.until(lambda: len(self.events) == 3)
        self.assertEqual(self.events[1:], [(b"~", b"u", b"n", 2, b"2"),
                                           (b"?", b"t", b"n", 0, b"body")])
        self.assertEqual(await self.b.sets.read(T, b"n"), (2, [b"2"]))

    async def test_dead_node_reaped(self) -> None:
        """
        A node that stops beating loses its holds after node_timeout, with
        - events; the others keep theirs.
        """
        await self.listen()
        await self.a.sets.join(T, b"c", b"x", b"X", b"")
        await self.b.sets.join(T, b"c", b"y", b"Y", b"")
        await self.b.sets.join(T, b"d", b"y", b"Y", b"")
        self.silence(self.b)
        await self.pass_time(self.a.sets.node_timeout * 2)
        await self.until(lambda: len(self.events) == 5)
        self.assertEqual(sorted(e[2] for e in self.events if e[0] == b"-"), [b"c", b"d"])
        self.assertEqual((await self.a.sets.read(T, b"c"))[1], [b"X"])
        self.assertEqual(await self.a.sets.read(T, b"d"), (0, []))

    async def test_leave_all(self) -> None:
        """
        A node leaving cleanly removes its holds at once.
        """
        await self.listen()
        await self.b.sets.join(T, b"c", b"y", b"Y", b"")
        await self.b.sets.leave_all()
        await self.until(lambda: len(self.events) == 2)
        self.assertEqual(self.events[1], (b"-", b"", b"c", 2, b"Y"))

    async def test_tokens(self) -> None:
        """
        Tokens are taken once, on any node, and bounded per table.
        """
        self.assertTrue(await self.a.sets.put_token("id", b"d1", b"v1", 60, 2))
        self.assertTrue(await self.a.sets.put_token("id", b"d2", b"v2", 60, 2))
        self.assertFalse(await self.b.sets.put_token("id", b"d3", b"v3", 60, 2))
        self.assertEqual(await self.b.sets.take_token("id", b"d1"), b"v1")
        self.assertIsNone(await self.a.sets.take_token("id", b"d1"))
        self.assertTrue(await self.b.sets.put_token("id", b"d3", b"v3", 60, 2))


class MemorySetsTests(SetsContract, TestCase):
    """
    The contract on the shared in-process broker.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.a = InProcessBroker(shared=True, reactor=self.clock, node_timeout=4)
        self.b = self.a.another_node()

    async def pass_time(self, seconds: float) -> None:
        self.clock.pump([0.5] * int(seconds * 2))

    def silence(self, node: Any) -> None:
        node.available = False


class RedisSetsTests(SetsContract, TestCase):
    """
    The contract on two Redis brokers sharing a real redis-server.
    """

    timeout = 60

    async def setUp(self) -> None:  # type: ignore[override]
        from snorky.broker.redis import RedisBroker

        self.redis = RedisServer()
        self.redis.start()
        self.addCleanup(self.redis.cleanup)
        url = parse_broker_url(self.redis.url)
        self.a = RedisBroker(url, node_id="a", node_timeout=1)
        self.b = RedisBroker(url, node_id="b", node_timeout=1)
        for broker in (self.a, self.b):
            broker.startService()
            self.addCleanup(broker.stopService)
        await wait_until(lambda: self.a.state == "up" and self.b.state == "up", "Redis")

    async def pass_time(self, seconds: float) -> None:
        await deferLater(reactor, seconds, lambda: None)

    def silence(self, node: Any) -> None:
        node.sets._loop.stop()

    async def test_keys_cleaned_up(self) -> None:
        """
        A node that leaves takes its keys with it; a dead node's keys go
        when it is reaped; what the cluster leaves expires.
        """
        await self.b.sets.join(T, b"c", b"y", b"Y", b"")
        await self.a.sets.join(T, b"c", b"x", b"X", b"")
        await self.b.sets.stop()
        keys = await self.a._command("execute_command", "KEYS", "*")
        self.assertNotIn(b"snorky:node:b", keys)
        self.assertNotIn(b"snorky:alive:b", keys)
        self.assertNotIn(b"snorky:beat:b", keys)
        self.silence(self.a)
        ttl = await self.a._command("execute_command", "PTTL", "snorky:set:chat:chat:c")
        self.assertTrue(0 < ttl <= 3000, ttl)
