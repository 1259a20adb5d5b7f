"""The CoinDCX sandbox app against specs/coindcx.md: paths, shapes, auth, orders, limits, faults."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any

import aiohttp
import msgspec
import pytest

from sandbox import Sandbox, Venue
from sandbox.exchanges.coindcx import expected_signature

# compact JSON in insertion order with Decimal parameters as exact JSON numbers, like json.dumps(..., separators=(",", ":"))
ENCODER = msgspec.json.Encoder(decimal_format="number")
SUCCESS = {"message": "success", "status": 200, "code": 200}
ORDER_FIELDS = {
    "id", "client_order_id", "market", "order_type", "side", "status", "fee_amount", "fee",
    "total_quantity", "remaining_quantity", "avg_price", "price_per_unit", "created_at", "updated_at",
}
ORDER_NUMBERS = ("fee_amount", "fee", "total_quantity", "remaining_quantity", "avg_price", "price_per_unit")


def sign(secret: str, body: bytes) -> str:
    """The spec's algorithm: lower-case hex HMAC-SHA256 of the exact body bytes."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def decode(text: str) -> Any:
    return json.loads(text, parse_float=D)


def is_number(value: object) -> bool:
    return isinstance(value, (int, D)) and not isinstance(value, bool)


def error(status: int, message: str) -> dict[str, object]:
    return {"code": status, "message": message, "status": "error"}


class Client:
    """Signs CoinDCX private calls as the spec says; timestamps strictly increase per client."""

    def __init__(self, session: aiohttp.ClientSession, url: str, key: str, secret: str) -> None:
        self.session, self.url, self.key, self.secret = session, url, key, secret
        self._last_ms = 0

    def timestamp(self) -> int:
        self._last_ms = max(int(time.time() * 1000), self._last_ms + 1)
        return self._last_ms

    def body(self, params: dict[str, Any] | None = None) -> bytes:
        return ENCODER.encode({**(params or {}), "timestamp": self.timestamp()})

    async def send(self, path: str, raw: bytes, *, key: str | None = None, signature: str | None = None) -> tuple[int, Any]:
        headers = {
            "X-AUTH-APIKEY": self.key if key is None else key,
            "X-AUTH-SIGNATURE": sign(self.secret, raw) if signature is None else signature,
            "Content-Type": "application/json",
        }
        async with self.session.post(self.url + path, data=raw, headers=headers) as response:
            return response.status, decode(await response.text())

    async def post(self, endpoint: str, params: dict[str, Any] | None = None) -> tuple[int, Any]:
        return await self.send(f"/exchange/v1/{endpoint}", self.body(params))

    async def ok(self, endpoint: str, params: dict[str, Any] | None = None) -> Any:
        status, payload = await self.post(endpoint, params)
        assert status == 200, payload
        return payload

    async def get(self, path: str, **query: Any) -> tuple[int, Any]:
        async with self.session.get(self.url + path, params=query) as response:
            return response.status, decode(await response.text())


@pytest.fixture
async def sb(start_sandbox: Any) -> Sandbox:
    return await start_sandbox("coindcx")


@pytest.fixture
def venue(sb: Sandbox) -> Venue:
    return sb.venue("coindcx")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def demo(sb: Sandbox, session: aiohttp.ClientSession) -> Client:
    key, secret = sb.credentials("coindcx")
    return Client(session, sb.url("coindcx"), key, secret)


@pytest.fixture
def taker(sb: Sandbox, venue: Venue, session: aiohttp.ClientSession) -> Client:
    api_key = venue.add_key("taker")
    venue.fund("taker", {"BTC": D("10"), "INR": D("10000000"), "ETH": D("100")})
    return Client(session, sb.url("coindcx"), api_key.key, api_key.secret)


@pytest.fixture
def empty_books(venue: Venue) -> None:
    """Take the market maker's seeded orders off so crossings are deterministic."""
    venue.engine.cancel_all("maker")


def limit_order(side: str, quantity: str, price: str, market: str = "BTCINR", **extra: Any) -> dict[str, Any]:
    return {"market": market, "side": side, "order_type": "limit_order",
            "price_per_unit": D(price), "total_quantity": D(quantity), **extra}


