"""Unit tests of the sandbox matching engine, one behaviour each."""

from __future__ import annotations

import logging
from decimal import Decimal as D

import pytest

import sandbox.engine as engine_module
from sandbox.engine import (
    CancelEvent,
    Engine,
    EngineError,
    InsufficientBalance,
    MarketSpec,
    OrderEvent,
    OrderNotCancelable,
    OrderNotFoundError,
    OrderRejected,
    UnknownAccount,
    UnknownMarket,
)

BTC_USD = MarketSpec(
    symbol="BTC/USD", base="BTC", quote="USD", price_precision=2, amount_precision=4,
    min_amount=D("0.001"), max_amount=D("100"), min_price=D("1"), max_price=D("1000000"),
    min_cost=D("5"),
)
FEES = MarketSpec(
    symbol="ETH/BTC", base="ETH", quote="BTC", price_precision=6, amount_precision=3,
    min_amount=D("0.001"), max_amount=D("1000"), min_price=D("0.000001"), max_price=D("10"),
    maker_fee=D("0.001"), taker_fee=D("0.0025"),
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000_000

    def __call__(self) -> int:
        self.now += 1
        return self.now


@pytest.fixture
def engine() -> Engine:
    eng = Engine(clock_ms=Clock())
    eng.add_market(BTC_USD)
    eng.add_market(FEES)
    for name in ("alice", "bob", "carol"):
        eng.create_account(name)
        eng.deposit(name, "USD", D("100000"))
        eng.deposit(name, "BTC", D("10"))
        eng.deposit(name, "ETH", D("100"))
    return eng


def bal(eng: Engine, account: str, currency: str) -> tuple[D, D]:
    b = eng.balances(account)[currency]
    return b.available, b.locked


def state(eng: Engine) -> tuple[object, ...]:
    """Everything a rejected call must leave untouched."""
    accounts = [*eng.accounts(), Engine.FEE_ACCOUNT]
    return (
        {a: eng.balances(a) for a in accounts},
        {a: [(o.id, o.status, o.remaining) for o in eng.orders(a)] for a in eng.accounts()},
        [eng.book(s) for s in eng.markets()],
        eng.fills(),
    )


def test_exports_are_the_documented_names() -> None:
    assert set(engine_module.__all__) == {
        "Engine", "MarketSpec", "EngineOrder", "Fill", "AccountBalance", "TransferRecord",
        "OrderEvent", "CancelEvent", "EngineError", "UnknownMarket", "UnknownAccount",
        "InsufficientBalance", "OrderRejected", "OrderNotFoundError", "OrderNotCancelable",
    }


def test_errors_derive_from_engine_error_and_carry_reasons() -> None:
    for cls, reason in [
        (UnknownMarket, "unknown_market"), (UnknownAccount, "unknown_account"),
        (InsufficientBalance, "insufficient_balance"), (OrderNotFoundError, "order_not_found"),
        (OrderNotCancelable, "order_not_cancelable"),
    ]:
        assert issubclass(cls, EngineError)
        assert cls("x").reason == reason
    assert OrderRejected("x", "min_amount").reason == "min_amount"


# -- markets and accounts --------------------------------------------------------------------


def test_markets_lists_specs_by_symbol(engine: Engine) -> None:
    assert engine.markets() == {"BTC/USD": BTC_USD, "ETH/BTC": FEES}


def test_add_market_twice_raises_value_error(engine: Engine) -> None:
    with pytest.raises(ValueError):
        engine.add_market(BTC_USD)


def test_create_account_is_idempotent_and_keeps_balances(engine: Engine) -> None:
    engine.create_account("alice")
    assert engine.accounts() == ["alice", "bob", "carol"]
    assert bal(engine, "alice", "USD") == (D("100000"), 0)


def test_accounts_exclude_fee_account_but_its_balances_are_readable(engine: Engine) -> None:
    assert Engine.FEE_ACCOUNT == "__fees__"
    assert Engine.FEE_ACCOUNT not in engine.accounts()
    assert engine.balances(Engine.FEE_ACCOUNT) == {}


def test_balances_of_unknown_account_raise_unknown_account(engine: Engine) -> None:
    with pytest.raises(UnknownAccount):
        engine.balances("mallory")


# -- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "amount", "price", "type", "reason"),
    [
        ("hold", D("1"), D("100"), "limit", "invalid_side"),
        ("buy", D("1"), D("100"), "stop", "invalid_type"),
        ("buy", D("0"), D("100"), "limit", "invalid_amount"),
        ("buy", D("-1"), D("100"), "limit", "invalid_amount"),
        ("buy", D("NaN"), D("100"), "limit", "invalid_amount"),
        ("buy", D("0.00011"), D("100"), "limit", "amount_precision"),
        ("buy", D("0.0009"), D("10000"), "limit", "min_amount"),
        ("buy", D("100.0001"), D("100"), "limit", "max_amount"),
        ("buy", D("1"), None, "limit", "price_required"),
        ("buy", D("1"), D("100"), "market", "price_not_allowed"),
        ("buy", D("1"), D("0"), "limit", "invalid_price"),
        ("sell", D("1"), D("-5"), "limit", "invalid_price"),
        ("buy", D("1"), D("100.001"), "limit", "price_precision"),
        ("buy", D("1"), D("0.99"), "limit", "min_price"),
        ("sell", D("1"), D("1000000.01"), "limit", "max_price"),
        ("buy", D("0.002"), D("2000"), "limit", "min_cost"),
    ],
)
def test_place_order_breaking_a_rule_is_rejected_without_state_change(
    engine: Engine, side: str, amount: D, price: D | None, type: str, reason: str
) -> None:
    events: list[object] = []
    engine.subscribe(events.append)
    before = state(engine)
    with pytest.raises(OrderRejected) as exc_info:
        engine.place_order("alice", "BTC/USD", side, amount, price, type=type)
    assert exc_info.value.reason == reason
    assert state(engine) == before
    assert events == []
    assert engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100")).order.id == 1


