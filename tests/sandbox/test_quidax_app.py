"""The Quidax sandbox app (v2 HMAC API and v1 Bearer API) against ``specs/quidax.md``."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from functools import partial
from typing import Any

import aiohttp
import pytest

from sandbox.exchanges import quidax

ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ORDER_FIELDS = {"id", "side", "ord_type", "price", "avg_price", "state", "market", "created_at", "volume",
                "remaining_volume", "executed_volume", "trades_count"}
D = Decimal
_exact_json = partial(json.loads, parse_float=Decimal)


def sign(secret: str, verb: str, path: str, params: list[tuple[str, str]]) -> str:
    """The spec's algorithm, written here: sorted ``k=v`` units (an ``orders[]`` array is one unit
    in wire order), ``VERB|path|query``, hex HMAC-SHA256 keyed by the secret."""
    units: dict[str, list[str]] = {}
    for name, value in params:
        units.setdefault(name.split("[")[0], []).append(f"{name}={value}")
    query = "&".join(sorted("&".join(unit) for unit in units.values()))
    return hmac.new(secret.encode(), f"{verb}|{path}|{query}".encode(), hashlib.sha256).hexdigest()


class Client:
    """A minimal Quidax client: signed v2 calls with strictly increasing ms tonces, v1 Bearer calls."""

    def __init__(self, session: aiohttp.ClientSession, url: str, key: str, secret: str) -> None:
        self.session, self.url, self.key, self.secret = session, url, key, secret
        self.last_tonce = 0

    def next_tonce(self) -> int:
        self.last_tonce = max(int(time.time() * 1000), self.last_tonce + 1)
        return self.last_tonce

    def signed(self, verb: str, path: str, params: list[tuple[str, str]] | dict[str, str] | None = None, *,
               tonce: int | None = None, key: str | None = None, secret: str | None = None) -> list[tuple[str, str]]:
        pairs = list(params.items()) if isinstance(params, dict) else list(params or [])
        pairs += [("access_key", key or self.key), ("tonce", str(tonce if tonce is not None else self.next_tonce()))]
        return pairs + [("signature", sign(secret or self.secret, verb, path, pairs))]

    async def public(self, path: str, **params: Any) -> tuple[int, Any]:
        async with self.session.get(self.url + path, params={k: str(v) for k, v in params.items()}) as response:
            return response.status, await response.json(loads=_exact_json)

    async def send(self, verb: str, path: str, pairs: list[tuple[str, str]]) -> tuple[int, Any]:
        if verb == "GET":
            request = self.session.get(self.url + path, params=pairs)
        else:
            request = self.session.post(self.url + path, data=pairs)
        async with request as response:
            return response.status, await response.json(loads=_exact_json)

    async def private(self, verb: str, path: str, params: dict[str, str] | None = None, **auth: Any) -> tuple[int, Any]:
        return await self.send(verb, path, self.signed(verb, path, params, **auth))

    async def v1(self, verb: str, path: str, body: dict[str, Any] | None = None, *,
                 token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token if token is not None else self.secret}"}
        async with self.session.request(verb, self.url + "/api/v1" + path, json=body, headers=headers) as response:
            return response.status, await response.json(loads=_exact_json)


@pytest.fixture
async def sb(start_sandbox):
    return await start_sandbox("quidax")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def demo(sb, session) -> Client:
    key, secret = sb.credentials("quidax")
    return Client(session, sb.url("quidax"), key, secret)


@pytest.fixture
def taker(sb, session) -> Client:
    venue = sb.venue("quidax")
    api_key = venue.add_key("taker")
    venue.fund("taker", {"BTC": D("1"), "NGN": D("10000000")})
    return Client(session, sb.url("quidax"), api_key.key, api_key.secret)


def top_of_book(sb, symbol: str = "BTC/NGN") -> tuple[Decimal, Decimal]:
    bids, asks = sb.venue("quidax").engine.levels(symbol)
    return bids[0][0], asks[0][0]


async def place(client: Client, side: str, volume: str, price: Decimal | str, market: str = "btcngn") -> dict:
    status, body = await client.private("POST", "/api/v2/orders",
                                        {"market": market, "side": side, "volume": volume, "price": str(price)})
    assert status == 201, body
    return body


def _ruby(value: Decimal) -> str:
    """A Decimal as Quidax writes it: no exponent, at least one decimal ("3100.0")."""
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def assert_error(status: int, body: Any, want_status: int, want_code: int) -> None:
    assert status == want_status, body
    assert set(body) == {"error"} and body["error"]["code"] == want_code and isinstance(body["error"]["message"], str)


# -- signing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verb", "path", "params", "payload", "signature"),
    [
        ("GET", "/api/v2/markets", [("access_key", "xxx"), ("foo", "bar"), ("tonce", "123456789")],
         "GET|/api/v2/markets|access_key=xxx&foo=bar&tonce=123456789",
         "e324059be4491ed8e528aa7b8735af1e96547fbec96db962d51feb7bf1b64dee"),
        ("GET", "/api/v2/members/me", [("access_key", "xxx"), ("tonce", "1600000000000")],
         "GET|/api/v2/members/me|access_key=xxx&tonce=1600000000000",
         "e39822f6d0d77aaa82f595cb985774212c569fe592f9e0df5593808576b6eb79"),
        ("POST", "/api/v2/orders",
         [("market", "btcngn"), ("side", "buy"), ("volume", "1"), ("price", "4000"), ("access_key", "xxx"),
          ("tonce", "1600000000000")],
         "POST|/api/v2/orders|access_key=xxx&market=btcngn&price=4000&side=buy&tonce=1600000000000&volume=1",
         "d9ba6bbf5781e0bb9cd67726334e1d1f5c30ccdbab24cdc6ba88b5f956da83ba"),
        ("POST", "/api/v2/order/delete", [("id", "7"), ("access_key", "xxx"), ("tonce", "1600000000000")],
         "POST|/api/v2/order/delete|access_key=xxx&id=7&tonce=1600000000000",
         "d70ed058416f2725f024ff1ae4872a22cb29c1ef0b9a34e4b85c7dc475fb07f4"),
    ],
)
def test_signature_matches_spec_vectors(verb, path, params, payload, signature) -> None:
    assert quidax.signature_payload(verb, path, params) == payload
    assert quidax.expected_signature("yyy", verb, path, params) == signature
    assert quidax.expected_signature("yyy", verb, path, [*params, ("signature", "ignored")]) == signature


def test_canonical_query_keeps_array_elements_in_wire_order() -> None:
    params = [("tonce", "1"), ("orders[][price]", "4000"), ("orders[][side]", "sell"), ("orders[][price]", "3999"),
              ("orders[][side]", "buy"), ("market", "btcngn"), ("access_key", "k")]
    assert quidax.canonical_query(params) == (
        "access_key=k&market=btcngn&orders[][price]=4000&orders[][side]=sell"
        "&orders[][price]=3999&orders[][side]=buy&tonce=1"
    )


# -- public endpoints ----------------------------------------------------------------------------


async def test_markets_list_ids_and_names(demo) -> None:
    status, body = await demo.public("/api/v2/markets")
    assert status == 200
    assert body == [{"id": "btcngn", "name": "BTC/NGN"}, {"id": "ethngn", "name": "ETH/NGN"},
                    {"id": "usdtngn", "name": "USDT/NGN"}]


async def test_tickers_are_strings_keyed_by_market_with_seconds(sb, demo) -> None:
    status, body = await demo.public("/api/v2/tickers")
    assert status == 200 and set(body) == {"btcngn", "ethngn", "usdtngn"}
    status, one = await demo.public("/api/v2/tickers/btcngn")
    assert status == 200 and set(one) == {"at", "ticker"}
    assert isinstance(one["at"], int) and abs(one["at"] - time.time()) < 5
    assert set(one["ticker"]) == {"buy", "sell", "low", "high", "last", "vol"}
    assert all(isinstance(value, str) for value in one["ticker"].values())
    bid, ask = top_of_book(sb)
    assert (D(one["ticker"]["buy"]), D(one["ticker"]["sell"])) == (bid, ask)


async def test_unknown_market_is_1001_validation_error(demo) -> None:
    assert_error(*await demo.public("/api/v2/tickers/dogengn"), 400, 1001)
    status, body = await demo.public("/api/v2/depth")
    assert_error(status, body, 400, 1001)
    assert body["error"]["message"] == "market is missing"


async def test_depth_gives_string_pairs_with_asks_highest_first(sb, demo) -> None:
    status, body = await demo.public("/api/v2/depth", market="btcngn", limit=3)
    assert status == 200 and set(body) == {"timestamp", "asks", "bids"}
    assert isinstance(body["timestamp"], int) and abs(body["timestamp"] - time.time()) < 5
    assert len(body["asks"]) == len(body["bids"]) == 3
    assert all(isinstance(x, str) for level in body["asks"] + body["bids"] for x in level)
    bids, asks = sb.venue("quidax").engine.levels("BTC/NGN")
    assert [(D(p), D(a)) for p, a in body["asks"]] == list(reversed(asks[:3]))
    assert [(D(p), D(a)) for p, a in body["bids"]] == bids[:3]


async def test_order_book_lists_resting_orders_with_limits(sb, demo) -> None:
    status, body = await demo.public("/api/v2/order_book", market="btcngn", asks_limit=2, bids_limit=1)
    assert status == 200 and len(body["asks"]) == 2 and len(body["bids"]) == 1
    engine_bids, engine_asks = sb.venue("quidax").book("BTC/NGN")
    assert [o["id"] for o in body["asks"]] == [o.id for o in engine_asks[:2]]
    assert set(body["bids"][0]) == ORDER_FIELDS and body["bids"][0]["state"] == "wait"
    assert_error(*await demo.public("/api/v2/order_book", market="btcngn", asks_limit=201), 400, 1001)


async def test_server_timestamp_is_bare_integer_seconds(demo) -> None:
    status, body = await demo.public("/api/v2/timestamp")
    assert status == 200 and isinstance(body, int) and abs(body - time.time()) < 5


async def test_trades_and_klines_after_a_fill(sb, demo, taker) -> None:
    bid, _ = top_of_book(sb)
    await place(taker, "sell", "0.0001", bid)
    status, trades = await demo.public("/api/v2/trades", market="btcngn")
    assert status == 200 and len(trades) == 1
    trade = trades[0]
    assert set(trade) == {"id", "price", "volume", "funds", "market", "created_at", "side"}
    assert (trade["price"], trade["volume"], trade["side"], trade["market"]) == (_ruby(bid), "0.0001", "sell", "btcngn")
    assert D(trade["funds"]) == bid * D("0.0001") and ISO_SECONDS.match(trade["created_at"])

    status, rows = await demo.public("/api/v2/k", market="btcngn", period=5)
    assert status == 200 and len(rows) in (1, 2), "a second, flat row only if a 5 min boundary just passed"
    when, *ohlcv = rows[0]
    assert isinstance(when, int) and when % 300 == 0 and abs(when - time.time()) < 301
    assert all(isinstance(x, Decimal) for x in ohlcv) and ohlcv == [bid, bid, bid, bid, D("0.0001")]
    assert_error(*await demo.public("/api/v2/k", market="btcngn", period=7), 400, 1001)

    status, body = await demo.public("/api/v2/k_with_pending_trades", market="btcngn", period=5,
                                     trade_id=trade["id"] + 1)
    assert status == 200 and body["k"][0] == rows[0] and [t["id"] for t in body["trades"]] == [trade["id"]]
    assert_error(*await demo.public("/api/v2/k_with_pending_trades", market="btcngn"), 400, 1001)


async def test_trades_filters_by_id_and_order(sb, demo, taker) -> None:
    bid, _ = top_of_book(sb)
    for _ in range(3):
        await place(taker, "sell", "0.0001", bid)
    _, newest_first = await demo.public("/api/v2/trades", market="btcngn")
    ids = [t["id"] for t in newest_first]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    _, oldest_first = await demo.public("/api/v2/trades", market="btcngn", order_by="asc", limit=2)
    assert [t["id"] for t in oldest_first] == sorted(ids)[:2]
    _, after = await demo.public("/api/v2/trades", market="btcngn", **{"from": min(ids)})
    assert [t["id"] for t in after] == sorted(ids, reverse=True)[:2]


# -- authentication ------------------------------------------------------------------------------


async def test_members_me_lists_accounts_as_strings(demo) -> None:
    status, body = await demo.private("GET", "/api/v2/members/me")
    assert status == 200 and {"sn", "name", "email", "activated", "accounts"} <= set(body)
    accounts = {a["currency"]: a for a in body["accounts"]}
    assert set(accounts) == {"btc", "eth", "ngn", "usdt"}
    assert accounts["ngn"] == {"currency": "ngn", "balance": "1000000.0", "locked": "0.0"}


async def test_wrong_signature_is_2005(demo) -> None:
    status, body = await demo.private("GET", "/api/v2/members/me", secret="not-the-secret")
    assert_error(status, body, 401, 2005)


async def test_unknown_access_key_is_2008(demo) -> None:
    assert_error(*await demo.private("GET", "/api/v2/members/me", key="nobody"), 401, 2008)


async def test_missing_auth_params_is_2001(demo) -> None:
    status, body = await demo.send("GET", "/api/v2/members/me", [("access_key", demo.key)])
    assert_error(status, body, 401, 2001)


async def test_stale_tonce_is_2007_with_server_time_in_ms(demo) -> None:
    stale = int(time.time() * 1000) - 31_000
    status, body = await demo.private("GET", "/api/v2/members/me", tonce=stale)
    assert_error(status, body, 401, 2007)
    server_ms = int(re.findall(r"\d{13}", body["error"]["message"])[-1])
    assert abs(server_ms - time.time() * 1000) < 5000
    assert_error(*await demo.private("GET", "/api/v2/members/me", tonce=stale + 62_000), 401, 2007)


async def test_reused_tonce_is_2006(demo) -> None:
    tonce = demo.next_tonce()
    status, _ = await demo.private("GET", "/api/v2/members/me", tonce=tonce)
    assert status == 200
    assert_error(*await demo.private("GET", "/api/v2/members/me", tonce=tonce), 401, 2006)


async def test_older_unused_tonce_within_window_is_accepted(demo) -> None:
    newer = demo.next_tonce() + 5
    assert (await demo.private("GET", "/api/v2/members/me", tonce=newer))[0] == 200
    assert (await demo.private("GET", "/api/v2/members/me", tonce=newer - 3))[0] == 200


async def test_post_signature_covers_query_and_form_merged(demo) -> None:
    path = "/api/v2/orders/clear"
    pairs = demo.signed("POST", path, [("side", "buy")])
    query = [pair for pair in pairs if pair[0] == "side"]
    form = [pair for pair in pairs if pair[0] != "side"]
    async with demo.session.post(demo.url + path, params=query, data=form) as response:
        assert response.status == 201 and await response.json() == []


async def test_private_rate_limit_answers_429_in_quidax_style(start_sandbox, session, monkeypatch) -> None:
    monkeypatch.setattr(quidax, "PRIVATE_LIMIT", 3)
    sb = await start_sandbox("quidax")
    client = Client(session, sb.url("quidax"), *sb.credentials("quidax"))
    for _ in range(3):
        assert (await client.private("GET", "/api/v2/members/me"))[0] == 200
    pairs = client.signed("GET", "/api/v2/members/me")
    async with session.get(client.url + "/api/v2/members/me", params=pairs) as response:
        body = await response.json()
        assert response.status == 429 and int(response.headers["Retry-After"]) >= 1
    assert body == {"error": {"code": 429, "message": "rate limit exceeded"}}
    status, _ = await client.public("/api/v2/tickers")
    assert status == 200, "public endpoints are unlimited"


# -- orders --------------------------------------------------------------------------------------


async def test_limit_order_rests_in_book_and_open_orders(sb, demo) -> None:
    bid, _ = top_of_book(sb)
    price = bid - D("100")
    order = await place(demo, "buy", "0.001", price)
    assert set(order) == ORDER_FIELDS
    assert (order["state"], order["side"], order["price"], order["volume"], order["remaining_volume"],
            order["executed_volume"], order["avg_price"]) == (
        "wait", "buy", _ruby(price), "0.001", "0.001", "0.0", "0.0")
    assert isinstance(order["id"], int) and ISO_SECONDS.match(order["created_at"])
    engine_bids, _ = sb.venue("quidax").book("BTC/NGN")
    assert order["id"] in {o.id for o in engine_bids}
    status, open_orders = await demo.private("GET", "/api/v2/orders", {"market": "btcngn"})
    assert status == 200 and [o["id"] for o in open_orders] == [order["id"]]
    status, done = await demo.private("GET", "/api/v2/orders", {"market": "btcngn", "state": "done"})
    assert status == 200 and done == []
    assert_error(*await demo.private("GET", "/api/v2/orders", {}), 400, 1001)


async def test_orders_list_paginates_and_orders_by_id(sb, demo) -> None:
    bid, _ = top_of_book(sb)
    ids = [(await place(demo, "buy", "0.0001", bid - D(n)))["id"] for n in range(100, 103)]
    _, page_two = await demo.private("GET", "/api/v2/orders", {"market": "btcngn", "limit": "2", "page": "2"})
    assert [o["id"] for o in page_two] == ids[2:]
    _, newest = await demo.private("GET", "/api/v2/orders", {"market": "btcngn", "order_by": "desc", "limit": "1"})
    assert [o["id"] for o in newest] == ids[-1:]


async def test_crossing_order_fills_and_balances_move_exactly(sb, demo, taker) -> None:
    venue = sb.venue("quidax")
    bid, ask = top_of_book(sb)
    price = bid + D("0.01")
    assert price < ask
    before_demo, before_taker = venue.balances("demo"), venue.balances("taker")
    order = await place(demo, "buy", "0.002", price)
    sold = await place(taker, "sell", "0.0015", price)
    assert (sold["state"], sold["executed_volume"]) == ("done", "0.0015")

    cost = price * D("0.0015")
    after_demo, after_taker = venue.balances("demo"), venue.balances("taker")
    assert after_demo["BTC"].available - before_demo["BTC"].available == D("0.0015")
    assert after_demo["NGN"].available == before_demo["NGN"].available - price * D("0.002")
    assert after_demo["NGN"].locked == price * D("0.0005")
    assert after_taker["BTC"].available == before_taker["BTC"].available - D("0.0015")
    assert after_taker["NGN"].available - before_taker["NGN"].available == cost

    status, detail = await demo.private("GET", "/api/v2/order", {"id": str(order["id"])})
    assert status == 200 and set(detail) == ORDER_FIELDS | {"trades"}
    assert (detail["state"], detail["executed_volume"], detail["remaining_volume"], detail["trades_count"]) == (
        "wait", "0.0015", "0.0005", 1)
    assert D(detail["avg_price"]) == price
    assert [(t["price"], t["volume"], t["side"]) for t in detail["trades"]] == [(_ruby(price), "0.0015", "buy")]

    status, mine = await demo.private("GET", "/api/v2/trades/my", {"market": "btcngn"})
    assert status == 200 and len(mine) == 1
    assert (mine[0]["order_id"], mine[0]["side"], mine[0]["volume"]) == (order["id"], "buy", "0.0015")
    _, theirs = await taker.private("GET", "/api/v2/trades/my", {"market": "btcngn"})
    assert (theirs[0]["order_id"], theirs[0]["side"]) == (sold["id"], "sell")
    _, accounts = await demo.private("GET", "/api/v2/members/me")
    ngn = next(a for a in accounts["accounts"] if a["currency"] == "ngn")
    assert D(ngn["locked"]) == price * D("0.0005")


async def test_cancel_answers_wait_then_order_shows_cancel(sb, demo) -> None:
    venue = sb.venue("quidax")
    bid, _ = top_of_book(sb)
    order = await place(demo, "buy", "0.001", bid - D("50"))
    status, accepted = await demo.private("POST", "/api/v2/order/delete", {"id": str(order["id"])})
    assert status == 201 and accepted["id"] == order["id"] and accepted["state"] == "wait"
    status, later = await demo.private("GET", "/api/v2/order", {"id": str(order["id"])})
    assert status == 200 and later["state"] == "cancel"
    assert order["id"] not in {o.id for o in venue.book("BTC/NGN")[0]}
    assert venue.balances("demo")["NGN"].locked == 0
    assert_error(*await demo.private("POST", "/api/v2/order/delete", {"id": str(order["id"])}), 400, 2003)


async def test_clear_cancels_every_open_order_of_one_side(sb, demo) -> None:
    bid, ask = top_of_book(sb)
    buy = await place(demo, "buy", "0.001", bid - D("10"))
    sell = await place(demo, "sell", "0.001", ask + D("10"))
    status, accepted = await demo.private("POST", "/api/v2/orders/clear", {"side": "buy"})
    assert status == 201 and [(o["id"], o["state"]) for o in accepted] == [(buy["id"], "wait")]
    _, still_open = await demo.private("GET", "/api/v2/orders", {"market": "btcngn"})
    assert [o["id"] for o in still_open] == [sell["id"]]
    _, accepted = await demo.private("POST", "/api/v2/orders/clear")
    assert [o["id"] for o in accepted] == [sell["id"]]
    assert sb.venue("quidax").engine.orders("demo", open_only=True) == []


async def test_unknown_order_is_2004_not_found(demo) -> None:
    status, body = await demo.private("GET", "/api/v2/order", {"id": "987654"})
    assert_error(status, body, 404, 2004)
    assert body["error"]["message"] == "Order#987654 doesn't exist."
    assert_error(*await demo.private("POST", "/api/v2/order/delete", {"id": "987654"}), 404, 2004)


async def test_order_of_another_member_is_not_found(sb, demo, taker) -> None:
    bid, _ = top_of_book(sb)
    theirs = await place(taker, "buy", "0.0001", bid - D("10"))
    assert_error(*await demo.private("GET", "/api/v2/order", {"id": str(theirs["id"])}), 404, 2004)


async def test_insufficient_funds_is_2002(sb, demo) -> None:
    bid, _ = top_of_book(sb)
    status, body = await demo.private("POST", "/api/v2/orders",
                                      {"market": "btcngn", "side": "buy", "volume": "1", "price": str(bid)})
    assert_error(status, body, 400, 2002)
    assert body["error"]["message"].startswith("Failed to create order. Reason: insufficient balance")


@pytest.mark.parametrize(("volume", "price"), [("0.0000001", "44000000"), ("0.00001", "44000000"),
                                               ("0.001", "44000000.001")])
async def test_precision_and_minimum_breaches_are_2002(demo, volume, price) -> None:
    status, body = await demo.private("POST", "/api/v2/orders",
                                      {"market": "btcngn", "side": "buy", "volume": volume, "price": price})
    assert_error(status, body, 400, 2002)


async def test_bad_order_params_are_1001(demo) -> None:
    status, body = await demo.private("POST", "/api/v2/orders", {"market": "btcngn", "side": "hold", "volume": "1"})
    assert_error(status, body, 400, 1001)
    assert body["error"]["message"] == "side does not have a valid value"
    assert_error(*await demo.private("POST", "/api/v2/orders", {"market": "btcngn", "side": "buy"}), 400, 1001)


async def test_market_order_fills_against_the_book(sb, demo) -> None:
    _, ask = top_of_book(sb)
    status, order = await demo.private("POST", "/api/v2/orders",
                                       {"market": "btcngn", "side": "buy", "volume": "0.0001", "ord_type": "market"})
    assert status == 201 and order["ord_type"] == "market" and order["price"] is None
    assert (order["state"], D(order["avg_price"])) == ("done", ask)


async def test_multi_creates_orders_from_array_params(sb, demo) -> None:
    _, ask = top_of_book(sb)
    fields = [("market", "btcngn"),
              ("orders[][price]", str(ask + 100)), ("orders[][side]", "sell"), ("orders[][volume]", "0.5"),
              ("orders[][price]", str(ask + 200)), ("orders[][side]", "sell"), ("orders[][volume]", "0.99")]
    path = "/api/v2/orders/multi"
    status, orders = await demo.send("POST", path, demo.signed("POST", path, fields))
    assert status == 201, orders
    assert [(o["price"], o["volume"], o["state"]) for o in orders] == [
        (_ruby(ask + 100), "0.5", "wait"), (_ruby(ask + 200), "0.99", "wait")]
    engine_asks = sb.venue("quidax").book("BTC/NGN")[1]
    assert {o["id"] for o in orders} <= {o.id for o in engine_asks}


async def test_multi_is_all_or_nothing(sb, demo) -> None:
    _, ask = top_of_book(sb)
    fields = [("market", "btcngn"),
              ("orders[][price]", str(ask + 100)), ("orders[][side]", "sell"), ("orders[][volume]", "0.5"),
              ("orders[][price]", str(ask + 200)), ("orders[][side]", "sell"), ("orders[][volume]", "0.0000001")]
    path = "/api/v2/orders/multi"
    status, body = await demo.send("POST", path, demo.signed("POST", path, fields))
    assert_error(status, body, 400, 2002)
    assert sb.venue("quidax").engine.orders("demo", open_only=True) == []
    assert sb.venue("quidax").balances("demo")["BTC"].locked == 0


async def test_order_post_with_server_error_after_still_places_order(sb, demo) -> None:
    venue = sb.venue("quidax")
    bid, _ = top_of_book(sb)
    with venue.inject(error_after=1.0, methods={"POST"}):
        status, body = await demo.private("POST", "/api/v2/orders",
                                          {"market": "btcngn", "side": "buy", "volume": "0.001", "price": str(bid - 7)})
    assert status == 502 and body == {"error": {"code": 502, "message": "Bad gateway"}}
    assert [(o.price, o.amount) for o in venue.engine.orders("demo", open_only=True)] == [(bid - 7, D("0.001"))]


# -- deposits ------------------------------------------------------------------------------------


async def test_deposits_filters_and_lookup_by_txid(sb, demo) -> None:
    record = sb.venue("quidax").engine.deposit("demo", "BTC", D("0.5"), txid="ab12")
    status, deposits = await demo.private("GET", "/api/v2/deposits", {"currency": "btc"})
    assert status == 200 and deposits[0]["txid"] == "ab12"
    assert set(deposits[0]) == {"id", "currency", "amount", "fee", "txid", "created_at", "confirmations", "done_at",
                                "state"}
    assert (deposits[0]["amount"], deposits[0]["state"], deposits[0]["id"]) == ("0.5", "accepted", record.id)
    _, everything = await demo.private("GET", "/api/v2/deposits", {"limit": "100"})
    assert len(everything) == 5
    _, default = await demo.private("GET", "/api/v2/deposits")
    assert len(default) == 3
    status, one = await demo.private("GET", "/api/v2/deposit", {"txid": "ab12"})
    assert status == 200 and one == deposits[0]
    assert_error(*await demo.private("GET", "/api/v2/deposit", {"txid": "nope"}), 404, 2012)


async def test_deposit_address_is_stable_per_currency(sb, demo) -> None:
    status, body = await demo.private("GET", "/api/v2/deposit_address", {"currency": "btc"})
    assert status == 200 and body == {"currency": "btc",
                                      "address": sb.venue("quidax").engine.deposit_address("demo", "BTC")}
    assert_error(*await demo.private("GET", "/api/v2/deposit_address", {"currency": "xrp"}), 400, 1001)


# -- v1 ------------------------------------------------------------------------------------------


def assert_v1_ok(status: int, body: Any) -> Any:
    assert status == 200, body
    assert body["status"] == "success" and body["message"] == "Successful"
    return body["data"]


def assert_v1_error(status: int, body: Any, want_status: int, want_code: str) -> None:
    assert status == want_status, body
    assert body["status"] == "error" and body["data"]["code"] == want_code
    assert body["message"] == body["data"]["message"]


async def test_v1_wallets_show_balances(demo) -> None:
    wallets = assert_v1_ok(*await demo.v1("GET", "/users/me/wallets"))
    by_currency = {w["currency"]: w for w in wallets}
    assert set(by_currency) == {"btc", "eth", "ngn", "usdt"}
    btc = assert_v1_ok(*await demo.v1("GET", "/users/me/wallets/btc"))
    assert btc == by_currency["btc"]
    assert (btc["balance"], btc["locked"], btc["is_crypto"], btc["name"]) == ("1000000.0", "0.0", True, "Bitcoin")
    assert ISO_MILLIS.match(btc["created_at"]) and by_currency["ngn"]["deposit_address"] is None
    address = assert_v1_ok(*await demo.v1("GET", "/users/me/wallets/btc/address"))
    assert address["address"] == btc["deposit_address"] and address["currency"] == "btc"
    addresses = assert_v1_ok(*await demo.v1("GET", "/users/me/wallets/btc/addresses"))
    assert addresses == [address]


async def test_v1_bearer_errors(demo) -> None:
    assert_v1_error(*await demo.v1("GET", "/users/me/wallets", token=""), 401, "unauthorized")
    assert_v1_error(*await demo.v1("GET", "/users/me/wallets", token="wrong"), 401, "unauthorized")
    assert_v1_error(*await demo.v1("GET", "/users/someone-else/wallets"), 404, "not_found")
    assert_v1_error(*await demo.v1("GET", "/users/me/wallets/xrp"), 400, "validation_error")


async def test_v1_withdraw_locks_funds_and_can_be_cancelled(sb, demo) -> None:
    venue = sb.venue("quidax")
    created = assert_v1_ok(*await demo.v1("POST", "/users/me/withdraws",
                                          {"currency": "btc", "amount": "0.25", "fund_uid": "bc1qdest",
                                           "transaction_note": "rent"}))
    assert (created["status"], created["amount"], created["currency"]) == ("submitted", "0.25", "btc")
    assert created["recipient"]["details"]["address"] == "bc1qdest" and created["transaction_note"] == "rent"
    assert isinstance(created["id"], str) and ISO_MILLIS.match(created["created_at"])
    assert venue.balances("demo")["BTC"].locked == D("0.25")

    listed = assert_v1_ok(*await demo.v1("GET", "/users/me/withdraws?currency=btc"))
    assert [w["id"] for w in listed] == [created["id"]]
    assert assert_v1_ok(*await demo.v1("GET", f"/users/me/withdraws/{created['id']}")) == created
    cancelled = assert_v1_ok(*await demo.v1("POST", f"/users/me/withdraws/{created['id']}/cancel"))
    assert cancelled["status"] == "canceled" and venue.balances("demo")["BTC"].locked == 0
    assert_v1_error(*await demo.v1("POST", f"/users/me/withdraws/{created['id']}/cancel"), 400, "cancel_failed")
    assert_v1_error(*await demo.v1("GET", "/users/me/withdraws/999"), 404, "not_found")


async def test_v1_withdraw_more_than_balance_is_rejected(demo) -> None:
    status, body = await demo.v1("POST", "/users/me/withdraws",
                                 {"currency": "btc", "amount": 2_000_000, "fund_uid": "bc1qdest"})
    assert_v1_error(status, body, 400, "insufficient_balance")
    assert_v1_error(*await demo.v1("POST", "/users/me/withdraws", {"currency": "btc", "amount": "1"}),
                    400, "validation_error")


async def test_v1_orders_place_fetch_and_cancel(sb, demo) -> None:
    bid, _ = top_of_book(sb)
    order = assert_v1_ok(*await demo.v1("POST", "/users/me/orders",
                                        {"market": "btcngn", "side": "buy", "ord_type": "limit",
                                         "price": str(bid - 5), "volume": "0.001"}))
    assert isinstance(order["id"], str) and order["state"] == "wait" and ISO_MILLIS.match(order["created_at"])
    fetched = assert_v1_ok(*await demo.v1("GET", f"/users/me/orders/{order['id']}"))
    assert fetched["trades"] == [] and fetched["id"] == order["id"]
    listed = assert_v1_ok(*await demo.v1("GET", "/users/me/orders"))
    assert [o["id"] for o in listed] == [order["id"]]
    accepted = assert_v1_ok(*await demo.v1("POST", f"/users/me/orders/{order['id']}/cancel"))
    assert accepted["state"] == "wait"
    assert assert_v1_ok(*await demo.v1("GET", f"/users/me/orders/{order['id']}"))["state"] == "cancel"
    assert_v1_error(*await demo.v1("GET", "/users/me/orders/424242"), 404, "not_found")


async def test_v1_public_market_data(demo) -> None:
    assert assert_v1_ok(*await demo.public("/api/v1/markets"))[0] == {"id": "btcngn", "name": "BTC/NGN"}
    tickers = assert_v1_ok(*await demo.public("/api/v1/markets/tickers"))
    assert set(tickers["btcngn"]["ticker"]) == {"buy", "sell", "low", "high", "open", "last", "vol"}
    book = assert_v1_ok(*await demo.public("/api/v1/markets/btcngn/order_book", ask_limit=1, bids_limit=2))
    assert (len(book["asks"]), len(book["bids"])) == (1, 2)
    depth = assert_v1_ok(*await demo.public("/api/v1/markets/btcngn/depth", limit=1))
    assert len(depth["asks"]) == 1
    assert assert_v1_ok(*await demo.public("/api/v1/trades/btcngn")) == []
    assert assert_v1_ok(*await demo.public("/api/v1/markets/btcngn/k")) == []
    pending = assert_v1_ok(*await demo.public("/api/v1/markets/btcngn/k_with_pending_trades/5"))
    assert pending == {"k": [], "trades": []}
    status, body = await demo.public("/api/v1/markets/tickers/nope")
    assert_v1_error(status, body, 400, "validation_error")


async def test_v1_user_trades_and_deposits(sb, demo, taker) -> None:
    bid, _ = top_of_book(sb)
    order = await place(demo, "buy", "0.0001", bid + D("0.01"))
    await place(taker, "sell", "0.0001", bid + D("0.01"))
    trades = assert_v1_ok(*await demo.v1("GET", "/users/me/trades"))
    assert [(t["order_id"], t["side"]) for t in trades] == [(str(order["id"]), "buy")]
    deposits = assert_v1_ok(*await demo.v1("GET", "/users/me/deposits?currency=ngn"))
    assert len(deposits) == 1 and deposits[0]["state"] == "accepted"
    one = assert_v1_ok(*await demo.v1("GET", f"/users/me/deposits/{deposits[0]['id']}"))
    assert one == deposits[0]
    user = assert_v1_ok(*await demo.v1("GET", "/users/me"))
    assert assert_v1_ok(*await demo.v1("GET", f"/users/{user['sn']}/wallets/ngn"))["currency"] == "ngn"