async def place(client: Client, params: dict[str, Any]) -> dict[str, Any]:
    payload = await client.ok("orders/create", params)
    (order,) = payload["orders"]
    return order


def balance(venue: Venue, account: str, currency: str) -> tuple[D, D]:
    entry = venue.balances(account)[currency]
    return entry.available, entry.locked


# -- signing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "signature"), [
    (b'{"timestamp":1524211224000}', "b5ffa0a7a3850f3d00a358302a5fdd7087fdef9f3796994be91ada7841c2e5ae"),
    (b'{"side":"buy","order_type":"limit_order","market":"SNTBTC","price_per_unit":0.03244,'
     b'"total_quantity":400,"timestamp":1524211224000}',
     "122e7615cc422759ad5d72d923e0751f76a1e6bb45f9d9868964664107b49699"),
    (b'{"id":"ead19992-43fd-11e8-b027-bb815bcb14ed","timestamp":1524211224000}',
     "9b7558549fb50fde5541274096a541444948b94c83ea14217746a42d514de022"),
    (b'{"timestamp": 1524211224000}', "6e3439427cf6b061aa837abfbf40d5991d8bb3e0746e6a3f96ba85a07e3b2f34"),
    (b'{"side": "buy", "order_type": "limit_order", "market": "SNTBTC", "price_per_unit": 0.03244, '
     b'"total_quantity": 400, "timestamp": 1524211224000}',
     "273887d9193311dd080bfa0ae5b8ad45008720c88a45067ed4ef9ab6f9102868"),
])
def test_expected_signature_matches_spec_vectors(body: bytes, signature: str) -> None:
    assert expected_signature("secret", body) == signature
    assert sign("secret", body) == signature


# -- public -----------------------------------------------------------------------------------


async def test_ticker_lists_every_market_with_string_values_and_seconds_timestamp(demo: Client, taker: Client) -> None:
    await place(taker, limit_order("buy", "0.001", "5800000.10"))  # trades with the seeded asks
    status, tickers = await demo.get("/exchange/ticker")
    assert status == 200
    assert [t["market"] for t in tickers] == ["BTCINR", "ETHINR", "SNTBTC"]
    btc = tickers[0]
    for name in ("change_24_hour", "high", "low", "volume", "last_price", "bid", "ask"):
        assert isinstance(btc[name], str), name
        D(btc[name])
    assert isinstance(btc["timestamp"], int) and abs(btc["timestamp"] - time.time()) < 5
    assert D(btc["bid"]) < D(btc["ask"])


async def test_markets_lists_symbols(demo: Client) -> None:
    assert await demo.get("/exchange/v1/markets") == (200, ["BTCINR", "ETHINR", "SNTBTC"])


async def test_markets_details_has_documented_fields_and_vocabulary(demo: Client) -> None:
    status, details = await demo.get("/exchange/v1/markets_details")
    assert status == 200
    btc = next(d for d in details if d["symbol"] == "BTCINR")
    assert btc["coindcx_name"] == "BTCINR" and btc["pair"] == "I-BTC_INR" and btc["ecode"] == "I"
    assert btc["target_currency_short_name"] == "BTC" and btc["base_currency_short_name"] == "INR"
    assert btc["target_currency_name"] == "Bitcoin" and btc["base_currency_name"] == "Indian Rupee"
    for name in ("min_quantity", "max_quantity", "min_price", "max_price", "min_notional", "step"):
        assert is_number(btc[name]), name
    assert btc["base_currency_precision"] == 2 and btc["target_currency_precision"] == 5
    assert btc["step"] == D("0.00001") and btc["min_notional"] == 100
    assert set(btc["order_types"]) == {"limit_order", "market_order"}
    assert btc["status"] == "active" and "max_leverage" in btc and "max_leverage_short" in btc
    snt = next(d for d in details if d["symbol"] == "SNTBTC")
    assert snt["pair"] == "B-SNT_BTC" and snt["step"] == 1 and snt["target_currency_precision"] == 0


