"""BTC-Alpha request shaping (aioresponses): exact method, URL, headers, body and signature
of what the connector sends, error-body mapping, and the ``has`` table."""

import asyncio
import re
import hashlib
import hmac
from decimal import Decimal as D

import pytest
from aioresponses.compat import normalize_url
from yarl import URL

import connectors
from core.errors import (
    AuthenticationError,
    BadRequest,
    BadSymbol,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidNonce,
    InvalidOrder,
    NotSupported,
    OrderNotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
)
from core.models import BookLevel, Order, Trade

API = "https://btc-alpha.com"
PAIRS = f"{API}/api/v1/pairs/"
C1 = "4e31b43db68a89db0c4aebe7da128b6e395463ce4fbd381b9087949bb350a6d0"
C2 = "58b2acb854e3af1dc5c94ca70ee36bdf83d105472d0e3efbeaf9362f3b3e0d89"
C3 = "5a00a35ca1709a0b8729ed1fd59c5a865426bbe5cc6cf6f0b639407347b8d9eb"
FORM = "application/x-www-form-urlencoded"


def sent(mock) -> list[tuple[str, str]]:
    """Every (method, URL) the connector requested, in first-request order (query sorted)."""
    return [(method, str(url)) for method, url in mock.requests]


def call(mock, method: str, url: str, index: int = 0):
    """The keyword arguments aiohttp received for one request (headers, data, …)."""
    return mock.requests[(method, normalize_url(URL(url)))][index].kwargs


def hmac_hex(message: str) -> str:
    return hmac.new(b"mysecret", message.encode(), hashlib.sha256).hexdigest()


def assert_signed(kwargs, signature: str, nonce: int = 1_700_000_000_000) -> None:
    headers = kwargs["headers"]
    assert (headers["X-KEY"], headers["X-SIGN"], headers["X-NONCE"]) == ("mykey", signature, str(nonce))


def assert_unsigned(kwargs) -> None:
    assert not {"X-KEY", "X-SIGN", "X-NONCE"} & set(kwargs["headers"] or {})


# -- private calls: signatures --------------------------------------------------------


async def test_wallets_get_is_signed_over_the_key_alone_as_c1(ex, mock, nonces, load):
    mock.get(f"{API}/api/v1/wallets/", body=load("wallets"))
    balances = await ex.fetch_balances()
    assert sent(mock) == [("GET", f"{API}/api/v1/wallets/")]
    kwargs = call(mock, "GET", f"{API}/api/v1/wallets/")
    assert_signed(kwargs, C1)
    assert kwargs["data"] is None
    assert balances["BTC"].free == D("0")


async def test_raw_request_reproduces_the_spec_c2_request_exactly(ex, mock, nonces, load):
    mock.post(f"{API}/api/v1/order/", body=load("create_order_docs22"))
    answer = await ex.request("POST", "/api/v1/order/",
                              {"type": "buy", "pair": "BTC_USD", "amount": "1.0", "price": "870.69"}, auth=True)
    assert sent(mock) == [("POST", f"{API}/api/v1/order/")]
    kwargs = call(mock, "POST", f"{API}/api/v1/order/")
    assert kwargs["data"] == "amount=1.0&pair=BTC_USD&price=870.69&type=buy"
    assert kwargs["headers"]["Content-Type"] == FORM
    assert_signed(kwargs, C2)
    assert answer["oid"] == 11268 and answer["price"] == D("870.69")


async def test_create_order_sends_plain_decimals_and_signs_exactly_the_body_sent(ex, mock, nonces, load):
    mock.get(PAIRS, body=load("pairs_docs22"))
    mock.post(f"{API}/api/v1/order/", body=load("create_order_docs22"))
    await ex.create_order("BTC/USD", "buy", D("1.0"), D("870.69"))
    assert sent(mock) == [("GET", PAIRS), ("POST", f"{API}/api/v1/order/")]
    assert_unsigned(call(mock, "GET", PAIRS))
    kwargs = call(mock, "POST", f"{API}/api/v1/order/")
    assert kwargs["data"] == "amount=1&pair=BTC_USD&price=870.69&type=buy"
    assert kwargs["headers"]["Content-Type"] == FORM
    assert_signed(kwargs, hmac_hex("mykey" + kwargs["data"]))
    assert kwargs["headers"]["X-SIGN"] == "ab7991775b72ed0af844db887318c6bc39a78f019c8a09670fbe1a32fa002119"


