"""CoinDCX spot REST, written from ``specs/coindcx.md``: one app serves the paths of both
``api.coindcx.com`` and ``public.coindcx.com`` (clients point both hosts at it).

Choices where the spec is uncertain or shows two variants:

- Auth: ``X-AUTH-SIGNATURE`` is the hex HMAC-SHA256 of the raw body bytes; the body must be
  a JSON object whose integer ``timestamp`` (ms) is within ±10 s of server time, and a
  (key, signature) pair is refused if seen in the last 20 s (the longest a timestamp can
  stay valid). Bad key, signature or timestamp and replays answer 401 "Invalid credentials".
- ``active_orders`` answers the live shape ``{"orders": [...]}``; order ``created_at`` and
  ``updated_at`` are integer ms (live form); order numbers are JSON numbers, balances and
  private-trade ``quantity``/``price``/``fee_amount`` strings (live form), ticker values strings.
- ``fee_amount`` is in the quote ("base") currency; a buyer's fee, which the engine takes in
  the target currency, is valued at the fill price. ``fee`` is the taker fee in percent.
- Ticker ``volume`` is the 24 h quote volume, ``change_24_hour`` a percentage; ``high``,
  ``low``, ``last_price``, ``bid``, ``ask`` are omitted while unknown (no trade, empty side).
- Limits: 16 req/s and 960 req/min per key; per key and endpoint per 60 s: cancel_all 30,
  cancel_by_ids 300, active_orders 300, every other 2000; public paths 60 req/s per IP
  (``venue.windows`` "private", "private_minute", "public" and one per endpoint name).
  A ``limit`` above the documented maximum is clamped, one below 1 refused.
- At most 25 open orders per market and user (422 "Open orders limit reached for this market").
- Market orders ignore ``price_per_unit``; ``stop_limit``/``take_profit`` answer 422
  "Order type not allowed"; numeric parameters must be JSON numbers.
- ``orders/edit`` replaces the order at the new price (time priority lost) under the same id;
  editing a closed order answers 422 "Invalid Request". ``cancel_by_ids`` skips unknown and
  closed orders. ``create_multiple`` validates every order first, then places them in order
  and stops at the first business rejection (earlier ones stay placed).
- ``trade_history`` ``from_id`` returns trades with a greater id; ``1M`` candles span 30 days.
- The seed-era ``/exchange/users/balances`` and ``/exchange/orders/create`` answer like their
  ``/exchange/v1`` versions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeGuard

import msgspec
from aiohttp import web

from sandbox.engine import (
    EngineError,
    EngineOrder,
    Fill,
    InsufficientBalance,
    MarketSpec,
    OrderNotCancelable,
    OrderNotFoundError,
    UnknownMarket,
)
from sandbox.stats import CURRENCY_NAMES, candles, ticker_stats
from sandbox.venue import SlidingWindow, Venue, fault_middleware

__all__ = [
    "Listing",
    "LISTINGS",
    "MARKETS",
    "MIDS",
    "TIMESTAMP_WINDOW_MS",
    "MAX_OPEN_ORDERS_PER_MARKET",
    "create_app",
    "expected_signature",
]

TIMESTAMP_WINDOW_MS = 10_000
MAX_OPEN_ORDERS_PER_MARKET = 25


@dataclass(frozen=True, slots=True)
class Listing:
    """A CoinDCX market: the engine's spec plus its venue code (``I`` CoinDCX INR, ``B`` Binance)."""

    spec: MarketSpec
    ecode: str

    @property
    def symbol(self) -> str:
        """``BTCINR``: the ``market``/``coindcx_name`` of orders, tickers and private trades."""
        return self.spec.base + self.spec.quote

    @property
    def pair(self) -> str:
        """``I-BTC_INR``: the id the ``/market_data`` paths take."""
        return f"{self.ecode}-{self.spec.base}_{self.spec.quote}"


_FEE_RATE = Decimal("0.001")

