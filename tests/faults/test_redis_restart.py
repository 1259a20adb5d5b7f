"""A real redis-server stopped and started under a running collector: the Redis Streams sink
retries through the outage, everything counted as written is in Redis afterwards, and what
could not be written is counted — every event the feeds produced is one or the other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from core.transport import RetryPolicy
from sandbox import Sandbox
from streams.collector import Collector, FeedSpec
from streams.sinks import open_sink
from tests.conftest import RedisServer

SPECS = [FeedSpec("btcalpha", "BTC/USD"), FeedSpec("peatio", "ETH/USDT")]


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(seed=23, exchanges=["btcalpha", "peatio"], maker_rate=60) as sandbox:
        yield sandbox


def collector(sb: Sandbox, redis: RedisServer, **options) -> Collector:
    return Collector(SPECS, open_sink(redis.url, timeout=1.0), interval=0.1,
                     sink_retry=RetryPolicy(base_delay=0.05, max_delay=0.3),
                     base_urls={ex: sb.url(ex) for ex in sb.exchanges},
                     ws_urls={ex: sb.ws_url(ex) for ex in sb.exchanges}, **options)


async def stored(redis: RedisServer) -> int:
    """Entries in all of the collector's streams."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis.url)
    try:
        return sum([await client.xlen(key) for key in await client.keys("exconn:*")])
    finally:
        await client.aclose()


def produced(run: Collector) -> int:
    return sum(feed.events for feed in run.feeds)


async def test_a_redis_restart_mid_run_loses_nothing_counted_as_written(sb, durable_redis):
    run = collector(sb, durable_redis)
    stop = asyncio.Event()
    running = asyncio.create_task(run.run(stop))
    await asyncio.sleep(1.0)
    written_before = run.stats.written
    await asyncio.to_thread(durable_redis.stop)
    await asyncio.sleep(1.0)  # the feeds go on; every write fails
    await asyncio.to_thread(durable_redis.start)
    await asyncio.sleep(1.5)
    stop.set()
    stats = await asyncio.wait_for(running, 15)
    assert 0 < written_before < stats.written
    assert stats.sink_errors > 0  # the outage was seen, and retried through
    assert stats.unwritten == 0 and stats.written == produced(run)  # nothing dropped
    assert await stored(durable_redis) >= stats.written  # at least once: a batch cut mid-way is re-sent


async def test_a_redis_that_stays_down_leaves_the_rest_counted_as_unwritten(sb, durable_redis):
    run = collector(sb, durable_redis, shutdown_grace=0.5)
    stop = asyncio.Event()
    running = asyncio.create_task(run.run(stop))
    await asyncio.sleep(1.0)
    await asyncio.to_thread(durable_redis.stop)
    await asyncio.sleep(1.0)
    stop.set()
    stats = await asyncio.wait_for(running, 15)
    assert stats.written > 0 and stats.unwritten > 0
    assert stats.written + stats.unwritten == produced(run)  # counted, never silently dropped
    await asyncio.to_thread(durable_redis.start)
    assert stats.written <= await stored(durable_redis) < produced(run)
