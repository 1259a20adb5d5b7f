"""429 storms: after a 429 with Retry-After the limiter holds every request of the pool until
the penalty ends (counted where they arrive, at the server), then lets the backlog through
no faster than the pool allows — no burst that would earn a ban. All five exchanges at once."""

from __future__ import annotations

import asyncio

from core.connector import Pool
from core.errors import RateLimited
from core.transport import RetryPolicy
from tests.faults.conftest import Exchange, HitLog

RETRY_AFTER = 1.0  # seconds: what the sandbox's injected 429s say
IN_FLIGHT = 0.1  # seconds: a request already on its way when a 429 is answered may still land
TEST_POOL = Pool(5, 1.0, burst=3)  # 5 requests a second, at most 3 at once


def log_hits(exchange: Exchange) -> HitLog:
    """Note every HTTP request that reaches the exchange's server from now on (no fault yet)."""
    log = HitLog()
    exchange.venue.faults = log
    return log


def quiet_during_penalties(refused: list[float], hits: list[float]) -> list[tuple[float, float]]:
    """(429, hit) pairs where a hit reached the server inside the 429's Retry-After."""
    return [(t, hit) for t in refused for hit in hits if t + IN_FLIGHT < hit < t + RETRY_AFTER - IN_FLIGHT]


async def storm(exchange: Exchange) -> None:
    log = log_hits(exchange)
    async with exchange.connector(rate_limits={"public": TEST_POOL},
                                  retry=RetryPolicy(max_rate_limited_retries=5, base_delay=0.01)) as ex:
        await ex.load_markets()
        log.hits.clear()
        log.rate_limit = 1.0
        calls = [asyncio.create_task(ex.fetch_order_book(exchange.symbol)) for _ in range(8)]
        loop = asyncio.get_running_loop()
        await asyncio.sleep(1.5)  # the storm: every request is answered 429, Retry-After 1
        log.rate_limit = 0.0
        storm_end = loop.time()  # the loop's clock is time.monotonic, as the log's
        books = await asyncio.wait_for(asyncio.gather(*calls), 15)
    assert all(book.bids and book.asks for book in books), exchange.id
    refused = [hit for hit in log.hits if hit <= storm_end]
    assert len(refused) >= 2, (exchange.id, refused)
    assert quiet_during_penalties(refused, log.hits) == [], exchange.id
    busiest = max(len([hit for hit in log.hits if start <= hit < start + 1.0]) for start in log.hits)
    assert busiest <= TEST_POOL.burst + TEST_POOL.rate, (exchange.id, busiest)  # GCRA's bound for any second


async def test_a_429_storm_holds_the_pool_for_retry_after_then_paces_the_backlog(every_exchange):
    await asyncio.gather(*(storm(exchange) for exchange in every_exchange.values()))


async def outlasted(exchange: Exchange) -> None:
    log = log_hits(exchange)
    async with exchange.connector(retry=RetryPolicy(max_rate_limited_retries=1)) as ex:
        await ex.load_markets()
        log.hits.clear()
        log.rate_limit = 1.0
        try:
            await ex.fetch_order_book(exchange.symbol)
        except RateLimited as exc:
            refused = exc
        else:
            raise AssertionError(f"{exchange.id}: a 429 that outlasts the retries must raise RateLimited")
        log.rate_limit = 0.0
        assert (refused.retry_after, refused.status) == (RETRY_AFTER, 429), exchange.id
        first, retry = log.hits  # one retry, a whole Retry-After later
        assert retry - first >= RETRY_AFTER - IN_FLIGHT, exchange.id
        assert (await ex.fetch_order_book(exchange.symbol)).bids, exchange.id  # waits out the last penalty
        assert log.hits[-1] - retry >= RETRY_AFTER - IN_FLIGHT, exchange.id


async def test_a_429_that_outlasts_the_retries_raises_rate_limited_and_the_next_call_waits(every_exchange):
    await asyncio.gather(*(outlasted(exchange) for exchange in every_exchange.values()))
