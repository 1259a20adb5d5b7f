"""Peatio request shaping (aioresponses): exact method, URL, X-Auth headers and JSON body of what
the connector sends, the clock sync, error-code mapping, and the ``has`` table."""

import asyncio
import hmac
import re
from decimal import Decimal as D

import pytest
from aioresponses.compat import normalize_url
from yarl import URL

import connectors
from core.errors import (
    AuthenticationError,
    BadRequest,
    BadSymbol,
    ExchangeError,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidNonce,
    InvalidOrder,
    OrderNotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
)
from core.models import BookLevel, Candle, DepositAddress, Order, Trade, Transfer

API = "https://exchange.intercore.trade/api/v2/peatio"
MARKETS = f"{API}/public/markets?limit=1000"
TIMESTAMP = f"{API}/public/timestamp"
BALANCES = f"{API}/account/balances?limit=1000"
ORDERS = f"{API}/market/orders"
C3_HEADERS = {
    "X-Auth-Apikey": "61d025b8573501c2",
    "X-Auth-Nonce": "1700000000000",
    "X-Auth-Signature": "d12ce287bd8aadec86968324d956b2bf7417209019be43bbc2f181178d32636a",
}
AUTH = set(C3_HEADERS)
OPEN = Order("10440269", "ETH/USDT", "buy", "limit", D("160.82"), D("31.0"), D("26.35649"), D("4.64351"), "open",
             1584028916000, average=D("160.82"))


def sent(mock) -> list[tuple[str, str]]:
    """Every (method, URL) the connector requested, in first-request order (query sorted)."""
    return [(method, str(url)) for method, url in mock.requests]


def call(mock, method: str, url: str, index: int = 0):
    """The keyword arguments aiohttp received for one request (headers, data, …)."""
    return mock.requests[(method, normalize_url(URL(url)))][index].kwargs


def auth_headers(kwargs) -> dict[str, str]:
    return {name: kwargs["headers"][name] for name in AUTH if name in kwargs["headers"]}


def on_ethusdt(body: bytes) -> bytes:
    """A sample order/trade moved from the spec's ``ethusd`` to the listed ``ethusdt`` market."""
    return body.replace(b'"ethusd"', b'"ethusdt"')


# -- private calls ---------------------------------------------------------------------


async def test_private_get_carries_the_c3_x_auth_headers_and_no_body(ex, mock, nonces, load):
    mock.get(BALANCES, body=load("balances"))
    balances = await ex.fetch_balances()
    assert sent(mock) == [("GET", BALANCES)]
    kwargs = call(mock, "GET", BALANCES)
    assert auth_headers(kwargs) == C3_HEADERS
    assert kwargs["data"] is None and "Content-Type" not in kwargs["headers"]
    assert balances["ETH"].free == D("1.4995")


async def test_create_limit_order_posts_a_json_body_with_the_c3_headers(ex, mock, nonces, load):
    mock.get(MARKETS, body=load("markets"))
    mock.post(ORDERS, status=201, body=on_ethusdt(load("create_order")))
    order = await ex.create_order("ETH/USDT", "buy", D("31"), D("160.82"))
    assert sent(mock) == [("GET", MARKETS), ("POST", ORDERS)]
    assert not AUTH & set(call(mock, "GET", MARKETS)["headers"] or {})
    kwargs = call(mock, "POST", ORDERS)
    assert kwargs["data"] == b'{"market":"ethusdt","side":"buy","volume":"31","ord_type":"limit","price":"160.82"}'
    assert kwargs["headers"]["Content-Type"] == "application/json"
    assert auth_headers(kwargs) == C3_HEADERS
    assert order == Order("10440269", "ETH/USDT", "buy", "limit", D("160.82"), D("31.0"), D("0.0"), D("31.0"),
                          "pending", 1584028916000)


