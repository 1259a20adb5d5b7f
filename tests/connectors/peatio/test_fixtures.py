"""Peatio sample responses (``tests/fixtures/peatio/``, copied from specs/peatio.md) through the
connector's decoders and ``to_model``: exact Decimals, ISO-8601 with offset to UTC ms.

Variants not printed verbatim in the spec: ``markets_v2_6`` (adds ``maker_fee``/``taker_fee``
as the spec says 2.6 does), ``tickers`` (the ticker keyed by market, as the spec describes
``/public/markets/tickers``), ``order_book`` (``{"asks": [Order], "bids": [Order]}`` built from
the order samples), ``order`` (the open-order sample plus ``trades`` as the single-order
endpoint adds), ``public_trades_iso`` (open question 3: ISO ``created_at``, string numbers),
``cancel_all`` (array of the cancel sample), ``balance``/``withdraw`` (single elements).
"""

import json
from decimal import Decimal as D

import msgspec
import pytest

from connectors.peatio import schemas as s
from core.connector import ANY_JSON
from core.models import Balance, BookLevel, Candle, Currency, DepositAddress, Market, Order, Ticker, Trade, Transfer

T_2020_03_12 = 1584028916000  # 2020-03-12T17:01:56+01:00 = 16:01:56 UTC
T_2020_03_10 = 1583830800000  # 2020-03-10T10:00:00+01:00 = 09:00:00 UTC


def test_markets_decode_exact_limits_and_upper_case_symbols(load):
    markets = [m.to_model() for m in s.MARKETS.decode(load("markets"))]
    assert markets == [
        Market("ETH/USDT", "ethusdt", "ETH", "USDT", price_precision=2, amount_precision=5, min_amount=D("0.00001"),
               min_price=D("0.01"), max_price=D("1000.0"), active=True),
        Market("BTC/USDT", "btcusdt", "BTC", "USDT", price_precision=4, amount_precision=6, min_amount=D("0.0001"),
               min_price=D("5000.0"), max_price=D("12000.0"), active=True),
    ]


def test_markets_v2_6_with_fees_decode_the_same(load):
    assert s.MARKETS.decode(load("markets_v2_6"))[0].to_model() == s.MARKETS.decode(load("markets"))[0].to_model()


def test_market_with_zero_max_price_has_no_maximum_and_disabled_is_inactive(load):
    body = load("markets").replace(b'"1000.0"', b'"0.0"').replace(b'"enabled"', b'"disabled"', 1)
    market = s.MARKETS.decode(body)[0].to_model()
    assert market.max_price is None and market.active is False


def test_currency_decodes_to_upper_case_code(load):
    raw = msgspec.json.decode(load("currency"), type=s.CurrencyRaw)
    assert raw.to_model() == Currency("BTC", "Bitcoin")
    assert s.CURRENCIES.decode(b"[" + load("currency") + b"]")[0].to_model() == Currency("BTC", "Bitcoin")


def test_ticker_strings_decode_exactly_with_base_volume_and_ms_time(load):
    ticker = s.TICKER.decode(load("ticker")).to_model("ETH/USD")
    assert ticker == Ticker("ETH/USD", bid=None, ask=None, last=D("160.82"), high=D("170.0"), low=D("158.0"),
                            volume=D("5.0"), timestamp=1584087661000)


def test_tickers_are_keyed_by_market_id(load):
    tickers = s.TICKERS.decode(load("tickers"))
    assert list(tickers) == ["ethusdt"]
    assert tickers["ethusdt"].to_model("ETH/USDT").last == D("160.82")


def test_depth_string_pairs_decode_and_sort_best_first(load):
    raw = s.DEPTH.decode(load("depth"))
    assert raw.timestamp == 1584087661
    bids, asks = raw.levels(None)
    assert bids == [BookLevel(D("160.8"), D("2.5")), BookLevel(D("160.5"), D("10.0"))]
    assert asks == [BookLevel(D("160.9"), D("1.2")), BookLevel(D("161.0"), D("4.0"))]


def test_depth_sent_worst_first_is_still_sorted_best_first(load):
    sent = json.loads(load("depth"))
    reversed_body = json.dumps({"timestamp": sent["timestamp"], "asks": sent["asks"][::-1],
                                "bids": sent["bids"][::-1]}).encode()
    assert s.DEPTH.decode(reversed_body).levels(None) == s.DEPTH.decode(load("depth")).levels(None)
    bids, asks = s.DEPTH.decode(reversed_body).levels(1)
    assert (bids, asks) == ([BookLevel(D("160.8"), D("2.5"))], [BookLevel(D("160.9"), D("1.2"))])


def test_depth_with_numbers_instead_of_strings_is_exact():
    raw = s.DEPTH.decode(b'{"timestamp": 1584087661, "asks": [[160.9, 0.00000001]], "bids": [[160.8, 2.5]]}')
    assert raw.levels(None) == ([BookLevel(D("160.8"), D("2.5"))], [BookLevel(D("160.9"), D("0.00000001"))])


