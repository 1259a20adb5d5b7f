"""CoinDCX request shaping against aioresponses: hosts, paths, queries, the exact signed JSON
bodies (the spec's vectors C1–C3 where they apply) and headers; emulations; error mapping."""

import bisect
import json
import math
from decimal import Decimal as D

import pytest
from aioresponses import CallbackResult
from yarl import URL

import connectors
from connectors.coindcx import CoinDCX
from core.errors import (
    AuthenticationError,
    BadRequest,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidOrder,
    NotSupported,
    OrderNotFound,
    OutcomeUnknown,
    RateLimited,
)
from core.ratelimit import RateLimit, RateLimiter

from tests.connectors.conftest import MockResponse

from .conftest import TIMESTAMP
from .test_signing import C1, C2, C2_BODY, C3

API = "https://api.coindcx.com"
PUBLIC = "https://public.coindcx.com"
DETAILS = f"{API}/exchange/v1/markets_details"
ORDER_ID = "ead19992-43fd-11e8-b027-bb815bcb14ed"
MARKETS = [
    {"coindcx_name": "BTCINR", "base_currency_short_name": "INR", "target_currency_short_name": "BTC",
     "target_currency_name": "Bitcoin", "base_currency_name": "Indian Rupee", "min_quantity": 0.00001,
     "max_quantity": 100, "min_price": 100000, "max_price": 100000000, "min_notional": 100,
     "base_currency_precision": 2, "target_currency_precision": 5, "step": 0.00001,
     "order_types": ["market_order", "limit_order"], "symbol": "BTCINR", "ecode": "I", "pair": "I-BTC_INR",
     "status": "active"},
    {"coindcx_name": "SNTBTC", "base_currency_short_name": "BTC", "target_currency_short_name": "SNT",
     "target_currency_name": "Status", "base_currency_name": "Bitcoin", "min_quantity": 1, "max_quantity": 90000000,
     "min_price": 1e-8, "max_price": 1, "min_notional": 0.0001, "base_currency_precision": 8,
     "target_currency_precision": 0, "step": 1, "order_types": ["limit_order"], "symbol": "SNTBTC", "ecode": "B",
     "pair": "B-SNT_BTC", "status": "active"},
    {"coindcx_name": "ETHINR", "base_currency_short_name": "INR", "target_currency_short_name": "ETH",
     "target_currency_name": "Ethereum", "base_currency_name": "Indian Rupee", "min_quantity": 0.0001,
     "max_quantity": 1000, "min_price": 10000, "max_price": 10000000, "min_notional": 100,
     "base_currency_precision": 2, "target_currency_precision": 4, "step": 0.0001,
     "order_types": ["market_order", "limit_order"], "symbol": "ETHINR", "ecode": "I", "pair": "I-ETH_INR",
     "status": "active"},
]


def order_json(order_id: str = ORDER_ID, market: str = "BTCINR", status: str = "open", created: int = 1) -> dict:
    return {"id": order_id, "market": market, "order_type": "limit_order", "side": "buy", "status": status,
            "total_quantity": 0.001, "remaining_quantity": 0.001, "avg_price": 0.0, "price_per_unit": 5800000.0,
            "fee_amount": 0.0, "fee": 0.1, "created_at": created, "updated_at": created}


def sent(mock, method: str, url: str) -> list[tuple[dict[str, str], bytes | None]]:
    """(headers without the session's User-Agent, body) of each request made to ``url``."""
    return [({k: v for k, v in call.kwargs["headers"].items() if k != "User-Agent"}, call.kwargs.get("data"))
            for call in mock.requests.get((method, URL(url)), [])]


def signed(body: bytes, signature: str) -> tuple[dict[str, str], bytes]:
    return {"X-AUTH-APIKEY": "mykey", "X-AUTH-SIGNATURE": signature, "Content-Type": "application/json"}, body


@pytest.fixture
def markets(mock):
    mock.get(DETAILS, payload=MARKETS, repeat=True)


# -- public -------------------------------------------------------------------------------