async def test_create_market_order_sends_no_price(ex, mock, nonces, load):
    mock.get(MARKETS, body=load("markets"))
    mock.post(ORDERS, status=201, body=on_ethusdt(load("create_order")))
    await ex.create_order("ETH/USDT", "sell", D("0.50000"), type="market")
    assert call(mock, "POST", ORDERS)["data"] == b'{"market":"ethusdt","side":"sell","volume":"0.5","ord_type":"market"}'


async def test_order_outside_the_market_limits_is_refused_before_sending(ex, mock, nonces, load):
    mock.get(MARKETS, body=load("markets"))
    with pytest.raises(InvalidOrder):
        await ex.create_order("ETH/USDT", "buy", D("1"), D("1000.01"))
    with pytest.raises(InvalidOrder):
        await ex.create_order("ETH/USDT", "buy", D("0.000001"), D("160.82"))
    assert sent(mock) == [("GET", MARKETS)] and nonces == []


async def test_raw_request_posts_json_with_string_values(ex, mock, nonces, load):
    mock.post(ORDERS, status=201, body=load("create_order"))
    answer = await ex.request("POST", "/api/v2/peatio/market/orders",
                              {"market": "ethusd", "side": "buy", "volume": "31", "ord_type": "limit",
                               "price": "160.82"}, auth=True)
    kwargs = call(mock, "POST", ORDERS)
    assert kwargs["data"] == b'{"market":"ethusd","side":"buy","volume":"31","ord_type":"limit","price":"160.82"}'
    assert auth_headers(kwargs) == C3_HEADERS
    assert answer["id"] == 10440269 and answer["price"] == "160.82"


async def test_cancel_order_posts_an_empty_json_body_to_the_id_path(ex, mock, nonces, load):
    url = f"{ORDERS}/10440269/cancel"
    mock.get(MARKETS, body=load("markets"))
    mock.post(url, status=201, body=on_ethusdt(load("cancel_order")))
    await ex.load_markets()
    order = await ex.cancel_order("10440269")
    assert sent(mock) == [("GET", MARKETS), ("POST", url)]
    kwargs = call(mock, "POST", url)
    assert kwargs["data"] == b"{}" and kwargs["headers"]["Content-Type"] == "application/json"
    assert auth_headers(kwargs) == C3_HEADERS
    assert order == OPEN


async def test_cancel_order_on_a_fresh_connector_returns_the_order(ex, mock, nonces, load):
    mock.get(MARKETS, body=load("markets"))
    mock.post(f"{ORDERS}/10440269/cancel", status=201, body=on_ethusdt(load("cancel_order")))
    assert await ex.cancel_order("10440269") == OPEN


async def test_cancel_order_with_a_path_in_the_id_raises_order_not_found_without_sending(ex, mock, nonces):
    with pytest.raises(OrderNotFound):
        await ex.cancel_order("1/../../withdraws")
    assert sent(mock) == [] and nonces == []


@pytest.mark.parametrize(("symbol", "body"), [("ETH/USDT", b'{"market":"ethusdt"}'), (None, b"{}")])
async def test_cancel_all_is_native_and_posts_the_market(ex, mock, nonces, load, symbol, body):
    mock.get(MARKETS, body=load("markets"))
    mock.post(f"{ORDERS}/cancel", status=201, body=on_ethusdt(load("cancel_all")))
    assert await ex.cancel_all_orders(symbol) == [OPEN]
    kwargs = call(mock, "POST", f"{ORDERS}/cancel")
    assert kwargs["data"] == body and auth_headers(kwargs) == C3_HEADERS
    assert "cancel_all_orders" not in ex.emulated


async def test_fetch_order_gets_the_id_path(ex, mock, nonces, load):
    mock.get(MARKETS, body=load("markets"))
    mock.get(f"{ORDERS}/10440269", body=on_ethusdt(load("order")))
    assert await ex.fetch_order("10440269") == OPEN
    assert sent(mock) == [("GET", MARKETS), ("GET", f"{ORDERS}/10440269")]
    assert auth_headers(call(mock, "GET", f"{ORDERS}/10440269")) == C3_HEADERS


