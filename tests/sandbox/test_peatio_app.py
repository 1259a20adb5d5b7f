"""The Peatio sandbox app against specs/peatio.md: paths, shapes, Barong auth, errors, limits."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import count
from typing import Any

import aiohttp
import pytest

from sandbox import Sandbox, Venue
from sandbox.exchanges.peatio import expected_signature
from sandbox.venue import ApiKey

API = "/api/v2/peatio"
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")
ORDER_FIELDS = {
    "id", "uuid", "side", "ord_type", "price", "avg_price", "state", "market", "created_at",
    "updated_at", "origin_volume", "remaining_volume", "executed_volume", "trades_count",
}
TRADE_FIELDS = {
    "id", "price", "amount", "total", "market", "created_at", "taker_type", "side", "order_id",
    "fee_currency", "fee", "fee_amount",
}


def barong_headers(key: str, secret: str, nonce: str | None = None) -> dict[str, str]:
    """The spec's §2 signing, written here independently: hex HMAC-SHA256(secret, nonce + key)."""
    nonce = str(int(time.time() * 1000)) if nonce is None else nonce
    signature = hmac.new(secret.encode(), (nonce + key).encode(), hashlib.sha256).hexdigest()
    return {"X-Auth-Apikey": key, "X-Auth-Nonce": nonce, "X-Auth-Signature": signature}


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Peatio:
    """A loopback client; private calls rotate over several keys of one account so a test's
    burst stays under the sandbox's 10 requests/s per key (the limit has its own test)."""

    sb: Sandbox
    session: aiohttp.ClientSession

    def __post_init__(self) -> None:
        self._turn = count()

    @property
    def venue(self) -> Venue:
        return self.sb.venue("peatio")

    def keys(self, account: str = "demo", how_many: int = 4) -> list[ApiKey]:
        return [self.venue.add_key(account) for _ in range(how_many)]

    async def call(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                   **kwargs: Any) -> Answer:
        async with self.session.request(method, self.sb.url("peatio") + API + path,
                                        headers=headers, **kwargs) as response:
            text = await response.text()
            return Answer(response.status, json.loads(text) if text else None, dict(response.headers))

    async def public(self, path: str, **params: Any) -> Answer:
        return await self.call("GET", path, params=params)

    async def private(self, keys: list[ApiKey], method: str, path: str, **kwargs: Any) -> Answer:
        key = keys[next(self._turn) % len(keys)]
        return await self.call(method, path, headers=barong_headers(key.key, key.secret), **kwargs)


@pytest.fixture
async def peatio(start_sandbox) -> AsyncIterator[Peatio]:
    sb = await start_sandbox("peatio")
    async with aiohttp.ClientSession() as session:
        yield Peatio(sb, session)


def is_decimal_text(value: Any) -> bool:
    return isinstance(value, str) and Decimal(value).is_finite()


def assert_order_shape(order: dict[str, Any]) -> None:
    assert ORDER_FIELDS <= set(order)
    assert isinstance(order["id"], int) and isinstance(order["trades_count"], int)
    assert ISO.fullmatch(order["created_at"]) and ISO.fullmatch(order["updated_at"])
    for name in ("avg_price", "origin_volume", "remaining_volume", "executed_volume"):
        assert is_decimal_text(order[name])
    assert order["price"] is None or is_decimal_text(order["price"])


def take_best(venue: Venue, symbol: str, account: str, side: str) -> tuple[Decimal, Decimal]:
    """Make one public trade through the engine: ``account`` takes the whole best opposite
    order; returns its (price, amount)."""
    bids, asks = venue.book(symbol)
    best = asks[0] if side == "buy" else bids[0]
    assert best.price is not None
    price, amount = best.price, best.remaining
    venue.engine.place_order(account, symbol, side, amount, price)
    return price, amount


# -- signing --------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "secret", "nonce", "signature"), [
    ("changeme", "changeme", "1584087661035",
     "8e8b02ca60cf30590d9b46587074c86f8cdcb72e4ee05eb58aca05bcbd5ffd17"),
    ("61d025b8573501c2", "2d0b4979c7fe6986daa8e21d1dc0644f", "1584087661035",
     "5c65512c03216059fe5aef33e727380193cdf510192cd8f4f5361f204586f5a9"),
    ("61d025b8573501c2", "2d0b4979c7fe6986daa8e21d1dc0644f", "1700000000000",
     "d12ce287bd8aadec86968324d956b2bf7417209019be43bbc2f181178d32636a"),
])
def test_signature_matches_spec_vectors(key: str, secret: str, nonce: str, signature: str) -> None:
    assert expected_signature(secret, nonce, key) == signature
    assert barong_headers(key, secret, nonce)["X-Auth-Signature"] == signature


