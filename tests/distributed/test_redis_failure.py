"""Redis going away: a typed error and nothing let through while it is down; limits,
penalties and nonces that hold across a restart that lost every key."""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left

import pytest

from core.connector import Pool
from core.distributed import CoordinationUnavailable, RedisCoordination
from core.errors import NetworkError
from tests.conftest import RedisServer, _free_port
from tests.distributed.conftest import KEY, Workers


async def test_while_redis_is_down_every_call_raises_a_typed_error_and_none_passes(redis_process: RedisServer) -> None:
    async with RedisCoordination(redis_process.url, retries=2) as coordination:
        limiter = coordination.limiter(coordination.limit("x", "private", KEY, 1000, 1.0, 100))
        ordered = coordination.nonce_manager("x", KEY, ordered=True)
        unordered = coordination.nonce_manager("y", KEY)
        async with ordered.sequence() as before:
            await limiter.acquire()
        passed: list[str] = []

        async def request(kind: str) -> None:
            if kind == "acquire":
                await limiter.acquire()
            else:
                async with (ordered if kind == "ordered" else unordered).sequence():
                    pass
            passed.append(kind)

        await asyncio.to_thread(redis_process.stop)
        loop = asyncio.get_running_loop()
        started = loop.time()
        results = await asyncio.gather(*(request(kind) for kind in ["acquire", "ordered", "unordered"] * 5),
                                       return_exceptions=True)
        elapsed = loop.time() - started
        assert passed == []
        assert all(isinstance(r, CoordinationUnavailable) and isinstance(r, NetworkError) for r in results)
        assert elapsed < 2.0  # a short bounded retry, not a hang (the ordered ones fail one after another)

        await asyncio.to_thread(redis_process.start)
        await limiter.acquire()
        async with ordered.sequence() as after:
            pass
        assert after > before


async def test_a_penalty_told_while_redis_is_down_is_carried_by_the_next_acquire(redis_process: RedisServer) -> None:
    async with RedisCoordination(redis_process.url) as coordination:
        limiter = coordination.limiter(coordination.limit("x", "private", KEY, 1000, 1.0, 100))
        await limiter.acquire()
        await asyncio.to_thread(redis_process.stop)
        loop = asyncio.get_running_loop()
        told = loop.time()
        limiter.penalize(0.6)  # a 429 arrives; Redis cannot hear of it yet
        await asyncio.to_thread(redis_process.start)
        await limiter.acquire()
        assert loop.time() - told >= 0.59


async def test_a_bucket_redis_lost_is_taken_as_just_used_up(redis_process: RedisServer) -> None:
    async with RedisCoordination(redis_process.url) as coordination:
        limiter = coordination.limiter(coordination.limit("x", "private", KEY, 2, 1.0, 1))
        await limiter.acquire()
        await asyncio.to_thread(redis_process.stop)
        await asyncio.to_thread(redis_process.start)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await limiter.acquire()  # a fresh bucket would let it pass at once
        assert loop.time() - started >= 0.45  # one interval: it may have been used by another process


async def test_an_unreachable_redis_is_reported_without_its_password() -> None:
    url = f"redis://user:hunter2@127.0.0.1:{_free_port()}/0?password=hunter3"
    async with RedisCoordination(url, retries=1) as coordination:
        limiter = coordination.limiter(coordination.limit("x", "private", KEY, 10))
        with pytest.raises(CoordinationUnavailable) as info:
            await limiter.acquire()
    texts = [str(info.value), repr(info.value), str(info.value.__cause__), repr(coordination)]
    assert not [text for text in texts if "hunter" in text]
    assert "127.0.0.1" in str(info.value)


@pytest.mark.parametrize("redis_process", [("--requirepass", "s3cret-pw")], indirect=True)
async def test_a_password_protected_redis_works_and_a_wrong_password_is_a_typed_error(
    redis_process: RedisServer
) -> None:
    good = redis_process.url.replace("redis://", "redis://:s3cret-pw@")
    bad = redis_process.url.replace("redis://", "redis://:wrong-pw@")
    async with RedisCoordination(good) as coordination:
        async with coordination.nonce_manager("x", KEY, ordered=True).sequence() as nonce:
            assert nonce > 0
    async with RedisCoordination(bad, retries=0) as coordination:
        with pytest.raises(CoordinationUnavailable) as info:
            await coordination.limiter(coordination.limit("x", "private", KEY, 10)).acquire()
    assert "wrong-pw" not in str(info.value) + str(info.value.__cause__) + repr(coordination)


async def test_processes_fail_safe_while_redis_restarts_and_recover_after(
    workers: Workers, redis_process: RedisServer
) -> None:
    limit = 50
    pool = Pool.window(limit, burst=5, per_key=True)
    processes = await workers.start(2, "restart", "--redis", redis_process.url, "--duration", "1.5",
                                    "--rate", str(pool.rate), "--burst", str(pool.burst))
    workers.go(processes)
    await asyncio.sleep(0.3)
    await asyncio.to_thread(redis_process.stop)
    down = time.time()
    await asyncio.sleep(0.5)  # longer than a call's retries (0.35 s): every caller gets the error
    up = time.time()
    await asyncio.to_thread(redis_process.start)
    results = await workers.results(processes)

    assert all(r["errors"] > 0 for r in results)  # each saw the outage as CoordinationUnavailable
    # nothing confirmed while Redis was gone (0.1 s: a reply in flight at the stop, read late)
    admitted = sorted(t for r in results for t in r["admitted"])
    issued = [(n, t) for r in results for n, t in r["nonces"]]
    assert [t for t in admitted if down + 0.1 < t < up] == []
    assert [t for _, t in issued if down + 0.1 < t < up] == []
    # both went on after the restart, never over the limit together, even across it
    assert all(any(t > up for t in r["admitted"]) for r in results)
    assert max(bisect_left(admitted, t + 1.0) - i for i, t in enumerate(admitted)) <= limit
    # nonces: unique, increasing in each process, and every one after the restart above every one before
    nonces = [n for n, _ in issued]
    assert len(set(nonces)) == len(nonces)
    assert all(a[0] < b[0] for r in results for a, b in zip(r["nonces"], r["nonces"][1:]))
    assert min(n for n, t in issued if t > up) > max(n for n, t in issued if t < down)
