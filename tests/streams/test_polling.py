"""Polling feeds against the sandbox: diffs rebuild the book, trades arrive once, no 429."""

import asyncio
from decimal import Decimal

import pytest

import connectors
import streams
from core.models import Trade
from sandbox import Sandbox
from streams.events import BookSnapshot, LevelUpdate
from streams.polling import PollingFeed
from tests.contract.conftest import SYMBOLS

POLLED = [ex for ex in sorted(SYMBOLS) if ex != "btcalpha" and ex in connectors.EXCHANGES]


@pytest.fixture(params=POLLED)
async def venue(request):
    async with Sandbox(seed=5, exchanges=[request.param], maker_rate=40) as sb:
        yield request.param, sb


async def test_polled_diffs_rebuild_the_polled_book_and_trades_come_once(venue):
    exchange, sb = venue
    symbol = SYMBOLS[exchange]
    async with connectors.open(exchange, base_url=sb.url(exchange)) as ex:
        feed = PollingFeed(ex, symbol, interval=0.05, depth=20)
        levels: dict[tuple[str, Decimal], Decimal] = {}
        trade_ids: list[str] = []
        async with feed:
            async def consume():
                async for event in feed:
                    if isinstance(event, BookSnapshot):
                        levels.clear()
                        levels.update({("bid", lvl.price): lvl.amount for lvl in event.bids})
                        levels.update({("ask", lvl.price): lvl.amount for lvl in event.asks})
                    elif isinstance(event, LevelUpdate):
                        if event.amount:
                            levels[(event.side, event.price)] = event.amount
                        else:
                            levels.pop((event.side, event.price), None)
                    elif isinstance(event, Trade):
                        trade_ids.append(event.id)

            consumer = asyncio.create_task(consume())
            await asyncio.sleep(0.5)
            engine = sb.venue(exchange).engine
            bids, _ = engine.levels(symbol)
            spec = engine.markets()[symbol]
            amount = max(spec.min_amount, spec.min_cost / bids[0][0]).quantize(Decimal(1).scaleb(-spec.amount_precision)) * 2
            engine.place_order("maker", symbol, "sell", amount, bids[0][0])  # a trade the feed must report
            fill_id = engine.fills(None, symbol)[0].id
            for _ in range(300):  # slow exchanges (qTrade: ~1.5 public calls/s) need a few seconds
                if any(t.endswith(str(fill_id)) for t in trade_ids) and feed.polls > 10:
                    break
                await asyncio.sleep(0.05)
            consumer.cancel()
            await asyncio.gather(consumer, return_exceptions=True)
            book = feed.book
            assert book.state == "live" and feed.polls > 10 and feed.errors == 0
            assert levels == {**{("bid", l.price): l.amount for l in book.bids},
                              **{("ask", l.price): l.amount for l in book.asks}}
    assert trade_ids and len(trade_ids) == len(set(trade_ids))


async def test_open_book_for_a_polled_exchange_goes_live_and_tracks_the_engine(venue):
    exchange, sb = venue
    symbol = SYMBOLS[exchange]
    async with streams.open_book(exchange, symbol, base_url=sb.url(exchange), interval=0.05, depth=5) as feed:
        await feed.wait_live(10)
        assert feed.book.state == "live" and feed.book.bids and feed.book.asks
        assert feed.book.bids[0].price < feed.book.asks[0].price


async def test_failed_polls_mark_the_book_stale_then_live_again(venue):
    exchange, sb = venue
    async with streams.open_book(exchange, SYMBOLS[exchange], base_url=sb.url(exchange), interval=0.05) as feed:
        await feed.wait_live(10)
        with sb.venue(exchange).inject(error_before=1.0):
            for _ in range(200):
                if feed.book.state == "stale":
                    break
                await asyncio.sleep(0.05)
            assert feed.book.state == "stale" and feed.errors >= 1
        for _ in range(200):
            if feed.book.state == "live":
                break
            await asyncio.sleep(0.05)
        assert feed.book.state == "live"
