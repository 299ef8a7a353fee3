"""
`DataSyncService`: the frontend of DataSync, which browsers talk to.

It owns the dealers and the subscriptions. The backend
(:class:`~snorky.services.datasync.backend.DataSyncBackend`) authorizes
subscriptions and publishes deltas into it; browsers acquire and cancel
subscriptions and receive ``{"type": "delta", "delta": {...}, "seq": N}``.

``seq`` numbers delta messages service-wide, increasing; one message (one
``seq``) goes to every subscription it concerns, so it is encoded once. A
browser re-acquiring a subscription after a cut connection says the last
``seq`` it saw (``after``) and gets every later message the subscription
was sent, including those lost in flight.
"""

from collections import Counter
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from snorky.client import Client, send_encoded_to_clients
from snorky.envelopes import encode
from snorky.loglimit import LogLimiter
from snorky.reactors import default_reactor
from snorky.services.base import (
    Request,
    RPCError,
    RPCService,
    rpc_asynchronous,
    rpc_command,
)
from snorky.services.datasync.dealers import Dealer, InvalidQuery
from snorky.services.datasync.deltas import (
    DeletionDelta,
    Delta,
    DeltaError,
    InsertionDelta,
    UpdateDelta,
)
from snorky.services.datasync.subscriptions import (
    State,
    Subscription,
    SubscriptionItem,
)
from snorky.services.tokens import TokenTable, new_token

__all__ = ["DataSyncService"]

_NOT_GIVEN: Any = object()


def delta_message(delta: Delta, seq: int) -> Dict[str, Any]:
    """
    The message that carries *delta*, numbered *seq*, to a browser.
    ``seq`` comes last, where
    :func:`~snorky.services.datasync.subscriptions.message_seq` finds it
    once encoded.
    """
    return {"type": "delta", "delta": delta.for_json(), "seq": seq}


