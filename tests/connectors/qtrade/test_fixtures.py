"""Every sample response of specs/qtrade.md, parsed by the connector's decoders and models.

Fixtures for endpoints the connector only reaches through ``request()`` (summary, market
details, one currency, user info, user market view) are read with the wire Structs they
are made of, or as ``request()`` returns them."""

from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from connectors.qtrade import schemas as s
from core.connector import ANY_JSON
from core.errors import BadResponse
from core.models import Balance, BookLevel, Currency, DepositAddress, Market, Order, Ticker, Trade, Transfer

D = Decimal
FIXTURES = Path(__file__).parents[2] / "fixtures" / "qtrade"
LTC_BTC = Market("LTC/BTC", "1", "LTC", "BTC")
DOGE_BTC = Market("DOGE/BTC", "36", "DOGE", "BTC")


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class CommonRaw(msgspec.Struct):
    currencies: list[s.CurrencyRaw]
    markets: list[s.MarketRaw]
    tickers: list[s.TickerRaw]


class MarketDetailRaw(msgspec.Struct):
    market: s.MarketRaw
    recent_trades: list[s.PublicTradeRaw]


class CurrencyWrapRaw(msgspec.Struct):
    currency: s.CurrencyRaw


class UserMarketRaw(msgspec.Struct):
    base_balance: Decimal
    market_balance: Decimal
    open_orders: list[s.OrderRaw]
    closed_orders: list[s.OrderRaw]


def test_markets_map_market_currency_to_base_and_base_currency_to_quote():
    (market,) = [m.to_model() for m in s.MARKETS.decode(load("markets.json")).data.markets]
    assert market == Market("BIS/BTC", "20", "BIS", "BTC", active=True)


def test_common_summary_holds_currencies_markets_and_tickers():
    common = msgspec.json.decode(load("common.json"), type=s.Data[CommonRaw]).data
    assert [c.to_model() for c in common.currencies] == [Currency("BTC", "Bitcoin")]
    assert common.currencies[0].config.withdraw_fee == D("0.0005")
    assert [m.to_model() for m in common.markets] == [Market("BIS/BTC", "20", "BIS", "BTC")]
    assert common.markets[0].taker_fee == D("0.005") and common.markets[0].maker_fee == D("0")
    ticker = common.tickers[0].to_model("BIS/BTC", 1)
    assert ticker == Ticker("BIS/BTC", D("0.00001324"), D("0.000014"), D("0.00001608"), D("0.00001641"),
                            D("0.00001292"), D("25092.46665642"), 1)
    assert common.tickers[0].day_change == D("-0.023086269744836")


def test_market_details_carry_the_market_and_recent_trades():
    detail = msgspec.json.decode(load("market.json"), type=s.Data[MarketDetailRaw]).data
    assert detail.market.to_model() == Market("VEO/BTC", "15", "VEO", "BTC")
    assert detail.market.can_view is False
    (trade,) = [t.to_model("VEO/BTC") for t in detail.recent_trades]
    assert (trade.id, trade.price, trade.amount, trade.timestamp) == ("51362", D("0.0191"), D("1.64360163"),
                                                                      1548976171419)


def test_currencies_decode_with_a_float_config_price():
    (currency,) = s.CURRENCIES.decode(load("currencies.json")).data.currencies
    assert currency.to_model() == Currency("BTC", "Bitcoin")
    assert currency.config.withdraw_fee == D("0.0005") and currency.config.required_confirmations == 2
    assert currency.precision == 8 and currency.status == "ok" and currency.can_withdraw


def test_one_currency_has_the_list_entry_shape():
    currency = msgspec.json.decode(load("currency.json"), type=s.Data[CurrencyWrapRaw]).data.currency
    assert currency.to_model() == Currency("BTC", "Bitcoin")


def test_ticker_volume_is_the_market_currency_volume_and_time_falls_back_to_receipt():
    ticker = s.TICKER.decode(load("ticker.json")).data.to_model("VEO/BTC", 1_700_000_000_123)
    assert ticker == Ticker("VEO/BTC", D("0.0191"), D("0.02249"), D("0.0191"), D("0.02249"), D("0.0184"),
                            D("21.63647819"), 1_700_000_000_123)


def test_ticker_last_change_microseconds_become_the_timestamp():
    raw = msgspec.json.decode(b'{"data": {"id": 1, "id_hr": "LTC_BTC", "last_change": 1595029625809804}}',
                              type=s.Data[s.TickerRaw]).data
    assert raw.to_model("LTC/BTC", 0).timestamp == 1595029625809


def test_tickers_list_wraps_tickers_in_markets():
    (raw,) = s.TICKERS.decode(load("tickers.json")).data.markets
    assert (raw.id, raw.id_hr, raw.day_avg_price) == (15, "VEO_BTC", D("0.0197095311101552"))


