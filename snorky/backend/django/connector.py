"""
The project's one :class:`~snorky.backend.client.SnorkyBackend`, built from
Django settings on first use:

``SNORKY_BACKEND_URL``
    the backend API's URL, e.g. ``http://127.0.0.1:5002/backend``.
``SNORKY_API_KEY``
    the backend key.
``SNORKY_DATASYNC_SERVICE``
    the DataSync backend service's name; ``"datasync_backend"`` by default.
``SNORKY_TIMEOUT``
    seconds to wait for Snorky; 10 by default.

Changing one of them (``override_settings`` in tests) builds a new one.
"""

import threading
from typing import Any, Dict, Iterable, Optional

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from snorky.backend.client import SnorkyBackend

__all__ = ["authorize_subscription", "get_backend", "publish_deltas"]

_SETTINGS = (
    "SNORKY_BACKEND_URL",
    "SNORKY_API_KEY",
    "SNORKY_DATASYNC_SERVICE",
    "SNORKY_TIMEOUT",
)

_lock = threading.Lock()
_backend: Optional[SnorkyBackend] = None


def get_backend() -> SnorkyBackend:
    """
    The :class:`~snorky.backend.client.SnorkyBackend` that the settings
    describe, shared by every thread.

    :raises django.core.exceptions.ImproperlyConfigured: if
        ``SNORKY_BACKEND_URL`` or ``SNORKY_API_KEY`` is missing or invalid.
    """
    global _backend
    with _lock:
        if _backend is None:
            _backend = _from_settings()
        return _backend


def publish_deltas(deltas: Iterable[Dict[str, Any]]) -> None:
    """
    Publish *deltas* through :func:`get_backend`, now. Models marked
    :func:`~snorky.backend.django.publishing.subscribable` need no call.

    :raises snorky.backend.errors.SnorkyConnectorError: if publishing failed.
    """
    get_backend().publish_deltas(deltas)


def authorize_subscription(items: Iterable[Dict[str, Any]]) -> str:
    """
    Authorize a DataSync subscription to *items* through
    :func:`get_backend` and return its token.

    :raises snorky.backend.errors.SnorkyConnectorError: if it failed.
    """
    token: str = get_backend().authorize_subscription(items)
    return token


def _from_settings() -> SnorkyBackend:
    url = getattr(settings, "SNORKY_BACKEND_URL", None)
    key = getattr(settings, "SNORKY_API_KEY", None)
    if not url or not key:
        raise ImproperlyConfigured(
            "Snorky needs the SNORKY_BACKEND_URL and SNORKY_API_KEY settings"
        )
    try:
        return SnorkyBackend(
            url,
            key,
            timeout=getattr(settings, "SNORKY_TIMEOUT", 10.0),
            datasync_service=getattr(
                settings, "SNORKY_DATASYNC_SERVICE", "datasync_backend"
            ),
        )
    except ValueError as e:
        # The connector's texts never quote the key.
        raise ImproperlyConfigured("Snorky settings: {}".format(e)) from None


def _forget(setting: str, **kwargs: Any) -> None:
    global _backend
    if setting in _SETTINGS:
        with _lock:
            old, _backend = _backend, None
        if old is not None:
            old.close()


setting_changed.connect(_forget, dispatch_uid="snorky.backend.django.connector")
