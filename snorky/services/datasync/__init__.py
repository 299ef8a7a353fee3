"""
DataSync: keeps the views in browsers in sync with the application's
database.

:class:`DataSyncService` is the frontend service browsers acquire
subscriptions from; :class:`DataSyncBackend` is the backend service that
application servers use to authorize subscriptions and publish deltas.
Dealers (:mod:`snorky.services.datasync.dealers`) decide which
subscriptions each delta concerns.
"""

from snorky.services.datasync.backend import DataSyncBackend
from snorky.services.datasync.service import DataSyncService

__all__ = ["DataSyncService", "DataSyncBackend"]
