"""qTrade's REST API (``/v1``, responses in ``{"data": ...}``) served from the sandbox engine.

Written from ``specs/qtrade.md``. Where the spec is silent or shows two variants:

- Auth: ``HMAC-Timestamp`` in whole seconds (the official form; ccxt's milliseconds fall outside
  the window), accepted within ±30 s of the server clock. qTrade has no nonce, and two identical
  requests in one second sign identically, so a repeated signature inside the window is accepted.
- Rate limits: sliding 60 s windows, 60 requests per key on ``/v1/user/*`` and 120 per IP on
  public routes; ``X-Ratelimit-Reset`` is the seconds until the oldest counted request expires.
- Fees are zero: the engine takes a buyer's fee in the market currency where qTrade takes it in
  the base currency, so zero keeps every ``base_fee`` and balance exact.
- Orders: ``base_amount`` is price × market_amount for a buy (base committed) and the base received
  so far for a sell; a closed order's ``market_amount_remaining`` is "0" (as the docs' canceled
  sample); ``trades`` is null until the order trades, and a create-order response lists its fills
  with qTrade's placeholders (``id`` 0, ``created_at`` ``0001-01-01T00:00:00Z``).
- Order book maps are keyed by price strings in string order, as in the docs' sample.
- ``/v1/user/deposit/{id}`` answers ``data.deposit`` as an object (the form seen live); deposit
  ids are ``"<n>:<txid>"`` and ``"<n>"`` is accepted too.
- Lists: public trades newest first, at most 200; user trades oldest first unless ``desc=true``,
  200 per page; orders newest first, the last 200. An OHLCV ``limit`` above 1000 is clamped.
- Withdrawals stay ``needs_create`` (nothing settles them) and lock the currency's
  ``withdraw_fee`` with the amount; ``/v1/user/transfers`` is empty (no internal transfers here).
- ``account_id`` (sub-accounts) is accepted and ignored: each key has one account. Every key holds
  every realm, so the 403 of a missing realm never occurs.
- Error codes the spec does not name: ``bad_request``, ``invalid_amount``, ``invalid_price``,
  ``currency_not_found``, ``deposit_not_found``, ``withdraw_not_found``, ``not_found``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec
from aiohttp import web

from sandbox.engine import (
    CancelEvent,
    EngineError,
    EngineOrder,
    Fill,
    InsufficientBalance,
    MarketSpec,
    OrderEvent,
    OrderNotCancelable,
    OrderNotFoundError,
    TransferRecord,
    UnknownMarket,
)
from sandbox.stats import CURRENCY_NAMES, candles, ticker_stats
from sandbox.venue import ApiKey, SlidingWindow, Venue, fault_middleware

__all__ = ["MARKETS", "MIDS", "create_app", "expected_signature"]

_T = TypeVar("_T")

_TICK = Decimal("0.00000001")
MARKETS: tuple[MarketSpec, ...] = (
    MarketSpec("LTC/BTC", "LTC", "BTC", 8, 8, Decimal("0.001"), Decimal("100000"), _TICK, Decimal("10"),
               min_cost=Decimal("0.0001")),
    MarketSpec("BIS/BTC", "BIS", "BTC", 8, 8, Decimal("1"), Decimal("10000000"), _TICK, Decimal("1"),
               min_cost=Decimal("0.0001")),
    MarketSpec("DOGE/BTC", "DOGE", "BTC", 8, 8, Decimal("100"), Decimal("1000000000"), _TICK, Decimal("1"),
               min_cost=Decimal("0.0001")),
)
MIDS: dict[str, Decimal] = {
    "LTC/BTC": Decimal("0.00475000"),
    "BIS/BTC": Decimal("0.00001500"),
    "DOGE/BTC": Decimal("0.00000031"),
}
# qTrade's integer market ids (LTC_BTC and BIS_BTC as in the docs; 36 is the docs' DOGE-priced market).
_MARKET_IDS = {"LTC/BTC": 1, "BIS/BTC": 20, "DOGE/BTC": 36}


@dataclass(frozen=True, slots=True)
class _CurrencyConfig:
    withdraw_fee: Decimal
    required_confirmations: int
    usd_price: Decimal  # sent as a JSON number, as qTrade's currency config does


_CURRENCIES = {
    "BTC": _CurrencyConfig(Decimal("0.0005"), 2, Decimal("9159.72")),
    "LTC": _CurrencyConfig(Decimal("0.001"), 6, Decimal("43.51")),
    "BIS": _CurrencyConfig(Decimal("0.01"), 10, Decimal("0.1374")),
    "DOGE": _CurrencyConfig(Decimal("2"), 20, Decimal("0.0028")),
}

_PRIVATE_PREFIX = "/v1/user/"
_API_KEY = web.RequestKey("api_key", ApiKey)
_TIMESTAMP_WINDOW_S = 30
_PRIVATE_LIMIT = (60, 60.0)  # requests per seconds, per API key
_PUBLIC_LIMIT = (120, 60.0)  # requests per seconds, per IP
_PAGE = 200
_MAX_SLICES = 1000
_INTERVALS_S = {
    "fivemin": 300, "fifteenmin": 900, "thirtymin": 1800, "onehour": 3600,
    "twohour": 7200, "fourhour": 14400, "oneday": 86400,
}
_FIRST_USER_ID = 1_000_000
_RATIO_STEP = Decimal("1e-16")
_PLACEHOLDER_TIME = "0001-01-01T00:00:00Z"
_REJECT_CODES = {
    "min_amount": "too_small", "min_cost": "too_small",
    "invalid_amount": "invalid_amount", "amount_precision": "invalid_amount", "max_amount": "invalid_amount",
    "invalid_price": "invalid_price", "price_precision": "invalid_price", "min_price": "invalid_price",
    "max_price": "invalid_price",
}
_DEPOSIT_STATUS = {"ok": "credited"}
_WITHDRAW_STATUS = {"pending": "needs_create", "ok": "confirmed"}
_WITHDRAW_RESULT = "Withdraw initiated. Please allow 3-5 minutes for our system to process."
# Decimals are emitted as JSON numbers; every amount/price is turned into a string first.
_ENCODER = msgspec.json.Encoder(decimal_format="number")


def expected_signature(method: str, uri: str, timestamp: str, body: str, secret: str) -> str:
    """Base64 SHA-256 of ``METHOD\\nURI\\nTIMESTAMP\\nBODY\\nSECRET`` (a salted hash, not an HMAC);
    ``uri`` is the path plus ``?query`` exactly as sent, ``timestamp`` Unix seconds."""
    text = "\n".join((method.upper(), uri, timestamp, body, secret))
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


class _ApiError(Exception):
    """A qTrade error answer: HTTP status plus one ``{"code", "title"}`` entry."""

    def __init__(self, status: int, code: str, title: str) -> None:
        super().__init__(title)
        self.status = status
        self.code = code
        self.title = title

    def response(self) -> web.Response:
        return _error_response(self.status, self.code, self.title)


def _error_response(status: int, code: str, title: str) -> web.Response:
    body = _ENCODER.encode({"errors": [{"code": code, "title": title}]})
    return web.Response(status=status, body=body, content_type="application/json")


def _fault_response(status: int, message: str) -> web.Response:
    return _error_response(status, "limit_exceeded" if status == 429 else "server_error", message)


def _engine_error(error: EngineError) -> _ApiError:
    if isinstance(error, InsufficientBalance):
        return _ApiError(400, "insuff_funds", "Insufficient funds")
    if isinstance(error, (OrderNotFoundError, OrderNotCancelable)):
        return _ApiError(404, "order_not_found", "That order no longer exists")
    if isinstance(error, UnknownMarket):
        return _ApiError(404, "market_not_found", "Market not found")
    return _ApiError(400, _REJECT_CODES.get(error.reason, "bad_request"), str(error))


def _data(payload: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(status=status, body=_ENCODER.encode({"data": payload}), content_type="application/json")


def _text(value: Decimal) -> str:
    """A plain decimal string without exponent or trailing zeros ("0.0025", "150")."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _text_or_none(value: Decimal | None) -> str | None:
    return None if value is None else _text(value)


