"""Request shaping (method, path, query, headers, body, signature) with aioresponses and fixed
tonces, and the mapping of every documented error code."""

import hashlib
import hmac
import json
import re
from decimal import Decimal

import pytest

import connectors
import core.connector
from core.connector import Pool
from core.errors import (
    AuthenticationError,
    BadRequest,
    BadSymbol,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidNonce,
    InvalidOrder,
    OrderNotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
)
from core.models import Balance, BookLevel, Transfer
from core.transport import Prepared, RetryPolicy, Transport

from .conftest import TONCE

D = Decimal
API = "https://www.quidax.com"
MARKETS = [{"id": "btcngn", "name": "BTC/NGN"}, {"id": "ethngn", "name": "ETH/NGN"}]
ORDER = {"id": 7, "side": "buy", "ord_type": "limit", "price": "4000.0", "avg_price": "0.0", "state": "wait",
         "market": "btcngn", "created_at": "2020-09-13T12:26:40Z", "volume": "1.0", "remaining_volume": "1.0",
         "executed_volume": "0.0", "trades_count": 0}
C1 = "e39822f6d0d77aaa82f595cb985774212c569fe592f9e0df5593808576b6eb79"
C2 = "d9ba6bbf5781e0bb9cd67726334e1d1f5c30ccdbab24cdc6ba88b5f956da83ba"
C3 = "d70ed058416f2725f024ff1ae4872a22cb29c1ef0b9a34e4b85c7dc475fb07f4"


def signature(verb: str, path: str, canonical: str, secret: bytes = b"yyy") -> str:
    """The spec's algorithm, written here independently of the connector's Signer."""
    return hmac.new(secret, f"{verb}|{path}|{canonical}".encode(), hashlib.sha256).hexdigest()


def url_of(path: str) -> re.Pattern[str]:
    """Any query on this path (the exact query is checked on what was sent)."""
    return re.compile(rf"^{re.escape(API + path)}(\?.*)?$")