LISTINGS: tuple[Listing, ...] = (
    Listing(MarketSpec(
        "BTC/INR", "BTC", "INR", price_precision=2, amount_precision=5,
        min_amount=Decimal("0.00001"), max_amount=Decimal("100"),
        min_price=Decimal("100000"), max_price=Decimal("100000000"), min_cost=Decimal("100"),
        maker_fee=_FEE_RATE, taker_fee=_FEE_RATE,
    ), "I"),
    Listing(MarketSpec(
        "ETH/INR", "ETH", "INR", price_precision=2, amount_precision=4,
        min_amount=Decimal("0.0001"), max_amount=Decimal("1000"),
        min_price=Decimal("10000"), max_price=Decimal("10000000"), min_cost=Decimal("100"),
        maker_fee=_FEE_RATE, taker_fee=_FEE_RATE,
    ), "I"),
    Listing(MarketSpec(
        "SNT/BTC", "SNT", "BTC", price_precision=8, amount_precision=0,
        min_amount=Decimal("1"), max_amount=Decimal("90000000"),
        min_price=Decimal("0.00000010"), max_price=Decimal("0.00010000"), min_cost=Decimal("0.0001"),
        maker_fee=_FEE_RATE, taker_fee=_FEE_RATE,
    ), "B"),
)
MARKETS: tuple[MarketSpec, ...] = tuple(listing.spec for listing in LISTINGS)
MIDS: dict[str, Decimal] = {
    "BTC/INR": Decimal("5800000.00"),
    "ETH/INR": Decimal("260000.00"),
    "SNT/BTC": Decimal("0.00000240"),
}

_BY_SYMBOL = {listing.symbol: listing for listing in LISTINGS}
_BY_PAIR = {listing.pair: listing for listing in LISTINGS}
_BY_ENGINE_SYMBOL = {listing.spec.symbol: listing for listing in LISTINGS}
_CURRENCIES = sorted({c for spec in MARKETS for c in (spec.base, spec.quote)})

_ORDER_TYPES = {"limit_order": "limit", "market_order": "market"}
_WIRE_ORDER_TYPES = {engine: wire for wire, engine in _ORDER_TYPES.items()}
_UNSUPPORTED_ORDER_TYPES = ("stop_limit", "take_profit")
_SIDES = ("buy", "sell")
_CANDLE_INTERVALS_MS = {
    "1m": 60_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000,
    "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000, "8h": 28_800_000, "1d": 86_400_000,
    "3d": 259_200_000, "1w": 604_800_000, "1M": 2_592_000_000,
}
_CLIENT_ORDER_ID_MAX = 36

# venue.windows names: "public", "private", "private_minute" and each private endpoint ("orders/create", …)
_GENERAL_LIMITS = {"private": (16, 1.0), "private_minute": (960, 60.0)}
_ENDPOINT_LIMITS = {"orders/cancel_all": 30, "orders/cancel_by_ids": 300, "orders/active_orders": 300}
_DEFAULT_ENDPOINT_LIMIT = 2000
_ENDPOINT_WINDOW_S = 60.0
_PUBLIC_LIMIT_PER_SECOND = 60
_SEED_ALIASES = {"users/balances": "/exchange/users/balances", "orders/create": "/exchange/orders/create"}

_SUCCESS = {"message": "success", "status": 200, "code": 200}
_ENCODER = msgspec.json.Encoder()

Params = dict[str, Any]
PublicHandler = Callable[[Mapping[str, str]], object]
PrivateHandler = Callable[[str, Params], object]


def expected_signature(secret: str, body: bytes) -> str:
    """Lower-case hex HMAC-SHA256 of the exact request body bytes, keyed by the API secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# -- wire formatting ------------------------------------------------------------------------


def _number(value: Decimal) -> msgspec.Raw:
    """A Decimal as a JSON number in plain notation (never an exponent, never via float)."""
    return msgspec.Raw(format(value, "f").encode())


def _string(value: Decimal) -> str:
    return format(value, "f")


def _fixed(value: Decimal, places: int) -> str:
    """``value`` as a string with exactly ``places`` decimals (``"71198.00"``)."""
    return format(value.quantize(Decimal(1).scaleb(-places)), "f")


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=_ENCODER.encode(payload), content_type="application/json")


def _error_body(status: int, message: str) -> web.Response:
    return _json({"code": status, "message": message, "status": "error"}, status)


def _fault_body(status: int, message: str) -> web.Response:
    """Injected faults in CoinDCX's form, with its own wording for 429."""
    return _error_body(status, "Too Many Requests" if status == 429 else message)


