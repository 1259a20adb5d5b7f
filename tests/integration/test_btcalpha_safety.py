"""BTC-Alpha end to end: concurrency never trips its nonce or rate rules, and a lost
answer to an order surfaces as OutcomeUnknown with the order still findable."""

import asyncio
from decimal import Decimal

import pytest

import connectors
from core.connector import Pool
from core.errors import OutcomeUnknown
from sandbox import Sandbox


@pytest.fixture
async def sb():
    async with Sandbox(seed=3, exchanges=["btcalpha"], maker_rate=0) as sandbox:
        yield sandbox


async def test_200_concurrent_private_calls_get_no_invalid_nonce_and_no_429(sb):
    venue = sb.venue("btcalpha")
    venue.windows["private"].limit = 40  # a faster account so the test takes seconds, not minutes
    key, secret = sb.credentials("btcalpha")
    async with connectors.open("btcalpha", key=key, secret=secret, base_url=sb.url("btcalpha"),
                               rate_limits={"private": Pool.window(40, burst=4, per_key=True)}) as ex:
        await ex.load_markets()
        results = await asyncio.gather(*(ex.fetch_balances() for _ in range(200)), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert all(r["BTC"].total > 0 for r in results)
    assert venue.nonce_memory[key] == ex.nonces.last  # every nonce reached the server in order


async def test_documented_two_per_second_limit_paces_a_burst_without_429(sb):
    key, secret = sb.credentials("btcalpha")
    async with connectors.open("btcalpha", key=key, secret=secret, base_url=sb.url("btcalpha")) as ex:
        await ex.load_markets()
        loop = asyncio.get_running_loop()
        started = loop.time()
        results = await asyncio.gather(*(ex.fetch_balances() for _ in range(5)), return_exceptions=True)
        elapsed = loop.time() - started
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert elapsed >= 3.9  # 5 calls, one a second after the first: the limiter waited, the server never refused


async def test_5xx_after_the_order_is_applied_raises_outcome_unknown_and_the_order_is_found(sb):
    key, secret = sb.credentials("btcalpha")
    venue = sb.venue("btcalpha")
    bids, _ = venue.engine.levels("BTC/USD")
    price = bids[-1][0] - Decimal("1")
    async with connectors.open("btcalpha", key=key, secret=secret, base_url=sb.url("btcalpha")) as ex:
        with venue.inject(error_after=1.0, methods={"POST"}):
            with pytest.raises(OutcomeUnknown) as info:
                await ex.create_order("BTC/USD", "buy", Decimal("0.0100"), price)
        assert info.value.method == "POST" and info.value.path == "/api/v1/order/"
        open_orders = await ex.fetch_open_orders("BTC/USD")
    placed = [o for o in open_orders if o.price == price and o.amount == Decimal("0.01")]
    assert len(placed) == 1  # applied exactly once: no blind retry doubled it