async def test_open_orders_ask_for_state_wait_in_the_market(ex, mock, nonces, load):
    url = f"{ORDERS}?limit=1000&market=ethusdt&state=wait"
    mock.get(MARKETS, body=load("markets"))
    mock.get(url, body=on_ethusdt(load("open_orders")))
    assert await ex.fetch_open_orders("ETH/USDT") == [OPEN]
    assert sent(mock) == [("GET", MARKETS), ("GET", url)]
    assert auth_headers(call(mock, "GET", url)) == C3_HEADERS


async def test_all_orders_list_without_state(ex, mock, nonces, load):
    mock.get(MARKETS, body=load("markets"))
    mock.get(f"{ORDERS}?limit=1000", body=on_ethusdt(load("orders")))
    [order] = await ex.fetch_orders()
    assert (order.symbol, order.status) == ("ETH/USDT", "closed")


async def test_my_trades_are_a_get_with_market_and_limit(ex, mock, nonces, load):
    url = f"{API}/market/trades?limit=5&market=ethusdt"
    mock.get(MARKETS, body=load("markets"))
    mock.get(url, body=on_ethusdt(load("my_trades")))
    assert await ex.fetch_my_trades("ETH/USDT", limit=5) == [
        Trade("1834499", "ETH/USDT", "buy", D("160.82"), D("5.0"), 1584028916000, order_id="10440269",
              fee=D("0.01"), fee_currency="ETH")]
    assert sent(mock) == [("GET", MARKETS), ("GET", url)]


async def test_deposits_and_withdrawals_filter_by_lower_case_currency(ex, mock, nonces, load):
    mock.get(f"{API}/account/deposits?currency=btc", body=load("deposits"))
    mock.get(f"{API}/account/withdraws?currency=btc", body=load("withdraws"))
    [deposit] = await ex.fetch_deposits("BTC")
    [withdrawal] = await ex.fetch_withdrawals("BTC")
    assert (deposit.status, withdrawal.status, withdrawal.address) == ("ok", "pending", "2N…")
    assert sent(mock) == [("GET", f"{API}/account/deposits?currency=btc"),
                          ("GET", f"{API}/account/withdraws?currency=btc")]
    assert call(mock, "GET", f"{API}/account/withdraws?currency=btc")["headers"]["X-Auth-Nonce"] == "1700000000001"


@pytest.mark.parametrize("name", ["deposit_address_v2_4", "deposit_address_v2_6"])
async def test_deposit_address_accepts_the_2_4_and_2_6_shapes(ex, mock, nonces, load, name):
    mock.get(f"{API}/account/deposit_address/btc", body=load(name))
    assert await ex.fetch_deposit_address("BTC") == DepositAddress("BTC", "2N…")
    assert auth_headers(call(mock, "GET", f"{API}/account/deposit_address/btc")) == C3_HEADERS


async def test_deposit_address_still_being_generated_raises(ex, mock, nonces):
    mock.get(f"{API}/account/deposit_address/btc", payload={"currency": "btc", "address": None})
    with pytest.raises(ExchangeError, match="retry later"):
        await ex.fetch_deposit_address("BTC")


async def test_withdraw_finds_the_beneficiary_by_address_and_posts_json(ex, mock, nonces, load):
    mock.get(f"{API}/account/beneficiaries?currency=btc",
             body=b"[" + load("beneficiary").replace(b'"id": 3', b'"id": 2').replace(b"2N\xe2\x80\xa6", b"other")
             + b"," + load("beneficiary") + b"]")
    mock.post(f"{API}/account/withdraws", status=201, body=load("withdraw"))
    transfer = await ex.withdraw("BTC", D("0.10"), "2N…", otp=123456)
    assert sent(mock) == [("GET", f"{API}/account/beneficiaries?currency=btc"), ("POST", f"{API}/account/withdraws")]
    kwargs = call(mock, "POST", f"{API}/account/withdraws")
    assert kwargs["data"] == b'{"currency":"btc","amount":"0.1","otp":123456,"beneficiary_id":3}'
    signature = hmac.new(b"2d0b4979c7fe6986daa8e21d1dc0644f", b"170000000000161d025b8573501c2", "sha256").hexdigest()
    assert auth_headers(kwargs) == {**C3_HEADERS, "X-Auth-Nonce": "1700000000001", "X-Auth-Signature": signature}
    assert transfer == Transfer("7", "BTC", D("0.1"), "pending", 1583830800000, address="2N…", fee=D("0.0005"))