def _now_ms() -> int:
    return int(time.time() * 1000)


# -- errors ---------------------------------------------------------------------------------


class _ApiError(Exception):
    """An answer in CoinDCX's error format; ``retry_after`` in seconds for 429."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after

    def response(self) -> web.Response:
        response = _error_body(self.status, self.message)
        if self.retry_after is not None:
            response.headers["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return response


def _invalid_request() -> _ApiError:
    return _ApiError(400, "Invalid Request.")


def _unauthorized() -> _ApiError:
    return _ApiError(401, "Invalid credentials")


def _rejected() -> _ApiError:
    return _ApiError(422, "Invalid Request")


def _from_engine(exc: EngineError) -> _ApiError:
    """The CoinDCX answer to an engine refusal."""
    if isinstance(exc, InsufficientBalance):
        return _ApiError(422, "Insufficient funds")
    if isinstance(exc, OrderNotFoundError):
        return _ApiError(404, "Order not found")
    if isinstance(exc, OrderNotCancelable):
        return _ApiError(400, "This order cannot be cancelled")
    if isinstance(exc, UnknownMarket):
        return _invalid_request()
    return _rejected()


@web.middleware
async def _error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Render refusals, engine errors and routing errors (404/405) as CoinDCX error bodies."""
    try:
        return await handler(request)
    except _ApiError as exc:
        return exc.response()
    except EngineError as exc:
        return _from_engine(exc).response()
    except web.HTTPException as exc:
        return _error_body(exc.status, exc.reason)


# -- parameters -----------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _parse_body(raw: bytes) -> Params:
    """The JSON object of a private request, floats kept exact as Decimal."""
    try:
        params = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except ValueError:
        raise _invalid_request() from None
    if not isinstance(params, dict):
        raise _invalid_request()
    return params


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise _invalid_request()
    return value


def _optional_choice(params: Mapping[str, Any], name: str, choices: Iterable[str]) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if value not in choices:
        raise _invalid_request()
    return value


def _decimal(params: Mapping[str, Any], name: str) -> Decimal:
    """A required JSON number parameter, exactly."""
    value = params.get(name)
    if isinstance(value, Decimal) or _is_int(value):
        return Decimal(value)
    raise _invalid_request()


def _whole(value: object) -> int | None:
    """An optional non-negative integer (count, id or epoch ms) from a query string or JSON body."""
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if _is_int(value) and value >= 0:
        return value
    raise _invalid_request()


def _count(value: object, default: int, maximum: int) -> int:
    """A ``limit``: ``default`` when absent, clamped to ``maximum``, refused below 1."""
    count = _whole(value)
    if count is None:
        return default
    if count < 1:
        raise _invalid_request()
    return min(count, maximum)


def _listing_by_symbol(params: Mapping[str, Any], name: str = "market") -> Listing:
    listing = _BY_SYMBOL.get(_text(params, name))
    if listing is None:
        raise _invalid_request()
    return listing


def _listing_by_pair(query: Mapping[str, str]) -> Listing:
    listing = _BY_PAIR.get(query.get("pair", ""))
    if listing is None:
        raise _invalid_request()
    return listing


def _id_list(params: Params, name: str) -> list[str] | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise _invalid_request()
    return value


@dataclass(frozen=True, slots=True)
class _NewOrder:
    """A validated create-order request; ``amount`` in target (base), ``price`` in quote."""

    listing: Listing
    side: str
    type: str
    amount: Decimal
    price: Decimal | None
    client_id: str | None

    @classmethod
    def parse(cls, params: Params) -> _NewOrder:
        listing = _listing_by_symbol(params)
        side = _text(params, "side")
        if side not in _SIDES:
            raise _invalid_request()
        wire_type = _text(params, "order_type")
        if wire_type in _UNSUPPORTED_ORDER_TYPES:
            raise _ApiError(422, "Order type not allowed")
        order_type = _ORDER_TYPES.get(wire_type)
        if order_type is None:
            raise _invalid_request()
        client_id = params.get("client_order_id")
        if client_id is not None and (not isinstance(client_id, str) or len(client_id) > _CLIENT_ORDER_ID_MAX):
            raise _invalid_request()
        price = _decimal(params, "price_per_unit") if order_type == "limit" else None
        return cls(listing, side, order_type, _decimal(params, "total_quantity"), price, client_id)


