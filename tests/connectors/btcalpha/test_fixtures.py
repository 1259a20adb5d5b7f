"""BTC-Alpha sample responses (``tests/fixtures/btcalpha/``, copied from specs/btcalpha.md and
btcalpha-socket.md) through the connector's decoders and ``to_model``: exact Decimals, ms times.

Variants not printed verbatim in the spec: ``ws_book_*_2018`` (the socket messages with the
fields the socket spec says were added from 2018-01), ``pairs_2017`` (the docs22 pair without the two
fields the spec says 2017 lacked), ``ticker_single_live`` (the docs22 ticker as the single
object ``?pair=`` returns, values as strings, as the spec says live ones are),
``order_live``/``own_orders_live``/``create_order_live`` (ccxt's live all-string samples the
spec refers to).
"""

import json
from decimal import Decimal as D

import msgspec
import pytest

from connectors.btcalpha import schemas as s
from core.connector import format_decimal
from core.models import Balance, BookLevel, Candle, Currency, Market, Order, Ticker, Trade, Transfer
from core.timestamps import seconds_to_ms


def test_currencies_decode_to_upper_case_codes(load):
    currencies = [c.to_model() for c in s.CURRENCIES.decode(load("currencies"))]
    assert currencies == [Currency("BTC", "BTC"), Currency("ETH", "ETH")]


def test_pairs_docs22_decode_exact_limits(load):
    [market] = [p.to_model() for p in s.PAIRS.decode(load("pairs_docs22"))]
    assert market == Market("BTC/USD", "BTC_USD", "BTC", "USD", price_precision=2, amount_precision=6,
                            min_amount=D("0.00000001"), max_amount=D("100000000"))
    assert format_decimal(market.min_amount) == "0.00000001"


def test_pairs_2017_without_amount_precision_still_decode(load):
    [market] = [p.to_model() for p in s.PAIRS.decode(load("pairs_2017"))]
    assert market.symbol == "BTC/USD" and market.amount_precision is None
    assert market.min_amount == D("0.00000001") and market.max_amount == D("100000000")


def test_pairs_live_strings_decode_exactly_with_min_cost(load):
    [market] = [p.to_model() for p in s.PAIRS.decode(load("pairs_live"))]
    assert market == Market("1INCH/USDT", "1INCH_USDT", "1INCH", "USDT", price_precision=4, amount_precision=2,
                            min_amount=D("0.01"), max_amount=D("900000"), min_cost=D("10"))


def test_ticker_list_maps_buy_to_bid_and_sell_to_ask(load):
    [ticker] = [t.to_model() for t in s.TICKERS.decode(load("ticker_list"))]
    # ``vol`` is quote-currency volume; Ticker.volume is base, which BTC-Alpha does not give
    assert ticker == Ticker("ETH/BTC", bid=D("0.071346"), ask=D("0.080317"), last=D("0.076"), high=D("0"),
                            low=D("0"), volume=None, timestamp=1642511387550)


def test_single_ticker_with_string_values_decodes_the_same(load):
    live = s.TICKER.decode(load("ticker_single_live")).to_model()
    [documented] = [t.to_model() for t in s.TICKERS.decode(load("ticker_list"))]
    assert live == documented


def test_order_book_2022_sell_is_asks_and_buy_is_bids(load):
    raw = s.BOOK.decode(load("orderbook_2022"))
    bids, asks = s.book_levels(raw.sell, raw.buy, None)
    assert bids == [BookLevel(D("911.122"), D("0.001233"))]
    assert asks == [BookLevel(D("911.519"), D("0.000446"))]


def test_order_book_2017_bids_key_holds_the_sell_orders(load):
    raw = s.BOOK_ORDERS.decode(load("orderbook_2017"))
    assert (raw.bids[0].id, raw.bids[0].timestamp) == (44667, D("1485777324.410015"))
    bids, asks = s.book_levels(raw.bids, raw.asks, None)
    assert bids == [BookLevel(D("911.122"), D("0.001233"))]
    assert asks == [BookLevel(D("911.519"), D("0.000446"))]
    assert asks[0].price > bids[0].price


