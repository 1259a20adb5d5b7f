"""Rate limiting by virtual scheduling (GCRA): fair, weighted, several buckets per request.

Each :class:`RateLimit` keeps a theoretical arrival time (TAT). A request computes the
earliest slot at which every bucket it needs allows its weight, advances each TAT as if it
had been sent at that slot, then waits until the slot. Reserving before waiting is what
makes admission FIFO in call order: a later request's slot is computed after, and from,
every earlier reservation. Under the limit the slot is *now* and ``acquire`` returns without
suspending. A waiter is a future woken by ``loop.call_at``; nothing polls.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Callable, Iterable, Sequence

__all__ = ["RateLimit", "RateLimiter", "shared_limit"]

# Seconds of float rounding in a summed TAT to forgive, so a request exactly at the burst
# edge passes without suspending; it admits at most rate * 1 µs units early.
_SLACK = 1e-6


def _loop_time() -> float:
    """Monotonic seconds: the running loop's clock, else ``time.monotonic()``."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


class RateLimit:
    """One bucket (GCRA / virtual scheduling): `rate` units per `period` seconds, allowing
    `burst` units at once (default `rate`)."""

    __slots__ = ("_name", "_rate", "_period", "_burst", "_clock", "_interval", "_tolerance",
                 "_tat", "_hold", "_waiters", "__weakref__")

    def __init__(
        self,
        name: str,
        rate: float,
        period: float = 1.0,
        burst: float | None = None,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if burst is None:
            burst = rate
        if not (rate > 0 and period > 0 and burst > 0):
            raise ValueError(f"rate limit {name!r}: rate, period and burst must be > 0")
        self._name = name
        self._rate = rate
        self._period = period
        self._burst = burst
        self._clock = _loop_time if clock is None else clock
        self._interval = period / rate  # seconds per unit
        self._tolerance = burst * self._interval  # seconds of credit a full bucket holds
        self._tat = -math.inf  # theoretical arrival time, in clock seconds
        self._hold = -math.inf  # penalty: nothing passes before this, in clock seconds
        self._waiters: set[_Waiter] = set()

    @property
    def name(self) -> str:
        return self._name

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
        """Let nothing pass for `delay` seconds from now (429 / Retry-After); waiters move back
        by as much, in order."""
        _penalize((self,), delay)

    def __repr__(self) -> str:
        return (f"RateLimit({self._name!r}, rate={self._rate:g}, period={self._period:g}, "
                f"burst={self._burst:g})")


class _Waiter:
    """A reservation waiting for its slot: `when` is in loop seconds."""

    __slots__ = ("when", "future", "handle")

    def __init__(self, when: float, future: asyncio.Future[None], handle: asyncio.TimerHandle) -> None:
        self.when = when
        self.future = future
        self.handle = handle


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _penalize(limits: Iterable[RateLimit], delay: float) -> None:
    """Hold each bucket until now + `delay` s and push its waiters back by the extension.

    Penalties overlap rather than add, so concurrent 429s for one overload do not compound.
    A moved waiter still counts at its old slot in its other buckets: penalize those too.
    """
    if not delay >= 0:
        raise ValueError(f"penalty delay must be >= 0 seconds, got {delay!r}")
    pushes: dict[_Waiter, float] = {}
    for limit in set(limits):
        now = limit._clock()
        shift = now + delay - max(limit._hold, now)
        if shift <= 0:
            continue
        limit._hold = now + delay
        limit._tat = max(limit._tat, now) + shift
        for waiter in limit._waiters:
            if pushes.get(waiter, 0.0) < shift:
                pushes[waiter] = shift
    for waiter, shift in pushes.items():
        if waiter.future.done():
            continue
        loop = waiter.future.get_loop()
        waiter.handle.cancel()
        waiter.when += shift
        waiter.handle = loop.call_at(waiter.when, _wake, waiter.future)


class RateLimiter:
    """Acquires weighted permits from one or more RateLimits at once, FIFO across callers.

    Buckets acquired together must share one clock. FIFO holds among requests on the same
    buckets; a request may pass one that waits for a bucket it does not use.
    """

    __slots__ = ("_limits", "_clock")

    def __init__(self, *limits: RateLimit) -> None:
        if not limits:
            raise ValueError("RateLimiter needs at least one RateLimit")
        self._clock = limits[0]._clock
        if any(limit._clock != self._clock for limit in limits):
            raise ValueError("all RateLimits of one RateLimiter must share a clock")
        self._limits = limits

    def reserve(self, weight: float = 1.0, *, limits: Sequence[RateLimit] | None = None,
                now: float | None = None) -> float:
        """Reserve `weight` units in every bucket; return the seconds to wait (0.0 if now).

        A caller that waits on its own is not moved by a later ``penalize``; ``acquire`` is.
        """
        return _reserve(self._limits if limits is None else limits, weight,
                        self._clock() if now is None else now)

    async def acquire(self, weight: float = 1.0, *, limits: Sequence[RateLimit] | None = None) -> None:
        """Wait until `weight` units may pass in every bucket (all of this limiter's by default)."""
        buckets = self._limits if limits is None else limits
        delay = _reserve(buckets, weight, self._clock())
        if delay:
            await _wait(delay, buckets)

    def penalize(self, delay: float, *, limits: Sequence[RateLimit] | None = None) -> None:
        """Let nothing pass in the buckets for `delay` seconds; a waiter in several moves back once."""
        _penalize(self._limits if limits is None else limits, delay)

    def __repr__(self) -> str:
        return f"RateLimiter({', '.join(map(repr, self._limits))})"


def _reserve(limits: Sequence[RateLimit], weight: float, now: float) -> float:
    """Advance every bucket's TAT as if `weight` units passed at the earliest slot all allow;
    return seconds from `now` (clock seconds) to that slot."""
    if not weight > 0:
        raise ValueError(f"weight must be > 0, got {weight!r}")
    slot = now
    for limit in limits:
        if weight > limit._burst:
            raise ValueError(f"weight {weight!r} exceeds the burst of {limit!r}: it could never pass")
        earliest = limit._tat + weight * limit._interval - limit._tolerance
        if earliest > slot:
            slot = earliest
        if limit._hold > slot:
            slot = limit._hold
    for limit in limits:
        tat = limit._tat
        limit._tat = (slot if slot > tat else tat) + weight * limit._interval
    delay = slot - now
    return delay if delay > _SLACK else 0.0


async def _wait(delay: float, limits: Sequence[RateLimit]) -> None:
    """Sleep `delay` seconds as a waiter that ``penalize`` can move; a cancelled slot is lost."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    when = loop.time() + delay
    waiter = _Waiter(when, future, loop.call_at(when, _wake, future))
    for limit in limits:
        limit._waiters.add(waiter)
    try:
        await future
    finally:
        waiter.handle.cancel()
        for limit in limits:
            limit._waiters.discard(waiter)


# Kept for the life of the process: the exchange goes on counting a key's calls after its
# last connector closed, so a new connector must start from the same bucket, not a full one.
_shared: dict[tuple[str, str, str | None], RateLimit] = {}


def shared_limit(exchange: str, pool: str, key: str | None, rate: float, period: float = 1.0,
                 burst: float | None = None) -> RateLimit:
    """The process-wide bucket for (exchange, pool, API key); `key` None is the per-IP pool.

    Lives as long as the process. Keyed by a sha256 fingerprint, never the raw key.
    """
    fingerprint = None if key is None else hashlib.sha256(key.encode()).hexdigest()[:16]
    ident = (exchange, pool, fingerprint)
    limit = _shared.get(ident)
    if limit is None:
        name = f"{exchange}:{pool}" if fingerprint is None else f"{exchange}:{pool}:{fingerprint}"
        limit = _shared[ident] = RateLimit(name, rate, period, burst)
    elif (limit.rate, limit.period, limit.burst) != (rate, period, rate if burst is None else burst):
        raise ValueError(f"{limit!r} is already shared with other parameters")
    return limit