def test_trailing_zeros_do_not_count_against_precision(engine: Engine) -> None:
    event = engine.place_order("alice", "BTC/USD", "buy", D("1.50000"), D("100.1000"))
    assert event.order.status == "open"


def test_cost_equal_to_min_cost_is_accepted(engine: Engine) -> None:
    assert engine.place_order("alice", "BTC/USD", "buy", D("0.005"), D("1000")).order.status == "open"


def test_place_order_on_unknown_market_raises_unknown_market(engine: Engine) -> None:
    with pytest.raises(UnknownMarket) as exc_info:
        engine.place_order("alice", "DOGE/USD", "buy", D("1"), D("1"))
    assert exc_info.value.reason == "unknown_market"


def test_place_order_for_unknown_account_raises_unknown_account(engine: Engine) -> None:
    with pytest.raises(UnknownAccount):
        engine.place_order("mallory", "BTC/USD", "buy", D("1"), D("100"))


@pytest.mark.parametrize(
    ("side", "amount", "price", "type"),
    [
        ("buy", D("2"), D("60000"), "limit"),  # 120000 USD > 100000
        ("sell", D("10.0001"), D("100"), "limit"),
        ("sell", D("11"), None, "market"),
    ],
)
def test_order_without_funds_raises_insufficient_balance_without_state_change(
    engine: Engine, side: str, amount: D, price: D | None, type: str
) -> None:
    before = state(engine)
    with pytest.raises(InsufficientBalance) as exc_info:
        engine.place_order("alice", "BTC/USD", side, amount, price, type=type)
    assert exc_info.value.reason == "insufficient_balance"
    assert state(engine) == before


def test_market_buy_without_any_quote_raises_insufficient_balance(engine: Engine) -> None:
    engine.create_account("dave")
    engine.place_order("alice", "BTC/USD", "sell", D("1"), D("100"))
    with pytest.raises(InsufficientBalance):
        engine.place_order("dave", "BTC/USD", "buy", D("1"), type="market")
    assert "USD" not in engine.balances("dave")


# -- limit orders and matching ---------------------------------------------------------------


def test_limit_order_that_does_not_cross_rests_and_locks_funds(engine: Engine) -> None:
    buy = engine.place_order("alice", "BTC/USD", "buy", D("2"), D("100"), client_id="c1")
    sell = engine.place_order("bob", "BTC/USD", "sell", D("1.5"), D("101"))
    assert buy.order.status == sell.order.status == "open"
    assert buy.order.client_id == "c1"
    assert buy.fills == sell.fills == ()
    assert bal(engine, "alice", "USD") == (D("99800"), D("200"))
    assert bal(engine, "bob", "BTC") == (D("8.5"), D("1.5"))
    bids, asks = engine.book("BTC/USD")
    assert [o.id for o in bids] == [buy.order.id] and [o.id for o in asks] == [sell.order.id]