async def test_public_trades_are_numbers_with_ms_and_buyer_maker_flag(demo: Client, taker: Client) -> None:
    await place(taker, limit_order("buy", "0.001", "5800000.10"))
    await place(taker, limit_order("sell", "0.001", "5799999.90"))
    status, trades = await demo.get("/market_data/trade_history", pair="I-BTC_INR", limit=50)
    assert status == 200 and len(trades) >= 2
    for trade in trades:
        assert set(trade) == {"p", "q", "s", "T", "m"}
        assert is_number(trade["p"]) and is_number(trade["q"]) and trade["s"] == "BTCINR"
        assert isinstance(trade["T"], int) and trade["T"] > 10**12
    assert trades[0]["m"] is True  # newest: the taker sold, so the buyer was the maker
    assert trades[-1]["m"] is False
    assert len((await demo.get("/market_data/trade_history", pair="I-BTC_INR", limit=1))[1]) == 1


async def test_public_trades_default_to_30_and_cap_at_500(demo: Client, taker: Client, venue: Venue) -> None:
    for _ in range(40):
        venue.engine.place_order("taker", "BTC/INR", "buy", D("0.00002"), D("5800000.30"))
    assert len((await demo.get("/market_data/trade_history", pair="I-BTC_INR"))[1]) == 30
    status, trades = await demo.get("/market_data/trade_history", pair="I-BTC_INR", limit=1000)
    assert status == 200 and 30 < len(trades) <= 500


async def test_orderbook_maps_price_strings_to_quantity_strings_like_the_engine(demo: Client, venue: Venue) -> None:
    status, book = await demo.get("/market_data/orderbook", pair="I-BTC_INR")
    assert status == 200 and set(book) == {"timestamp", "asks", "bids"}
    assert isinstance(book["timestamp"], int) and abs(book["timestamp"] / 1000 - time.time()) < 5
    bids, asks = venue.engine.levels("BTC/INR")
    assert {D(p): D(q) for p, q in book["bids"].items()} == dict(bids)
    assert {D(p): D(q) for p, q in book["asks"].items()} == dict(asks)
    price, quantity = next(iter(book["asks"].items()))
    assert isinstance(price, str) and isinstance(quantity, str) and len(price.split(".")[1]) == 2


async def test_public_endpoints_refuse_unknown_pair(demo: Client) -> None:
    for path in ("/market_data/orderbook", "/market_data/trade_history"):
        assert await demo.get(path, pair="BTCINR") == (400, error(400, "Invalid Request."))


async def test_candles_are_newest_first_numbers_with_ms_open_time(demo: Client, taker: Client, venue: Venue) -> None:
    await place(taker, limit_order("buy", "0.001", "5800000.10"))
    status, bars = await demo.get("/market_data/candles", pair="I-BTC_INR", interval="1m")
    assert status == 200 and bars
    bar = bars[0]
    assert set(bar) == {"open", "high", "low", "volume", "close", "time"}
    assert all(is_number(bar[name]) for name in ("open", "high", "low", "volume", "close"))
    assert bar["time"] % 60_000 == 0 and bar["time"] > 10**12
    assert bar["volume"] == sum(f.amount for f in venue.engine.fills(None, "BTC/INR"))  # base currency
    later = bar["time"] + 60_000
    assert (await demo.get("/market_data/candles", pair="I-BTC_INR", interval="1m", startTime=later))[1] == []
    assert (await demo.get("/market_data/candles", pair="I-BTC_INR", interval="7m"))[0] == 400


async def test_candles_are_listed_newest_first(
    start_sandbox: Any, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1_700_000_000_000]
    monkeypatch.setattr("sandbox.engine._wall_clock_ms", lambda: clock[0])  # engines built from now on
    sb = await start_sandbox("coindcx")
    venue = sb.venue("coindcx")
    venue.add_key("taker")
    venue.fund("taker", {"INR": D("10000000")})
    for minute in range(3):
        clock[0] = 1_700_000_000_000 + minute * 60_000
        venue.engine.place_order("taker", "BTC/INR", "buy", D("0.0001"), D("5800000.30"))
    client = Client(session, sb.url("coindcx"), *sb.credentials("coindcx"))
    status, bars = await client.get("/market_data/candles", pair="I-BTC_INR", interval="1m")
    assert status == 200
    first_open = 1_700_000_000_000 - 1_700_000_000_000 % 60_000
    assert [bar["time"] for bar in bars] == [first_open + m * 60_000 for m in (2, 1, 0)]
    assert len((await client.get("/market_data/candles", pair="I-BTC_INR", interval="1m", limit=2))[1]) == 2
    status, since = await client.get(
        "/market_data/candles", pair="I-BTC_INR", interval="1m", startTime=first_open + 60_000, endTime=first_open + 119_999
    )
    assert [bar["time"] for bar in since] == [first_open + 60_000]


