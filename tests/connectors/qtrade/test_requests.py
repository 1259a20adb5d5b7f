"""Request shaping (method, path, query, headers, body, signature) and error mapping, with
aioresponses and a fixed clock."""

import base64
import hashlib
from decimal import Decimal

import pytest
from aioresponses.core import normalize_url
from yarl import URL

import connectors
from connectors.qtrade import QTrade
from core.connector import Pool
from core.errors import (
    AuthenticationError,
    BadRequest,
    BadSymbol,
    ExchangeError,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidNonce,
    InvalidOrder,
    NotSupported,
    OrderNotFound,
    PermissionDenied,
    RateLimited,
)
from core.models import Balance, DepositAddress
from core.transport import RetryPolicy

D = Decimal
API = "https://api.qtrade.io"
KEY_ID, SECRET = "1", "1" * 64
NOW = 1573604427.75  # the clock; HMAC-Timestamp is its whole seconds
TIMESTAMP = "1573604427"
MARKETS = {"data": {"markets": [
    {"id": 1, "market_currency": "LTC", "base_currency": "BTC", "market_string": "LTC_BTC", "maker_fee": "0",
     "taker_fee": "0.005", "can_trade": True, "can_cancel": True, "can_view": True, "minimum_sell_amount": "0.001",
     "minimum_buy_value": "0.0001", "market_precision": 8, "base_precision": 8},
]}}
ORDER = {"id": 13254, "market_id": 1, "order_type": "sell_limit", "price": "0.01", "market_amount": "1",
         "market_amount_remaining": "1", "open": True, "created_at": "2018-04-06T20:47:11.966139Z", "trades": []}


def expected_headers(method: str, uri: str, body: str = "") -> dict[str, str]:
    """qTrade's headers computed independently of the connector's Signer."""
    text = f"{method}\n{uri}\n{TIMESTAMP}\n{body}\n{SECRET}"
    signature = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return {"Authorization": f"HMAC-SHA256 {KEY_ID}:{signature}", "HMAC-Timestamp": TIMESTAMP}


def open_qtrade(**options) -> QTrade:
    limits = {"public": Pool(1000), "private": Pool(1000, per_key=True)}  # this test's own buckets
    return connectors.open("qtrade", key=KEY_ID, secret=SECRET, rate_limits=limits, **options)


@pytest.fixture
def http(mock):
    mock.get(f"{API}/v1/markets", payload=MARKETS)
    return mock


@pytest.fixture
async def ex(monkeypatch):
    async with open_qtrade() as connector:
        monkeypatch.setattr(connector, "_clock", lambda: NOW)
        yield connector


def sent(http, method: str, url: str, index: int = 0):
    """The recorded call (aioresponses keys calls by the URL with its query sorted)."""
    return http.requests[(method, normalize_url(URL(url)))][index]


def headers_of(call) -> dict[str, str]:
    """The request's own headers (the session adds User-Agent)."""
    return {k: v for k, v in call.kwargs["headers"].items() if k != "User-Agent"}


# -- public ---------------------------------------------------------------------------


async def test_order_book_is_an_unsigned_get_by_market_id(ex, http):
    http.get(f"{API}/v1/orderbook/1", payload={"data": {"buy": {"0.004": "1"}, "sell": {"0.005": "2"},
                                                        "last_change": 1595029625809804}})
    book = await ex.fetch_order_book("LTC/BTC")
    call = sent(http, "GET", f"{API}/v1/orderbook/1")
    assert "Authorization" not in (call.kwargs.get("headers") or {})
    assert (book.bids[0].price, book.asks[0].price, book.timestamp) == (D("0.004"), D("0.005"), 1595029625809)


async def test_candles_send_interval_in_path_and_start_in_seconds(ex, http):
    url = f"{API}/v1/market/1/ohlcv/onehour?start=1573604427&limit=2"
    http.get(url, payload={"data": {"slices": [
        {"time": "2019-11-13T01:00:00Z", "open": "2", "high": "3", "low": "1", "close": "2", "volume": "4",
         "market_volume": "2"},
        {"time": "2019-11-13T00:00:00Z", "open": "1", "high": "2", "low": "1", "close": "2", "volume": "3",
         "market_volume": "1.5"}]}})
    candles = await ex.fetch_candles("LTC/BTC", "1h", since=1573604427999, limit=2)
    assert sent(http, "GET", url).kwargs.get("data") is None
    assert [c.timestamp for c in candles] == [1573603200000, 1573606800000]
    assert [c.volume for c in candles] == [D("1.5"), D("2")]


