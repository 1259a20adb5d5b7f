"""5xx before and after the exchange applies a mutating call, on every exchange.

``error_before``: the server answers 5xx without running the handler (nothing applied);
``error_after``: the handler runs, then 5xx is answered (applied). Either way the client
cannot know, so it must raise OutcomeUnknown and never resend (no double order, cancel or
withdrawal); :mod:`core.reconcile` then tells which it was, as the engine's books show.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import ExchangeUnavailable, OutcomeUnknown
from core.reconcile import find_order, find_withdrawal
from core.timestamps import now_ms
from tests.contract.test_contract import eventually, inside_price, min_amount, rules
from tests.faults.conftest import WITHDRAW_ADDRESS, WITHDRAW_CURRENCY, open_exchange, withdraw_options

FAULTS = ["error_before", "error_after"]
# cancel-all as the exchange's own single call (the others list open orders and cancel each)
NATIVE_CANCEL_ALL = {"coindcx": "BTC/INR", "peatio": None, "quidax": None}


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_lost_create_raises_outcome_unknown_and_reconciles_to_what_the_engine_holds(exchange, fault):
    amount, price = await exchange.quiet_order("buy")
    before = {o.id for o in exchange.demo_orders()}
    sent_at = now_ms()
    with exchange.venue.inject(**{fault: 1.0}, methods={"POST"}):
        with pytest.raises(OutcomeUnknown) as lost:
            await exchange.ex.create_order(exchange.symbol, "buy", amount, price)
    assert lost.value.method == "POST" and lost.value.status >= 500
    placed = [o for o in exchange.demo_orders() if o.id not in before]
    assert len(placed) == (1 if fault == "error_after" else 0)  # applied at most once: never resent

    found = await find_order(exchange.ex, exchange.symbol, "buy", amount, price, sent_at=sent_at, settle=0)
    if fault == "error_after":
        assert found is not None and (found.amount, found.price, found.status) == (amount, price, "open")
        await exchange.ex.cancel_order(found.id, exchange.symbol)  # the id found is the engine's order

        async def engine_order_canceled() -> bool:
            return [o.status for o in exchange.demo_orders() if o.id == placed[0].id] == ["canceled"]

        assert await eventually(engine_order_canceled)
    else:
        assert found is None


async def test_reconcile_tells_two_identical_orders_apart(exchange):
    amount, price = await exchange.quiet_order("sell")
    first = await exchange.ex.create_order(exchange.symbol, "sell", amount, price)
    sent_at = now_ms()
    with exchange.venue.inject(error_after=1.0, methods={"POST"}):
        with pytest.raises(OutcomeUnknown):
            await exchange.ex.create_order(exchange.symbol, "sell", amount, price)
    def look(**known):
        return find_order(exchange.ex, exchange.symbol, "sell", amount, price, sent_at=sent_at, settle=0, **known)

    assert (await look()).id == first.id  # placed a moment before, within the clock skew allowed
    found = await look(known={first.id})
    assert found is not None and found.id != first.id
    assert len(exchange.demo_orders()) == 2


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_lost_cancel_raises_outcome_unknown_and_the_order_tells_whether_it_took(exchange, fault):
    amount, price = await exchange.quiet_order("buy")
    order = await exchange.ex.create_order(exchange.symbol, "buy", amount, price)
    with exchange.venue.inject(**{fault: 1.0}, methods={"POST", "DELETE"}):
        with pytest.raises(OutcomeUnknown):
            await exchange.ex.cancel_order(order.id, exchange.symbol)
    [engine_order] = [o for o in exchange.demo_orders() if o.price == price]
    assert engine_order.status == ("canceled" if fault == "error_after" else "open")
    assert (await exchange.ex.fetch_order(order.id, exchange.symbol)).status == engine_order.status


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("exchange_id", sorted(NATIVE_CANCEL_ALL))
async def test_a_lost_native_cancel_all_is_retried_only_where_it_is_idempotent(exchange_id, fault):
    async with open_exchange(exchange_id) as exchange:
        amount, price = await exchange.quiet_order("buy")
        for _ in range(2):
            await exchange.ex.create_order(exchange.symbol, "buy", amount, price)
        idempotent = exchange.ex.endpoints["cancel_all"].safe_to_retry
        # CoinDCX declares its cancel-all idempotent: retried, then "unavailable"; the others are lost
        expected = ExchangeUnavailable if idempotent else OutcomeUnknown
        with exchange.venue.inject(**{fault: 1.0}, methods={"POST", "DELETE"}):
            with pytest.raises(expected):
                await exchange.ex.cancel_all_orders(NATIVE_CANCEL_ALL[exchange_id])
        still_open = [o for o in exchange.demo_orders() if o.status == "open"]
        assert len(still_open) == (0 if fault == "error_after" else 2)
        assert len(await exchange.ex.fetch_open_orders(exchange.symbol)) == len(still_open)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("exchange_id", sorted(WITHDRAW_CURRENCY))
async def test_a_lost_withdrawal_raises_outcome_unknown_and_reconciles(exchange_id, fault):
    async with open_exchange(exchange_id) as exchange:
        currency, amount = WITHDRAW_CURRENCY[exchange_id], Decimal("0.01")
        options = await withdraw_options(exchange)
        sent_at = now_ms()
        with exchange.venue.inject(**{fault: 1.0}, methods={"POST"}):
            with pytest.raises(OutcomeUnknown):
                await exchange.ex.withdraw(currency, amount, WITHDRAW_ADDRESS, **options)
        started = exchange.withdrawals()
        assert len(started) == (1 if fault == "error_after" else 0)  # never sent twice
        found = await find_withdrawal(exchange.ex, currency, amount, WITHDRAW_ADDRESS, sent_at=sent_at, settle=0)
        if fault == "error_after":
            assert found is not None and (found.currency, found.amount) == (currency, started[0].amount)
        else:
            assert found is None


@pytest.mark.parametrize("exchange_id", ["coindcx", "peatio", "qtrade", "quidax"])  # own trades name their order
async def test_a_lost_order_that_filled_and_left_the_history_is_found_through_the_own_trades(exchange_id):
    async with open_exchange(exchange_id) as exchange:
        ex = exchange.ex
        market = rules(exchange, await ex.market(exchange.symbol))
        price = inside_price(exchange, market, "sell")
        amount = min_amount(market, price)
        exchange.engine.place_order("maker", exchange.symbol, "sell", amount, price)  # ours will take it all

        async def open_only(symbol: str | None = None) -> list:  # a history that forgets filled orders
            return await ex.fetch_open_orders(symbol)

        ex.fetch_orders = open_only
        sent_at = now_ms()
        with exchange.venue.inject(error_after=1.0, methods={"POST"}):
            with pytest.raises(OutcomeUnknown):
                await ex.create_order(exchange.symbol, "buy", amount, price)
        found = await find_order(ex, exchange.symbol, "buy", amount, price, sent_at=sent_at, settle=0)
        assert found is not None and (found.status, found.filled, found.price) == ("closed", amount, price)
