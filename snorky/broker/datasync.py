"""
DataSync across nodes: what a :class:`~snorky.services.datasync.DataSyncService`
does with a shared broker instead of keeping tokens and buffers in memory.

* ``publishDeltas`` appends each delta to the service's **log**; every node
  follows the log and routes each entry through its own dealers to its own
  subscriptions, numbering the messages with the entry's number: ``seq`` is
  the same on every node.
* ``authorizeSubscription`` stores a **record** under a hash of the token:
  the items, the log position at authorization (deltas after it belong to
  the subscription), the holder's node and the position up to which the
  last holder was served. It expires after ``timeout_interval``.
* ``acquireSubscription`` on any node claims the record (compare-and-set,
  so one holder at a time cluster-wide), builds the subscription in that
  node's dealers, and replays the log from the right position, matched to
  this subscription alone; entries no longer retained answer
  ``Subscription expired``. A holder on another node is asked through that
  node (a ping of its connection) before it is dispossessed.
* A node keeps only the subscriptions its clients hold; when a holder
  leaves, its record remembers where it stopped, for ``grace_period``.
"""

import hashlib
import json
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from snorky.broker.interface import (
    BROKER_UNAVAILABLE,
    BrokerUnavailable,
    HistoryExpired,
    IBroker,
    LogFollower,
)
from snorky.client import Client
from snorky.services.base import RPCError
from snorky.services.datasync.dealers import InvalidQuery
from snorky.services.datasync.deltas import (
    DeletionDelta,
    Delta,
    InsertionDelta,
    UpdateDelta,
    parse_delta,
)
from snorky.services.datasync.subscriptions import State, Subscription, SubscriptionItem

if TYPE_CHECKING:
    from snorky.services.datasync.service import DataSyncService

__all__ = ["SharedSubscriptions", "record_key"]

#: Seconds a held subscription's record lives without being touched; the
#: holding node touches its records three times per period.
HOLD_TTL = 600.0


def record_key(token: str) -> str:
    """
    The record name of *token*: its SHA-256, so that what Redis keeps
    cannot be used to acquire anything.
    """
    return "tok:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _split(value: bytes) -> Tuple[int, Dict[str, Any]]:
    head, _, body = value.partition(b"\n")
    return int(head), json.loads(body)


def _join(auth: int, record: Dict[str, Any]) -> bytes:
    return b"%d\n" % auth + json.dumps(record, separators=(",", ":")).encode("utf-8")


def unavailable() -> RPCError:
    return RPCError(BROKER_UNAVAILABLE)