async def test_markets_load_from_markets_details_with_the_order_symbol_as_id(ex, markets, mock):
    loaded = await ex.load_markets()
    assert list(loaded) == ["BTC/INR", "SNT/BTC", "ETH/INR"]
    btc = loaded["BTC/INR"]
    assert (btc.id, btc.base, btc.quote, btc.min_amount, btc.min_cost) == ("BTCINR", "BTC", "INR", D("0.00001"),
                                                                           D("100"))
    assert sent(mock, "GET", DETAILS) == [({}, None)]


async def test_order_book_asks_the_public_host_for_the_pair(ex, markets, mock, load):
    url = f"{PUBLIC}/market_data/orderbook?pair=I-BTC_INR"
    mock.get(url, body=load("orderbook"))
    book = await ex.fetch_order_book("BTC/INR", limit=1)
    assert book.bids[0].price == D("71197.90") and book.asks[0].price == D("71198.00") and len(book.bids) == 1
    assert book.timestamp == 1717694482206 and len(sent(mock, "GET", url)) == 1


async def test_trades_ask_the_public_host_with_pair_and_limit_and_come_oldest_first(ex, markets, mock):
    url = f"{PUBLIC}/market_data/trade_history?pair=I-BTC_INR&limit=2"
    mock.get(url, payload=[{"p": 2, "q": "0.1", "s": "BTCINR", "T": 20, "m": True},
                           {"p": 1, "q": "0.2", "s": "BTCINR", "T": 10, "m": False}])
    trades = await ex.fetch_trades("BTC/INR", limit=2)
    assert [(t.timestamp, t.side, t.price) for t in trades] == [(10, "buy", D("1")), (20, "sell", D("2"))]


async def test_candles_send_interval_start_time_and_limit_and_come_oldest_first(ex, markets, mock, load):
    url = f"{PUBLIC}/market_data/candles?pair=I-BTC_INR&interval=1M&startTime=1561463700000&limit=2"
    mock.get(url, payload=[{"open": 2, "high": 2, "low": 2, "close": 2, "volume": 1, "time": 2000},
                           {"open": 1, "high": 1, "low": 1, "close": 1, "volume": 1, "time": 1000}])
    candles = await ex.fetch_candles("BTC/INR", "1M", since=1561463700000, limit=2)
    assert [c.timestamp for c in candles] == [1000, 2000]


async def test_unknown_timeframe_is_refused_before_sending(ex, markets):
    with pytest.raises(BadRequest):
        await ex.fetch_candles("BTC/INR", "12h")


async def test_tickers_come_from_the_api_host_by_order_symbol(ex, markets, mock, load):
    mock.get(f"{API}/exchange/ticker", payload=[*json.loads(load("ticker_live")), {"market": "XYZINR", "timestamp": 1}],
             repeat=True)
    ticker = await ex.fetch_ticker("BTC/INR")
    assert ticker.last == D("6181299.06") and ticker.timestamp == 1717616755000 and ticker.volume is None
    assert list(await ex.fetch_tickers()) == ["BTC/INR"]


async def test_currencies_are_derived_from_markets_details(ex, markets):
    currencies = await ex.fetch_currencies()
    assert sorted(currencies) == ["BTC", "ETH", "INR", "SNT"] and currencies["INR"].name == "Indian Rupee"


async def test_base_url_replaces_the_api_and_the_public_host():
    async with connectors.open("coindcx", base_url="http://127.0.0.1:8001/") as ex:
        assert ex._hosts == {"api": "http://127.0.0.1:8001", "public": "http://127.0.0.1:8001"}


# -- private --------------------------------------------------------------------------------


async def test_balances_sign_the_bare_timestamp_as_vector_c1(ex, mock, timestamps, load):
    mock.post(f"{API}/exchange/v1/users/balances", body=load("balances_live"))
    balances = await ex.fetch_balances()
    assert balances["USDT"].free == D("80.0")
    assert sent(mock, "POST", f"{API}/exchange/v1/users/balances") == [
        signed(b'{"timestamp":1524211224000}', C1)]


async def test_create_order_sends_exactly_the_vector_c2_bytes(ex, markets, mock, timestamps):
    url = f"{API}/exchange/v1/orders/create"
    mock.post(url, payload={"orders": [order_json(market="SNTBTC")]})
    order = await ex.create_order("SNT/BTC", "buy", D("400"), D("0.03244"))
    assert order.id == ORDER_ID and order.symbol == "SNT/BTC"
    assert sent(mock, "POST", url) == [signed(C2_BODY, C2)]


