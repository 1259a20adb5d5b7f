"""End to end: two OS processes share one BTC-Alpha key on the sandbox (served by this
test's process), signing with the connector's signer, pacing and ordering through Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.connector import Pool
from sandbox import Sandbox
from tests.distributed.conftest import Workers

LIMIT = 20  # private calls per sliding second the sandbox allows the account (BTC-Alpha documents 2)


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(seed=3, exchanges=["btcalpha"], maker_rate=0) as sandbox:
        sandbox.venue("btcalpha").windows["private"].limit = LIMIT  # seconds of test, not minutes
        yield sandbox


async def call_from_two_processes(sb: Sandbox, workers: Workers, redis_urls: tuple[str, str]) -> list[list[Any]]:
    """15 private calls from each of two processes sharing the demo key, each coordinating
    through its Redis URL; returns every [status, body, nonce]."""
    key, secret = sb.credentials("btcalpha")
    pool = Pool.window(LIMIT, burst=2, per_key=True)
    args = ["--base-url", sb.url("btcalpha"), "--count", "15", "--rate", str(pool.rate), "--burst", str(pool.burst)]
    processes = [p for group in await asyncio.gather(
        *(workers.start(1, "btcalpha", "--redis", url, *args, key=key, secret=secret) for url in redis_urls)
    ) for p in group]
    workers.go(processes)
    return [answer for result in await workers.results(processes) for answer in result["answers"]]


async def test_two_processes_sharing_a_key_through_redis_get_no_invalid_nonce_and_no_429(
    sb: Sandbox, workers: Workers, redis_server: str
) -> None:
    answers = await call_from_two_processes(sb, workers, (redis_server, redis_server))
    assert [a for a in answers if a[0] != 200] == []
    nonces = [nonce for _, _, nonce in answers]
    assert len(set(nonces)) == 30
    key, _ = sb.credentials("btcalpha")
    assert sb.venue("btcalpha").nonce_memory[key] == max(nonces)  # the last one the exchange accepted


async def test_control_two_processes_coordinating_apart_are_refused(
    sb: Sandbox, workers: Workers, redis_server: str
) -> None:
    """The same run with a Redis database each, as if each coordinated only with itself: the
    exchange refuses some calls, so the test above could fail."""
    answers = await call_from_two_processes(sb, workers, (redis_server, redis_server.rsplit("/", 1)[0] + "/1"))
    assert {status for status, _, _ in answers} & {401, 429}
