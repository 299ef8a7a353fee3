"""
`RedisBroker`: the nodes of one deployment share topics, logs and records
through one Redis server (6.2 or later), over two connections made with
``txredisapi``: one for commands, one subscribed to the channels.

What lives in Redis, under the prefix (``snorky`` by default):

* ``{prefix}:t:{topic}``: a pub/sub channel per topic;
* ``{prefix}:log:{name}``: a stream per log, entry ids ``{seq}-0``,
  capped by length (``max_log_length``) and age (``max_log_age``, trimmed
  when entries are appended); ``{prefix}:seq:{name}`` counts its entries;
  ``{prefix}:l:{name}`` is the channel that carries new entries to every
  node, in one message per append;
* ``{prefix}:r:{key}``: records, as strings with an expiry.

Appending (numbering, trimming and broadcasting) is one Lua script, so
every node sees one order. A node that misses entries (its subscription
was down) notices the gap in the numbers and reads them from the stream.
If Redis comes back empty (restarted without persistence), numbering
resumes after the highest number any node has seen, so ``seq`` never goes
back.

While Redis cannot be reached, every operation fails at once with
:class:`~snorky.broker.BrokerUnavailable`; the broker reconnects with
exponential backoff (up to ``max_retry_delay`` seconds) and logs one line
per change of state. A node started while Redis is down says so in one
line and keeps trying: it serves its own clients meanwhile.
"""

import re
from typing import Any, Dict, List, Optional, Tuple, cast

import txredisapi
from twisted.application.internet import ClientService, backoffPolicy
from twisted.application.service import MultiService
from twisted.internet import defer
from twisted.internet.defer import Deferred, fail
from twisted.internet.endpoints import TCP4ClientEndpoint, wrapClientTLS
from twisted.internet.protocol import Factory
from twisted.internet.ssl import optionsForClientTLS
from twisted.logger import ILogObserver, Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from snorky.broker.interface import (
    BrokerUnavailable,
    HistoryExpired,
    IBroker,
    LogFollower,
    Receiver,
)
from snorky.broker.local import new_node_id
from snorky.broker.sets import RedisSets
from snorky.broker.url import BrokerURL
from snorky.reactors import default_reactor

__all__ = ["RedisBroker"]

# KEYS: stream, counter. ARGV: channel, max length, max age (ms), the
# appending node's position, payloads... Numbers the payloads (never below
# what the node has seen, should Redis have lost the counter), adds them to
# the stream, trims it by length and age, and publishes them to every node
# as one message.
_APPEND = b"""
local count = #ARGV - 4
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[4]) then
  redis.call('SET', KEYS[2], ARGV[4])
end
local last = redis.call('INCRBY', KEYS[2], count)
local first = last - count + 1
local parts = {tostring(first)}
for i = 1, count do
  local payload = ARGV[i + 4]
  redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], (first + i - 1) .. '-0',
             't', now, 'd', payload)
  parts[#parts + 1] = #payload .. ':' .. payload
end
local cutoff = now - tonumber(ARGV[3])
while true do
  local e = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
  if #e == 0 or tonumber(e[1][2][2]) >= cutoff then break end
  redis.call('XDEL', KEYS[1], e[1][1])
end
redis.call('PUBLISH', ARGV[1], table.concat(parts, '\\n'))
return first
"""

# KEYS: record, counter. ARGV: value, ttl (ms).
_CREATE = b"""
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
redis.call('SET', KEYS[1], last .. '\\n' .. ARGV[1], 'PX', ARGV[2])
return last
"""

# KEYS: record. ARGV: mode ('set'/'del'), ttl (ms), expected-is-absent
# ('0'/'1'), expected, value.
_SWAP = b"""
local current = redis.call('GET', KEYS[1])
if ARGV[3] == '1' then
  if current then return 0 end
elseif current ~= ARGV[4] then
  return 0
end
if ARGV[1] == 'del' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[5], 'PX', ARGV[2])
end
return 1
"""

# KEYS: records. ARGV: ttl (ms).
_TOUCH = b"""
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[1]) end
return 0
"""

# KEYS: the epoch. ARGV: a fresh one. Answers the epoch of this Redis's
# data: a node that finds another one than before knows the data was lost.
_EPOCH = b"""
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
"""

# KEYS: counter. ARGV: the lowest value it may have.
_RAISE = b"""
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0
"""

_ENTRY_ID = re.compile(rb"^(\d+)-")


def _ms(seconds: float) -> bytes:
    return b"%d" % max(1, int(seconds * 1000))


