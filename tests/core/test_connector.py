"""The Connector base: lifecycle, has/NotSupported, pre-flight checks, signing pipeline."""

import gc
import hashlib
import hmac
import warnings
from decimal import Decimal

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import connectors
from core.connector import Connector, Endpoint, Pool, format_decimal, to_decimal
from core.errors import AuthenticationError, BadResponse, BadSymbol, InvalidOrder, NotSupported
from core.models import Market
from core.transport import Prepared

D = Decimal
SECRET = "topsecret-value"


class Dummy(Connector):
    id = "dummy"
    name = "Dummy"
    urls = {"api": "https://api.dummy.invalid", "public": "https://public.dummy.invalid"}
    endpoints = {
        "markets": Endpoint("GET", "/markets"),
        "book": Endpoint("GET", "/book/{pair}", host="public"),
        "balances": Endpoint("GET", "/balances", auth=True),
    }
    rate_limits = {"public": Pool(1000), "private": Pool(1000, per_key=True)}
    not_supported = {"withdraw": "Dummy has no withdrawal API", "create_market_order": "limit orders only",
                     "fetch_server_time": "no time endpoint"}

    def _sign(self, ep, url, path, params, nonce, credentials):
        sig = hmac.new(credentials.secret.encode(), str(nonce).encode(), hashlib.sha256).hexdigest()
        return Prepared(ep.method, url, path, {"X-KEY": credentials.key, "X-NONCE": str(nonce), "X-SIGN": sig})

    async def _fetch_markets(self):
        raw = await self._call("markets")
        return [Market(f"{m['base']}/{m['quote']}", m["id"], m["base"], m["quote"], m["pdp"], m["adp"],
                       min_amount=D(m["min"]), min_cost=D("1")) for m in raw]

    async def fetch_balances(self):
        return await self._call("balances")


class Server:
    def __init__(self):
        self.hits: list[tuple[str, dict]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.hits.append((request.path, dict(request.headers)))
        if request.path == "/markets":
            return web.json_response([{"id": "BTC_USD", "base": "BTC", "quote": "USD", "pdp": 2, "adp": 4, "min": "0.001"}])
        if request.path == "/balances":
            if request.headers.get("X-KEY") != "k1":
                return web.json_response({"error": "bad key"}, status=401)
            return web.Response(text='{"BTC": 0.1, "USD": "100.25"}', content_type="application/json")
        if request.path == "/garbage":
            return web.Response(text="<html>oops", content_type="text/html")
        return web.json_response({"path": request.path})


@pytest.fixture
async def server():
    srv = Server()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", srv.handle)
    ts = TestServer(app, host="127.0.0.1")
    await ts.start_server()
    srv.url = f"http://127.0.0.1:{ts.port}"
    yield srv
    await ts.close()


def test_has_is_derived_from_what_the_exchange_cannot_do():
    assert Dummy.has["withdraw"] is False and Dummy.has["fetch_balances"] is True
    assert set(Dummy.has) >= {"load_markets", "create_order", "cancel_all_orders", "fetch_deposit_address"}


async def test_unsupported_method_raises_not_supported_with_the_reason():
    async with Dummy() as ex:
        with pytest.raises(NotSupported, match="no withdrawal API") as info:
            await ex.withdraw("BTC", D("1"), "addr")
    assert info.value.exchange == "dummy"


async def test_base_url_replaces_every_host(server):
    async with Dummy(base_url=server.url) as ex:
        await ex.load_markets()
        await ex._call("book", path_params={"pair": "BTC_USD"})
    assert [p for p, _ in server.hits] == ["/markets", "/book/BTC_USD"]


async def test_signed_calls_use_strictly_increasing_nonces_shared_by_instances_of_one_key(server):
    async with Dummy(key="k1", secret=SECRET, base_url=server.url) as a, \
            Dummy(key="k1", secret=SECRET, base_url=server.url) as b:
        for _ in range(5):
            await a.fetch_balances()
            await b.fetch_balances()
    nonces = [int(h["X-NONCE"]) for _, h in server.hits]
    assert nonces == sorted(set(nonces)) and len(nonces) == 10


async def test_private_call_without_credentials_fails_before_sending(server):
    async with Dummy(base_url=server.url) as ex:
        with pytest.raises(AuthenticationError, match="needs an API key"):
            await ex.fetch_balances()
    assert server.hits == []


def test_key_without_secret_is_refused():
    with pytest.raises(AuthenticationError):
        Dummy(key="k1")


async def test_bad_key_maps_to_authentication_error_without_leaking_the_secret(server):
    async with Dummy(key="wrong", secret=SECRET, base_url=server.url) as ex:
        with pytest.raises(AuthenticationError) as info:
            await ex.fetch_balances()
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)


async def test_decoded_numbers_are_exact_decimals(server):
    async with Dummy(key="k1", secret=SECRET, base_url=server.url) as ex:
        balances = await ex.fetch_balances()
        raw = await ex.request("GET", "/markets")
    assert balances == {"BTC": D("0.1"), "USD": "100.25"}
    assert isinstance(balances["BTC"], Decimal) and raw[0]["id"] == "BTC_USD"


