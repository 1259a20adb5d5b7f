"""Latency spikes and timeouts, all five exchanges at once: a slow answer within the timeout
is just slow; a read that times out is retried and then RequestTimeout; a create that times
out is OutcomeUnknown, never resent, and reconciling tells what the engine holds (the
sandbox delays before reading the request, so a create the client gave up on is dropped with
its connection: not placed)."""

from __future__ import annotations

import asyncio

from core.errors import OutcomeUnknown, RequestTimeout
from core.reconcile import find_order
from core.timestamps import now_ms
from core.transport import RetryPolicy, Timeouts
from tests.faults.conftest import QUICK_RETRY, Exchange, HitLog

SPIKE = 0.3  # seconds the server sits on each answer, well within the timeout
STALL = 1.0  # seconds: past the timeout below
SHORT = Timeouts(connect=1.0, read=0.3, total=0.5)


async def spike(exchange: Exchange) -> None:
    async with exchange.connector(timeouts=Timeouts(connect=1.0, read=2.0, total=3.0)) as ex:
        await ex.load_markets()
        loop = asyncio.get_running_loop()
        with exchange.venue.inject(latency=SPIKE):
            started = loop.time()
            book = await ex.fetch_order_book(exchange.symbol)
            assert book.bids and loop.time() - started >= SPIKE, exchange.id


async def test_a_latency_spike_within_the_timeout_only_slows_the_answer(every_exchange):
    await asyncio.gather(*(spike(exchange) for exchange in every_exchange.values()))


async def read_timeout(exchange: Exchange) -> None:
    async with exchange.connector(timeouts=SHORT, retry=RetryPolicy(max_retries=1, base_delay=0.01)) as ex:
        await ex.load_markets()
        log = HitLog(latency=STALL, methods=frozenset({"GET"}))
        exchange.venue.faults = log
        try:
            await ex.fetch_order_book(exchange.symbol)
        except RequestTimeout:
            pass
        else:
            raise AssertionError(f"{exchange.id}: a read past the timeout must raise RequestTimeout")
        assert len(log.hits) == 2, exchange.id  # sent, timed out, retried once (a read is idempotent)
        log.latency = 0.0
        assert (await ex.fetch_order_book(exchange.symbol)).bids, exchange.id  # the next call works


async def test_a_read_that_times_out_is_retried_then_raises_request_timeout(every_exchange):
    await asyncio.gather(*(read_timeout(exchange) for exchange in every_exchange.values()))


async def create_timeout(exchange: Exchange) -> None:
    amount, price = await exchange.quiet_order("buy")
    async with exchange.connector(timeouts=SHORT, retry=QUICK_RETRY) as ex:
        await ex.load_markets()
        sent_at = now_ms()
        with exchange.venue.inject(latency=STALL, methods={"POST"}):
            try:
                await ex.create_order(exchange.symbol, "buy", amount, price)
            except OutcomeUnknown as exc:
                assert isinstance(exc.cause, RequestTimeout), (exchange.id, exc.cause)
            else:
                raise AssertionError(f"{exchange.id}: a create past the timeout must raise OutcomeUnknown")
        # looked at twice, the second time once the server is done with what it sat on
        found = await find_order(ex, exchange.symbol, "buy", amount, price, sent_at=sent_at, settle=STALL)
    assert exchange.demo_orders() == [] and found is None, exchange.id  # not placed, and not resent


async def test_a_create_that_times_out_is_outcome_unknown_and_reconciles_to_not_placed(every_exchange):
    await asyncio.gather(*(create_timeout(exchange) for exchange in every_exchange.values()))