async def test_withdraw_with_a_beneficiary_id_and_note_skips_the_lookup(ex, mock, nonces, load):
    mock.post(f"{API}/account/withdraws", status=201, body=load("withdraw"))
    await ex.withdraw("BTC", D("0.1"), "2N…", otp="123456", beneficiary_id=3, note="cold")
    assert sent(mock) == [("POST", f"{API}/account/withdraws")]
    assert call(mock, "POST", f"{API}/account/withdraws")["data"] == (
        b'{"currency":"btc","amount":"0.1","otp":"123456","beneficiary_id":3,"note":"cold"}')


async def test_withdraw_without_otp_or_beneficiary_is_refused(ex, mock, nonces, load):
    with pytest.raises(BadRequest, match="otp"):
        await ex.withdraw("BTC", D("0.1"), "2N…")
    mock.get(f"{API}/account/beneficiaries?currency=btc", body=b"[" + load("beneficiary") + b"]")
    with pytest.raises(BadRequest, match="beneficiary"):
        await ex.withdraw("BTC", D("0.1"), "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", otp=1)
    assert sent(mock) == [("GET", f"{API}/account/beneficiaries?currency=btc")]


async def test_private_call_without_credentials_raises_before_sending(mock):
    async with connectors.open("peatio", sync_clock=False) as anonymous:
        with pytest.raises(AuthenticationError):
            await anonymous.fetch_balances()
    assert sent(mock) == []


# -- clock ------------------------------------------------------------------------------


async def test_first_private_call_syncs_nonces_to_the_server_clock(mock, load):
    mock.get(TIMESTAMP, body=load("timestamp"), repeat=True)
    mock.get(BALANCES, body=load("balances"))
    # a key of its own: a fresh NonceManager, not one that already issued today's times
    async with connectors.open("peatio", key="clock-sync-key", secret="s") as ex:
        await ex.fetch_balances()
    assert sent(mock) == [("GET", TIMESTAMP), ("GET", BALANCES)]
    assert not AUTH & set(call(mock, "GET", TIMESTAMP)["headers"] or {})
    nonce = int(call(mock, "GET", BALANCES)["headers"]["X-Auth-Nonce"])
    assert abs(nonce - 1584087661000) < 1000  # Barong accepts |server ms - nonce| < 5000


async def test_nonce_refusal_rereads_the_clock_and_is_retried_once(make_ex, mock, monkeypatch, load):
    mock.get(TIMESTAMP, body=load("timestamp"), repeat=True)
    mock.get(BALANCES, status=401, payload={"errors": ["authz.nonce_expired"]})
    mock.get(BALANCES, status=401, payload={"errors": ["authz.nonce_expired"]})
    mock.get(BALANCES, body=load("balances"))
    ex = make_ex()
    issued = iter(range(1_700_000_000_000, 1_700_000_000_010))
    monkeypatch.setattr(ex.nonces._sequence, "_next", lambda: next(issued))
    with pytest.raises(InvalidNonce) as info:
        await ex.fetch_balances()
    assert info.value.code == "authz.nonce_expired"
    await ex.fetch_balances()
    attempts = mock.requests[("GET", normalize_url(URL(BALANCES)))]
    assert [a.kwargs["headers"]["X-Auth-Nonce"] for a in attempts] == ["1700000000000", "1700000000001",
                                                                        "1700000000002"]
    assert len(mock.requests[("GET", URL(TIMESTAMP))]) == 3  # first call, before the retry, next call