def v2_error(code: int, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def v1_error(code: str, message: str) -> dict:
    return {"status": "error", "message": message, "data": {"code": code, "message": message}}


@pytest.fixture
def sent(monkeypatch) -> list[Prepared]:
    """Every request exactly as the connector prepared it (aioresponses sorts queries)."""
    prepared: list[Prepared] = []
    send = Transport._send

    async def record(self: Transport, request: Prepared):
        prepared.append(request)
        return await send(self, request)

    monkeypatch.setattr(Transport, "_send", record)
    return prepared


@pytest.fixture
def http(mock):
    mock.get(f"{API}/api/v2/markets", payload=MARKETS)
    return mock


def private(sent: list[Prepared]) -> list[Prepared]:
    return [p for p in sent if p.path != "/api/v2/markets"]


# -- public ---------------------------------------------------------------------------


async def test_markets_are_an_unsigned_get(ex, http, sent):
    markets = await ex.load_markets()
    assert list(markets) == ["BTC/NGN", "ETH/NGN"] and markets["BTC/NGN"].id == "btcngn"
    assert [(p.method, p.url, p.headers, p.body) for p in sent] == [("GET", f"{API}/api/v2/markets", None, None)]


async def test_order_book_reads_depth_by_market_and_sorts_best_first(ex, http, sent):
    http.get(url_of("/api/v2/depth"), payload={"timestamp": 1600000000, "asks": [["3110.0", "0.4"], ["3100.0", "1.5"]],
                                               "bids": [["3000.0", "2.0"], ["2990.0", "0.7"]]})
    book = await ex.fetch_order_book("BTC/NGN", limit=2)
    assert sent[-1].url == f"{API}/api/v2/depth?market=btcngn&limit=2" and sent[-1].headers is None
    assert book.asks == [BookLevel(D("3100.0"), D("1.5")), BookLevel(D("3110.0"), D("0.4"))]
    assert book.bids[0] == BookLevel(D("3000.0"), D("2.0")) and book.timestamp == 1600000000000


async def test_ticker_puts_the_market_id_in_the_path(ex, http, sent):
    http.get(f"{API}/api/v2/tickers/btcngn", payload={"at": 1600000000, "ticker": {"buy": "1", "sell": "2",
                                                                                   "last": "1.5", "vol": "3"}})
    ticker = await ex.fetch_ticker("BTC/NGN")
    assert sent[-1].url == f"{API}/api/v2/tickers/btcngn"
    assert (ticker.bid, ticker.ask, ticker.volume, ticker.timestamp) == (D("1"), D("2"), D("3"), 1600000000000)


async def test_candles_send_period_in_minutes_and_since_in_seconds(ex, http, sent):
    http.get(url_of("/api/v2/k"), payload=[[1600003600, 2, 3, 1, 2, 4], [1600000000, 1, 2, 1, 2, 3.5]])
    candles = await ex.fetch_candles("BTC/NGN", "1h", since=1600000000999, limit=2)
    assert sent[-1].url == f"{API}/api/v2/k?market=btcngn&period=60&limit=2&timestamp=1600000000"
    assert [c.timestamp for c in candles] == [1600000000000, 1600003600000] and candles[0].volume == D("3.5")


async def test_trades_come_back_oldest_first(ex, http, sent):
    trade = {"price": "1", "volume": "2", "funds": "2", "market": "btcngn", "side": "buy"}
    http.get(url_of("/api/v2/trades"), payload=[{**trade, "id": 9, "created_at": "2020-09-13T12:26:41Z"},
                                                {**trade, "id": 8, "created_at": "2020-09-13T12:26:40Z"}])
    trades = await ex.fetch_trades("BTC/NGN", limit=2)
    assert sent[-1].url == f"{API}/api/v2/trades?market=btcngn&limit=2"
    assert [t.id for t in trades] == ["8", "9"]


async def test_server_time_seconds_become_ms(ex, mock, sent):
    mock.get(f"{API}/api/v2/timestamp", body="1600000000")
    assert await ex.fetch_server_time() == 1600000000000


async def test_currencies_derive_from_market_names(ex, http, sent):
    currencies = await ex.fetch_currencies()
    assert list(currencies) == ["BTC", "ETH", "NGN"] and [p.path for p in sent] == ["/api/v2/markets"]


async def test_unknown_symbol_is_refused_before_sending(ex, http, sent):
    with pytest.raises(BadSymbol):
        await ex.fetch_order_book("DOGE/NGN")
    assert [p.path for p in sent] == ["/api/v2/markets"]


# -- private v2: signed parameters -------------------------------------------------------


async def test_balances_get_is_the_c1_vector(ex, mock, tonces, sent):
    mock.get(url_of("/api/v2/members/me"), payload={"accounts": [{"currency": "ngn", "balance": "5.5",
                                                                  "locked": "1"}]})
    balances = await ex.fetch_balances()
    assert sent[-1].url == f"{API}/api/v2/members/me?access_key=xxx&tonce={TONCE}&signature={C1}"
    assert sent[-1].headers is None and sent[-1].body is None
    assert balances == {"NGN": Balance("NGN", D("5.5"), D("1"))}


async def test_create_limit_order_posts_the_c2_form_body(ex, http, tonces, sent):
    http.post(f"{API}/api/v2/orders", status=201, payload=ORDER)
    order = await ex.create_order("BTC/NGN", "buy", D("1"), D("4000"))
    [request] = private(sent)
    assert (request.method, request.url) == ("POST", f"{API}/api/v2/orders")
    assert request.headers == {"Content-Type": "application/x-www-form-urlencoded"}
    assert request.body == (f"access_key=xxx&market=btcngn&price=4000&side=buy&tonce={TONCE}&volume=1"
                            f"&signature={C2}")
    assert (order.id, order.status, order.price, order.average) == ("7", "open", D("4000.0"), None)


async def test_market_order_sends_ord_type_and_no_price(ex, http, tonces, sent):
    http.post(f"{API}/api/v2/orders", status=201, payload={**ORDER, "ord_type": "market", "price": None})
    order = await ex.create_order("BTC/NGN", "sell", D("0.5"), type="market")
    canonical = f"access_key=xxx&market=btcngn&ord_type=market&side=sell&tonce={TONCE}&volume=0.5"
    assert private(sent)[0].body == f"{canonical}&signature={signature('POST', '/api/v2/orders', canonical)}"
    assert (order.type, order.price) == ("market", None)


async def test_cancel_posts_the_c3_body_and_returns_the_order_as_it_was(ex, http, tonces, sent):
    http.post(f"{API}/api/v2/order/delete", status=201, payload=ORDER)
    order = await ex.cancel_order("7")
    assert private(sent)[0].body == f"access_key=xxx&id=7&tonce={TONCE}&signature={C3}"
    assert order.status == "open"


async def test_cancel_is_sent_before_markets_are_loaded(ex, mock, tonces, sent):
    mock.post(f"{API}/api/v2/order/delete", status=201, payload=ORDER)
    mock.get(f"{API}/api/v2/markets", payload=MARKETS)
    await ex.cancel_order("7")
    assert [p.path for p in sent] == ["/api/v2/order/delete", "/api/v2/markets"]


async def test_non_numeric_order_id_is_not_found_before_sending(ex, http, tonces, sent):
    with pytest.raises(OrderNotFound):
        await ex.fetch_order("../orders")
    assert private(sent) == []


async def test_create_orders_sends_the_array_in_wire_order(ex, http, tonces, sent):
    http.post(f"{API}/api/v2/orders/multi", status=201, payload=[ORDER, {**ORDER, "id": 8, "side": "sell"}])
    orders = await ex.create_orders("BTC/NGN", [
        {"side": "buy", "amount": D("1"), "price": D("4000")},
        {"side": "sell", "amount": "0.5", "type": "market"},
    ])
    canonical = ("access_key=xxx&market=btcngn&orders[][side]=buy&orders[][volume]=1&orders[][price]=4000"
                 f"&orders[][side]=sell&orders[][volume]=0.5&orders[][ord_type]=market&tonce={TONCE}")
    wire = canonical.replace("[", "%5B").replace("]", "%5D")
    assert private(sent)[0].body == f"{wire}&signature={signature('POST', '/api/v2/orders/multi', canonical)}"
    assert [o.id for o in orders] == ["7", "8"]


async def test_create_orders_checks_every_order_before_sending(ex, http, tonces, sent):
    with pytest.raises(InvalidOrder):
        await ex.create_orders("BTC/NGN", [{"side": "buy", "amount": D("1"), "price": D("4000")},
                                           {"side": "buy", "amount": D("1")}])
    assert private(sent) == []


async def test_open_orders_query_one_market_newest_first_from_the_server(ex, http, tonces, sent):
    http.get(url_of("/api/v2/orders"), payload=[ORDER])
    [order] = await ex.fetch_open_orders("BTC/NGN")
    canonical = f"access_key=xxx&limit=1000&market=btcngn&order_by=desc&state=wait&tonce={TONCE}"
    assert private(sent)[0].url == f"{API}/api/v2/orders?{canonical}&signature=" + signature(
        "GET", "/api/v2/orders", canonical)
    assert order.symbol == "BTC/NGN"


async def test_orders_without_symbol_ask_every_market_and_state(ex, http, tonces, sent):
    http.get(url_of("/api/v2/orders"), payload=[], repeat=True)
    assert await ex.fetch_orders() == []
    asked = sorted(re.search(r"market=(\w+)&order_by=desc&state=(\w+)", p.url).groups() for p in private(sent))
    assert asked == sorted((m, st) for m in ("btcngn", "ethngn") for st in ("wait", "done", "cancel"))


async def test_cancel_all_without_symbol_posts_orders_clear(ex, http, tonces, sent):
    http.post(f"{API}/api/v2/orders/clear", status=201, payload=[ORDER])
    [order] = await ex.cancel_all_orders()
    [request] = private(sent)
    assert request.body == f"access_key=xxx&tonce={TONCE}&signature=" + signature(
        "POST", "/api/v2/orders/clear", f"access_key=xxx&tonce={TONCE}")
    assert order.id == "7"


async def test_cancel_all_with_symbol_lists_that_market_and_cancels_each(ex, http, tonces, sent):
    http.get(url_of("/api/v2/orders"), payload=[ORDER, {**ORDER, "id": 8}])
    http.post(f"{API}/api/v2/order/delete", status=201, payload=ORDER, repeat=True)
    canceled = await ex.cancel_all_orders("BTC/NGN")
    assert [p.path for p in private(sent)] == ["/api/v2/orders", "/api/v2/order/delete", "/api/v2/order/delete"]
    assert "market=btcngn" in private(sent)[0].url and "id=8" in private(sent)[2].body
    assert len(canceled) == 2


async def test_my_trades_keep_the_newest_limit(ex, http, tonces, sent):
    trade = {"price": "1", "volume": "2", "market": "btcngn", "side": "buy", "order_id": 7}
    http.get(url_of("/api/v2/trades/my"), payload=[{**trade, "id": 3, "created_at": "2020-09-13T12:26:42Z"},
                                                   {**trade, "id": 2, "created_at": "2020-09-13T12:26:41Z"}])
    trades = await ex.fetch_my_trades("BTC/NGN", limit=2)
    assert "limit=2&market=btcngn" in private(sent)[0].url
    assert [(t.id, t.order_id) for t in trades] == [("2", "7"), ("3", "7")]


async def test_deposit_address_and_deposits_send_lower_case_currency(ex, mock, tonces, sent):
    mock.get(url_of("/api/v2/deposit_address"), payload={"currency": "btc", "address": "bc1q"})
    mock.get(url_of("/api/v2/deposits"), payload=[])
    address = await ex.fetch_deposit_address("BTC")
    await ex.fetch_deposits("BTC")
    assert "?access_key=xxx&currency=btc&tonce=" in sent[0].url
    assert "?access_key=xxx&currency=btc&limit=100&tonce=" in sent[1].url
    assert (address.currency, address.address) == ("BTC", "bc1q")


async def test_first_private_call_syncs_the_tonce_to_server_time(mock, sent, monkeypatch):
    """The connector's clock reads 1600000000 s and the server's 1600000060 s: the tonce follows
    the server."""
    async with connectors.open("quidax", key="sync-key", secret="yyy",
                               rate_limits={"public": Pool(1000), "private": Pool(1000, per_key=True)}) as ex:
        monkeypatch.setattr(ex.nonces, "_clock", lambda: 1600000000.0)
        mock.get(f"{API}/api/v2/timestamp", body="1600000060")
        mock.get(url_of("/api/v2/members/me"), payload={"accounts": []})
        await ex.fetch_balances()
    assert [p.path for p in sent] == ["/api/v2/timestamp", "/api/v2/members/me"]
    canonical = "access_key=sync-key&tonce=1600000060000"
    assert sent[1].url == f"{API}/api/v2/members/me?{canonical}&signature=" + signature(
        "GET", "/api/v2/members/me", canonical)


async def test_invalid_nonce_resyncs_the_clock_before_the_retry_and_the_next_call(mock, sent):
    async with connectors.open("quidax", key="resync-key", secret="yyy", retry=RetryPolicy(base_delay=0.0),
                               rate_limits={"public": Pool(1000), "private": Pool(1000, per_key=True)}) as ex:
        mock.get(f"{API}/api/v2/timestamp", body="1600000000", repeat=True)
        for _ in range(2):
            mock.get(url_of("/api/v2/members/me"), status=401, payload=v2_error(2007, "The tonce is invalid"))
        mock.get(url_of("/api/v2/members/me"), payload={"accounts": []})
        with pytest.raises(InvalidNonce):
            await ex.fetch_balances()
        assert await ex.fetch_balances() == {}
    assert [p.path.rpartition("/")[2] for p in sent] == ["timestamp", "me", "timestamp", "me", "timestamp", "me"]


# -- private v1: Bearer --------------------------------------------------------------------


async def test_withdrawals_go_through_v1_with_the_bearer_token(ex, mock, tonces, sent):
    mock.get(url_of("/api/v1/users/me/withdraws"), payload={"status": "success", "message": "Successful", "data": [
        {"id": "3", "currency": "btc", "amount": "0.01", "fee": "0.0", "status": "done", "txid": "ab",
         "created_at": "2020-09-13T12:26:40.123Z", "recipient": {"details": {"address": "bc1q"}}}]})
    [withdrawal] = await ex.fetch_withdrawals("BTC")
    [request] = sent
    assert (request.method, request.url) == ("GET", f"{API}/api/v1/users/me/withdraws?currency=btc")
    assert request.headers == {"Authorization": "Bearer yyy"} and request.body is None
    assert withdrawal == Transfer("3", "BTC", D("0.01"), "ok", 1600000000123, "bc1q", "ab", D("0.0"))


async def test_withdraw_posts_json_with_fund_uid_and_tag(ex, mock, tonces, sent):
    mock.post(f"{API}/api/v1/users/me/withdraws", payload={"status": "success", "message": "Successful", "data": {
        "id": "4", "currency": "xrp", "amount": "25", "status": "submitted", "created_at": "2020-09-13T12:26:40.000Z"}})
    transfer = await ex.withdraw("XRP", D("25.0"), "rAddr", tag="12345", narration="rent")
    [request] = sent
    assert request.headers == {"Authorization": "Bearer yyy", "Content-Type": "application/json"}
    assert json.loads(request.body) == {"currency": "xrp", "amount": "25", "fund_uid": "rAddr", "fund_uid2": "12345",
                                        "narration": "rent"}
    assert (transfer.id, transfer.status) == ("4", "pending")


async def test_withdraw_refuses_unknown_options_before_sending(ex, mock, tonces, sent):
    with pytest.raises(BadRequest):
        await ex.withdraw("XRP", D("25"), "rAddr", memo="12345")
    assert sent == []


async def test_raw_v1_post_sends_decimals_as_plain_json_strings(ex, mock, tonces, sent):
    mock.post(f"{API}/api/v1/users/me/orders", payload={"status": "success", "message": "", "data": {}})
    await ex.request("POST", "/api/v1/users/me/orders", {"market": "btcngn", "volume": D("1E-8"), "price": D("1E+2")},
                     auth=True)
    assert json.loads(sent[0].body) == {"market": "btcngn", "volume": "0.00000001", "price": "100"}


async def test_raw_request_signs_v2_paths_and_bears_v1_paths(ex, mock, tonces, sent):
    mock.get(url_of("/api/v1/users/me/wallets"), payload={"status": "success", "message": "", "data": []})
    mock.get(url_of("/api/v2/members/me"), payload={"accounts": []})
    await ex.request("GET", "/api/v2/members/me", auth=True)
    await ex.request("GET", "/api/v1/users/me/wallets", auth=True)
    assert sent[0].url.endswith(f"signature={C1}") and sent[0].headers is None
    assert sent[1].headers == {"Authorization": "Bearer yyy"} and sent[1].url == f"{API}/api/v1/users/me/wallets"


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "body", "error"), [
    (401, v2_error(2001, "Authorization failed"), AuthenticationError),
    (401, v2_error(2005, "The signature x is incorrect."), AuthenticationError),
    (401, v2_error(2008, "The access key does not exist."), AuthenticationError),
    (401, v2_error(2009, "The access key is disabled."), AuthenticationError),
    (401, v2_error(2010, "The access key has expired."), AuthenticationError),
    (401, v2_error(2006, "The tonce 1 has already been used."), InvalidNonce),
    (401, v2_error(2007, "The tonce 1 is invalid, current timestamp is 1600000000000."), InvalidNonce),
    (401, v2_error(2011, "Requested API is out of access key scopes."), PermissionDenied),
    (400, v2_error(2002, "Failed to create order. Reason: insufficient balance, need 4000"), InsufficientFunds),
    (400, v2_error(2002, "Failed to create order. Reason: amount 0.00001 is below the minimum"), InvalidOrder),
    (400, v2_error(2003, "Failed to cancel order. Reason: Order#7 is done"), InvalidOrder),
    (404, v2_error(2004, "Order#7 doesn't exist."), OrderNotFound),
    (404, v2_error(2012, "Deposit#ab doesn't exist."), OrderNotFound),
    (400, v2_error(1001, "market does not have a valid value"), BadSymbol),
    (400, v2_error(1001, "market is missing"), BadRequest),
    (400, v2_error(1001, "limit does not have a valid value"), BadRequest),
    (429, v2_error(429, "rate limit exceeded"), RateLimited),
    (503, v2_error(503, "Service Unavailable"), ExchangeUnavailable),
    (401, v1_error("unauthorized", "Unauthorized: invalid token"), AuthenticationError),
    (400, v1_error("insufficient_balance", "Insufficient balance"), InsufficientFunds),
    (400, v1_error("validation_error", "amount does not have a valid value"), BadRequest),
    (400, v1_error("order_failed", "Failed to create order. Reason: precision"), InvalidOrder),
    (429, v1_error("rate_limited", "rate limit exceeded"), RateLimited),
])
async def test_error_codes_map_to_our_errors_keeping_code_and_message(ex, mock, tonces, status, body, error):
    mock.get(url_of("/api/v2/members/me"), status=status, payload=body, repeat=True)
    with pytest.raises(error) as raised:
        await ex.fetch_balances()
    assert type(raised.value) is error
    if status < 500:
        detail = body.get("error") or body["data"]
        assert raised.value.code == str(detail["code"]) and raised.value.message == detail["message"]
        assert raised.value.status == status


