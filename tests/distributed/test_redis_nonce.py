"""The Redis nonce manager: unique, increasing nonces across OS processes, sent in nonce
order under the per-key lock; the lock's expiry, renewal, release and wake-up."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from core.distributed import RedisCoordination
from tests.conftest import RedisServer
from tests.distributed.conftest import KEY, Workers
from tests.distributed.worker import SENT

T = 1_700_000_000.0  # epoch s


async def test_three_processes_get_unique_nonces_sent_in_nonce_order(
    workers: Workers, redis_server: str, redis_client: Redis
) -> None:
    results = await workers.run(3, "nonces", "--redis", redis_server, "--count", "1000", "--tasks", "4", "--ordered")
    sent = [int(n) for n in await redis_client.lrange(SENT, 0, -1)]  # the order the blocks ran in
    assert len(sent) == 3000 and len(set(sent)) == 3000
    assert all(a < b for a, b in zip(sent, sent[1:]))  # what an exchange sees: strictly increasing
    assert sorted(sent) == sorted(n for r in results for n in r["nonces"])


async def test_unordered_nonces_from_three_processes_are_unique_and_increase_per_task(
    workers: Workers, redis_server: str
) -> None:
    results = await workers.run(3, "nonces", "--redis", redis_server, "--count", "500")
    issued = [r["nonces"] for r in results]
    assert len({n for nonces in issued for n in nonces}) == 1500
    assert all(a < b for nonces in issued for a, b in zip(nonces, nonces[1:]))


async def test_nonces_follow_the_exchange_clock_and_the_highest_mark_of_any_process(redis_server: str) -> None:
    async with RedisCoordination(redis_server) as ahead, RedisCoordination(redis_server) as behind:
        synced = ahead.nonce_manager("x", KEY, clock=lambda: T)
        synced.observe_server_time(int(T * 1000) + 5_000)  # the exchange runs 5 s ahead of this machine
        unsynced = behind.nonce_manager("x", KEY, clock=lambda: T)
        async with synced.sequence() as first:
            pass
        async with unsynced.sequence() as second:
            pass
        assert synced.offset == 5_000 and unsynced.offset == 0
        assert first == int(T * 1000) + 5_000  # the exchange's clock in ms
        assert second == first + 1  # its own clock says 5 s earlier: the shared mark wins
        assert (synced.last, unsynced.last) == (first, second)


async def test_the_lock_of_a_crashed_holder_expires(redis_server: str, redis_client: Redis) -> None:
    async with RedisCoordination(redis_server, timeout=5.0) as coordination:
        manager = coordination.nonce_manager("x", KEY, ordered=True)
        await redis_client.set(manager.key + ":lock", "a-process-that-died", px=400)
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with manager.sequence():
            waited = loop.time() - started
    assert 0.35 <= waited < 1.0


async def test_a_release_wakes_the_waiting_process_at_once(redis_server: str) -> None:
    # a 5 s reply timeout lets a waiter block up to 2.5 s: only the release's push can wake it sooner
    async with RedisCoordination(redis_server, timeout=5.0) as first, RedisCoordination(redis_server, timeout=5.0) as second:
        holder = first.nonce_manager("x", KEY, ordered=True)
        waiter = second.nonce_manager("x", KEY, ordered=True)
        loop = asyncio.get_running_loop()
        entered = asyncio.Event()

        async def hold() -> float:
            async with holder.sequence():
                entered.set()
                await asyncio.sleep(0.3)
            return loop.time()

        async def wait() -> tuple[float, int]:
            await entered.wait()
            async with waiter.sequence() as nonce:
                return loop.time(), nonce

        released, (woken, nonce) = await asyncio.gather(hold(), wait())
    assert 0 <= woken - released < 0.1
    assert nonce > holder.last  # type: ignore[operator]


async def test_a_block_longer_than_the_lock_expiry_keeps_the_lock(redis_server: str) -> None:
    async with RedisCoordination(redis_server, lock_ttl=0.15) as first, RedisCoordination(redis_server) as second:
        holder = first.nonce_manager("x", KEY, ordered=True)
        waiter = second.nonce_manager("x", KEY, ordered=True)
        events: list[str] = []
        entered = asyncio.Event()

        async def hold() -> None:
            async with holder.sequence():
                entered.set()
                await asyncio.sleep(0.5)  # over three expiries: renewed every 0.05 s
                events.append("holder out")

        async def wait() -> None:
            await entered.wait()
            async with waiter.sequence():
                events.append("waiter in")

        await asyncio.gather(hold(), wait())
    assert events == ["holder out", "waiter in"]


async def test_release_never_deletes_a_lock_another_process_took_over(redis_server: str, redis_client: Redis) -> None:
    async with RedisCoordination(redis_server) as coordination:
        manager = coordination.nonce_manager("x", KEY, ordered=True)
        async with manager.sequence():
            await redis_client.set(manager.key + ":lock", "the-next-holder", px=5_000)  # ours expired meanwhile
        assert await redis_client.get(manager.key + ":lock") == b"the-next-holder"


@pytest.mark.parametrize("ordered", [False, True])
async def test_nonces_stay_above_earlier_ones_after_redis_restarts_without_its_data(
    redis_process: RedisServer, redis_client: Redis, ordered: bool
) -> None:
    async with RedisCoordination(redis_process.url) as first, RedisCoordination(redis_process.url) as second:
        early = first.nonce_manager("x", KEY, ordered=ordered)
        late = second.nonce_manager("x", KEY, ordered=ordered)
        async with early.sequence():
            pass
        for _ in range(20):  # the other process issues more, within a few milliseconds
            async with late.sequence():
                pass
        await asyncio.to_thread(redis_process.stop)
        await asyncio.to_thread(redis_process.start)
        assert await redis_client.dbsize() == 0  # the mark is gone
        async with early.sequence() as after:  # this process's own last is below the other's
            pass
    assert after > late.last  # type: ignore[operator]  # the millisecond clock moved on meanwhile