class SharedSubscriptions(LogFollower):
    """
    The shared-broker half of a :class:`DataSyncService`: it owns the
    records of the subscriptions this node's clients hold, and feeds the
    log's entries to the service's routing.
    """

    log = Logger()

    def __init__(self, service: "DataSyncService", broker: IBroker) -> None:
        self.service = service
        self.broker = broker
        self.log_name = "datasync:" + service.name
        self.node_topic = "datasync:{}:node:".format(service.name)
        #: Held subscriptions by record key, and each one's key and record.
        self.held: Dict[str, Subscription] = {}
        self.records: Dict[Subscription, Tuple[str, bytes]] = {}
        self._waiting: List[Tuple[int, Deferred]] = []
        self._asked: Dict[int, Deferred] = {}
        self._next_question = 0
        broker.follow(self.log_name, self)
        broker.listen(self.node_topic + broker.node_id, self._node_message)
        self._toucher = LoopingCall(self._touch)
        self._toucher.clock = service.reactor

    # -- Publishing ---------------------------------------------------------

    def publish(self, encoded: List[bytes]) -> Deferred:
        """
        Append the deltas, each encoded as it travels on the wire, to the
        log; every node routes them as they come back.
        """
        return self.broker.append(self.log_name, encoded)

    def entry(self, seq: int, payload: bytes) -> None:
        delta = parse_delta(json.loads(payload))
        dealers = self.service.dealers_by_model.get(delta.model)
        if dealers:
            self.service._route(dealers, delta, payload, seq)
        while self._waiting and self._waiting[0][0] <= seq:
            self._waiting.pop(0)[1].callback(None)

    def lost(self, first: int, last: int) -> None:
        # The held subscriptions missed deltas: their holders must start
        # again, and will be told so when they next acquire.
        self.log.warn(
            "DataSync: deltas {first} to {last} were trimmed before this node "
            "read them; expiring {count} subscriptions",
            first=first, last=last, count=len(self.held),
        )
        for subscription in list(self.held.values()):
            key, value = self.records[subscription]
            auth, record = _split(value)
            record.update(holder=None, seq=first - 1)
            self._drop(subscription)
            self.broker.swap_record(key, value, _join(auth, record), self.service.grace_period or 1)

    def restored(self) -> None:
        # Redis came back empty: store again the records we hold.
        for subscription, (key, value) in list(self.records.items()):
            self.broker.swap_record(key, None, value, HOLD_TTL)

    def _reached(self, seq: int) -> Deferred:
        """
        Fires once this node has routed every entry up to *seq*.
        """
        if self.broker.position(self.log_name) >= seq:
            return succeed(None)
        d: Deferred = Deferred()
        self._waiting.append((seq, d))
        self._waiting.sort(key=lambda pair: pair[0])
        return d

    # -- Authorizing --------------------------------------------------------

    def authorize(self, items: List[SubscriptionItem], token: str, timeout: float) -> Deferred:
        record = {
            "items": [[item.dealer.name, item.query] for item in items],
            "holder": None,
            "seq": None,
        }
        body = json.dumps(record, separators=(",", ":")).encode("utf-8")
        d = self.broker.create_record(record_key(token), body, timeout, self.log_name)

        def failed(failure: Any) -> None:
            failure.trap(BrokerUnavailable)
            raise unavailable()

        return d.addCallbacks(lambda _: token, failed)

    # -- Acquiring ----------------------------------------------------------

    async def acquire(self, client: Client, token: Any, after: Optional[int]) -> List[bytes]:
        """
        Make *client* the holder of the subscription with *token*, on this
        node, and answer what it must be sent.
        """
        if not isinstance(token, str):
            raise RPCError("No such subscription")
        key = record_key(token)
        try:
            value = await self.broker.get_record(key)
        except BrokerUnavailable:
            raise unavailable() from None
        if value is None:
            raise RPCError("No such subscription")
        auth, record = _split(value)
        holder = record["holder"]
        if holder is not None:
            if after is None or not await self._dispossess(client, key, holder):
                raise RPCError("Subscription already acquired")
        held = self.service.subscriptions_by_client.get(client)
        if held is not None and len(held) >= self.service.max_subscriptions_per_client:
            raise RPCError("Too many subscriptions")
        record["holder"] = self.broker.node_id
        new_value = _join(auth, record)
        try:
            claimed = await self.broker.swap_record(key, value, new_value, HOLD_TTL)
        except BrokerUnavailable:
            raise unavailable() from None
        if not claimed:
            raise RPCError("Subscription already acquired")
        if holder is not None and holder != self.broker.node_id:
            self.broker.publish(self.node_topic + holder, json.dumps({"drop": key}).encode())
        start = auth
        if after is not None:
            start = max(after, auth)
        elif record["seq"] is not None:
            start = record["seq"]
        try:
            return await self._attach(client, token, key, new_value, record, start)
        except RPCError:
            self.broker.swap_record(key, new_value, None, 1)
            raise

    async def _attach(
        self, client: Client, token: str, key: str, value: bytes,
        record: Dict[str, Any], start: int,
    ) -> List[bytes]:
        await self._reached(start)
        items = []
        for dealer_name, query in record["items"]:
            dealer = self.service.dealers.get(dealer_name)
            try:
                if dealer is None:
                    raise InvalidQuery("no dealer {!r} on this node".format(dealer_name))
                items.append(SubscriptionItem(dealer, query, dealer.prepare_query(query)))
            except InvalidQuery as e:
                self.log.warn("DataSync: a subscription cannot be built here: {reason}",
                              reason=str(e))
                raise RPCError("No such subscription") from None
        subscription = Subscription(token, items, 0)
        for item in items:
            item.dealer.add_subscription_item(item)
        self.held[key] = subscription
        self.records[subscription] = (key, value)
        if not self._toucher.running:
            self._toucher.start(HOLD_TTL / 3, now=False)
        # Indexed: from here on live deltas are buffered in it.
        upto = self.broker.position(self.log_name)
        try:
            entries = await self.broker.read(self.log_name, start, upto)
        except (HistoryExpired, BrokerUnavailable) as e:
            self._drop(subscription)
            if isinstance(e, BrokerUnavailable):
                raise unavailable() from None
            raise RPCError("Subscription expired") from None
        if subscription.state is State.EXPIRED or key not in self.held:
            self._drop(subscription)
            raise RPCError("Subscription expired")
        messages = []
        for seq, payload in entries:
            message = self._replay(subscription, seq, payload)
            if message is not None:
                messages.append(message)
        self.service.subscriptions_by_client.setdefault(client, set()).add(subscription)
        messages.extend(subscription.attach(client))
        if not client.connected:
            self.client_disconnected(client)
        return messages

    def _replay(self, subscription: Subscription, seq: int, payload: bytes) -> Optional[bytes]:
        """
        The message *subscription* gets for the logged delta, if any: the
        same translation as live routing, for this subscription alone.
        """
        delta = parse_delta(json.loads(payload))
        dealers = self.service.dealers_by_model.get(delta.model)
        if not dealers:
            return None
        match = self.service._match
        sent: Optional[Delta] = None
        if not isinstance(delta, UpdateDelta):
            if subscription in match(dealers, delta.data):  # type: ignore[attr-defined]
                sent = delta
        else:
            before = subscription in match(dealers, delta.old_data)
            after = subscription in match(dealers, delta.new_data)
            if before and after:
                sent = delta
            elif after:
                sent = InsertionDelta(delta.model, delta.new_data)
            elif before:
                sent = DeletionDelta(delta.model, delta.old_data)
        if sent is None:
            return None
        from snorky.services.datasync.service import delta_message

        return self.service.encode_message(delta_message(sent, seq))

    # -- Holders on other nodes ---------------------------------------------

    async def _dispossess(self, client: Client, key: str, holder: str) -> bool:
        """
        Whether the holder of *key* is gone (and the subscription may be
        taken): asked of its connection on this node, or of its node.
        """
        timeout = self.service.holder_timeout
        if not timeout:
            return False
        if holder == self.broker.node_id:
            local = self.held.get(key)
            if local is None or local.client is None:
                return True
            if local.client is client:
                return False
            if await local.client.probe(timeout):
                return False
            self._drop(local)
            return True
        self._next_question += 1
        question = self._next_question
        answer: Deferred = Deferred()
        self._asked[question] = answer
        answer.addTimeout(timeout + 1, self.service.reactor, lambda *_: False)

        def done(alive: bool) -> bool:
            self._asked.pop(question, None)
            return alive

        answer.addBoth(done)
        try:
            await self.broker.publish(
                self.node_topic + holder,
                json.dumps({"probe": key, "from": self.broker.node_id,
                            "id": question}).encode(),
            )
        except BrokerUnavailable:
            raise unavailable() from None
        alive = await answer
        return not alive

    def _node_message(self, payload: bytes) -> None:
        message = json.loads(payload)
        if "answer" in message:
            d = self._asked.get(message["answer"])
            if d is not None and not d.called:
                d.callback(bool(message["alive"]))
        elif "probe" in message:
            self._answer_probe(message)
        elif "drop" in message:
            subscription = self.held.get(message["drop"])
            if subscription is not None:
                self._drop(subscription)

    def _answer_probe(self, message: Dict[str, Any]) -> None:
        subscription = self.held.get(message["probe"])
        if subscription is None or subscription.client is None:
            probed: Deferred = succeed(False)
        else:
            probed = subscription.client.probe(self.service.holder_timeout)

        def answer(alive: bool) -> None:
            if not alive and subscription is not None:
                self._drop(subscription)
            self.broker.publish(
                self.node_topic + message["from"],
                json.dumps({"answer": message["id"], "alive": alive}).encode(),
            ).addErrback(lambda _: None)

        probed.addCallback(answer)

    # -- Leaving ------------------------------------------------------------

    def _drop(self, subscription: Subscription) -> None:
        """
        Forget *subscription* on this node, leaving its record alone.
        """
        entry = self.records.pop(subscription, None)
        if entry is not None and self.held.get(entry[0]) is subscription:
            del self.held[entry[0]]
        if not self.records:
            self.stop()
        if subscription.state is not State.EXPIRED:
            self.service._unindex(subscription)
        if subscription.client is not None:
            self.service._forget_holder(subscription.client, subscription)
        subscription.end()

    def release(self, subscription: Subscription, keep: bool) -> None:
        """
        Let go of *subscription*: its record remembers where its holder
        stopped, for the grace period (*keep*), or is deleted.
        """
        entry = self.records.get(subscription)
        self._drop(subscription)
        if entry is None:
            return
        key, value = entry
        grace = self.service.grace_period
        if not keep or not grace:
            self.broker.swap_record(key, value, None, 1).addErrback(lambda _: None)
            return
        auth, record = _split(value)
        record.update(holder=None, seq=self.broker.position(self.log_name))
        self.broker.swap_record(key, value, _join(auth, record), grace).addErrback(
            lambda _: None
        )

    def client_disconnected(self, client: Client) -> None:
        for subscription in list(self.service.subscriptions_by_client.get(client, ())):
            self.release(subscription, keep=True)

    def cancel(self, client: Client, token: Any) -> None:
        subscription = None
        if isinstance(token, str):
            subscription = self.held.get(record_key(token))
        if subscription is None or subscription.client is not client:
            raise RPCError("No such subscription")
        self.release(subscription, keep=False)

    def _touch(self) -> None:
        keys = [key for key, _ in self.records.values()]
        self.broker.touch_records(keys, HOLD_TTL).addErrback(lambda _: None)

    def stop(self) -> None:
        """
        Stop the timer that keeps the records of held subscriptions alive.
        """
        if self._toucher.running:
            self._toucher.stop()
