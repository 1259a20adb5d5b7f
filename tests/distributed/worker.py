"""One client process of the distributed tests: ``python -m tests.distributed.worker SCENARIO ...``.

It connects, prints ``ready``, waits for a line on stdin (so every worker starts at once),
runs its scenario and prints one JSON line of results. The shared API key and secret come
from the environment (``EXCONN_TEST_KEY``, ``EXCONN_TEST_SECRET``), never from argv.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import Any

from redis.asyncio import Redis

from core.distributed import CoordinationUnavailable, RedisCoordination

ADMITTED = "exconn:test:admitted"  # server TIME (µs) of each admitted acquire
SENT = "exconn:test:sent"  # nonces in the order their blocks ran

# RPUSH the server's TIME in integer microseconds: the one clock every process agrees on
RECORD_TIME = "local t = redis.call('TIME') return redis.call('RPUSH', KEYS[1], t[1] .. string.format('%06d', t[2]))"


async def limit(args: argparse.Namespace, coordination: RedisCoordination, recorder: Redis) -> dict[str, Any]:
    """Acquire `count` permits, recording the server time of each admission."""
    limiter = coordination.limiter(coordination.limit("test", "private", _key(), args.rate, 1.0, args.burst))
    for _ in range(args.count):
        await limiter.acquire()
        await recorder.eval(RECORD_TIME, 1, ADMITTED)
    return {"admitted": args.count}


async def nonces(args: argparse.Namespace, coordination: RedisCoordination, recorder: Redis) -> dict[str, Any]:
    """`tasks` concurrent tasks take `count` nonces in all, recording each inside its block."""
    manager = coordination.nonce_manager("test", _key(), ordered=args.ordered)
    issued: list[int] = []

    async def task(count: int) -> None:
        for _ in range(count):
            async with manager.sequence() as nonce:
                await recorder.rpush(SENT, nonce)  # "sending": what the exchange would see, in order
                issued.append(nonce)

    share, extra = divmod(args.count, args.tasks)
    await asyncio.gather(*(task(share + (i < extra)) for i in range(args.tasks)))
    return {"nonces": issued}


async def restart(args: argparse.Namespace, coordination: RedisCoordination, recorder: Redis) -> dict[str, Any]:
    """Acquire and take an ordered nonce in a loop for `duration` s while Redis goes away and
    comes back; records wall times locally (Redis loses its data) and counts typed errors."""
    limiter = coordination.limiter(coordination.limit("test", "private", _key(), args.rate, 1.0, args.burst))
    manager = coordination.nonce_manager("test", _key(), ordered=True)
    admitted: list[float] = []
    issued: list[list[float]] = []
    errors = 0
    deadline = time.monotonic() + args.duration
    while time.monotonic() < deadline:
        try:
            await limiter.acquire()
            admitted.append(time.time())
            async with manager.sequence() as nonce:
                issued.append([nonce, time.time()])
        except CoordinationUnavailable:
            errors += 1
            await asyncio.sleep(0.02)  # a client pacing its own retries while Redis is away
    return {"admitted": admitted, "nonces": issued, "errors": errors}


async def btcalpha(args: argparse.Namespace, coordination: RedisCoordination, recorder: Redis) -> dict[str, Any]:
    """Call BTC-Alpha's private wallets endpoint `count` times through the shared limiter and
    ordered nonces, signing with the connector's signer; returns each HTTP status and body."""
    import aiohttp

    from connectors.btcalpha.auth import Signer

    key, secret = _key(), os.environ["EXCONN_TEST_SECRET"]
    limiter = coordination.limiter(coordination.limit("btcalpha", "private", key, args.rate, 1.0, args.burst))
    manager = coordination.nonce_manager("btcalpha", key, ordered=True)
    signer = Signer(key, secret)
    answers: list[list[Any]] = []
    async with aiohttp.ClientSession() as session:
        for _ in range(args.count):
            await limiter.acquire()
            async with manager.sequence() as nonce:
                async with session.get(f"{args.base_url}/api/v1/wallets/", headers=signer.headers("", nonce)) as resp:
                    answers.append([resp.status, (await resp.text())[:200], nonce])
    return {"answers": answers}


SCENARIOS = {"limit": limit, "nonces": nonces, "restart": restart, "btcalpha": btcalpha}


def _key() -> str:
    return os.environ["EXCONN_TEST_KEY"]


async def main(args: argparse.Namespace) -> None:
    recorder = Redis.from_url(args.redis)
    async with RedisCoordination(args.redis) as coordination:
        try:
            await recorder.ping()
            print("ready", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
            result = await SCENARIOS[args.scenario](args, coordination, recorder)
        finally:
            await recorder.aclose()
    print(json.dumps(result), flush=True)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.distributed.worker")
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--redis", required=True, help="redis:// URL")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=1)
    parser.add_argument("--ordered", action="store_true")
    parser.add_argument("--rate", type=float, default=10.0, help="units per second")
    parser.add_argument("--burst", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=1.0, help="seconds")
    parser.add_argument("--base-url", default="")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
