"""Rate limits and nonces shared by processes on any number of machines, through one Redis.

    async with RedisCoordination("redis://127.0.0.1:6379/0") as coordination:
        private = coordination.limit("btcalpha", "private", key, rate=1, burst=1)
        limiter = coordination.limiter(private)
        nonces = coordination.nonce_manager("btcalpha", key, ordered=True)
        await limiter.acquire()
        async with nonces.sequence() as nonce:
            ...  # sign with the nonce, send, await the answer

**Rate limits** follow :mod:`core.ratelimit` (GCRA, weighted, several buckets at once, a
429 holds the whole bucket), run atomically by a Lua script on Redis's clock (``TIME``), so
every process reserves from one theoretical arrival time whatever its own clock says. The
script reserves the slot; the caller then sleeps until it, and on waking asks whether a
penalty arrived meanwhile (and if so waits that much longer, as an in-process waiter is
moved back). Keys ``exconn:rl:{exchange}:{pool}[:{key fingerprint}]``, never the raw key.

**Nonces** are ``max(local clock in unit + exchange offset, high-water mark + 1)``, raised
atomically by a Lua script; the mark is ``exconn:nonce:{exchange}:{key fingerprint}``. The
candidate comes from this process's clock corrected to the exchange's
(:meth:`RedisNonceManager.observe_server_time`), not from Redis's clock: the exchange judges
a nonce by its own time, and Redis's clock would be a third one. In ordered mode a per-key
lock (``…:lock``: a token with an expiry, renewed while held, released by check-and-delete)
is taken by the same script that issues the nonce and held until the block exits, so one
key's signed requests leave in nonce order across processes; a waiter blocks on ``…:wake``
(BLPOP), which every release pushes.

**Failure**: a Redis call is retried a few times with a short backoff, then raises
:class:`CoordinationUnavailable`; no permit or nonce is ever handed out unconfirmed. A
penalty told while Redis is away stays pending and rides on the next call. Releasing or
renewing an ordered-nonce lock never raises (the request is already sent): the lock
expires instead. After a restart that lost Redis's data, a process that saw a bucket in
use within its key's lifetime (a minute past its last use) takes it as just used up, and
nonces stay above earlier ones by the clock floor and each process's own last nonce (exact
unless nonces ran ahead of the clock by more than the restart took, i.e. more than one
nonce per unit was sustained); a lock lost that way can let two blocks overlap once, which
at worst costs an InvalidNonce answer, never an extra request.

Needs Redis >= 6 on one server or a Sentinel-managed primary (not Cluster: one script
touches several buckets). Objects belong to the event loop that first uses them.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, AsyncContextManager, Literal, TypeVar
from urllib.parse import urlsplit

from core.credentials import key_fingerprint
from core.errors import CoordinationUnavailable
from core.logging import get_logger
from core.nonce import NonceManager

try:
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import NoScriptError, RedisError
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("core.distributed needs the redis package: pip install 'exconn[redis]'") from exc

__all__ = [
    "CoordinationUnavailable",
    "RedisCoordination",
    "RedisRateLimit",
    "RedisRateLimiter",
    "RedisNonceManager",
]

T = TypeVar("T")

_log = get_logger("distributed")

# Seconds of float rounding to forgive at the burst edge (as core.ratelimit does): a
# request exactly at the edge passes without sleeping.
_SLACK = 1e-6
_FIRST_RETRY_DELAY = 0.05  # seconds; doubles on each further retry
_BUCKET_KEEP = 60.0  # seconds a bucket outlives its last use in Redis
_NONCE_UNITS = {"s": 1, "ms": 1_000, "us": 1_000_000}  # nonce units per second


class _Script:
    """A Lua script and its SHA-1, for EVALSHA."""

    __slots__ = ("source", "sha")

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()


# ------------------------------------------------------------------------ Lua scripts

_GCRA = _Script("""
-- GCRA over several buckets at once on the server clock, with core.ratelimit's rules.
-- KEYS: one hash per bucket: tat, hold (server-clock seconds), shift (seconds of penalty
--   extension ever applied, so a waiter can tell how far it was moved back).
-- ARGV[1] weight (0: only apply penalties and report), ARGV[2] seconds a bucket outlives its
--   use, then per bucket: interval (s per unit), tolerance (s), penalty (s, 0 none) and its
--   age (s since the caller was told: it applies as of then), the caller's last seen tat
--   and hold (0 none).
-- Returns seconds to wait, then tat, hold, shift per bucket, all as %.17g text.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local weight = tonumber(ARGV[1])
local keep = tonumber(ARGV[2])
local buckets = {}
local slot = now
for i, key in ipairs(KEYS) do
  local arg = 2 + (i - 1) * 6
  local interval, tolerance = tonumber(ARGV[arg + 1]), tonumber(ARGV[arg + 2])
  local penalty, penalized_at = tonumber(ARGV[arg + 3]), now - tonumber(ARGV[arg + 4])
  local seen_tat, seen_hold = tonumber(ARGV[arg + 5]), tonumber(ARGV[arg + 6])
  local stored = redis.call('HMGET', key, 'tat', 'hold', 'shift')
  local tat, hold, shift
  if stored[1] then
    tat, hold, shift = tonumber(stored[1]), tonumber(stored[2]), tonumber(stored[3])
  else
    tat, hold, shift = seen_tat, seen_hold, 0
    if seen_tat + keep > now then
      -- the caller saw it in use too recently for it to have expired: Redis lost it
      -- (restart without persistence, failover), so take it as just used up
      tat = math.max(tat, now + tolerance)
    end
  end
  if penalty > 0 then
    local extension = penalized_at + penalty - math.max(hold, penalized_at)
    if extension > 0 then
      hold = penalized_at + penalty
      tat = math.max(tat, penalized_at) + extension
      shift = shift + extension
    end
  end
  if weight > 0 then
    slot = math.max(slot, tat + weight * interval - tolerance, hold)
  end
  buckets[i] = {tat, hold, shift, interval}