# -- orders ---------------------------------------------------------------------------------


class _OrderIds:
    """CoinDCX order ids (UUID strings) for engine orders. An edited order keeps its id while
    the engine replaces it, so an id names a chain of engine order ids, oldest first."""

    __slots__ = ("_rng", "_by_engine_id", "_chains")

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._by_engine_id: dict[int, str] = {}
        self._chains: dict[str, list[int]] = {}

    def id_for(self, engine_id: int) -> str:
        order_id = self._by_engine_id.get(engine_id)
        if order_id is None:
            order_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            self._by_engine_id[engine_id] = order_id
            self._chains[order_id] = [engine_id]
        return order_id

    def chain(self, order_id: str) -> list[int]:
        chain = self._chains.get(order_id)
        if chain is None:
            raise OrderNotFoundError(f"order {order_id} not found")
        return chain

    def extend(self, order_id: str, engine_id: int) -> None:
        self._chains[order_id].append(engine_id)
        self._by_engine_id[engine_id] = order_id


def _wire_status(engine_status: str, filled: Decimal) -> str:
    if engine_status == "open":
        return "partially_filled" if filled else "open"
    if engine_status == "canceled":
        return "partially_cancelled" if filled else "cancelled"
    return engine_status  # filled, rejected


def _fee_in_quote(side: str, fee: Decimal, price: Decimal) -> Decimal:
    """A fill's fee in quote currency: buyers pay theirs in the target currency."""
    return fee * price if side == "buy" else fee


def _order_fee(order: EngineOrder) -> Decimal:
    """Everything ``order`` paid in fees, in quote currency."""
    return sum(
        (_fee_in_quote(order.side, fill.taker_fee if fill.taker_order_id == order.id else fill.maker_fee, fill.price)
         for fill in order.fills),
        Decimal(0),
    )


def _percent(rate: Decimal) -> msgspec.Raw:
    return _number((rate * 100).normalize())


def _account_sides(account: str, fill: Fill) -> list[tuple[int, str, Decimal]]:
    """(engine order id, side, fee) of each of ``account``'s orders in ``fill``."""
    sides: list[tuple[int, str, Decimal]] = []
    if fill.taker_account == account:
        sides.append((fill.taker_order_id, fill.taker_side, fill.taker_fee))
    if fill.maker_account == account:
        maker_side = "sell" if fill.taker_side == "buy" else "buy"
        sides.append((fill.maker_order_id, maker_side, fill.maker_fee))
    return sides


# -- the app --------------------------------------------------------------------------------