def test_limit_buy_partially_fills_at_maker_price_and_rests_remainder(engine: Engine) -> None:
    maker = engine.place_order("bob", "BTC/USD", "sell", D("1"), D("100")).order
    event = engine.place_order("alice", "BTC/USD", "buy", D("3"), D("105"))
    (fill,) = event.fills
    assert (fill.price, fill.amount, fill.maker_order_id, fill.taker_order_id) == (
        D("100"), D("1"), maker.id, event.order.id)
    assert (fill.taker_side, fill.taker_account, fill.maker_account) == ("buy", "alice", "bob")
    order = event.order
    assert (order.status, order.filled, order.remaining, order.cost) == ("open", D("1"), D("2"), D("100"))
    assert order.average == D("100")
    # 2 BTC still open at 105 stay locked; the 5 USD saved on the fill is released.
    assert bal(engine, "alice", "USD") == (D("100000") - D("100") - D("210"), D("210"))
    assert bal(engine, "alice", "BTC") == (D("11"), 0)
    assert bal(engine, "bob", "USD") == (D("100100"), 0)
    assert bal(engine, "bob", "BTC") == (D("9"), 0)
    assert engine.levels("BTC/USD") == ([(D("105"), D("2"))], [])
    assert engine.order("bob", maker.id).status == "filled"


def test_limit_buy_filled_below_its_price_releases_unused_lock(engine: Engine) -> None:
    engine.place_order("bob", "BTC/USD", "sell", D("1"), D("90"))
    event = engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100"))
    assert event.order.status == "filled"
    assert bal(engine, "alice", "USD") == (D("99910"), 0)


def test_limit_sell_sweeps_bid_levels_best_first_and_stops_at_its_price(engine: Engine) -> None:
    for price in ("99", "101", "100"):
        engine.place_order("bob", "BTC/USD", "buy", D("1"), D(price))
    event = engine.place_order("alice", "BTC/USD", "sell", D("5"), D("100"))
    assert [(f.price, f.amount) for f in event.fills] == [(D("101"), D("1")), (D("100"), D("1"))]
    assert event.order.remaining == D("3")
    assert engine.levels("BTC/USD") == ([(D("99"), D("1"))], [(D("100"), D("3"))])


def test_makers_within_a_level_are_hit_oldest_first(engine: Engine) -> None:
    first = engine.place_order("bob", "BTC/USD", "sell", D("1"), D("100")).order
    second = engine.place_order("carol", "BTC/USD", "sell", D("1"), D("100")).order
    third = engine.place_order("bob", "BTC/USD", "sell", D("1"), D("100")).order
    event = engine.place_order("alice", "BTC/USD", "buy", D("1.5"), D("100"))
    assert [(f.maker_order_id, f.amount) for f in event.fills] == [(first.id, D("1")), (second.id, D("0.5"))]
    _, asks = engine.book("BTC/USD")
    assert [(o.id, o.remaining) for o in asks] == [(second.id, D("0.5")), (third.id, D("1"))]


def test_book_orders_bids_price_desc_and_asks_price_asc_then_time(engine: Engine) -> None:
    ids = {}
    for name, side, price in [("b1", "buy", "99"), ("b2", "buy", "100"), ("b3", "buy", "99"),
                              ("a1", "sell", "102"), ("a2", "sell", "101"), ("a3", "sell", "101")]:
        ids[name] = engine.place_order("bob", "BTC/USD", side, D("1"), D(price)).order.id
    bids, asks = engine.book("BTC/USD")
    assert [o.id for o in bids] == [ids["b2"], ids["b1"], ids["b3"]]
    assert [o.id for o in asks] == [ids["a2"], ids["a3"], ids["a1"]]
    assert engine.levels("BTC/USD") == (
        [(D("100"), D("1")), (D("99"), D("2"))], [(D("101"), D("2")), (D("102"), D("1"))])