async def test_error_messages_never_show_our_access_key_or_signature(ex, mock, tonces):
    echoed = f"The signature {C1} is incorrect."
    mock.get(url_of("/api/v2/members/me"), status=401, payload=v2_error(2005, echoed))
    mock.get(url_of("/api/v2/deposit"), status=401, payload=v2_error(2008, "The access key xxx does not exist."))
    with pytest.raises(AuthenticationError) as bad_signature:
        await ex.fetch_balances()
    with pytest.raises(AuthenticationError) as bad_key:
        await ex.request("GET", "/api/v2/deposit", {"txid": "ab"}, auth=True)
    assert bad_signature.value.message == "The signature *** is incorrect."
    assert "xxx" not in str(bad_key.value) and bad_key.value.message.startswith("The access key <")


async def test_v1_not_found_is_order_not_found_only_on_order_paths(ex, mock, tonces):
    body = v1_error("not_found", "Order 9 not found")
    mock.get(url_of("/api/v1/users/me/orders/9"), status=404, payload=body)
    mock.get(url_of("/api/v1/users/me/withdraws/9"), status=404, payload=body)
    with pytest.raises(OrderNotFound):
        await ex.request("GET", "/api/v1/users/me/orders/9", auth=True)
    with pytest.raises(BadRequest) as raised:
        await ex.request("GET", "/api/v1/users/me/withdraws/9", auth=True)
    assert type(raised.value) is BadRequest