end
local reply = {string.format('%.17g', slot - now)}
for i, key in ipairs(KEYS) do
  local bucket = buckets[i]
  local tat = bucket[1]
  if weight > 0 then
    tat = math.max(slot, tat) + weight * bucket[4]
  end
  local fields = {string.format('%.17g', tat), string.format('%.17g', bucket[2]), string.format('%.17g', bucket[3])}
  redis.call('HSET', key, 'tat', fields[1], 'hold', fields[2], 'shift', fields[3])
  redis.call('PEXPIRE', key, math.ceil((math.max(tat, bucket[2], now) - now + keep) * 1000))
  reply[#reply + 1] = fields[1]
  reply[#reply + 1] = fields[2]
  reply[#reply + 1] = fields[3]
end
return reply
""")

# Raises the mark of KEYS[1] to max(ARGV[c] = candidate, mark + 1, ARGV[c + 1] = the
# caller's last nonce + 1) and leaves it in `nonce`.
_RAISE_MARK = """
local mark = tonumber(redis.call('GET', KEYS[1]) or '0')
local nonce = math.max(tonumber(ARGV[c]), mark + 1, tonumber(ARGV[c + 1]) + 1)
redis.call('SET', KEYS[1], string.format('%d', nonce))
"""

_ISSUE = _Script("""
-- KEYS[1] nonce mark; ARGV[1] candidate nonce, ARGV[2] the caller's last nonce (0 none).
local c = 1
""" + _RAISE_MARK + """
return nonce
""")

_LOCK_AND_ISSUE = _Script("""
-- KEYS[1] nonce mark, KEYS[2] lock; ARGV[1] token, ARGV[2] lock expiry (ms), ARGV[3]
-- candidate nonce, ARGV[4] the caller's last nonce. Returns {1, nonce} with the lock taken
-- (or already ours), else {0, ms the lock still has}.
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then
  return {0, redis.call('PTTL', KEYS[2])}
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
local c = 3
""" + _RAISE_MARK + """
return {1, nonce}
""")

_RELEASE = _Script("""
-- KEYS[1] lock, KEYS[2] wake list; ARGV[1] token, ARGV[2] ms the wake-up may wait for a
-- taker. Deletes the lock only if the token still holds it, then wakes one waiter.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('RPUSH', KEYS[2], 1)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
""")

_RENEW = _Script("""
-- KEYS[1] lock; ARGV[1] token, ARGV[2] expiry (ms). 1 if still ours and extended, else 0.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
""")


# ------------------------------------------------------------------------ the connection

class RedisCoordination:
    """One Redis client shared by the buckets and nonce managers it makes; close it (or use
    ``async with``) when done. `timeout` is seconds per connect and per reply, `retries`
    how often a failed call is retried (after 0.05 s, 0.1 s, …) before
    :class:`CoordinationUnavailable`, `lock_ttl` the seconds an ordered-nonce lock outlives a
    crashed holder (renewed every third of it while held); at most `max_connections`
    connections are open at once."""

    __slots__ = ("_client", "_where", "_timeout", "_retries", "_lock_ttl", "_flushes", "_connections")

    def __init__(self, url: str, *, timeout: float = 1.0, retries: int = 3, lock_ttl: float = 5.0,
                 max_connections: int = 50) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"coordination needs a redis://, rediss:// or unix:// URL, not {parts.scheme}://")
        if not (timeout > 0 and retries >= 0 and lock_ttl > 0):
            raise ValueError("timeout and lock_ttl must be > 0 seconds and retries >= 0")
        # for messages and reprs: no user, password or query (which may carry a password)
        self._where = parts._replace(netloc=parts.netloc.rpartition("@")[2], query="").geturl()
        self._timeout = timeout
        self._retries = retries
        self._lock_ttl = lock_ttl
        self._flushes: set[asyncio.Task[None]] = set()
        # a burst of callers queues here, in call order, rather than overflowing the pool
        self._connections = asyncio.Semaphore(max_connections)
        # retries are ours (bounded, then a typed error), not the client's
        self._client = Redis.from_url(url, max_connections=max_connections, socket_timeout=timeout,
                                      socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0))

    def limit(self, exchange: str, pool: str, key: str | None, rate: float, period: float = 1.0,
              burst: float | None = None) -> RedisRateLimit:
        """The bucket every process shares for (exchange, pool, API key), like
        :func:`core.ratelimit.shared_limit`; `key` None is the per-IP pool, then shared by
        every machine using this Redis (safe, if slower than one IP per machine)."""
        name = f"{exchange}:{pool}" if key is None else f"{exchange}:{pool}:{key_fingerprint(key)}"
        return RedisRateLimit(self, name, rate, period, burst)

    def limiter(self, *limits: RedisRateLimit) -> RedisRateLimiter:
        """A limiter over buckets of this coordination."""
        return RedisRateLimiter(*limits)

    def nonce_manager(self, exchange: str, key: str, *, unit: Literal["s", "ms", "us"] = "ms",
                      clock: Callable[[], float] = time.time, ordered: bool = False) -> RedisNonceManager:
        """Nonces for one API key, strictly increasing across every process that shares it."""
        return RedisNonceManager(self, exchange, key, unit=unit, clock=clock, ordered=ordered)

    async def __aenter__(self) -> RedisCoordination:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Push penalties still in flight, then close the client. Idempotent."""
        if self._flushes:
            await asyncio.gather(*self._flushes)
        await self._client.aclose()

    def __repr__(self) -> str:
        return f"RedisCoordination({self._where})"

    async def _retrying(self, command: Callable[[], Awaitable[T]]) -> T:
        """Run `command`, retrying Redis and socket errors with a short doubling backoff."""
        error: BaseException | None = None
        for attempt in range(self._retries + 1):
            try:
                async with self._connections:
                    return await command()
            except (RedisError, OSError) as exc:
                error = exc
            if attempt < self._retries:
                await asyncio.sleep(_FIRST_RETRY_DELAY * 2 ** attempt)
        raise CoordinationUnavailable(
            f"Redis at {self._where} failed {self._retries + 1} times ({type(error).__name__}): no permit or nonce given"
        ) from error

    async def _eval(self, script: _Script, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run a script (EVALSHA, or EVAL when the server lacks it, e.g. after a restart)."""

        async def run() -> Any:
            try:
                return await self._client.evalsha(script.sha, len(keys), *keys, *args)
            except NoScriptError:
                return await self._client.eval(script.source, len(keys), *keys, *args)

        return await self._retrying(run)

    async def _wait_for_push(self, key: str, seconds: float) -> None:
        """Block until `key` (a list) is pushed, or `seconds` pass (capped below the reply timeout)."""
        wait = min(max(seconds, 0.001), self._timeout / 2)
        await self._retrying(lambda: self._client.blpop([key], timeout=wait))


# ------------------------------------------------------------------------ rate limits

class RedisRateLimit:
    """One bucket held in Redis: `rate` units per `period` seconds, `burst` units at once
    (default `rate`); made by :meth:`RedisCoordination.limit`."""

    __slots__ = ("_coordination", "_name", "_key", "_rate", "_period", "_burst", "_interval",
                 "_tolerance", "_seen_tat", "_seen_hold", "_penalty")

    def __init__(self, coordination: RedisCoordination, name: str, rate: float, period: float = 1.0,
                 burst: float | None = None) -> None:
        if burst is None:
            burst = rate
        if not (rate > 0 and period > 0 and burst > 0):
            raise ValueError(f"rate limit {name!r}: rate, period and burst must be > 0")
        self._coordination = coordination
        self._name = name
        self._key = f"exconn:rl:{name}"
        self._rate = rate
        self._period = period
        self._burst = burst
        self._interval = period / rate  # seconds per unit
        self._tolerance = burst * self._interval  # seconds of credit a full bucket holds
        self._seen_tat = 0.0  # the latest state seen in Redis, server-clock seconds
        self._seen_hold = 0.0
        # a penalty not yet confirmed by Redis: (time.monotonic() when told, seconds), or None
        self._penalty: tuple[float, float] | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def key(self) -> str:
        """The Redis key of the bucket."""
        return self._key

    @property
    def rate(self) -> float:
        """Units per `period`."""
        return self._rate

    @property
    def period(self) -> float:
        """Seconds."""
        return self._period

    @property
    def burst(self) -> float:
        """Units that may pass at once."""
        return self._burst

    def penalize(self, delay: float) -> None:
        """Let nothing pass for `delay` seconds from now, in every process (429 / Retry-After)."""
        RedisRateLimiter(self).penalize(delay)

    def __repr__(self) -> str:
        return (f"RedisRateLimit({self._name!r}, rate={self._rate:g}, period={self._period:g}, "
                f"burst={self._burst:g})")


class RedisRateLimiter:
    """Acquires weighted permits from one or more Redis buckets at once; the same calls as
    :class:`core.ratelimit.RateLimiter`. Admission is FIFO in the order requests reach Redis."""

    __slots__ = ("_limits", "_coordination")

    def __init__(self, *limits: RedisRateLimit) -> None:
        if not limits:
            raise ValueError("RedisRateLimiter needs at least one RedisRateLimit")
        self._coordination = limits[0]._coordination
        if any(limit._coordination is not self._coordination for limit in limits):
            raise ValueError("all RedisRateLimits of one limiter must share a RedisCoordination")
        self._limits = limits

    async def acquire(self, weight: float = 1.0, *, limits: Sequence[RedisRateLimit] | None = None) -> None:
        """Wait until `weight` units may pass in every bucket (all of this limiter's by default).

        Raises :class:`CoordinationUnavailable` if Redis cannot confirm the permit."""
        buckets = self._limits if limits is None else limits
        if not weight > 0:
            raise ValueError(f"weight must be > 0, got {weight!r}")
        for limit in buckets:
            if weight > limit._burst:
                raise ValueError(f"weight {weight!r} exceeds the burst of {limit!r}: it could never pass")
        delay, shifts = await self._update(buckets, weight)
        while delay > _SLACK:
            await asyncio.sleep(delay)
            # a penalty since the reservation moves this waiter back by its extension
            _, now_shifts = await self._update(buckets, 0.0)
            delay = max(now - then for now, then in zip(now_shifts, shifts))
            shifts = now_shifts

    def penalize(self, delay: float, *, limits: Sequence[RedisRateLimit] | None = None) -> None:
        """Let nothing pass in the buckets for `delay` seconds, in every process; a waiter
        anywhere moves back by the extension. Returns at once: this process's next acquire
        carries the penalty, and a background call tells the other processes now."""
        if not delay >= 0:
            raise ValueError(f"penalty delay must be >= 0 seconds, got {delay!r}")
        buckets = self._limits if limits is None else limits
        now = time.monotonic()
        for limit in buckets:
            pending = limit._penalty
            if pending is None or sum(pending) < now + delay:  # overlapping, not added up
                limit._penalty = (now, delay)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: the next acquire carries it
        flushes = self._coordination._flushes
        task = loop.create_task(self._flush(buckets))
        flushes.add(task)
        task.add_done_callback(flushes.discard)

    async def _flush(self, buckets: Sequence[RedisRateLimit]) -> None:
        try:
            await self._update(buckets, 0.0)
        except CoordinationUnavailable as exc:
            _log.warning("penalty not shared yet; the next acquire carries it", error=str(exc))

    async def _update(self, buckets: Sequence[RedisRateLimit], weight: float) -> tuple[float, list[float]]:
        """Apply pending penalties and reserve `weight` (0: none) in Redis; returns the
        seconds to wait and each bucket's penalty shift."""
        now = time.monotonic()
        pending = [limit._penalty for limit in buckets]
        args: list[Any] = [weight, _BUCKET_KEEP]
        for limit, penalty in zip(buckets, pending):
            penalized_at, delay = penalty or (now, 0.0)
            args += [limit._interval, limit._tolerance, delay, now - penalized_at, limit._seen_tat, limit._seen_hold]
        reply = await self._coordination._eval(_GCRA, [limit._key for limit in buckets], args)
        shifts = []
        for i, (limit, penalty) in enumerate(zip(buckets, pending)):
            tat, hold, shift = (float(value) for value in reply[1 + 3 * i: 4 + 3 * i])
            limit._seen_tat = max(limit._seen_tat, tat)
            limit._seen_hold = max(limit._seen_hold, hold)
            if limit._penalty is penalty:
                limit._penalty = None
            shifts.append(shift)
        return float(reply[0]), shifts

    def __repr__(self) -> str:
        return f"RedisRateLimiter({', '.join(map(repr, self._limits))})"


# ------------------------------------------------------------------------ nonces

class RedisNonceManager:
    """Strictly increasing nonces for one API key across processes; the interface of
    :class:`core.nonce.NonceManager` except ``next()`` (a network round trip cannot be
    synchronous): take nonces with ``async with manager.sequence() as nonce``."""

    __slots__ = ("_coordination", "_exchange_clock", "_scale", "_mark_key", "_lock_key", "_wake_key",
                 "_last", "_sequence")

    def __init__(self, coordination: RedisCoordination, exchange: str, key: str, *,
                 unit: Literal["s", "ms", "us"] = "ms", clock: Callable[[], float] = time.time,
                 ordered: bool = False) -> None:
        # the local manager validates the unit and keeps the exchange clock's offset
        self._exchange_clock = NonceManager(unit=unit, clock=clock)
        self._scale = _NONCE_UNITS[unit]
        self._coordination = coordination
        self._mark_key = f"exconn:nonce:{exchange}:{key_fingerprint(key)}"
        self._lock_key = self._mark_key + ":lock"
        self._wake_key = self._mark_key + ":wake"
        self._last: int | None = None
        self._sequence: AsyncContextManager[int] = (
            _InOrderAcrossProcesses(self) if ordered else _IssueAcrossProcesses(self)
        )

    @property
    def last(self) -> int | None:
        """The last nonce this process issued, or None before the first."""
        return self._last

    @property
    def clock(self) -> Callable[[], float]:
        """The local clock nonces are read from (epoch seconds)."""
        return self._exchange_clock.clock

    @property
    def offset(self) -> int:
        """Server clock minus local clock, in nonce units."""
        return self._exchange_clock.offset

    @property
    def key(self) -> str:
        """The Redis key of the high-water mark."""
        return self._mark_key

    def observe_server_time(self, server_time_ms: int, *, sent_at: float | None = None,
                            received_at: float | None = None) -> None:
        """Follow the exchange's clock: `server_time_ms` in epoch ms; `sent_at`, `received_at`
        are the request's round trip in `clock` seconds."""
        self._exchange_clock.observe_server_time(server_time_ms, sent_at=sent_at, received_at=received_at)

    def sequence(self) -> AsyncContextManager[int]:
        """``async with nm.sequence() as nonce:`` issues a nonce confirmed by Redis; if ordered,
        blocks of every process sharing the key run one at a time in nonce order (send and
        await the signed request inside). Raises :class:`CoordinationUnavailable` if Redis
        cannot confirm one."""
        return self._sequence

    def _candidate(self) -> int:
        """This machine's estimate of the exchange's clock, in nonce units."""
        return int(self._exchange_clock.clock() * self._scale) + self._exchange_clock.offset

    def _record(self, nonce: int) -> int:
        if self._last is None or nonce > self._last:
            self._last = nonce
        return nonce

    async def _issue(self) -> int:
        nonce = await self._coordination._eval(_ISSUE, [self._mark_key], [self._candidate(), self._last or 0])
        return self._record(int(nonce))

    async def _lock_and_issue(self, token: str) -> int:
        """Take the key's lock (waiting for its holder's release or expiry) and issue a nonce."""
        coordination = self._coordination
        ttl_ms = round(coordination._lock_ttl * 1000)
        while True:
            taken, value = await coordination._eval(
                _LOCK_AND_ISSUE, [self._mark_key, self._lock_key], [token, ttl_ms, self._candidate(), self._last or 0])
            if taken:
                return self._record(int(value))
            await coordination._wait_for_push(self._wake_key, int(value) / 1000)

    async def _renew(self, token: str) -> bool:
        """Extend the lock if `token` still holds it."""
        coordination = self._coordination
        return bool(await coordination._eval(_RENEW, [self._lock_key], [token, round(coordination._lock_ttl * 1000)]))

    async def _release(self, token: str) -> None:
        """Release the lock if `token` holds it and wake a waiter; if Redis is down, the lock expires."""
        coordination = self._coordination
        try:
            await coordination._eval(_RELEASE, [self._lock_key, self._wake_key],
                                     [token, round(coordination._lock_ttl * 1000)])
        except CoordinationUnavailable as exc:
            _log.warning("nonce lock not released; it expires", lock=self._lock_key, error=str(exc))

    def __repr__(self) -> str:
        ordered = isinstance(self._sequence, _InOrderAcrossProcesses)
        return (f"RedisNonceManager({self._mark_key!r}, last={self._last}, offset={self.offset}, "
                f"ordered={ordered})")


class _IssueAcrossProcesses:
    """``sequence()`` when unordered: issues a nonce and holds nothing."""

    __slots__ = ("_manager",)

    def __init__(self, manager: RedisNonceManager) -> None:
        self._manager = manager

    async def __aenter__(self) -> int:
        return await self._manager._issue()

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class _InOrderAcrossProcesses:
    """``sequence()`` when ordered: a FIFO lock in the process, then the key's Redis lock,
    held from issuing the nonce to the end of the block and renewed meanwhile."""

    __slots__ = ("_manager", "_token", "_lock", "_loop", "_renewal")

    def __init__(self, manager: RedisNonceManager) -> None:
        self._manager = manager
        self._token = secrets.token_hex(16)  # one block at a time holds it: the local lock sees to that
        self._lock: asyncio.Lock | None = None  # made on first use, inside a running loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._renewal: asyncio.TimerHandle | asyncio.Task[None] | None = None

    async def __aenter__(self) -> int:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or the manager outlived an earlier event loop
            self._lock = asyncio.Lock()
            self._loop = loop
        lock = self._lock
        assert lock is not None
        await lock.acquire()
        try:
            nonce = await self._manager._lock_and_issue(self._token)
        except BaseException:
            lock.release()
            raise
        self._renewal = loop.call_later(self._manager._coordination._lock_ttl / 3, self._start_renewal)
        return nonce

    async def __aexit__(self, *exc_info: object) -> None:
        renewal, self._renewal = self._renewal, None
        if renewal is not None:
            renewal.cancel()
        try:
            await self._manager._release(self._token)
        finally:
            self._lock.release()  # type: ignore[union-attr]  # __aenter__ made it

    def _start_renewal(self) -> None:
        self._renewal = asyncio.get_running_loop().create_task(self._renew_while_held())

    async def _renew_while_held(self) -> None:
        """Extend the lock every third of its expiry until the block exits (cancelled) or it is lost."""
        manager = self._manager
        while True:
            try:
                held = await manager._renew(self._token)
            except CoordinationUnavailable as exc:
                _log.warning("nonce lock not renewed; it may expire", lock=manager._lock_key, error=str(exc))
                return
            if not held:
                _log.warning("nonce lock lost before the block ended", lock=manager._lock_key)
                return
            await asyncio.sleep(manager._coordination._lock_ttl / 3)