# -- account ----------------------------------------------------------------------------------


async def test_balances_are_strings_per_currency(demo: Client) -> None:
    balances = await demo.ok("users/balances")
    inr = next(b for b in balances if b["currency"] == "INR")
    assert inr == {"currency": "INR", "balance": "1000000", "locked_balance": "0"}
    assert {b["currency"] for b in balances} == {"BTC", "ETH", "INR", "SNT"}


async def test_seed_era_paths_answer_like_v1(demo: Client) -> None:
    status, balances = await demo.send("/exchange/users/balances", demo.body())
    assert status == 200 and {b["currency"] for b in balances} == {"BTC", "ETH", "INR", "SNT"}
    status, created = await demo.send("/exchange/orders/create", demo.body(limit_order("buy", "0.001", "5000000")))
    assert status == 200 and created["orders"][0]["status"] == "open"


async def test_user_info_is_a_list_with_profile_fields(demo: Client) -> None:
    (info,) = await demo.ok("users/info")
    assert set(info) == {"coindcx_id", "first_name", "last_name", "mobile_number", "email"}


# -- authentication ---------------------------------------------------------------------------


async def test_wrong_signature_is_invalid_credentials(demo: Client) -> None:
    raw = demo.body()
    assert await demo.send("/exchange/v1/users/balances", raw, signature=sign("not-the-secret", raw)) == (
        401, error(401, "Invalid credentials"))


async def test_signature_covers_the_exact_body_bytes(demo: Client) -> None:
    compact = demo.body()
    spaced = json.dumps(json.loads(compact)).encode()  # same object, other bytes
    assert compact != spaced
    assert (await demo.send("/exchange/v1/users/balances", spaced, signature=sign(demo.secret, compact)))[0] == 401
    assert (await demo.send("/exchange/v1/users/balances", spaced))[0] == 200


async def test_unknown_or_missing_key_is_invalid_credentials(demo: Client) -> None:
    assert await demo.send("/exchange/v1/users/balances", demo.body(), key="nobody") == (
        401, error(401, "Invalid credentials"))
    assert (await demo.send("/exchange/v1/users/balances", demo.body(), key=""))[0] == 401


@pytest.mark.parametrize("offset_ms", [-11_000, 11_000])
async def test_timestamp_outside_ten_seconds_is_invalid_credentials(demo: Client, offset_ms: int) -> None:
    raw = json.dumps({"timestamp": int(time.time() * 1000) + offset_ms}).encode()
    assert await demo.send("/exchange/v1/users/balances", raw) == (401, error(401, "Invalid credentials"))


@pytest.mark.parametrize("timestamp", [None, int(time.time()), "now", 1.5e12])
async def test_missing_seconds_or_non_integer_timestamp_is_invalid_credentials(demo: Client, timestamp: object) -> None:
    raw = json.dumps({} if timestamp is None else {"timestamp": timestamp}).encode()
    assert (await demo.send("/exchange/v1/users/balances", raw))[0] == 401


async def test_reused_signature_is_invalid_credentials(demo: Client) -> None:
    raw = demo.body()
    assert (await demo.send("/exchange/v1/users/balances", raw))[0] == 200
    assert await demo.send("/exchange/v1/users/balances", raw) == (401, error(401, "Invalid credentials"))


async def test_signed_body_that_is_not_a_json_object_is_invalid_request(demo: Client) -> None:
    for raw in (b"timestamp=1", b"[1,2]"):
        assert await demo.send("/exchange/v1/users/balances", raw) == (400, error(400, "Invalid Request."))