BUYS = [("911.1", "1"), ("911.122", "0.001233"), ("910", "2"), ("911.122", "0.5"), ("909.99", "3")]
SELLS = [("911.6", "1"), ("911.519", "0.000446"), ("912", "2"), ("911.519", "0.25"), ("913.01", "3")]
BEST_BIDS = [BookLevel(D("911.122"), D("0.501233")), BookLevel(D("911.1"), D("1")), BookLevel(D("910"), D("2")),
             BookLevel(D("909.99"), D("3"))]
BEST_ASKS = [BookLevel(D("911.519"), D("0.250446")), BookLevel(D("911.6"), D("1")), BookLevel(D("912"), D("2")),
             BookLevel(D("913.01"), D("3"))]


def _levels(rows, numbers: bool) -> list:
    return [{"price": float(p) if numbers else p, "amount": float(a) if numbers else a} for p, a in rows]


@pytest.mark.parametrize("order", [lambda rows: rows, lambda rows: rows[::-1], sorted],
                         ids=["as-sent", "reversed", "by-text"])
@pytest.mark.parametrize("numbers", [True, False], ids=["json-numbers", "strings"])
def test_order_book_is_aggregated_and_sorted_best_first_whatever_the_order_sent(order, numbers):
    body = json.dumps({"sell": _levels(order(SELLS), numbers), "buy": _levels(order(BUYS), numbers)}).encode()
    raw = s.BOOK.decode(body)
    assert s.book_levels(raw.sell, raw.buy, None) == (BEST_BIDS, BEST_ASKS)
    assert s.book_levels(raw.sell, raw.buy, 2) == (BEST_BIDS[:2], BEST_ASKS[:2])


def test_2017_order_level_book_reversed_is_sorted_best_first():
    body = json.dumps({"bids": _levels(SELLS[::-1], True), "asks": _levels(BUYS[::-1], True)}).encode()
    raw = s.BOOK_ORDERS.decode(body)
    assert s.book_levels(raw.bids, raw.asks, None) == (BEST_BIDS, BEST_ASKS)


def test_trade_docs22_seconds_with_microseconds_become_ms(load):
    [trade] = [t.to_model() for t in s.TRADES.decode(load("trades_docs22"))]
    assert trade == Trade("6030", "BTC/USD", "sell", D("839.36"), D("0.00281167"), 1483705817735)


def test_trade_live_strings_decode_exactly(load):
    [trade] = [t.to_model() for t in s.TRADES.decode(load("trades_live"))]
    assert trade == Trade("202203440", "AAVE/USDT", "buy", D("320.799"), D("0.05"), 1637856276264)


def test_own_trade_side_is_my_side(load):
    [trade] = [t.to_model() for t in s.TRADES.decode(load("own_trades_live"))]
    assert trade == Trade("202203440", "AAVE/USDT", "buy", D("320.799"), D("0.05"), 1637856276264)
    taker_bought = load("own_trades_live").replace(b'"my_side": "buy"', b'"my_side": "sell"')
    assert s.TRADES.decode(taker_bought)[0].to_model().side == "sell"


def test_candle_time_seconds_become_ms(load):
    [candle] = [c.to_model() for c in s.CANDLES.decode(load("candles"))]
    assert candle == Candle(1485777600000, D("910.424"), D("912.236"), D("910.086"), D("911.915"), D("0.262929"))


def test_wallet_balance_is_total_and_reserve_locked(load):
    [balance] = [w.to_model() for w in s.WALLETS.decode(load("wallets"))]
    assert balance == Balance("BTC", D("0"), D("0"))
    funded = s.WALLETS.decode(b'[{"currency": "USD", "balance": "100.25", "reserve": 0.25}]')[0].to_model()
    assert funded == Balance("USD", D("100"), D("0.25")) and funded.total == D("100.25")


def test_own_order_list_status_3_is_closed(load):
    [order] = [o.to_model() for o in s.ORDERS.decode(load("own_orders"))]
    assert (order.id, order.symbol, order.side, order.type, order.status) == ("11249", "ETH/USD", "buy", "limit", "closed")
    assert order.price == D("0.00113") and order.amount == order.filled == D("0.5") and order.remaining == 0


@pytest.mark.parametrize(("status", "expected"), [(1, "open"), (2, "canceled"), (3, "closed"),
                                                  ("1", "open"), ("2", "canceled"), ("3", "closed")])
def test_order_status_int_or_string_maps_to_unified(status, expected):
    body = json.dumps({"id": 1, "pair": "BTC_USD", "type": "sell", "price": 1, "amount": 1, "status": status})
    assert s.ORDER.decode(body.encode()).to_model().status == expected


