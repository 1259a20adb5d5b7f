"""qTrade against its sandbox app: timestamps under bursts, queries signed as sent, the
declared rate limits against the documented window."""

import asyncio
from bisect import bisect_right
from decimal import Decimal

import pytest

import connectors
from connectors.qtrade import QTrade
from core.connector import Pool
from core.errors import InsufficientFunds
from core.ratelimit import RateLimit, RateLimiter
from sandbox import Sandbox

WINDOW_S = 60.0


@pytest.fixture
async def sb():
    async with Sandbox(seed=3, exchanges=["qtrade"], maker_rate=0) as sandbox:
        yield sandbox


def unthrottled(sb: Sandbox, key: str, secret: str) -> connectors.Connector:
    limits = {"public": Pool(1000), "private": Pool(1000, per_key=True)}
    return connectors.open("qtrade", key=key, secret=secret, base_url=sb.url("qtrade"), rate_limits=limits)


async def test_forty_private_calls_at_once_all_authenticate(sb):
    # a one-per-request seconds counter would stamp the last of these 40 s ahead of the clock,
    # outside the server's 30 s window; the clock's own seconds are accepted however often repeated
    async with unthrottled(sb, *sb.credentials("qtrade")) as ex:
        results = await asyncio.gather(*(ex.fetch_balances() for _ in range(40)))
    assert all("BTC" in balances for balances in results)


async def test_query_with_reserved_characters_is_signed_as_sent(sb):
    async with unthrottled(sb, *sb.credentials("qtrade")) as ex:
        answer = await ex.request("GET", "/v1/user/orders", {"open": True, "note": "a:b/c é+&="}, auth=True)
    assert answer == {"data": {"orders": []}}


async def test_order_beyond_a_small_balance_raises_insufficient_funds(sb):
    venue = sb.venue("qtrade")
    poor = venue.add_key("poor")
    venue.fund("poor", {"BTC": Decimal("0.001")})
    async with unthrottled(sb, poor.key, poor.secret) as ex:
        with pytest.raises(InsufficientFunds):
            await ex.create_order("LTC/BTC", "buy", Decimal("1"), Decimal("0.004"))


def admitted_times(limiter: RateLimiter, limits: list[RateLimit], count: int) -> list[float]:
    """When ``count`` callers asking at t=0, one after another, are let through."""
    return [limiter.reserve(limits=limits, now=0.0) for _ in range(count)]


def busiest_window(times: list[float]) -> int:
    """The most requests in any window (t - 60 s, t]."""
    return max(bisect_right(times, t) - bisect_right(times, t - WINDOW_S) for t in times)


@pytest.mark.parametrize(("pool", "window_limit"), [("private", 60), ("public", 120)])
def test_declared_pools_never_exceed_the_documented_window(pool, window_limit):
    spec = QTrade.rate_limits[pool]
    limit = RateLimit(pool, spec.rate, spec.period, spec.burst, clock=lambda: 0.0)
    times = admitted_times(RateLimiter(limit), [limit], 500)
    assert busiest_window(times) < window_limit