# -- orders -----------------------------------------------------------------------------------


def assert_order_shape(order: dict[str, Any]) -> None:
    assert ORDER_FIELDS <= set(order)
    for name in ORDER_NUMBERS:
        assert is_number(order[name]), name
    assert isinstance(order["created_at"], int) and order["created_at"] > 10**12
    assert isinstance(order["updated_at"], int) and order["updated_at"] >= order["created_at"]


async def test_limit_order_rests_in_active_orders_and_engine_book(demo: Client, venue: Venue) -> None:
    order = await place(demo, limit_order("buy", "0.001", "5000000.00", client_order_id="mine-1"))
    assert_order_shape(order)
    assert order["market"] == "BTCINR" and order["order_type"] == "limit_order" and order["side"] == "buy"
    assert order["status"] == "open" and order["client_order_id"] == "mine-1"
    assert order["total_quantity"] == D("0.001") and order["remaining_quantity"] == D("0.001")
    assert order["price_per_unit"] == D("5000000.00") and order["fee"] == D("0.1")
    assert len(order["id"]) == 36

    active = await demo.ok("orders/active_orders", {"market": "BTCINR"})
    assert [o["id"] for o in active["orders"]] == [order["id"]]
    assert (await demo.ok("orders/active_orders", {"market": "BTCINR", "side": "sell"})) == {"orders": []}
    assert await demo.ok("orders/active_orders_count", {"market": "BTCINR"}) == {"count": 1, "status": 200}

    bids, _ = venue.book("BTC/INR")
    mine = [o for o in bids if o.account == "demo"]
    assert [(o.price, o.remaining) for o in mine] == [(D("5000000.00"), D("0.001"))]
    assert balance(venue, "demo", "INR") == (D("995000"), D("5000"))
    assert await demo.ok("orders/status", {"id": order["id"]}) == order
    assert await demo.ok("orders/status", {"client_order_id": "mine-1"}) == order


async def test_crossing_fills_both_sides_and_moves_balances_by_the_filled_amounts(
    demo: Client, taker: Client, venue: Venue, empty_books: None
) -> None:
    demo_before = {c: balance(venue, "demo", c) for c in ("BTC", "INR")}
    taker_before = {c: balance(venue, "taker", c) for c in ("BTC", "INR")}
    resting = await place(demo, limit_order("buy", "0.001", "5700000.00"))
    crossing = await place(taker, limit_order("sell", "0.0004", "5700000.00"))
    assert crossing["status"] == "filled" and crossing["avg_price"] == D("5700000")
    assert crossing["fee_amount"] == D("2.28")  # 0.1 % of 2280 INR received

    partly = await demo.ok("orders/status", {"id": resting["id"]})
    assert partly["status"] == "partially_filled" and partly["remaining_quantity"] == D("0.0006")
    assert partly["fee_amount"] == D("0.00000040") * D("5700000")  # buyer's 0.0000004 BTC at the fill price

    fee_btc = D("0.0000004")
    assert balance(venue, "demo", "BTC") == (demo_before["BTC"][0] + D("0.0004") - fee_btc, D(0))
    assert balance(venue, "demo", "INR") == (demo_before["INR"][0] - D("5700"), D("3420"))
    assert balance(venue, "taker", "BTC") == (taker_before["BTC"][0] - D("0.0004"), D(0))
    assert balance(venue, "taker", "INR") == (taker_before["INR"][0] + D("2280") - D("2.28"), D(0))
    balances = {b["currency"]: b for b in await demo.ok("users/balances")}
    assert D(balances["INR"]["locked_balance"]) == D("3420")

    (trade,) = await demo.ok("orders/trade_history", {"symbol": "BTCINR"})
    assert trade["order_id"] == resting["id"] and trade["side"] == "buy" and trade["ecode"] == "I"
    assert trade["quantity"] == "0.0004" and D(trade["price"]) == D("5700000")
    assert isinstance(trade["fee_amount"], str) and isinstance(trade["id"], int)
    assert isinstance(trade["timestamp"], int) and trade["timestamp"] > 10**12
    (their_trade,) = await taker.ok("orders/trade_history")
    assert their_trade["side"] == "sell" and their_trade["id"] == trade["id"]

    assert await demo.ok("orders/cancel", {"id": resting["id"]}) == SUCCESS
    cancelled = await demo.ok("orders/status", {"id": resting["id"]})
    assert cancelled["status"] == "partially_cancelled"
    assert balance(venue, "demo", "INR") == (demo_before["INR"][0] - D("2280"), D(0))