def test_single_order_docs22_date_is_ms_and_amounts_exact(load):
    order = s.ORDER.decode(load("order_docs22")).to_model()
    assert (order.id, order.symbol, order.side, order.type, order.status, order.timestamp) == (
        "11259", "BTC/USD", "buy", "limit", "open", 1478025717394)
    assert order.price == D("870.69")
    assert order.amount == D("0.0041958") and order.filled == D("0.00419580")


def test_single_order_live_all_strings_decodes(load):
    order = s.ORDER.decode(load("order_live")).to_model()
    assert order == Order("923763073", "XRP/USDT", "sell", "limit", D("1"), D("10"), D("10"), D("0"), "closed",
                          1635451090368)


def test_own_order_list_live_all_strings_decodes(load):
    body = b"[" + load("order_live") + b"]"
    [order] = [o.to_model() for o in s.ORDERS.decode(body)]
    assert (order.id, order.status, order.filled, order.remaining) == ("923763073", "closed", D("10"), D("0"))


def test_create_order_docs22_immediate_fill_is_closed_with_average(load):
    created = s.CREATED.decode(load("create_order_docs22"))
    assert created.success is True and created.trades[0].o_id == 11266 and created.trades[0].tid == 6049
    order = created.to_model("BTC/USD", D("0.0001"))
    assert order == Order("11268", "BTC/USD", "buy", "limit", D("870.69"), D("0.0001"), D("0.0001"), D("0"),
                          "closed", 1483721079516, average=D("870.69"))


def test_create_order_live_all_strings_decodes(load):
    order = s.CREATED.decode(load("create_order_live")).to_model("XRP/USDT", D("10"))
    assert order == Order("923776755", "XRP/USDT", "sell", "limit", D("1"), D("10"), D("0"), D("10"), "open",
                          1635451754497)


def test_cancel_answer_echoes_the_order_id(load):
    assert msgspec.json.decode(load("cancel_order")) == {"order": 63568}


def test_deposit_is_ok_with_ms_timestamp(load):
    [deposit] = [d.to_model() for d in s.DEPOSITS.decode(load("deposits"))]
    assert deposit == Transfer("317", "BTC", D("530"), "ok", 1485363039183)


def test_withdrawal_status_20_is_pending_with_ms_timestamp(load):
    [withdrawal] = [w.to_model() for w in s.WITHDRAWALS.decode(load("withdrawals"))]
    assert withdrawal == Transfer("403", "BTC", D("0.53"), "pending", 1485363466868)


@pytest.mark.parametrize(("status", "expected"), [(10, "pending"), (20, "pending"), (30, "ok"), (40, "failed"),
                                                  (50, "canceled")])
def test_withdrawal_statuses_map_to_transfer_states(load, status, expected):
    body = load("withdrawals").replace(b'"status": 20', f'"status": {status}'.encode())
    assert s.WITHDRAWALS.decode(body)[0].to_model().status == expected


def test_error_body_keeps_the_exchange_message(load):
    assert s.ERROR.decode(load("error_out_of_balance")).error == "Out of balance -9.99243661 BTC"


@pytest.mark.parametrize("name", ["ws_book_new_order", "ws_book_new_order_2018"])
def test_socket_new_order_message_decodes_numbers_and_strings_exactly(load, name):
    message = s.SOCKET_MESSAGE.decode(load(name))
    assert (message.oid, message.type, message.price, message.amount) == (15234, "sell", D("935.23"), D("0"))
    assert seconds_to_ms(message.date) == 1485686507094
    assert message.is_cancel is False and message.success is True
    assert [(t.tid, t.type, t.price, t.amount, t.o_id) for t in message.trades] == [
        (14876, "buy", D("936.00"), D("0.1"), 15201)]


@pytest.mark.parametrize("name", ["ws_book_cancel", "ws_book_cancel_2018"])
def test_socket_cancel_message_decodes_exactly(load, name):
    message = s.SOCKET_MESSAGE.decode(load(name))
    assert message.is_cancel is True and message.pair == "BTC_USD" and message.trades == []
    assert (message.oid, message.type, message.price, message.amount) == (15235, "sell", D("935.23"), D("0.0123"))
    assert seconds_to_ms(message.date) == 1485686413568
