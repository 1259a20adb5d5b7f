"""CoinDCX sample responses (``tests/fixtures/coindcx/``, copied from specs/coindcx.md) through
the connector's decoders and ``to_model``: exact Decimals, ms times.

Live variants the spec cites from ccxt's comments rather than printing: ``ticker_live``,
``markets_details_live``, ``balances_live``, ``create_order_live``, ``active_orders_live``,
``my_trades_live``. ``order_status``, ``status_multiple``, ``active_orders`` (the docs' bare
array) and ``edit_order`` are the documented order object in the shape the spec describes for
those endpoints. ``markets`` and ``user_info`` are reached only through ``request()``, which
decodes with the base's generic decoder.
"""

from decimal import Decimal as D

import msgspec
import pytest

from connectors.coindcx import schemas as s
from core.connector import ANY_JSON
from core.models import Balance, BookLevel, Candle, Currency, Market, Order, Ticker, Trade

SNT_BTC = Market("SNT/BTC", "SNTBTC", "SNT", "BTC", price_precision=8, amount_precision=0)
BTC_USDT = Market("BTC/USDT", "BTCUSDT", "BTC", "USDT", price_precision=2, amount_precision=4)
CREATED_MS = 1524161848022  # 2018-04-19T18:17:28.022Z


def test_markets_details_map_target_to_base_and_base_to_quote(load):
    [raw] = s.MARKETS_DETAILS.decode(load("markets_details"))
    assert raw.to_model() == Market(
        "SNM/BTC", "SNMBTC", "SNM", "BTC", price_precision=8, amount_precision=0, min_amount=D("1"),
        max_amount=D("90000000"), min_price=D("0.000000566"), max_price=D("0.0000566"), min_cost=D("0.001"),
    )
    assert (raw.pair, raw.ecode, raw.order_types[-1]) == ("B-SNM_BTC", "B", "limit_order")


def test_markets_details_live_float_exponents_decode_exactly(load):
    [raw] = s.MARKETS_DETAILS.decode(load("markets_details_live"))
    market = raw.to_model()
    assert market.symbol == "ONDO/USDT" and market.id == "ONDOUSDT" and raw.pair == "KC-ONDO_USDT"
    assert market.min_price == D("0.00001") and market.max_amount == D("10000000000")
    assert (market.min_amount, market.min_cost, market.amount_precision) == (D("10"), D("0.1"), 4)


def test_min_amount_is_at_least_one_unit_of_the_target_precision(load):
    [raw] = s.MARKETS_DETAILS.decode(load("markets_details_live"))
    raw.min_quantity = D("0.00001")
    assert raw.to_model().min_amount == D("0.0001")


def test_inactive_market_is_kept_but_marked(load):
    [raw] = s.MARKETS_DETAILS.decode(load("markets_details"))
    raw.status = "inactive"
    assert raw.to_model().active is False


def test_currencies_come_from_target_and_base_names(load):
    [raw] = s.MARKETS_DETAILS.decode(load("markets_details"))
    assert raw.currencies() == (Currency("SNM", "Sonm"), Currency("BTC", "Bitcoin"))


def test_market_ids_and_user_info_decode_through_the_generic_decoder(load):
    assert ANY_JSON.decode(load("markets")) == ["SNTBTC", "TRXBTC", "TRXETH"]
    [info] = ANY_JSON.decode(load("user_info"))
    assert info["coindcx_id"] == "fda259ce-22fc-11e9-ba72-ef9b29b5db2b" and info["email"] == "test@coindcx.com"


def test_ticker_strings_decode_exactly_and_seconds_become_ms(load):
    [raw] = s.TICKERS.decode(load("ticker"))
    assert raw.market == "REQBTC" and raw.volume == D("14.10") and raw.change_24_hour == D("-1.621")
    assert raw.to_model("REQ/BTC") == Ticker("REQ/BTC", bid=D("0.00002663"), ask=D("0.00002669"),
                                             last=D("0.00002663"), high=D("0.00002799"), low=D("0.00002626"),
                                             volume=None, timestamp=1524211224000)


