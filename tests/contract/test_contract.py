"""Scenarios every connector must pass against its sandbox exchange."""

import asyncio
from decimal import Decimal

import pytest

from core.errors import (
    AuthenticationError,
    BadSymbol,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    RateLimited,
)
from core.models import Market
from core.transport import RetryPolicy

D = Decimal
MAKER = "maker"


def rules(venue, market: Market) -> Market:
    """The market's precision and limits: the connector's, or — where the exchange does not
    publish them (Quidax v2) — the sandbox engine's, which are the ones it enforces."""
    if market.price_precision is not None and market.amount_precision is not None:
        return market
    spec = venue.engine.markets()[venue.symbol]
    return Market(market.symbol, market.id, market.base, market.quote, spec.price_precision, spec.amount_precision,
                  spec.min_amount, spec.max_amount, spec.min_price, spec.max_price, spec.min_cost or None)


def tick(market: Market) -> Decimal:
    return Decimal(1).scaleb(-market.price_precision)


def min_amount(market: Market, price: Decimal) -> Decimal:
    """The smallest amount the market accepts at ``price``, with some room."""
    step = Decimal(1).scaleb(-market.amount_precision)
    amount = max(market.min_amount or step, step) * 2
    if market.min_cost and amount * price < market.min_cost:
        amount = (market.min_cost / price * Decimal("1.2")).quantize(step) + step
    return amount


async def quiet_price(venue, market: Market, side: str) -> Decimal:
    """A price well away from the touch, so an order there rests without trading."""
    bids, asks = venue.engine.levels(venue.symbol)
    if side == "buy":
        return (bids[-1][0] if bids else asks[0][0] / 2) - tick(market) * 50
    return (asks[-1][0] if asks else bids[0][0] * 2) + tick(market) * 50


def inside_price(venue, market: Market, side: str) -> Decimal:
    """A price one tick inside the spread: an order there rests at the top of its side."""
    bids, asks = venue.engine.levels(venue.symbol)
    price = bids[0][0] + tick(market) if side == "buy" else asks[0][0] - tick(market)
    assert bids[0][0] < price < asks[0][0], "the sandbox book needs a spread wider than one tick"
    return price


