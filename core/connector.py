"""The unified connector: one async API over every exchange.

A concrete connector declares its hosts, endpoints, rate-limit pools, timeframes and what
it cannot do as class data, and implements the exchange-specific parts: signing
(:meth:`Connector._sign`), error-body mapping (:meth:`Connector._map_error`) and the
unified methods it supports. Everything else — lifecycle, sessions, limits, nonces,
retries, market lookups, pre-flight order checks — lives here.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlencode

import aiohttp
import msgspec

from core.credentials import Credentials, key_fingerprint
from core.errors import (
    AuthenticationError,
    BadRequest,
    BadResponse,
    BadSymbol,
    ExchangeUnavailable,
    ExconnError,
    InvalidNonce,
    InvalidOrder,
    NotSupported,
    OutcomeUnknown,
)
from core.models import (
    Balance,
    Candle,
    Currency,
    DepositAddress,
    Market,
    Order,
    OrderBook,
    Ticker,
    Trade,
    Transfer,
)
from core.nonce import NonceManager
from core.ratelimit import RateLimit, RateLimiter, shared_limit
from core.transport import Prepared, Response, RetryPolicy, Timeouts, Transport

__all__ = [
    "Connector", "Endpoint", "Pool", "UNIFIED_METHODS", "to_decimal", "format_decimal", "encode_query", "form_encode",
    "wire_value",
]

T = TypeVar("T")

UNIFIED_METHODS: tuple[str, ...] = (
    "load_markets",
    "fetch_currencies",
    "fetch_server_time",
    "fetch_ticker",
    "fetch_tickers",
    "fetch_order_book",
    "fetch_trades",
    "fetch_candles",
    "fetch_balances",
    "create_order",
    "create_market_order",
    "cancel_order",
    "cancel_all_orders",
    "fetch_order",
    "fetch_open_orders",
    "fetch_orders",
    "fetch_my_trades",
    "fetch_deposits",
    "fetch_withdrawals",
    "fetch_deposit_address",
    "withdraw",
)

ANY_JSON = msgspec.json.Decoder(float_hook=Decimal)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One documented call. ``host`` names an entry of the connector's ``urls``; ``cost``
    is the weight taken from each pool; ``pools`` defaults to the public pools for
    public calls and every pool for private ones."""

    method: str
    path: str
    auth: bool = False
    host: str = "api"
    cost: float = 1.0
    pools: tuple[str, ...] | None = None
    idempotent: bool | None = None

    @property
    def safe_to_retry(self) -> bool:
        return self.method in ("GET", "HEAD") if self.idempotent is None else self.idempotent


@dataclass(frozen=True, slots=True)
class Pool:
    """A rate-limit pool: ``rate`` calls per ``period`` seconds, per API key or per IP.
    ``endpoint_only`` pools are taken only by the endpoints that name them."""

    rate: float
    period: float = 1.0
    burst: float | None = None
    per_key: bool = False
    endpoint_only: bool = False

    @staticmethod
    def window(limit: int, period: float = 1.0, burst: int = 1, *, per_key: bool = False,
               endpoint_only: bool = False) -> Pool:
        """A pool that never exceeds a server limit of ``limit`` calls in any sliding ``period``
        seconds: a bucket admits up to burst + rate·period − 1 calls in such a window, so the
        rate is ``limit − burst`` per period (one call of slack absorbs network jitter)."""
        if not 1 <= burst < limit:
            raise ValueError(f"burst must be between 1 and limit - 1, got {burst} for a limit of {limit}")
        return Pool(limit - burst, period, burst, per_key, endpoint_only)


def to_decimal(value: Any, field: str) -> Decimal:
    """A caller's amount or price as an exact Decimal; floats are refused (they are not exact)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidOrder(f"{field} must be a Decimal, int or str, not {type(value).__name__} "
                           f"(floats are not exact: pass Decimal('{value!r}'))")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise InvalidOrder(f"{field} is not a number: {value!r}") from None
    else:
        raise InvalidOrder(f"{field} must be a Decimal, int or str, not {type(value).__name__}")
    if not result.is_finite():
        raise InvalidOrder(f"{field} must be finite, got {value!r}")
    return result


def format_decimal(value: Decimal) -> str:
    """Plain decimal text for the wire (no exponent, no trailing zeros): 1E-8 -> '0.00000001'."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


# One manager per (exchange, key) for the life of the process: a connector opened after the
# last one of its key closed must go on above that key's last nonce, never below it.
_nonce_managers: dict[tuple[str, str], NonceManager] = {}