def _ratio_text(value: Decimal | None) -> str | None:
    """An average price or a fractional change to 16 decimals, as the docs' tickers show them."""
    return None if value is None else _text(value.quantize(_RATIO_STEP))


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms // 1000, UTC).replace(microsecond=ms % 1000 * 1000)


def _iso(ms: int) -> str:
    """ISO-8601 UTC with microseconds, e.g. ``2018-04-06T17:59:36.366000Z``."""
    return _utc(ms).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now_micros() -> int:
    return time.time_ns() // 1000


def _query_int(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise _ApiError(400, "bad_request", f"{name} must be an integer") from None


def _query_bool(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise _ApiError(400, "bad_request", f"{name} must be true or false")
    return raw.lower() == "true"


def _by_id_window(items: Iterable[_T], id_of: Callable[[_T], int], request: web.Request) -> list[_T]:
    """Keep items with ids below ``older_than`` and above ``newer_than`` (when given)."""
    older, newer = _query_int(request, "older_than"), _query_int(request, "newer_than")
    return [item for item in items
            if (older is None or id_of(item) < older) and (newer is None or id_of(item) > newer)]


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise _ApiError(400, "bad_request", "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _ApiError(400, "bad_request", "Request body must be a JSON object")
    return body


def _body_decimal(body: dict[str, Any], name: str) -> Decimal:
    value = body.get(name)
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise _ApiError(400, "bad_request", f"{name} is required as a decimal string")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _ApiError(400, "bad_request", f"{name} is not a decimal number") from None
    if not number.is_finite():
        raise _ApiError(400, "bad_request", f"{name} is not a finite number")
    return number


def _body_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise _ApiError(400, "bad_request", f"{name} is required as a string")
    return value


class _RateWindow(SlidingWindow):
    """A SlidingWindow that also states itself in qTrade's ``X-Ratelimit-*`` headers."""

    __slots__ = ()

    def headers(self, identity: str, now: float) -> dict[str, str]:
        hits = self._hits.get(identity)
        reset = math.ceil(hits[0] + self.window - now) if hits else math.ceil(self.window)
        used = len(hits) if hits else 0
        return {
            "X-Ratelimit-Limit": str(self.limit),
            "X-Ratelimit-Remaining": str(max(self.limit - used, 0)),
            "X-Ratelimit-Reset": str(reset),
        }


@dataclass(frozen=True, slots=True)
class _Market:
    id: int
    spec: MarketSpec

    @property
    def market_string(self) -> str:
        return f"{self.spec.base}_{self.spec.quote}"


class _QTradeApi:
    """The handlers of one venue's qTrade app, with its auth, limits and book-change clock."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.engine = venue.engine
        specs = venue.markets()
        self.markets = [_Market(_MARKET_IDS[symbol], spec) for symbol, spec in specs.items()]
        self._by_symbol = {market.spec.symbol: market for market in self.markets}
        self._by_name = {name: m for m in self.markets for name in (str(m.id), m.market_string)}
        self.currencies = sorted({c for spec in specs.values() for c in (spec.base, spec.quote)})
        self._private_limit = _RateWindow(*_PRIVATE_LIMIT)
        self._public_limit = _RateWindow(*_PUBLIC_LIMIT)
        started = _now_micros()
        self._last_change = {market.spec.symbol: started for market in self.markets}
        self.unsubscribe = self.engine.subscribe(self._note_book_change)

    def _note_book_change(self, event: OrderEvent | CancelEvent) -> None:
        self._last_change[event.order.symbol] = _now_micros()

    # -- request pipeline -------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        """Authenticate ``/v1/user/*``, count the request, map errors, add ``X-Ratelimit-*``."""
        now = time.monotonic()
        window, identity = self._public_limit, request.remote or "unknown"
        try:
            if request.path.startswith(_PRIVATE_PREFIX):
                api_key = await self._authenticate(request)
                request[_API_KEY] = api_key
                window, identity = self._private_limit, api_key.key
            if window.hit(identity, now) is not None:
                raise _ApiError(429, "limit_exceeded", "Rate limit exceeded")
            response = await handler(request)
        except _ApiError as error:
            response = error.response()
        except EngineError as error:
            response = _engine_error(error).response()
        except web.HTTPException as error:  # the router's 404 / 405
            response = _error_response(error.status, error.reason.lower().replace(" ", "_"), error.reason)
        response.headers.update(window.headers(identity, now))
        return response

    async def _authenticate(self, request: web.Request) -> ApiKey:
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        key_id, _, signature = credential.partition(":")
        if scheme != "HMAC-SHA256" or not key_id or not signature:
            raise _ApiError(401, "invalid_auth", "Missing or malformed HMAC-SHA256 Authorization header")
        api_key = self.venue.keys.get(key_id)
        if api_key is None:
            raise _ApiError(401, "invalid_auth", "Unknown API key")
        timestamp = request.headers.get("HMAC-Timestamp", "")
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise _ApiError(401, "invalid_auth", "HMAC-Timestamp must be Unix seconds")
        if abs(time.time() - int(timestamp)) > _TIMESTAMP_WINDOW_S:
            raise _ApiError(401, "invalid_auth", "HMAC-Timestamp is outside the accepted window")
        try:
            body = (await request.read()).decode()
        except UnicodeDecodeError:
            raise _ApiError(400, "bad_request", "Request body is not UTF-8") from None
        expected = expected_signature(request.method, request.raw_path, timestamp, body, api_key.secret)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise _ApiError(401, "invalid_auth", "Invalid HMAC signature")
        return api_key

    # -- lookups ----------------------------------------------------------------------------

    def _market(self, name: str) -> _Market:
        market = self._by_name.get(name.upper())
        if market is None:
            raise _ApiError(404, "market_not_found", f"Market {name} not found")
        return market

    def _path_market(self, request: web.Request) -> _Market:
        return self._market(request.match_info["market"])

    def _query_market(self, request: web.Request) -> _Market | None:
        """The ``market_id`` or ``market_string`` filter of a request, if any."""
        name = request.query.get("market_id") or request.query.get("market_string")
        return None if name is None else self._market(name)

    def _body_market(self, body: dict[str, Any]) -> _Market:
        market_id, market_string = body.get("market_id"), body.get("market_string")
        if isinstance(market_id, int) and not isinstance(market_id, bool):
            return self._market(str(market_id))
        if isinstance(market_string, str):
            return self._market(market_string)
        raise _ApiError(400, "bad_request", "market_id (integer) or market_string is required")

    def _currency_code(self, code: str) -> str:
        if code.upper() not in self.currencies:
            raise _ApiError(404, "currency_not_found", f"Currency {code} not found")
        return code.upper()

    @staticmethod
    def _account(request: web.Request) -> str:
        return request[_API_KEY].account

    def _user_id(self, account: str) -> int:
        return _FIRST_USER_ID + self.engine.accounts().index(account)

    # -- shapes -----------------------------------------------------------------------------

    @staticmethod
    def _market_json(market: _Market) -> dict[str, Any]:
        spec = market.spec
        return {
            "id": market.id, "market_string": market.market_string,
            "market_currency": spec.base, "base_currency": spec.quote,
            "maker_fee": _text(spec.maker_fee), "taker_fee": _text(spec.taker_fee),
            "minimum_sell_amount": _text(spec.min_amount), "minimum_buy_value": _text(spec.min_cost),
            "market_precision": spec.amount_precision, "base_precision": spec.price_precision,
            "can_trade": True, "can_cancel": True, "can_view": True, "metadata": {"labels": []},
        }

    @staticmethod
    def _currency_json(code: str) -> dict[str, Any]:
        config = _CURRENCIES[code]
        return {
            "code": code, "long_name": CURRENCY_NAMES.get(code, code), "type": "bitcoin_like",
            "status": "ok", "precision": 8, "can_withdraw": True,
            "config": {
                "address_version": 0, "default_signer": 6, "price": config.usd_price,
                "required_confirmations": config.required_confirmations, "satoshi_per_byte": 15,
                "withdraw_fee": _text(config.withdraw_fee),
            },
            "metadata": {"withdraw_notices": []},
        }

    def _ticker_json(self, market: _Market) -> dict[str, Any]:
        stats = ticker_stats(self.engine, market.spec.symbol, int(time.time() * 1000))
        average = stats.volume_quote / stats.volume_base if stats.volume_base else None
        change = stats.change if stats.open is not None else None
        return {
            "id": market.id, "id_hr": market.market_string,
            "ask": _text_or_none(stats.ask), "bid": _text_or_none(stats.bid), "last": _text_or_none(stats.last),
            "day_open": _text_or_none(stats.open), "day_high": _text_or_none(stats.high),
            "day_low": _text_or_none(stats.low),
            "day_avg_price": _ratio_text(average), "day_change": _ratio_text(change),
            "day_volume_base": _text(stats.volume_quote), "day_volume_market": _text(stats.volume_base),
            "last_change": self._last_change[market.spec.symbol],
        }

    def _orderbook_json(self, market: _Market) -> dict[str, Any]:
        bids, asks = self.engine.levels(market.spec.symbol)

        def side(levels: list[tuple[Decimal, Decimal]]) -> dict[str, str]:
            return dict(sorted((_text(price), _text(amount)) for price, amount in levels))

        return {"buy": side(bids), "sell": side(asks), "last_change": self._last_change[market.spec.symbol]}

    @staticmethod
    def _public_trade_json(fill: Fill) -> dict[str, Any]:
        return {
            "id": fill.id, "amount": _text(fill.amount), "price": _text(fill.price),
            "base_volume": _text(fill.amount * fill.price), "side": fill.taker_side,
            "seller_taker": fill.taker_side == "sell",
            "created_at": _iso(fill.timestamp_ms), "created_at_ts": fill.timestamp_ms * 1000,
        }

    @staticmethod
    def _trade_fields(fill: Fill, taker: bool) -> dict[str, Any]:
        """One fill as the owner of one of its orders sees it (amounts in market, value in base)."""
        return {
            "id": fill.id, "market_amount": _text(fill.amount), "price": _text(fill.price),
            "base_amount": _text(fill.amount * fill.price),
            "base_fee": _text(fill.taker_fee if taker else fill.maker_fee),
            "taker": taker, "created_at": _iso(fill.timestamp_ms),
        }

    def _order_json(self, order: EngineOrder, *, just_placed: bool = False) -> dict[str, Any]:
        market = self._by_symbol[order.symbol]
        price: Decimal = order.price  # type: ignore[assignment]  # qTrade has only limit orders
        is_open = order.status == "open"
        trades = [self._trade_fields(fill, fill.taker_order_id == order.id) for fill in order.fills]
        if just_placed:
            trades = [{**trade, "id": 0, "created_at": _PLACEHOLDER_TIME} for trade in trades]
        shape: dict[str, Any] = {
            "id": order.id, "market_id": market.id, "market_string": market.market_string,
            "order_type": f"{order.side}_limit", "price": _text(price),
            "market_amount": _text(order.amount),
            "market_amount_remaining": _text(order.remaining if is_open else Decimal(0)),
            "base_amount": _text(price * order.amount if order.side == "buy" else order.cost),
            "open": is_open, "created_at": _iso(order.created_ms),
            "trades": trades if trades or just_placed else None,
        }
        if order.status == "canceled":
            shape["close_reason"] = "canceled"
        return shape

    def _user_trade_json(self, fill: Fill, account: str) -> dict[str, Any]:
        taker = fill.taker_account == account
        market = self._by_symbol[fill.symbol]
        maker_side = "sell" if fill.taker_side == "buy" else "buy"
        return {
            **self._trade_fields(fill, taker),
            "order_id": fill.taker_order_id if taker else fill.maker_order_id,
            "market_id": market.id, "market_string": market.market_string,
            "side": fill.taker_side if taker else maker_side,
        }

    @staticmethod
    def _deposit_id(record: TransferRecord) -> str:
        return f"{record.id}:{record.txid}"

    def _deposit_json(self, record: TransferRecord) -> dict[str, Any]:
        confirms = _CURRENCIES[record.currency].required_confirmations
        return {
            "id": self._deposit_id(record), "address": record.address, "amount": _text(record.amount),
            "currency": record.currency, "created_at": _iso(record.created_ms),
            "network_data": {"confirms": confirms, "confirms_required": confirms, "txid": record.txid, "vout": 0},
            "relay_status": "", "status": _DEPOSIT_STATUS.get(record.status, record.status),
        }

    def _withdraw_json(self, record: TransferRecord) -> dict[str, Any]:
        return {
            "id": record.id, "address": record.address, "amount": _text(record.amount),
            "currency": record.currency, "created_at": _iso(record.created_ms), "cancel_requested": False,
            "network_data": {}, "relay_status": "", "user_id": self._user_id(record.account),
            "status": _WITHDRAW_STATUS.get(record.status, record.status),
        }

    def _free_balances(self, account: str) -> list[dict[str, str]]:
        balances = self.engine.balances(account)
        return [{"currency": code, "balance": _text(balances[code].available)} for code in sorted(balances)]

    # -- public handlers --------------------------------------------------------------------

    async def common(self, request: web.Request) -> web.Response:
        return _data({
            "currencies": [self._currency_json(code) for code in self.currencies],
            "markets": [self._market_json(market) for market in self.markets],
            "tickers": [self._ticker_json(market) for market in self.markets],
        })

    async def markets_list(self, request: web.Request) -> web.Response:
        return _data({"markets": [self._market_json(market) for market in self.markets]})

    async def market_detail(self, request: web.Request) -> web.Response:
        market = self._path_market(request)
        recent = self.engine.fills(None, market.spec.symbol)[:_PAGE]
        return _data({
            "market": self._market_json(market),
            "recent_trades": [
                {"id": f.id, "amount": _text(f.amount), "price": _text(f.price), "created_at": _iso(f.timestamp_ms)}
                for f in recent
            ],
        })

    async def currencies_list(self, request: web.Request) -> web.Response:
        return _data({"currencies": [self._currency_json(code) for code in self.currencies]})

    async def currency_detail(self, request: web.Request) -> web.Response:
        return _data({"currency": self._currency_json(self._currency_code(request.match_info["code"]))})

    async def ticker(self, request: web.Request) -> web.Response:
        return _data(self._ticker_json(self._path_market(request)))

    async def tickers(self, request: web.Request) -> web.Response:
        return _data({"markets": [self._ticker_json(market) for market in self.markets]})

    async def orderbook(self, request: web.Request) -> web.Response:
        return _data(self._orderbook_json(self._path_market(request)))

    async def market_trades(self, request: web.Request) -> web.Response:
        market = self._path_market(request)
        fills = _by_id_window(self.engine.fills(None, market.spec.symbol), lambda f: f.id, request)
        return _data({"trades": [self._public_trade_json(fill) for fill in fills[:_PAGE]]})

    async def ohlcv(self, request: web.Request) -> web.Response:
        market = self._path_market(request)
        interval_s = _INTERVALS_S.get(request.match_info["interval"])
        if interval_s is None:
            raise _ApiError(400, "bad_request", f"interval must be one of {', '.join(_INTERVALS_S)}")
        start, limit = _query_int(request, "start"), _query_int(request, "limit")
        if limit is not None and limit < 1:
            raise _ApiError(400, "bad_request", "limit must be positive")
        interval_ms, since_ms = interval_s * 1000, None if start is None else start * 1000
        bars = candles(self.engine, market.spec.symbol, interval_ms, since_ms=since_ms,
                       limit=min(limit or _MAX_SLICES, _MAX_SLICES))
        base_volume: defaultdict[int, Decimal] = defaultdict(Decimal)
        for fill in self.engine.fills(None, market.spec.symbol):
            if since_ms is None or fill.timestamp_ms >= since_ms:
                base_volume[fill.timestamp_ms - fill.timestamp_ms % interval_ms] += fill.amount * fill.price
        return _data({"slices": [
            {
                "time": _utc(bar.open_ms).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "open": _text(bar.open), "high": _text(bar.high), "low": _text(bar.low), "close": _text(bar.close),
                "volume": _text(base_volume[bar.open_ms]), "market_volume": _text(bar.volume),
            }
            for bar in reversed(bars)
        ]})

    # -- private handlers -------------------------------------------------------------------

    async def me(self, request: web.Request) -> web.Response:
        account = self._account(request)
        user_id = self._user_id(account)
        return _data({"user": {
            "id": user_id, "email": f"{account}@sandbox.invalid", "fname": account.title(), "lname": "Sandbox",
            "can_login": True, "can_trade": True, "can_withdraw": True, "tfa_enabled": False,
            "verification": "none", "verified_email": True, "withdraw_limit": 0,
            "referral_code": hashlib.sha256(str(user_id).encode()).hexdigest()[:12].upper(),
        }})

    async def balances(self, request: web.Request) -> web.Response:
        return _data({"balances": self._free_balances(self._account(request))})

    async def balances_all(self, request: web.Request) -> web.Response:
        account = self._account(request)
        balances = self.engine.balances(account)
        return _data({
            "balances": self._free_balances(account),
            "order_balances": [{"currency": code, "balance": _text(balances[code].locked)}
                               for code in sorted(balances) if balances[code].locked],
            "limit_used": 0, "limit_remaining": 50000, "limit": 50000,
        })

    async def user_market(self, request: web.Request) -> web.Response:
        account, market = self._account(request), self._path_market(request)
        balances = self.engine.balances(account)
        orders = self.engine.orders(account, market.spec.symbol)[:_PAGE]

        def free(code: str) -> str:
            return _text(balances[code].available) if code in balances else "0"

        return _data({
            "base_balance": free(market.spec.quote), "market_balance": free(market.spec.base),
            "open_orders": [self._order_json(o) for o in orders if o.status == "open"],
            "closed_orders": [self._order_json(o) for o in orders if o.status != "open"],
        })

    async def orders(self, request: web.Request) -> web.Response:
        market, want_open = self._query_market(request), _query_bool(request, "open")
        orders = self.engine.orders(self._account(request), market and market.spec.symbol)
        if want_open is not None:
            orders = [order for order in orders if (order.status == "open") == want_open]
        orders = _by_id_window(orders, lambda o: o.id, request)
        return _data({"orders": [self._order_json(order) for order in orders[:_PAGE]]})

    async def order(self, request: web.Request) -> web.Response:
        try:
            order_id = int(request.match_info["order_id"])
        except ValueError:
            raise _ApiError(404, "order_not_found", "That order no longer exists") from None
        return _data({"order": self._order_json(self.engine.order(self._account(request), order_id))})

    async def sell_limit(self, request: web.Request) -> web.Response:
        return await self._place(request, "sell")

    async def buy_limit(self, request: web.Request) -> web.Response:
        return await self._place(request, "buy")

    async def _place(self, request: web.Request, side: str) -> web.Response:
        body = await _json_body(request)
        amount, price = _body_decimal(body, "amount"), _body_decimal(body, "price")
        market = self._body_market(body)
        event = self.engine.place_order(self._account(request), market.spec.symbol, side, amount, price)
        return _data({"order": self._order_json(event.order, just_placed=True)})

    async def cancel_order(self, request: web.Request) -> web.Response:
        order_id = (await _json_body(request)).get("id")
        if not isinstance(order_id, int) or isinstance(order_id, bool):
            raise _ApiError(400, "bad_request", "id (integer) is required")
        self.engine.cancel_order(self._account(request), order_id)
        return web.Response(status=200)

    async def user_trades(self, request: web.Request) -> web.Response:
        account, market = self._account(request), self._query_market(request)
        fills = self.engine.fills(account, market and market.spec.symbol)  # newest first
        if not _query_bool(request, "desc"):
            fills.reverse()
        fills = _by_id_window(fills, lambda f: f.id, request)
        return _data({"trades": [self._user_trade_json(fill, account) for fill in fills[:_PAGE]]})

    async def deposits(self, request: web.Request) -> web.Response:
        records = self.engine.transfers(self._account(request), "deposit")
        return _data({"deposits": [self._deposit_json(record) for record in records]})

    async def deposit(self, request: web.Request) -> web.Response:
        wanted = request.match_info["deposit_id"]
        for record in self.engine.transfers(self._account(request), "deposit"):
            if wanted in (self._deposit_id(record), str(record.id)):
                return _data({"deposit": self._deposit_json(record)})
        raise _ApiError(404, "deposit_not_found", f"Deposit {wanted} not found")

    async def withdraws(self, request: web.Request) -> web.Response:
        records = self.engine.transfers(self._account(request), "withdrawal")
        return _data({"withdraws": [self._withdraw_json(record) for record in records]})

    async def withdraw_detail(self, request: web.Request) -> web.Response:
        wanted = request.match_info["withdraw_id"]
        for record in self.engine.transfers(self._account(request), "withdrawal"):
            if wanted == str(record.id):
                return _data({"withdraw": self._withdraw_json(record)})
        raise _ApiError(404, "withdraw_not_found", f"Withdrawal {wanted} not found")

    async def deposit_address(self, request: web.Request) -> web.Response:
        code = self._currency_code(request.match_info["currency"])
        await _json_body(request)  # an empty body or {}; anything else is a bad request
        address = self.engine.deposit_address(self._account(request), code)
        return _data({"address": address, "currency_status": "ok"})

    async def withdraw(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        amount, address = _body_decimal(body, "amount"), _body_str(body, "address")
        code = self._currency_code(_body_str(body, "currency"))
        record = self.engine.withdraw(
            self._account(request), code, amount, address, fee=_CURRENCIES[code].withdraw_fee
        )
        return _data({"code": "initiated", "id": record.id, "result": _WITHDRAW_RESULT}, status=201)

    async def transfers(self, request: web.Request) -> web.Response:
        return _data({"transfers": []})


def create_app(venue: Venue) -> web.Application:
    """The qTrade app of ``venue``: every documented ``/v1`` endpoint at its documented path."""
    api = _QTradeApi(venue)
    app = web.Application(middlewares=[fault_middleware(venue, _fault_response), api.middleware])

    async def stop_watching_book(_: web.Application) -> None:
        api.unsubscribe()

    app.on_cleanup.append(stop_watching_book)
    app.add_routes([
        web.get("/v1/common", api.common),
        web.get("/v1/markets", api.markets_list),
        web.get("/v1/market/{market}", api.market_detail),
        web.get("/v1/currencies", api.currencies_list),
        web.get("/v1/currency/{code}", api.currency_detail),
        web.get("/v1/ticker/{market}", api.ticker),
        web.get("/v1/ticker_by_id/{market:\\d+}", api.ticker),
        web.get("/v1/tickers", api.tickers),
        web.get("/v1/orderbook/{market}", api.orderbook),
        web.get("/v1/orderbook_by_id/{market:\\d+}", api.orderbook),
        web.get("/v1/market/{market}/trades", api.market_trades),
        web.get("/v1/market/{market}/ohlcv/{interval}", api.ohlcv),
        web.get("/v1/user/me", api.me),
        web.get("/v1/user/balances", api.balances),
        web.get("/v1/user/balances_all", api.balances_all),
        web.get("/v1/user/market/{market}", api.user_market),
        web.get("/v1/user/orders", api.orders),
        web.get("/v1/user/order/{order_id}", api.order),
        web.post("/v1/user/sell_limit", api.sell_limit),
        web.post("/v1/user/buy_limit", api.buy_limit),
        web.post("/v1/user/cancel_order", api.cancel_order),
        web.get("/v1/user/trades", api.user_trades),
        web.get("/v1/user/deposits", api.deposits),
        web.get("/v1/user/deposit/{deposit_id}", api.deposit),
        web.get("/v1/user/withdraws", api.withdraws),
        web.get("/v1/user/withdraw/{withdraw_id}", api.withdraw_detail),
        web.post("/v1/user/deposit_address/{currency}", api.deposit_address),
        web.post("/v1/user/withdraw", api.withdraw),
        web.get("/v1/user/transfers", api.transfers),
    ])
    return app
