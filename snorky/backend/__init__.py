"""
Connectors for application servers: call Snorky's backend services (publish
DataSync deltas, authorize subscriptions and identities, publish PubSub
messages) over its HTTP backend API.

:class:`SnorkyBackend` blocks and needs only the standard library;
:class:`~snorky.backend.txclient.TwistedSnorkyBackend` returns Deferreds
(imported from here on first use, so plain WSGI apps never load treq).
"""

from typing import Any

from snorky.backend.client import SnorkyBackend
from snorky.backend.errors import (
    SnorkyConnectorError,
    SnorkyError,
    SnorkyTransportError,
)
from snorky.backend.rest import (
    SUBSCRIPTION_TOKEN_HEADER,
    subscribe_if_asked,
    wants_subscription,
)

__all__ = [
    "SnorkyBackend",
    "TwistedSnorkyBackend",
    "SnorkyConnectorError",
    "SnorkyError",
    "SnorkyTransportError",
    "SUBSCRIPTION_TOKEN_HEADER",
    "subscribe_if_asked",
    "wants_subscription",
]


def __getattr__(name: str) -> Any:
    if name == "TwistedSnorkyBackend":
        from snorky.backend.txclient import TwistedSnorkyBackend

        return TwistedSnorkyBackend
    raise AttributeError("module {!r} has no attribute {!r}".format(__name__, name))