def test_seed_official_vector_is_not_reproducible_as_the_spec_says() -> None:
    seed_value = "6cc108cb3427b655ccf0870fc7fa807ef3756506d4db3f3c93f8d4cd8ef0e611"
    assert expected_signature("changeme", "1584087661035", "changeme") != seed_value


# -- public endpoints -----------------------------------------------------------------------


async def test_markets_list_shape_filters_and_pagination_headers(peatio: Peatio) -> None:
    answer = await peatio.public("/public/markets")
    assert answer.status == 200
    assert [m["id"] for m in answer.body] == ["ethusdt", "btcusdt", "ethbtc"]
    assert (answer.headers["Total"], answer.headers["Per-Page"], answer.headers["Page"]) == ("3", "100", "1")
    eth = answer.body[0]
    assert eth == {
        "id": "ethusdt", "name": "ETH/USDT", "base_unit": "eth", "quote_unit": "usdt",
        "min_price": "0.01", "max_price": "100000.0", "min_amount": "0.00001",
        "amount_precision": 5, "price_precision": 2, "state": "enabled",
    }
    by_quote = await peatio.public("/public/markets", quote_unit="usdt", order_by="id", ordering="desc")
    assert [m["id"] for m in by_quote.body] == ["ethusdt", "btcusdt"]
    searched = await peatio.public("/public/markets", **{"search[base_name]": "bitco"})
    assert [m["id"] for m in searched.body] == ["btcusdt"]
    second_page = await peatio.public("/public/markets", limit=2, page=2)
    assert [m["id"] for m in second_page.body] == ["ethbtc"]
    assert second_page.headers["Page"] == "2" and second_page.headers["Per-Page"] == "2"


async def test_currencies_timestamp_and_trading_fees(peatio: Peatio) -> None:
    currencies = await peatio.public("/public/currencies")
    assert currencies.status == 200 and {c["id"] for c in currencies.body} == {"eth", "usdt", "btc"}
    assert (await peatio.public("/public/currencies", type="fiat")).body == []
    btc = (await peatio.public("/public/currencies/btc")).body
    assert btc["type"] == "coin" and btc["name"] == "Bitcoin" and is_decimal_text(btc["withdraw_fee"])
    assert isinstance(btc["precision"], int) and btc["base_factor"] == 10 ** btc["precision"]
    missing = await peatio.public("/public/currencies/doge")
    assert (missing.status, missing.body) == (404, {"errors": ["record.not_found"]})

    stamp = await peatio.public("/public/timestamp")
    assert stamp.status == 200 and isinstance(stamp.body, str) and ISO.fullmatch(stamp.body)

    fees = await peatio.public("/public/trading_fees", market_id="btcusdt")
    assert [(f["market_id"], f["maker"], f["taker"]) for f in fees.body] == [("btcusdt", "0.001", "0.002")]
    assert ISO.fullmatch(fees.body[0]["created_at"]) and fees.body[0]["group"] == "any"


async def test_tickers_are_strings_with_at_in_seconds(peatio: Peatio) -> None:
    price, amount = take_best(peatio.venue, "ETH/USDT", "maker", "buy")
    everything = await peatio.public("/public/markets/tickers")
    assert set(everything.body) == {"ethusdt", "btcusdt", "ethbtc"}
    one = await peatio.public("/public/markets/ethusdt/tickers")
    assert one.status == 200
    assert isinstance(one.body["at"], str) and abs(int(one.body["at"]) - time.time()) < 5
    ticker = one.body["ticker"]
    assert set(ticker) == {"low", "high", "open", "last", "volume", "amount", "avg_price",
                           "price_change_percent", "vol"}
    assert (Decimal(ticker["last"]), Decimal(ticker["amount"])) == (price, amount)
    assert Decimal(ticker["volume"]) == price * amount == Decimal(ticker["vol"])
    assert ticker["price_change_percent"] == "+0.00%"


