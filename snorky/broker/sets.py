"""
Shared sets and tokens: the cluster-wide state of Chat, Messaging,
Cursors and Identity.

A **shared set** (a *topic* and a *key*, for example a chat channel) holds
members (an identity, a participant name, a cursor's handle), each with a
value and held by one or more nodes. Every change that others must hear
of is published on the topic atomically with the change, so every node
sees one order:

* ``b"+" + tag + b"\\n" + key + b"\\n" + seq + b"\\n" + value`` when a
  member gets its first holder (:meth:`SharedSets.join`);
* ``b"~" + tag + ...`` when its value changes (:meth:`SharedSets.update`);
* ``b"-" + tag + ...`` (with the last value) when its last holder leaves
  (:meth:`SharedSets.leave`), or when the last holder's node dies: then
  the tag is empty.

*tag* is the caller's (which connection caused the change), carried
untouched; *seq* numbers the set's events (decimal text), so that a
connection that joined at a given number can skip the events its join
answer already reflects. Topic names must not contain a newline, nor must
keys.

**Nodes die**: every node writes a heartbeat every ``node_timeout / 4``
seconds and, in the same step, removes the holds of every node whose
heartbeat is older than ``node_timeout`` (publishing ``-`` for members
that lose their last holder). A node that stops cleanly removes its own
holds at once. Every key a node's holds use expires ``3 * node_timeout``
after the last heartbeat of the last node that held anything there, so
nothing is left behind if the whole cluster dies.

**Tokens** (:meth:`SharedSets.put_token`, :meth:`SharedSets.take_token`):
values under a digest, taken once, expiring after a time, at most a given
number at once per table.

:class:`MemorySets` keeps all of this in one process (the shared
in-process broker's, for tests of the cluster logic under a Clock);
:class:`RedisSets` in Redis, one Lua script per operation.
"""

from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from twisted.internet import defer
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from snorky.broker.interface import BrokerUnavailable

__all__ = ["SharedSets", "MemorySets", "RedisSets", "parse_event", "FIRST", "LAST", "REFUSED"]

#: :meth:`SharedSets.join`: refused (exclusive, and another holder exists).
REFUSED = 0
#: :meth:`SharedSets.join`: the member's first holder; :meth:`SharedSets.leave`: its last.
FIRST = LAST = 2
#: :meth:`SharedSets.join`/:meth:`SharedSets.leave`: the member has other holders.
SHARED = 1


def parse_event(payload: bytes) -> Tuple[bytes, bytes, bytes, int, bytes]:
    """
    ``(kind, tag, key, seq, value)`` of an event published on a set's topic.
    """
    kind = payload[:1]
    tag, key, seq, value = payload[1:].split(b"\n", 3)
    return kind, tag, key, int(seq), value