async def test_create_order_returns_the_immediate_fill(ex, mock, nonces, load):
    mock.get(PAIRS, body=load("pairs_docs22"))
    mock.post(f"{API}/api/v1/order/", body=load("create_order_docs22"))
    order = await ex.create_order("BTC/USD", "buy", D("0.0001"), D("870.69"))
    assert call(mock, "POST", f"{API}/api/v1/order/")["data"] == "amount=0.0001&pair=BTC_USD&price=870.69&type=buy"
    assert order == Order("11268", "BTC/USD", "buy", "limit", D("870.69"), D("0.0001"), D("0.0001"), D("0"),
                          "closed", 1483721079516, average=D("870.69"))


async def test_tiny_amount_is_sent_without_exponent(ex, mock, nonces, load):
    mock.get(PAIRS, body=b'[{"name": "BTC_USD", "currency1": "BTC", "currency2": "USD", "price_precision": 2, '
                         b'"amount_precision": 8, "minimum_order_size": "0.00000001", "maximum_order_size": "100"}]')
    mock.post(f"{API}/api/v1/order/", body=load("create_order_docs22"))
    await ex.create_order("BTC/USD", "sell", D("1E-8"), D("870.69"))
    assert call(mock, "POST", f"{API}/api/v1/order/")["data"] == "amount=0.00000001&pair=BTC_USD&price=870.69&type=sell"


async def test_cancel_order_posts_the_order_id_signed_as_c3(ex, mock, nonces, load):
    mock.post(f"{API}/api/v1/order-cancel/", body=load("cancel_order"))
    assert await ex.cancel_order("63568") is None
    assert sent(mock) == [("POST", f"{API}/api/v1/order-cancel/")]
    kwargs = call(mock, "POST", f"{API}/api/v1/order-cancel/")
    assert kwargs["data"] == "order=63568"
    assert kwargs["headers"]["Content-Type"] == FORM
    assert_signed(kwargs, C3)


async def test_cancel_order_with_a_non_numeric_id_raises_order_not_found_without_sending(ex, mock, nonces):
    with pytest.raises(OrderNotFound):
        await ex.cancel_order("abc")
    assert sent(mock) == [] and nonces == []


async def test_fetch_order_gets_the_id_path_signed_over_the_key(ex, mock, nonces, load):
    mock.get(f"{API}/api/v1/order/11259/", body=load("order_docs22"))
    order = await ex.fetch_order("11259")
    assert sent(mock) == [("GET", f"{API}/api/v1/order/11259/")]
    assert_signed(call(mock, "GET", f"{API}/api/v1/order/11259/"), C1)
    assert (order.id, order.status, order.timestamp) == ("11259", "open", 1478025717394)


async def test_open_orders_filters_go_in_the_query_and_are_not_signed(ex, mock, nonces, load):
    url = f"{API}/api/v1/orders/own/?pair=BTC_USD&status=1"
    mock.get(PAIRS, body=load("pairs_docs22"))
    mock.get(url, body=load("own_orders").replace(b'"status": 3', b'"status": 1'))
    [order] = await ex.fetch_open_orders("BTC/USD")
    assert sent(mock) == [("GET", PAIRS), ("GET", url)]
    kwargs = call(mock, "GET", url)
    assert_signed(kwargs, C1)
    assert kwargs["data"] is None
    assert order.status == "open"