def test_live_ticker_long_decimal_strings_keep_every_digit(load):
    [raw] = s.TICKERS.decode(load("ticker_live"))
    ticker = raw.to_model("BTC/INR")
    assert ticker.last == D("6181299.060000000000") and str(ticker.last) == "6181299.060000000000"
    assert (ticker.bid, ticker.ask, ticker.timestamp) == (D("6103600.52"), D("6180699.01"), 1717616755000)
    assert raw.volume == D("16901590.410328545")  # quote turnover: not the model's base volume


def test_ticker_without_trades_or_book_has_none_values():
    [raw] = s.TICKERS.decode(b'[{"market": "BTCINR", "change_24_hour": "0", "volume": "0", "timestamp": 1}]')
    assert raw.to_model("BTC/INR") == Ticker("BTC/INR", None, None, None, None, None, None, 1000)


def test_order_book_objects_become_levels_best_first(load):
    raw = s.BOOK.decode(load("orderbook"))
    bids, asks = raw.levels(None)
    assert bids == [BookLevel(D("71197.90"), D("8.563")), BookLevel(D("71197.80"), D("0.011"))]
    assert asks == [BookLevel(D("71198.00"), D("7.630")), BookLevel(D("71198.10"), D("0.116"))]
    assert raw.timestamp == 1717694482206


def test_order_book_is_sorted_and_cut_whatever_order_the_server_sends():
    raw = s.BOOK.decode(b'{"bids": {"1.5": "1", "3": 2, "2.25": "3"}, "asks": {"9": "1", "4.5": 0.5, "7": "2"}}')
    bids, asks = raw.levels(2)
    assert [b.price for b in bids] == [D("3"), D("2.25")] and [a.price for a in asks] == [D("4.5"), D("7")]
    assert asks[0].amount == D("0.5") and raw.timestamp is None


def test_public_trade_m_true_means_the_taker_sold(load):
    [raw] = s.PUBLIC_TRADES.decode(load("trades"))
    assert raw.to_model("BTC/USDT") == Trade("1565163305770-11603.88-0.023519-buy", "BTC/USDT", "buy", D("11603.88"),
                                             D("0.023519"), 1565163305770)
    raw.m = True
    assert raw.to_model("BTC/USDT").side == "sell"


def test_candles_keep_ms_open_time_and_exact_values(load):
    [raw] = s.CANDLES.decode(load("candles"))
    assert raw.to_model() == Candle(1561463700000, D("0.011803"), D("0.011803"), D("0.011803"), D("0.011803"),
                                    D("0.35"))


def test_balance_is_free_and_locked_balance_is_locked(load):
    [raw] = s.BALANCES.decode(load("balances"))
    balance = raw.to_model()
    assert balance == Balance("BTC", D("1.167"), D("2.1")) and balance.total == D("3.267")


def test_live_balances_as_strings_decode_the_same_way(load):
    balances = [b.to_model() for b in s.BALANCES.decode(load("balances_live"))]
    assert balances == [Balance("USDT", D("80.0"), D("0.0")), Balance("XRP", D("0.0"), D("0.0"))]


def test_created_order_is_unwrapped_with_iso_time_in_ms(load):
    [raw] = s.CREATED.decode(load("create_order")).orders
    assert raw.client_order_id == "2022.02.14-btcinr_1" and raw.fee_amount == D("0.0000008")
    assert raw.to_model("TRX/ETH") == Order(
        "ead19992-43fd-11e8-b027-bb815bcb14ed", "TRX/ETH", "buy", "limit", D("0.00001567"), D("2"), D("0"),
        D("2.0"), "open", CREATED_MS, None,
    )


def test_live_created_market_order_has_no_price_and_integer_ms_time(load):
    [raw] = s.CREATED.decode(load("create_order_live")).orders
    order = raw.to_model("BTC/USDT")
    assert (order.type, order.price, order.amount, order.filled) == ("market", None, D("0.0001"), D("0"))
    assert order.timestamp == 1718386312000 and order.status == "open"


def test_order_status_and_edit_answer_the_bare_order_object(load):
    for name in ("order_status", "edit_order"):
        order = s.ORDER.decode(load(name)).to_model("TRX/ETH")
        assert order.id == "ead19992-43fd-11e8-b027-bb815bcb14ed" and order.timestamp == CREATED_MS