async def test_server_time_is_the_iso_timestamp_in_ms(ex, mock, load):
    mock.get(TIMESTAMP, body=load("timestamp"))
    assert await ex.fetch_server_time() == 1584087661000


# -- public calls ----------------------------------------------------------------------


async def test_order_book_is_the_depth_endpoint_sorted_best_first(ex, mock, load):
    url = f"{API}/public/markets/ethusdt/depth?limit=50"
    mock.get(MARKETS, body=load("markets"))
    mock.get(url, body=b'{"timestamp": 1584087661, "asks": [["161.0", "4.0"], ["160.9", "1.2"]], '
                        b'"bids": [["160.5", "10.0"], ["160.8", "2.5"]]}')
    book = await ex.fetch_order_book("ETH/USDT", limit=50)
    assert sent(mock) == [("GET", MARKETS), ("GET", url)]
    assert not AUTH & set(call(mock, "GET", url)["headers"] or {})
    assert book.bids == [BookLevel(D("160.8"), D("2.5")), BookLevel(D("160.5"), D("10.0"))]
    assert book.asks == [BookLevel(D("160.9"), D("1.2")), BookLevel(D("161.0"), D("4.0"))]
    assert (book.symbol, book.timestamp) == ("ETH/USDT", 1584087661000)


async def test_order_level_book_uses_order_book_with_both_limits(ex, mock, load):
    url = f"{API}/public/markets/ethusdt/order-book?asks_limit=5&bids_limit=5"
    mock.get(MARKETS, body=load("markets"))
    mock.get(url, body=load("order_book"))
    bids, asks = await ex.fetch_book_orders("ETH/USDT", 5)
    assert sent(mock) == [("GET", MARKETS), ("GET", url)]
    assert ([o.price for o in bids], [o.price for o in asks]) == ([D("160.82")], [D("161.5")])


async def test_trades_use_the_market_path_and_return_oldest_first(ex, mock, load):
    url = f"{API}/public/markets/ethusdt/trades?limit=2"
    mock.get(MARKETS, body=load("markets"))
    mock.get(url, body=b'[{"id": 1834500, "price": 161, "amount": 1, "market": "ethusdt", "created_at": 1584028917, '
                        b'"taker_type": "sell"}, {"id": 1834499, "price": 160.82, "amount": 5.0, "total": 804.1, '
                        b'"market": "ethusdt", "created_at": 1584028916, "taker_type": "buy"}]')
    trades = await ex.fetch_trades("ETH/USDT", limit=2)
    assert sent(mock) == [("GET", MARKETS), ("GET", url)]
    assert trades[0] == Trade("1834499", "ETH/USDT", "buy", D("160.82"), D("5.0"), 1584028916000)
    assert [t.id for t in trades] == ["1834499", "1834500"]


async def test_candles_use_k_line_with_period_minutes_and_seconds(ex, mock, load):
    url = f"{API}/public/markets/ethusdt/k-line?limit=2&period=60&time_from=1584087600"
    mock.get(MARKETS, body=load("markets"))
    mock.get(url, body=load("k_line"))
    candles = await ex.fetch_candles("ETH/USDT", "1h", since=1584087600999, limit=2)
    assert sent(mock) == [("GET", MARKETS), ("GET", url)]
    assert candles[0] == Candle(1584087600000, D("160.5"), D("161.0"), D("160.0"), D("160.82"), D("31.0"))


async def test_tickers_map_market_ids_to_symbols(ex, mock, load):
    mock.get(MARKETS, body=load("markets"))
    mock.get(f"{API}/public/markets/tickers", body=load("tickers").rstrip()[:-1] + b', "unlisted": ' + load("ticker") + b"}")
    tickers = await ex.fetch_tickers()
    assert list(tickers) == ["ETH/USDT"] and tickers["ETH/USDT"].volume == D("5.0")


