"""Tests for snorky.app: the default app."""

from twisted.internet.task import Clock
from twisted.logger import capturedLogs
from twisted.trial.unittest import TestCase

from snorky.app import default_app
from snorky.services.datasync import DataSyncService
from test.helpers import RecordingClient

CONFIG = {
    "datasync": {
        "dealers": [
            {"name": "all_players", "model": "Player", "kind": "broadcast"},
            {"name": "players_by_color", "model": "Player", "kind": "simple",
             "key": "color"},
        ]
    }
}


class DefaultAppTests(TestCase):
    """
    Tests for default_app.
    """

    def test_registries(self):
        """
        The frontend holds the built-in services and the backend their
        backends.
        """
        app = default_app()
        self.assertEqual(
            sorted(app["frontend"].services),
            ["chat", "cursors", "datasync", "echo", "identity", "messaging", "pubsub"],
        )
        self.assertEqual(
            sorted(app["backend"].services),
            ["datasync_backend", "identity_backend", "pubsub_backend"],
        )

    def test_config_declares_dealers(self):
        """
        The config's dealers serve DataSync: a delta published through the
        backend reaches a subscriber of a dealer from the config.
        """
        clock = Clock()
        app = default_app(CONFIG, reactor=clock)
        datasync = app["frontend"].services["datasync"]
        self.assertIsInstance(datasync, DataSyncService)
        server, browser = RecordingClient(), RecordingClient()
        app["backend"].process_message_from(server, "datasync_backend", {
            "command": "authorizeSubscription", "callId": 1,
            "params": {"items": [{"dealer": "players_by_color", "query": "red"}]},
        })
        token = server.pop()["message"]["data"]
        app["frontend"].process_message_from(browser, "datasync", {
            "command": "acquireSubscription", "callId": 2, "params": {"token": token},
        })
        self.assertEqual(browser.pop()["message"]["type"], "response")
        delta = {"type": "insert", "model": "Player",
                 "data": {"id": 1, "name": "Alice", "color": "red"}}
        app["backend"].process_message_from(server, "datasync_backend", {
            "command": "publishDeltas", "callId": 3, "params": {"deltas": [delta]},
        })
        self.assertEqual(server.pop()["message"]["type"], "response")
        self.assertEqual(browser.messages("datasync"), [{"type": "delta", "delta": delta, "seq": 1}])

    def test_bad_config(self):
        """
        A mistake in the config raises ValueError naming it.
        """
        e = self.assertRaises(
            ValueError, default_app,
            {"datasync": {"dealers": [{"name": "x", "model": "M", "kind": "bogus"}]}},
        )
        self.assertIn("bogus", str(e))

    def test_registries_use_reactor(self):
        """
        Both registries limit their logs on the given reactor: after ten
        dropped frames a minute of that clock lets the next one be logged.
        """
        clock = Clock()
        app = default_app(reactor=clock)
        for registry in app.values():
            with capturedLogs() as events:
                for _ in range(11):
                    registry.process_frame(RecordingClient(), b"oops")
                clock.advance(60)
                registry.process_frame(RecordingClient(), b"oops")
            dropped = [e for e in events if e.get("log_format", "").startswith("Dropped")]
            self.assertEqual(len(dropped), 11)