def test_status_multiple_is_an_array_of_orders(load):
    [order] = [o.to_model("TRX/ETH") for o in s.ORDERS.decode(load("status_multiple"))]
    assert order.price == D("0.00001567") and order.remaining == D("2")


def test_active_orders_accept_the_documented_array_and_the_live_object(load):
    documented = s.ACTIVE_ORDERS.decode(load("active_orders"))
    live = s.ACTIVE_ORDERS.decode(load("active_orders_live"))
    assert isinstance(documented, list) and documented[0].id == "ead19992-43fd-11e8-b027-bb815bcb14ed"
    [order] = [o.to_model("BTC/USDT") for o in live.orders]
    assert order == Order("2614a58a-2b29-11ef-8787-833693318846", "BTC/USDT", "buy", "limit", D("60000.0"),
                          D("0.0001"), D("0"), D("0.0001"), "open", 1718464120430, None)


def test_active_orders_count(load):
    assert s.COUNT.decode(load("active_orders_count")).count == 1


@pytest.mark.parametrize(("wire", "unified"), [
    ("init", "pending"), ("open", "open"), ("partially_filled", "open"), ("filled", "closed"),
    ("partially_cancelled", "canceled"), ("cancelled", "canceled"), ("rejected", "rejected"),
])
def test_order_states_map_onto_the_unified_five(load, wire, unified):
    raw = s.ORDER.decode(load("order_status"))
    raw.status = wire
    assert raw.to_model("TRX/ETH").status == unified


def test_partly_filled_order_reports_filled_and_average(load):
    raw = s.ORDER.decode(load("order_status"))
    raw.status, raw.remaining_quantity, raw.avg_price = "partially_filled", D("0.5"), D("0.0000156")
    order = raw.to_model("TRX/ETH")
    assert (order.filled, order.remaining, order.average, order.status) == (D("1.5"), D("0.5"), D("0.0000156"), "open")


def test_unknown_order_type_and_status_do_not_drop_the_order(load):
    raw = s.ORDER.decode(load("order_status"))
    raw.order_type, raw.status = "stop_limit", "triggered"
    order = raw.to_model("TRX/ETH")
    assert (order.type, order.status, order.price) == ("limit", "open", D("0.00001567"))


def test_my_trade_fee_is_in_the_quote_currency(load):
    [raw] = s.MY_TRADES.decode(load("my_trades"))
    assert raw.to_model(SNT_BTC) == Trade("564389", "SNT/BTC", "buy", D("0.00008272"), D("67.9"), 1533700109811,
                                          "ee060ab6-40ed-11e8-b4b9-3f2ce29cd280", D("0.00001129"), "BTC")


def test_live_my_trade_fractional_ms_timestamp_is_truncated_and_strings_are_exact(load):
    [raw] = s.MY_TRADES.decode(load("my_trades_live"))
    trade = raw.to_model(BTC_USDT)
    assert trade.timestamp == 1718386312255 and raw.timestamp == D("1718386312255.3608")
    assert (trade.price, trade.amount, trade.fee) == (D("65483.14"), D("0.0001"), D("0"))
    assert str(trade.amount) == "0.00010000000000" and trade.order_id == "fcaae278-2a73-11ef-a2d5-5374ccb4f829"


@pytest.mark.parametrize(("name", "code", "message"), [
    ("error_400", 400, "Invalid Request."), ("error_401", 401, "Invalid credentials"),
    ("error_404", 404, "Order not found"), ("error_422", 422, "Invalid Request"),
])
def test_error_bodies_decode(load, name, code, message):
    error = s.ERROR.decode(load(name))
    assert (error.code, error.message, error.status) == (code, message, "error")


def test_identical_fills_in_one_millisecond_get_distinct_stable_ids():
    same = {"p": "100.5", "q": "0.2", "T": 1700000000000, "m": False}
    raw = s.PUBLIC_TRADES.decode(msgspec.json.encode([same, same, {**same, "m": True}]))
    ids = [t.to_model("BTC/INR", n).id for n, t in enumerate(raw[:2])] + [raw[2].to_model("BTC/INR").id]
    assert ids == ["1700000000000-100.5-0.2-buy", "1700000000000-100.5-0.2-buy-1", "1700000000000-100.5-0.2-sell"]