async def test_ticker_for_one_market(ex, mock, load):
    url = f"{API}/public/markets/ethusdt/tickers"
    mock.get(MARKETS, body=load("markets"))
    mock.get(url, body=load("ticker"))
    ticker = await ex.fetch_ticker("ETH/USDT")
    assert sent(mock) == [("GET", MARKETS), ("GET", url)]
    assert (ticker.symbol, ticker.last, ticker.timestamp) == ("ETH/USDT", D("160.82"), 1584087661000)


async def test_currencies_list(ex, mock, load):
    mock.get(f"{API}/public/currencies?limit=1000", body=b"[" + load("currency") + b"]")
    currencies = await ex.fetch_currencies()
    assert list(currencies) == ["BTC"] and currencies["BTC"].name == "Bitcoin"


async def test_unknown_symbol_raises_bad_symbol_after_loading_markets_only(ex, mock, load):
    mock.get(MARKETS, body=load("markets"))
    with pytest.raises(BadSymbol):
        await ex.fetch_order_book("ETH/BTC")
    assert sent(mock) == [("GET", MARKETS)]


# -- errors ------------------------------------------------------------------------------

OPS = {
    "balances": ("GET", BALANCES, lambda ex: ex.fetch_balances()),
    "create": ("POST", ORDERS, lambda ex: ex.create_order("ETH/USDT", "buy", D("31"), D("160.82"))),
    "cancel": ("POST", f"{ORDERS}/10440269/cancel", lambda ex: ex.cancel_order("10440269")),
    "order": ("GET", f"{ORDERS}/10440269", lambda ex: ex.fetch_order("10440269")),
    "depth": ("GET", f"{API}/public/markets/ethusdt/depth", lambda ex: ex.fetch_order_book("ETH/USDT")),
    "address": ("GET", f"{API}/account/deposit_address/btc", lambda ex: ex.fetch_deposit_address("BTC")),
}


@pytest.mark.parametrize(("op", "status", "code", "error"), [
    ("balances", 401, "authz.invalid_signature", AuthenticationError),
    ("balances", 401, "authz.unexistent_apikey", AuthenticationError),
    ("balances", 401, "authz.apikey_not_active", AuthenticationError),
    ("balances", 401, "authz.disabled_2fa", AuthenticationError),
    ("balances", 401, "authz.user_not_active", AuthenticationError),
    ("balances", 401, "jwt.decode_and_verify", AuthenticationError),
    ("balances", 422, "authz.invalid_api_key_headers", AuthenticationError),
    ("balances", 401, "authz.nonce_expired", InvalidNonce),
    ("balances", 401, "authz.nonce_not_valid_timestamp", InvalidNonce),
    ("balances", 401, "authz.invalid_permission", PermissionDenied),
    ("balances", 403, "authz.invalid_permission", PermissionDenied),
    ("create", 422, "market.account.insufficient_balance", InsufficientFunds),
    ("create", 422, "market.order.invalid_volume_or_price", InvalidOrder),
    ("create", 422, "market.order.market_order_price", InvalidOrder),
    ("create", 422, "market.order.insufficient_market_liquidity", InvalidOrder),
    ("create", 422, "market.order.create_error", InvalidOrder),
    ("cancel", 422, "market.order.cancel_error", InvalidOrder),
    ("cancel", 422, "market.order.invaild_id_or_uuid", OrderNotFound),
    ("order", 404, "record.not_found", OrderNotFound),
    ("depth", 422, "public.market.doesnt_exist", BadSymbol),
    ("address", 422, "account.currency.deposit_disabled", BadRequest),
    ("balances", 405, "server.method_not_allowed", BadRequest),
    ("create", 400, "server.method.invalid_message_body", BadRequest),
    ("balances", 429, "too_many_requests", RateLimited),
])
async def test_error_codes_map_to_our_errors_keeping_the_code(ex, mock, nonces, load, op, status, code, error):
    method, url, run = OPS[op]
    mock.get(MARKETS, body=load("markets"))
    mock.add(URL(url), method, status=status, payload={"errors": [code]}, repeat=True)
    with pytest.raises(error) as info:
        await run(ex)
    assert type(info.value) is error
    assert (info.value.code, info.value.status, info.value.exchange) == (code, status, "peatio")
    assert code in info.value.message