class _CoinDCX:
    """Handlers and per-venue state: order ids, rate-limit windows and recently seen signatures."""

    __slots__ = ("venue", "engine", "ids", "_general_limits", "_public_limit")

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.engine = venue.engine
        self.ids = _OrderIds(random.Random(venue.rng.getrandbits(64)))
        self._general_limits = tuple(
            venue.window(name, limit, period) for name, (limit, period) in _GENERAL_LIMITS.items()
        )
        self._public_limit = venue.window("public", _PUBLIC_LIMIT_PER_SECOND, 1.0)

    # -- plumbing -----------------------------------------------------------------------

    def public(self, handler: PublicHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
        """A GET handler limited per client IP."""

        async def handle(request: web.Request) -> web.Response:
            _throttle(request.remote or "", (self._public_limit,))
            return _json(handler(request.query))

        return handle

    def private(self, endpoint: str, handler: PrivateHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
        """A signed POST handler limited per key, in general and per ``endpoint``."""
        endpoint_limit = self.venue.window(
            endpoint, _ENDPOINT_LIMITS.get(endpoint, _DEFAULT_ENDPOINT_LIMIT), _ENDPOINT_WINDOW_S
        )

        async def handle(request: web.Request) -> web.Response:
            raw = await request.read()
            account, params = self._authenticate(request, raw, endpoint_limit)
            return _json(handler(account, params))

        return handle

    def _authenticate(self, request: web.Request, raw: bytes, endpoint_limit: SlidingWindow) -> tuple[str, Params]:
        """Check key, limits, signature over ``raw``, timestamp window and replay; the account and body."""
        key = request.headers.get("X-AUTH-APIKEY", "")
        api_key = self.venue.keys.get(key)
        if api_key is None:
            raise _unauthorized()
        _throttle(key, (*self._general_limits, endpoint_limit))
        signature = request.headers.get("X-AUTH-SIGNATURE", "")
        if not hmac.compare_digest(signature.encode(), expected_signature(api_key.secret, raw).encode()):
            raise _unauthorized()
        params = _parse_body(raw)
        timestamp = params.get("timestamp")
        if not _is_int(timestamp) or abs(_now_ms() - timestamp) > TIMESTAMP_WINDOW_MS:
            raise _unauthorized()
        self._remember_signature(key, signature)
        return api_key.account, params

    def _remember_signature(self, key: str, signature: str) -> None:
        """Refuse a (key, signature) pair seen while its timestamp could still be valid."""
        seen: dict[str, float] = self.venue.nonce_memory.setdefault(key, {})
        now = time.monotonic()
        while seen:
            oldest = next(iter(seen))
            if seen[oldest] > now:
                break
            del seen[oldest]
        if signature in seen:
            raise _unauthorized()
        seen[signature] = now + 2 * TIMESTAMP_WINDOW_MS / 1000

    def routes(self) -> tuple[dict[str, PublicHandler], dict[str, PrivateHandler]]:
        """Public GET paths and private endpoints (under ``/exchange/v1/``) with their handlers."""
        public: dict[str, PublicHandler] = {
            "/exchange/ticker": self.tickers,
            "/exchange/v1/markets": self.markets,
            "/exchange/v1/markets_details": self.markets_details,
            "/market_data/trade_history": self.public_trades,
            "/market_data/orderbook": self.orderbook,
            "/market_data/candles": self.candles,
        }
        private: dict[str, PrivateHandler] = {
            "users/balances": self.balances,
            "users/info": self.user_info,
            "orders/create": self.create_order,
            "orders/create_multiple": self.create_orders,
            "orders/status": self.order_status,
            "orders/status_multiple": self.orders_status,
            "orders/active_orders": self.active_orders,
            "orders/active_orders_count": self.active_orders_count,
            "orders/trade_history": self.trade_history,
            "orders/cancel": self.cancel_order,
            "orders/cancel_by_ids": self.cancel_by_ids,
            "orders/cancel_all": self.cancel_all,
            "orders/edit": self.edit_order,
        }
        return public, private

    # -- public -------------------------------------------------------------------------

    def tickers(self, query: Mapping[str, str]) -> list[dict[str, object]]:
        now = _now_ms()
        return [self._ticker(listing, now) for listing in LISTINGS]

    def _ticker(self, listing: Listing, now_ms: int) -> dict[str, object]:
        stats = ticker_stats(self.engine, listing.spec.symbol, now_ms)
        fields = {
            "market": listing.symbol,
            "change_24_hour": _string((stats.change * 100).quantize(Decimal("0.001"))),
            "high": stats.high,
            "low": stats.low,
            "volume": _string(stats.volume_quote),
            "last_price": stats.last,
            "bid": stats.bid,
            "ask": stats.ask,
            "timestamp": now_ms // 1000,
        }
        return {
            name: _string(value) if isinstance(value, Decimal) else value
            for name, value in fields.items() if value is not None
        }

    def markets(self, query: Mapping[str, str]) -> list[str]:
        return [listing.symbol for listing in LISTINGS]

    def markets_details(self, query: Mapping[str, str]) -> list[dict[str, object]]:
        return [_market_details(listing) for listing in LISTINGS]

    def public_trades(self, query: Mapping[str, str]) -> list[dict[str, object]]:
        listing = _listing_by_pair(query)
        limit = _count(query.get("limit"), 30, 500)
        return [
            {"p": _number(fill.price), "q": _number(fill.amount), "s": listing.symbol,
             "T": fill.timestamp_ms, "m": fill.taker_side == "sell"}
            for fill in self.engine.fills(None, listing.spec.symbol)[:limit]
        ]

    def orderbook(self, query: Mapping[str, str]) -> dict[str, object]:
        listing = _listing_by_pair(query)
        spec = listing.spec
        bids, asks = self.engine.levels(spec.symbol)

        def side(levels: list[tuple[Decimal, Decimal]]) -> dict[str, str]:
            return {
                _fixed(price, spec.price_precision): _fixed(amount, spec.amount_precision)
                for price, amount in levels
            }

        return {"timestamp": _now_ms(), "asks": side(asks), "bids": side(bids)}

    def candles(self, query: Mapping[str, str]) -> list[dict[str, object]]:
        listing = _listing_by_pair(query)
        interval_ms = _CANDLE_INTERVALS_MS.get(query.get("interval", ""))
        if interval_ms is None:
            raise _invalid_request()
        bars = candles(
            self.engine, listing.spec.symbol, interval_ms,
            since_ms=_whole(query.get("startTime")), until_ms=_whole(query.get("endTime")),
            limit=_count(query.get("limit"), 500, 1000),
        )
        return [
            {"open": _number(bar.open), "high": _number(bar.high), "low": _number(bar.low),
             "volume": _number(bar.volume), "close": _number(bar.close), "time": bar.open_ms}
            for bar in reversed(bars)
        ]

    # -- account --------------------------------------------------------------------------

    def balances(self, account: str, params: Params) -> list[dict[str, str]]:
        balances = self.engine.balances(account)
        zero = Decimal(0)
        return [
            {"currency": currency,
             "balance": _string(balances[currency].available if currency in balances else zero),
             "locked_balance": _string(balances[currency].locked if currency in balances else zero)}
            for currency in sorted(set(_CURRENCIES) | set(balances))
        ]

    def user_info(self, account: str, params: Params) -> list[dict[str, str]]:
        return [{
            "coindcx_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox.coindcx/{account}")),
            "first_name": account.capitalize(),
            "last_name": "Sandbox",
            "mobile_number": "0000000000",
            "email": f"{account}@sandbox.invalid",
        }]

    # -- orders ---------------------------------------------------------------------------

    def create_order(self, account: str, params: Params) -> dict[str, object]:
        return {"orders": [self._place(account, _NewOrder.parse(params))]}

    def create_orders(self, account: str, params: Params) -> dict[str, object]:
        batch = params.get("orders")
        if not isinstance(batch, list) or not batch or not all(isinstance(item, dict) for item in batch):
            raise _invalid_request()
        orders = [_NewOrder.parse(item) for item in batch]
        if any(item.get("ecode") != "I" for item in batch) or any(o.listing.ecode != "I" for o in orders):
            raise _invalid_request()
        return {"orders": [self._place(account, order) for order in orders]}

    def _place(self, account: str, new: _NewOrder) -> dict[str, object]:
        symbol = new.listing.spec.symbol
        if new.type == "limit" and len(self.engine.orders(account, symbol, open_only=True)) >= MAX_OPEN_ORDERS_PER_MARKET:
            raise _ApiError(422, "Open orders limit reached for this market")
        event = self.engine.place_order(
            account, symbol, new.side, new.amount, new.price, type=new.type, client_id=new.client_id
        )
        return self._render(account, self.ids.id_for(event.order.id))

    def order_status(self, account: str, params: Params) -> dict[str, object]:
        return self._render(account, self._find(account, params))

    def orders_status(self, account: str, params: Params) -> list[dict[str, object]]:
        return [self._render(account, order_id) for order_id in self._find_many(account, params)]

    def active_orders(self, account: str, params: Params) -> dict[str, object]:
        return {"orders": [self._render(account, self.ids.id_for(o.id)) for o in self._open_orders(account, params)]}

    def active_orders_count(self, account: str, params: Params) -> dict[str, object]:
        return {"count": len(self._open_orders(account, params)), "status": 200}

    def _open_orders(self, account: str, params: Params) -> list[EngineOrder]:
        listing = _listing_by_symbol(params)
        side = _optional_choice(params, "side", _SIDES)
        orders = self.engine.orders(account, listing.spec.symbol, open_only=True)
        return [order for order in orders if side is None or order.side == side]

    def trade_history(self, account: str, params: Params) -> list[dict[str, object]]:
        limit = _count(params.get("limit"), 500, 5000)
        after_id = _whole(params.get("from_id"))
        since = _whole(params.get("from_timestamp"))
        until = _whole(params.get("to_timestamp"))
        descending = _optional_choice(params, "sort", ("asc", "desc")) == "desc"
        listing = _listing_by_symbol(params, "symbol") if params.get("symbol") is not None else None
        fills = self.engine.fills(account, listing.spec.symbol if listing else None)  # newest first
        chosen = [
            fill for fill in (fills if descending else reversed(fills))
            if (after_id is None or fill.id > after_id)
            and (since is None or fill.timestamp_ms >= since)
            and (until is None or fill.timestamp_ms <= until)
        ]
        trades = [
            {"id": fill.id, "order_id": self.ids.id_for(engine_id), "side": side,
             "fee_amount": _string(_fee_in_quote(side, fee, fill.price)),
             "ecode": _BY_ENGINE_SYMBOL[fill.symbol].ecode, "quantity": _string(fill.amount),
             "price": _string(fill.price), "symbol": _BY_ENGINE_SYMBOL[fill.symbol].symbol,
             "timestamp": fill.timestamp_ms}
            for fill in chosen
            for engine_id, side, fee in _account_sides(account, fill)
        ]
        return trades[:limit]

    def cancel_order(self, account: str, params: Params) -> dict[str, object]:
        self.engine.cancel_order(account, self._current(account, self._find(account, params)).id)
        return _SUCCESS

    def cancel_by_ids(self, account: str, params: Params) -> dict[str, object]:
        for order_id in self._find_many(account, params):
            current = self._current(account, order_id)
            if current.status == "open":
                self.engine.cancel_order(account, current.id)
        return _SUCCESS

    def cancel_all(self, account: str, params: Params) -> dict[str, object]:
        listing = _listing_by_symbol(params)
        self.engine.cancel_all(account, listing.spec.symbol, _optional_choice(params, "side", _SIDES))
        return _SUCCESS

    def edit_order(self, account: str, params: Params) -> dict[str, object]:
        order_id = self._find(account, params)
        price = _decimal(params, "price_per_unit")
        current = self._current(account, order_id)
        if current.status != "open" or current.price is None:
            raise _rejected()
        self._check_reprice(account, current, current.price, price)
        self.engine.cancel_order(account, current.id)
        event = self.engine.place_order(
            account, current.symbol, current.side, current.remaining, price, client_id=current.client_id
        )
        self.ids.extend(order_id, event.order.id)
        return self._render(account, order_id)

    def _check_reprice(self, account: str, order: EngineOrder, old_price: Decimal, price: Decimal) -> None:
        """Refuse a new price before the order is replaced, so a refused edit leaves it resting."""
        spec = _BY_ENGINE_SYMBOL[order.symbol].spec
        if not spec.min_price <= price <= spec.max_price:
            raise _rejected()
        if price != price.quantize(Decimal(1).scaleb(-spec.price_precision)) or price * order.remaining < spec.min_cost:
            raise _rejected()
        if order.side == "buy":
            extra = (price - old_price) * order.remaining
            quote = self.engine.balances(account)[spec.quote]
            if extra > quote.available:
                raise _ApiError(422, "Insufficient funds")

    # -- order lookup and rendering --------------------------------------------------------

    def _find(self, account: str, params: Params) -> str:
        """The CoinDCX id named by ``id`` or ``client_order_id``; 404 if not ``account``'s."""
        if "id" in params:
            order_id = _text(params, "id")
            self._current(account, order_id)
            return order_id
        found = self._by_client_id(account, _text(params, "client_order_id"))
        if found is None:
            raise OrderNotFoundError("order not found")
        return found

    def _find_many(self, account: str, params: Params) -> list[str]:
        """The CoinDCX ids named by ``ids`` or ``client_order_ids`` that are ``account``'s."""
        ids = _id_list(params, "ids")
        if ids is not None:
            return [order_id for order_id in ids if self._owns(account, order_id)]
        client_ids = _id_list(params, "client_order_ids")
        if client_ids is None:
            raise _invalid_request()
        return [found for cid in client_ids if (found := self._by_client_id(account, cid)) is not None]

    def _owns(self, account: str, order_id: str) -> bool:
        try:
            self._current(account, order_id)
        except OrderNotFoundError:
            return False
        return True

    def _by_client_id(self, account: str, client_id: str) -> str | None:
        for order in self.engine.orders(account):  # newest first
            if order.client_id == client_id:
                return self.ids.id_for(order.id)
        return None

    def _chain(self, account: str, order_id: str) -> list[EngineOrder]:
        return [self.engine.order(account, engine_id) for engine_id in self.ids.chain(order_id)]

    def _current(self, account: str, order_id: str) -> EngineOrder:
        return self._chain(account, order_id)[-1]

    def _render(self, account: str, order_id: str) -> dict[str, object]:
        """The order object CoinDCX answers with; an edited order's chain is shown as one order."""
        chain = self._chain(account, order_id)
        first, current = chain[0], chain[-1]
        spec = _BY_ENGINE_SYMBOL[first.symbol].spec
        filled = sum((order.filled for order in chain), Decimal(0))
        cost = sum((order.cost for order in chain), Decimal(0))
        average = cost / filled if filled else Decimal(0)
        return {
            "id": order_id,
            "client_order_id": first.client_id,
            "market": _BY_ENGINE_SYMBOL[first.symbol].symbol,
            "order_type": _WIRE_ORDER_TYPES[first.type],
            "side": first.side,
            "status": _wire_status(current.status, filled),
            "fee_amount": _number(sum((_order_fee(order) for order in chain), Decimal(0))),
            "fee": _percent(spec.taker_fee),
            "maker_fee": _percent(spec.maker_fee),
            "taker_fee": _percent(spec.taker_fee),
            "total_quantity": _number(first.amount),
            "remaining_quantity": _number(first.amount - filled),
            "avg_price": _number(average),
            "price_per_unit": _number(current.price if current.price is not None else average),
            "time_in_force": "good_till_cancel",
            "created_at": first.created_ms,
            "updated_at": current.updated_ms,
        }