class SharedSets:
    """
    What services use (see the module's description); every method
    answers a Deferred that fails with
    :class:`~snorky.broker.BrokerUnavailable` when the state cannot be
    reached.

    :ivar node_timeout: seconds after which a silent node's holds are
        removed.
    """

    log = Logger()

    def __init__(self, broker: Any, node_timeout: float) -> None:
        if node_timeout <= 0:
            raise ValueError("node_timeout must be positive")
        self.broker = broker
        self.node_timeout = node_timeout
        self._loop: Optional[LoopingCall] = None
        self._beaten = False
        #: Called after a heartbeat finds that this node's holds were
        #: removed (it was silent too long): services hold them again.
        self.on_reaped: List[Callable[[], None]] = []

    @property
    def node_id(self) -> str:
        return self.broker.node_id  # type: ignore[no-any-return]

    # -- Heartbeat ------------------------------------------------------------

    def start(self) -> None:
        """
        Beat every ``node_timeout / 4`` seconds (at once the first time).
        Idempotent.
        """
        if self._loop is not None:
            return
        self._loop = LoopingCall(self._beat)
        self._loop.clock = self.broker.reactor
        self._loop.start(self.node_timeout / 4, now=True)

    def attach(self) -> None:
        """
        A service uses the sets: brokers that are not started as Twisted
        services start beating now (every node beats, so that each
        notices dead ones).
        """

    def stop(self) -> "Deferred[None]":
        """
        Stop beating and remove this node's holds (publishing what others
        must hear of).
        """
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None
        return self.leave_all().addErrback(lambda _: None)

    def _beat(self) -> None:
        def done(lapsed: bool) -> None:
            # No heartbeat of ours in Redis: others took us for dead, or
            # Redis lost its data (also before our first beat reached it).
            # Holding again what is already held changes nothing.
            if lapsed and self._beaten:
                self.log.warn("Broker: this node was silent too long or Redis "
                              "lost its data; holding its members again")
            self._beaten = True
            if lapsed:
                for hook in list(self.on_reaped):
                    hook()

        def failed(failure: Any) -> None:
            failure.trap(BrokerUnavailable)

        self.heartbeat().addCallbacks(done, failed)

    # -- Implementations override these -------------------------------------

    def heartbeat(self) -> "Deferred[bool]":
        """
        Say this node is alive and remove dead nodes' holds.

        :returns: whether this node's heartbeat had lapsed (others may
            have removed its holds).
        """
        raise NotImplementedError

    def leave_all(self) -> "Deferred[None]":
        """
        Remove every hold of this node.
        """
        raise NotImplementedError

    def join(
        self, topic: str, key: bytes, member: bytes, value: bytes, tag: bytes,
        exclusive: bool = False, read: bool = False,
    ) -> "Deferred[Tuple[int, List[bytes], int]]":
        """
        This node holds *member* of set (*topic*, *key*) from now on.

        :returns: :data:`REFUSED` if *exclusive* and some node holds it
            already; :data:`FIRST` if it had no holder (its value is
            *value*, and ``+`` was published); :data:`SHARED` otherwise.
            With it, if *read*, the values of the set right after (as
            :meth:`read`, in the same step), otherwise an empty list; and
            the number of the set's last event then.
        """
        raise NotImplementedError

    def update(self, topic: str, key: bytes, member: bytes, value: bytes, tag: bytes) -> "Deferred[bool]":
        """
        Set the value of *member*, held by this node, and publish ``~``.

        :returns: whether this node holds it.
        """
        raise NotImplementedError

    def leave(self, topic: str, key: bytes, member: bytes, tag: bytes) -> "Deferred[int]":
        """
        This node no longer holds *member*.

        :returns: 0 if it did not; :data:`LAST` if no node holds it any
            more (``-`` was published); :data:`SHARED` otherwise.
        """
        raise NotImplementedError

    def read(self, topic: str, key: bytes) -> "Deferred[Tuple[int, List[bytes]]]":
        """
        The number of the set's last event, and the values of its members
        in order of arrival.
        """
        raise NotImplementedError

    def send(self, topic: str, key: bytes, member: bytes, payload: bytes) -> "Deferred[bool]":
        """
        Publish *payload* on *topic* if *member* has a holder.

        :returns: whether it was published.
        """
        raise NotImplementedError

    def put_token(self, table: str, digest: bytes, value: bytes, ttl: float, limit: int) -> "Deferred[bool]":
        """
        Keep *value* under *digest* for *ttl* seconds, unless *limit*
        tokens of *table* are kept already.

        :returns: whether it was kept.
        """
        raise NotImplementedError

    def take_token(self, table: str, digest: bytes) -> "Deferred[Optional[bytes]]":
        """
        Remove the token and answer its value (``None`` if it is unknown
        or expired): each token is taken once cluster-wide.
        """
        raise NotImplementedError


# -- In memory ----------------------------------------------------------------


class _MemorySet:
    def __init__(self) -> None:
        # Member to value, in order of arrival.
        self.values: Dict[bytes, bytes] = {}
        self.holders: Dict[bytes, Set[str]] = {}
        self.seq = 0


class _MemoryState:
    """
    What the nodes of one in-process broker share.
    """

    def __init__(self) -> None:
        self.sets: Dict[Tuple[str, bytes], _MemorySet] = {}
        self.alive: Dict[str, float] = {}
        self.tokens: Dict[str, Dict[bytes, Tuple[bytes, float]]] = {}