def test_order_book_is_sorted_best_first_whatever_the_map_order():
    raw = s.ORDER_BOOK.decode(load("orderbook.json")).data
    bids, asks = raw.levels(None)
    assert bids == [BookLevel(D("0.00020139"), D("100")), BookLevel(D("0.0001032"), D("100")),
                    BookLevel(D("0.000009"), D("150"))]
    assert asks == [BookLevel(D("0.02249"), D("0.99720378")), BookLevel(D("5"), D("100")),
                    BookLevel(D("14"), D("28"))]
    assert raw.last_change // 1000 == 1595029625809
    assert raw.levels(1) == ([BookLevel(D("0.00020139"), D("100"))], [BookLevel(D("0.02249"), D("0.99720378"))])


def test_public_trade_side_comes_from_seller_taker():
    (trade,) = [t.to_model("LTC/BTC") for t in s.PUBLIC_TRADES.decode(load("trades.json")).data.trades]
    assert trade == Trade("51362", "LTC/BTC", "buy", D("0.01181539"), D("0.00760005"), 1558406490781)


def test_ohlcv_slice_without_market_volume_is_refused_not_mislabelled():
    (raw,) = s.SLICES.decode(load("ohlcv.json")).data.slices
    assert (raw.open, raw.high, raw.low, raw.close, raw.volume) == (D("0.02"),) * 4 + (D("0.00190564"),)
    with pytest.raises(BadResponse):
        raw.to_model()


def test_ohlcv_slice_with_market_volume_is_a_candle_in_base_volume():
    raw = msgspec.json.decode(
        b'{"time": "2018-04-28T04:00:00Z", "open": "0.02", "high": "0.03", "low": "0.01", "close": "0.025",'
        b' "volume": "0.00190564", "market_volume": "0.0952820"}', type=s.SliceRaw)
    candle = raw.to_model()
    assert (candle.timestamp, candle.volume, candle.high, candle.low) == (1524888000000, D("0.095282"), D("0.03"),
                                                                          D("0.01"))


def test_user_info_is_plain_json_through_request():
    user = ANY_JSON.decode(load("me.json"))["data"]["user"]
    assert user["id"] == 1000000 and user["tfa_enabled"] is True


def test_balances_are_free_only():
    balances = s.BALANCES.decode(load("balances.json")).data.to_model()
    assert balances == {"BCH": Balance("BCH", D("100000000"), D(0)),
                        "BTC": Balance("BTC", D("99927153.76074182"), D(0))}


def test_balances_all_merges_free_and_locked_in_orders():
    balances = s.BALANCES.decode(load("balances_all.json")).data.to_model()
    assert balances == {"BIS": Balance("BIS", D("6.97936"), D(0)), "BTC": Balance("BTC", D(0), D("0.1708"))}


def test_user_market_orders_parse_like_order_lists():
    view = msgspec.json.decode(load("user_market.json"), type=s.Data[UserMarketRaw]).data
    assert view.base_balance == D("99927153.76074182")
    (open_order,) = [o.to_model("LTC/BTC") for o in view.open_orders]
    (closed,) = [o.to_model("LTC/BTC") for o in view.closed_orders]
    assert (open_order.status, open_order.filled, open_order.remaining) == ("open", D(0), D("5.0007505"))
    assert (closed.status, closed.filled, closed.average) == ("closed", D("4.99896025"), None)


def test_orders_list_gives_closed_and_open_orders_with_fills():
    closed, resting = [o.to_model("LTC/BTC") for o in s.ORDERS.decode(load("orders.json")).data.orders]
    assert closed == Order("13252", "LTC/BTC", "buy", "limit", D("9.90682437"), D("4.99896025"), D("4.99896025"),
                           D("0"), "closed", 1523037576366, D("9.88866999"))
    assert resting == Order("13099", "LTC/BTC", "buy", "limit", D("9.85114439"), D("4.9950993"), D("0"),
                            D("4.9950993"), "open", 1523037552941)


def test_canceled_order_is_canceled_with_nothing_filled():
    order = s.ORDER.decode(load("order_canceled.json")).data.order.to_model("DOGE/BTC")
    assert order == Order("8806681", "DOGE/BTC", "sell", "limit", D("0.00000033"), D("500"), D("0"), D("0"),
                          "canceled", 1541636157258)


def test_canceled_partly_filled_order_counts_its_trades_as_filled():
    raw = msgspec.json.decode(
        b'{"id": 7, "market_id": 1, "order_type": "sell_limit", "price": "0.005", "market_amount": "2",'
        b' "market_amount_remaining": "0", "open": false, "close_reason": "canceled",'
        b' "created_at": "2018-11-08T00:15:57.258122Z", "trades": [{"id": 1, "market_amount": "0.5", "price": "0.005"},'
        b' {"id": 2, "market_amount": "0.25", "price": "0.006"}]}', type=s.OrderRaw)
    order = raw.to_model("LTC/BTC")
    assert (order.status, order.filled, order.remaining) == ("canceled", D("0.75"), D("0"))
    assert order.average == (D("0.5") * D("0.005") + D("0.25") * D("0.006")) / D("0.75")