async def test_market_order_fills_against_the_book(taker: Client) -> None:
    order = await place(taker, {"market": "BTCINR", "side": "buy", "order_type": "market_order",
                                "total_quantity": D("0.001")})
    assert order["status"] == "filled" and order["order_type"] == "market_order"
    assert order["remaining_quantity"] == 0 and order["avg_price"] > D("5800000")


async def test_cancel_answers_success_then_cannot_be_cancelled(demo: Client, venue: Venue) -> None:
    order = await place(demo, limit_order("sell", "0.001", "6000000"))
    assert await demo.ok("orders/cancel", {"id": order["id"]}) == SUCCESS
    assert (await demo.ok("orders/status", {"id": order["id"]}))["status"] == "cancelled"
    assert not [o for o in venue.book("BTC/INR")[1] if o.account == "demo"]
    assert await demo.post("orders/cancel", {"id": order["id"]}) == (
        400, error(400, "This order cannot be cancelled"))


async def test_unknown_or_foreign_order_is_not_found(demo: Client, taker: Client) -> None:
    theirs = await place(taker, limit_order("sell", "0.001", "6000000"))
    for params in ({"id": "ead19992-43fd-11e8-b027-bb815bcb14ed"}, {"id": theirs["id"]}, {"client_order_id": "nope"}):
        assert await demo.post("orders/status", params) == (404, error(404, "Order not found"))
        assert await demo.post("orders/cancel", params) == (404, error(404, "Order not found"))
    assert (await demo.post("orders/status", {}))[0] == 400


async def test_insufficient_funds_is_422(demo: Client) -> None:
    assert await demo.post("orders/create", limit_order("buy", "1", "5000000")) == (
        422, error(422, "Insufficient funds"))


@pytest.mark.parametrize("params", [
    limit_order("buy", "0.000001", "5000000"),     # more than 5 quantity decimals
    limit_order("buy", "0.001", "5000000.001"),    # more than 2 price decimals
    limit_order("buy", "0.00001", "5000000"),      # 50 INR below the 100 INR minimum notional
    limit_order("buy", "1.5", "0.00000100", market="SNTBTC"),  # SNT trades in whole units
])
async def test_precision_and_minimum_rejections_are_422_invalid_request(demo: Client, params: dict[str, Any]) -> None:
    assert await demo.post("orders/create", params) == (422, error(422, "Invalid Request"))


@pytest.mark.parametrize("params", [
    {**limit_order("buy", "0.001", "5000000"), "market": "BTCUSDT"},
    {**limit_order("buy", "0.001", "5000000"), "side": "long"},
    {**limit_order("buy", "0.001", "5000000"), "order_type": "limit"},
    {**limit_order("buy", "0.001", "5000000"), "total_quantity": "0.001"},
    {"market": "BTCINR", "side": "buy", "order_type": "limit_order", "total_quantity": D("0.001")},
    {**limit_order("buy", "0.001", "5000000"), "client_order_id": "x" * 37},
])
async def test_malformed_order_parameters_are_400(demo: Client, params: dict[str, Any]) -> None:
    assert await demo.post("orders/create", params) == (400, error(400, "Invalid Request."))


async def test_stop_limit_is_order_type_not_allowed(demo: Client) -> None:
    params = {**limit_order("buy", "0.001", "5000000"), "order_type": "stop_limit"}
    assert await demo.post("orders/create", params) == (422, error(422, "Order type not allowed"))


async def test_at_most_25_open_orders_per_market(demo: Client, venue: Venue) -> None:
    for i in range(24):  # straight into the engine: the API would hit 16 requests per second
        venue.engine.place_order("demo", "BTC/INR", "buy", D("0.001"), D(5000000 + i))
    await place(demo, limit_order("buy", "0.001", "4000000"))
    status, body = await demo.post("orders/create", limit_order("buy", "0.001", "4000000"))
    assert status == 422 and body["status"] == "error"
    await place(demo, limit_order("buy", "0.01", "250000", market="ETHINR"))