class MemorySets(SharedSets):
    """
    Shared sets of the in-process broker (and its :meth:`another_node`
    brokers, which pass the same *state*).
    """

    def __init__(self, broker: Any, node_timeout: float, state: Optional[_MemoryState] = None) -> None:
        super().__init__(broker, node_timeout)
        self.state = state or _MemoryState()

    def attach(self) -> None:
        self.start()

    def _check(self) -> Optional[Deferred]:
        if self.broker.available:
            return None
        return fail(BrokerUnavailable("the in-process broker is switched off"))

    def _now(self) -> float:
        return self.broker.reactor.seconds()  # type: ignore[no-any-return]

    def _publish(self, topic: str, kind: bytes, tag: bytes, key: bytes, seq: int,
                 value: bytes) -> None:
        self.broker.publish(topic, kind + tag + b"\n" + key + b"\n%d\n" % seq + value)

    def heartbeat(self) -> "Deferred[bool]":
        refused = self._check()
        if refused is not None:
            return refused
        alive = self.state.alive
        now = self._now()
        lapsed = alive.get(self.node_id, 0.0) <= now
        alive[self.node_id] = now + self.node_timeout
        for node, until in list(alive.items()):
            if until <= now:
                self._reap(node)
        return succeed(lapsed)

    def _reap(self, node: str) -> None:
        self.state.alive.pop(node, None)
        for (topic, key), s in list(self.state.sets.items()):
            for member, holders in list(s.holders.items()):
                if node in holders:
                    self._drop(topic, key, s, member, node, b"")

    def _drop(self, topic: str, key: bytes, s: _MemorySet, member: bytes, node: str, tag: bytes) -> int:
        holders = s.holders[member]
        holders.discard(node)
        if holders:
            return SHARED
        del s.holders[member]
        value = s.values.pop(member)
        if not s.values:
            del self.state.sets[(topic, key)]
        s.seq += 1
        self._publish(topic, b"-", tag, key, s.seq, value)
        return LAST

    def leave_all(self) -> "Deferred[None]":
        refused = self._check()
        if refused is not None:
            return refused
        self._reap(self.node_id)
        return succeed(None)

    def join(
        self, topic: str, key: bytes, member: bytes, value: bytes, tag: bytes,
        exclusive: bool = False, read: bool = False,
    ) -> "Deferred[Tuple[int, List[bytes], int]]":
        refused = self._check()
        if refused is not None:
            return refused
        self.start()
        s = self.state.sets.get((topic, key))
        if s is None:
            s = self.state.sets[(topic, key)] = _MemorySet()
        holders = s.holders.get(member)
        if holders and exclusive:
            status = REFUSED
        elif holders:
            holders.add(self.node_id)
            status = SHARED
        else:
            s.holders[member] = {self.node_id}
            s.values[member] = value
            status = FIRST
            s.seq += 1
        values = list(s.values.values()) if read else []
        seq = s.seq
        if not s.values:
            del self.state.sets[(topic, key)]
        if status == FIRST:
            self._publish(topic, b"+", tag, key, seq, value)
        return succeed((status, values, seq))

    def update(self, topic: str, key: bytes, member: bytes, value: bytes, tag: bytes) -> "Deferred[bool]":
        refused = self._check()
        if refused is not None:
            return refused
        s = self.state.sets.get((topic, key))
        if s is None or self.node_id not in s.holders.get(member, ()):
            return succeed(False)
        s.values[member] = value
        s.seq += 1
        self._publish(topic, b"~", tag, key, s.seq, value)
        return succeed(True)

    def leave(self, topic: str, key: bytes, member: bytes, tag: bytes) -> "Deferred[int]":
        refused = self._check()
        if refused is not None:
            return refused
        s = self.state.sets.get((topic, key))
        if s is None or self.node_id not in s.holders.get(member, ()):
            return succeed(0)
        return succeed(self._drop(topic, key, s, member, self.node_id, tag))

    def read(self, topic: str, key: bytes) -> "Deferred[Tuple[int, List[bytes]]]":
        refused = self._check()
        if refused is not None:
            return refused
        s = self.state.sets.get((topic, key))
        return succeed((0, []) if s is None else (s.seq, list(s.values.values())))

    def send(self, topic: str, key: bytes, member: bytes, payload: bytes) -> "Deferred[bool]":
        refused = self._check()
        if refused is not None:
            return refused
        s = self.state.sets.get((topic, key))
        if s is None or member not in s.holders:
            return succeed(False)
        self.broker.publish(topic, payload)
        return succeed(True)

    def _tokens(self, table: str) -> Dict[bytes, Tuple[bytes, float]]:
        tokens = self.state.tokens.setdefault(table, {})
        now = self._now()
        for digest, (_, until) in list(tokens.items()):
            if until <= now:
                del tokens[digest]
        return tokens

    def put_token(self, table: str, digest: bytes, value: bytes, ttl: float, limit: int) -> "Deferred[bool]":
        refused = self._check()
        if refused is not None:
            return refused
        tokens = self._tokens(table)
        if len(tokens) >= limit:
            return succeed(False)
        tokens[digest] = (value, self._now() + ttl)
        return succeed(True)

    def take_token(self, table: str, digest: bytes) -> "Deferred[Optional[bytes]]":
        refused = self._check()
        if refused is not None:
            return refused
        found = self._tokens(table).pop(digest, None)
        return succeed(None if found is None else found[0])

    def token_count(self, table: str) -> int:
        """
        Unexpired tokens of *table* (for tests).
        """
        return len(self._tokens(table))


