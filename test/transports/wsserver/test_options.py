"""Tests for snorky.transports.wsserver.options."""

from twisted.trial.unittest import TestCase

from snorky.transports.wsserver.options import WebSocketOptions, autobahn_options


class WebSocketOptionsTests(TestCase):
    """
    Tests for WebSocketOptions.
    """

    def test_defaults(self) -> None:
        """
        The defaults are a 90 s ping, any origin, 1 MiB messages, no
        connection limit, a 4 MiB write buffer, a 20 ms write delay and
        10 pings per second.
        """
        options = WebSocketOptions()
        self.assertEqual(
            (options.ping_interval, tuple(options.allowed_origins), options.max_message_size,
             options.max_connections, options.max_write_buffer, options.write_delay,
             options.max_ping_rate),
            (90.0, ("*",), 1 << 20, None, 4 << 20, 0.02, 10.0),
        )

    def test_bad_values(self) -> None:
        """
        Negative or zero limits, and a bare string of origins, are refused.
        """
        for bad in [
            {"ping_interval": -1},
            {"allowed_origins": "https://example.com:443"},
            {"max_message_size": 0},
            {"max_connections": 0},
            {"max_write_buffer": 0},
            {"write_delay": -0.001},
            {"max_ping_rate": 0},
        ]:
            self.assertRaises(ValueError, WebSocketOptions, **bad)

    def test_autobahn_options(self) -> None:
        """
        Pings, message size and origins become Autobahn's protocol options,
        and failures close with a code rather than dropping the socket.
        """
        options = autobahn_options(
            WebSocketOptions(ping_interval=30, max_message_size=1000,
                             allowed_origins=["https://app.example.com"])
        )
        self.assertEqual(
            (options["autoPingInterval"], options["autoPingTimeout"],
             options["maxMessagePayloadSize"], options["maxFramePayloadSize"],
             options["failByDrop"], options["webStatus"]),
            (30, 30, 1000, 1000, False, False),
        )
        self.assertIn("https://app.example.com:443", options["allowedOrigins"])