async def test_unknown_timeframe_is_refused_before_sending(ex, http):
    with pytest.raises(BadRequest):
        await ex.fetch_candles("LTC/BTC", "1m")


# -- private: signing -------------------------------------------------------------------


async def test_open_orders_sign_the_query_exactly_as_sent(ex, http):
    url = f"{API}/v1/user/orders?open=true&market_id=1"
    http.get(url, payload={"data": {"orders": [ORDER]}})
    (order,) = await ex.fetch_open_orders("LTC/BTC")
    call = sent(http, "GET", url)
    assert headers_of(call) == expected_headers("GET", "/v1/user/orders?open=true&market_id=1")
    assert call.kwargs.get("data") is None
    assert (order.id, order.side, order.status) == ("13254", "sell", "open")


async def test_sell_limit_posts_and_signs_the_exact_json_body(ex, http):
    http.post(f"{API}/v1/user/sell_limit", payload={"data": {"order": ORDER}})
    order = await ex.create_order("LTC/BTC", "sell", D("1"), D("0.01"))
    call = sent(http, "POST", f"{API}/v1/user/sell_limit")
    body = b'{"amount":"1","price":"0.01","market_id":1}'
    assert call.kwargs["data"] == body
    assert headers_of(call) == {**expected_headers("POST", "/v1/user/sell_limit", body.decode()),
                                      "Content-Type": "application/json"}
    assert (order.price, order.amount, order.remaining) == (D("0.01"), D("1"), D("1"))


async def test_buy_goes_to_buy_limit(ex, http):
    http.post(f"{API}/v1/user/buy_limit", payload={"data": {"order": {**ORDER, "order_type": "buy_limit"}}})
    order = await ex.create_order("LTC/BTC", "buy", "1", "0.01")
    assert order.side == "buy"
    assert sent(http, "POST", f"{API}/v1/user/buy_limit").kwargs["data"] == b'{"amount":"1","price":"0.01","market_id":1}'


async def test_market_orders_are_not_supported(ex, http):
    with pytest.raises(NotSupported):
        await ex.create_order("LTC/BTC", "buy", D("1"), type="market")


async def test_cancel_posts_the_integer_id_and_returns_none_on_the_empty_body(ex, http):
    http.post(f"{API}/v1/user/cancel_order", body=b"")
    assert await ex.cancel_order("109") is None
    call = sent(http, "POST", f"{API}/v1/user/cancel_order")
    assert call.kwargs["data"] == b'{"id":109}'
    assert call.kwargs["headers"]["Authorization"] == expected_headers("POST", "/v1/user/cancel_order",
                                                                       '{"id":109}')["Authorization"]


async def test_non_integer_order_id_is_not_found_without_a_request(ex, http):
    with pytest.raises(OrderNotFound):
        await ex.fetch_order("abc")
    assert not any(url.path.startswith("/v1/user") for _, url in http.requests)


async def test_cancel_all_lists_open_orders_and_cancels_each(ex, http):
    second = {**ORDER, "id": 13255}
    http.get(f"{API}/v1/user/orders?open=true", payload={"data": {"orders": [ORDER, second]}})
    http.post(f"{API}/v1/user/cancel_order", body=b"", repeat=True)
    canceled = await ex.cancel_all_orders()
    assert [o.id for o in canceled] == ["13254", "13255"]
    bodies = [call.kwargs["data"] for call in http.requests[("POST", URL(f"{API}/v1/user/cancel_order"))]]
    assert bodies == [b'{"id":13254}', b'{"id":13255}']


async def test_balances_use_balances_all_for_free_and_locked(ex, http):
    http.get(f"{API}/v1/user/balances_all", payload={"data": {
        "balances": [{"currency": "BTC", "balance": "0.5"}, {"currency": "LTC", "balance": "2"}],
        "order_balances": [{"currency": "BTC", "balance": "0.1708"}]}})
    balances = await ex.fetch_balances()
    assert balances == {"BTC": Balance("BTC", D("0.5"), D("0.1708")), "LTC": Balance("LTC", D("2"), D(0))}
    assert headers_of(sent(http, "GET", f"{API}/v1/user/balances_all")) == expected_headers(
        "GET", "/v1/user/balances_all")


