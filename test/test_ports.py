"""Tests for snorky.ports."""

from twisted.trial.unittest import TestCase

from snorky.ports import PortSpec, PortSpecError, parse_port_spec


class ParsePortSpecTests(TestCase):
    """
    Tests for parse_port_spec.
    """

    def test_simple(self):
        """
        A spec splits into registry, protocols and the endpoint string.
        """
        self.assertEqual(
            parse_port_spec("frontend:websocket:tcp:5001"),
            PortSpec("frontend", ("websocket",), "tcp:5001"),
        )

    def test_several_protocols_and_endpoint_colons(self):
        """
        Protocols join with '+' and the endpoint keeps its own colons.
        """
        spec = parse_port_spec("backend:http+websocket:tcp:5002:interface=127.0.0.1")
        self.assertEqual(spec.protocols, ("http", "websocket"))
        self.assertEqual(spec.endpoint, "tcp:5002:interface=127.0.0.1")
        self.assertEqual(str(spec), "backend:http+websocket:tcp:5002:interface=127.0.0.1")

    def test_unknown_protocol(self):
        """
        An unknown protocol is refused with its name and the known ones.
        """
        e = self.assertRaises(PortSpecError, parse_port_spec, "frontend:gopher:tcp:1")
        self.assertIn("'gopher'", str(e))
        self.assertIn("websocket, sockjs, http", str(e))

    def test_missing_parts(self):
        """
        A spec without three parts is refused with the expected form.
        """
        for bad in ("frontend", "frontend:websocket", "frontend::tcp:1", ":http:tcp:1"):
            e = self.assertRaises(PortSpecError, parse_port_spec, bad)
            self.assertIn("REGISTRY:PROTOCOLS:ENDPOINT", str(e))

    def test_protocol_twice(self):
        """
        A protocol named twice is refused.
        """
        e = self.assertRaises(
            PortSpecError, parse_port_spec, "frontend:websocket+websocket:tcp:1"
        )
        self.assertIn("twice", str(e))