class Connector:
    """Base of every exchange connector; use through ``connectors.open(...)``."""

    id: ClassVar[str]
    name: ClassVar[str]
    urls: ClassVar[Mapping[str, str]]
    endpoints: ClassVar[Mapping[str, Endpoint]]
    rate_limits: ClassVar[Mapping[str, Pool]]
    not_supported: ClassVar[Mapping[str, str]] = MappingProxyType({})
    emulated: ClassVar[Mapping[str, str]] = MappingProxyType({})
    timeframes: ClassVar[Mapping[str, str]] = MappingProxyType({})
    nonce_unit: ClassVar[str | None] = "ms"  # None: the exchange signs a plain timestamp, no nonce
    nonce_ordered: ClassVar[bool] = False
    has: ClassVar[Mapping[str, bool]] = MappingProxyType({})
    _routes: ClassVar[dict[tuple[str, str, str, bool], Endpoint]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        unknown = set(cls.not_supported) - set(UNIFIED_METHODS)
        if unknown:
            raise TypeError(f"{cls.__name__}.not_supported names unknown methods: {sorted(unknown)}")
        cls.has = MappingProxyType({m: m not in cls.not_supported for m in UNIFIED_METHODS})
        if "endpoints" in cls.__dict__:
            cls._routes = {(ep.method, ep.host, ep.path, ep.auth): ep for ep in cls.endpoints.values()}

    def __init__(
        self,
        *,
        key: str | None = None,
        secret: str | None = None,
        base_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        rate_limits: Mapping[str, Pool] | None = None,
        nonce_store: str | None = None,
        sync_clock: bool = True,
        coordination: str | None = None,
    ) -> None:
        """No I/O happens here. ``coordination="redis://HOST:PORT/DB"`` shares rate limits and
        nonces with every process using the same Redis (``pip install 'exconn[redis]'``);
        without it they are shared by the connectors of this process."""
        if (key is None) != (secret is None):
            raise AuthenticationError("give both key and secret, or neither", exchange=self.id)
        self._credentials = None if key is None else Credentials(key, secret)  # type: ignore[arg-type]
        if base_url is not None:
            if not base_url.startswith(("http://", "https://")):
                raise BadRequest(f"base_url must start with http:// or https://, got {base_url!r}", exchange=self.id)
            base = base_url.rstrip("/")
            self._hosts = {name: base for name in self.urls}
        else:
            self._hosts = dict(self.urls)
        self._transport = Transport(
            self.id, session=session, timeouts=timeouts or Timeouts(), retry=retry or RetryPolicy(),
            error_mapper=self._map_error_checked,
        )
        pools = dict(self.rate_limits)
        overrides = dict(rate_limits or {})
        unknown = set(overrides) - set(pools)
        if unknown:
            raise BadRequest(f"unknown rate-limit pools {sorted(unknown)}; known: {sorted(pools)}", exchange=self.id)
        pools.update(overrides)
        key_id = self._credentials.key if self._credentials else None
        self._coordination: Any = None
        if coordination is not None:
            if nonce_store is not None:
                raise BadRequest("nonce_store and coordination exclude each other: Redis holds the nonce mark",
                                 exchange=self.id)
            from core.distributed import RedisCoordination  # lazy: redis is an optional extra

            self._coordination = RedisCoordination(coordination)
            self._pools: dict[str, Any] = {
                name: self._coordination.limit(self.id, name, key_id if spec.per_key else None,
                                               spec.rate, spec.period, spec.burst)
                for name, spec in pools.items()
            }
            self._limiter: Any = self._coordination.limiter(*self._pools.values())
            self._nonces: Any = (
                self._coordination.nonce_manager(self.id, key_id, unit=self.nonce_unit or "s",
                                                 ordered=self.nonce_ordered)
                if key_id is not None else NonceManager(unit=self.nonce_unit or "s"))
        else:
            # The documented limits are shared by every connector of the process with the same
            # key; a pool the caller configured differently is this connector's own.
            self._pools = {
                name: RateLimit(f"{self.id}:{name}", spec.rate, spec.period, spec.burst) if name in overrides
                else shared_limit(self.id, name, key_id if spec.per_key else None, spec.rate, spec.period,
                                  spec.burst)
                for name, spec in pools.items()
            }
            self._limiter = RateLimiter(*self._pools.values())
            self._nonces = self._nonce_manager(key_id, nonce_store)
        general = {n: spec for n, spec in pools.items() if not spec.endpoint_only}
        self._public_pools = tuple(self._pools[n] for n, spec in general.items() if not spec.per_key)
        self._all_pools = tuple(self._pools[n] for n in general)
        self._sync_clock = sync_clock and not self.not_supported.get("fetch_server_time")
        self._clock_synced = False
        self._markets: dict[str, Market] | None = None
        self._markets_by_id: dict[str, Market] = {}
        self._markets_lock: asyncio.Lock | None = None

    def _nonce_manager(self, key: str | None, store: str | None) -> NonceManager:
        manager_kw = {"unit": self.nonce_unit or "s", "ordered": self.nonce_ordered, "store": store}
        if key is None:
            return NonceManager(**manager_kw)  # type: ignore[arg-type]
        ident = (self.id, key_fingerprint(key))
        manager = _nonce_managers.get(ident)
        if manager is None:
            manager = NonceManager(**manager_kw)  # type: ignore[arg-type]
            _nonce_managers[ident] = manager
        return manager

    # -- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self: T) -> T:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Release the HTTP session (if this connector created it) and the Redis client of
        ``coordination``. Idempotent."""
        await self._transport.close()
        if self._coordination is not None:
            await self._coordination.close()

    def __repr__(self) -> str:
        auth = "no key" if self._credentials is None else f"key=<{self._credentials.fingerprint}>"
        return f"<{type(self).__name__} {self.id} {auth} {self._hosts.get('api', next(iter(self._hosts.values())))}>"

    @property
    def credentials(self) -> Credentials:
        if self._credentials is None:
            raise AuthenticationError("this call needs an API key and secret", exchange=self.id)
        return self._credentials

    @property
    def nonces(self) -> NonceManager:
        return self._nonces

    # -- requests ----------------------------------------------------------------------

    async def request(
        self, method: str, path: str, params: Mapping[str, Any] | None = None, auth: bool = False,
        *, host: str = "api",
    ) -> Any:
        """Call any documented endpoint by path; returns the decoded JSON (numbers as Decimal)."""
        method = method.upper()
        if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
            # anything else could move the request — and its credentials — to another host
            raise BadRequest(f"path must be an absolute path on the exchange, like '/api/v1/pairs/'; got {path!r}",
                             exchange=self.id)
        if host not in self._hosts:
            raise BadRequest(f"unknown host {host!r}; known: {sorted(self._hosts)}", exchange=self.id)
        # a declared endpoint keeps its own pools and retry rule; others take the general pools
        endpoint = self._routes.get((method, host, path, auth)) or Endpoint(method, path, auth=auth, host=host)
        return await self._call(endpoint, params)

    async def _call(
        self,
        endpoint: Endpoint | str,
        params: Mapping[str, Any] | None = None,
        *,
        path_params: Mapping[str, Any] | None = None,
        decoder: msgspec.json.Decoder[Any] = ANY_JSON,
    ) -> Any:
        """Send one endpoint call (rate-limited, signed, retried as safe) and decode the body."""
        response = await self._send(endpoint, params, path_params=path_params)
        try:
            return self._decode(response, decoder)
        except BadResponse as exc:
            ep = self.endpoints[endpoint] if isinstance(endpoint, str) else endpoint
            if ep.safe_to_retry:
                raise
            # the exchange accepted a mutation but its answer is unreadable: it may have been applied
            raise OutcomeUnknown(f"{exc.message}; the request may have been applied", exchange=self.id,
                                 status=response.status, method=response.method, path=response.path,
                                 cause=exc) from exc

    async def _send(
        self,
        endpoint: Endpoint | str,
        params: Mapping[str, Any] | None = None,
        *,
        path_params: Mapping[str, Any] | None = None,
    ) -> Response:
        ep = self.endpoints[endpoint] if isinstance(endpoint, str) else endpoint
        path = ep.path.format_map(path_params) if path_params else ep.path
        url = self._hosts[ep.host] + path
        if ep.pools is not None:
            limits: Sequence[RateLimit] = tuple(self._pools[name] for name in ep.pools)
        else:
            limits = self._all_pools if ep.auth else self._public_pools
        if ep.auth:
            credentials = self.credentials
        return await self._transport.request(
            lambda: _Attempt(self, ep, url, path, params, limits, credentials if ep.auth else None),
            idempotent=ep.safe_to_retry,
            on_rate_limited=lambda delay: self._limiter.penalize(delay, limits=limits),
        )

    def _decode(self, response: Response, decoder: msgspec.json.Decoder[T]) -> T:
        try:
            return decoder.decode(response.body)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
            raise BadResponse(
                f"{response.method} {response.path}: unexpected response ({exc}): {response.text(120)!r}",
                exchange=self.id, status=response.status,
            ) from None

    def _prepare_public(self, ep: Endpoint, url: str, path: str, params: Mapping[str, Any] | None) -> Prepared:
        """An unsigned request: params in the query (GET) or as a form body (others)."""
        if not params:
            return Prepared(ep.method, url, path)
        encoded = encode_query(params)
        if ep.method == "GET":
            return Prepared(ep.method, f"{url}?{encoded}", path)
        return Prepared(ep.method, url, path, {"Content-Type": "application/x-www-form-urlencoded"}, encoded)

    def _sign(
        self, ep: Endpoint, url: str, path: str, params: Mapping[str, Any] | None, nonce: int | None,
        credentials: Credentials,
    ) -> Prepared:
        """Build a signed request for a private endpoint (exchange-specific); ``nonce`` is
        None when the class declares ``nonce_unit = None``."""
        raise NotImplementedError

    def _map_error(self, response: Response) -> ExconnError | None:
        """Map an error answer to our exception (exchange-specific); None = by HTTP status."""
        return None

    def _map_error_checked(self, response: Response) -> ExconnError | None:
        error = self._map_error(response)
        if isinstance(error, InvalidNonce):
            self._clock_synced = False  # the next private call re-reads the server clock
        elif type(error) is BadRequest and response.status >= 500:
            # a server error the exchange explained, but not a refusal of our request
            error = ExchangeUnavailable(error.message, code=error.code)
        return error

    async def sync_clock(self) -> None:
        """Correct nonces for this machine's clock offset from the exchange's server time."""
        self._clock_synced = True
        if self.not_supported.get("fetch_server_time"):
            return
        clock = self._nonces.clock
        sent_at = clock()
        server_ms = await self.fetch_server_time()
        self._nonces.observe_server_time(server_ms, sent_at=sent_at, received_at=clock())

    # -- markets and symbols -----------------------------------------------------------

    async def load_markets(self, reload: bool = False) -> dict[str, Market]:
        """Markets by unified symbol, fetched once and cached (``reload=True`` refreshes)."""
        if self._markets is not None and not reload:
            return self._markets
        if self._markets_lock is None:
            self._markets_lock = asyncio.Lock()
        async with self._markets_lock:
            if self._markets is None or reload:
                markets = await self._fetch_markets()
                self._markets = {m.symbol: m for m in markets}
                self._markets_by_id = {m.id: m for m in markets}
        return self._markets

    async def _fetch_markets(self) -> list[Market]:
        raise self._unsupported("load_markets")

    async def market(self, symbol: str) -> Market:
        """The market for a unified symbol; BadSymbol when the exchange has no such market."""
        markets = self._markets if self._markets is not None else await self.load_markets()
        try:
            return markets[symbol]
        except KeyError:
            hint = ""
            if isinstance(symbol, str) and "/" not in symbol:
                hint = " (unified symbols look like 'BTC/USD')"
            raise BadSymbol(f"unknown market {symbol!r}{hint}", exchange=self.id) from None

    def market_by_id(self, market_id: str) -> Market | None:
        """The loaded market with this exchange id, or None."""
        return self._markets_by_id.get(market_id)

    async def _tickers_by_market_id(self, raw: Mapping[str, Any], symbols: Iterable[str] | None) -> dict[str, Ticker]:
        """Tickers from an answer keyed by exchange market id (each value has ``to_model(symbol)``),
        keeping ``symbols`` only when given; ids of unlisted markets are skipped."""
        await self.load_markets()
        wanted = None if symbols is None else {(await self.market(sym)).symbol for sym in symbols}
        result = {}
        for market_id, value in raw.items():
            market = self.market_by_id(market_id)
            if market is not None and (wanted is None or market.symbol in wanted):
                result[market.symbol] = value.to_model(market.symbol)
        return result

    def _timeframe(self, timeframe: str) -> str:
        try:
            return self.timeframes[timeframe]
        except KeyError:
            raise BadRequest(
                f"timeframe {timeframe!r} not supported; choose from {list(self.timeframes)}", exchange=self.id
            ) from None

    def check_order(
        self, market: Market, side: str, amount: Any, price: Any, type: str
    ) -> tuple[Decimal, Decimal | None]:
        """Validate an order against the market's precision and limits before anything is
        sent; returns (amount, price) as Decimals or raises InvalidOrder."""
        if side not in ("buy", "sell"):
            raise InvalidOrder(f"side must be 'buy' or 'sell', got {side!r}", exchange=self.id)
        if type not in ("limit", "market"):
            raise InvalidOrder(f"type must be 'limit' or 'market', got {type!r}", exchange=self.id)
        if type == "market" and not self.has["create_market_order"]:
            raise NotSupported("market orders", reason=self.not_supported["create_market_order"], exchange=self.id)
        qty = to_decimal(amount, "amount")
        if qty <= 0:
            raise InvalidOrder(f"amount must be positive, got {format_decimal(qty)}", exchange=self.id)
        if market.amount_precision is not None and _decimals(qty) > market.amount_precision:
            raise InvalidOrder(f"amount {format_decimal(qty)} has more than {market.amount_precision} decimals "
                               f"allowed on {market.symbol}", exchange=self.id)
        if market.min_amount is not None and qty < market.min_amount:
            raise InvalidOrder(f"amount {format_decimal(qty)} is below the minimum {format_decimal(market.min_amount)} "
                               f"on {market.symbol}", exchange=self.id)
        if market.max_amount is not None and qty > market.max_amount:
            raise InvalidOrder(f"amount {format_decimal(qty)} is above the maximum {format_decimal(market.max_amount)} "
                               f"on {market.symbol}", exchange=self.id)
        if type == "market":
            if price is not None:
                raise InvalidOrder("a market order takes no price", exchange=self.id)
            return qty, None
        if price is None:
            raise InvalidOrder("a limit order needs a price", exchange=self.id)
        px = to_decimal(price, "price")
        if px <= 0:
            raise InvalidOrder(f"price must be positive, got {format_decimal(px)}", exchange=self.id)
        if market.price_precision is not None and _decimals(px) > market.price_precision:
            raise InvalidOrder(f"price {format_decimal(px)} has more than {market.price_precision} decimals "
                               f"allowed on {market.symbol}", exchange=self.id)
        if market.min_price is not None and px < market.min_price:
            raise InvalidOrder(f"price {format_decimal(px)} is below the minimum {format_decimal(market.min_price)} "
                               f"on {market.symbol}", exchange=self.id)
        if market.max_price is not None and px > market.max_price:
            raise InvalidOrder(f"price {format_decimal(px)} is above the maximum {format_decimal(market.max_price)} "
                               f"on {market.symbol}", exchange=self.id)
        if market.min_cost is not None and qty * px < market.min_cost:
            raise InvalidOrder(f"order value {format_decimal(qty * px)} is below the minimum "
                               f"{format_decimal(market.min_cost)} on {market.symbol}", exchange=self.id)
        return qty, px

    # -- the unified API (a connector overrides what its exchange supports) --------------

    def _unsupported(self, method: str) -> NotSupported:
        reason = self.not_supported.get(method, "not implemented for this exchange")
        return NotSupported(method, reason=reason, exchange=self.id)

    async def fetch_currencies(self) -> dict[str, Currency]:
        """Currencies by code."""
        raise self._unsupported("fetch_currencies")

    async def fetch_server_time(self) -> int:
        """The exchange's clock, epoch ms."""
        raise self._unsupported("fetch_server_time")

    async def fetch_ticker(self, symbol: str) -> Ticker:
        raise self._unsupported("fetch_ticker")

    async def fetch_tickers(self, symbols: Iterable[str] | None = None) -> dict[str, Ticker]:
        """Tickers by symbol; all markets when ``symbols`` is None."""
        raise self._unsupported("fetch_tickers")

    async def fetch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        """Aggregated book, bids highest first and asks lowest first, at most ``limit`` levels a side."""
        raise self._unsupported("fetch_order_book")

    async def fetch_trades(self, symbol: str, limit: int | None = None) -> list[Trade]:
        """Recent public trades, oldest first."""
        raise self._unsupported("fetch_trades")

    async def fetch_candles(
        self, symbol: str, timeframe: str = "1h", since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """OHLCV candles, oldest first; ``since`` in epoch ms."""
        raise self._unsupported("fetch_candles")

    async def fetch_balances(self) -> dict[str, Balance]:
        """Balances by currency code."""
        raise self._unsupported("fetch_balances")

    async def create_order(
        self, symbol: str, side: str, amount: Any, price: Any = None, type: str = "limit"
    ) -> Order:
        """Place an order; ``amount`` in base, ``price`` in quote currency (Decimal)."""
        raise self._unsupported("create_order")

    async def cancel_order(self, order_id: str, symbol: str | None = None) -> Order | None:
        """Cancel one order; returns the order as the exchange reported it, when it does."""
        raise self._unsupported("cancel_order")

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        """Cancel every open order (of one market when ``symbol`` is given)."""
        raise self._unsupported("cancel_all_orders")

    async def fetch_order(self, order_id: str, symbol: str | None = None) -> Order:
        raise self._unsupported("fetch_order")

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        raise self._unsupported("fetch_open_orders")

    async def fetch_orders(self, symbol: str | None = None) -> list[Order]:
        """Open and closed orders the exchange still lists."""
        raise self._unsupported("fetch_orders")

    async def fetch_my_trades(self, symbol: str | None = None, limit: int | None = None) -> list[Trade]:
        raise self._unsupported("fetch_my_trades")

    async def fetch_deposits(self, currency: str | None = None) -> list[Transfer]:
        raise self._unsupported("fetch_deposits")

    async def fetch_withdrawals(self, currency: str | None = None) -> list[Transfer]:
        raise self._unsupported("fetch_withdrawals")

    async def fetch_deposit_address(self, currency: str) -> DepositAddress:
        raise self._unsupported("fetch_deposit_address")

    async def withdraw(self, currency: str, amount: Any, address: str, **params: Any) -> Transfer:
        raise self._unsupported("withdraw")

    async def _cancel_all_by_listing(self, symbol: str | None) -> list[Order]:
        """Emulated cancel-all: list open orders and cancel each (stops at the first error)."""
        canceled = []
        for order in await self.fetch_open_orders(symbol):
            result = await self.cancel_order(order.id, order.symbol)
            canceled.append(result if result is not None else order)
        return canceled


class _Attempt:
    """One attempt of a call: take rate-limit permits, then (for private calls) a nonce and
    a signature; an ordered nonce sequence stays held until the answer is in."""

    __slots__ = ("_c", "_ep", "_url", "_path", "_params", "_limits", "_credentials", "_sequence")

    def __init__(self, connector: Connector, ep: Endpoint, url: str, path: str,
                 params: Mapping[str, Any] | None, limits: Sequence[RateLimit],
                 credentials: Credentials | None) -> None:
        self._c = connector
        self._ep = ep
        self._url = url
        self._path = path
        self._params = params
        self._limits = limits
        self._credentials = credentials
        self._sequence: Any = None

    async def __aenter__(self) -> Prepared:
        c = self._c
        if self._credentials is not None and c._sync_clock and not c._clock_synced:
            await c.sync_clock()  # first private call, or the exchange just refused a nonce
        await c._limiter.acquire(self._ep.cost, limits=self._limits)
        if self._credentials is None:
            return c._prepare_public(self._ep, self._url, self._path, self._params)
        if c.nonce_unit is None:
            return c._sign(self._ep, self._url, self._path, self._params, None, self._credentials)
        self._sequence = c._nonces.sequence()
        nonce = await self._sequence.__aenter__()
        try:
            return c._sign(self._ep, self._url, self._path, self._params, nonce, self._credentials)
        except BaseException:
            await self._sequence.__aexit__(None, None, None)
            self._sequence = None
            raise

    async def __aexit__(self, *exc_info: Any) -> None:
        if self._sequence is not None:
            await self._sequence.__aexit__(*exc_info)
            self._sequence = None


def encode_query(params: Mapping[str, Any]) -> str:
    """``k=v&…`` in the given order, values as :func:`wire_value`, None values left out."""
    return form_encode([(k, wire_value(v)) for k, v in params.items() if v is not None])


# the characters urlencode's quoting leaves as they are
_VERBATIM = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def form_encode(pairs: Sequence[tuple[str, str]]) -> str:
    """``k1=v1&k2=v2`` exactly as :func:`urllib.parse.urlencode` writes it, skipping its
    character-by-character quoting when no name or value needs any (the usual case)."""
    if _VERBATIM("".join([name + value for name, value in pairs])):
        return "&".join([f"{name}={value}" for name, value in pairs])
    return urlencode(pairs)


def wire_value(value: Any) -> str:
    """A parameter as the exchanges expect it on the wire: Decimals plain, booleans lower case."""
    if type(value) is str:
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
