"""
Django integration for DataSync: models that publish their changes as
deltas after each commit, and views that hand out subscription tokens
the race-free way.

Importing this package imports Django; :mod:`snorky.backend` never does.
Configure it in the project's settings (see :mod:`.connector`)::

    SNORKY_BACKEND_URL = "http://127.0.0.1:5002/backend"
    SNORKY_API_KEY = os.environ["SNORKY_API_KEY"]
"""

from snorky.backend.django.connector import (
    authorize_subscription,
    get_backend,
    publish_deltas,
)
from snorky.backend.django.data import model_data
from snorky.backend.django.publishing import subscribable
from snorky.backend.django.views import subscription_in_response, subscription_token

__all__ = [
    "authorize_subscription",
    "get_backend",
    "model_data",
    "publish_deltas",
    "subscribable",
    "subscription_in_response",
    "subscription_token",
]