def _decode_batch(message: bytes) -> Tuple[int, List[bytes]]:
    """
    The first number and the payloads of an append's broadcast:
    ``first`` then ``\\nLENGTH:PAYLOAD`` per payload.
    """
    head, _, rest = message.partition(b"\n")
    first = int(head)
    payloads = []
    pos = 0
    while pos < len(rest):
        colon = rest.index(b":", pos)
        length = int(rest[pos:colon])
        start = colon + 1
        payloads.append(rest[start:start + length])
        pos = start + length + 1
    return first, payloads


class _Factory(Factory):
    """
    Builds txredisapi protocols, which expect a few attributes of
    txredisapi's own factory on theirs.
    """

    isLazy = False
    noisy = False

    def __init__(self, broker: "RedisBroker", protocol: Any) -> None:
        self.broker = broker
        self.protocol = protocol

    def buildProtocol(self, addr: Any) -> Any:
        url = self.broker.url
        make: Any = self.protocol
        p = make(
            charset=None,
            replyTimeout=self.broker.reply_timeout,
            password=url.password,
            username=url.username if url.password else None,
            dbid=url.db or None,
            convertNumbers=False,
        )
        p.factory = self
        p.broker = self.broker
        return p

    def stopTrying(self) -> None:
        """txredisapi calls it when authentication fails; we keep trying."""

    def connectionError(self, message: str) -> None:
        self.broker._refused(message)


class _Commands(txredisapi.RedisProtocol):
    broker: "RedisBroker"

    def connectionLost(self, why: Failure) -> None:
        super().connectionLost(why)
        self.broker._commands_lost(self, why)


class _Subscriber(txredisapi.SubscriberProtocol):
    broker: "RedisBroker"

    def messageReceived(self, pattern: Any, channel: bytes, message: bytes) -> None:
        self.broker._message(channel, message)

    def connectionLost(self, why: Failure) -> None:
        super().connectionLost(why)
        self.broker._subscriber_lost(self)


def _ready(protocol: Any) -> Deferred:
    """
    Fires once *protocol* has authenticated and selected its database;
    fails if it is disconnected first, so that the service retries.
    """
    connected = protocol.whenConnected()
    lost = protocol.whenDisconnected()
    lost.addCallback(lambda _: Failure(ConnectionError("Redis closed the connection")))
    done = defer.DeferredList([connected, lost], fireOnOneCallback=True,
                              fireOnOneErrback=True, consumeErrors=True)

    def result(outcome: Any) -> Any:
        if isinstance(outcome, tuple):
            return outcome[0]
        return outcome

    def error(failure: Failure) -> Failure:
        return failure.value.subFailure  # type: ignore[attr-defined, no-any-return]

    return done.addCallbacks(result, error)


class _WatchedEndpoint:
    """
    A client endpoint that tells the broker when connecting fails, so that
    it can say so once.
    """

    def __init__(self, endpoint: Any, broker: "RedisBroker") -> None:
        self._endpoint = endpoint
        self._broker = broker

    def connect(self, factory: Any) -> Deferred:
        d = self._endpoint.connect(factory)

        def failed(failure: Failure) -> Failure:
            self._broker._unreachable(failure)
            return failure

        return d.addErrback(failed)  # type: ignore[no-any-return]


class _QuietClientService(ClientService):
    """
    A ClientService that does not log every retry: the broker logs one
    line per change of state instead.
    """

    _log = Logger(observer=cast(ILogObserver, lambda event: None))


class _Following:
    """
    One log this node follows: its follower, how far it got, and the
    broadcasts that arrived while it was reading the stream.
    """

    def __init__(self, name: str, follower: LogFollower) -> None:
        self.name = name
        self.follower = follower
        self.applied: Optional[int] = None
        self.syncing = False
        self.queued: List[bytes] = []