# -- Redis ----------------------------------------------------------------------

# Keys, under the prefix P: P:set:T:K a hash ("v"..member: value, "c"..member:
# holder count, "h"..#node..":"..node..member: a hold, "n"..#node..":"..node:
# the node's holds there); P:seto:T:K a sorted set of members by arrival;
# P:node:N the set of "T\nK" a node holds members of; P:nodes the nodes;
# P:alive:N says node N is alive, expiring after node_timeout (set by its
# heartbeats, and by a join before its first one); P:beat:N likewise, set
# by heartbeats only: a beat that finds none knows the node's holds may be
# gone.

_HOLD = b"""
local function hold(node) return 'h' .. #node .. ':' .. node end
local function count(node) return 'n' .. #node .. ':' .. node end
local function keep(ttl, ...)
  for _, k in ipairs({...}) do redis.call('PEXPIRE', k, ttl) end
end
local function drop(P, topic, key, node, member, tag)
  local H = P .. ':set:' .. topic .. ':' .. key
  if redis.call('HDEL', H, hold(node) .. member) == 0 then return 0 end
  if redis.call('HINCRBY', H, count(node), -1) <= 0 then
    redis.call('HDEL', H, count(node))
    redis.call('SREM', P .. ':node:' .. node, topic .. '\\n' .. key)
  end
  if redis.call('HINCRBY', H, 'c' .. member, -1) > 0 then return 1 end
  local v = redis.call('HGET', H, 'v' .. member) or ''
  redis.call('HDEL', H, 'c' .. member, 'v' .. member)
  redis.call('ZREM', P .. ':seto:' .. topic .. ':' .. key, member)
  local q = redis.call('HINCRBY', H, 'q', 1)
  redis.call('PUBLISH', P .. ':t:' .. topic, '-' .. tag .. '\\n' .. key .. '\\n' .. q .. '\\n' .. v)
  if redis.call('HLEN', H) == 1 then redis.call('DEL', H) end
  return 2
end
local function reap(P, node)
  local prefix = hold(node)
  for _, tk in ipairs(redis.call('SMEMBERS', P .. ':node:' .. node)) do
    local sep = string.find(tk, '\\n', 1, true)
    local topic, key = string.sub(tk, 1, sep - 1), string.sub(tk, sep + 1)
    local H = P .. ':set:' .. topic .. ':' .. key
    for _, f in ipairs(redis.call('HKEYS', H)) do
      if string.sub(f, 1, #prefix) == prefix then
        drop(P, topic, key, node, string.sub(f, #prefix + 1), '')
      end
    end
  end
  redis.call('DEL', P .. ':node:' .. node, P .. ':alive:' .. node, P .. ':beat:' .. node)
  redis.call('SREM', P .. ':nodes', node)
end
"""