async def test_the_spec_error_fixtures_map_with_all_their_codes(ex, mock, nonces, load):
    mock.get(MARKETS, body=load("markets"))
    mock.post(ORDERS, status=422, body=load("error_insufficient_balance"))
    with pytest.raises(InsufficientFunds) as info:
        await OPS["create"][2](ex)
    assert info.value.message == "market.account.insufficient_balance"
    mock.get(BALANCES, status=401, body=load("error_invalid_signature"))
    with pytest.raises(AuthenticationError) as info:
        await ex.fetch_balances()
    assert (type(info.value), info.value.code) == (AuthenticationError, "authz.invalid_signature")


@pytest.mark.parametrize(("body", "content_type"), [(b"", "text/plain"), (b"<html>403 Forbidden</html>", "text/html"),
                                                    (b'{"errors": ["waf.limit_violated"]}', "application/json")],
                         ids=["empty", "html", "non-authz-code"])
async def test_403_from_the_waf_is_rate_limited(ex, mock, nonces, body, content_type):
    mock.get(BALANCES, status=403, body=body, content_type=content_type)
    with pytest.raises(RateLimited) as info:
        await ex.fetch_balances()
    assert info.value.status == 403


async def test_429_keeps_retry_after(ex, mock, nonces):
    mock.get(BALANCES, status=429, body=b"", headers={"Retry-After": "2"})
    with pytest.raises(RateLimited) as info:
        await ex.fetch_balances()
    assert info.value.retry_after == 2.0


@pytest.mark.parametrize("body", [b'{"errors": ["server.internal_error"]}', b"<html>502 Bad Gateway</html>"],
                         ids=["error-body", "html"])
@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_on_create_order_raises_outcome_unknown(ex, mock, nonces, load, status, body):
    mock.get(MARKETS, body=load("markets"))
    mock.post(ORDERS, status=status, body=body)
    with pytest.raises(OutcomeUnknown) as info:
        await OPS["create"][2](ex)
    assert (info.value.method, info.value.path, info.value.status) == ("POST", "/api/v2/peatio/market/orders", status)
    assert len(mock.requests[("POST", URL(ORDERS))]) == 1


async def test_timeout_on_cancel_raises_outcome_unknown(ex, mock, nonces):
    mock.post(f"{ORDERS}/10440269/cancel", exception=asyncio.TimeoutError())
    with pytest.raises(OutcomeUnknown):
        await ex.cancel_order("10440269")


async def test_5xx_on_a_get_is_retried_then_raises_exchange_unavailable(ex, mock, nonces):
    mock.get(BALANCES, status=502, body=b"<html>502 Bad Gateway</html>", content_type="text/html", repeat=True)
    with pytest.raises(ExchangeUnavailable):
        await ex.fetch_balances()
    assert len(mock.requests[("GET", normalize_url(URL(BALANCES)))]) == 4


async def test_5xx_with_an_error_body_on_a_get_raises_exchange_unavailable(ex, mock, nonces):
    mock.get(BALANCES, status=500, payload={"errors": ["server.internal_error"]}, repeat=True)
    with pytest.raises(ExchangeUnavailable):
        await ex.fetch_balances()


# -- the has table ---------------------------------------------------------------------


def test_peatio_supports_every_unified_method():
    cls = connectors.connector_class("peatio")
    assert all(cls.has.values()) and not cls.not_supported and not cls.emulated