async def test_order_book_holds_full_orders_and_depth_holds_string_pairs(peatio: Peatio) -> None:
    book = await peatio.public("/public/markets/ethusdt/order-book", asks_limit=3, bids_limit=2)
    assert book.status == 200 and (len(book.body["asks"]), len(book.body["bids"])) == (3, 2)
    for order in book.body["asks"] + book.body["bids"]:
        assert_order_shape(order)
        assert order["state"] == "wait" and order["market"] == "ethusdt"
    assert Decimal(book.body["asks"][0]["price"]) > Decimal(book.body["bids"][0]["price"])

    depth = await peatio.public("/public/markets/ethusdt/depth", limit=4)
    assert isinstance(depth.body["timestamp"], int) and abs(depth.body["timestamp"] - time.time()) < 5
    bids, asks = peatio.venue.engine.levels("ETH/USDT")
    assert [(Decimal(p), Decimal(v)) for p, v in depth.body["asks"]] == asks[:4]
    assert [(Decimal(p), Decimal(v)) for p, v in depth.body["bids"]] == bids[:4]
    assert all(is_decimal_text(x) for level in depth.body["asks"] + depth.body["bids"] for x in level)

    too_deep = await peatio.public("/public/markets/ethusdt/order-book", asks_limit=201)
    assert (too_deep.status, too_deep.body) == (422, {"errors": ["public.order_book.invalid_asks_limit"]})


async def test_public_trades_and_k_line_use_json_numbers(peatio: Peatio) -> None:
    venue = peatio.venue
    ask, bought = take_best(venue, "ETH/USDT", "maker", "buy")
    bid, sold = take_best(venue, "ETH/USDT", "maker", "sell")
    trades = await peatio.public("/public/markets/ethusdt/trades", limit=10)
    assert trades.status == 200 and len(trades.body) == 2
    newest = trades.body[0]
    assert set(newest) == {"id", "price", "amount", "total", "market", "created_at", "taker_type"}
    assert isinstance(newest["price"], float) and isinstance(newest["amount"], float)
    assert isinstance(newest["created_at"], int) and abs(newest["created_at"] - time.time()) < 5
    assert (newest["taker_type"], newest["price"], newest["amount"]) == ("sell", float(bid), float(sold))
    oldest_first = await peatio.public("/public/markets/ethusdt/trades", order_by="asc")
    assert [t["id"] for t in oldest_first.body] == [t["id"] for t in reversed(trades.body)]

    k_line = await peatio.public("/public/markets/ethusdt/k-line", period=1)
    assert k_line.status == 200 and len(k_line.body) == 1
    started, opened, high, low, close, volume = k_line.body[0]
    assert isinstance(started, int) and started % 60 == 0
    assert (opened, high, low, close) == (float(ask), float(ask), float(bid), float(bid))
    assert volume == pytest.approx(float(bought + sold))
    wrong_period = await peatio.public("/public/markets/ethusdt/k-line", period=7)
    assert (wrong_period.status, wrong_period.body) == (422, {"errors": ["public.k_line.invalid_period"]})


async def test_unknown_market_is_422_public_market_doesnt_exist(peatio: Peatio) -> None:
    for path in ("/public/markets/dogeusdt/tickers", "/public/markets/dogeusdt/depth"):
        answer = await peatio.public(path)
        assert (answer.status, answer.body) == (422, {"errors": ["public.market.doesnt_exist"]})


# -- authentication -------------------------------------------------------------------------


async def test_barong_authentication_errors(peatio: Peatio) -> None:
    key, secret = peatio.sb.credentials("peatio")
    now = int(time.time() * 1000)
    cases = [
        ({**barong_headers(key, secret), "X-Auth-Signature": "0" * 64}, 401, "authz.invalid_signature"),
        (barong_headers(key, "not-the-secret"), 401, "authz.invalid_signature"),
        (barong_headers("0123456789abcdef", secret), 401, "authz.unexistent_apikey"),
        (barong_headers(key, secret, str(now - 6000)), 401, "authz.nonce_expired"),
        (barong_headers(key, secret, str(now + 6000)), 401, "authz.nonce_expired"),
        (barong_headers(key, secret, "12ab"), 401, "authz.nonce_not_valid_timestamp"),
        ({"X-Auth-Apikey": key, "X-Auth-Nonce": str(now)}, 422, "authz.invalid_api_key_headers"),
        ({}, 422, "authz.invalid_api_key_headers"),
    ]
    for headers, status, code in cases:
        answer = await peatio.call("GET", "/account/balances", headers=headers)
        assert (answer.status, answer.body) == (status, {"errors": [code]}), code


