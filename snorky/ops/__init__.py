"""
Operations: Prometheus metrics, health checks, the live status page and
JSON logs. See ``doc/operations.rst``.
"""

from snorky.ops.health import Readiness
from snorky.ops.metrics import Metrics
from snorky.ops.resource import OpsOptions, OpsResource
from snorky.ops.service import OpsService

__all__ = ["Metrics", "OpsOptions", "OpsResource", "OpsService", "Readiness"]