async def test_all_orders_lists_own_orders_without_status(ex, mock, nonces, load):
    mock.get(f"{API}/api/v1/orders/own/", body=load("own_orders"))
    [order] = await ex.fetch_orders()
    assert sent(mock) == [("GET", f"{API}/api/v1/orders/own/")]
    assert order.status == "closed"


async def test_my_trades_query_and_signature(ex, mock, nonces, load):
    url = f"{API}/api/v1/exchanges/own/?limit=5&ordering=-id&pair=BTC_USD"
    mock.get(PAIRS, body=load("pairs_docs22"))
    mock.get(url, body=load("own_trades_live").replace(b"AAVE_USDT", b"BTC_USD"))
    [trade] = await ex.fetch_my_trades("BTC/USD", limit=5)
    assert_signed(call(mock, "GET", url), C1)
    assert trade == Trade("202203440", "BTC/USD", "buy", D("320.799"), D("0.05"), 1637856276264)


async def test_deposits_and_withdrawals_are_signed_gets(ex, mock, nonces, load):
    mock.get(f"{API}/api/v1/deposits/", body=load("deposits"))
    mock.get(f"{API}/api/v1/withdraws/?currency_id=BTC", body=load("withdrawals"))
    [deposit] = await ex.fetch_deposits()
    [withdrawal] = await ex.fetch_withdrawals("BTC")
    assert sent(mock) == [("GET", f"{API}/api/v1/deposits/"), ("GET", f"{API}/api/v1/withdraws/?currency_id=BTC")]
    assert_signed(call(mock, "GET", f"{API}/api/v1/deposits/"), C1)
    assert_signed(call(mock, "GET", f"{API}/api/v1/withdraws/?currency_id=BTC"), C1, nonce=1_700_000_000_001)
    assert (deposit.status, withdrawal.status) == ("ok", "pending")


async def test_cancel_all_is_emulated_by_listing_open_orders_and_cancelling_each(ex, mock, nonces):
    listing = f"{API}/api/v1/orders/own/?status=1"
    mock.get(listing, body=b'[{"amount": "0.5", "pair": "BTC_USD", "type": "buy", "status": 1, "price": "870.69", '
                           b'"id": 63568}, {"amount": 1, "pair": "BTC_USD", "type": "sell", "status": 1, '
                           b'"price": 900, "id": 63569}]')
    mock.post(f"{API}/api/v1/order-cancel/", body=b'{"order": 63568}')
    mock.post(f"{API}/api/v1/order-cancel/", body=b'{"order": 63569}')
    canceled = await ex.cancel_all_orders()
    assert [o.id for o in canceled] == ["63568", "63569"]
    cancels = mock.requests[("POST", URL(f"{API}/api/v1/order-cancel/"))]
    assert [c.kwargs["data"] for c in cancels] == ["order=63568", "order=63569"]
    assert [c.kwargs["headers"]["X-NONCE"] for c in cancels] == ["1700000000001", "1700000000002"]
    assert "cancel_all_orders" in ex.emulated


async def test_private_call_without_credentials_raises_before_sending(mock):
    async with connectors.open("btcalpha") as anonymous:
        with pytest.raises(AuthenticationError):
            await anonymous.fetch_balances()
    assert sent(mock) == []


# -- public calls --------------------------------------------------------------------


async def test_order_book_uses_the_2022_path_with_group_and_limits(ex, mock, load):
    url = f"{API}/api/v1/orderbook/BTC_USD/?group=1&limit_buy=50&limit_sell=50"
    mock.get(PAIRS, body=load("pairs_docs22"))
    mock.get(url, body=load("orderbook_2022"))
    book = await ex.fetch_order_book("BTC/USD", limit=50)
    assert sent(mock) == [("GET", PAIRS), ("GET", url)]
    assert_unsigned(call(mock, "GET", url))
    assert book.bids == [BookLevel(D("911.122"), D("0.001233"))]
    assert book.asks == [BookLevel(D("911.519"), D("0.000446"))]


