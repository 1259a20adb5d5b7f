"""Quidax sample responses (``tests/fixtures/quidax/``, copied from specs/quidax.md) through the
connector's decoders and ``to_model``: exact Decimals, ms times.

Shaped from the spec's text where it prints no verbatim sample: ``tickers`` (the ticker sample
keyed by market id, as the spec says ``/tickers`` answers), ``order_book`` (the order sample as
the one ask), ``my_trades`` (the trade sample plus ``order_id``), ``error_v1`` and
``withdrawals_v1`` (the v1 envelope with the fields the sandbox serves; the spec has no sample).
"""

from decimal import Decimal as D

import msgspec
import pytest

from connectors.quidax import schemas as s
from core.errors import BadResponse
from core.models import Balance, BookLevel, Candle, DepositAddress, Market, Order, Ticker, Trade, Transfer

TICKER = Ticker("BTC/NGN", bid=D("3000.0"), ask=D("3100.0"), last=D("3000.0"), high=D("3000.0"), low=D("3000.0"),
                volume=D("0.11"), timestamp=1398410899000)
ORDER = Order("7", "BTC/NGN", "sell", "limit", D("3100.0"), D("100.0"), D("10.2"), D("89.8"), "open",
              1397786553000, average=D("3101.2"))


def test_markets_split_the_name_into_upper_case_base_and_quote(load):
    markets = [m.to_model() for m in s.MARKETS.decode(load("markets"))]
    assert markets == [Market("BTC/NGN", "btcngn", "BTC", "NGN"), Market("ETH/NGN", "ethngn", "ETH", "NGN")]
    assert markets[0].price_precision is None and markets[0].min_amount is None


def test_market_name_without_a_slash_is_a_bad_response():
    with pytest.raises(BadResponse):
        s.MARKETS.decode(b'[{"id": "btcngn", "name": "BTCNGN"}]')[0].to_model()


def test_ticker_maps_buy_to_bid_sell_to_ask_and_at_seconds_to_ms(load):
    assert s.TICKER.decode(load("ticker")).to_model("BTC/NGN") == TICKER


def test_tickers_are_keyed_by_market_id(load):
    tickers = s.TICKERS.decode(load("tickers"))
    assert list(tickers) == ["btcngn"] and tickers["btcngn"].to_model("BTC/NGN") == TICKER


def test_depth_sorts_asks_lowest_first_though_sent_highest_first(load):
    raw = s.DEPTH.decode(load("depth"))
    bids, asks = raw.levels(None)
    assert bids == [BookLevel(D("3000.0"), D("2.0")), BookLevel(D("2990.0"), D("0.7"))]
    assert asks == [BookLevel(D("3100.0"), D("1.5")), BookLevel(D("3110.0"), D("0.4"))]
    assert raw.levels(1) == ([BookLevel(D("3000.0"), D("2.0"))], [BookLevel(D("3100.0"), D("1.5"))])
    assert raw.timestamp == 1398410899


def test_order_book_holds_order_objects(load):
    raw = s.BOOK_ORDERS.decode(load("order_book"))
    assert [o.to_model("BTC/NGN") for o in raw["asks"]] == [ORDER] and raw["bids"] == []


def test_public_trade_side_is_the_takers_and_created_at_is_ms(load):
    [trade] = [t.to_model("BTC/NGN") for t in s.TRADES.decode(load("trades"))]
    assert trade == Trade("2", "BTC/NGN", "sell", D("3100.0"), D("10.2"), 1397786689000)
    assert trade.cost == D("31620.0") == s.TRADES.decode(load("trades"))[0].funds


def test_own_trade_keeps_its_order_id(load):
    [trade] = [t.to_model("BTC/NGN") for t in s.TRADES.decode(load("my_trades"))]
    assert trade.order_id == "7" and trade.amount == D("10.2")


