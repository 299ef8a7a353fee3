"""
Tests for the broker options of ``twistd snorky``: ``--broker``,
``--node-id`` and the ``[broker]`` table.
"""

import io
import os
import tempfile

from twisted.trial.unittest import TestCase

from snorky.app import default_app
from snorky.broker import parse_broker_url
from snorky.broker.redis import RedisBroker
from snorky.server import ServerOptions, make_service
from snorky.tap import ConfigError, Options, build


def parse(*args: str) -> Options:
    options = Options()
    options.parseOptions(["--backend-key", "k"] + list(args))
    return options


def brokers(top: object) -> list:
    found = []
    stack = [top]
    while stack:
        service = stack.pop()
        if isinstance(service, RedisBroker):
            found.append(service)
        stack.extend(getattr(service, "services", []) if not isinstance(service, RedisBroker) else [])
    return found


class BrokerOptionTests(TestCase):
    """
    Building the service tree with and without a broker.
    """

    def test_no_broker_by_default(self) -> None:
        """
        Without --broker the tree has no Redis broker and PubSub stays in-process.
        """
        top = build(parse(), io.StringIO())
        self.assertEqual(brokers(top), [])

    def test_broker_option(self) -> None:
        """
        --broker and --node-id put a Redis broker in the tree and give it to PubSub and DataSync.
        """
        top = build(parse("--broker", "redis://127.0.0.1:1/0", "--node-id", "n1"), io.StringIO())
        [broker] = brokers(top)
        self.assertEqual(broker.node_id, "n1")

    def test_make_service_gives_broker(self) -> None:
        """
        make_service gives its broker to every service that can use one, and runs it.
        """
        registries = default_app()
        broker = RedisBroker(parse_broker_url("redis://127.0.0.1:1/0"))
        top = make_service(registries, [], ServerOptions(), broker=broker)
        self.assertIs(registries["frontend"].services["pubsub"].broker, broker)  # type: ignore[attr-defined]
        self.assertIn(broker, list(top))

    def test_broker_table(self) -> None:
        """
        The [broker] table of --config configures the broker.
        """
        fd, path = tempfile.mkstemp(suffix=".toml")
        self.addCleanup(os.remove, path)
        with os.fdopen(fd, "w") as f:
            f.write('[broker]\nurl = "redis://127.0.0.1:1/0"\nmax_log_length = 7\n')
        [broker] = brokers(build(parse("--config", path), io.StringIO()))
        self.assertEqual(broker.max_log_length, 7)

    def test_bad_broker(self) -> None:
        """
        A bad broker URL stops start-up with one line.
        """
        with self.assertRaises(ConfigError) as caught:
            build(parse("--broker", "http://x"), io.StringIO())
        self.assertIn("redis://", str(caught.exception))