async def test_nonce_may_repeat_inside_the_window_like_barong(peatio: Peatio) -> None:
    key, secret = peatio.sb.credentials("peatio")
    headers = barong_headers(key, secret, str(int(time.time() * 1000) - 4000))
    first = await peatio.call("GET", "/account/balances", headers=headers)
    again = await peatio.call("GET", "/account/balances", headers=headers)
    assert first.status == again.status == 200


# -- account endpoints ----------------------------------------------------------------------


async def test_balances_deposits_and_deposit_address_shapes(peatio: Peatio) -> None:
    keys = peatio.keys()
    balances = await peatio.private(keys, "GET", "/account/balances")
    assert balances.status == 200 and balances.headers["Total"] == "3"
    assert {b["currency"]: (b["balance"], b["locked"]) for b in balances.body} == {
        c: ("1000000.0", "0.0") for c in ("eth", "usdt", "btc")
    }
    one = await peatio.private(keys, "GET", "/account/balances/eth")
    assert one.body == {"currency": "eth", "balance": "1000000.0", "locked": "0.0"}
    missing = await peatio.private(keys, "GET", "/account/balances/doge")
    assert (missing.status, missing.body) == (404, {"errors": ["record.not_found"]})

    deposits = await peatio.private(keys, "GET", "/account/deposits", params={"currency": "btc"})
    assert deposits.status == 200 and len(deposits.body) == 1
    deposit = deposits.body[0]
    assert deposit["state"] == "accepted" and deposit["amount"] == "1000000.0"
    assert ISO.fullmatch(deposit["created_at"]) and isinstance(deposit["confirmations"], int)
    by_txid = await peatio.private(keys, "GET", f"/account/deposits/{deposit['txid']}")
    assert by_txid.body == deposit

    address = await peatio.private(keys, "GET", "/account/deposit_address/eth")
    assert address.body == {"currency": "eth", "address": peatio.venue.engine.deposit_address("demo", "ETH")}

    transactions = await peatio.private(keys, "GET", "/account/transactions", params={"limit": 2})
    assert transactions.status == 200 and len(transactions.body) == 2 and transactions.headers["Total"] == "3"
    assert {t["type"] for t in transactions.body} == {"deposit"}
    assert (await peatio.private(keys, "GET", "/account/withdraws")).body == []


async def test_withdraw_needs_otp_and_activated_beneficiary(peatio: Peatio) -> None:
    venue, keys = peatio.venue, peatio.keys()
    created = await peatio.private(keys, "POST", "/account/beneficiaries", json={
        "currency": "btc", "name": "cold wallet", "data": {"address": "bc1qsandbox"},
    })
    assert created.status == 201 and created.body["state"] == "pending"
    beneficiary_id = created.body["id"]
    withdraw = {"currency": "btc", "amount": "0.1", "beneficiary_id": beneficiary_id, "otp": 123456}

    early = await peatio.private(keys, "POST", "/account/withdraws", json=withdraw)
    assert (early.status, early.body) == (422, {"errors": ["account.beneficiary.invalid_state_for_withdrawal"]})
    wrong_pin = await peatio.private(keys, "PATCH", f"/account/beneficiaries/{beneficiary_id}/activate",
                                     data={"pin": "111111"})
    assert (wrong_pin.status, wrong_pin.body) == (422, {"errors": ["account.beneficiary.invalid_pin"]})
    activated = await peatio.private(keys, "PATCH", f"/account/beneficiaries/{beneficiary_id}/activate",
                                     data={"pin": "000000"})
    assert activated.status == 200 and activated.body["state"] == "active"
    listed = await peatio.private(keys, "GET", "/account/beneficiaries")
    assert [b["id"] for b in listed.body] == [beneficiary_id]

    wrong_otp = await peatio.private(keys, "POST", "/account/withdraws", json={**withdraw, "otp": 654321})
    assert (wrong_otp.status, wrong_otp.body) == (422, {"errors": ["account.withdraw.invalid_otp"]})
    done = await peatio.private(keys, "POST", "/account/withdraws", json={**withdraw, "note": "rent"})
    assert done.status == 201
    assert (done.body["state"], done.body["amount"], done.body["fee"], done.body["rid"], done.body["note"]) == (
        "accepted", "0.1", "0.0005", "bc1qsandbox", "rent")
    assert venue.balances()["BTC"].locked == Decimal("0.1005")
    listed_withdraws = await peatio.private(keys, "GET", "/account/withdraws", params={"currency": "btc"})
    assert [w["id"] for w in listed_withdraws.body] == [done.body["id"]]

    assert (await peatio.private(keys, "DELETE", f"/account/beneficiaries/{beneficiary_id}")).status == 204
    gone = await peatio.private(keys, "GET", f"/account/beneficiaries/{beneficiary_id}")
    assert (gone.status, gone.body) == (404, {"errors": ["record.not_found"]})