async def test_order_book_without_limit_asks_for_grouped_levels_only(ex, mock, load):
    url = f"{API}/api/v1/orderbook/BTC_USD/?group=1"
    mock.get(PAIRS, body=load("pairs_docs22"))
    mock.get(url, body=load("orderbook_2022"))
    await ex.fetch_order_book("BTC/USD")
    assert sent(mock) == [("GET", PAIRS), ("GET", url)]


async def test_order_book_falls_back_to_the_2017_query_form_after_a_404(ex, mock, load):
    path_form = f"{API}/api/v1/orderbook/BTC_USD/?group=1&limit_buy=50&limit_sell=50"
    query_form = f"{API}/api/v1/orderbook/?group=1&limit_asks=50&limit_bids=50&pair=BTC_USD"
    mock.get(PAIRS, body=load("pairs_docs22"))
    mock.get(path_form, status=404, body=b"<h1>Not Found</h1>", content_type="text/html")
    mock.get(query_form, body=load("orderbook_2017"), repeat=True)
    book = await ex.fetch_order_book("BTC/USD", limit=50)
    assert book.bids == [BookLevel(D("911.122"), D("0.001233"))]
    assert book.asks == [BookLevel(D("911.519"), D("0.000446"))]
    await ex.fetch_order_book("BTC/USD", limit=50)
    assert sent(mock) == [("GET", PAIRS), ("GET", path_form), ("GET", query_form)]
    assert len(mock.requests[("GET", URL(path_form))]) == 1
    assert len(mock.requests[("GET", normalize_url(URL(query_form)))]) == 2


async def test_order_book_falls_back_after_a_404_with_an_error_body(ex, mock, load):
    path_form = f"{API}/api/v1/orderbook/BTC_USD/?group=1"
    mock.get(PAIRS, body=load("pairs_docs22"))
    mock.get(path_form, status=404, payload={"error": "Not Found"})
    mock.get(f"{API}/api/v1/orderbook/?group=1&pair=BTC_USD", body=load("orderbook_2017"))
    book = await ex.fetch_order_book("BTC/USD")
    assert book.asks == [BookLevel(D("911.519"), D("0.000446"))]


async def test_order_level_book_uses_the_2017_form_ungrouped(ex, mock, load):
    url = f"{API}/api/v1/orderbook/?group=0&limit_asks=10&limit_bids=10&pair=BTC_USD"
    mock.get(PAIRS, body=load("pairs_docs22"))
    mock.get(url, body=load("orderbook_2017"))
    raw = await ex.fetch_book_orders("BTC/USD", 10)
    assert sent(mock) == [("GET", PAIRS), ("GET", url)]
    assert [o.id for o in raw.bids] == [44667]


async def test_trades_ask_newest_first_and_return_oldest_first(ex, mock, load):
    url = f"{API}/api/v1/exchanges/?limit=2&ordering=-id&pair=BTC_USD"
    mock.get(PAIRS, body=load("pairs_docs22"))
    mock.get(url, body=b'[{"id": "7", "timestamp": "1483705818.1", "pair": "BTC_USD", "price": "1", "amount": "1", '
                        b'"type": "buy"}, {"id": 6030, "account_id": 384360, "price": 839.36000000, "pair": "BTC_USD", '
                        b'"type": "sell", "timestamp": 1483705817.735508, "amount": 0.00281167}]')
    trades = await ex.fetch_trades("BTC/USD", limit=2)
    assert sent(mock) == [("GET", PAIRS), ("GET", url)]
    assert [(t.id, t.timestamp) for t in trades] == [("6030", 1483705817735), ("7", 1483705818100)]


async def test_candles_use_the_charts_path_with_seconds(ex, mock, load):
    url = f"{API}/api/charts/BTC_USD/60/chart?limit=2&since=1485777600"
    mock.get(PAIRS, body=load("pairs_docs22"))
    mock.get(url, body=load("candles"))
    [candle] = await ex.fetch_candles("BTC/USD", "1h", since=1485777600123, limit=2)
    assert sent(mock) == [("GET", PAIRS), ("GET", url)]
    assert candle.timestamp == 1485777600000 and candle.close == D("911.915")