async def eventually(check, timeout: float = 3.0):
    """Await ``check()`` until it returns truthy (for exchanges whose cancels are asynchronous)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.05)


async def test_load_markets_gives_unified_symbols(venue):
    markets = await venue.ex.load_markets()
    assert venue.symbol in markets
    for symbol, market in markets.items():
        assert symbol == f"{market.base}/{market.quote}" and symbol.isupper() and market.id


async def test_order_book_equals_the_engine_levels_best_first(venue):
    book = await venue.ex.fetch_order_book(venue.symbol, limit=5)
    bids, asks = venue.engine.levels(venue.symbol)
    assert [(lvl.price, lvl.amount) for lvl in book.bids] == bids[:5]
    assert [(lvl.price, lvl.amount) for lvl in book.asks] == asks[:5]
    assert book.bids[0].price < book.asks[0].price and book.timestamp > 1_600_000_000_000


async def test_trades_candles_and_ticker_reflect_engine_fills(venue):
    market = rules(venue, await venue.ex.market(venue.symbol))
    bids, _ = venue.engine.levels(venue.symbol)
    venue.engine.place_order(MAKER, venue.symbol, "sell", min_amount(market, bids[0][0]), bids[0][0])
    trades = await venue.ex.fetch_trades(venue.symbol, limit=10)
    fill = venue.engine.fills(None, venue.symbol)[0]
    assert trades and trades[-1].price == fill.price and trades[-1].amount == fill.amount
    assert abs(trades[-1].timestamp - fill.timestamp_ms) < 1000
    candles = await venue.ex.fetch_candles(venue.symbol, "1h" if "1h" in venue.ex.timeframes else next(iter(venue.ex.timeframes)))
    assert candles and candles[-1].low <= fill.price <= candles[-1].high and candles[-1].volume > 0
    ticker = await venue.ex.fetch_ticker(venue.symbol)
    assert ticker.symbol == venue.symbol and ticker.last == fill.price


async def test_limit_order_rests_then_fills_and_balances_move_exactly(venue):
    ex = venue.ex
    market = rules(venue, await ex.market(venue.symbol))
    price = inside_price(venue, market, "buy")
    amount = min_amount(market, price)
    before = await ex.fetch_balances()
    order = await ex.create_order(venue.symbol, "buy", amount, price)
    assert order.status in ("open", "pending") and order.amount == amount and order.price == price
    open_ids = [o.id for o in await ex.fetch_open_orders(venue.symbol)]
    assert order.id in open_ids
    assert any(o.price == price and o.remaining == amount for o in venue.engine.book(venue.symbol)[0])
    locked = await ex.fetch_balances()
    assert locked[market.quote].locked - before[market.quote].locked == amount * price

    venue.engine.place_order(MAKER, venue.symbol, "sell", amount, price)  # the maker crosses it
    filled = await ex.fetch_order(order.id, venue.symbol)
    assert filled.status == "closed" and filled.filled == amount and filled.remaining == 0
    after = await ex.fetch_balances()
    fill = venue.engine.fills("demo", venue.symbol)[0]
    assert fill.maker_account == "demo" and fill.amount == amount
    # we bought as maker: base arrives less the engine's maker fee, quote leaves in full
    assert after[market.base].total - before[market.base].total == amount - fill.maker_fee
    assert before[market.quote].total - after[market.quote].total == amount * price
    mine = await ex.fetch_my_trades(venue.symbol)
    assert any(t.price == price and t.amount == amount for t in mine)


async def test_cancel_removes_the_order_from_book_and_open_orders(venue):
    ex = venue.ex
    market = rules(venue, await ex.market(venue.symbol))
    price = await quiet_price(venue, market, "sell")
    order = await ex.create_order(venue.symbol, "sell", min_amount(market, price), price)
    await ex.cancel_order(order.id, venue.symbol)

    async def canceled():
        return (await ex.fetch_order(order.id, venue.symbol)).status == "canceled"

    assert await eventually(canceled)
    assert order.id not in [o.id for o in await ex.fetch_open_orders(venue.symbol)]
    assert all(o.price != price for o in venue.engine.book(venue.symbol)[1])
    assert order.id in [o.id for o in await ex.fetch_orders(venue.symbol)]


async def test_cancel_all_cancels_every_open_order(venue):
    ex = venue.ex
    market = rules(venue, await ex.market(venue.symbol))
    price = await quiet_price(venue, market, "buy")
    for i in range(2):
        await ex.create_order(venue.symbol, "buy", min_amount(market, price), price - tick(market) * i)
    await ex.cancel_all_orders(venue.symbol)

    async def none_open():
        return not await ex.fetch_open_orders(venue.symbol)

    assert await eventually(none_open)


async def test_unknown_symbol_raises_bad_symbol(venue):
    with pytest.raises(BadSymbol):
        await venue.ex.fetch_order_book("NOPE/XYZ")


async def test_too_small_amount_is_refused_before_sending(venue):
    market = rules(venue, await venue.ex.market(venue.symbol))
    price = await quiet_price(venue, market, "buy")
    orders_before = len(venue.engine.orders("demo"))
    with pytest.raises(InvalidOrder):
        await venue.ex.create_order(venue.symbol, "buy", Decimal(1).scaleb(-market.amount_precision - 1), price)
    assert len(venue.engine.orders("demo")) == orders_before


async def test_order_beyond_the_balance_raises_insufficient_funds(venue):
    market = rules(venue, await venue.ex.market(venue.symbol))
    price = await quiet_price(venue, market, "buy")
    amount = min_amount(market, price)
    api_key = venue.sb.venue(venue.id).add_key("poor")
    venue.sb.venue(venue.id).fund("poor", {market.quote: amount * price / 2})  # half of what the order needs
    async with venue.connector(api_key.key, api_key.secret) as poor:
        with pytest.raises(InsufficientFunds):
            await poor.create_order(venue.symbol, "buy", amount, price)


async def test_unknown_order_raises_order_not_found(venue):
    with pytest.raises(OrderNotFound):
        await venue.ex.fetch_order("987654321", venue.symbol)


async def test_bad_key_raises_authentication_error(venue):
    async with venue.connector("not-a-key", "not-a-secret") as stranger:
        with pytest.raises(AuthenticationError):
            await stranger.fetch_balances()


async def test_rate_limited_answer_raises_rate_limited_then_recovers(venue):
    async with venue.connector(retry=RetryPolicy(max_rate_limited_retries=0)) as ex:
        await ex.load_markets()
        with venue.sb.venue(venue.id).inject(rate_limit=1.0):
            with pytest.raises(RateLimited):
                await ex.fetch_order_book(venue.symbol)
        book = await ex.fetch_order_book(venue.symbol)
    assert book.bids
