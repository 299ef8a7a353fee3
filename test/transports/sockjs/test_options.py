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

    def test_sessions_per_address(self) -> None:
        """
        Sessions per address default to 1000; a cap must be a positive
        integer or ``None``.
        """
        self.assertEqual(SockJSOptions().max_sessions_per_address, 1000)
        self.assertIsNone(SockJSOptions(max_sessions_per_address=None).max_sessions_per_address)
        for bad in [0, -1, 1.5, "10"]:
            with self.assertRaises(ValueError) as caught:
                SockJSOptions(max_sessions_per_address=bad)  # type: ignore[arg-type]
            self.assertIn("max_sessions_per_address", str(caught.exception))
