from __future__ import annotations

import asyncio
import gc
import random

import pytest

from core import ratelimit
from core.ratelimit import RateLimit, RateLimiter, shared_limit
from tests.core.virtual_time import run_virtual


def assert_within_budget(admissions: list[tuple[float, float]], limit: RateLimit) -> None:
    """Every window [t_i, t_j] of (time s, weight) admissions holds at most burst + rate * span."""
    admissions = sorted(admissions)
    for i, (start, _) in enumerate(admissions):
        used = 0.0
        for end, weight in admissions[i:]:
            used += weight
            allowed = limit.burst + (end - start) * limit.rate / limit.period
            assert used <= allowed + 1e-9, f"{used} units in [{start}, {end}] > {allowed}"


def live_timers(loop: asyncio.AbstractEventLoop) -> list[asyncio.TimerHandle]:
    return [h for h in loop._scheduled if not h.cancelled()]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("rate", "period", "burst"), [(2, 1.0, None), (10, 1.0, 1), (100, 60.0, 20)])
def test_admitted_rate_over_60_virtual_seconds_is_within_1_percent(
    rate: float, period: float, burst: float | None
) -> None:
    limit = RateLimit("r", rate, period, burst)
    limiter = RateLimiter(limit)
    duration = 60.0
    expected = rate * duration / period + limit.burst  # the burst passes at t=0 on top
    admitted: list[float] = []

    async def request() -> None:
        await limiter.acquire()
        admitted.append(asyncio.get_running_loop().time())

    async def main() -> None:
        await asyncio.gather(*(request() for _ in range(int(expected * 1.5))))

    run_virtual(main())
    in_window = [t for t in admitted if t <= duration + 1e-6]
    assert abs(len(in_window) - expected) <= 0.01 * rate * duration / period
    assert_within_budget([(t, 1.0) for t in admitted], limit)


def test_admission_order_is_call_order_with_mixed_weights() -> None:
    limiter = RateLimiter(RateLimit("fifo", 5, burst=5))
    rng = random.Random(7)
    weights = [rng.choice([1, 1, 1, 2, 5]) for _ in range(200)]
    admitted: list[int] = []

    async def request(index: int, weight: float) -> None:
        await limiter.acquire(weight)
        admitted.append(index)

    async def main() -> None:
        await asyncio.gather(*(request(i, w) for i, w in enumerate(weights)))

    run_virtual(main())
    assert admitted == list(range(len(weights)))


def test_heavy_request_is_not_overtaken_by_later_light_ones() -> None:
    limiter = RateLimiter(RateLimit("heavy", 1, burst=5))
    admitted: list[tuple[str, float]] = []

    async def request(name: str, weight: float) -> None:
        await limiter.acquire(weight)
        admitted.append((name, asyncio.get_running_loop().time()))

    async def main() -> None:
        await limiter.acquire(5)  # bucket empty at t=0
        await asyncio.gather(request("heavy", 5), *(request(f"light{i}", 1) for i in range(3)))

    run_virtual(main())
    assert admitted == [("heavy", 5.0), ("light0", 6.0), ("light1", 7.0), ("light2", 8.0)]


def test_weight_consumes_that_many_units() -> None:
    limiter = RateLimiter(RateLimit("w", 1, burst=3))
    assert limiter.reserve(3, now=0.0) == 0.0
    assert limiter.reserve(1, now=0.0) == 1.0
    assert limiter.reserve(3, now=0.0) == 4.0  # 1 + 3 units more at 1 unit/s, minus the burst of 3


def test_multi_limit_acquire_follows_the_tightest_bucket_and_keeps_both_budgets() -> None:
    public = RateLimit("public", 10, burst=10)
    private = RateLimit("private", 2, burst=2)
    limiter = RateLimiter(public, private)
    used: dict[str, list[tuple[float, float]]] = {"public": [], "private": []}

    async def request(weight: float, private_call: bool) -> None:
        await limiter.acquire(weight, limits=None if private_call else (public,))
        now = asyncio.get_running_loop().time()
        used["public"].append((now, weight))
        if private_call:
            used["private"].append((now, weight))

    async def main() -> None:
        rng = random.Random(3)
        await asyncio.gather(*(request(rng.choice([1, 2]), i % 3 == 0) for i in range(600)))

    run_virtual(main())
    assert_within_budget(used["public"], public)
    assert_within_budget(used["private"], private)
    private_times = [t for t, _ in used["private"]]
    private_units = sum(w for _, w in used["private"])
    assert max(private_times) == pytest.approx((private_units - private.burst) / private.rate)


def test_penalize_pushes_waiters_and_new_arrivals_past_the_delay_in_order() -> None:
    limit = RateLimit("p", 1, burst=1)
    limiter = RateLimiter(limit)
    admitted: list[tuple[int, float]] = []

    async def request(index: int) -> None:
        await limiter.acquire()
        admitted.append((index, asyncio.get_running_loop().time()))

    async def main() -> None:
        await limiter.acquire()  # t=0, bucket empty
        waiters = [asyncio.create_task(request(i)) for i in range(5)]  # slots 1..5
        await asyncio.sleep(0.25)
        limit.penalize(10)
        await asyncio.gather(*waiters, request(5))

    run_virtual(main())
    assert [i for i, _ in admitted] == list(range(6))
    assert [t for _, t in admitted] == pytest.approx([11, 12, 13, 14, 15, 16])


def test_penalize_on_idle_bucket_holds_even_the_burst() -> None:
    limiter = RateLimiter(RateLimit("idle", 5, burst=5))

    async def main() -> float:
        limiter.penalize(3)
        await limiter.acquire()
        return asyncio.get_running_loop().time()

    assert run_virtual(main()) == pytest.approx(3.0)