async def test_tickers_and_currencies(ex, mock, load):
    mock.get(f"{API}/api/v1/ticker/", body=load("ticker_list"))
    mock.get(f"{API}/api/v1/currencies/", body=load("currencies"))
    tickers = await ex.fetch_tickers()
    currencies = await ex.fetch_currencies()
    assert sent(mock) == [("GET", f"{API}/api/v1/ticker/"), ("GET", f"{API}/api/v1/currencies/")]
    assert tickers["ETH/BTC"].bid == D("0.071346") and list(currencies) == ["BTC", "ETH"]


async def test_ticker_for_one_pair_passes_pair(ex, mock, load):
    url = f"{API}/api/v1/ticker/?pair=BTC_USD"
    mock.get(PAIRS, body=load("pairs_docs22"))
    mock.get(url, body=load("ticker_single_live").replace(b"ETH_BTC", b"BTC_USD"))
    ticker = await ex.fetch_ticker("BTC/USD")
    assert sent(mock) == [("GET", PAIRS), ("GET", url)]
    assert (ticker.symbol, ticker.ask, ticker.timestamp) == ("BTC/USD", D("0.080317"), 1642511387550)


async def test_unknown_symbol_raises_bad_symbol_after_loading_markets_only(ex, mock, load):
    mock.get(PAIRS, body=load("pairs_docs22"))
    with pytest.raises(BadSymbol):
        await ex.fetch_order_book("ETH/USD")
    assert sent(mock) == [("GET", PAIRS)]


# -- errors --------------------------------------------------------------------------

WALLETS = f"{API}/api/v1/wallets/"
ORDER = f"{API}/api/v1/order/"


@pytest.mark.parametrize(("status", "message", "error"), [
    (401, "Invalid API key", AuthenticationError),
    (401, "Invalid signature", AuthenticationError),
    (403, "You do not have permission to perform this action.", PermissionDenied),
    (405, 'Method "PUT" not allowed.', BadRequest),
    (406, "Could not satisfy the request Accept header.", BadRequest),
    (429, "Too many requests", RateLimited),
])
async def test_error_body_on_a_private_get_maps_by_status(ex, mock, nonces, status, message, error):
    mock.get(WALLETS, status=status, payload={"error": message})
    with pytest.raises(error) as info:
        await ex.fetch_balances()
    assert type(info.value) is error
    assert (info.value.message, info.value.status, info.value.exchange) == (message, status, "btcalpha")


async def test_rate_limit_keeps_retry_after(ex, mock, nonces):
    mock.get(WALLETS, status=429, payload={"error": "Too many requests"}, headers={"Retry-After": "3"})
    with pytest.raises(RateLimited) as info:
        await ex.fetch_balances()
    assert info.value.retry_after == 3.0


async def test_nonce_refusal_is_retried_once_with_a_fresh_nonce(ex, mock, nonces, load):
    mock.get(WALLETS, status=401, payload={"error": "Invalid nonce"})
    mock.get(WALLETS, body=load("wallets"))
    balances = await ex.fetch_balances()
    assert "BTC" in balances
    attempts = mock.requests[("GET", URL(WALLETS))]
    assert [a.kwargs["headers"]["X-NONCE"] for a in attempts] == ["1700000000000", "1700000000001"]
    assert all(a.kwargs["headers"]["X-SIGN"] == C1 for a in attempts)


async def test_nonce_refused_twice_raises_invalid_nonce(ex, mock, nonces):
    mock.get(WALLETS, status=401, payload={"error": "Invalid nonce"}, repeat=True)
    with pytest.raises(InvalidNonce) as info:
        await ex.fetch_balances()
    assert info.value.message == "Invalid nonce"
    assert len(mock.requests[("GET", URL(WALLETS))]) == 2