def test_self_trade_is_allowed(engine: Engine) -> None:
    engine.place_order("alice", "BTC/USD", "sell", D("1"), D("100"))
    event = engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100"))
    assert event.order.status == "filled"
    assert bal(engine, "alice", "USD") == (D("100000"), 0)
    assert bal(engine, "alice", "BTC") == (D("10"), 0)
    assert len(engine.fills("alice")) == 1


def test_order_and_fill_ids_start_at_one_and_increase(engine: Engine) -> None:
    a = engine.place_order("bob", "BTC/USD", "sell", D("2"), D("100"))
    b = engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100"))
    c = engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100"))
    assert [a.order.id, b.order.id, c.order.id] == [1, 2, 3]
    assert [b.fills[0].id, c.fills[0].id] == [1, 2]
    assert [a.seq, b.seq, c.seq] == [1, 2, 3]


def test_maker_order_records_its_fills_oldest_first(engine: Engine) -> None:
    maker = engine.place_order("bob", "BTC/USD", "sell", D("2"), D("100")).order
    engine.place_order("alice", "BTC/USD", "buy", D("0.5"), D("100"))
    engine.place_order("carol", "BTC/USD", "buy", D("0.5"), D("100"))
    live = engine.order("bob", maker.id)
    assert [f.id for f in live.fills] == [1, 2]
    assert (live.filled, live.remaining, live.cost) == (D("1"), D("1"), D("100"))


def test_event_snapshot_is_not_changed_by_later_fills(engine: Engine) -> None:
    placed = engine.place_order("bob", "BTC/USD", "sell", D("2"), D("100"))
    engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100"))
    assert (placed.order.remaining, placed.order.fills, placed.order.status) == (D("2"), [], "open")
    assert engine.order("bob", placed.order.id).remaining == D("1")


# -- market orders ------------------------------------------------------------------------------


def test_market_buy_sweeps_asks_and_is_filled(engine: Engine) -> None:
    engine.place_order("bob", "BTC/USD", "sell", D("1"), D("100"))
    engine.place_order("bob", "BTC/USD", "sell", D("1"), D("110"))
    event = engine.place_order("alice", "BTC/USD", "buy", D("1.5"), type="market")
    assert [(f.price, f.amount) for f in event.fills] == [(D("100"), D("1")), (D("110"), D("0.5"))]
    assert (event.order.status, event.order.price, event.order.cost) == ("filled", None, D("155"))
    assert bal(engine, "alice", "USD") == (D("99845"), 0)
    assert engine.orders("alice", open_only=True) == []


def test_market_buy_limited_by_quote_fills_what_it_can_rounded_down(engine: Engine) -> None:
    engine.create_account("dave")
    engine.deposit("dave", "USD", D("250"))
    engine.place_order("bob", "BTC/USD", "sell", D("1"), D("100"))
    engine.place_order("bob", "BTC/USD", "sell", D("5"), D("300"))
    event = engine.place_order("dave", "BTC/USD", "buy", D("3"), type="market")
    # 100 USD buys 1 BTC; 150 USD left buys 0.5 BTC at 300 (amount precision 4, exact here).
    assert [(f.price, f.amount) for f in event.fills] == [(D("100"), D("1")), (D("300"), D("0.5"))]
    assert (event.order.status, event.order.filled, event.order.remaining) == ("canceled", D("1.5"), D("1.5"))
    assert bal(engine, "dave", "USD") == (0, 0)


def test_market_buy_partial_amount_is_rounded_down_to_amount_precision(engine: Engine) -> None:
    engine.create_account("dave")
    engine.deposit("dave", "USD", D("10"))
    engine.place_order("bob", "BTC/USD", "sell", D("4"), D("3"))
    event = engine.place_order("dave", "BTC/USD", "buy", D("4"), type="market")
    (fill,) = event.fills
    assert fill.amount == D("3.3333")  # 10/3 rounded down to 4 decimals
    assert bal(engine, "dave", "USD") == (D("0.0001"), 0)
    assert event.order.status == "canceled"