# -- orders ---------------------------------------------------------------------------------


async def test_limit_order_is_pending_then_waits_on_the_book(peatio: Peatio) -> None:
    keys = peatio.keys()
    created = await peatio.private(keys, "POST", "/market/orders", data={
        "market": "ethusdt", "side": "buy", "volume": "0.5", "ord_type": "limit", "price": "2999.99",
    })
    assert created.status == 201
    assert_order_shape(created.body)
    assert (created.body["state"], created.body["executed_volume"], created.body["remaining_volume"]) == (
        "pending", "0.0", "0.5")
    order_id = created.body["id"]
    bids, _ = peatio.venue.book("ETH/USDT")
    assert bids[0].id == order_id and bids[0].account == "demo"

    open_orders = await peatio.private(keys, "GET", "/market/orders", params={"market": "ethusdt", "state": "wait"})
    assert [o["id"] for o in open_orders.body] == [order_id] and open_orders.body[0]["state"] == "wait"
    by_id = await peatio.private(keys, "GET", f"/market/orders/{order_id}")
    by_uuid = await peatio.private(keys, "GET", f"/market/orders/{created.body['uuid']}")
    assert by_id.body == by_uuid.body and by_id.body["trades"] == []


async def test_crossing_fills_move_balances_by_exactly_the_filled_amounts(peatio: Peatio) -> None:
    venue, keys = peatio.venue, peatio.keys()
    taker_keys = peatio.keys("taker", 2)
    venue.fund("taker", {"ETH": Decimal("10"), "USDT": Decimal("10000")})
    before = venue.balances()
    created = await peatio.private(keys, "POST", "/market/orders", json={
        "market": "ethusdt", "side": "buy", "volume": "0.5", "price": "2999.99",
    })
    order_id = created.body["id"]

    taken = await peatio.private(taker_keys, "POST", "/market/orders", json={
        "market": "ethusdt", "side": "sell", "volume": "0.2", "price": "2999.99",
    })
    assert taken.status == 201 and taken.body["state"] == "pending"
    partly = (await peatio.private(keys, "GET", f"/market/orders/{order_id}")).body
    assert (partly["state"], partly["executed_volume"], partly["remaining_volume"], partly["trades_count"]) == (
        "wait", "0.2", "0.3", 1)
    trade = partly["trades"][0]
    assert TRADE_FIELDS <= set(trade)
    assert (trade["side"], trade["taker_type"], trade["price"], trade["amount"], trade["total"]) == (
        "buy", "sell", "2999.99", "0.2", "599.998")
    assert (trade["fee_currency"], trade["fee"], trade["fee_amount"]) == ("eth", "0.001", "0.0002")

    balances = {b["currency"]: b for b in (await peatio.private(keys, "GET", "/account/balances")).body}
    assert Decimal(balances["eth"]["balance"]) == before["ETH"].available + Decimal("0.2") - Decimal("0.0002")
    assert Decimal(balances["usdt"]["balance"]) == before["USDT"].available - Decimal("0.5") * Decimal("2999.99")
    assert Decimal(balances["usdt"]["locked"]) == Decimal("0.3") * Decimal("2999.99")
    taker = {b["currency"]: b for b in (await peatio.private(taker_keys, "GET", "/account/balances")).body}
    assert (taker["eth"]["balance"], taker["usdt"]["balance"]) == ("9.8", "10598.798004")  # 10000 + 599.998 - 0.2 %
    my_trades = await peatio.private(taker_keys, "GET", "/market/trades", params={"market": "ethusdt"})
    assert [(t["side"], t["fee_currency"], t["fee_amount"]) for t in my_trades.body] == [("sell", "usdt", "1.199996")]

    cancelled = await peatio.private(keys, "POST", f"/market/orders/{order_id}/cancel")
    assert cancelled.status == 201
    assert (cancelled.body["state"], cancelled.body["executed_volume"]) == ("wait", "0.2")
    after = (await peatio.private(keys, "GET", f"/market/orders/{order_id}")).body
    assert after["state"] == "cancel"
    assert venue.balances()["USDT"].locked == 0
    assert venue.balances()["USDT"].available == before["USDT"].available - Decimal("599.998")