async def test_market_order_sends_no_price(ex, markets, mock, timestamps):
    url = f"{API}/exchange/v1/orders/create"
    mock.post(url, payload={"orders": [order_json()]})
    await ex.create_order("BTC/INR", "sell", D("0.00100"), type="market")
    [(_, body)] = sent(mock, "POST", url)
    assert body == (b'{"side":"sell","order_type":"market_order","market":"BTCINR","total_quantity":0.001,'
                    b'"timestamp":1524211224000}')


async def test_market_order_refused_where_the_market_lists_only_limit_orders(ex, markets, mock):
    with pytest.raises(InvalidOrder):
        await ex.create_order("SNT/BTC", "buy", D("400"), type="market")
    assert not mock.requests.get(("POST", URL(f"{API}/exchange/v1/orders/create")))


async def test_too_precise_amount_is_refused_before_sending(ex, markets, mock):
    with pytest.raises(InvalidOrder):
        await ex.create_order("BTC/INR", "buy", D("0.000011"), D("5800000"))
    assert not mock.requests.get(("POST", URL(f"{API}/exchange/v1/orders/create")))


@pytest.mark.parametrize("answer", [{"body": b'{"message": "success", "status": 200, "code": 200}'}, {"body": b""}])
async def test_cancel_sends_vector_c3_and_accepts_success_or_an_empty_body(ex, mock, timestamps, answer):
    url = f"{API}/exchange/v1/orders/cancel"
    mock.post(url, **answer)
    assert await ex.cancel_order(ORDER_ID) is None
    assert sent(mock, "POST", url) == [signed(f'{{"id":"{ORDER_ID}","timestamp":1524211224000}}'.encode(), C3)]


async def test_fetch_order_asks_status_by_id_and_names_the_unified_symbol(ex, markets, mock, timestamps, load):
    url = f"{API}/exchange/v1/orders/status"
    mock.post(url, payload=order_json(status="partially_filled"))
    order = await ex.fetch_order(ORDER_ID)
    assert (order.symbol, order.status) == ("BTC/INR", "open")
    assert sent(mock, "POST", url) == [signed(f'{{"id":"{ORDER_ID}","timestamp":1524211224000}}'.encode(), C3)]


async def test_two_identical_calls_in_one_ms_get_distinct_timestamps_and_signatures(ex, mock, monkeypatch):
    monkeypatch.setattr(ex.nonces, "_clock", lambda: 1524211224.0)
    url = f"{API}/exchange/v1/users/balances"
    mock.post(url, payload=[], repeat=True)
    await ex.fetch_balances()
    await ex.fetch_balances()
    (first_headers, first), (second_headers, second) = sent(mock, "POST", url)
    assert (first, second) == (b'{"timestamp":1524211224000}', b'{"timestamp":1524211224001}')
    assert first_headers["X-AUTH-SIGNATURE"] == C1 != second_headers["X-AUTH-SIGNATURE"]


async def test_open_orders_of_a_market_accept_the_live_object(ex, markets, mock, timestamps, load):
    url = f"{API}/exchange/v1/orders/active_orders"
    mock.post(url, payload={"orders": [order_json()], "details": False, "cp": False, "cp_hash": {}})
    [order] = await ex.fetch_open_orders("BTC/INR")
    assert order.symbol == "BTC/INR" and order.price == D("5800000.0")
    [(_, body)] = sent(mock, "POST", url)
    assert body == b'{"market":"BTCINR","timestamp":1524211224000}'


async def test_cancel_all_of_a_market_is_one_native_call(ex, markets, mock, timestamps):
    url = f"{API}/exchange/v1/orders/cancel_all"
    mock.post(url, payload={"message": "success", "status": 200, "code": 200})
    assert await ex.cancel_all_orders("ETH/INR") == []
    [(_, body)] = sent(mock, "POST", url)
    assert body == b'{"market":"ETHINR","timestamp":1524211224000}'