async def test_unsupported_timeframe_raises_bad_request_without_sending(ex, mock, load):
    mock.get(MARKETS, body=load("markets"))
    with pytest.raises(BadRequest):
        await ex.fetch_candles("ETH/USDT", "2m")
    assert sent(mock) == [("GET", MARKETS)]


async def test_raw_request_sends_decimals_as_plain_json_strings(ex, mock, nonces):
    mock.post(ORDERS, status=201, payload={})
    await ex.request("POST", "/api/v2/peatio/market/orders",
                     {"market": "ethusdt", "side": "buy", "volume": D("0.00000001"), "price": D("1E+2")}, auth=True)
    assert call(mock, "POST", ORDERS)["data"] == b'{"market":"ethusdt","side":"buy","volume":"0.00000001","price":"100"}'


# -- every documented endpoint is declared -------------------------------------------------

SPEC_ENDPOINTS = {(method, "/api/v2/peatio" + path, auth) for method, path, auth in [
    ("GET", "/public/markets", False), ("GET", "/public/currencies", False), ("GET", "/public/currencies/{}", False),
    ("GET", "/public/markets/tickers", False), ("GET", "/public/markets/{}/tickers", False),
    ("GET", "/public/markets/{}/order-book", False), ("GET", "/public/markets/{}/depth", False),
    ("GET", "/public/markets/{}/trades", False), ("GET", "/public/markets/{}/k-line", False),
    ("GET", "/public/timestamp", False), ("GET", "/public/trading_fees", False),
    ("GET", "/account/balances", True), ("GET", "/account/balances/{}", True),
    ("GET", "/market/orders", True), ("GET", "/market/orders/{}", True), ("POST", "/market/orders", True),
    ("POST", "/market/orders/{}/cancel", True), ("POST", "/market/orders/cancel", True),
    ("GET", "/market/trades", True), ("GET", "/account/deposits", True), ("GET", "/account/deposits/{}", True),
    ("GET", "/account/deposit_address/{}", True), ("GET", "/account/withdraws", True),
    ("POST", "/account/withdraws", True), ("GET", "/account/beneficiaries", True),
    ("POST", "/account/beneficiaries", True), ("GET", "/account/beneficiaries/{}", True),
    ("DELETE", "/account/beneficiaries/{}", True), ("PATCH", "/account/beneficiaries/{}/activate", True),
    ("GET", "/account/transactions", True),
]}


def test_every_endpoint_of_the_spec_table_is_declared_with_its_method_and_auth():
    cls = connectors.connector_class("peatio")
    declared = {(ep.method, re.sub(r"\{\w+\}", "{}", ep.path), ep.auth) for ep in cls.endpoints.values()}
    assert declared == SPEC_ENDPOINTS


async def test_undeclared_calls_are_reachable_through_request(ex, mock, nonces, load):
    mock.get(f"{API}/public/trading_fees", body=load("trading_fees"))
    mock.get(f"{API}/account/balances/eth", body=load("balance"))
    mock.patch(f"{API}/account/beneficiaries/3/activate", body=load("beneficiary"))
    [fee] = await ex.request("GET", "/api/v2/peatio/public/trading_fees")
    balance = await ex.request("GET", "/api/v2/peatio/account/balances/eth", auth=True)
    beneficiary = await ex.request("PATCH", "/api/v2/peatio/account/beneficiaries/3/activate", {"pin": 123456},
                                   auth=True)
    assert (fee["taker"], balance["balance"], beneficiary["state"]) == ("0.002", "1.4995", "active")
    assert not AUTH & set(call(mock, "GET", f"{API}/public/trading_fees")["headers"] or {})
    assert auth_headers(call(mock, "GET", f"{API}/account/balances/eth")) == C3_HEADERS
    patch = call(mock, "PATCH", f"{API}/account/beneficiaries/3/activate")
    assert patch["data"] == b'{"pin":123456}' and patch["headers"]["Content-Type"] == "application/json"