async def test_create_multiple_places_inr_orders_and_refuses_other_venues(demo: Client, venue: Venue) -> None:
    orders = [{**limit_order("buy", "0.001", f"{5000000 + i}", client_order_id=f"b{i}"), "ecode": "I"} for i in range(2)]
    created = await demo.ok("orders/create_multiple", {"orders": orders})
    assert [o["client_order_id"] for o in created["orders"]] == ["b0", "b1"]
    snt = {**limit_order("buy", "100", "0.00000100", market="SNTBTC"), "ecode": "B"}
    assert await demo.post("orders/create_multiple", {"orders": [orders[0] | {"client_order_id": "b2"}, snt]}) == (
        400, error(400, "Invalid Request."))
    assert len(venue.engine.orders("demo", "BTC/INR", open_only=True)) == 2


async def test_status_multiple_and_cancel_by_ids(demo: Client) -> None:
    first = await place(demo, limit_order("buy", "0.001", "5000000", client_order_id="a"))
    second = await place(demo, limit_order("buy", "0.001", "5000001", client_order_id="b"))
    listed = await demo.ok("orders/status_multiple", {"ids": [first["id"], second["id"], "unknown"]})
    assert {o["id"] for o in listed} == {first["id"], second["id"]}
    by_client = await demo.ok("orders/status_multiple", {"client_order_ids": ["b"]})
    assert [o["id"] for o in by_client] == [second["id"]]
    assert await demo.ok("orders/cancel_by_ids", {"ids": [first["id"], "unknown"]}) == SUCCESS
    assert await demo.ok("orders/cancel_by_ids", {"client_order_ids": ["a", "b"]}) == SUCCESS
    statuses = await demo.ok("orders/status_multiple", {"ids": [first["id"], second["id"]]})
    assert {o["status"] for o in statuses} == {"cancelled"}


async def test_cancel_all_honours_market_and_side(demo: Client) -> None:
    await place(demo, limit_order("buy", "0.001", "5000000"))
    await place(demo, limit_order("sell", "0.001", "6500000"))
    await place(demo, limit_order("buy", "0.01", "250000", market="ETHINR"))
    assert await demo.ok("orders/cancel_all", {"market": "BTCINR", "side": "buy"}) == SUCCESS
    assert (await demo.ok("orders/active_orders_count", {"market": "BTCINR"}))["count"] == 1
    assert await demo.ok("orders/cancel_all", {"market": "BTCINR"}) == SUCCESS
    assert (await demo.ok("orders/active_orders_count", {"market": "BTCINR"}))["count"] == 0
    assert (await demo.ok("orders/active_orders_count", {"market": "ETHINR"}))["count"] == 1


async def test_edit_reprices_under_the_same_id(demo: Client, venue: Venue) -> None:
    order = await place(demo, limit_order("buy", "0.001", "5000000", client_order_id="e1"))
    edited = await demo.ok("orders/edit", {"id": order["id"], "price_per_unit": D("5100000")})
    assert edited["id"] == order["id"] and edited["price_per_unit"] == D("5100000") and edited["status"] == "open"
    assert [o.price for o in venue.book("BTC/INR")[0] if o.account == "demo"] == [D("5100000")]
    assert balance(venue, "demo", "INR")[1] == D("5100")
    again = await demo.ok("orders/edit", {"client_order_id": "e1", "price_per_unit": D("5050000")})
    assert again["id"] == order["id"]
    active = await demo.ok("orders/active_orders", {"market": "BTCINR"})
    assert [o["id"] for o in active["orders"]] == [order["id"]]