def test_order_book_of_orders_decodes_both_sides(load):
    raw = msgspec.json.decode(load("order_book"), type=dict[str, list[s.OrderRaw]])
    [ask], [bid] = raw["asks"], raw["bids"]
    assert (ask.side, ask.price, ask.remaining_volume) == ("sell", D("161.5"), D("2.0"))
    assert (bid.side, bid.price, bid.remaining_volume) == ("buy", D("160.82"), D("4.64351"))


def test_public_trade_numbers_decode_exactly_with_seconds_to_ms(load):
    [trade] = [t.to_model("ETH/USD") for t in s.PUBLIC_TRADES.decode(load("public_trades"))]
    assert trade == Trade("1834499", "ETH/USD", "buy", D("160.82"), D("5.0"), T_2020_03_12)


def test_public_trade_with_iso_created_at_gives_the_same_trade(load):
    [iso] = [t.to_model("ETH/USD") for t in s.PUBLIC_TRADES.decode(load("public_trades_iso"))]
    [numeric] = [t.to_model("ETH/USD") for t in s.PUBLIC_TRADES.decode(load("public_trades"))]
    assert iso == numeric


def test_public_trade_with_fractional_seconds_truncates_to_ms():
    body = b'[{"id": 1, "price": 0.00000001, "amount": 911.519, "market": "ethusd", "created_at": 1584028916.7359, ' \
           b'"taker_type": "sell"}]'
    trade = s.PUBLIC_TRADES.decode(body)[0].to_model("ETH/USD")
    assert (trade.price, trade.amount, trade.timestamp, trade.side) == (D("0.00000001"), D("911.519"),
                                                                        1584028916735, "sell")


def test_k_line_rows_become_candles_with_ms_open_time(load):
    candles = [s.candle(row) for row in s.KLINE.decode(load("k_line"))]
    assert candles == [
        Candle(1584087600000, D("160.5"), D("161.0"), D("160.0"), D("160.82"), D("31.0")),
        Candle(1584087660000, D("160.82"), D("160.9"), D("160.8"), D("160.9"), D("2.1")),
    ]


def test_server_time_iso_string_becomes_ms(load):
    assert s.server_time(s.TIMESTAMP.decode(load("timestamp"))) == 1584087661000


def test_balances_are_free_and_locked_with_upper_case_codes(load):
    balances = [b.to_model() for b in s.BALANCES.decode(load("balances"))]
    assert balances == [Balance("ETH", D("1.4995"), D("0.0")), Balance("USD", D("99.0"), D("0.0"))]
    assert msgspec.json.decode(load("balance"), type=s.BalanceRaw).to_model() == balances[0]


def test_trading_fees_decode_as_plain_json_with_exact_rates(load):
    [fee] = ANY_JSON.decode(load("trading_fees"))
    assert (fee["group"], fee["market_id"], D(fee["maker"]), D(fee["taker"])) == ("any", "any", D("0.001"), D("0.002"))


def test_beneficiary_keeps_its_address(load):
    [beneficiary] = s.BENEFICIARIES.decode(b"[" + load("beneficiary") + b"]")
    assert (beneficiary.id, beneficiary.currency, beneficiary.state) == (3, "btc", "active")
    assert beneficiary.data["address"] == "2N…"


def test_done_order_is_closed_with_average_and_utc_ms_from_offset_time(load):
    [order] = [o.to_model("ETH/USD") for o in s.ORDERS.decode(load("orders"))]
    assert order == Order("6291918", "ETH/USD", "buy", "limit", D("168.0"), D("0.1"), D("0.1"), D("0.0"), "closed",
                          1580220842000, average=D("168.0"))


def test_created_order_is_pending_without_average(load):
    order = s.ORDER.decode(load("create_order")).to_model("ETH/USD")
    assert order == Order("10440269", "ETH/USD", "buy", "limit", D("160.82"), D("31.0"), D("0.0"), D("31.0"),
                          "pending", T_2020_03_12)


OPEN = Order("10440269", "ETH/USD", "buy", "limit", D("160.82"), D("31.0"), D("26.35649"), D("4.64351"), "open",
             T_2020_03_12, average=D("160.82"))


def test_open_orders_are_open_and_partially_filled(load):
    assert [o.to_model("ETH/USD") for o in s.ORDERS.decode(load("open_orders"))] == [OPEN]


def test_cancel_answer_is_the_order_still_open(load):
    assert s.ORDER.decode(load("cancel_order")).to_model("ETH/USD") == OPEN


def test_cancel_all_answer_is_a_list_of_orders(load):
    assert [o.to_model("ETH/USD") for o in s.ORDERS.decode(load("cancel_all"))] == [OPEN]