def test_created_order_is_open():
    order = s.ORDER.decode(load("create_order.json")).data.order.to_model("LTC/BTC")
    assert order == Order("13254", "LTC/BTC", "buy", "limit", D("0.1"), D("10"), D("0"), D("10"), "open",
                          1523047631966)


def test_error_bodies_decode_to_code_and_title():
    (error,) = s.ERRORS.decode(load("error_order_not_found.json")).errors
    assert (error.code, error.title) == ("order_not_found", "That order no longer exists")
    assert s.ERRORS.decode(load("error_invalid_auth.json")).errors[0].code == "invalid_auth"


def test_my_trades_have_our_side_order_and_quote_fee():
    (trade,) = [t.to_model(DOGE_BTC) for t in s.MY_TRADES.decode(load("my_trades.json")).data.trades]
    assert trade == Trade("63287", "DOGE/BTC", "sell", D("0.00000031"), D("1400"), 1571074962874, "8141515",
                          D("0.00000217"), "BTC")


DEPOSIT = Transfer("1:855e291e4acd61c21fcbf1bc31aa2578fa8eb3b388d9e979077567a71b58f088", "BTC", D("0.25"), "ok",
                   1546982118775, "1Kv3CKUigVPsxGCkkaoyLKrZHZ7WLq8jNK", "855e291e…f088")


def test_credited_deposit_is_ok():
    (deposit,) = [d.to_model() for d in s.DEPOSITS.decode(load("deposits.json")).data.deposits]
    assert deposit == DEPOSIT


def test_one_deposit_may_come_as_a_list_or_an_object():
    as_list = s.DEPOSIT.decode(load("deposit.json")).data.one()
    assert as_list is not None and as_list.to_model() == DEPOSIT
    as_object = s.DEPOSIT.decode(b'{"data": {"deposit": {"id": "5", "currency": "btc", "amount": "1",'
                                 b' "status": "pending_credit", "created_at": "2019-01-08T21:15:18.775592Z"}}}').data
    assert as_object.one().to_model() == Transfer("5", "BTC", D("1"), "pending", 1546982118775)


WITHDRAWAL = Transfer("2", "LTC", D("1"), "pending", 1549001176218, "mw67t7AE88SBSRWYw1is3JaFbtXVygwpmB")


def test_withdrawal_needing_creation_is_pending():
    (withdrawal,) = [w.to_model() for w in s.WITHDRAWS.decode(load("withdraws.json")).data.withdraws]
    assert withdrawal == WITHDRAWAL


def test_one_withdrawal_has_the_list_entry_shape():
    assert s.WITHDRAW.decode(load("withdrawal.json")).data.withdraw.to_model() == WITHDRAWAL


def test_withdrawal_with_cancel_requested_is_canceled_until_confirmed():
    raw = s.WITHDRAW.decode(load("withdrawal.json")).data.withdraw
    assert msgspec.structs.replace(raw, cancel_requested=True).to_model().status == "canceled"
    assert msgspec.structs.replace(raw, cancel_requested=True, status="confirmed").to_model().status == "ok"


def test_deposit_address_with_and_without_an_address():
    raw = s.DEPOSIT_ADDRESS.decode(load("deposit_address.json")).data
    assert raw.to_model("LTC") == DepositAddress("LTC", "mhBYubznoJxVEst6DNr6arZHK6UYVTsjqC")
    disabled = s.DEPOSIT_ADDRESS.decode(load("deposit_address_disabled.json")).data
    assert (disabled.currency_status, disabled.address) == ("disabled", None)


@pytest.mark.parametrize(("text", "address", "tag"), [
    ("rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh:104", "rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh", "104"),
    ("bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
     None),
    ("mhBYubznoJxVEst6DNr6arZHK6UYVTsjqC", "mhBYubznoJxVEst6DNr6arZHK6UYVTsjqC", None),
])
def test_address_memo_follows_the_first_colon_unless_it_is_a_cash_address_prefix(text, address, tag):
    assert s.split_tag(text) == (address, tag)


def test_withdraw_answer_in_both_documented_forms():
    result = s.WITHDRAW_RESULT.decode(load("withdraw.json")).data
    assert (result.id, result.code) == (3, "initiated")
    assert s.WITHDRAW_RESULT.decode(load("withdraw_2018.json")).data.id == 4


def test_internal_transfers_are_settled_credits():
    (transfer,) = [t.to_model() for t in s.TRANSFERS.decode(load("transfers.json")).data.transfers]
    assert transfer == Transfer("9", "BTC", D("0.5"), "ok", 1544400401066)


def test_every_fixture_is_covered_by_a_test():
    source = Path(__file__).read_text()
    assert [f.name for f in sorted(FIXTURES.glob("*.json")) if f'"{f.name}"' not in source] == []
