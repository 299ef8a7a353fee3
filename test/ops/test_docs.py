"""
The operations page documents every metric, and the example Grafana
dashboard asks only for metrics that exist.
"""

import json
import os
import re

from twisted.trial.unittest import TestCase

from test.ops.test_integration import FAMILIES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, "doc", "operations.rst")
DASHBOARD = os.path.join(ROOT, "snorky", "ops", "grafana-dashboard.json")


class OperationsDocTests(TestCase):
    """
    doc/operations.rst and the dashboard against the metrics.
    """

    def test_every_family_documented(self) -> None:
        """
        Each family /metrics shows is named on the operations page.
        """
        with open(DOC, encoding="utf-8") as f:
            text = f.read()
        broker = ["snorky_broker_up", "snorky_broker_state", "snorky_broker_published",
                  "snorky_broker_received", "snorky_broker_lag_seconds"]
        missing = [name for name in FAMILIES + broker if name not in text]
        self.assertEqual(missing, [])

    def test_dashboard(self) -> None:
        """
        The dashboard is JSON whose queries name known families only.
        """
        with open(DASHBOARD, encoding="utf-8") as f:
            dashboard = json.load(f)
        self.assertGreaterEqual(len(dashboard["panels"]), 10)
        known = set(FAMILIES)
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                for name in re.findall(r"\b(?:snorky|process)_[a-z_]+", target["expr"]):
                    family = re.sub(r"_(total|bucket|sum|count)$", "", name)
                    self.assertIn(family, known, target["expr"])