async def test_undecodable_body_is_a_bad_response(server):
    async with Dummy(base_url=server.url) as ex:
        with pytest.raises(BadResponse, match="unexpected response"):
            await ex._call(Endpoint("GET", "/garbage"), decoder=msgspec.json.Decoder(list[int]))


@pytest.mark.parametrize(
    ("amount", "price", "message"),
    [
        (0.5, D("100"), "not float"),
        (D("0.00001"), D("100"), "more than 4 decimals"),
        (D("0.0001"), D("100"), "below the minimum 0.001"),
        (D("0.01"), D("100.001"), "more than 2 decimals"),
        (D("0.01"), D("50"), "order value 0.5 is below the minimum 1"),
        (D("-1"), D("100"), "must be positive"),
        ("abc", D("100"), "not a number"),
        (D("1"), None, "needs a price"),
        (D("NaN"), D("1"), "finite"),
    ],
)
async def test_order_checks_refuse_bad_amounts_and_prices_before_sending(server, amount, price, message):
    async with Dummy(key="k1", secret=SECRET, base_url=server.url) as ex:
        market = await ex.market("BTC/USD")
        with pytest.raises(InvalidOrder, match=message):
            ex.check_order(market, "buy", amount, price, "limit")
    assert [p for p, _ in server.hits] == ["/markets"]


async def test_order_checks_accept_exact_values_and_refuse_unsupported_market_orders(server):
    async with Dummy(base_url=server.url) as ex:
        market = await ex.market("BTC/USD")
        assert ex.check_order(market, "sell", "0.0020", D("911.52"), "limit") == (D("0.0020"), D("911.52"))
        with pytest.raises(NotSupported, match="limit orders only"):
            ex.check_order(market, "buy", D("1"), None, "market")
        with pytest.raises(InvalidOrder, match="side"):
            ex.check_order(market, "long", D("1"), D("1"), "limit")


async def test_unknown_symbol_is_bad_symbol_with_a_hint(server):
    async with Dummy(base_url=server.url) as ex:
        with pytest.raises(BadSymbol, match="look like 'BTC/USD'"):
            await ex.market("BTCUSD")


async def test_repr_never_shows_key_or_secret():
    ex = Dummy(key="visible-key-123", secret=SECRET)
    assert "visible-key-123" not in repr(ex) and SECRET not in repr(ex)
    await ex.close()


async def test_open_and_close_many_times_leaves_no_unclosed_session(server):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(20):
            async with Dummy(base_url=server.url) as ex:
                await ex.load_markets()
            await ex.close()  # idempotent
        gc.collect()
    assert not [w for w in caught if "Unclosed" in str(w.message)]


def test_decimal_helpers_refuse_floats_and_print_plainly():
    with pytest.raises(InvalidOrder):
        to_decimal(1.5, "amount")
    assert to_decimal("0.00000001", "x") == D("1E-8")
    assert format_decimal(D("1E-8")) == "0.00000001" and format_decimal(D("870.6900")) == "870.69"
    assert format_decimal(D("100")) == "100"


def test_open_unknown_exchange_raises_not_supported_listing_known_ids():
    with pytest.raises(NotSupported, match="unknown exchange 'nope'"):
        connectors.open("nope")
    assert isinstance(connectors.EXCHANGES, tuple)


def test_window_pool_never_exceeds_the_limit_in_any_sliding_window():
    from core.ratelimit import RateLimit

    pool = Pool.window(16, 1.0, burst=4)
    bucket = RateLimit("w", pool.rate, pool.period, pool.burst, clock=lambda: 0.0)
    from core.ratelimit import RateLimiter

    limiter = RateLimiter(bucket)
    times = [limiter.reserve(now=0.0) for _ in range(200)]  # the earliest slot of each call
    closed = max(sum(1 for t in times if start <= t <= start + 1.0) for start in times)
    half_open = max(sum(1 for t in times if start <= t < start + 1.0 - 1e-6) for start in times)  # float slack
    assert closed <= 16  # even a window closed at both ends stays within the 16/s server limit
    assert half_open <= 15  # and a server's usual (now-1s, now] window sees one call of slack
    with pytest.raises(ValueError):
        Pool.window(2, burst=2)


async def test_request_reuses_a_declared_endpoint_and_its_pools(server):
    async with Dummy(key="k1", secret=SECRET, base_url=server.url) as ex:
        assert ex._routes[("GET", "api", "/balances", True)] is Dummy.endpoints["balances"]
        await ex.request("GET", "/balances", auth=True)
    assert server.hits[-1][1]["X-KEY"] == "k1"


async def test_a_connector_opened_after_the_last_one_closed_continues_above_its_nonces(server):
    async with Dummy(key="k1", secret=SECRET, base_url=server.url) as ex:
        await ex.fetch_balances()
        last = ex.nonces.last
    del ex
    gc.collect()
    async with Dummy(key="k1", secret=SECRET, base_url=server.url) as ex:
        assert ex.nonces.last == last
        await ex.fetch_balances()
        assert ex.nonces.last > last