def test_market_buy_that_cannot_afford_one_step_is_rejected(engine: Engine) -> None:
    engine.create_account("dave")
    engine.deposit("dave", "USD", D("0.0001"))
    engine.place_order("bob", "BTC/USD", "sell", D("1"), D("100"))
    event = engine.place_order("dave", "BTC/USD", "buy", D("1"), type="market")
    assert (event.order.status, event.fills, event.order.remaining) == ("rejected", (), D("1"))
    assert bal(engine, "dave", "USD") == (D("0.0001"), 0)


def test_market_order_on_empty_book_is_rejected_and_unlocks(engine: Engine) -> None:
    buy = engine.place_order("alice", "BTC/USD", "buy", D("1"), type="market")
    sell = engine.place_order("alice", "BTC/USD", "sell", D("1"), type="market")
    assert buy.order.status == sell.order.status == "rejected"
    assert bal(engine, "alice", "BTC") == (D("10"), 0)
    assert engine.book("BTC/USD") == ([], [])


def test_market_sell_sweeps_bids_and_cancels_the_unfilled_rest(engine: Engine) -> None:
    engine.place_order("bob", "BTC/USD", "buy", D("1"), D("100"))
    engine.place_order("bob", "BTC/USD", "buy", D("1"), D("90"))
    event = engine.place_order("alice", "BTC/USD", "sell", D("3"), type="market")
    assert [f.price for f in event.fills] == [D("100"), D("90")]
    assert (event.order.status, event.order.filled, event.order.remaining) == ("canceled", D("2"), D("1"))
    assert bal(engine, "alice", "BTC") == (D("8"), 0)
    assert bal(engine, "alice", "USD") == (D("100190"), 0)
    assert engine.book("BTC/USD") == ([], [])


# -- fees ----------------------------------------------------------------------------------------


def test_fees_are_taken_from_what_each_side_receives_rounded_down_to_the_fee_account(engine: Engine) -> None:
    engine.place_order("bob", "ETH/BTC", "sell", D("1.234"), D("0.053217"))
    event = engine.place_order("alice", "ETH/BTC", "buy", D("1.234"), D("0.06"))
    (fill,) = event.fills
    cost = D("0.053217") * D("1.234")  # 0.065669778 BTC to the seller
    assert fill.taker_fee == D("0.003085")  # 0.0025 * 1.234 ETH
    assert fill.maker_fee == D("0.00006566")  # 0.001 * 0.065669778 = 0.000065669778, rounded down
    assert bal(engine, "alice", "ETH") == (D("100") + D("1.234") - D("0.003085"), 0)
    assert bal(engine, "alice", "BTC") == (D("10") - cost, 0)
    assert bal(engine, "bob", "BTC") == (D("10") + cost - D("0.00006566"), 0)
    fees = engine.balances(Engine.FEE_ACCOUNT)
    assert (fees["ETH"].available, fees["BTC"].available) == (D("0.003085"), D("0.00006566"))
    assert engine.total_supply("ETH") == D("300") and engine.total_supply("BTC") == D("30")


def test_maker_buyer_pays_maker_fee_in_base(engine: Engine) -> None:
    engine.place_order("bob", "ETH/BTC", "buy", D("2"), D("0.05"))
    (fill,) = engine.place_order("alice", "ETH/BTC", "sell", D("2"), D("0.05")).fills
    assert (fill.maker_fee, fill.taker_fee) == (D("0.002"), D("0.00025"))
    assert bal(engine, "bob", "ETH") == (D("101.998"), 0)
    assert bal(engine, "alice", "BTC") == (D("10.09975"), 0)


# -- cancel --------------------------------------------------------------------------------------


def test_cancel_releases_the_remaining_lock_and_reports_what_left_the_book(engine: Engine) -> None:
    buy = engine.place_order("alice", "BTC/USD", "buy", D("2"), D("100")).order
    engine.place_order("bob", "BTC/USD", "sell", D("0.5"), D("100"))
    event = engine.cancel_order("alice", buy.id)
    assert isinstance(event, CancelEvent)
    assert (event.order.status, event.order.remaining, event.order.filled) == ("canceled", D("1.5"), D("0.5"))
    assert bal(engine, "alice", "USD") == (D("99950"), 0)
    assert engine.book("BTC/USD") == ([], [])
    assert engine.order("alice", buy.id).status == "canceled"


def test_cancel_sell_releases_base(engine: Engine) -> None:
    sell = engine.place_order("alice", "BTC/USD", "sell", D("2"), D("100")).order
    engine.cancel_order("alice", sell.id)
    assert bal(engine, "alice", "BTC") == (D("10"), 0)