async def test_cancel_errors_not_found_and_invalid_id(peatio: Peatio) -> None:
    keys = peatio.keys()
    filled = await peatio.private(keys, "POST", "/market/orders", json={
        "market": "ethusdt", "side": "buy", "volume": "0.0001", "price": "3000.03",
    })
    assert peatio.venue.engine.order("demo", filled.body["id"]).status == "filled"
    done = await peatio.private(keys, "POST", f"/market/orders/{filled.body['id']}/cancel")
    assert (done.status, done.body) == (422, {"errors": ["market.order.cancel_error"]})
    shown = await peatio.private(keys, "GET", f"/market/orders/{filled.body['id']}")
    assert shown.body["state"] == "done" and shown.body["avg_price"] == "3000.03"

    missing = await peatio.private(keys, "POST", "/market/orders/999999/cancel")
    assert (missing.status, missing.body) == (404, {"errors": ["record.not_found"]})
    someone_elses = peatio.venue.book("ETH/USDT")[0][0].id  # a market maker's bid
    foreign = await peatio.private(keys, "GET", f"/market/orders/{someone_elses}")
    assert (foreign.status, foreign.body) == (404, {"errors": ["record.not_found"]})
    garbage = await peatio.private(keys, "GET", "/market/orders/not-an-id")
    assert (garbage.status, garbage.body) == (422, {"errors": ["market.order.invaild_id_or_uuid"]})


async def test_cancel_all_answers_open_orders_and_cancels_them(peatio: Peatio) -> None:
    keys, engine = peatio.keys(), peatio.venue.engine
    placed = []
    for market, side, price in (("ethusdt", "buy", "2900"), ("ethusdt", "buy", "2901"),
                                ("ethusdt", "sell", "3100"), ("btcusdt", "buy", "50000")):
        answer = await peatio.private(keys, "POST", "/market/orders", json={
            "market": market, "side": side, "volume": "0.01", "price": price})
        placed.append(answer.body["id"])
    cancelled = await peatio.private(keys, "POST", "/market/orders/cancel", data={"market": "ethusdt", "side": "buy"})
    assert cancelled.status == 201
    assert sorted(o["id"] for o in cancelled.body) == placed[:2]
    assert {o["state"] for o in cancelled.body} == {"wait"}
    assert [engine.order("demo", i).status for i in placed] == ["canceled", "canceled", "open", "open"]
    rest = await peatio.private(keys, "POST", "/market/orders/cancel")
    assert sorted(o["id"] for o in rest.body) == placed[2:]


async def test_orders_list_filters_sorting_and_pagination(peatio: Peatio) -> None:
    keys = peatio.keys()
    ids = []
    for side, price in (("buy", "2900"), ("sell", "3100"), ("buy", "2901")):
        answer = await peatio.private(keys, "POST", "/market/orders", json={
            "market": "ethusdt", "side": side, "volume": "0.01", "price": price})
        ids.append(answer.body["id"])
    page = await peatio.private(keys, "GET", "/market/orders", params={"limit": 2, "page": 2, "order_by": "asc"})
    assert (page.headers["Total"], page.headers["Per-Page"], page.headers["Page"]) == ("3", "2", "2")
    assert [o["id"] for o in page.body] == [ids[2]]
    newest_first = await peatio.private(keys, "GET", "/market/orders")
    assert [o["id"] for o in newest_first.body] == ids[::-1]

    await peatio.private(keys, "POST", f"/market/orders/{ids[0]}/cancel")
    both = await peatio.private(keys, "GET", "/market/orders?state[]=wait&state[]=cancel&type=buy")
    assert sorted(o["id"] for o in both.body) == [ids[0], ids[2]]
    sells = await peatio.private(keys, "GET", "/market/orders", params={"type": "sell", "ord_type": "limit"})
    assert [o["id"] for o in sells.body] == [ids[1]]
    bad_state = await peatio.private(keys, "GET", "/market/orders", params={"state": "open"})
    assert (bad_state.status, bad_state.body) == (422, {"errors": ["market.order.invalid_state"]})