# ARGV: P, node, node_timeout (ms), mode ('beat' or 'leave'). Answers 1 if
# this node was taken for dead (its holds removed) since its last beat.
_BEAT = _HOLD + b"""
local P, me, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
if ARGV[4] == 'leave' then reap(P, me) return 0 end
local was = redis.call('EXISTS', P .. ':beat:' .. me)
redis.call('SET', P .. ':alive:' .. me, '1', 'PX', ttl)
redis.call('SET', P .. ':beat:' .. me, '1', 'PX', ttl)
redis.call('SADD', P .. ':nodes', me)
for _, n in ipairs(redis.call('SMEMBERS', P .. ':nodes')) do
  if n ~= me and redis.call('EXISTS', P .. ':alive:' .. n) == 0 then reap(P, n) end
end
keep(ttl * 3, P .. ':nodes', P .. ':node:' .. me)
for _, tk in ipairs(redis.call('SMEMBERS', P .. ':node:' .. me)) do
  local sep = string.find(tk, '\\n', 1, true)
  local topic, key = string.sub(tk, 1, sep - 1), string.sub(tk, sep + 1)
  keep(ttl * 3, P .. ':set:' .. topic .. ':' .. key, P .. ':seto:' .. topic .. ':' .. key)
end
if was == 0 then return 2 end
return 0
"""

# ARGV: P, node, topic, key, member, value, tag, exclusive, node_timeout (ms),
# read. Answers {status, values of the set if read...}.
_JOIN = _HOLD + b"""
local function answer(P, topic, key, status)
  local H = P .. ':set:' .. topic .. ':' .. key
  local out = {status, tonumber(redis.call('HGET', H, 'q') or '0')}
  if ARGV[10] ~= '1' then return out end
  local members = redis.call('ZRANGE', P .. ':seto:' .. topic .. ':' .. key, 0, -1)
  for i, m in ipairs(members) do
    out[i + 2] = redis.call('HGET', H, 'v' .. m)
  end
  return out
end
local P, me, topic, key, member = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local H = P .. ':set:' .. topic .. ':' .. key
local O = P .. ':seto:' .. topic .. ':' .. key
local ttl = tonumber(ARGV[9])
if redis.call('HEXISTS', H, hold(me) .. member) == 1 then
  if ARGV[8] == '1' then return answer(P, topic, key, 0) end
  return answer(P, topic, key, 1)
end
local c = tonumber(redis.call('HGET', H, 'c' .. member) or '0')
if c > 0 and ARGV[8] == '1' then return answer(P, topic, key, 0) end
redis.call('HSET', H, hold(me) .. member, '1')
redis.call('HINCRBY', H, count(me), 1)
redis.call('HSET', H, 'c' .. member, c + 1)
redis.call('SADD', P .. ':node:' .. me, topic .. '\\n' .. key)
redis.call('SADD', P .. ':nodes', me)
if redis.call('EXISTS', P .. ':alive:' .. me) == 0 then
  redis.call('SET', P .. ':alive:' .. me, '1', 'PX', ttl)
end
keep(ttl * 3, H, P .. ':node:' .. me, P .. ':nodes')
if c > 0 then return answer(P, topic, key, 1) end
local t = redis.call('TIME')
redis.call('HSET', H, 'v' .. member, ARGV[6])
redis.call('ZADD', O, t[1] .. string.format('%06d', tonumber(t[2])), member)
keep(ttl * 3, O)
local q = redis.call('HINCRBY', H, 'q', 1)
redis.call('PUBLISH', P .. ':t:' .. topic, '+' .. ARGV[7] .. '\\n' .. key .. '\\n' .. q .. '\\n' .. ARGV[6])
return answer(P, topic, key, 2)
"""

# ARGV: P, node, topic, key, member, value, tag.
_UPDATE = _HOLD + b"""
local P, me, topic, key, member = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local H = P .. ':set:' .. topic .. ':' .. key
if redis.call('HEXISTS', H, hold(me) .. member) == 0 then return 0 end
redis.call('HSET', H, 'v' .. member, ARGV[6])
local q = redis.call('HINCRBY', H, 'q', 1)
redis.call('PUBLISH', P .. ':t:' .. topic, '~' .. ARGV[7] .. '\\n' .. key .. '\\n' .. q .. '\\n' .. ARGV[6])
return 1
"""

# ARGV: P, node, topic, key, member, tag.
_LEAVE = _HOLD + b"""
return drop(ARGV[1], ARGV[3], ARGV[4], ARGV[2], ARGV[5], ARGV[6])
"""

# ARGV: P, topic, key.
_READ = b"""
local P, topic, key = ARGV[1], ARGV[2], ARGV[3]
local H = P .. ':set:' .. topic .. ':' .. key
local q = tonumber(redis.call('HGET', H, 'q') or '0')
local members = redis.call('ZRANGE', P .. ':seto:' .. topic .. ':' .. key, 0, -1)
if #members == 0 then return {q} end
local fields = {}
for i, m in ipairs(members) do fields[i] = 'v' .. m end
local out = redis.call('HMGET', H, unpack(fields))
table.insert(out, 1, q)
return out
"""