def locked_in_inr_and_open_only_in_eth(mock):
    """Balances lock INR only (buy orders), so BTCINR and ETHINR are candidates; only ETHINR has any."""
    mock.post(f"{API}/exchange/v1/users/balances", payload=[
        {"currency": "INR", "balance": "10", "locked_balance": "5"},
        {"currency": "BTC", "balance": "1", "locked_balance": "0"},
        {"currency": "SNT", "balance": "3", "locked_balance": "0.0"}])
    mock.post(f"{API}/exchange/v1/orders/active_orders_count", callback=lambda url, **kw: _count(kw["data"]),
              repeat=True)


def _count(body: bytes) -> CallbackResult:
    return CallbackResult(payload={"count": 2 if b'"ETHINR"' in body else 0, "status": 200},
                          response_class=MockResponse)


async def test_open_orders_without_symbol_list_only_markets_that_hold_some(ex, markets, mock, timestamps):
    locked_in_inr_and_open_only_in_eth(mock)
    url = f"{API}/exchange/v1/orders/active_orders"
    mock.post(url, payload=[order_json(market="ETHINR")])
    [order] = await ex.fetch_open_orders()
    assert order.symbol == "ETH/INR"
    counted = sorted(json.loads(body)["market"] for _, body in sent(mock, "POST",
                                                                     f"{API}/exchange/v1/orders/active_orders_count"))
    assert counted == ["BTCINR", "ETHINR"]  # SNTBTC trades no currency with a locked balance
    assert [json.loads(body)["market"] for _, body in sent(mock, "POST", url)] == ["ETHINR"]


async def test_cancel_all_without_symbol_cancels_each_market_that_holds_orders(ex, markets, mock, timestamps):
    locked_in_inr_and_open_only_in_eth(mock)
    url = f"{API}/exchange/v1/orders/cancel_all"
    mock.post(url, payload={"message": "success", "status": 200, "code": 200})
    assert await ex.cancel_all_orders() == []
    assert [json.loads(body)["market"] for _, body in sent(mock, "POST", url)] == ["ETHINR"]


async def test_fetch_orders_adds_placed_and_traded_orders_through_status_multiple(ex, markets, mock, timestamps):
    mock.post(f"{API}/exchange/v1/orders/create", payload={"orders": [order_json("placed")]})
    await ex.create_order("BTC/INR", "buy", D("0.001"), D("5800000"))
    mock.post(f"{API}/exchange/v1/orders/active_orders", payload={"orders": [order_json("open", created=3)]})
    mock.post(f"{API}/exchange/v1/orders/trade_history", payload=[
        {"id": 7, "order_id": "traded", "side": "buy", "quantity": "0.001", "price": "5800000", "symbol": "BTCINR",
         "timestamp": 5}, {"id": 8, "order_id": "open", "side": "buy", "quantity": "0.001", "price": "5800000",
                           "symbol": "BTCINR", "timestamp": 6}])
    status_url = f"{API}/exchange/v1/orders/status_multiple"
    mock.post(status_url, payload=[order_json("placed", status="cancelled", created=1),
                                   order_json("traded", status="filled", created=2)])
    orders = await ex.fetch_orders("BTC/INR")
    assert [(o.id, o.status) for o in orders] == [("placed", "canceled"), ("traded", "closed"), ("open", "open")]
    [(_, body)] = sent(mock, "POST", status_url)
    assert json.loads(body)["ids"] == ["placed", "traded"]
    [(_, trades_body)] = sent(mock, "POST", f"{API}/exchange/v1/orders/trade_history")
    assert trades_body.startswith(b'{"symbol":"BTCINR","sort":"desc",')


async def test_my_trades_ask_newest_first_and_come_oldest_first_with_fee_in_quote(ex, markets, mock, timestamps):
    url = f"{API}/exchange/v1/orders/trade_history"
    mock.post(url, payload=[
        {"id": 9, "order_id": "b", "side": "sell", "fee_amount": "1.5", "quantity": "0.1", "price": "2", "symbol":
         "BTCINR", "timestamp": 1718386312255.3608},
        {"id": 8, "order_id": "a", "side": "buy", "fee_amount": "0.5", "quantity": "0.2", "price": "1", "symbol":
         "ETHINR", "timestamp": 1718386312000}])
    trades = await ex.fetch_my_trades(limit=2)
    assert [(t.id, t.symbol, t.timestamp, t.fee_currency) for t in trades] == [
        ("8", "ETH/INR", 1718386312000, "INR"), ("9", "BTC/INR", 1718386312255, "INR")]
    [(_, body)] = sent(mock, "POST", url)
    assert body == b'{"limit":2,"sort":"desc","timestamp":1524211224000}'


