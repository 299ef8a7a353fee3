"""
``twistd -n snorky`` as a real subprocess with JSON logs and an ops port.
"""

import json
from typing import Any, List

import treq
from twisted.trial.unittest import TestCase

from test.test_twistd import free_port, run_twistd, wait_ended, wait_listening

KEY = "twistd-ops-test-backend-key-0123"


def json_lines(output: bytes) -> List[Any]:
    return [json.loads(line) for line in output.decode("utf-8").splitlines()
            if line.startswith("{")]


class TwistdOpsTests(TestCase):
    """
    The ops options of a real ``twistd snorky``.
    """

    timeout = 60

    async def test_json_logger_and_metrics(self) -> None:
        """
        With ``--logger snorky.ops.logs.json_logger`` every log line is a
        JSON object with time, level, system and message, the backend key
        appears in none, and the ops port answers /metrics and /readyz.
        """
        front, ops = free_port(), free_port()
        proto = run_twistd([
            "--logger", "snorky.ops.logs.json_logger", "snorky",
            "--backend-key", KEY,
            "--ports", "frontend:websocket:tcp:{}:interface=127.0.0.1".format(front),
            "--ports", "ops:ops:tcp:{}".format(ops),
        ])
        self.addCleanup(lambda: None if proto.ended.called else proto.transport.signalProcess("KILL"))
        await wait_listening(ops, proto)
        response = await treq.get("http://127.0.0.1:{}/readyz".format(ops), persistent=False)
        self.assertEqual((response.code, await response.text()), (200, "port frontend: ok\n"))
        response = await treq.get("http://127.0.0.1:{}/metrics".format(ops), persistent=False)
        self.assertIn("snorky_port_listening{port=\"frontend\"} 1.0", await response.text())
        proto.transport.signalProcess("TERM")
        await wait_ended(proto)
        lines = json_lines(proto.output)
        self.assertNotIn(KEY.encode(), proto.output)
        listening = [line for line in lines if line["message"].startswith("Listening: ops:ops")]
        self.assertEqual(len(listening), 1, proto.output.decode())
        for field in ("time", "level", "system", "message"):
            self.assertIn(field, listening[0])
        self.assertEqual(listening[0]["level"], "info")