class DataSyncService(RPCService):
    """
    Forwards each delta to the subscriptions whose items cover it.

    :param name: the service name (usually ``"datasync"``).
    :param dealers: dealer classes or instances; names must be unique.
    :param grace_period: seconds a subscription outlives its holder's
        connection, buffering deltas, so that a reconnecting browser can
        acquire it again and miss nothing; ``0`` drops it at once.
    :param holder_timeout: seconds to wait, when a client re-acquiring a
        subscription with ``after`` finds it still held by another
        connection, for that connection to answer a ping
        (:meth:`~snorky.Client.probe`). One that does not is dropped and the
        subscription passes to the new client, replay included: a browser
        whose old connection died without the server noticing gets its
        subscription back. One that answers keeps it (``Subscription already
        acquired``). ``0`` never waits: the holder keeps it.
    :param max_buffer: deltas buffered per subscription while nobody holds
        it; one more expires the subscription.
    :param max_buffer_bytes: bytes of delta messages buffered per
        subscription while nobody holds it; a message that would exceed
        them expires the subscription.
    :param max_replay: delta messages each subscription keeps for replay
        to a holder that re-acquires it with ``after``; a holder that saw
        too little to be caught up from them is told ``Subscription
        expired``. While a silent holder is probed for ``holder_timeout``
        the log keeps every message, up to *max_replay_bytes*, so that the
        wait costs the newcomer nothing.
    :param max_replay_bytes: bytes of delta messages each replay log keeps
        at most; the oldest messages make room first.
    :param max_subscriptions_per_client: subscriptions one connection may
        hold.
    :param max_items_per_subscription: items one subscription may have.
    :param reactor: an ``IReactorTime`` for the timers; the global reactor
        when ``None``.
    """

    log = Logger()

    def __init__(
        self,
        name: str,
        dealers: Iterable[Union[Dealer, type]] = (),
        grace_period: float = 30.0,
        holder_timeout: float = 5.0,
        max_buffer: int = 1000,
        max_replay: int = 1000,
        max_subscriptions_per_client: int = 1000,
        max_items_per_subscription: int = 100,
        reactor: Optional[IReactorTime] = None,
        max_buffer_bytes: int = 4 * 1024 * 1024,
        max_replay_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        super().__init__(name)
        if grace_period < 0:
            raise ValueError("grace_period must not be negative")
        if holder_timeout < 0:
            raise ValueError("holder_timeout must not be negative")
        for option, value in [
            ("max_buffer", max_buffer),
            ("max_replay", max_replay),
            ("max_buffer_bytes", max_buffer_bytes),
            ("max_replay_bytes", max_replay_bytes),
        ]:
            if value < 0:
                raise ValueError("{} must not be negative".format(option))
        self.reactor: IReactorTime = default_reactor(reactor)
        self.grace_period = grace_period
        self.holder_timeout = holder_timeout
        self.max_buffer = max_buffer
        self.max_buffer_bytes = max_buffer_bytes
        self.max_replay = max_replay
        self.max_replay_bytes = max_replay_bytes
        #: The ``seq`` of the last delta message; the next one gets one more.
        self.last_seq = 0
        self.max_subscriptions_per_client = max_subscriptions_per_client
        self.max_items_per_subscription = max_items_per_subscription
        self.dealers: Dict[str, Dealer] = {}
        self.dealers_by_model: Dict[str, List[Dealer]] = {}
        self._tokens: TokenTable[Subscription] = TokenTable()
        #: Subscriptions by the digest of their token.
        self.subscriptions = self._tokens.by_digest
        self.subscriptions_by_client: Dict[Client, Set[Subscription]] = {}
        self._log_limiter = LogLimiter(self.reactor)
        #: Event counts read by :mod:`snorky.ops`: ``deltas``,
        #: ``deliveries``, ``replays``, ``translated_insert``,
        #: ``translated_delete`` and ``expired_<reason>``.
        self.counts: "Counter[str]" = Counter()
        #: Set by :meth:`use_broker` when nodes share a broker.
        self.shared: Any = None
        self._delta_prefix = (
            b'{"service":' + encode(name) + b',"message":{"type":"delta","delta":'
        )
        for dealer in dealers:
            self.register_dealer(dealer)

    def use_broker(self, broker: Any) -> None:
        """
        Share subscriptions and deltas with the other nodes of *broker* if
        it is shared (:mod:`snorky.broker.datasync`); an in-process broker
        changes nothing.
        """
        if broker.shared:
            from snorky.broker.datasync import SharedSubscriptions

            self.shared = SharedSubscriptions(self, broker)

    def register_dealer(self, dealer: Union[Dealer, type]) -> Dealer:
        """
        Let subscriptions use *dealer* (a class is instantiated).

        :returns: the dealer instance.
        :raises ValueError: if a dealer of that name exists already, or the
            dealer has no model.
        """
        instance: Dealer = dealer() if isinstance(dealer, type) else dealer
        if not isinstance(instance.model, str):
            raise ValueError("Dealer {!r} has no model".format(instance.name))
        if instance.name in self.dealers:
            raise ValueError(
                "A dealer named {!r} is registered already".format(instance.name)
            )
        self.dealers[instance.name] = instance
        self.dealers_by_model.setdefault(instance.model, []).append(instance)
        return instance

    # -- Subscriptions ----------------------------------------------------

    def authorize_subscription(
        self, items: Sequence[Tuple[Any, Any]], timeout: float
    ) -> Any:
        """
        Create a subscription for *items*, ``(dealer name, query)`` pairs,
        and buffer its deltas until a client acquires it or *timeout*
        seconds pass.

        :returns: its token (with a shared broker, a Deferred firing with
            it).
        :raises RPCError: ``Too many items``, ``No such dealer`` or
            ``Invalid query``; nothing is created then.
        """
        if len(items) > self.max_items_per_subscription:
            raise RPCError("Too many items")
        prepared = []
        for dealer_name, query in items:
            dealer = None
            if isinstance(dealer_name, str):
                dealer = self.dealers.get(dealer_name)
            if dealer is None:
                raise RPCError("No such dealer")
            try:
                item = SubscriptionItem(dealer, query, dealer.prepare_query(query))
            except InvalidQuery as e:
                self.log.info(
                    "Invalid query for dealer {dealer}: {reason}",
                    dealer=dealer_name,
                    reason=str(e),
                )
                raise RPCError("Invalid query") from None
            prepared.append(item)
        if self.shared is not None:
            return self.shared.authorize(prepared, new_token(), timeout)
        token = new_token()
        subscription = Subscription(
            token, prepared, self.max_replay, self.max_replay_bytes
        )
        added: List[SubscriptionItem] = []
        try:
            for item in prepared:
                item.dealer.add_subscription_item(item)
                added.append(item)
        except Exception:
            # A failing (custom) dealer must not leave half a subscription
            # in the other indexes.
            for item in added:
                item.dealer.remove_subscription_item(item)
            raise
        self._tokens.put(token, subscription)
        subscription.timer = self.reactor.callLater(
            timeout, self._time_out, subscription
        )
        return token

    def find_subscription(self, token: Any) -> Optional[Subscription]:
        """
        The subscription whose token is *token*, if any.
        """
        return self._tokens.get(token)

    def acquire(
        self, client: Client, token: Any, after: Optional[int] = None
    ) -> List[Any]:
        """
        Make *client* the holder of the subscription with *token*.

        :param after: the last ``seq`` the client saw for this
            subscription, when it re-acquires it after a cut connection.
        :returns: the encoded messages the caller must send to *client*
            (:meth:`~snorky.Client.send_encoded`), oldest first: without
            *after*, those buffered since the last holder left (or since
            authorization); with it, every message sent or buffered for the
            subscription with a higher ``seq``.
        :raises RPCError: ``No such subscription``, ``Subscription
            expired`` (also when *after* is older than what the replay log
            keeps; the subscription is then dropped), ``Subscription already
            acquired`` or ``Too many subscriptions``.
        """
        subscription = self.find_subscription(token)
        if subscription is None:
            raise RPCError("No such subscription")
        if subscription.state is State.EXPIRED:
            raise RPCError("Subscription expired")
        if subscription.state is State.ACTIVE:
            raise RPCError("Subscription already acquired")
        held = self.subscriptions_by_client.get(client)
        if held is not None and len(held) >= self.max_subscriptions_per_client:
            raise RPCError("Too many subscriptions")
        if after is not None and not subscription.can_replay(after):
            # A gap cannot be ruled out: the client must fetch its data
            # again, so the subscription is of no more use.
            self.counts["expired_replay_gap"] += 1
            self.cancel(subscription)
            raise RPCError("Subscription expired")
        if held is None:
            held = self.subscriptions_by_client[client] = set()
        held.add(subscription)
        if after is not None:
            self.counts["replays"] += 1
        return subscription.attach(client, after)

    def cancel(self, subscription: Subscription) -> None:
        """
        End *subscription* now, wherever it is in its life, removing every
        trace of it; ending it twice does nothing.
        """
        if subscription.state is State.ENDED:
            return
        if subscription.state is not State.EXPIRED:
            self._unindex(subscription)
        if subscription.client is not None:
            self._forget_holder(subscription.client, subscription)
        subscription.end()
        self._tokens.pop(subscription.token)

    def _time_out(self, subscription: Subscription) -> None:
        if subscription.state is State.AWAITING:
            self.counts["expired_not_acquired"] += 1
        elif subscription.state is State.DETACHED:
            self.counts["expired_grace_ended"] += 1
        self.cancel(subscription)

    def _unindex(self, subscription: Subscription) -> None:
        for item in subscription.items:
            item.dealer.remove_subscription_item(item)

    def _forget_holder(self, client: Client, subscription: Subscription) -> None:
        held = self.subscriptions_by_client.get(client)
        if held is not None:
            held.discard(subscription)
            if not held:
                del self.subscriptions_by_client[client]

    def client_disconnected(self, client: Client) -> None:
        if self.shared is not None:
            self.shared.client_disconnected(client)
            return
        for subscription in self.subscriptions_by_client.pop(client, ()):
            subscription.detach()
            if self.grace_period > 0:
                subscription.timer = self.reactor.callLater(
                    self.grace_period, self._time_out, subscription
                )
            else:
                self.cancel(subscription)

    # -- Commands ---------------------------------------------------------

    @rpc_asynchronous
    @rpc_command(name="acquireSubscription")
    async def acquire_subscription(
        self, req: Request, token: Any = _NOT_GIVEN, after: Any = _NOT_GIVEN
    ) -> None:
        """
        Hold the subscription with *token*: the response comes first, then
        the deltas buffered for it, in publish order. With *after*, the
        last ``seq`` the client saw for it, the deltas sent or buffered
        after that one come instead, and a holder that no longer answers
        is let go first.
        """
        if token is _NOT_GIVEN:
            raise RPCError('Missing field "token"')
        if after is _NOT_GIVEN:
            after = None
        elif isinstance(after, bool) or not isinstance(after, int):
            raise RPCError("Invalid params")
        if self.shared is not None:
            buffered = await self.shared.acquire(req.client, token, after)
        elif after is not None:
            probed = await self._check_holder(req.client, token)
            try:
                if not req.client.connected:
                    return
                buffered = self.acquire(req.client, token, after)
            finally:
                if probed is not None:
                    probed.unpin_log()
        else:
            buffered = self.acquire(req.client, token, after)
        req.reply(None)
        for data in buffered:
            req.client.send_encoded(data)

    async def _check_holder(
        self, client: Client, token: Any
    ) -> Optional[Subscription]:
        """
        If another connection holds the subscription with *token* and does
        not answer within ``holder_timeout``, take the subscription from
        it, as its disconnection will.

        :returns: the subscription if its holder was probed; its replay log
            is then pinned (see :meth:`Subscription.pin_log`) until the
            caller unpins it, after acquiring.
        """
        subscription = self.find_subscription(token)
        if subscription is None or not self.holder_timeout:
            return None
        holder = subscription.client
        if holder is None or holder is client:
            return None
        # Deltas keep coming while the holder is pinged; none of them may
        # push out of the log what the newcomer will ask for.
        subscription.pin_log()
        try:
            answered = await holder.probe(self.holder_timeout)
        except BaseException:
            subscription.unpin_log()
            raise
        if not answered:
            self.client_disconnected(holder)
        return subscription

    @rpc_command(name="cancelSubscription")
    def cancel_subscription(self, req: Request, token: Any = _NOT_GIVEN) -> None:
        """
        End a subscription this client holds.
        """
        if token is _NOT_GIVEN:
            raise RPCError('Missing field "token"')
        if self.shared is not None:
            return self.shared.cancel(req.client, token)
        subscription = self.find_subscription(token)
        if subscription is None or subscription.client is not req.client:
            raise RPCError("No such subscription")
        self.cancel(subscription)

    # -- Deltas -----------------------------------------------------------

    def publish_deltas(self, deltas: Iterable[Delta]) -> Any:
        """
        Deliver *deltas*, in order, to the subscriptions they concern.

        Every delta is encoded before any is delivered, so a batch holding
        one that cannot be (data that is not JSON, or nested too deeply)
        delivers nothing.

        This is the one way deltas enter DataSync. With a shared broker
        they go to every node through its log (:mod:`snorky.broker.datasync`),
        and a Deferred is returned that fails with
        :class:`~snorky.broker.BrokerUnavailable` if they cannot.

        :raises DeltaError: naming the first delta that cannot be encoded.
        """
        encoded = []
        for index, delta in enumerate(deltas):
            try:
                encoded.append((delta, encode(delta.for_json())))
            except (TypeError, ValueError) as e:
                raise DeltaError(
                    "Delta {} cannot be encoded: {}".format(index, e)
                ) from None
        self.counts["deltas"] += len(encoded)
        if self.shared is not None:
            return self.shared.publish([data for _, data in encoded])
        for delta, data in encoded:
            dealers = self.dealers_by_model.get(delta.model)
            if dealers:
                self._route(dealers, delta, data)
        return None

    def _route(
        self, dealers: List[Dealer], delta: Delta, data: bytes, seq: Optional[int] = None
    ) -> None:
        # A shared broker's log numbers the delta (*seq*); in-process, each
        # message gets the next number.
        if not isinstance(delta, UpdateDelta):
            matched = self._match(dealers, delta.data)  # type: ignore[attr-defined]
            self._deliver(matched, delta, data, seq)
            return
        # Each subscription sees the update as its own view changes: an
        # item entering the view is an insert, one leaving it a delete.
        before = self._match(dealers, delta.old_data)
        after = self._match(dealers, delta.new_data)
        if after - before:
            self.counts["translated_insert"] += 1
            inserted = InsertionDelta(delta.model, delta.new_data)
            self._deliver(after - before, inserted, None, seq)
        if before & after:
            self._deliver(before & after, delta, data, seq)
        if before - after:
            self.counts["translated_delete"] += 1
            deleted = DeletionDelta(delta.model, delta.old_data)
            self._deliver(before - after, deleted, None, seq)

    def _match(self, dealers: List[Dealer], data: Any) -> Set[Subscription]:
        # Items of registered subscriptions, so never None.
        subscriptions: Set[Any] = set()
        for dealer in dealers:
            try:
                items = dealer.get_subscription_items_for_model(data)
                subscriptions.update([item.subscription for item in items])
            except Exception:
                if self._log_limiter.allow():
                    self.log.failure(
                        "Dealer {dealer} failed to route data", dealer=dealer.name
                    )
        return subscriptions

    def _deliver(
        self,
        subscriptions: Set[Subscription],
        delta: Delta,
        encoded: Optional[bytes] = None,
        seq: Optional[int] = None,
    ) -> None:
        if not subscriptions:
            return
        if seq is None:
            self.last_seq += 1
        else:
            self.last_seq = seq
        if encoded is None:
            # Part of an update that encoded, so it encodes too.
            encoded = encode(delta.for_json())
        # What encode_message(delta_message(delta, seq)) would give, built
        # around the delta encoded once.
        data = b"".join(
            (self._delta_prefix, encoded, b',"seq":', b"%d" % self.last_seq, b"}}")
        )
        clients = []
        for subscription in subscriptions:
            if subscription.client is not None:
                subscription.record(data)
                clients.append(subscription.client)
            elif subscription.state is not State.EXPIRED:
                if not subscription.buffer(
                    data, self.max_buffer, self.max_buffer_bytes
                ):
                    # Tell the client at acquire time rather than leave a
                    # silent gap; the token stays until its timer ends.
                    self.counts["expired_buffer_full"] += 1
                    self._unindex(subscription)
        if clients:
            self.counts["deliveries"] += len(clients)
            self.messages_sent += len(clients)
            send_encoded_to_clients(clients, data)