async def test_my_trades_ask_newest_first_and_return_oldest_first(ex, http):
    url = f"{API}/v1/user/trades?market_id=1&desc=true"
    trade = {"id": 3, "market_amount": "1", "price": "0.01", "order_id": 9, "market_id": 1, "side": "buy",
             "base_fee": "0.00005", "created_at": "2019-10-14T17:42:42.874812Z"}
    older = {**trade, "id": 2, "created_at": "2019-10-14T17:42:41.000000Z"}
    oldest = {**trade, "id": 1, "created_at": "2019-10-14T17:42:40.000000Z"}
    http.get(url, payload={"data": {"trades": [trade, older, oldest]}})
    trades = await ex.fetch_my_trades("LTC/BTC", limit=2)
    assert headers_of(sent(http, "GET", url)) == expected_headers("GET", "/v1/user/trades?market_id=1&desc=true")
    assert [(t.id, t.fee, t.fee_currency) for t in trades] == [("2", D("0.00005"), "BTC"), ("3", D("0.00005"), "BTC")]


async def test_deposit_address_posts_an_empty_json_object(ex, http):
    http.post(f"{API}/v1/user/deposit_address/XRP",
              payload={"data": {"address": "rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh:104", "currency_status": "ok"}})
    address = await ex.fetch_deposit_address("xrp")
    call = sent(http, "POST", f"{API}/v1/user/deposit_address/XRP")
    assert call.kwargs["data"] == b"{}"
    assert call.kwargs["headers"]["Authorization"] == expected_headers("POST", "/v1/user/deposit_address/XRP",
                                                                       "{}")["Authorization"]
    assert address == DepositAddress("XRP", "rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh", "104")


async def test_disabled_deposit_address_raises_with_the_currency_status(ex, http):
    http.post(f"{API}/v1/user/deposit_address/LTC", payload={"data": {"currency_status": "disabled"}})
    with pytest.raises(ExchangeError) as info:
        await ex.fetch_deposit_address("LTC")
    assert info.value.code == "disabled"


async def test_withdraw_joins_the_tag_to_the_address_and_is_pending(ex, http):
    http.post(f"{API}/v1/user/withdraw", status=201, payload={"data": {"code": "initiated", "id": 3, "result": "ok"}})
    transfer = await ex.withdraw("xrp", D("1.50"), "rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh", tag="104")
    call = sent(http, "POST", f"{API}/v1/user/withdraw")
    assert call.kwargs["data"] == b'{"address":"rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh:104","amount":"1.5","currency":"XRP"}'
    assert (transfer.id, transfer.currency, transfer.amount, transfer.status) == ("3", "XRP", D("1.50"), "pending")


async def test_withdraw_refuses_unknown_parameters(ex, http):
    with pytest.raises(BadRequest):
        await ex.withdraw("LTC", D("1"), "addr", memo="x")


async def test_transfers_endpoint_is_fetch_transfers(ex, http):
    http.get(f"{API}/v1/user/transfers", payload={"data": {"transfers": [
        {"id": 9, "currency": "BTC", "amount": "0.5", "created_at": "2018-12-10T00:06:41.066665Z"}]}})
    (transfer,) = await ex.fetch_transfers()
    assert (transfer.id, transfer.status, transfer.amount) == ("9", "ok", D("0.5"))


async def test_burst_in_one_second_sends_the_clock_not_an_increasing_nonce(ex, http):
    http.get(f"{API}/v1/user/balances_all", payload={"data": {"balances": []}}, repeat=True)
    for _ in range(5):
        await ex.fetch_balances()
    calls = http.requests[("GET", URL(f"{API}/v1/user/balances_all"))]
    assert [call.kwargs["headers"]["HMAC-Timestamp"] for call in calls] == [TIMESTAMP] * 5


