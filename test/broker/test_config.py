"""
Tests for snorky.broker.url and snorky.broker.config: broker URLs and the
``[broker]`` table.
"""

from twisted.trial.unittest import TestCase

from snorky.broker import BrokerURLError, broker_from_url, parse_broker_url
from snorky.broker.config import broker_from_config
from snorky.broker.redis import RedisBroker


class BrokerURLTests(TestCase):
    """
    Tests for :func:`parse_broker_url`.
    """

    def test_full(self) -> None:
        """
        Host, port, database and password are read; the password is never shown.
        """
        url = parse_broker_url("redis://:pa%40ss@10.0.0.5:6390/2")
        self.assertEqual((url.host, url.port, url.db, url.password, url.tls),
                         ("10.0.0.5", 6390, 2, "pa@ss", False))
        self.assertNotIn("pa@ss", str(url))
        self.assertNotIn("pa@ss", repr(url))

    def test_defaults_and_tls(self) -> None:
        """
        rediss:// means TLS; port 6379 and database 0 are the defaults.
        """
        url = parse_broker_url("rediss://cache.example")
        self.assertEqual((url.port, url.db, url.tls), (6379, 0, True))

    def test_errors(self) -> None:
        """
        Wrong schemes, missing hosts, bad ports and databases are named.
        """
        for bad, text in [
            ("http://x", "must start with redis://"),
            ("redis://", "has no host"),
            ("redis://h:port", "Port could not be cast"),
            ("redis://h/zero", "is not a number"),
        ]:
            with self.assertRaises(BrokerURLError) as caught:
                parse_broker_url(bad)
            self.assertIn(text, str(caught.exception))


class BrokerConfigTests(TestCase):
    """
    Tests for :func:`broker_from_config`.
    """

    def test_none_without_url(self) -> None:
        """
        Without a URL there is no broker.
        """
        self.assertIsNone(broker_from_config({}))

    def test_table_and_overrides(self) -> None:
        """
        The table configures the broker; the command line overrides url and node id.
        """
        broker = broker_from_config(
            {"broker": {"url": "redis://a:1/0", "node_id": "n1", "max_log_length": 50,
                        "max_log_age": 30, "prefix": "app"}},
            url="redis://b:2/0",
            node_id="n2",
        )
        self.assertIsInstance(broker, RedisBroker)
        self.assertEqual((broker.url.host, broker.node_id, broker.max_log_length,
                          broker.max_log_age, broker.prefix), ("b", "n2", 50, 30, "app"))

    def test_embedder_url(self) -> None:
        """
        broker_from_url takes the table's options as keywords.
        """
        broker = broker_from_url("redis://h:1/3", node_id="x")
        self.assertEqual((broker.url.db, broker.node_id), (3, "x"))

    def test_mistakes(self) -> None:
        """
        Unknown options, wrong types and a node id without a broker are one-line errors.
        """
        for config, node_id, text in [
            ({"broker": {"url": "redis://h", "colour": 1}}, None, "unknown option 'colour'"),
            ({"broker": {"url": "redis://h", "max_log_length": 0}}, None, "at least 1"),
            ({"broker": {"url": "redis://h", "max_log_age": "1h"}}, None, "wrong type"),
            ({"broker": "redis://h"}, None, "expected a table"),
            ({}, "n1", "--node-id needs a broker"),
        ]:
            with self.assertRaises(ValueError) as caught:
                broker_from_config(config, node_id=node_id)
            self.assertIn(text, str(caught.exception))