@implementer(IBroker)
class RedisBroker(MultiService):
    """
    Topics, logs and records shared through Redis; a Twisted service that
    connects when started.

    :param url: a :class:`~snorky.broker.url.BrokerURL`.
    :param node_id: this node's name; random when ``None``.
    :param max_log_length: entries each log (stream) retains.
    :param max_log_age: seconds an entry is retained (at least; trimmed
        when later entries are appended).
    :param prefix: the prefix of every Redis key and channel, so that
        several deployments can share one Redis.
    :param reply_timeout: seconds to wait for Redis to answer a command
        before giving up on the connection.
    :param max_retry_delay: the longest wait between two connection
        attempts.
    :param node_timeout: seconds after which a silent node's members of
        shared sets (chat presence, participant names, cursors) are
        removed (:mod:`snorky.broker.sets`).
    """

    log = Logger()
    shared = True
    #: Counts read by :mod:`snorky.ops`: messages and log entries sent to
    #: Redis, and messages received from it.
    published = 0
    received = 0

    def __init__(
        self,
        url: BrokerURL,
        node_id: Optional[str] = None,
        max_log_length: int = 100_000,
        max_log_age: float = 3600.0,
        prefix: str = "snorky",
        reply_timeout: float = 5.0,
        max_retry_delay: float = 5.0,
        reactor: Any = None,
        node_timeout: float = 10.0,
    ) -> None:
        super().__init__()
        if max_log_length < 1:
            raise ValueError("max_log_length must be at least 1")
        if max_log_age <= 0:
            raise ValueError("max_log_age must be positive")
        reactor = default_reactor(reactor)
        self.reactor = reactor
        self.url = url
        self.node_id = node_id or new_node_id()
        self.max_log_length = max_log_length
        self.max_log_age = max_log_age
        self.prefix = prefix
        self.reply_timeout = reply_timeout
        self.state = "starting"
        self._commands: Optional[_Commands] = None
        self._subscriber: Optional[_Subscriber] = None
        self._epoch: Optional[bytes] = None
        self._listeners: Dict[bytes, List[Receiver]] = {}
        self._following: Dict[bytes, _Following] = {}
        #: Shared sets and tokens (Chat, Messaging, Cursors, Identity).
        self.sets = RedisSets(self, node_timeout)
        endpoint: Any = TCP4ClientEndpoint(reactor, url.host, url.port, timeout=5)
        if url.tls:
            endpoint = wrapClientTLS(optionsForClientTLS(url.host), endpoint)
        endpoint = _WatchedEndpoint(endpoint, self)
        retry = backoffPolicy(initialDelay=0.1, maxDelay=max_retry_delay)
        services: List[Tuple[Any, Any]] = [
            (_Commands, self._commands_ready),
            (_Subscriber, self._subscriber_ready),
        ]
        for protocol, prepare in services:
            _QuietClientService(
                endpoint,
                _Factory(self, protocol),
                retryPolicy=retry,
                clock=reactor,
                prepareConnection=prepare,
            ).setServiceParent(self)

    def startService(self) -> None:
        super().startService()
        self.sets.start()

    def stopService(self) -> Deferred:
        # This node's members leave (others are told) before the link closes.
        d = self.sets.stop()
        d.addBoth(lambda _: super(RedisBroker, self).stopService())
        return d

    # -- Connection state ---------------------------------------------------

    def _unreachable(self, failure: Failure) -> None:
        if self.running and self.state in ("starting", "up"):
            self._set_state(
                "down",
                "Broker: cannot reach Redis at {url} ({reason}); retrying, and "
                "backend publishes answer 503 until it is reachable",
                reason=failure.getErrorMessage(),
            )

    def _set_state(self, state: str, text: str, **fields: Any) -> None:
        if state == self.state:
            return
        self.state = state
        self.log.info(text, url=str(self.url), node=self.node_id, **fields)

    def _refused(self, message: str) -> None:
        self._set_state("refused", "Broker: Redis at {url} refused us: {reason}",
                        reason=message)

    @property
    def available(self) -> bool:
        """
        Whether commands can be sent to Redis now.
        """
        return self._commands is not None

    # ClientService hands a proxy of the protocol to these; _ready fires
    # with the protocol itself, which is what connectionLost reports.

    def _commands_ready(self, proxy: Any) -> Deferred:
        def ready(protocol: _Commands) -> Deferred:
            self._commands = protocol
            return self._both_ready()

        return _ready(proxy).addCallback(ready)

    def _commands_lost(self, protocol: _Commands, why: Failure) -> None:
        if self._commands is protocol:
            self._commands = None
            if self.running:
                self._set_state(
                    "down",
                    "Broker: lost Redis at {url} ({reason}); reconnecting",
                    reason=why.getErrorMessage(),
                )

    def _subscriber_ready(self, proxy: Any) -> Deferred:
        def ready(protocol: _Subscriber) -> Deferred:
            channels = list(self._listeners) + list(self._following)
            d = protocol.subscribe(channels) if channels else defer.succeed(None)
            return d.addCallback(subscribed, protocol)

        def subscribed(_: Any, protocol: _Subscriber) -> Deferred:
            self._subscriber = protocol
            return self._both_ready()

        return _ready(proxy).addCallback(ready)

    def _subscriber_lost(self, protocol: _Subscriber) -> None:
        if self._subscriber is protocol:
            self._subscriber = None

    def _both_ready(self) -> Deferred:
        """
        Once both connections are up (and subscribed): notice whether Redis
        lost its data since we last saw it, catch up every log, and say
        we are connected.
        """
        if self._commands is None or self._subscriber is None:
            return defer.succeed(None)
        d = self._eval(_EPOCH, [self._key("epoch", "")], [new_node_id().encode()])

        def check(epoch: bytes) -> None:
            lost = self._epoch is not None and epoch != self._epoch
            self._epoch = epoch
            if lost:
                self.log.warn("Broker: Redis at {url} came back without its data; "
                              "storing again what this node holds", url=str(self.url))
                for following in self._following.values():
                    following.follower.restored()
            self._resync_all()
            self._set_state("up", "Broker: connected to Redis at {url} as node {node}")

        return d.addCallback(check).addErrback(lambda _: None)

    def _command(self, name: str, *args: Any) -> Deferred:
        protocol = self._commands
        if protocol is None:
            return fail(BrokerUnavailable("Redis at {} is unreachable".format(self.url)))
        try:
            d = getattr(protocol, name)(*args)
        except Exception as e:
            return fail(BrokerUnavailable(str(e)))

        def unavailable(failure: Failure) -> Failure:
            if failure.check(txredisapi.ResponseError):
                return failure
            return Failure(BrokerUnavailable(failure.getErrorMessage()))

        return d.addErrback(unavailable)  # type: ignore[no-any-return]

    def _eval(self, script: bytes, keys: List[bytes], args: List[bytes]) -> Deferred:
        return self._command("eval", script, keys, args)

    def _key(self, kind: str, name: str) -> bytes:
        return "{}:{}:{}".format(self.prefix, kind, name).encode("utf-8")

    # -- Topics -------------------------------------------------------------

    def publish(self, topic: str, payload: bytes) -> "Deferred[None]":
        self.published += 1
        return self._command("publish", self._key("t", topic), payload).addCallback(
            lambda _: None
        )

    def listen(self, topic: str, receiver: Receiver) -> "Deferred[None]":
        channel = self._key("t", topic)
        receivers = self._listeners.setdefault(channel, [])
        receivers.append(receiver)
        if len(receivers) == 1 and self._subscriber is not None:
            # Without a link, the next connection subscribes.
            d = self._subscriber.subscribe([channel])
            return d.addBoth(lambda _: None)  # type: ignore[no-any-return]
        return defer.succeed(None)

    def unlisten(self, topic: str, receiver: Receiver) -> None:
        channel = self._key("t", topic)
        receivers = self._listeners.get(channel, [])
        if receiver in receivers:
            receivers.remove(receiver)
        if not receivers and self._listeners.pop(channel, None) is not None:
            if self._subscriber is not None:
                self._subscriber.unsubscribe([channel])

    def _message(self, channel: bytes, message: bytes) -> None:
        self.received += 1
        following = self._following.get(channel)
        if following is not None:
            self._broadcast(following, message)
            return
        for receiver in list(self._listeners.get(channel, ())):
            try:
                receiver(message)
            except Exception:
                self.log.failure("Broker: a listener of {channel} failed",
                                 channel=channel)

    # -- Logs ---------------------------------------------------------------

    def append(self, log: str, payloads: List[bytes]) -> "Deferred[int]":
        if not payloads:
            return defer.succeed(self.position(log) + 1)
        self.published += len(payloads)
        return self._eval(
            _APPEND,
            [self._key("log", log), self._key("seq", log)],
            [self._key("l", log), b"%d" % self.max_log_length,
             _ms(self.max_log_age), b"%d" % self.position(log)] + list(payloads),
        ).addCallback(int)

    def follow(self, log: str, follower: LogFollower) -> None:
        channel = self._key("l", log)
        if channel in self._following:
            raise ValueError("log {!r} has a follower already".format(log))
        following = self._following[channel] = _Following(log, follower)
        if self._subscriber is not None:
            self._subscriber.subscribe([channel]).addCallback(
                lambda _: self._resync(following)
            )

    def position(self, log: str) -> int:
        following = self._following.get(self._key("l", log))
        if following is None or following.applied is None:
            return 0
        return following.applied

    def read(self, log: str, after: int, upto: int) -> "Deferred[List[Tuple[int, bytes]]]":
        if upto <= after:
            return defer.succeed([])
        d = self._command(
            "execute_command", "XRANGE", self._key("log", log),
            b"%d-0" % (after + 1), b"%d-0" % upto,
        )

        def check(reply: Any) -> List[Tuple[int, bytes]]:
            entries = _entries(reply)
            if len(entries) != upto - after or entries[0][0] != after + 1:
                raise HistoryExpired("entries after {} are gone".format(after))
            return entries

        return d.addCallback(check)

    def _broadcast(self, following: _Following, message: bytes) -> None:
        if following.syncing or following.applied is None:
            following.queued.append(message)
            return
        first, payloads = _decode_batch(message)
        last = first + len(payloads) - 1
        if last <= following.applied:
            return
        if first > following.applied + 1:
            # A gap: read it from the stream, then go on from here.
            following.queued.append(message)
            self._fill(following, first - 1)
            return
        skip = following.applied + 1 - first
        for offset, payload in enumerate(payloads[skip:], start=first + skip):
            following.applied = offset
            self._hand(following, offset, payload)

    def _hand(self, following: _Following, seq: int, payload: bytes) -> None:
        try:
            following.follower.entry(seq, payload)
        except Exception:
            self.log.failure("Broker: the follower of {log} failed on entry {seq}",
                             log=following.name, seq=seq)

    def _resync_all(self) -> None:
        if self._commands is None or self._subscriber is None:
            return
        for following in self._following.values():
            self._resync(following)

    def _resync(self, following: _Following) -> None:
        """
        Catch up after (re)subscribing: from the counter on a first start,
        from the stream after a reconnection.
        """
        if following.syncing or self._commands is None:
            return
        following.syncing = True
        counter = self._key("seq", following.name)
        d = self._command("get", counter)

        def got(value: Optional[bytes]) -> Any:
            current = int(value or 0)
            if following.applied is None:
                following.applied = current
                return None
            if current < following.applied:
                # Redis lost its data: number on from what we saw.
                return self._eval(_RAISE, [counter], [b"%d" % following.applied])
            return self._read_gap(following, None)

        d.addCallback(got)
        d.addBoth(self._synced, following)

    def _fill(self, following: _Following, upto: int) -> None:
        following.syncing = True
        self._read_gap(following, upto).addBoth(self._synced, following)

    def _read_gap(self, following: _Following, upto: Optional[int]) -> Deferred:
        assert following.applied is not None
        start = following.applied + 1
        d = self._command(
            "execute_command", "XRANGE", self._key("log", following.name),
            b"%d-0" % start, b"+" if upto is None else b"%d-0" % upto,
        )

        def got(reply: Any) -> None:
            entries = _entries(reply)
            assert following.applied is not None
            if entries and entries[0][0] > following.applied + 1:
                lost = (following.applied + 1, entries[0][0] - 1)
            elif not entries and upto is not None and upto > following.applied:
                lost = (following.applied + 1, upto)
            else:
                lost = None
            if lost is not None:
                following.applied = lost[1]
                following.follower.lost(*lost)
            for seq, payload in entries:
                if seq == following.applied + 1:
                    following.applied = seq
                    self._hand(following, seq, payload)

        return d.addCallback(got)

    def _synced(self, result: Any, following: _Following) -> None:
        following.syncing = False
        if isinstance(result, Failure):
            # The link went down again; the next connection resyncs.
            if not result.check(BrokerUnavailable):
                self.log.failure("Broker: reading {log} failed", failure=result,
                                 log=following.name)
            return
        queued, following.queued = following.queued, []
        for message in queued:
            self._broadcast(following, message)

    # -- Records ------------------------------------------------------------

    def create_record(self, key: str, value: bytes, ttl: float, log: str) -> "Deferred[int]":
        return self._eval(
            _CREATE, [self._key("r", key), self._key("seq", log)], [value, _ms(ttl)]
        ).addCallback(int)

    def get_record(self, key: str) -> "Deferred[Optional[bytes]]":
        return self._command("get", self._key("r", key))

    def swap_record(
        self, key: str, expected: Optional[bytes], value: Optional[bytes], ttl: float
    ) -> "Deferred[bool]":
        return self._eval(
            _SWAP,
            [self._key("r", key)],
            [b"del" if value is None else b"set", _ms(ttl),
             b"1" if expected is None else b"0", expected or b"", value or b""],
        ).addCallback(lambda n: int(n) == 1)

    def touch_records(self, keys: List[str], ttl: float) -> "Deferred[None]":
        if not keys:
            return defer.succeed(None)
        return self._eval(
            _TOUCH, [self._key("r", key) for key in keys], [_ms(ttl)]
        ).addCallback(lambda _: None)


def _entries(reply: Any) -> List[Tuple[int, bytes]]:
    """
    ``(seq, payload)`` pairs from an XRANGE reply.
    """
    entries = []
    for entry_id, fields in reply or ():
        match = _ENTRY_ID.match(entry_id)
        if match is None:
            continue
        values = dict(zip(fields[::2], fields[1::2]))
        entries.append((int(match.group(1)), values[b"d"]))
    return entries
