"""
`DataSyncBackend`: the side of DataSync that application servers talk to,
through the private backend registry.
"""

from typing import Any, List, Tuple

from snorky.broker import answer_broadcast
from snorky.services.base import Request, RPCError, RPCService, rpc_command
from snorky.services.datasync.deltas import DeltaError, parse_deltas
from snorky.services.datasync.service import DataSyncService

__all__ = ["DataSyncBackend"]

_NOT_GIVEN: Any = object()


def parse_items(items: Any) -> List[Tuple[Any, Any]]:
    """
    Turn the wire form of subscription items, ``[{"dealer", "query"}]``,
    into ``(dealer name, query)`` pairs.

    :raises RPCError: naming the first malformed item and what is wrong.
    """
    if not isinstance(items, list):
        raise RPCError("Invalid items (expected a list)")
    pairs = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise RPCError("Item {} is not an object".format(index))
        for field in ("dealer", "query"):
            if field not in item:
                raise RPCError('Missing field "{}" in item {}'.format(field, index))
        pairs.append((item["dealer"], item["query"]))
    return pairs


class DataSyncBackend(RPCService):
    """
    Lets trusted application servers authorize subscriptions to, and
    publish deltas into, a :class:`DataSyncService`.

    :param name: the service name (usually ``"datasync_backend"``).
    :param frontend: the :class:`DataSyncService` it controls.
    :param timeout_interval: seconds an authorized subscription waits to
        be acquired before it is dropped with its buffered deltas.
    """

    private = True

    def __init__(
        self, name: str, frontend: DataSyncService, timeout_interval: float = 120
    ) -> None:
        super().__init__(name)
        if timeout_interval <= 0:
            raise ValueError("timeout_interval must be positive")
        self.frontend = frontend
        self.timeout_interval = timeout_interval

    @rpc_command(name="authorizeSubscription")
    def authorize_subscription(self, req: Request, items: Any = _NOT_GIVEN) -> str:
        """
        Authorize a subscription to *items*, a list of ``{"dealer": name,
        "query": <JSON>}``, and answer its token. The query is checked now:
        a bad one is an error here, never later at delta time.
        """
        if items is _NOT_GIVEN:
            raise RPCError('Missing field "items"')
        return self.frontend.authorize_subscription(
            parse_items(items), self.timeout_interval
        )

    @rpc_command(name="publishDeltas")
    def publish_deltas(self, req: Request, deltas: Any = _NOT_GIVEN) -> Any:
        """
        Publish a batch of deltas: all are checked, and encoded, before any
        is delivered.
        """
        if deltas is _NOT_GIVEN:
            raise RPCError('Missing field "deltas"')
        try:
            published = self.frontend.publish_deltas(parse_deltas(deltas))
        except DeltaError as e:
            raise RPCError(str(e)) from None
        if published is not None:
            # Across nodes: answered once every node can get them.
            return answer_broadcast(published)
        return None