# ARGV: P, topic, key, member, payload.
_SEND = b"""
local P, topic, key = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HEXISTS', P .. ':set:' .. topic .. ':' .. key, 'c' .. ARGV[4]) == 0 then
  return 0
end
redis.call('PUBLISH', P .. ':t:' .. topic, ARGV[5])
return 1
"""

# KEYS: the table's index, the token. ARGV: digest, value, ttl (ms), limit.
_PUT_TOKEN = b"""
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1
"""

# KEYS: the table's index, the token. ARGV: digest.
_TAKE_TOKEN = b"""
local v = redis.call('GET', KEYS[2])
if v then
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return v
"""


def _ms(seconds: float) -> bytes:
    return b"%d" % max(1, int(seconds * 1000))


class RedisSets(SharedSets):
    """
    Shared sets of the Redis broker.
    """

    def _run(self, script: bytes, *args: Any) -> Deferred:
        prefix = self.broker.prefix.encode("utf-8")
        values = [a.encode("utf-8") if isinstance(a, str) else a for a in args]
        return self.broker._eval(script, [], [prefix] + values)  # type: ignore[no-any-return]

    def _node(self) -> bytes:
        return self.node_id.encode("utf-8")

    def heartbeat(self) -> "Deferred[bool]":
        return self._run(_BEAT, self._node(), _ms(self.node_timeout), b"beat").addCallback(
            lambda n: int(n) == 2
        )

    def leave_all(self) -> "Deferred[None]":
        return self._run(_BEAT, self._node(), _ms(self.node_timeout), b"leave").addCallback(
            lambda _: None
        )

    def join(
        self, topic: str, key: bytes, member: bytes, value: bytes, tag: bytes,
        exclusive: bool = False, read: bool = False,
    ) -> "Deferred[Tuple[int, List[bytes], int]]":
        return self._run(
            _JOIN, self._node(), topic, key, member, value, tag,
            b"1" if exclusive else b"0", _ms(self.node_timeout), b"1" if read else b"0",
        ).addCallback(lambda reply: (
            int(reply[0]), [v for v in reply[2:] if v is not None], int(reply[1])
        ))

    def update(self, topic: str, key: bytes, member: bytes, value: bytes, tag: bytes) -> "Deferred[bool]":
        return self._run(_UPDATE, self._node(), topic, key, member, value, tag).addCallback(
            lambda n: int(n) == 1
        )

    def leave(self, topic: str, key: bytes, member: bytes, tag: bytes) -> "Deferred[int]":
        return self._run(_LEAVE, self._node(), topic, key, member, tag).addCallback(int)

    def read(self, topic: str, key: bytes) -> "Deferred[Tuple[int, List[bytes]]]":
        return self._run(_READ, topic, key).addCallback(
            lambda reply: (int(reply[0]), [v for v in reply[1:] if v is not None])
        )

    def send(self, topic: str, key: bytes, member: bytes, payload: bytes) -> "Deferred[bool]":
        return self._run(_SEND, topic, key, member, payload).addCallback(
            lambda n: int(n) == 1
        )

    def _token_keys(self, table: str, digest: bytes) -> List[bytes]:
        return [self.broker._key("tk", table), self.broker._key("tk", table) + b":" + digest.hex().encode()]

    def put_token(self, table: str, digest: bytes, value: bytes, ttl: float, limit: int) -> "Deferred[bool]":
        return self.broker._eval(  # type: ignore[no-any-return]
            _PUT_TOKEN, self._token_keys(table, digest),
            [digest.hex().encode(), value, _ms(ttl), b"%d" % limit],
        ).addCallback(lambda n: int(n) == 1)

    def take_token(self, table: str, digest: bytes) -> "Deferred[Optional[bytes]]":
        return self.broker._eval(  # type: ignore[no-any-return]
            _TAKE_TOKEN, self._token_keys(table, digest), [digest.hex().encode()]
        )


def when_all(ds: List[Deferred]) -> Deferred:
    """
    Fires when every one of *ds* has (errors consumed).
    """
    return defer.DeferredList(ds, consumeErrors=True)