async def test_rate_limited_keeps_retry_after_seconds(ex, mock):
    mock.get(url_of("/api/v2/markets"), status=429, payload=v2_error(429, "rate limit exceeded"),
             headers={"Retry-After": "7"})
    with pytest.raises(RateLimited) as raised:
        await ex.load_markets()
    assert raised.value.retry_after == 7.0


async def test_invalid_nonce_is_retried_once_with_a_fresh_tonce(ex, mock, tonces, sent):
    mock.get(url_of("/api/v2/members/me"), status=401, payload=v2_error(2007, "The tonce is invalid"))
    mock.get(url_of("/api/v2/members/me"), payload={"accounts": []})
    assert await ex.fetch_balances() == {}
    assert tonces == [TONCE, TONCE + 1] and len(sent) == 2


async def test_missing_credentials_refuse_private_calls_before_sending(mock, sent):
    async with connectors.open("quidax") as ex:
        with pytest.raises(AuthenticationError):
            await ex.fetch_balances()
    assert sent == []


async def test_retry_policy_does_not_resend_a_post_after_a_5xx(mock, sent):
    """A 5xx on ``/orders`` leaves the order's fate unknown; nothing is sent twice."""
    async with connectors.open("quidax", key="xxx", secret="yyy", sync_clock=False,
                               retry=RetryPolicy(base_delay=0.0, max_delay=0.0),
                               rate_limits={"public": Pool(1000), "private": Pool(1000, per_key=True)}) as ex:
        mock.get(f"{API}/api/v2/markets", payload=MARKETS)
        mock.post(f"{API}/api/v2/orders", status=502, payload=v2_error(502, "Bad Gateway"))
        with pytest.raises(OutcomeUnknown):
            await ex.create_order("BTC/NGN", "buy", D("1"), D("4000"))
    assert [p.path for p in sent] == ["/api/v2/markets", "/api/v2/orders"]
