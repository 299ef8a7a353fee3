"""Tests for snorky.transports.sockjs.options."""

from twisted.trial.unittest import TestCase

from snorky.transports.sockjs import SockJSOptions


class SockJSOptionsTests(TestCase):
    """
    Tests for SockJSOptions.
    """

    def test_allowed_origins_default(self) -> None:
        """
        By default every origin is allowed.
        """
        self.assertEqual(tuple(SockJSOptions().allowed_origins), ("*",))

    def test_allowed_origins_checked(self) -> None:
        """
        A bare string of origins is refused, a list of patterns kept.
        """
        self.assertRaises(ValueError, SockJSOptions, allowed_origins="https://a.example")
        options = SockJSOptions(allowed_origins=["https://a.example", "*.b.example"])
        self.assertEqual(list(options.allowed_origins), ["https://a.example", "*.b.example"])