def test_cancel_twice_raises_order_not_cancelable(engine: Engine) -> None:
    order = engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100")).order
    engine.cancel_order("alice", order.id)
    with pytest.raises(OrderNotCancelable) as exc_info:
        engine.cancel_order("alice", order.id)
    assert exc_info.value.reason == "order_not_cancelable"


def test_cancel_filled_order_raises_order_not_cancelable(engine: Engine) -> None:
    maker = engine.place_order("bob", "BTC/USD", "sell", D("1"), D("100")).order
    engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100"))
    with pytest.raises(OrderNotCancelable):
        engine.cancel_order("bob", maker.id)


def test_cancel_of_another_accounts_order_raises_order_not_found(engine: Engine) -> None:
    order = engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100")).order
    with pytest.raises(OrderNotFoundError) as exc_info:
        engine.cancel_order("bob", order.id)
    assert exc_info.value.reason == "order_not_found"
    assert engine.order("alice", order.id).status == "open"


def test_cancel_unknown_order_raises_order_not_found(engine: Engine) -> None:
    with pytest.raises(OrderNotFoundError):
        engine.cancel_order("alice", 999)


def test_order_of_another_account_raises_order_not_found(engine: Engine) -> None:
    order = engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100")).order
    assert engine.order("alice", order.id) is not None
    with pytest.raises(OrderNotFoundError):
        engine.order("bob", order.id)


def test_cancel_all_cancels_matching_open_orders_oldest_first_one_event_each(engine: Engine) -> None:
    a = engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100")).order
    b = engine.place_order("alice", "BTC/USD", "sell", D("1"), D("200")).order
    c = engine.place_order("alice", "ETH/BTC", "buy", D("1"), D("0.05")).order
    d = engine.place_order("alice", "BTC/USD", "buy", D("1"), D("101")).order
    keep = engine.place_order("bob", "BTC/USD", "buy", D("1"), D("100")).order
    assert [e.order.id for e in engine.cancel_all("alice", "BTC/USD", "buy")] == [a.id, d.id]
    events = engine.cancel_all("alice")
    assert [e.order.id for e in events] == [b.id, c.id]
    assert [e.seq for e in events] == [8, 9]  # 5 placements and 2 cancels before
    assert engine.cancel_all("alice") == []
    assert [o.id for o in engine.orders("bob", open_only=True)] == [keep.id]
    assert bal(engine, "alice", "USD") == (D("100000"), 0)


# -- queries -------------------------------------------------------------------------------------


def test_orders_are_newest_first_and_filter_by_symbol_and_open(engine: Engine) -> None:
    a = engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100")).order
    b = engine.place_order("alice", "ETH/BTC", "buy", D("1"), D("0.05")).order
    c = engine.place_order("alice", "BTC/USD", "buy", D("1"), D("99")).order
    engine.cancel_order("alice", c.id)
    assert [o.id for o in engine.orders("alice")] == [c.id, b.id, a.id]
    assert [o.id for o in engine.orders("alice", "BTC/USD")] == [c.id, a.id]
    assert [o.id for o in engine.orders("alice", open_only=True)] == [b.id, a.id]
    assert engine.orders("bob") == []


def test_fills_are_newest_first_per_account_or_public(engine: Engine) -> None:
    engine.place_order("bob", "BTC/USD", "sell", D("3"), D("100"))
    engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100"))
    engine.place_order("carol", "BTC/USD", "buy", D("1"), D("100"))
    engine.place_order("carol", "ETH/BTC", "sell", D("1"), D("0.05"))
    engine.place_order("alice", "ETH/BTC", "buy", D("1"), D("0.05"))
    assert [f.id for f in engine.fills()] == [3, 2, 1]
    assert [f.id for f in engine.fills(symbol="BTC/USD")] == [2, 1]
    assert [f.id for f in engine.fills("alice")] == [3, 1]
    assert [f.id for f in engine.fills("alice", "ETH/BTC")] == [3]
    assert [f.id for f in engine.fills("bob")] == [2, 1]


