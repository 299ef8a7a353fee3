"""
Brokers: the engine that the nodes of one Snorky deployment share.

:class:`InProcessBroker` is the default (one process, nothing to
install); :class:`~snorky.broker.redis.RedisBroker` lets several
processes share PubSub and DataSync through Redis. :func:`broker_from_url`
makes one from a ``redis://`` or ``rediss://`` URL.
"""

from typing import Any

from twisted.internet.defer import Deferred

from snorky.broker.interface import (
    BROKER_UNAVAILABLE,
    BrokerUnavailable,
    HistoryExpired,
    IBroker,
    LogFollower,
)
from snorky.broker.local import InProcessBroker, new_node_id
from snorky.broker.url import BrokerURLError, broker_from_url, parse_broker_url
from snorky.services.base import RPCError

__all__ = [
    "IBroker",
    "InProcessBroker",
    "BrokerUnavailable",
    "BrokerURLError",
    "HistoryExpired",
    "LogFollower",
    "BROKER_UNAVAILABLE",
    "answer_broadcast",
    "unavailable_error",
    "broker_from_url",
    "new_node_id",
    "parse_broker_url",
]


def unavailable_error(failure: Any) -> None:
    """
    An errback: a :class:`BrokerUnavailable` failure becomes the error
    ``Broker unavailable`` (status 503 at the HTTP backend); any other
    failure goes on.
    """
    failure.trap(BrokerUnavailable)
    raise RPCError(BROKER_UNAVAILABLE)


def answer_broadcast(done: Deferred) -> Deferred:
    """
    What a command that broadcasts answers: *done* turned into ``None``,
    or into the error ``Broker unavailable`` (which the HTTP backend
    answers with status 503). With the in-process broker it has fired
    already, so the command answers at once.
    """
    return done.addCallbacks(lambda _: None, unavailable_error)