async def test_edit_order_sends_id_and_plain_price(ex, markets, mock, timestamps):
    url = f"{API}/exchange/v1/orders/edit"
    mock.post(url, payload=order_json())
    order = await ex.edit_order(ORDER_ID, "5800000.50")
    assert order.symbol == "BTC/INR"
    [(_, body)] = sent(mock, "POST", url)
    assert body == f'{{"id":"{ORDER_ID}","price_per_unit":5800000.5,"timestamp":1524211224000}}'.encode()


async def test_raw_request_to_a_declared_endpoint_takes_only_its_own_pools(ex, mock, timestamps):
    url = f"{API}/exchange/v1/orders/create_multiple"
    mock.post(url, payload={"orders": []})
    orders = [{"market": "BTCINR", "total_quantity": D("0.001"), "price_per_unit": D("5800000"), "side": "buy",
               "order_type": "limit_order", "ecode": "I"}]
    assert await ex.request("POST", "/exchange/v1/orders/create_multiple", {"orders": orders}, auth=True) == {
        "orders": []}
    [(_, body)] = sent(mock, "POST", url)
    assert body == (b'{"orders":[{"market":"BTCINR","total_quantity":0.001,"price_per_unit":5800000,"side":"buy",'
                    b'"order_type":"limit_order","ecode":"I"}],"timestamp":1524211224000}')
    assert ex._pools["create_multiple"]._tat > -math.inf
    assert ex._pools["cancel_all"]._tat == ex._pools["active_orders"]._tat == -math.inf


async def test_seed_era_balances_alias_is_reachable_through_request(ex, mock, timestamps):
    url = f"{API}/exchange/users/balances"
    mock.post(url, payload=[{"currency": "BTC", "balance": 1.167, "locked_balance": 2.1}])
    assert await ex.request("POST", "/exchange/users/balances", auth=True) == [
        {"currency": "BTC", "balance": D("1.167"), "locked_balance": D("2.1")}]
    assert sent(mock, "POST", url) == [signed(b'{"timestamp":1524211224000}', C1)]


async def test_private_reads_are_retried_after_a_5xx(ex, mock, timestamps):
    url = f"{API}/exchange/v1/users/balances"
    mock.post(url, status=503, payload={"code": 503, "message": "Service Unavailable", "status": "error"})
    mock.post(url, payload=[])
    assert await ex.fetch_balances() == {}
    assert [json.loads(body)["timestamp"] for _, body in sent(mock, "POST", url)] == [TIMESTAMP, TIMESTAMP + 1]


async def test_a_5xx_after_create_raises_outcome_unknown_without_retrying(ex, markets, mock, timestamps):
    url = f"{API}/exchange/v1/orders/create"
    mock.post(url, status=500, payload={"code": 500, "message": "Internal server error", "status": "error"})
    with pytest.raises(OutcomeUnknown):
        await ex.create_order("BTC/INR", "buy", D("0.001"), D("5800000"))
    assert len(sent(mock, "POST", url)) == 1


# -- errors ---------------------------------------------------------------------------------

ERRORS = [
    ("balances", 400, "Invalid Request.", BadRequest),
    ("balances", 401, "Invalid credentials", AuthenticationError),
    ("balances", 429, "Too Many Requests", RateLimited),
    ("balances", 503, "Service Unavailable", ExchangeUnavailable),
    ("status", 404, "Order not found", OrderNotFound),
    ("status", 404, "not_found", OrderNotFound),
    ("cancel", 400, "This order cannot be cancelled", InvalidOrder),
    ("create", 422, "Invalid Request", InvalidOrder),
    ("create", 422, "Insufficient funds", InsufficientFunds),
    ("create", 422, "Order type not allowed", InvalidOrder),
    ("create", 422, "Open orders limit reached for this market", InvalidOrder),
    ("edit", 422, "Edit order is not available yet for this exchange", InvalidOrder),
    ("cancel_all", 400, "Invalid Request.", BadRequest),
]