def test_single_order_with_trades_decodes(load):
    assert s.ORDER.decode(load("order")).to_model("ETH/USD") == OPEN


@pytest.mark.parametrize(("state", "status"), [("pending", "pending"), ("wait", "open"), ("done", "closed"),
                                               ("cancel", "canceled"), ("reject", "rejected")])
def test_order_states_map_to_unified_statuses(load, state, status):
    body = load("create_order").replace(b'"pending"', f'"{state}"'.encode())
    assert s.ORDER.decode(body).to_model("ETH/USD").status == status


def test_market_order_without_price_decodes_with_price_none(load):
    body = load("create_order").replace(b'"price": "160.82"', b'"price": null').replace(b'"limit"', b'"market"')
    order = s.ORDER.decode(body).to_model("ETH/USD")
    assert (order.type, order.price) == ("market", None)


def test_order_time_in_utc_z_and_with_microseconds():
    body = (b'{"id": 1, "side": "sell", "ord_type": "limit", "state": "wait", "market": "ethusd", '
            b'"created_at": "2020-03-12T16:01:56.789123Z", "origin_volume": "1", "remaining_volume": "1", '
            b'"executed_volume": "0", "price": "0.00000001"}')
    order = s.ORDER.decode(body).to_model("ETH/USD")
    assert (order.timestamp, order.price) == (T_2020_03_12 + 789, D("0.00000001"))


def test_my_trade_has_order_id_fee_and_fee_currency(load):
    [trade] = [t.to_model("ETH/USD") for t in s.MY_TRADES.decode(load("my_trades"))]
    assert trade == Trade("1834499", "ETH/USD", "buy", D("160.82"), D("5.0"), T_2020_03_12, order_id="10440269",
                          fee=D("0.01"), fee_currency="ETH")


def test_deposit_accepted_is_ok(load):
    [deposit] = [d.to_model() for d in s.DEPOSITS.decode(load("deposits"))]
    assert deposit == Transfer("12", "BTC", D("0.5"), "ok", T_2020_03_10, txid="3b1f…", fee=D("0.0"))


@pytest.mark.parametrize(("state", "status"), [
    ("submitted", "pending"), ("accepted", "ok"), ("collected", "ok"), ("canceled", "canceled"),
    ("rejected", "failed"),
    # Peatio reaches skipped only from accepted: the funds are credited, only the collection was skipped
    ("skipped", "ok"),
])
def test_deposit_states_map_to_transfer_statuses(load, state, status):
    body = load("deposits").replace(b'"accepted"', f'"{state}"'.encode())
    assert s.DEPOSITS.decode(body)[0].to_model().status == status


def test_withdrawal_keeps_address_fee_and_missing_txid(load):
    [withdrawal] = [w.to_model() for w in s.WITHDRAWS.decode(load("withdraws"))]
    assert withdrawal == Transfer("7", "BTC", D("0.1"), "pending", T_2020_03_10, address="2N…", txid=None,
                                  fee=D("0.0005"))
    assert s.WITHDRAW.decode(load("withdraw")).to_model() == withdrawal


@pytest.mark.parametrize(("state", "status"), [
    ("prepared", "pending"), ("submitted", "pending"), ("accepted", "pending"), ("processing", "pending"),
    ("confirming", "pending"), ("to_reject", "pending"), ("succeed", "ok"), ("canceled", "canceled"),
    ("rejected", "failed"), ("failed", "failed"),
    # not terminal (spec §3): Peatio can still process skipped/errored withdrawals to succeed
    ("skipped", "pending"), ("errored", "pending"),
])
def test_withdraw_states_map_to_transfer_statuses(load, state, status):
    body = load("withdraws").replace(b'"accepted"', f'"{state}"'.encode())
    assert s.WITHDRAWS.decode(body)[0].to_model().status == status


@pytest.mark.parametrize("name", ["deposit_address_v2_4", "deposit_address_v2_6"])
def test_deposit_address_2_4_and_2_6_shapes_give_the_same_address(load, name):
    raw = s.DEPOSIT_ADDRESS.decode(load(name))
    assert s.deposit_address(raw, "BTC") == DepositAddress("BTC", "2N…")


def test_deposit_address_shapes_keep_their_currency_fields(load):
    assert s.DEPOSIT_ADDRESS.decode(load("deposit_address_v2_4")).currency == "btc"
    assert s.DEPOSIT_ADDRESS.decode(load("deposit_address_v2_6")).currencies == ["btc"]


@pytest.mark.parametrize(("name", "code"), [("error_insufficient_balance", "market.account.insufficient_balance"),
                                            ("error_invalid_signature", "authz.invalid_signature")])
def test_error_bodies_list_the_dotted_codes(load, name, code):
    assert s.ERROR.decode(load(name)).errors == [code]
