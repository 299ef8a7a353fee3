"""
Tests for snorky.ops.logs: JSON log lines with the pipeline's fields, and
no secrets in them.
"""

import io
import json
from typing import Any, Dict

from twisted.logger import Logger, LogLevel, globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from snorky.ops import logs
from snorky.ops.logs import REDACTED, JSONLogObserver, json_logger, register_secret
from test.helpers import RecordingClient


class JSONLogTests(TestCase):
    """
    Events through :class:`JSONLogObserver`.
    """

    def setUp(self) -> None:
        self.out = io.StringIO()
        self.observer = JSONLogObserver(self.out)
        self.patch(logs, "_SECRETS", set())

    def emit(self, level: Any = LogLevel.info, format: str = "", **fields: Any) -> Dict[str, Any]:
        event = {"log_level": level, "log_format": format, "log_time": 1796000000.25,
                 "log_system": "-", "log_namespace": "snorky.test", **fields}
        self.observer(event)
        lines = self.out.getvalue().splitlines()
        self.assertEqual(len(lines), 1)
        self.out.seek(0)
        self.out.truncate()
        return json.loads(lines[0])

    def test_fields(self) -> None:
        """
        A line has time, level, system and message, and keeps the event's
        structured fields.
        """
        line = self.emit(LogLevel.warn, "Command {command} of {service} failed: {code}",
                         command="publish", service="pubsub", code=1009)
        self.assertEqual(line["time"], "2026-11-30T00:53:20.250Z")
        self.assertEqual(line["level"], "warn")
        self.assertEqual(line["system"], "-")
        self.assertEqual(line["message"], "Command publish of pubsub failed: 1009")
        self.assertEqual((line["command"], line["service"], line["code"]),
                         ("publish", "pubsub", 1009))

    def test_client(self) -> None:
        """
        A client becomes its address and transport.
        """
        line = self.emit(format="Dropped {client}", client=RecordingClient("10.0.0.7:4242"))
        self.assertEqual(line["client"], "10.0.0.7:4242")
        self.assertEqual(line["transport"], "recording")
        self.assertEqual(line["message"], "Dropped 10.0.0.7:4242")

    def test_secret_fields(self) -> None:
        """
        Fields named like secrets are redacted, in the fields and in the
        message.
        """
        line = self.emit(format="auth {backend_key} {token} {password}",
                         backend_key="k-123456789", token="t-123456789", password="p")
        for name in ("backend_key", "token", "password"):
            self.assertEqual(line[name], REDACTED)
        self.assertNotIn("123456789", json.dumps(line))

    def test_registered_secrets(self) -> None:
        """
        A registered secret is cut out of any text, even under an
        innocent name.
        """
        register_secret("super-secret-backend-key")
        register_secret("short")
        line = self.emit(format="{why} short", why="header was super-secret-backend-key")
        self.assertNotIn("super-secret-backend-key", json.dumps(line))
        self.assertEqual(line["message"], "header was {} short".format(REDACTED))

    def test_failure(self) -> None:
        """
        A failure's traceback is part of the message.
        """
        try:
            1 / 0
        except ZeroDivisionError:
            failure = Failure()
        line = self.emit(LogLevel.critical, "Boom", log_failure=failure)
        self.assertEqual(line["level"], "critical")
        self.assertIn("ZeroDivisionError", line["message"])

    def test_through_logger(self) -> None:
        """
        A real Logger's event, observed globally, becomes one line.
        """
        globalLogPublisher.addObserver(self.observer)
        self.addCleanup(globalLogPublisher.removeObserver, self.observer)
        Logger(namespace="snorky.test").info("Hello {name}", name="world")
        line = json.loads(self.out.getvalue().splitlines()[-1])
        self.assertEqual(line["message"], "Hello world")
        self.assertEqual(line["log_namespace"], "snorky.test")

    def test_factory(self) -> None:
        """
        ``json_logger`` (what ``twistd --logger`` calls) writes where told.
        """
        out = io.StringIO()
        json_logger(out)({"log_format": "x", "log_level": LogLevel.info})
        self.assertEqual(json.loads(out.getvalue())["message"], "x")
