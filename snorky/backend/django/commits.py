"""
Publishing deltas once the transaction that made them has committed: in
the order they were recorded, all of a transaction's deltas in one
``publishDeltas`` call, none of a rolled-back transaction or savepoint.
"""

import logging
import weakref
from typing import Any, Dict, FrozenSet, List, Optional

from django.db import transaction

from snorky.backend.django.connector import get_backend
from snorky.backend.errors import SnorkyConnectorError

__all__ = ["publish_after_commit"]

log = logging.getLogger("snorky.backend.django")

Delta = Dict[str, Any]


class _Batch:
    """
    Deltas recorded while the same savepoints were open: Django runs (or,
    if one of those savepoints rolls back, drops) the batch as one
    on-commit hook.

    A batch whose savepoints include all of a later batch's hands its
    deltas to that one instead of publishing them: the later batch runs
    after it, and whenever it does, so that both go in one call.
    """

    def __init__(self, savepoints: FrozenSet[Optional[str]]) -> None:
        self.savepoints = savepoints
        self.carried: List[Delta] = []
        self.deltas: List[Delta] = []
        self.successor: Optional["_Batch"] = None

    def __call__(self) -> None:
        deltas = self.carried + self.deltas
        if self.successor is not None:
            self.successor.carried.extend(deltas)
        else:
            publish_now(deltas)


# The batches not run yet, per database connection (each connection
# belongs to one thread).
_batches: "weakref.WeakKeyDictionary[Any, List[_Batch]]" = weakref.WeakKeyDictionary()


def publish_after_commit(delta: Delta, using: str) -> None:
    """
    Publish *delta* when the transaction of database *using* commits, or
    now if no transaction is open.
    """
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        publish_now([delta])
        return
    # A block entered with savepoint=False (as Django's own save() and
    # delete() do) has no savepoint of its own to roll back.
    savepoints = frozenset(s for s in connection.savepoint_ids if s is not None)
    batches = [b for b in _batches.get(connection, ()) if _queued(connection, b)]
    if batches and batches[-1].savepoints == savepoints:
        batches[-1].deltas.append(delta)
    else:
        batch = _Batch(savepoints)
        batch.deltas.append(delta)
        for earlier in batches:
            if savepoints <= earlier.savepoints:
                earlier.successor = batch
        batches.append(batch)
        transaction.on_commit(batch, using=using)
    _batches[connection] = batches


def publish_now(deltas: List[Delta]) -> None:
    """
    Publish *deltas*; log a failure instead of raising it, since the
    changes are committed whatever Snorky says.
    """
    if not deltas:
        return
    try:
        get_backend().publish_deltas(deltas)
    except SnorkyConnectorError as e:
        # The connector's texts never contain the key.
        log.error("Snorky: %d delta(s) not published: %s", len(deltas), e)
    except Exception:
        log.exception("Snorky: %d delta(s) not published", len(deltas))


def _queued(connection: Any, batch: _Batch) -> bool:
    """
    Whether Django still holds *batch* as an on-commit hook: not run, not
    dropped with a rolled-back transaction or savepoint.
    """
    # Django keeps the hooks as (savepoints, function, robust) tuples in
    # this list; no public API tells whether a hook is still waiting.
    return any(entry[1] is batch for entry in connection.run_on_commit)
