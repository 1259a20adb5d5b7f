"""BTC-Alpha's live book against the sandbox: exact through disconnects, stalls and resyncs."""

import asyncio
from decimal import Decimal

import pytest

import streams
from sandbox import Sandbox
from sandbox.market_maker import MarketMaker

SYMBOL = "BTC/USD"


def engine_orders(sb: Sandbox) -> list[tuple]:
    bids, asks = sb.venue("btcalpha").engine.book(SYMBOL)
    return [(o.id, "buy", o.price, o.remaining) for o in bids] + [(o.id, "sell", o.price, o.remaining) for o in asks]


def local_orders(feed) -> list[tuple]:
    return [(o.id, side, o.price, o.amount) for side in ("buy", "sell") for o in feed.book.side_orders(side)]


async def settled(feed, sb: Sandbox, timeout: float = 10.0) -> None:
    """Wait until the live local book has caught up with the engine (nothing is moving)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (feed.book.state == "live" and local_orders(feed) == engine_orders(sb)):
        if loop.time() > deadline:
            break
        await asyncio.sleep(0.02)
    assert feed.book.state == "live"
    assert local_orders(feed) == engine_orders(sb)  # every order id, price and Decimal amount
    bids, asks = sb.venue("btcalpha").engine.levels(SYMBOL)
    assert [(lvl.price, lvl.amount) for lvl in feed.book.bids] == bids
    assert [(lvl.price, lvl.amount) for lvl in feed.book.asks] == asks


@pytest.fixture
async def sb():
    async with Sandbox(seed=11, exchanges=["btcalpha"], maker_rate=0) as sandbox:
        yield sandbox


@pytest.mark.parametrize("protocol", [3, 4])
async def test_book_goes_live_equal_to_the_engine_and_follows_it(sb, protocol):
    maker = MarketMaker(sb.venue("btcalpha"), {SYMBOL: Decimal("911.5")}, seed=1)
    async with streams.open_book("btcalpha", SYMBOL, base_url=sb.url("btcalpha"), protocol=protocol) as feed:
        assert feed.book.state in ("syncing", "live")
        await feed.wait_live(10)
        await settled(feed, sb)
        for _ in range(300):
            maker.step()
            await asyncio.sleep(0)
        await settled(feed, sb)
        assert feed.events > 0


async def test_10000_events_with_20_disconnects_and_stalls_stay_exact_after_every_resync(sb):
    venue = sb.venue("btcalpha")
    maker = MarketMaker(venue, {SYMBOL: Decimal("911.5")}, seed=2, depth=30)
    engine_events = 0

    def count(_event) -> None:
        nonlocal engine_events
        engine_events += 1

    venue.engine.subscribe(count)
    async with streams.open_book("btcalpha", SYMBOL, base_url=sb.url("btcalpha"), stall_timeout=0.4,
                                 reconnect=streams_backoff()) as feed:
        await feed.wait_live(10)
        disruptions = 0
        while engine_events < 10_000:
            for i in range(450):
                maker.step()
                if i % 15 == 0:
                    await asyncio.sleep(0)  # let the socket and the feed run mid-stream
            reconnects = feed.reconnects
            if disruptions % 2 == 0:
                venue.socket_control.drop_all()
            else:
                venue.socket_control.stall_all(1.5)  # the feed must notice on its own
            disruptions += 1
            for _ in range(60):  # the engine keeps moving while the feed is away
                maker.step()
                await asyncio.sleep(0)
            await wait_for(lambda: feed.reconnects > reconnects, 10)
            await feed.wait_live(15)
            await settled(feed, sb)
        assert disruptions >= 20 and feed.reconnects >= 20
        await settled(feed, sb)


async def test_iterating_yields_a_snapshot_then_level_updates_that_rebuild_the_book(sb):
    maker = MarketMaker(sb.venue("btcalpha"), {SYMBOL: Decimal("911.5")}, seed=3)
    async with streams.open_book("btcalpha", SYMBOL, base_url=sb.url("btcalpha")) as feed:
        await feed.wait_live(10)
        levels: dict[tuple[str, Decimal], Decimal] = {}
        received = 0

        async def consume():
            nonlocal received
            async for update in feed:
                received += 1
                if isinstance(update, streams.BookSnapshot):
                    levels.clear()
                    levels.update({("bid", lvl.price): lvl.amount for lvl in update.bids})
                    levels.update({("ask", lvl.price): lvl.amount for lvl in update.asks})
                elif update.amount:
                    levels[(update.side, update.price)] = update.amount
                else:
                    levels.pop((update.side, update.price), None)

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0.05)
        for _ in range(400):
            maker.step()
            await asyncio.sleep(0)
        await settled(feed, sb)
        await asyncio.sleep(0.05)
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
    bids, asks = sb.venue("btcalpha").engine.levels(SYMBOL)
    assert received > 100
    assert levels == {**{("bid", p): a for p, a in bids}, **{("ask", p): a for p, a in asks}}


async def test_a_dead_connection_is_detected_by_heartbeat_and_the_book_resyncs(sb):
    async with streams.open_book("btcalpha", SYMBOL, base_url=sb.url("btcalpha"), stall_timeout=60) as feed:
        await feed.wait_live(10)
        conn = feed._conn
        conn._fail(streams.engineio.ConnectionLost("no heartbeat (simulated)"))
        await wait_for(lambda: feed.reconnects == 1, 10)
        await feed.wait_live(10)
        await settled(feed, sb)


async def test_open_and_close_100_times_leaves_no_task_or_session():
    async with Sandbox(seed=4, exchanges=["btcalpha"], maker_rate=0) as sandbox:
        before = set(asyncio.all_tasks())
        for _ in range(100):
            async with streams.open_book("btcalpha", SYMBOL, base_url=sandbox.url("btcalpha")) as feed:
                await feed.wait_live(10)
        await asyncio.sleep(0.05)
        assert set(asyncio.all_tasks()) - before == set()


def streams_backoff():
    from core.transport import RetryPolicy

    return RetryPolicy(base_delay=0.01, max_delay=0.1)


async def wait_for(condition, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_syncing_under_a_fast_stream_needs_few_resyncs(sb):
    """Events the snapshot reflects can still be in flight when it returns; the feed keeps
    buffering long enough that the first live events do not contradict the book."""
    maker = MarketMaker(sb.venue("btcalpha"), {SYMBOL: Decimal("911.5")}, seed=4, depth=40)
    running = True

    async def churn():
        while running:
            for _ in range(10):
                maker.step()
            await asyncio.sleep(0)

    churner = asyncio.create_task(churn())
    try:
        async with streams.open_book("btcalpha", SYMBOL, base_url=sb.url("btcalpha")) as feed:
            await feed.wait_live(15)
            await asyncio.sleep(2.0)
            running = False
            await churner
            await settled(feed, sb)
            assert feed.resyncs <= 2 and feed.reconnects == 0
    finally:
        running = False
        await asyncio.gather(churner, return_exceptions=True)
