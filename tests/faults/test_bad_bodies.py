"""Malformed, truncated and HTML answers, all five exchanges at once: typed errors, never a
crash, and the next call works. A mutating call whose 2xx answer cannot be read has been
applied: the caller must be told the outcome is unknown, not that the answer was bad."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import BadResponse, ExchangeUnavailable, OutcomeUnknown
from core.reconcile import find_order
from core.timestamps import now_ms
from tests.faults.conftest import Exchange

# what each kind of garbage must turn into on a read
ON_READ = {"malformed": BadResponse, "truncated": BadResponse, "html": ExchangeUnavailable}


async def read_garbage(exchange: Exchange, kind: str) -> None:
    ex = exchange.ex
    with exchange.venue.inject(**{kind: 1.0}, methods={"GET"}):
        try:
            await ex.fetch_order_book(exchange.symbol)
        except ON_READ[kind] as exc:
            assert exc.exchange == exchange.id, (exchange.id, kind)
        else:
            raise AssertionError(f"{exchange.id}: a {kind} answer must raise {ON_READ[kind].__name__}")
    assert (await ex.fetch_order_book(exchange.symbol)).bids, (exchange.id, kind)  # the next call works


@pytest.mark.parametrize("kind", sorted(ON_READ))
async def test_a_garbage_answer_to_a_read_is_a_typed_error_and_the_next_call_works(every_exchange, kind):
    await asyncio.gather(*(read_garbage(exchange, kind) for exchange in every_exchange.values()))


async def html_after_create(exchange: Exchange) -> None:
    amount, price = await exchange.quiet_order("buy")
    sent_at = now_ms()
    with exchange.venue.inject(html=1.0, methods={"POST"}):  # the order is placed, then a 502 page
        try:
            await exchange.ex.create_order(exchange.symbol, "buy", amount, price)
        except OutcomeUnknown as exc:
            assert exc.status == 502, exchange.id
        else:
            raise AssertionError(f"{exchange.id}: a 502 page after a create must raise OutcomeUnknown")
    found = await find_order(exchange.ex, exchange.symbol, "buy", amount, price, sent_at=sent_at, settle=0)
    assert len(exchange.demo_orders()) == 1 and found is not None, exchange.id


async def test_an_html_error_page_after_a_create_is_outcome_unknown_and_reconciles(every_exchange):
    await asyncio.gather(*(html_after_create(exchange) for exchange in every_exchange.values()))


@pytest.mark.parametrize("kind", ["malformed", "truncated"])
async def test_an_unreadable_answer_to_a_create_is_outcome_unknown(exchange, kind):
    amount, price = await exchange.quiet_order("buy")
    with exchange.venue.inject(**{kind: 1.0}, methods={"POST"}):
        with pytest.raises(OutcomeUnknown):
            await exchange.ex.create_order(exchange.symbol, "buy", amount, price)
    assert len(exchange.demo_orders()) == 1
