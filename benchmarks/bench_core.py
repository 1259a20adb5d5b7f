"""Hot-path cost of the rate limiter and nonce manager, beside baselines from the same run.

Run ``python -m benchmarks.bench_core``; prints µs per call and writes
``benchmarks/results/bench_core.json``.
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from core.nonce import NonceManager
from core.ratelimit import RateLimit, RateLimiter

CALLS = 200_000  # per timed run
REPEATS = 5  # best of, in µs per call
RESULTS = Path(__file__).parent / "results" / "bench_core.json"


def best_sync(fn: Callable[[], object]) -> float:
    """Best µs per call of `fn` over REPEATS runs of CALLS calls."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter_ns()
        for _ in range(CALLS):
            fn()
        best = min(best, (time.perf_counter_ns() - start) / CALLS / 1000)
    return best


async def best_async(make: Callable[[], Awaitable[object]]) -> float:
    """Best µs per ``await make()`` over REPEATS runs of CALLS awaits."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter_ns()
        for _ in range(CALLS):
            await make()
        best = min(best, (time.perf_counter_ns() - start) / CALLS / 1000)
    return best


async def best_sequence(manager: NonceManager) -> float:
    """Best µs per ``async with manager.sequence()`` over REPEATS runs of CALLS blocks."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter_ns()
        for _ in range(CALLS):
            async with manager.sequence():
                pass
        best = min(best, (time.perf_counter_ns() - start) / CALLS / 1000)
    return best


async def measure() -> list[dict[str, object]]:
    high = 1e12  # units/s: never the limit during the run
    one = RateLimiter(RateLimit("bench", high))
    two = RateLimiter(RateLimit("bench-ip", high), RateLimit("bench-key", high))
    sleep0 = await best_async(lambda: asyncio.sleep(0))
    time_ns = best_sync(time.time_ns)
    rows = [
        ("await asyncio.sleep(0)", sleep0, "await asyncio.sleep(0)"),
        ("time.time_ns()", time_ns, "time.time_ns()"),
        ("await limiter.acquire() 1 limit", await best_async(one.acquire), "await asyncio.sleep(0)"),
        ("await limiter.acquire() 2 limits", await best_async(two.acquire), "await asyncio.sleep(0)"),
        ("NonceManager.next()", best_sync(NonceManager().next), "time.time_ns()"),
        ("async with sequence() ordered", await best_sequence(NonceManager(ordered=True)),
         "await asyncio.sleep(0)"),
    ]
    baselines = {"await asyncio.sleep(0)": sleep0, "time.time_ns()": time_ns}
    return [{"name": name, "us_per_call": us, "baseline": base, "ratio": us / baselines[base]}
            for name, us, base in rows]


def main() -> None:
    rows = asyncio.run(measure())
    width = max(len(str(row["name"])) for row in rows)
    print(f"{'name':<{width}}  {'µs/call':>8}  {'ratio':>6}  baseline")
    for row in rows:
        print(f"{row['name']:<{width}}  {row['us_per_call']:>8.3f}  {row['ratio']:>6.2f}  {row['baseline']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "calls": CALLS,
        "repeats": REPEATS,
        "results": rows,
    }, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