@pytest.mark.parametrize(("endpoint", "status", "message", "error"), ERRORS)
async def test_error_bodies_map_onto_our_errors_keeping_code_and_message(ex, mock, endpoint, status, message, error):
    path = "/exchange/v1/users/balances" if endpoint == "balances" else f"/exchange/v1/orders/{endpoint}"
    mock.post(API + path, status=status, payload={"code": status, "message": message, "status": "error"},
              repeat=True)
    with pytest.raises(error) as caught:
        await ex.request("POST", path, {"id": ORDER_ID}, auth=True)
    assert (caught.value.status, caught.value.code, caught.value.message) == (status, str(status), message)


async def test_html_error_page_falls_back_to_the_http_status(ex, mock):
    path = "/exchange/v1/orders/status"
    mock.post(API + path, status=401, body=b"<html>Unauthorized</html>")
    with pytest.raises(AuthenticationError):
        await ex.request("POST", path, {"id": ORDER_ID}, auth=True)


@pytest.mark.parametrize("method", ["fetch_server_time", "fetch_deposits", "fetch_withdrawals"])
async def test_what_coindcx_lacks_raises_not_supported_with_a_reason(ex, method):
    assert ex.has[method] is False
    with pytest.raises(NotSupported) as caught:
        await getattr(ex, method)()
    assert caught.value.reason


async def test_deposit_address_and_withdraw_are_not_supported(ex):
    with pytest.raises(NotSupported):
        await ex.fetch_deposit_address("BTC")
    with pytest.raises(NotSupported):
        await ex.withdraw("BTC", D("1"), "addr")
    assert ex.has["create_market_order"] and ex.has["fetch_orders"] and ex.has["fetch_currencies"]


async def test_private_calls_do_not_try_to_sync_a_clock_that_coindcx_does_not_publish(ex, mock, timestamps):
    mock.post(f"{API}/exchange/v1/users/balances", payload=[])
    await ex.fetch_balances()
    assert len(mock.requests) == 1


# -- rate limits ----------------------------------------------------------------------------

# pool -> the documented limit: calls per seconds (public paths keep to the general 16/s)
DOCUMENTED = {
    "public": (16, 1.0), "private": (16, 1.0), "private_minute": (960, 60.0), "cancel_all": (30, 60.0),
    "cancel_by_ids": (300, 60.0), "active_orders": (300, 60.0), "create_order": (2000, 60.0),
    "create_multiple": (2000, 60.0), "order_status": (2000, 60.0), "status_multiple": (2000, 60.0),
    "cancel_order": (2000, 60.0), "edit_order": (2000, 60.0),
}


def test_every_pool_is_declared_with_its_documented_limit():
    assert set(CoinDCX.rate_limits) == set(DOCUMENTED)
    assert all(spec.per_key for name, spec in CoinDCX.rate_limits.items() if name != "public")


@pytest.mark.parametrize(("pool", "limit", "seconds"), [(n, *v) for n, v in DOCUMENTED.items()])
def test_a_saturated_pool_never_fills_the_servers_sliding_window(pool, limit, seconds):
    spec = CoinDCX.rate_limits[pool]
    limiter = RateLimiter(RateLimit(pool, spec.rate, spec.period, spec.burst, clock=lambda: 0.0))
    sent_at = [limiter.reserve(now=0.0) for _ in range(3 * limit)]  # everyone asks at once
    # calls in the window (t - seconds, t] ending at each call; a call exactly `seconds` after
    # another is outside, up to the limiter's 1 µs slack for float rounding
    busiest = max(i + 1 - bisect.bisect_right(sent_at, t - seconds + 1e-6) for i, t in enumerate(sent_at))
    assert busiest == limit - 1  # one below the limit: room for a request that arrives early


@pytest.mark.parametrize(("endpoint", "own"), [
    ("balances", None), ("create_order", "create_order"), ("create_order_seed", "create_order"),
    ("cancel_all", "cancel_all"), ("active_orders", "active_orders"), ("my_trades", None),
])
def test_private_endpoints_take_from_the_general_pools_and_their_own(endpoint, own):
    expected = ("private", "private_minute") if own is None else ("private", "private_minute", own)
    assert CoinDCX.endpoints[endpoint].pools == expected