def _market_details(listing: Listing) -> dict[str, object]:
    """One ``markets_details`` entry: target = traded asset, base = pricing asset."""
    spec = listing.spec
    return {
        "coindcx_name": listing.symbol,
        "base_currency_short_name": spec.quote,
        "target_currency_short_name": spec.base,
        "target_currency_name": CURRENCY_NAMES.get(spec.base, spec.base),
        "base_currency_name": CURRENCY_NAMES.get(spec.quote, spec.quote),
        "min_quantity": _number(spec.min_amount),
        "max_quantity": _number(spec.max_amount),
        "max_quantity_market": _number(spec.max_amount),
        "min_price": _number(spec.min_price),
        "max_price": _number(spec.max_price),
        "min_notional": _number(spec.min_cost),
        "base_currency_precision": spec.price_precision,
        "target_currency_precision": spec.amount_precision,
        "step": _number(Decimal(1).scaleb(-spec.amount_precision)),
        "order_types": list(_ORDER_TYPES),
        "symbol": listing.symbol,
        "ecode": listing.ecode,
        "bo_sl_safety_percent": None,
        "max_leverage": None,
        "max_leverage_short": None,
        "pair": listing.pair,
        "status": "active",
    }


def _throttle(identity: str, windows: Iterable[SlidingWindow]) -> None:
    """Count a request in each window; 429 "Too Many Requests" once one is full."""
    for window in windows:
        wait = window.hit(identity)
        if wait is not None:
            raise _ApiError(429, "Too Many Requests", retry_after=wait)


def create_app(venue: Venue) -> web.Application:
    """The CoinDCX app of ``venue``: public GET paths of both hosts, signed POST paths."""
    api = _CoinDCX(venue)
    app = web.Application(middlewares=[fault_middleware(venue, _fault_body), _error_middleware])
    public, private = api.routes()
    for path, public_handler in public.items():
        app.router.add_get(path, api.public(public_handler))
    for endpoint, private_handler in private.items():
        handle = api.private(endpoint, private_handler)
        app.router.add_post(f"/exchange/v1/{endpoint}", handle)
        if endpoint in _SEED_ALIASES:
            app.router.add_post(_SEED_ALIASES[endpoint], handle)
    return app