async def _create(ex, mock, load, **response):
    mock.get(PAIRS, body=load("pairs_docs22"))
    mock.post(ORDER, **response)
    return await ex.create_order("BTC/USD", "buy", D("1"), D("870.69"))


async def test_out_of_balance_raises_insufficient_funds_with_the_message(ex, mock, nonces, load):
    with pytest.raises(InsufficientFunds) as info:
        await _create(ex, mock, load, status=400, body=load("error_out_of_balance"))
    assert (info.value.message, info.value.status) == ("Out of balance -9.99243661 BTC", 400)


async def test_refused_order_parameters_raise_invalid_order(ex, mock, nonces, load):
    with pytest.raises(InvalidOrder) as info:
        await _create(ex, mock, load, status=400, payload={"error": "Invalid price"})
    assert info.value.message == "Invalid price"


async def test_success_false_raises_invalid_order_with_the_message(ex, mock, nonces, load):
    with pytest.raises(InvalidOrder) as info:
        await _create(ex, mock, load, payload={"success": False, "error": "Order amount is too small"})
    assert "Order amount is too small" in info.value.message


async def test_success_false_out_of_balance_raises_insufficient_funds(ex, mock, nonces, load):
    with pytest.raises(InsufficientFunds):
        await _create(ex, mock, load, payload={"success": False, "error": "Out of balance -9.99243661 BTC"})


async def test_cancel_of_an_inactive_order_raises_invalid_order(ex, mock, nonces):
    mock.post(f"{API}/api/v1/order-cancel/", status=400, payload={"error": "Order 63568 is not active"})
    with pytest.raises(InvalidOrder):
        await ex.cancel_order("63568")


async def test_unknown_order_raises_order_not_found(ex, mock, nonces):
    mock.get(f"{API}/api/v1/order/999/", status=404, payload={"error": "Order not found"})
    with pytest.raises(OrderNotFound) as info:
        await ex.fetch_order("999")
    assert info.value.status == 404


async def test_invalid_pair_raises_bad_symbol(ex, mock, load):
    mock.get(PAIRS, body=load("pairs_docs22"))
    mock.get(f"{API}/api/v1/exchanges/?ordering=-id&pair=BTC_USD", status=400, payload={"error": "Invalid pair: 'BTC_USD'"})
    with pytest.raises(BadSymbol):
        await ex.fetch_trades("BTC/USD")


async def test_other_bad_input_raises_bad_request(ex, mock, load):
    mock.get(PAIRS, body=load("pairs_docs22"))
    mock.get(f"{API}/api/v1/exchanges/?limit=0&ordering=-id&pair=BTC_USD", status=400, payload={"error": "Invalid limit: '0'"})
    with pytest.raises(BadRequest) as info:
        await ex.fetch_trades("BTC/USD", limit=0)
    assert type(info.value) is BadRequest and info.value.message == "Invalid limit: '0'"


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_on_create_order_raises_outcome_unknown(ex, mock, nonces, load, status):
    with pytest.raises(OutcomeUnknown) as info:
        await _create(ex, mock, load, status=status, body=b"<html>Bad gateway</html>", content_type="text/html")
    assert (info.value.method, info.value.path, info.value.status) == ("POST", "/api/v1/order/", status)
    assert len(mock.requests[("POST", URL(ORDER))]) == 1


async def test_5xx_with_an_error_body_on_create_order_raises_outcome_unknown(ex, mock, nonces, load):
    with pytest.raises(OutcomeUnknown):
        await _create(ex, mock, load, status=500, payload={"error": "Internal server error"})
    assert len(mock.requests[("POST", URL(ORDER))]) == 1


async def test_timeout_on_cancel_raises_outcome_unknown(ex, mock, nonces):
    mock.post(f"{API}/api/v1/order-cancel/", exception=asyncio.TimeoutError())
    with pytest.raises(OutcomeUnknown):
        await ex.cancel_order("63568")
    assert len(mock.requests[("POST", URL(f"{API}/api/v1/order-cancel/"))]) == 1


