"""The BTC-Alpha sandbox app against ``specs/btcalpha.md``: shapes, auth, trading, limits, faults.

Requests are signed here from the spec's algorithm; private calls are paced to the
documented 2 calls per second per account, as a real client must.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from sandbox import Sandbox, Venue
from sandbox.exchanges.btcalpha import expected_signature, signing_message

MONEY = re.compile(r"^-?\d+\.\d{8,}$")


def sign(key: str, secret: str, data: Mapping[str, str]) -> str:
    """The spec's X-SIGN: hex HMAC-SHA256(secret, key + urlencode(sorted POST data))."""
    message = key + urlencode(sorted(data.items(), key=lambda item: item[0]))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def assert_money(value: Any) -> Decimal:
    """A decimal string with at least 8 places, as the live server answers."""
    assert isinstance(value, str) and MONEY.match(value), value
    return Decimal(value)


def assert_float_seconds(value: Any) -> None:
    """A JSON number of epoch seconds with microseconds, close to now."""
    assert isinstance(value, Decimal) and value.as_tuple().exponent == -6, value
    assert abs(float(value) - time.time()) < 60


@dataclass
class Reply:
    status: int
    body: Any


class BtcAlphaClient:
    """One API key's client: signs per the spec, strictly increasing ms nonces, ≤2 private calls/s."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, key: str, secret: str) -> None:
        self.session = session
        self.base_url = base_url
        self.key = key
        self.secret = secret
        self.last_nonce = int(time.time() * 1000)
        self._answered: deque[float] = deque(maxlen=2)

    def next_nonce(self) -> int:
        self.last_nonce += 1
        return self.last_nonce

    def headers(
        self, data: Mapping[str, str], *, nonce: int | None = None, secret: str | None = None
    ) -> dict[str, str]:
        return {
            "X-KEY": self.key,
            "X-SIGN": sign(self.key, secret or self.secret, data),
            "X-NONCE": str(self.next_nonce() if nonce is None else nonce),
        }

    async def public(self, path: str, **params: object) -> Reply:
        return await self.send("GET", path, params=params)

    async def get(self, path: str, **params: object) -> Reply:
        """A signed GET: the query filters are not signed (data = {})."""
        await self._pace()
        return await self.send("GET", path, params=params, headers=self.headers({}))

    async def post(self, path: str, data: Mapping[str, str]) -> Reply:
        """A signed form POST whose body is exactly the signed encoding."""
        await self._pace()
        return await self.send(
            "POST", path, body=urlencode(sorted(data.items())), headers=self.headers(data),
            content_type="application/x-www-form-urlencoded",
        )

    async def send(
        self, method: str, path: str, *, params: Mapping[str, object] | None = None, body: str | None = None,
        headers: Mapping[str, str] | None = None, content_type: str | None = None,
    ) -> Reply:
        all_headers = dict(headers or {})
        if content_type is not None:
            all_headers["Content-Type"] = content_type
        query = {k: str(v) for k, v in (params or {}).items()}
        async with self.session.request(
            method, self.base_url + path, params=query, data=body, headers=all_headers
        ) as response:
            text = await response.text()
        self._answered.append(time.monotonic())
        return Reply(response.status, json.loads(text, parse_float=Decimal))

    async def _pace(self) -> None:
        if len(self._answered) == self._answered.maxlen:
            await asyncio.sleep(max(0.0, self._answered[0] + 1.02 - time.monotonic()))


@dataclass
class Harness:
    sb: Sandbox
    venue: Venue
    session: aiohttp.ClientSession
    demo: BtcAlphaClient

    def client(self, account: str, funds: Mapping[str, str]) -> BtcAlphaClient:
        api_key = self.venue.add_key(account)
        self.venue.fund(account, {currency: Decimal(amount) for currency, amount in funds.items()})
        return BtcAlphaClient(self.session, self.sb.url("btcalpha"), api_key.key, api_key.secret)


@pytest.fixture
async def harness(start_sandbox) -> AsyncIterator[Harness]:
    sb = await start_sandbox("btcalpha")
    key, secret = sb.credentials("btcalpha")
    async with aiohttp.ClientSession() as session:
        yield Harness(sb, sb.venue("btcalpha"), session, BtcAlphaClient(session, sb.url("btcalpha"), key, secret))


def make_trades(venue: Venue) -> None:
    """Cross the seeded BTC_USD asks from the demo account straight in the engine."""
    venue.engine.place_order("demo", "BTC/USD", "buy", Decimal("0.01"), Decimal("911.530"))


# -- signing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message", "signature"),
    [
        ({}, "mykey", "4e31b43db68a89db0c4aebe7da128b6e395463ce4fbd381b9087949bb350a6d0"),
        (
            {"type": "buy", "pair": "BTC_USD", "amount": "1.0", "price": "870.69"},
            "mykeyamount=1.0&pair=BTC_USD&price=870.69&type=buy",
            "58b2acb854e3af1dc5c94ca70ee36bdf83d105472d0e3efbeaf9362f3b3e0d89",
        ),
        ({"order": "63568"}, "mykeyorder=63568", "5a00a35ca1709a0b8729ed1fd59c5a865426bbe5cc6cf6f0b639407347b8d9eb"),
    ],
    ids=["C1-wallets", "C2-create-order", "C3-cancel"],
)
def test_signature_matches_spec_vectors(data: dict[str, str], message: str, signature: str) -> None:
    assert signing_message("mykey", data) == message
    assert expected_signature("mykey", "mysecret", data) == signature
    assert sign("mykey", "mysecret", data) == signature


# -- public endpoints ------------------------------------------------------------------------------


async def test_currencies_and_pairs_have_documented_shape_and_filters(harness: Harness) -> None:
    currencies = await harness.demo.public("/api/v1/currencies/")
    assert currencies.status == 200
    assert {"sign": "Ƀ", "short_name": "BTC"} in currencies.body

    pairs = await harness.demo.public("/api/v1/pairs/")
    assert [p["name"] for p in pairs.body] == ["BTC_USD", "ETH_BTC", "ETH_USD"]
    btc_usd = pairs.body[0]
    assert btc_usd["currency1"] == "BTC" and btc_usd["currency2"] == "USD"
    assert btc_usd["price_precision"] == 3 and btc_usd["amount_precision"] == 6
    assert assert_money(btc_usd["minimum_order_size"]) == Decimal("0.0001")
    assert_money(btc_usd["maximum_order_size"])

    eth_quoted = await harness.demo.public("/api/v1/pairs/", currency2="BTC")
    assert [p["name"] for p in eth_quoted.body] == ["ETH_BTC"]
    eth_based = await harness.demo.public("/api/v1/pairs/", currency1="ETH", currency2="USD")
    assert [p["name"] for p in eth_based.body] == ["ETH_USD"]


async def test_ticker_lists_every_pair_or_one_object_with_string_values(harness: Harness) -> None:
    make_trades(harness.venue)
    every = await harness.demo.public("/api/v1/ticker/")
    assert [t["pair"] for t in every.body] == ["BTC_USD", "ETH_BTC", "ETH_USD"]

    one = await harness.demo.public("/api/v1/ticker/", pair="BTC_USD")
    assert one.status == 200 and isinstance(one.body, dict)
    assert_float_seconds(one.body["timestamp"])
    values = {name: assert_money(one.body[name]) for name in ("last", "diff", "vol", "high", "low", "buy", "sell")}
    bids, asks = harness.venue.engine.levels("BTC/USD")
    assert values["buy"] == bids[0][0] and values["sell"] == asks[0][0]
    fills = harness.venue.engine.fills(None, "BTC/USD")
    assert values["last"] == fills[0].price
    assert values["diff"] == fills[0].price - fills[-1].price
    assert values["vol"] == sum(f.price * f.amount for f in fills)

    unknown = await harness.demo.public("/api/v1/ticker/", pair="DOGE_USD")
    assert unknown.status == 400 and "error" in unknown.body


async def test_orderbook_path_form_gives_sell_and_buy_sides_best_first(harness: Harness) -> None:
    reply = await harness.demo.public("/api/v1/orderbook/BTC_USD/")
    assert reply.status == 200 and set(reply.body) == {"sell", "buy"}
    bids, asks = harness.venue.book("BTC/USD")
    assert [row["id"] for row in reply.body["sell"]] == [o.id for o in asks]
    assert [row["id"] for row in reply.body["buy"]] == [o.id for o in bids]
    first_ask = reply.body["sell"][0]
    assert assert_money(first_ask["price"]) == asks[0].price
    assert assert_money(first_ask["amount"]) == asks[0].remaining
    assert_float_seconds(first_ask["timestamp"])

    limited = await harness.demo.public("/api/v1/orderbook/BTC_USD/", limit_sell=2, limit_buy=3)
    assert (len(limited.body["sell"]), len(limited.body["buy"])) == (2, 3)

    grouped = await harness.demo.public("/api/v1/orderbook/BTC_USD/", group=1)
    bid_levels, ask_levels = harness.venue.engine.levels("BTC/USD")
    assert [(Decimal(r["price"]), Decimal(r["amount"])) for r in grouped.body["sell"]] == ask_levels
    assert [(Decimal(r["price"]), Decimal(r["amount"])) for r in grouped.body["buy"]] == bid_levels
    assert set(grouped.body["buy"][0]) == {"price", "amount"}

    unknown = await harness.demo.public("/api/v1/orderbook/NOPE_USD/")
    assert unknown.status == 404 and "error" in unknown.body


async def test_orderbook_query_form_labels_sell_orders_bids_as_the_seed_does(harness: Harness) -> None:
    reply = await harness.demo.public("/api/v1/orderbook/", pair="BTC_USD", limit_bids=1, limit_asks=2)
    assert reply.status == 200 and set(reply.body) == {"bids", "asks"}
    bids, asks = harness.venue.book("BTC/USD")
    (sell,) = reply.body["bids"]
    assert set(sell) == {"id", "price", "amount", "timestamp"}
    assert sell["id"] == asks[0].id and Decimal(sell["price"]) == asks[0].price
    assert [row["id"] for row in reply.body["asks"]] == [o.id for o in bids[:2]]
    assert Decimal(reply.body["bids"][0]["price"]) > Decimal(reply.body["asks"][0]["price"])
    assert_float_seconds(sell["timestamp"])

    default = await harness.demo.public("/api/v1/orderbook/", pair="BTC_USD")
    assert len(default.body["bids"]) == len(asks) and len(default.body["asks"]) == len(bids)

    missing_pair = await harness.demo.public("/api/v1/orderbook/")
    assert missing_pair.status == 400 and "error" in missing_pair.body


async def test_public_trades_are_newest_first_with_ordering_offset_and_limit(harness: Harness) -> None:
    make_trades(harness.venue)
    fills = harness.venue.engine.fills(None, "BTC/USD")
    assert len(fills) >= 3

    reply = await harness.demo.public("/api/v1/exchanges/", pair="BTC_USD")
    assert reply.status == 200
    assert [row["id"] for row in reply.body] == [f.id for f in fills]
    row = reply.body[0]
    assert set(row) == {"id", "timestamp", "pair", "price", "amount", "type"}
    assert row["pair"] == "BTC_USD" and row["type"] == "buy"
    assert assert_money(row["price"]) == fills[0].price and assert_money(row["amount"]) == fills[0].amount
    assert_float_seconds(row["timestamp"])

    oldest_first = await harness.demo.public("/api/v1/exchanges/", ordering="id", offset=1, limit=1)
    assert [r["id"] for r in oldest_first.body] == [fills[-2].id]
    other_pair = await harness.demo.public("/api/v1/exchanges/", pair="ETH_USD")
    assert other_pair.body == []


async def test_charts_serve_candles_newest_first_as_json_numbers(harness: Harness) -> None:
    make_trades(harness.venue)
    fills = harness.venue.engine.fills(None, "BTC/USD")
    reply = await harness.demo.public("/api/charts/BTC_USD/1/chart", limit=720)
    assert reply.status == 200 and reply.body
    candle = reply.body[0]
    assert isinstance(candle["time"], int) and candle["time"] == fills[0].timestamp_ms // 60_000 * 60
    assert all(isinstance(candle[k], Decimal) for k in ("open", "high", "low", "close", "volume"))
    assert candle["volume"] == sum(f.amount for f in fills if f.timestamp_ms // 60_000 * 60 == candle["time"])
    assert [c["time"] for c in reply.body] == sorted((c["time"] for c in reply.body), reverse=True)

    with_slash = await harness.demo.public("/api/charts/BTC_USD/D/chart/")
    assert with_slash.status == 200 and len(with_slash.body) == 1
    future = await harness.demo.public("/api/charts/BTC_USD/5/chart", since=int(time.time()) + 3600)
    assert future.body == []
    bad_type = await harness.demo.public("/api/charts/BTC_USD/7/chart")
    assert bad_type.status == 404 and "error" in bad_type.body


async def test_public_order_list_shows_resting_orders_with_filters(harness: Harness) -> None:
    reply = await harness.demo.public("/api/v1/orders/", pair="BTC_USD", type="sell", limit=3)
    assert reply.status == 200 and len(reply.body) == 3
    ask_ids = {o.id for o in harness.venue.book("BTC/USD")[1]}
    for row in reply.body:
        assert set(row) == {"id", "pair", "type", "price", "amount", "status"}
        assert row["id"] in ask_ids and row["type"] == "sell" and row["status"] == 1
        assert_money(row["price"]), assert_money(row["amount"])
    done = await harness.demo.public("/api/v1/orders/", status=3)
    assert done.body == []


async def test_unknown_path_and_wrong_method_answer_json_errors(harness: Harness) -> None:
    missing = await harness.demo.public("/api/v1/nothing-here/")
    assert missing.status == 404 and "error" in missing.body
    wrong_method = await harness.demo.send("POST", "/api/v1/currencies/")
    assert wrong_method.status == 405 and "error" in wrong_method.body


# -- private endpoints -----------------------------------------------------------------------------


async def test_wallets_balance_is_total_and_reserve_is_locked(harness: Harness) -> None:
    harness.venue.engine.place_order("demo", "BTC/USD", "sell", Decimal("0.25"), Decimal("950.000"))
    reply = await harness.demo.get("/api/v1/wallets/")
    assert reply.status == 200
    btc = next(row for row in reply.body if row["currency"] == "BTC")
    assert assert_money(btc["balance"]) == Decimal(1_000_000)
    assert assert_money(btc["reserve"]) == Decimal("0.25")

    only_eth = await harness.demo.get("/api/v1/wallets/", currency_id="ETH")
    assert [row["currency"] for row in only_eth.body] == ["ETH"]


async def test_limit_order_rests_in_book_and_open_orders(harness: Harness) -> None:
    placed = await harness.demo.post(
        "/api/v1/order/", {"type": "buy", "pair": "BTC_USD", "amount": "0.125", "price": "900.000"}
    )
    assert placed.status == 200
    body = placed.body
    assert body["success"] is True and body["type"] == "buy" and body["trades"] == []
    assert assert_money(body["amount"]) == Decimal("0.125") and assert_money(body["price"]) == Decimal(900)
    assert_float_seconds(body["date"])
    oid = body["oid"]
    assert isinstance(oid, int) and oid in {o.id for o in harness.venue.book("BTC/USD")[0]}

    open_orders = await harness.demo.get("/api/v1/orders/own/", status=1, pair="BTC_USD")
    assert open_orders.body == [
        {"id": oid, "pair": "BTC_USD", "type": "buy", "price": "900.00000000", "amount": "0.12500000", "status": 1}
    ]
    sells = await harness.demo.get("/api/v1/orders/own/", type="sell")
    assert sells.body == []

    single = await harness.demo.get(f"/api/v1/order/{oid}/")
    assert single.status == 200
    assert isinstance(single.body["date"], int) and abs(single.body["date"] - time.time() * 1000) < 60_000
    assert single.body["status"] == "1" and single.body["trades"] == []
    assert assert_money(single.body["amount_original"]) == Decimal("0.125")
    assert assert_money(single.body["amount_filled"]) == 0

    book = await harness.demo.public("/api/v1/orderbook/BTC_USD/")
    assert oid in [row["id"] for row in book.body["buy"]]


async def test_crossing_order_moves_balances_by_exactly_the_filled_amounts(harness: Harness) -> None:
    engine = harness.venue.engine
    taker = harness.client("taker", {"USD": "10000"})
    before = engine.balances("demo")

    placed = await harness.demo.post(
        "/api/v1/order/", {"type": "sell", "pair": "BTC_USD", "amount": "0.5", "price": "911.500"}
    )
    oid = placed.body["oid"]
    crossed = await taker.post(
        "/api/v1/order/", {"type": "buy", "pair": "BTC_USD", "amount": "0.2", "price": "911.500"}
    )
    assert crossed.status == 200
    assert crossed.body["amount"] == "0.00000000"
    (trade,) = crossed.body["trades"]
    assert trade["o_id"] == oid and trade["type"] == "sell"
    assert trade["price"] == "911.50000000" and trade["amount"] == "0.20000000"
    assert isinstance(trade["tid"], int)

    cost = Decimal("911.5") * Decimal("0.2")
    fee = Decimal("0.002")
    after = engine.balances("demo")
    assert after["BTC"].available == before["BTC"].available - Decimal("0.5")
    assert after["BTC"].locked == Decimal("0.3")
    assert after["USD"].available == before["USD"].available + cost - cost * fee
    taker_balances = engine.balances("taker")
    assert taker_balances["BTC"].available == Decimal("0.2") - Decimal("0.2") * fee
    assert taker_balances["USD"].available == Decimal(10_000) - cost

    wallets = {row["currency"]: row for row in (await harness.demo.get("/api/v1/wallets/")).body}
    assert Decimal(wallets["BTC"]["balance"]) == before["BTC"].available - Decimal("0.2")
    assert Decimal(wallets["BTC"]["reserve"]) == Decimal("0.3")

    single = await harness.demo.get(f"/api/v1/order/{oid}/")
    assert single.body["status"] == "1"
    assert (single.body["amount"], single.body["amount_filled"], single.body["amount_original"]) == (
        "0.30000000", "0.20000000", "0.50000000",
    )
    assert [t["o_id"] for t in single.body["trades"]] == [crossed.body["oid"]]
    assert single.body["trades"][0]["type"] == "buy"

    mine = await harness.demo.get("/api/v1/exchanges/own/", pair="BTC_USD")
    (row,) = mine.body
    assert row["my_side"] == "sell" and row["type"] == "buy" and row["amount"] == "0.20000000"
    assert_float_seconds(row["timestamp"])
    theirs = await taker.get("/api/v1/exchanges/own/", type="sell")
    assert theirs.body == []


async def test_cancel_releases_funds_and_cannot_repeat(harness: Harness) -> None:
    engine = harness.venue.engine
    before = engine.balances("demo")["USD"]
    placed = await harness.demo.post(
        "/api/v1/order/", {"type": "buy", "pair": "BTC_USD", "amount": "1", "price": "800.000"}
    )
    oid = placed.body["oid"]
    assert engine.balances("demo")["USD"].locked == before.locked + 800

    canceled = await harness.demo.post("/api/v1/order-cancel/", {"order": str(oid)})
    assert canceled.status == 200 and canceled.body == {"order": oid}
    assert engine.balances("demo")["USD"] == before
    assert oid not in {o.id for o in harness.venue.book("BTC/USD")[0]}

    listed = await harness.demo.get("/api/v1/orders/own/", status=2)
    assert [row["id"] for row in listed.body] == [oid]

    again = await harness.demo.post("/api/v1/order-cancel/", {"order": str(oid)})
    assert again.status == 400 and "error" in again.body


async def test_unknown_or_foreign_order_is_not_found(harness: Harness) -> None:
    maker_order = harness.venue.book("BTC/USD")[0][0]  # belongs to the market maker
    cancel_unknown = await harness.demo.post("/api/v1/order-cancel/", {"order": "999999"})
    assert cancel_unknown.status == 404 and cancel_unknown.body == {"error": "Order not found"}
    foreign = await harness.demo.get(f"/api/v1/order/{maker_order.id}/")
    assert foreign.status == 404 and foreign.body == {"error": "Order not found"}
    cancel_foreign = await harness.demo.post("/api/v1/order-cancel/", {"order": str(maker_order.id)})
    assert cancel_foreign.status == 404
    assert maker_order.status == "open"


async def test_insufficient_balance_is_out_of_balance_400(harness: Harness) -> None:
    poor = harness.client("poor", {"USD": "10"})
    reply = await poor.post("/api/v1/order/", {"type": "buy", "pair": "BTC_USD", "amount": "1", "price": "911.500"})
    assert reply.status == 400
    assert reply.body["error"] == "Out of balance -901.50000000 USD"
    assert_float_seconds(reply.body["date"])
    assert harness.venue.engine.orders("poor") == []


@pytest.mark.parametrize(
    "data",
    [
        {"type": "buy", "pair": "BTC_USD", "amount": "0.1", "price": "900.1234"},  # price precision 3
        {"type": "buy", "pair": "BTC_USD", "amount": "0.1234567", "price": "900"},  # amount precision 6
        {"type": "buy", "pair": "BTC_USD", "amount": "0.00005", "price": "900"},  # below min 0.0001
        {"type": "buy", "pair": "DOGE_USD", "amount": "1", "price": "900"},
        {"type": "buy", "pair": "BTC_USD", "amount": "1"},
        {"type": "hold", "pair": "BTC_USD", "amount": "1", "price": "900"},
    ],
    ids=["price-precision", "amount-precision", "min-amount", "unknown-pair", "missing-price", "bad-type"],
)
async def test_invalid_order_is_rejected_400_and_not_placed(harness: Harness, data: dict[str, str]) -> None:
    reply = await harness.demo.post("/api/v1/order/", data)
    assert reply.status == 400 and isinstance(reply.body["error"], str)
    assert harness.venue.engine.orders("demo") == []


async def test_json_body_is_signed_over_its_fields(harness: Harness) -> None:
    data = {"type": "sell", "pair": "ETH_USD", "amount": "0.01", "price": "11.000"}
    reply = await harness.demo.send(
        "POST", "/api/v1/order/", body=json.dumps(data), headers=harness.demo.headers(data),
        content_type="application/json",
    )
    assert reply.status == 200 and reply.body["success"] is True


async def test_deposits_and_withdrawals_have_documented_shape_and_filters(harness: Harness) -> None:
    harness.venue.engine.withdraw("demo", "BTC", Decimal("0.53"), "1BoatSLRHtKNngkdXEeobR76b53LETtpyT")
    deposits = await harness.demo.get("/api/v1/deposits/")
    assert {row["currency"] for row in deposits.body} == {"BTC", "ETH", "USD"}
    deposit = deposits.body[0]
    assert set(deposit) == {"id", "timestamp", "currency", "amount"}
    assert assert_money(deposit["amount"]) == Decimal(1_000_000)
    assert_float_seconds(deposit["timestamp"])

    withdrawals = await harness.demo.get("/api/v1/withdraws/", currency_id="BTC")
    (withdrawal,) = withdrawals.body
    assert withdrawal["status"] == 20 and withdrawal["amount"] == "0.53000000"
    assert_float_seconds(withdrawal["timestamp"])
    approved = await harness.demo.get("/api/v1/withdraws/", status=30)
    assert approved.body == []


# -- authentication, limits, faults ----------------------------------------------------------------


async def test_missing_unknown_or_wrong_credentials_answer_401(harness: Harness) -> None:
    demo = harness.demo
    no_headers = await demo.send("GET", "/api/v1/wallets/")
    assert no_headers.status == 401 and "error" in no_headers.body

    unknown = await demo.send("GET", "/api/v1/wallets/", headers={**demo.headers({}), "X-KEY": "nobody"})
    assert unknown.status == 401 and unknown.body == {"error": "Invalid API key"}

    wrong_secret = await demo.send("GET", "/api/v1/wallets/", headers=demo.headers({}, secret="not-the-secret"))
    assert wrong_secret.status == 401 and wrong_secret.body == {"error": "Invalid signature"}

    signed = {"type": "buy", "pair": "BTC_USD", "amount": "0.1", "price": "900.000"}
    tampered = await demo.send(
        "POST", "/api/v1/order/", body=urlencode({**signed, "amount": "10"}), headers=demo.headers(signed),
        content_type="application/x-www-form-urlencoded",
    )
    assert tampered.status == 401 and tampered.body == {"error": "Invalid signature"}
    assert harness.venue.engine.orders("demo") == []


async def test_reused_or_lower_nonce_is_rejected_but_bad_signature_does_not_burn_it(harness: Harness) -> None:
    demo = harness.demo
    nonce = demo.next_nonce()
    bad = await demo.send("GET", "/api/v1/wallets/", headers=demo.headers({}, nonce=nonce, secret="wrong"))
    assert bad.status == 401 and bad.body == {"error": "Invalid signature"}
    first = await demo.send("GET", "/api/v1/wallets/", headers=demo.headers({}, nonce=nonce))
    assert first.status == 200

    await asyncio.sleep(1.05)  # stay within 2 private calls per second
    reused = await demo.send("GET", "/api/v1/wallets/", headers=demo.headers({}, nonce=nonce))
    assert reused.status == 401 and reused.body == {"error": "Invalid nonce"}
    lower = await demo.send("GET", "/api/v1/wallets/", headers=demo.headers({}, nonce=nonce - 1000))
    assert lower.status == 401 and lower.body == {"error": "Invalid nonce"}
    assert harness.venue.nonce_memory[demo.key] == nonce


async def test_third_private_call_within_a_second_is_429(harness: Harness) -> None:
    demo = harness.demo
    statuses = []
    for _ in range(3):
        reply = await demo.send("GET", "/api/v1/wallets/", headers=demo.headers({}))
        statuses.append(reply.status)
    assert statuses == [200, 200, 429]
    assert reply.body == {"error": "Too many requests"}
    other_account = harness.client("other", {})
    assert (await other_account.get("/api/v1/wallets/")).status == 200


async def test_public_calls_beyond_100_per_second_are_429(harness: Harness) -> None:
    replies = await asyncio.gather(*(harness.demo.public("/api/v1/currencies/") for _ in range(110)))
    statuses = [r.status for r in replies]
    assert set(statuses) == {200, 429} and statuses.count(200) <= 100
    assert next(r.body for r in replies if r.status == 429) == {"error": "Too many requests"}


async def test_error_after_fault_places_the_order_but_answers_5xx(harness: Harness) -> None:
    with harness.venue.inject(error_after=1.0, methods={"POST"}):
        reply = await harness.demo.post(
            "/api/v1/order/", {"type": "buy", "pair": "BTC_USD", "amount": "0.3", "price": "850.000"}
        )
        book = await harness.demo.public("/api/v1/orderbook/BTC_USD/")
    assert reply.status >= 500 and "error" in reply.body
    assert book.status == 200
    (order,) = harness.venue.engine.orders("demo", "BTC/USD", open_only=True)
    assert (order.side, order.amount, order.price) == ("buy", Decimal("0.3"), Decimal(850))
