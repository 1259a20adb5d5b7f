from decimal import Decimal

import msgspec
import pytest

from core.models import Balance, BookLevel, Market, Order, OrderBook, Ticker, Trade, Transfer

D = Decimal


def test_balance_total_is_exact_sum_of_free_and_locked():
    balance = Balance("BTC", D("0.1"), D("0.2"))
    assert balance.total == D("0.3")  # 0.1 + 0.2 as floats would be 0.30000000000000004


def test_models_round_trip_through_json_exactly():
    book = OrderBook("BTC/USD", [BookLevel(D("911.519"), D("0.00000001"))], [BookLevel(D("912"), D("1.5"))], 1)
    data = msgspec.json.encode(book)
    again = msgspec.json.decode(data, type=OrderBook)
    assert again.bids[0].price == D("911.519") and again.bids[0].amount == D("0.00000001")
    assert isinstance(again.bids[0].price, Decimal)


def test_decimal_fields_decode_from_json_numbers_and_strings_without_float():
    raw = b'{"symbol":"BTC/USD","bid":0.1,"ask":"0.30000000000000001","last":null,"high":null,"low":null,"volume":"1E-8","timestamp":5}'
    ticker = msgspec.json.decode(raw, type=Ticker)
    assert ticker.bid == D("0.1") and ticker.ask == D("0.30000000000000001") and ticker.volume == D("1E-8")


def test_reprs_read_well_without_decimal_noise():
    order = Order("7", "BTC/USD", "buy", "limit", D("870.69"), D("0.01"), D("0"), D("0.01"), "open", 1)
    text = repr(order)
    assert "Decimal" not in text and "870.69" in text and "open" in text
    book = OrderBook("BTC/USD", [BookLevel(D("1"), D("2"))], [BookLevel(D("1.5"), D("3"))], 0)
    assert "spread=0.5" in repr(book) and "2@1" in repr(book)
    assert "1E-8" not in repr(Balance("BTC", D("1E-8"), D(0)))


def test_order_book_exposes_best_levels_and_spread():
    book = OrderBook("X/Y", [BookLevel(D("10"), D("1")), BookLevel(D("9"), D("1"))], [BookLevel(D("11"), D("2"))], 0)
    assert book.best_bid.price == D("10") and book.best_ask.price == D("11") and book.spread == D("1")
    assert OrderBook("X/Y", [], [], 0).spread is None


def test_trade_cost_is_price_times_amount():
    trade = Trade("1", "BTC/USD", "sell", D("839.36"), D("0.00281167"), 1483705817735)
    assert trade.cost == D("839.36") * D("0.00281167")


def test_frozen_models_cannot_be_mutated():
    market = Market("BTC/USD", "BTC_USD", "BTC", "USD")
    with pytest.raises(AttributeError):
        market.symbol = "ETH/USD"  # type: ignore[misc]


def test_transfer_and_market_optional_fields_default_to_none():
    transfer = Transfer("1", "BTC", D("1"), "ok", 0)
    assert transfer.address is None and transfer.fee is None
    assert Market("A/B", "ab", "A", "B").min_amount is None
