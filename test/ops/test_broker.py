"""
The broker on the ops port: readiness and metrics follow a real
redis-server's link, with the in-process broker as a quick check first.
"""

from typing import Any, Awaitable, Callable

from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from snorky.broker import broker_from_url
from snorky.broker.local import InProcessBroker
from test.ops.servers import OpsServer
from test.redisserver import RedisServer


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    """
    Let the reactor run until ``await check()`` is true, at most *timeout*
    seconds.
    """
    for _ in range(int(timeout / 0.1)):
        if await check():
            return
        await deferLater(reactor, 0.1, lambda: None)
    raise AssertionError("condition not met in {} s".format(timeout))


class InProcessBrokerTests(TestCase):
    """
    Readiness with the in-process broker switched on and off.
    """

    async def test_readiness(self) -> None:
        """
        /readyz fails, naming the broker, while the broker is unavailable,
        and snorky_broker_up says the same.
        """
        broker = InProcessBroker()
        server = OpsServer(broker=broker)
        self.addCleanup(server.stop)
        code, text = await server.readyz()
        self.assertEqual(code, 200)
        self.assertIn("broker: ok", text)
        broker.available = False
        code, text = await server.readyz()
        self.assertEqual(code, 503)
        self.assertIn("broker: failing", text)
        metrics = await server.metrics()
        self.assertEqual(metrics.value("snorky_broker_up"), 0)


class RedisBrokerTests(TestCase):
    """
    A real Redis, up and then killed.
    """

    timeout = 60

    async def test_link(self) -> None:
        """
        With Redis up the node is ready and counts what it sends and
        receives; with Redis killed /readyz answers 503.
        """
        redis = RedisServer()
        redis.start()
        self.addCleanup(redis.cleanup)
        server = OpsServer(broker=broker_from_url(redis.url))
        self.addCleanup(server.stop)

        async def ready() -> bool:
            return (await server.readyz())[0] == 200

        await eventually(ready)
        before = await server.metrics()
        self.assertEqual(before.value("snorky_broker_up"), 1)
        self.assertEqual(before.value("snorky_broker_state", state="up"), 1)
        answer = await server.backend("pubsub_backend", "publish", channel="c", message=1)
        self.assertEqual(answer["message"]["type"], "response")

        async def counted() -> bool:
            metrics = await server.metrics()
            return all(
                metrics.value(name) > before.value(name)
                for name in ("snorky_broker_published_total", "snorky_broker_received_total")
            )

        await eventually(counted)

        async def lag_observed() -> bool:
            metrics = await server.metrics()
            return metrics.value("snorky_broker_lag_seconds_count", origin="self") > 0

        await eventually(lag_observed)
        redis.stop()

        async def not_ready() -> bool:
            code, text = await server.readyz()
            return code == 503 and "broker: failing" in text

        await eventually(not_ready)
        metrics = await server.metrics()
        self.assertEqual(metrics.value("snorky_broker_up"), 0)