async def test_5xx_on_a_get_is_retried_then_raises_exchange_unavailable(ex, mock, nonces):
    mock.get(WALLETS, status=503, body=b"<html>Maintenance</html>", content_type="text/html", repeat=True)
    with pytest.raises(ExchangeUnavailable):
        await ex.fetch_balances()
    assert len(mock.requests[("GET", URL(WALLETS))]) == 4


async def test_5xx_with_an_error_body_on_a_get_raises_exchange_unavailable(ex, mock, nonces):
    mock.get(WALLETS, status=503, payload={"error": "Service is under maintenance"}, repeat=True)
    with pytest.raises(ExchangeUnavailable):
        await ex.fetch_balances()


# -- what the exchange cannot do -------------------------------------------------------

UNSUPPORTED = {"fetch_server_time", "create_market_order", "fetch_deposit_address", "withdraw"}


def test_has_table_is_false_exactly_for_what_btcalpha_cannot_do():
    cls = connectors.connector_class("btcalpha")
    assert {m for m, ok in cls.has.items() if not ok} == UNSUPPORTED
    assert all(cls.not_supported[m] for m in UNSUPPORTED)


@pytest.mark.parametrize(("method", "args"), [
    ("fetch_server_time", ()),
    ("fetch_deposit_address", ("BTC",)),
    ("withdraw", ("BTC", D("1"), "1BoatSLRHtKNngkdXEeobR76b53LETtpyT")),
])
async def test_unsupported_methods_raise_not_supported_with_a_reason(ex, mock, method, args):
    with pytest.raises(NotSupported) as info:
        await getattr(ex, method)(*args)
    assert info.value.reason == ex.not_supported[method]
    assert sent(mock) == []


async def test_market_order_raises_not_supported_without_sending(ex, mock, nonces, load):
    mock.get(PAIRS, body=load("pairs_docs22"))
    with pytest.raises(NotSupported) as info:
        await ex.create_order("BTC/USD", "buy", D("1"), type="market")
    assert info.value.reason == ex.not_supported["create_market_order"]
    assert sent(mock) == [("GET", PAIRS)] and nonces == []


# -- every documented endpoint is declared -------------------------------------------------

SPEC_ENDPOINTS = {
    ("GET", "/api/v1/currencies/", False), ("GET", "/api/v1/pairs/", False), ("GET", "/api/v1/ticker/", False),
    ("GET", "/api/v1/orderbook/", False), ("GET", "/api/v1/orderbook/{}/", False), ("GET", "/api/v1/exchanges/", False),
    ("GET", "/api/charts/{}/{}/chart", False), ("GET", "/api/v1/orders/", False),
    ("GET", "/api/v1/wallets/", True), ("GET", "/api/v1/orders/own/", True), ("GET", "/api/v1/order/{}/", True),
    ("POST", "/api/v1/order/", True), ("POST", "/api/v1/order-cancel/", True), ("GET", "/api/v1/exchanges/own/", True),
    ("GET", "/api/v1/deposits/", True), ("GET", "/api/v1/withdraws/", True),
}


def test_every_endpoint_of_the_spec_table_is_declared_with_its_method_and_auth():
    cls = connectors.connector_class("btcalpha")
    declared = {(ep.method, re.sub(r"\{\w+\}", "{}", ep.path), ep.auth) for ep in cls.endpoints.values()}
    assert declared == SPEC_ENDPOINTS


async def test_public_order_list_is_reachable_through_request(ex, mock):
    url = f"{API}/api/v1/orders/?pair=BTC_USD&status=1"
    mock.get(url, body=b'[{"amount": 0.5, "pair": "BTC_USD", "type": "buy", "status": 1, "price": 870.69, "id": 1}]')
    [order] = await ex.request("GET", "/api/v1/orders/", {"pair": "BTC_USD", "status": 1})
    assert sent(mock) == [("GET", url)]
    assert_unsigned(call(mock, "GET", url))
    assert order["price"] == D("870.69")