def test_queries_on_unknown_market_raise_unknown_market(engine: Engine) -> None:
    for call in (lambda: engine.book("X/Y"), lambda: engine.levels("X/Y"), lambda: engine.fills(symbol="X/Y"),
                 lambda: engine.orders("alice", "X/Y"), lambda: engine.cancel_all("alice", "X/Y")):
        with pytest.raises(UnknownMarket):
            call()


# -- deposits and withdrawals --------------------------------------------------------------


def test_deposit_ok_credits_available_and_pending_does_not(engine: Engine) -> None:
    engine.create_account("dave")
    ok = engine.deposit("dave", "USD", D("50"), txid="abc")
    pending = engine.deposit("dave", "USD", D("70"), status="pending")
    assert (ok.kind, ok.status, ok.txid, ok.amount, ok.fee) == ("deposit", "ok", "abc", D("50"), 0)
    assert ok.address == engine.deposit_address("dave", "USD")
    assert pending.status == "pending" and pending.txid and pending.txid != ok.txid
    assert bal(engine, "dave", "USD") == (D("50"), 0)
    assert engine.total_supply("USD") == D("300050")


def test_deposit_rejects_non_positive_amount_and_unknown_status(engine: Engine) -> None:
    with pytest.raises(EngineError) as exc_info:
        engine.deposit("alice", "USD", D("0"))
    assert exc_info.value.reason == "invalid_amount"
    with pytest.raises(EngineError) as exc_info:
        engine.deposit("alice", "USD", D("1"), status="done")
    assert exc_info.value.reason == "invalid_status"


def test_withdraw_locks_amount_and_fee_until_completed(engine: Engine) -> None:
    record = engine.withdraw("alice", "BTC", D("1"), "addr1", fee=D("0.001"))
    assert (record.kind, record.status, record.address) == ("withdrawal", "pending", "addr1")
    assert bal(engine, "alice", "BTC") == (D("8.999"), D("1.001"))
    done = engine.complete_withdrawal(record.id)
    assert done.status == "ok" and done.updated_ms > done.created_ms
    assert bal(engine, "alice", "BTC") == (D("8.999"), 0)
    assert engine.balances(Engine.FEE_ACCOUNT)["BTC"].available == D("0.001")
    assert engine.total_supply("BTC") == D("29")


def test_failed_withdrawal_returns_funds(engine: Engine) -> None:
    record = engine.withdraw("alice", "BTC", D("1"), "addr1", fee=D("0.001"))
    assert engine.complete_withdrawal(record.id, ok=False).status == "failed"
    assert bal(engine, "alice", "BTC") == (D("10"), 0)
    assert engine.total_supply("BTC") == D("30")


def test_cancel_withdrawal_returns_funds_and_cannot_be_completed_after(engine: Engine) -> None:
    record = engine.withdraw("alice", "USD", D("500"), "addr1")
    assert engine.cancel_withdrawal(record.id).status == "canceled"
    assert bal(engine, "alice", "USD") == (D("100000"), 0)
    with pytest.raises(EngineError) as exc_info:
        engine.complete_withdrawal(record.id)
    assert exc_info.value.reason == "transfer_not_pending"


def test_withdraw_more_than_available_raises_insufficient_balance(engine: Engine) -> None:
    engine.place_order("alice", "BTC/USD", "sell", D("5"), D("100"))
    with pytest.raises(InsufficientBalance):
        engine.withdraw("alice", "BTC", D("5"), "addr1", fee=D("0.0001"))
    with pytest.raises(InsufficientBalance):
        engine.withdraw("alice", "XRP", D("1"), "addr1")
    assert bal(engine, "alice", "BTC") == (D("5"), D("5"))


def test_unknown_or_deposit_transfer_id_cannot_be_completed(engine: Engine) -> None:
    deposit = engine.deposit("alice", "USD", D("1"))
    for transfer_id in (deposit.id, 999):
        with pytest.raises(EngineError) as exc_info:
            engine.cancel_withdrawal(transfer_id)
        assert exc_info.value.reason == "transfer_not_found"


def test_transfers_are_newest_first_and_filter_by_kind(engine: Engine) -> None:
    w = engine.withdraw("bob", "USD", D("1"), "addr")
    d = engine.deposit("bob", "USD", D("2"))
    ids = [r.id for r in engine.transfers("bob")]
    assert ids[:2] == [d.id, w.id] and len(ids) == 5
    assert [r.id for r in engine.transfers("bob", "withdrawal")] == [w.id]
    assert all(r.kind == "deposit" for r in engine.transfers("bob", "deposit"))