def test_k_line_numbers_decode_exactly_and_seconds_become_ms(load):
    candles = [s.candle(row) for row in s.KLINE.decode(load("k"))]
    assert candles == [Candle(1398410880000, D("3000.0"), D("3100.0"), D("3000.0"), D("3100.0"), D("0.11")),
                       Candle(1398410940000, D("3100.0"), D("3100.0"), D("3100.0"), D("3100.0"), D("0"))]
    assert str(candles[0].volume) == "0.11"


def test_timestamp_is_bare_integer_seconds(load):
    assert s.TIMESTAMP.decode(load("timestamp")) == 1398410899


def test_member_accounts_give_free_and_locked_balances(load):
    member = s.MEMBER.decode(load("member"))
    assert member.sn == "QDXXXXXXXXXX"
    assert [a.to_model() for a in member.accounts] == [Balance("NGN", D("100243840.0"), D("0.0")),
                                                       Balance("BTC", D("99999708.26"), D("210.8"))]
    assert member.accounts[1].to_model().total == D("99999919.06")


def test_order_wait_is_open_with_exact_volumes_and_its_trades(load):
    raw = s.ORDER.decode(load("order"))
    assert raw.to_model("BTC/NGN") == ORDER
    assert raw.volume == raw.remaining_volume + raw.executed_volume
    assert [t.to_model("BTC/NGN").timestamp for t in raw.trades] == [1397786689000]


@pytest.mark.parametrize(("state", "status"), [("wait", "open"), ("done", "closed"), ("cancel", "canceled")])
def test_order_states_map_to_unified_status(load, state, status):
    raw = msgspec.structs.replace(s.ORDER.decode(load("order")), state=state)
    assert raw.to_model("BTC/NGN").status == status


def test_unfilled_order_has_no_average_and_market_order_no_price():
    raw = s.ORDER.decode(b'{"id": 8, "side": "buy", "ord_type": "market", "price": null, "avg_price": "0.0",'
                         b' "state": "wait", "market": "btcngn", "created_at": "2014-04-18T02:02:33Z",'
                         b' "volume": "1.0", "remaining_volume": "1.0", "executed_volume": "0.0"}')
    order = raw.to_model("BTC/NGN")
    assert (order.type, order.price, order.average, order.filled) == ("market", None, None, D("0.0"))


def test_accepted_deposit_is_ok_with_txid_and_fee(load):
    [deposit] = [d.to_model() for d in s.DEPOSITS.decode(load("deposits"))]
    assert deposit == Transfer("1", "BTC", D("0.5"), "ok", 1514764800000, txid="ab12…", fee=D("0.0"))


@pytest.mark.parametrize(("state", "status"), [("submitted", "pending"), ("rejected", "failed"),
                                               ("cancelled", "canceled"), ("checked", "ok")])
def test_deposit_states_map_to_unified_status(load, state, status):
    raw = msgspec.structs.replace(s.DEPOSITS.decode(load("deposits"))[0], state=state)
    assert raw.to_model().status == status


def test_deposit_address(load):
    assert s.DEPOSIT_ADDRESS.decode(load("deposit_address")).to_model("BTC") == DepositAddress("BTC", "<addr>")


def test_v1_wallets_unwrap_the_envelope(load):
    envelope = s.V1_WALLETS.decode(load("wallets_v1"))
    assert envelope.status == "success"
    assert [w.to_model() for w in envelope.data] == [Balance("BTC", D("10.0"), D("0.0"))]


def test_v1_withdrawal_has_address_and_ms_time(load):
    [withdrawal] = [w.to_model() for w in s.V1_WITHDRAWALS.decode(load("withdrawals_v1")).data]
    assert withdrawal == Transfer("3", "BTC", D("0.01"), "pending", 1753481168123, address="bc1qexample",
                                  fee=D("0.0"))


@pytest.mark.parametrize(("name", "code", "message"), [
    ("error", 1001, "market does not have a valid value"),
    ("error_v1", "insufficient_balance", "Insufficient balance"),
])
def test_error_bodies_of_both_versions_decode(load, name, code, message):
    raw = s.ERROR.decode(load(name))
    detail = raw.error or raw.data
    assert (detail.code, detail.message) == (code, message)