async def test_query_is_signed_as_yarl_sends_it(ex, http):
    http.get(f"{API}/v1/user/orders?note=a%3Ab%2Fc", payload={"data": {"orders": []}})
    await ex.request("GET", "/v1/user/orders", {"note": "a:b/c"}, auth=True)
    (key, (call,)), = [(k, v) for k, v in http.requests.items() if k[1].path == "/v1/user/orders"]
    assert headers_of(call) == expected_headers("GET", "/v1/user/orders?note=a:b/c")
    assert key[1].raw_query_string == "note=a:b/c"


def test_the_combined_credential_string_as_key_is_refused_with_guidance():
    with pytest.raises(AuthenticationError, match="key=<key_id>"):
        connectors.open("qtrade", key=f"{KEY_ID}:{SECRET}", secret=SECRET)


def test_has_table_names_what_qtrade_cannot_do():
    assert QTrade.has["fetch_server_time"] is False and QTrade.has["create_market_order"] is False
    assert QTrade.has["cancel_all_orders"] is True and "cancel_all_orders" in QTrade.emulated


# -- errors ---------------------------------------------------------------------------


def error_body(code: str, title: str) -> dict:
    return {"errors": [{"code": code, "title": title}]}


@pytest.mark.parametrize(("status", "code", "title", "error"), [
    (401, "invalid_auth", "Invalid HMAC signature", AuthenticationError),
    (403, "invalid_auth", "Invalid HMAC signature", AuthenticationError),
    (403, "no_permission", "Key lacks the Trade realm", PermissionDenied),
    (400, "insuff_funds", "Your available balance is too low for that action", InsufficientFunds),
    (404, "order_not_found", "That order no longer exists", OrderNotFound),
    (404, "market_not_found", "Market not found", BadSymbol),
    (400, "too_small", "Order is too small", InvalidOrder),
    (400, "invalid_amount", "amount has too many decimals", InvalidOrder),
    (400, "invalid_price", "price is below the minimum", InvalidOrder),
    (400, "bad_request", "amount is required", BadRequest),
    (404, "currency_not_found", "Currency Q not found", BadRequest),
])
async def test_error_bodies_map_to_our_errors_keeping_code_and_title(ex, http, status, code, title, error):
    http.post(f"{API}/v1/user/sell_limit", status=status, payload=error_body(code, title))
    with pytest.raises(error) as info:
        await ex.create_order("LTC/BTC", "sell", D("1"), D("0.01"))
    assert type(info.value) is error
    assert (info.value.code, info.value.status) == (code, status) and title in info.value.message


async def test_timestamp_refusal_is_invalid_nonce_and_retried_once(ex, http):
    http.get(f"{API}/v1/user/balances_all", status=401, repeat=True,
             payload=error_body("invalid_auth", "HMAC-Timestamp is outside the accepted window"))
    with pytest.raises(InvalidNonce):
        await ex.fetch_balances()
    assert len(http.requests[("GET", URL(f"{API}/v1/user/balances_all"))]) == 2


async def test_limit_exceeded_waits_for_the_ratelimit_reset_header(http):
    async with open_qtrade(retry=RetryPolicy(max_rate_limited_retries=0)) as ex:
        http.get(f"{API}/v1/orderbook/1", status=429, headers={"X-Ratelimit-Reset": "56"},
                 payload=error_body("limit_exceeded", "Too many requests"))
        with pytest.raises(RateLimited) as info:
            await ex.fetch_order_book("LTC/BTC")
    assert (info.value.retry_after, info.value.code) == (56.0, "limit_exceeded")


async def test_bare_429_still_reads_the_ratelimit_reset_header(http):
    async with open_qtrade(retry=RetryPolicy(max_rate_limited_retries=0)) as ex:
        http.get(f"{API}/v1/orderbook/1", status=429, headers={"X-Ratelimit-Reset": "7"}, body=b"Too Many Requests")
        with pytest.raises(RateLimited) as info:
            await ex.fetch_order_book("LTC/BTC")
    assert info.value.retry_after == 7.0


async def test_maintenance_is_exchange_unavailable(http):
    async with open_qtrade(retry=RetryPolicy(max_retries=0)) as ex:
        http.get(f"{API}/v1/orderbook/1", status=503, payload=error_body("maintenance", "Down for maintenance"))
        with pytest.raises(ExchangeUnavailable) as info:
            await ex.fetch_order_book("LTC/BTC")
    assert info.value.code == "maintenance"
