"""The qTrade sandbox app against specs/qtrade.md: shapes, auth, trading, errors, limits, faults."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from yarl import URL

from sandbox.exchanges.qtrade import expected_signature

ISO_MICROS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ONES = "1" * 64


def sign(method: str, uri: str, body: str, key_id: str, secret: str, timestamp: str | None = None) -> dict[str, str]:
    """qTrade's headers: base64 sha256 of METHOD\\nURI\\nTIMESTAMP\\nBODY\\nSECRET, seconds timestamp."""
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    text = "\n".join([method, uri, timestamp, body, secret])
    signature = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return {"Authorization": f"HMAC-SHA256 {key_id}:{signature}", "HMAC-Timestamp": timestamp}


class Client:
    """A bare qTrade client: signs the exact path, query and body it sends."""

    def __init__(self, session: aiohttp.ClientSession, base: str, key_id: str, secret: str) -> None:
        self.session, self.base, self.key_id, self.secret = session, base, key_id, secret

    async def call(
        self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None, *,
        signed: bool = True, headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        uri = path + ("?" + urlencode(params) if params else "")
        text = "" if body is None else json.dumps(body)
        sent = dict(headers or (sign(method, uri, text, self.key_id, self.secret) if signed else {}))
        if body is not None:
            sent["Content-Type"] = "application/json"
        async with self.session.request(method, URL(self.base + uri, encoded=True), data=text or None,
                                        headers=sent) as response:
            raw = await response.read()
            return response.status, json.loads(raw) if raw else None, response

    async def get(self, path: str, **params: Any) -> tuple[int, Any]:
        status, body, _ = await self.call("GET", path, params or None)
        return status, body

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        status, body, _ = await self.call("POST", path, body=body)
        return status, body


@pytest.fixture
async def qtrade(start_sandbox):
    sb = await start_sandbox("qtrade")
    venue = sb.venue("qtrade")
    key, secret = sb.credentials("qtrade")
    async with aiohttp.ClientSession() as session:
        yield venue, Client(session, sb.url("qtrade"), key, secret), session, sb.url("qtrade")


def make_public_trades(venue, count: int = 3) -> None:
    """Cross the book ``count`` times so there are public trades and candles."""
    for _ in range(count):
        _, asks = venue.engine.levels("LTC/BTC")
        venue.engine.place_order("maker", "LTC/BTC", "buy", Decimal("0.05"), asks[0][0])


def assert_error(status: int, body: Any, expected_status: int, code: str) -> None:
    assert status == expected_status, body
    assert body["errors"][0]["code"] == code
    assert isinstance(body["errors"][0]["title"], str) and body["errors"][0]["title"]


def assert_decimal_strings(obj: dict[str, Any], *names: str) -> None:
    for name in names:
        assert isinstance(obj[name], str), name
        Decimal(obj[name])


def assert_recent_micros(value: Any) -> None:
    assert isinstance(value, int) and abs(value - time.time_ns() // 1000) < 60_000_000


# -- signature ----------------------------------------------------------------------------


@pytest.mark.parametrize(("secret", "method", "uri", "timestamp", "body", "signature"), [
    ("vwj043jtrw4o5igw4oi5jwoi45g", "GET", "/", "12345", "", "iyfC4n+bE+3hLgMJns1Z67FKA7O5qm5PgDvZHGraMTQ="),
    (ONES, "GET", "/v1/user/orders?open=false", "12345", "", "4S8CauoSJcBbQsdcqpqvzN/aFyVJgADXU05eppDxiFA="),
    (ONES, "GET", "/v1/user/balances", "1573604427", "", "dX76Q+w0d9DJ3uK3ueUd2a3DOd6nWQZ644CCYC6M4Is="),
    (ONES, "POST", "/v1/user/sell_limit", "1573604427", '{"amount": "1", "price": "0.01", "market_id": 1}',
     "9zCTlGkeGGcIG30UFCGHnNdof2Oi1Wpuzx2MBukAVmw="),
    (ONES, "POST", "/v1/user/cancel_order", "1573604427", '{"id": 109}',
     "DcMGd7cklGSlfiM20idRgBjkeMwVCZPuNZ5BUBXcVLk="),
])
def test_signature_matches_spec_vectors(secret, method, uri, timestamp, body, signature):
    assert expected_signature(method, uri, timestamp, body, secret) == signature
    assert sign(method, uri, body, "1", secret, timestamp)["Authorization"] == f"HMAC-SHA256 1:{signature}"


# -- public endpoints -----------------------------------------------------------------------


async def test_common_markets_and_currencies_have_documented_shapes(qtrade):
    _, client, _, _ = qtrade
    status, body = await client.get("/v1/common")
    assert status == 200
    common = body["data"]
    assert {c["code"] for c in common["currencies"]} == {"BTC", "LTC", "BIS", "DOGE"}
    assert [m["market_string"] for m in common["markets"]] == ["LTC_BTC", "BIS_BTC", "DOGE_BTC"]
    assert [t["id_hr"] for t in common["tickers"]] == ["LTC_BTC", "BIS_BTC", "DOGE_BTC"]

    status, body = await client.get("/v1/markets")
    ltc = body["data"]["markets"][0]
    assert ltc["id"] == 1 and ltc["market_currency"] == "LTC" and ltc["base_currency"] == "BTC"
    assert_decimal_strings(ltc, "maker_fee", "taker_fee", "minimum_sell_amount", "minimum_buy_value")
    assert ltc["can_trade"] is True and ltc["market_precision"] == 8

    status, body = await client.get("/v1/currencies")
    btc = next(c for c in body["data"]["currencies"] if c["code"] == "BTC")
    assert btc["long_name"] == "Bitcoin" and btc["status"] == "ok" and btc["precision"] == 8
    assert isinstance(btc["config"]["price"], float) and btc["config"]["withdraw_fee"] == "0.0005"
    status, body = await client.get("/v1/currency/BTC")
    assert status == 200 and body["data"]["currency"] == btc
    assert_error(*(await client.get("/v1/currency/XYZ")), 404, "currency_not_found")


async def test_market_detail_accepts_id_or_string_and_lists_recent_trades(qtrade):
    venue, client, _, _ = qtrade
    make_public_trades(venue)
    _, by_string = await client.get("/v1/market/LTC_BTC")
    _, by_id = await client.get("/v1/market/1")
    assert by_string == by_id
    assert by_string["data"]["market"]["id"] == 1
    trades = by_string["data"]["recent_trades"]
    assert len(trades) == 3 and trades[0]["id"] > trades[-1]["id"]
    assert_decimal_strings(trades[0], "amount", "price")
    assert ISO_MICROS.match(trades[0]["created_at"])
    assert_error(*(await client.get("/v1/market/XRP_BTC")), 404, "market_not_found")


async def test_ticker_has_string_prices_and_microsecond_last_change(qtrade):
    venue, client, _, _ = qtrade
    make_public_trades(venue)
    _, body = await client.get("/v1/ticker/LTC_BTC")
    ticker = body["data"]
    assert ticker["id"] == 1 and ticker["id_hr"] == "LTC_BTC"
    assert_decimal_strings(ticker, "ask", "bid", "last", "day_open", "day_high", "day_low", "day_avg_price",
                           "day_change", "day_volume_base", "day_volume_market")
    assert Decimal(ticker["day_volume_market"]) == sum(f.amount for f in venue.engine.fills(None, "LTC/BTC"))
    assert_recent_micros(ticker["last_change"])
    _, by_id = await client.get("/v1/ticker_by_id/1")
    assert by_id == body
    _, tickers = await client.get("/v1/tickers")
    assert [t["id"] for t in tickers["data"]["markets"]] == [1, 20, 36]
    _, untraded = await client.get("/v1/ticker/BIS_BTC")
    assert untraded["data"]["last"] is None and untraded["data"]["day_change"] is None


async def test_orderbook_maps_prices_to_amounts_like_the_engine(qtrade):
    venue, client, _, _ = qtrade
    _, body = await client.get("/v1/orderbook/LTC_BTC")
    book = body["data"]
    bids, asks = venue.engine.levels("LTC/BTC")
    assert {Decimal(p): Decimal(a) for p, a in book["buy"].items()} == dict(bids)
    assert {Decimal(p): Decimal(a) for p, a in book["sell"].items()} == dict(asks)
    assert all(isinstance(a, str) for a in book["buy"].values())
    assert_recent_micros(book["last_change"])
    _, by_id = await client.get("/v1/orderbook_by_id/1")
    assert by_id["data"]["buy"] == book["buy"]


async def test_public_trades_page_by_trade_id(qtrade):
    venue, client, _, _ = qtrade
    make_public_trades(venue, 5)
    _, body = await client.get("/v1/market/LTC_BTC/trades")
    trades = body["data"]["trades"]
    ids = [t["id"] for t in trades]
    assert ids == sorted(ids, reverse=True) and len(ids) == 5
    first = trades[0]
    assert_decimal_strings(first, "amount", "price", "base_volume")
    assert first["side"] == "buy" and first["seller_taker"] is False
    assert ISO_MICROS.match(first["created_at"]) and isinstance(first["created_at_ts"], int)
    _, older = await client.get("/v1/market/LTC_BTC/trades", older_than=ids[1])
    assert [t["id"] for t in older["data"]["trades"]] == ids[2:]
    _, newer = await client.get("/v1/market/1/trades", newer_than=ids[1])
    assert [t["id"] for t in newer["data"]["trades"]] == ids[:1]


async def test_ohlcv_slices_newest_first_with_base_and_market_volume(qtrade):
    venue, client, _, _ = qtrade
    make_public_trades(venue, 2)
    _, body = await client.get("/v1/market/LTC_BTC/ohlcv/fivemin", limit=10)
    slices = body["data"]["slices"]  # one bar, two if the trades straddle a five-minute boundary
    assert 1 <= len(slices) <= 2 and [b["time"] for b in slices] == sorted((b["time"] for b in slices), reverse=True)
    for bar in slices:
        assert ISO_SECONDS.match(bar["time"])
        assert_decimal_strings(bar, "open", "high", "low", "close", "volume", "market_volume")
    fills = venue.engine.fills(None, "LTC/BTC")
    assert sum(Decimal(b["market_volume"]) for b in slices) == sum(f.amount for f in fills)
    assert sum(Decimal(b["volume"]) for b in slices) == sum(f.amount * f.price for f in fills)
    _, later = await client.get("/v1/market/LTC_BTC/ohlcv/oneday", start=int(time.time()) + 3600)
    assert later["data"]["slices"] == []
    assert_error(*(await client.get("/v1/market/LTC_BTC/ohlcv/onemin")), 400, "bad_request")


# -- authentication -------------------------------------------------------------------------


async def test_wrong_signature_is_rejected_with_invalid_auth(qtrade):
    _, client, _, _ = qtrade
    headers = sign("GET", "/v1/user/balances", "", client.key_id, "not-the-secret")
    status, body, _ = await client.call("GET", "/v1/user/balances", headers=headers)
    assert_error(status, body, 401, "invalid_auth")


async def test_unknown_key_and_missing_header_are_rejected(qtrade):
    _, client, _, _ = qtrade
    status, body, _ = await client.call(
        "GET", "/v1/user/balances", headers=sign("GET", "/v1/user/balances", "", "999", client.secret))
    assert_error(status, body, 401, "invalid_auth")
    status, body, _ = await client.call("GET", "/v1/user/balances", signed=False)
    assert_error(status, body, 401, "invalid_auth")


@pytest.mark.parametrize("age_s", [31, -31])
async def test_timestamp_outside_thirty_seconds_is_rejected(qtrade, age_s):
    _, client, _, _ = qtrade
    timestamp = str(int(time.time()) - age_s)
    headers = sign("GET", "/v1/user/me", "", client.key_id, client.secret, timestamp)
    status, body, _ = await client.call("GET", "/v1/user/me", headers=headers)
    assert_error(status, body, 401, "invalid_auth")


async def test_millisecond_timestamp_is_rejected(qtrade):
    _, client, _, _ = qtrade
    headers = sign("GET", "/v1/user/me", "", client.key_id, client.secret, str(int(time.time() * 1000)))
    status, body, _ = await client.call("GET", "/v1/user/me", headers=headers)
    assert_error(status, body, 401, "invalid_auth")


async def test_signature_covers_the_raw_query_string(qtrade):
    _, client, _, _ = qtrade
    headers = sign("GET", "/v1/user/orders?open=true", "", client.key_id, client.secret)
    status, body, _ = await client.call("GET", "/v1/user/orders", {"open": "false"}, headers=headers)
    assert_error(status, body, 401, "invalid_auth")
    reordered = sign("GET", "/v1/user/orders?market_id=1&open=true", "", client.key_id, client.secret)
    status, body, _ = await client.call("GET", "/v1/user/orders", {"open": "true", "market_id": 1},
                                        headers=reordered)
    assert_error(status, body, 401, "invalid_auth")
    status, _ = await client.get("/v1/user/orders", open="true", market_id=1)
    assert status == 200


async def test_signature_covers_the_body(qtrade):
    _, client, session, base = qtrade
    signed_body = json.dumps({"id": 1})
    headers = sign("POST", "/v1/user/cancel_order", signed_body, client.key_id, client.secret)
    async with session.post(base + "/v1/user/cancel_order", data='{"id": 2}', headers=headers) as response:
        assert_error(response.status, await response.json(), 401, "invalid_auth")


async def test_identical_request_within_the_window_is_accepted(qtrade):
    _, client, _, _ = qtrade
    headers = sign("GET", "/v1/user/me", "", client.key_id, client.secret)
    first, _, _ = await client.call("GET", "/v1/user/me", headers=headers)
    second, _, _ = await client.call("GET", "/v1/user/me", headers=headers)
    assert first == second == 200


# -- private account endpoints -------------------------------------------------------------


async def test_user_and_balance_endpoints_have_documented_shapes(qtrade):
    venue, client, _, _ = qtrade
    _, body = await client.get("/v1/user/me")
    user = body["data"]["user"]
    assert isinstance(user["id"], int) and user["can_trade"] is True and isinstance(user["email"], str)

    _, body = await client.get("/v1/user/balances")
    balances = {b["currency"]: b["balance"] for b in body["data"]["balances"]}
    assert balances == {"BIS": "1000000", "BTC": "1000000", "DOGE": "1000000", "LTC": "1000000"}

    await client.post("/v1/user/buy_limit", {"amount": "1", "price": "0.001", "market_string": "LTC_BTC"})
    _, body = await client.get("/v1/user/balances_all")
    data = body["data"]
    assert {b["currency"]: b["balance"] for b in data["order_balances"]} == {"BTC": "0.001"}
    assert {b["currency"]: b["balance"] for b in data["balances"]}["BTC"] == "999999.999"
    assert isinstance(data["limit"], int)

    _, body = await client.get("/v1/user/market/LTC_BTC")
    view = body["data"]
    assert view["base_balance"] == "999999.999" and view["market_balance"] == "1000000"
    assert len(view["open_orders"]) == 1 and view["closed_orders"] == []


async def test_deposits_withdrawals_and_addresses(qtrade):
    venue, client, _, _ = qtrade
    _, body = await client.get("/v1/user/deposits")
    deposits = body["data"]["deposits"]
    assert {d["currency"] for d in deposits} == {"BTC", "LTC", "BIS", "DOGE"}
    deposit = deposits[0]
    assert deposit["status"] == "credited" and isinstance(deposit["id"], str) and ":" in deposit["id"]
    assert_decimal_strings(deposit, "amount")
    assert ISO_MICROS.match(deposit["created_at"]) and deposit["network_data"]["txid"] in deposit["id"]
    _, one = await client.get(f"/v1/user/deposit/{deposit['id']}")
    assert one["data"]["deposit"] == deposit
    assert_error(*(await client.get("/v1/user/deposit/999:abc")), 404, "deposit_not_found")

    status, body = await client.post("/v1/user/deposit_address/LTC", {})
    assert status == 200 and body["data"]["currency_status"] == "ok"
    assert body["data"]["address"] == venue.engine.deposit_address("demo", "LTC")

    status, body = await client.post("/v1/user/withdraw", {"address": "mw67t7AE88SBSRWYw1is3JaFbtXVygwpmB",
                                                           "amount": "1.5", "currency": "LTC"})
    assert status == 201 and body["data"]["code"] == "initiated" and isinstance(body["data"]["result"], str)
    withdraw_id = body["data"]["id"]
    assert venue.balances()["LTC"].locked == Decimal("1.501")  # amount plus the 0.001 withdraw fee
    _, body = await client.get("/v1/user/withdraws")
    withdraw = body["data"]["withdraws"][0]
    assert withdraw["id"] == withdraw_id and withdraw["status"] == "needs_create" and withdraw["amount"] == "1.5"
    assert withdraw["cancel_requested"] is False
    _, one = await client.get(f"/v1/user/withdraw/{withdraw_id}")
    assert one["data"]["withdraw"] == withdraw
    assert_error(*(await client.get("/v1/user/withdraw/999")), 404, "withdraw_not_found")
    assert_error(*(await client.post("/v1/user/withdraw", {"address": "x", "amount": "1e9", "currency": "LTC"})),
                 400, "insuff_funds")

    _, body = await client.get("/v1/user/transfers")
    assert body["data"]["transfers"] == []


# -- trading --------------------------------------------------------------------------------


async def test_limit_order_rests_fills_against_taker_and_cancels(qtrade):
    venue, client, session, base = qtrade
    taker_key = venue.add_key("taker")
    venue.fund("taker", {"BTC": Decimal("1")})
    taker = Client(session, base, taker_key.key, taker_key.secret)
    price = "0.00475001"  # inside the seeded spread: the best ask once placed

    status, body = await client.post("/v1/user/sell_limit", {"amount": "0.5", "price": price, "market_id": 1})
    assert status == 200
    order = body["data"]["order"]
    assert order["order_type"] == "sell_limit" and order["open"] is True and order["market_id"] == 1
    assert order["market_amount"] == "0.5" and order["market_amount_remaining"] == "0.5" and order["trades"] == []
    assert ISO_MICROS.match(order["created_at"])
    order_id = order["id"]
    _, asks = venue.book("LTC/BTC")
    assert asks[0].id == order_id and asks[0].account == "demo"
    _, body = await client.get("/v1/user/orders", open="true")
    assert [o["id"] for o in body["data"]["orders"]] == [order_id]

    before = venue.balances()
    status, body = await taker.post("/v1/user/buy_limit", {"amount": "0.2", "price": price,
                                                           "market_string": "LTC_BTC"})
    taken = body["data"]["order"]
    assert taken["open"] is False and taken["trades"][0]["id"] == 0  # qTrade's just-executed placeholder
    assert taken["trades"][0]["created_at"] == "0001-01-01T00:00:00Z"
    after = venue.balances()
    assert after["LTC"].locked == before["LTC"].locked - Decimal("0.2")
    assert after["BTC"].available == before["BTC"].available + Decimal("0.2") * Decimal(price)
    assert venue.balances("taker")["LTC"].available == Decimal("0.2")
    assert venue.balances("taker")["BTC"].available == Decimal(1) - Decimal("0.2") * Decimal(price)

    _, body = await client.get(f"/v1/user/order/{order_id}")
    partial = body["data"]["order"]
    assert partial["open"] is True and partial["market_amount_remaining"] == "0.3"
    assert partial["trades"][0]["market_amount"] == "0.2" and partial["trades"][0]["taker"] is False
    _, body = await client.get("/v1/user/trades", desc="true")
    trade = body["data"]["trades"][0]
    assert trade["order_id"] == order_id and trade["side"] == "sell" and trade["taker"] is False
    assert_decimal_strings(trade, "market_amount", "price", "base_amount", "base_fee")
    _, body = await taker.get("/v1/user/trades", market_id=1)
    assert body["data"]["trades"][0]["side"] == "buy" and body["data"]["trades"][0]["taker"] is True

    status, body, response = await client.call("POST", "/v1/user/cancel_order", body={"id": order_id})
    assert status == 200 and body is None
    assert venue.balances()["LTC"].locked == 0
    _, body = await client.get(f"/v1/user/order/{order_id}")
    closed = body["data"]["order"]
    assert closed["open"] is False and closed["close_reason"] == "canceled"
    assert closed["market_amount_remaining"] == "0"
    _, body = await client.get("/v1/user/orders", open="false", market_string="LTC_BTC")
    assert [o["id"] for o in body["data"]["orders"]] == [order_id]

    assert_error(*(await client.post("/v1/user/cancel_order", {"id": order_id})), 404, "order_not_found")


async def test_orders_page_by_order_id(qtrade):
    _, client, _, _ = qtrade
    ids = []
    for _ in range(3):
        _, body = await client.post("/v1/user/buy_limit", {"amount": "1", "price": "0.001", "market_id": 1})
        ids.append(body["data"]["order"]["id"])
    _, body = await client.get("/v1/user/orders", older_than=ids[2])
    assert [o["id"] for o in body["data"]["orders"]] == [ids[1], ids[0]]
    _, body = await client.get("/v1/user/orders", newer_than=ids[0])
    assert [o["id"] for o in body["data"]["orders"]] == [ids[2], ids[1]]


async def test_unknown_order_is_order_not_found(qtrade):
    _, client, _, _ = qtrade
    assert_error(*(await client.get("/v1/user/order/987654")), 404, "order_not_found")
    assert_error(*(await client.post("/v1/user/cancel_order", {"id": 987654})), 404, "order_not_found")


async def test_order_beyond_balance_is_insuff_funds(qtrade):
    venue, _, session, base = qtrade
    poor_key = venue.add_key("poor")
    venue.fund("poor", {"BTC": Decimal("0.001")})
    poor = Client(session, base, poor_key.key, poor_key.secret)
    status, body = await poor.post("/v1/user/buy_limit", {"amount": "1", "price": "0.00475", "market_id": 1})
    assert_error(status, body, 400, "insuff_funds")
    assert venue.engine.orders("poor") == []


@pytest.mark.parametrize(("amount", "price", "code"), [
    ("0.0005", "0.00475", "too_small"),
    ("0.01", "0.00475", "too_small"),  # below minimum_buy_value 0.0001 BTC
    ("0.123456789", "0.00475", "invalid_amount"),
    ("1", "0.004750001", "invalid_price"),
])
async def test_order_breaking_market_rules_is_rejected(qtrade, amount, price, code):
    venue, client, _, _ = qtrade
    status, body = await client.post("/v1/user/buy_limit", {"amount": amount, "price": price, "market_id": 1})
    assert_error(status, body, 400, code)
    assert venue.engine.orders("demo") == []


async def test_malformed_order_requests_are_bad_requests(qtrade):
    _, client, session, base = qtrade
    assert_error(*(await client.post("/v1/user/buy_limit", {"amount": "1", "price": "0.001"})), 400, "bad_request")
    assert_error(*(await client.post("/v1/user/buy_limit", {"amount": 1.5, "price": "0.001", "market_id": 1})),
                 400, "bad_request")
    assert_error(*(await client.post("/v1/user/sell_limit", {"amount": "1", "price": "0.1", "market_id": 99})),
                 404, "market_not_found")
    headers = sign("POST", "/v1/user/cancel_order", "{", client.key_id, client.secret)
    async with session.post(base + "/v1/user/cancel_order", data="{", headers=headers) as response:
        assert_error(response.status, await response.json(), 400, "bad_request")


# -- limits and faults ---------------------------------------------------------------------


async def test_private_rate_limit_answers_429_limit_exceeded(qtrade):
    _, client, _, _ = qtrade
    status, _, response = await client.call("GET", "/v1/user/me")
    assert status == 200
    assert response.headers["X-Ratelimit-Limit"] == "60" and response.headers["X-Ratelimit-Remaining"] == "59"
    assert 0 < int(response.headers["X-Ratelimit-Reset"]) <= 60
    for _ in range(59):
        status, _, _ = await client.call("GET", "/v1/user/me")
        assert status == 200
    status, body, response = await client.call("GET", "/v1/user/me")
    assert_error(status, body, 429, "limit_exceeded")
    assert response.headers["X-Ratelimit-Remaining"] == "0"
    status, _, response = await client.call("GET", "/v1/markets", signed=False)
    assert status == 200 and response.headers["X-Ratelimit-Limit"] == "120"


async def test_error_after_post_leaves_the_order_in_the_engine(qtrade):
    venue, client, _, _ = qtrade
    with venue.inject(error_after=1.0, methods={"POST"}):
        status, body = await client.post("/v1/user/buy_limit", {"amount": "1", "price": "0.001", "market_id": 1})
    assert status == 502 and body["errors"][0]["code"] == "server_error"
    [order] = venue.engine.orders("demo")
    assert order.status == "open" and order.amount == Decimal("1")