def test_deposit_address_is_deterministic_per_account_and_currency(engine: Engine) -> None:
    address = engine.deposit_address("alice", "BTC")
    assert address == engine.deposit_address("alice", "BTC")
    other = Engine()
    other.create_account("alice")
    assert other.deposit_address("alice", "BTC") == address
    assert len({address, engine.deposit_address("alice", "USD"), engine.deposit_address("bob", "BTC")}) == 3
    with pytest.raises(UnknownAccount):
        engine.deposit_address("mallory", "BTC")


# -- events --------------------------------------------------------------------------------------


def test_subscribers_get_every_event_in_seq_order_until_unsubscribed(engine: Engine) -> None:
    seen: list[OrderEvent | CancelEvent] = []
    unsubscribe = engine.subscribe(seen.append)
    placed = engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100"))
    canceled = engine.cancel_order("alice", placed.order.id)
    unsubscribe()
    unsubscribe()
    engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100"))
    assert seen == [placed, canceled]
    assert canceled.seq == placed.seq + 1


def test_failing_subscriber_is_logged_and_others_still_get_events(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: object) -> None:
        raise RuntimeError("boom")

    seen: list[object] = []
    engine.subscribe(broken)
    engine.subscribe(seen.append)
    with caplog.at_level(logging.ERROR, logger="exconn.sandbox.engine"):
        event = engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100"))
    assert seen == [event]
    assert "boom" in caplog.text
    assert engine.order("alice", event.order.id).status == "open"


def test_events_raised_from_a_subscriber_reach_every_subscriber_in_seq_order(engine: Engine) -> None:
    first: list[int] = []
    second: list[int] = []

    def reacting(event: OrderEvent | CancelEvent) -> None:
        first.append(event.seq)
        if isinstance(event, OrderEvent) and event.order.account == "alice":
            engine.cancel_order("alice", event.order.id)

    engine.subscribe(reacting)
    engine.subscribe(lambda event: second.append(event.seq))
    engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100"))
    assert first == second == [1, 2]
    assert engine.orders("alice", open_only=True) == []


def test_engine_clock_stamps_orders_and_fills_in_ms(engine: Engine) -> None:
    maker = engine.place_order("bob", "BTC/USD", "sell", D("1"), D("100")).order
    event = engine.place_order("alice", "BTC/USD", "buy", D("1"), D("100"))
    assert event.order.created_ms > maker.created_ms > 1_700_000_000_000
    assert event.fills[0].timestamp_ms == event.order.created_ms
    assert engine.order("bob", maker.id).updated_ms == event.order.created_ms


def test_default_clock_is_wall_clock_ms() -> None:
    import time

    eng = Engine()
    before = int(time.time() * 1000)
    record = (eng.create_account("a"), eng.deposit("a", "USD", D(1)))[1]
    assert before <= record.created_ms <= int(time.time() * 1000) + 1


def test_history_bounds_fills_and_closed_orders_but_keeps_resting_orders_findable():
    engine = Engine(clock_ms=lambda: 1, history=5)
    engine.add_market(MarketSpec("BTC/USD", "BTC", "USD", 2, 4, D("0.0001"), D("100"), D("1"), D("100000")))
    for account in ("a", "b"):
        engine.create_account(account)
        engine.deposit(account, "BTC", D("100"))
        engine.deposit(account, "USD", D("1000000"))
    resting = engine.place_order("a", "BTC/USD", "buy", D("1"), D("10")).order
    for _ in range(20):
        engine.place_order("a", "BTC/USD", "sell", D("0.01"), D("900"))
        engine.place_order("b", "BTC/USD", "buy", D("0.01"), D("900"))
    assert len(engine.fills(None, "BTC/USD")) == 5 and len(engine.fills("a")) == 5
    assert len(engine.orders("a")) == 5
    assert engine.order("a", resting.id).status == "open"
    assert resting.id in [o.id for o in engine.orders("a", open_only=True)]
    with pytest.raises(OrderNotFoundError):
        engine.order("a", resting.id + 1)  # an early filled sell, forgotten