async def test_refused_edit_leaves_the_order_resting(demo: Client, venue: Venue) -> None:
    order = await place(demo, limit_order("buy", "0.1", "5000000"))
    assert await demo.post("orders/edit", {"id": order["id"], "price_per_unit": D("5000000.001")}) == (
        422, error(422, "Invalid Request"))
    assert (await demo.post("orders/edit", {"id": order["id"], "price_per_unit": D("99000000")}))[1] == error(
        422, "Insufficient funds")
    assert (await demo.ok("orders/status", {"id": order["id"]}))["price_per_unit"] == D("5000000")
    await demo.ok("orders/cancel", {"id": order["id"]})
    assert (await demo.post("orders/edit", {"id": order["id"], "price_per_unit": D("5000001")}))[0] == 422


async def test_trade_history_filters_sorts_and_limits(demo: Client, taker: Client, empty_books: None) -> None:
    for price in ("5700000", "5700001", "5700002"):
        await place(demo, limit_order("sell", "0.001", price))
    await place(taker, limit_order("buy", "0.003", "5700002"))
    await place(demo, limit_order("sell", "0.01", "250000", market="ETHINR"))
    await place(taker, limit_order("buy", "0.01", "250000", market="ETHINR"))

    ascending = await demo.ok("orders/trade_history")
    assert [t["symbol"] for t in ascending] == ["BTCINR"] * 3 + ["ETHINR"]
    ids = [t["id"] for t in ascending]
    assert ids == sorted(ids)
    assert [t["id"] for t in await demo.ok("orders/trade_history", {"sort": "desc"})] == ids[::-1]
    assert [t["id"] for t in await demo.ok("orders/trade_history", {"from_id": ids[1]})] == ids[2:]
    assert len(await demo.ok("orders/trade_history", {"symbol": "ETHINR"})) == 1
    assert [t["id"] for t in await demo.ok("orders/trade_history", {"limit": 2})] == ids[:2]
    late = ascending[-1]["timestamp"] + 1
    assert await demo.ok("orders/trade_history", {"from_timestamp": late}) == []


# -- limits and faults ------------------------------------------------------------------------


def test_documented_limits_are_the_venue_windows(venue: Venue) -> None:
    limits = {name: (window.limit, window.window) for name, window in venue.windows.items()}
    assert limits["private"] == (16, 1.0) and limits["private_minute"] == (960, 60.0)
    assert limits["public"] == (60, 1.0)
    assert limits["orders/cancel_all"] == (30, 60.0) and limits["orders/cancel_by_ids"] == (300, 60.0)
    assert limits["orders/active_orders"] == (300, 60.0) and limits["orders/create"] == (2000, 60.0)


async def test_more_than_16_requests_a_second_per_key_is_429(demo: Client, taker: Client) -> None:
    results = await asyncio.gather(*(demo.post("users/balances") for _ in range(20)))
    statuses = [status for status, _ in results]
    assert statuses.count(200) == 16 and statuses.count(429) == 4
    assert next(body for status, body in results if status == 429) == error(429, "Too Many Requests")
    assert (await taker.post("users/balances"))[0] == 200  # the limit is per key


async def test_cancel_all_is_limited_to_30_a_minute(demo: Client) -> None:
    statuses = []
    for burst in range(3):
        if burst:
            await asyncio.sleep(1.05)  # stay under the general 16 per second
        results = await asyncio.gather(*(demo.post("orders/cancel_all", {"market": "BTCINR"}) for _ in range(12)))
        statuses += [status for status, _ in results]
    assert statuses.count(200) == 30 and statuses.count(429) == 6


async def test_public_requests_over_60_a_second_per_ip_are_429(demo: Client) -> None:
    results = await asyncio.gather(*(demo.get("/exchange/v1/markets") for _ in range(65)))
    statuses = [status for status, _ in results]
    assert statuses.count(200) == 60
    assert (429, error(429, "Too Many Requests")) in results


async def test_error_after_placing_leaves_the_order_in_the_engine(demo: Client, venue: Venue) -> None:
    with venue.inject(error_after=1.0, methods={"POST"}):
        status, body = await demo.post("orders/create", limit_order("buy", "0.001", "5000000", client_order_id="lost"))
    assert status >= 500 and body["status"] == "error"
    (order,) = venue.engine.orders("demo", "BTC/INR", open_only=True)
    assert order.client_id == "lost"
    assert (await demo.ok("orders/status", {"client_order_id": "lost"}))["status"] == "open"