def test_repeated_penalties_inside_the_hold_do_not_compound() -> None:
    limit = RateLimit("twice", 1, burst=1)
    limiter = RateLimiter(limit)

    async def main() -> float:
        await limiter.acquire()
        waiter = asyncio.create_task(limiter.acquire())  # slot 1
        await asyncio.sleep(0)
        limit.penalize(10)  # hold until 10, waiter at 11
        limit.penalize(10)
        await asyncio.sleep(5)
        limit.penalize(10)  # hold until 15: 5 s more, waiter at 16
        await waiter
        return asyncio.get_running_loop().time()

    assert run_virtual(main()) == pytest.approx(16.0)


def test_limiter_penalty_moves_a_waiter_on_several_buckets_once() -> None:
    limiter = RateLimiter(RateLimit("a", 1, burst=1), RateLimit("b", 1, burst=1))

    async def main() -> float:
        await limiter.acquire()
        waiter = asyncio.create_task(limiter.acquire())  # slot 1 in both
        await asyncio.sleep(0)
        limiter.penalize(10)
        await waiter
        return asyncio.get_running_loop().time()

    assert run_virtual(main()) == pytest.approx(11.0)


def test_acquire_under_the_limit_does_not_suspend() -> None:
    limiter = RateLimiter(RateLimit("fast", 1000, burst=1000), RateLimit("fast2", 500, burst=500))

    async def main() -> None:
        interleaved: list[int] = []

        async def competitor() -> None:
            interleaved.append(1)

        other = asyncio.create_task(competitor())
        for _ in range(500):
            await limiter.acquire()
        assert interleaved == []  # the other task never got the loop
        await limiter.acquire()  # over the limit now: this one waits
        assert interleaved == [1]
        await other

    run_virtual(main())


def test_cancelled_waiter_leaves_no_timer_and_does_not_block_later_callers() -> None:
    limit = RateLimit("c", 1, burst=1)
    limiter = RateLimiter(limit)

    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        await limiter.acquire()  # t=0
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await limiter.acquire()  # slot 1, cancelled at 0.5: the slot is lost
        assert live_timers(loop) == []
        assert not limit._waiters  # nothing of the cancelled wait is kept
        limit.penalize(0.25)  # must not revive the cancelled waiter's timer
        assert live_timers(loop) == []
        times = []
        for _ in range(2):
            await limiter.acquire()
            times.append(loop.time())
        return times

    assert run_virtual(main()) == pytest.approx([2.25, 3.25])  # lost slot 1, plus the penalty


def test_cancelling_one_waiter_keeps_the_others_on_schedule() -> None:
    limiter = RateLimiter(RateLimit("mid", 1, burst=1))
    admitted: list[tuple[int, float]] = []

    async def request(index: int) -> None:
        await limiter.acquire()
        admitted.append((index, asyncio.get_running_loop().time()))

    async def main() -> None:
        tasks = [asyncio.create_task(request(i)) for i in range(4)]  # slots 0..3
        await asyncio.sleep(0.5)
        tasks[2].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    run_virtual(main())
    assert admitted == [(0, 0.0), (1, 1.0), (3, 3.0)]


@pytest.mark.parametrize("weight", [0, -1, float("nan"), 2.5])
def test_impossible_weight_raises_value_error(weight: float) -> None:
    limiter = RateLimiter(RateLimit("roomy", 10, burst=10), RateLimit("small", 2, burst=2))

    async def main() -> None:
        with pytest.raises(ValueError):
            await limiter.acquire(weight)

    run_virtual(main())
    assert limiter.reserve(2.0, now=0.0) == 0.0  # the refused request reserved nothing


def test_limiter_made_outside_a_loop_works_inside_one_with_an_injected_clock() -> None:
    now = [100.0]
    limit = RateLimit("clocked", 2, burst=1, clock=lambda: now[0])
    limiter = RateLimiter(limit)
    assert limiter.reserve() == 0.0
    assert limiter.reserve() == 0.5
    now[0] += 10
    assert limiter.reserve() == 0.0


def test_buckets_with_different_clocks_cannot_be_combined() -> None:
    with pytest.raises(ValueError):
        RateLimiter(RateLimit("a", 1), RateLimit("b", 1, clock=lambda: 0.0))


def test_shared_limit_is_one_object_per_key_and_keeps_no_raw_key() -> None:
    secret = "my-very-secret-api-key"
    a = shared_limit("test-shared", "private", secret, 10)
    assert shared_limit("test-shared", "private", secret, 10) is a
    assert shared_limit("test-shared", "private", "another-key", 10) is not a
    public = shared_limit("test-shared", "public", None, 20)
    assert public is shared_limit("test-shared", "public", None, 20) and public is not a
    assert shared_limit("test-shared-2", "private", secret, 10) is not a
    assert secret not in repr(a) and secret not in a.name
    assert all(secret not in str(ident) for ident in ratelimit._shared.keys())
    with pytest.raises(ValueError):
        shared_limit("test-shared", "private", secret, 99)


def test_shared_limit_outlives_its_users_because_the_exchange_remembers() -> None:
    first = shared_limit("peatio", "private", "k-outlives", 5, burst=1)
    assert first.rate == 5
    limiter = RateLimiter(first)
    assert limiter.reserve(now=100.0) == 0.0  # the only call of the burst
    del first, limiter
    gc.collect()
    again = shared_limit("peatio", "private", "k-outlives", 5, burst=1)
    assert RateLimiter(again).reserve(now=100.0) == pytest.approx(0.2)  # the budget used is still counted
