"""
Unit tests of the connectors' exceptions.
"""

from twisted.trial.unittest import TestCase

from snorky.backend.errors import (
    SnorkyConnectorError,
    SnorkyError,
    SnorkyTransportError,
)


class ErrorsTests(TestCase):
    """
    What the exceptions carry and how they relate.
    """

    def test_rpc_error(self):
        """
        SnorkyError carries the service's text as ``message`` and as its
        string.
        """
        e = SnorkyError("Invalid params")
        self.assertEqual(e.message, "Invalid params")
        self.assertEqual(str(e), "Invalid params")

    def test_transport_error(self):
        """
        SnorkyTransportError carries its text and the HTTP status, if any.
        """
        e = SnorkyTransportError("Snorky backend at h:1 failed (HTTP 500)", 500)
        self.assertEqual(str(e), "Snorky backend at h:1 failed (HTTP 500)")
        self.assertEqual(e.status, 500)
        self.assertIsNone(SnorkyTransportError("refused").status)

    def test_distinct(self):
        """
        The two kinds share a base and neither is the other.
        """
        self.assertTrue(issubclass(SnorkyError, SnorkyConnectorError))
        self.assertTrue(issubclass(SnorkyTransportError, SnorkyConnectorError))
        self.assertFalse(issubclass(SnorkyTransportError, SnorkyError))
        self.assertFalse(issubclass(SnorkyError, SnorkyTransportError))