async def test_order_validation_errors(peatio: Peatio) -> None:
    keys = peatio.keys()
    cases = [
        ({"market": "ethusdt", "side": "buy", "volume": "0.000001", "price": "2900"},
         "market.order.invalid_volume_or_price"),  # 6 decimals, ethusdt allows 5
        ({"market": "ethusdt", "side": "buy", "volume": "0.1", "price": "2900.001"},
         "market.order.invalid_volume_or_price"),  # price precision 2
        ({"market": "ethbtc", "side": "buy", "volume": "0.0005", "price": "0.05"},
         "market.order.invalid_volume_or_price"),  # below min_amount 0.001
        ({"market": "ethusdt", "side": "buy", "volume": "0.1", "ord_type": "market", "price": "2900"},
         "market.order.market_order_price"),
        ({"market": "ethusdt", "side": "buy", "volume": "0.1"}, "market.order.missing_price"),
        ({"market": "dogeusdt", "side": "buy", "volume": "0.1", "price": "1"}, "market.market.doesnt_exist"),
        ({"market": "ethusdt", "side": "hold", "volume": "0.1", "price": "1"}, "market.order.invalid_side"),
        ({"market": "ethusdt", "side": "buy", "volume": "-1", "price": "1"}, "market.order.non_positive_volume"),
        ({"market": "ethusdt", "side": "buy", "volume": "1000", "ord_type": "market"},
         "market.order.insufficient_market_liquidity"),  # far more than the seeded asks hold
    ]
    for number, (body, code) in enumerate(cases):
        answer = await peatio.private(keys, "POST", "/market/orders", json=body)
        assert (answer.status, answer.body) == (422, {"errors": [code]}), number


async def test_insufficient_balance_is_422(peatio: Peatio) -> None:
    poor = peatio.keys("poor", 1)
    peatio.venue.fund("poor", {"USDT": Decimal("10")})
    answer = await peatio.private(poor, "POST", "/market/orders", json={
        "market": "ethusdt", "side": "buy", "volume": "0.01", "price": "2900"})
    assert (answer.status, answer.body) == (422, {"errors": ["market.account.insufficient_balance"]})
    assert peatio.venue.engine.orders("poor") == []


async def test_market_order_fills_against_the_book(peatio: Peatio) -> None:
    keys = peatio.keys()
    answer = await peatio.private(keys, "POST", "/market/orders", json={
        "market": "ethusdt", "side": "sell", "volume": "0.0002", "ord_type": "market"})
    assert answer.status == 201 and answer.body["state"] == "pending" and answer.body["price"] is None
    shown = (await peatio.private(keys, "GET", f"/market/orders/{answer.body['id']}")).body
    assert (shown["state"], shown["executed_volume"], shown["ord_type"]) == ("done", "0.0002", "market")


# -- limits and faults ----------------------------------------------------------------------


async def test_private_rate_limit_is_429_per_key(peatio: Peatio) -> None:
    key = peatio.keys("demo", 1)
    statuses = [(await peatio.private(key, "GET", "/account/balances/eth")) for _ in range(11)]
    assert [a.status for a in statuses[:10]] == [200] * 10
    assert (statuses[10].status, statuses[10].body) == (429, {"errors": ["too_many_requests"]})
    other_key = await peatio.private(peatio.keys("demo", 1), "GET", "/account/balances/eth")
    assert other_key.status == 200


async def test_public_rate_limit_is_429_per_ip(peatio: Peatio) -> None:
    answers = [await peatio.public("/public/timestamp") for _ in range(21)]
    assert {a.status for a in answers[:20]} == {200}
    assert (answers[20].status, answers[20].body) == (429, {"errors": ["too_many_requests"]})
    assert int(answers[20].headers["Retry-After"]) >= 1


async def test_error_after_fault_places_the_order_but_answers_5xx(peatio: Peatio) -> None:
    keys, venue = peatio.keys(), peatio.venue
    with venue.inject(error_after=1.0, methods={"POST"}):
        answer = await peatio.private(keys, "POST", "/market/orders", json={
            "market": "btcusdt", "side": "buy", "volume": "0.001", "price": "50000"})
    assert answer.status >= 500 and answer.body == {"errors": ["server.internal_error"]}
    [order] = venue.engine.orders("demo", "BTC/USDT")
    assert (order.status, order.price, order.amount) == ("open", Decimal("50000"), Decimal("0.001"))
    listed = await peatio.private(keys, "GET", "/market/orders", params={"market": "btcusdt"})
    assert [o["id"] for o in listed.body] == [order.id]
