"""The Redis rate limiter: several OS processes sharing one key stay under the limit
together, and its scheduling is core.ratelimit's, computed on the server's clock."""

from __future__ import annotations

import asyncio
import random
from bisect import bisect_left

import pytest
from redis.asyncio import Redis

from core.connector import Pool
from core.credentials import key_fingerprint
from core.distributed import RedisCoordination
from core.ratelimit import RateLimit, RateLimiter
from tests.distributed.conftest import KEY, Workers
from tests.distributed.worker import ADMITTED


def busiest_window(times: list[float], seconds: float = 1.0) -> int:
    """The most admissions in any half-open window [t, t + seconds) of sorted `times`."""
    return max(bisect_left(times, start + seconds) - i for i, start in enumerate(times))


async def test_three_processes_sharing_a_key_never_exceed_the_limit_together(
    workers: Workers, redis_server: str, redis_client: Redis
) -> None:
    limit, burst, per_process = 60, 6, 40
    pool = Pool.window(limit, burst=burst, per_key=True)  # what a connector would declare for "60 per second"
    await workers.run(3, "limit", "--redis", redis_server, "--count", str(per_process),
                      "--rate", str(pool.rate), "--burst", str(pool.burst))
    times = sorted(int(t) / 1e6 for t in await redis_client.lrange(ADMITTED, 0, -1))  # server TIME, s
    assert len(times) == 3 * per_process
    assert limit - burst <= busiest_window(times) <= limit  # used the whole limit, never more, in any second
    assert times[-1] - times[0] >= (len(times) - burst) / pool.rate - 0.01  # paced, not just lucky


async def test_scheduling_matches_the_in_process_limiter(redis_server: str) -> None:
    """Random weights, bucket subsets and penalties: each wait Redis computes equals the one
    core.ratelimit computes for the same calls at the same times, within the noise between
    reading this loop's clock and the script reading the server's (a round trip, a new
    connection); a wrong rule would be off by an interval, 50 ms at the least here."""
    rng = random.Random(5)
    specs = [("a", 20.0, 1.0, 4.0), ("b", 5.0, 1.0, 2.0), ("c", 100.0, 60.0, 10.0)]
    now = [0.0]

    def clock() -> float:
        return now[0]

    local = {name: RateLimit(name, rate, period, burst, clock=clock) for name, rate, period, burst in specs}
    local_limiter = RateLimiter(*local.values())
    async with RedisCoordination(redis_server) as coordination:
        remote = {name: coordination.limit("diff", name, None, rate, period, burst) for name, rate, period, burst in specs}
        remote_limiter = coordination.limiter(*remote.values())
        loop = asyncio.get_running_loop()
        start = loop.time()
        for _ in range(80):
            names = rng.sample(sorted(local), rng.randint(1, len(specs)))
            now[0] = loop.time() - start
            if rng.random() < 0.1:
                delay = rng.uniform(0.0, 2.0)
                local_limiter.penalize(delay, limits=[local[n] for n in names])
                remote_limiter.penalize(delay, limits=[remote[n] for n in names])
                continue
            weight = rng.choice([1.0, 1.0, 2.0])
            expected = local_limiter.reserve(weight, limits=[local[n] for n in names])
            waited, _ = await remote_limiter._update([remote[n] for n in names], weight)
            assert waited == pytest.approx(expected, abs=0.02)


async def test_weights_of_two_clients_draw_on_one_bucket(redis_server: str) -> None:
    async with RedisCoordination(redis_server) as first, RedisCoordination(redis_server) as second:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await first.limiter(first.limit("x", "private", KEY, 10, 1.0, 10)).acquire(10)
        assert loop.time() - started < 0.1  # a full bucket passes at once
        await second.limiter(second.limit("x", "private", KEY, 10, 1.0, 10)).acquire(5)
        assert 0.45 <= loop.time() - started < 0.75  # 5 units at 10 per second


async def test_a_penalty_in_one_client_holds_the_others_and_moves_their_waiters_back(redis_server: str) -> None:
    async with RedisCoordination(redis_server) as hit, RedisCoordination(redis_server) as other:
        waiting = other.limiter(other.limit("x", "private", KEY, 10, 1.0, 1))
        loop = asyncio.get_running_loop()
        started = loop.time()

        async def acquire() -> float:
            await waiting.acquire()
            return loop.time() - started

        await acquire()
        queued = asyncio.create_task(acquire())  # reserved for 0.1 s
        await asyncio.sleep(0.03)
        hit.limiter(hit.limit("x", "private", KEY, 10, 1.0, 1)).penalize(0.3)  # a 429 with Retry-After: 0.3
        await asyncio.sleep(0.03)
        fresh = await acquire()  # a new request after the penalty: behind the hold and the moved waiter
        moved = await queued
    assert 0.38 <= moved < fresh  # reserved for 0.1 s, moved back by the 0.3 s extension
    assert fresh >= 0.47  # then one interval more


@pytest.mark.parametrize("weight", [0.0, -1.0, 3.0])
async def test_a_weight_that_could_never_pass_is_refused_before_asking_redis(weight: float) -> None:
    async with RedisCoordination("redis://127.0.0.1:1/0") as coordination:  # nothing listens there
        limiter = coordination.limiter(coordination.limit("x", "private", KEY, 10, 1.0, 2))
        with pytest.raises(ValueError):
            await limiter.acquire(weight)


async def test_buckets_are_named_by_key_fingerprint_and_the_key_is_stored_nowhere(
    redis_server: str, redis_client: Redis
) -> None:
    async with RedisCoordination(redis_server) as coordination:
        private = coordination.limit("btcalpha", "private", KEY, 2, 1.0, 1)
        public = coordination.limit("btcalpha", "public", None, 90, 1.0, 10)
        await coordination.limiter(private, public).acquire()
        async with coordination.nonce_manager("btcalpha", KEY, ordered=True).sequence():
            pass
    keys = sorted(k.decode() for k in await redis_client.keys("*"))  # type: ignore[union-attr]
    fingerprint = key_fingerprint(KEY)
    assert keys == [f"exconn:nonce:btcalpha:{fingerprint}", f"exconn:nonce:btcalpha:{fingerprint}:wake",
                    f"exconn:rl:btcalpha:private:{fingerprint}", "exconn:rl:btcalpha:public"]
    dump = b"".join([await redis_client.dump(k) or b"" for k in keys])
    assert KEY.encode() not in dump and KEY not in repr(private) and KEY not in "".join(keys)
