"""BTC-Alpha's REST API v1 (``specs/btcalpha.md``) served from the sandbox engine.

Choices where the spec is uncertain or shows two variants:

* Order book: both forms. ``GET /api/v1/orderbook/<pair>/`` (2022, recommended) answers
  ``sell`` (asks) and ``buy`` (bids), all orders unless ``limit_sell``/``limit_buy``;
  ``GET /api/v1/orderbook/?pair=`` (2017, what the live-book stream snapshots from) keeps the
  seed's labelling, ``bids`` = sell orders and ``asks`` = buy orders, 100 each by default.
  Each side is best first; ungrouped rows are resting orders (``id``, ``price``, ``amount``,
  ``timestamp``), ``group=1`` aggregates them by price (``price``, ``amount``).
* Numbers: prices and amounts are decimal strings with at least 8 places, as the live server
  answers [ccxt]; timestamps are JSON numbers in float seconds with microseconds, except the
  single order's ``date`` (int ms) and chart ``time`` (int s); candle values are JSON numbers.
* Ticker ``diff`` is the absolute 24 h change and ``vol`` the 24 h quote volume (as ccxt reads
  them); public trade ``type`` is the taker's side; own-trade ``type`` filter matches ``my_side``.
* Wallets: ``balance`` = available + locked, ``reserve`` = locked. Withdrawal statuses:
  pending 20, ok 30, failed 40, canceled 50.
* Auth: X-SIGN = hex HMAC-SHA256(secret, key + urlencode(sorted POST data)); GET filters are
  unsigned; JSON bodies are signed over their fields the same way. X-NONCE must exceed the
  key's last accepted nonce and is checked only after the signature (and the rate limit) pass.
* Rate limits [docs22]: private 2 calls/s per account, public 100 calls/s per IP, answered with
  429 ``{"error": "Too many requests"}`` and ``Retry-After``.
* Errors: ``{"error": text}`` with the spec's status table (400 bad input or balance, 401 auth,
  404 unknown order or path, 405 wrong method, 429); order rejections add ``date`` as the live
  ``Out of balance`` sample does.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import msgspec
from aiohttp import web

from sandbox.engine import (
    AccountBalance,
    EngineError,
    EngineOrder,
    Fill,
    InsufficientBalance,
    MarketSpec,
    OrderNotCancelable,
    OrderNotFoundError,
    TransferRecord,
)
from sandbox.stats import candles, ticker_stats
from sandbox.exchanges.btcalpha_socket import attach_socket
from sandbox.venue import SlidingWindow, Venue, fault_middleware

__all__ = ["MARKETS", "MIDS", "create_app", "pair_id", "signing_message", "expected_signature"]

_FEE = Decimal("0.002")  # 0.2 % maker and taker [ccxt]

MARKETS: tuple[MarketSpec, ...] = (
    MarketSpec(
        "BTC/USD", "BTC", "USD", price_precision=3, amount_precision=6, min_amount=Decimal("0.0001"),
        max_amount=Decimal(100_000_000), min_price=Decimal("0.001"), max_price=Decimal(10_000_000),
        maker_fee=_FEE, taker_fee=_FEE,
    ),
    MarketSpec(
        "ETH/BTC", "ETH", "BTC", price_precision=6, amount_precision=4, min_amount=Decimal("0.001"),
        max_amount=Decimal(100_000_000), min_price=Decimal("0.000001"), max_price=Decimal(1_000),
        maker_fee=_FEE, taker_fee=_FEE,
    ),
    MarketSpec(
        "ETH/USD", "ETH", "USD", price_precision=3, amount_precision=4, min_amount=Decimal("0.001"),
        max_amount=Decimal(100_000_000), min_price=Decimal("0.001"), max_price=Decimal(1_000_000),
        maker_fee=_FEE, taker_fee=_FEE,
    ),
)
MIDS: dict[str, Decimal] = {
    "BTC/USD": Decimal("911.500"),
    "ETH/BTC": Decimal("0.011500"),
    "ETH/USD": Decimal("10.482"),
}

_CURRENCY_SIGNS = {"BTC": "Ƀ", "ETH": "Ξ", "USD": "$"}
_LIQUIDITY_TYPE = 10
_ORDER_STATUS = {"open": 1, "canceled": 2, "rejected": 2, "filled": 3}
_WITHDRAW_STATUS = {"pending": 20, "ok": 30, "failed": 40, "canceled": 50}
_CHART_INTERVALS_MS = {
    "1": 60_000, "5": 300_000, "15": 900_000, "30": 1_800_000, "60": 3_600_000,
    "240": 14_400_000, "D": 86_400_000,
}
_SIDES = ("buy", "sell")
_OPPOSITE = {"buy": "sell", "sell": "buy"}
_MONEY_STEP = Decimal("1e-8")
_MICROSECOND = Decimal("1e-6")

_PRIVATE_CALLS_PER_SECOND = 2
_PUBLIC_CALLS_PER_SECOND = 100

_ENCODER = msgspec.json.Encoder(decimal_format="number")
_JSON_BODY = msgspec.json.Decoder(float_hook=Decimal)

PublicHandler = Callable[[web.Request], Any]
PrivateHandler = Callable[[web.Request, str, dict[str, str]], Any]


def pair_id(symbol: str) -> str:
    """BTC-Alpha's pair name of a unified symbol: ``BTC/USD`` -> ``BTC_USD``."""
    return symbol.replace("/", "_")


def signing_message(key: str, data: Mapping[str, object]) -> str:
    """The text BTC-Alpha signs: the API key followed by the key-sorted, URL-encoded POST data."""
    return key + urlencode(sorted(data.items(), key=lambda item: item[0]))


def expected_signature(key: str, secret: str, data: Mapping[str, object]) -> str:
    """X-SIGN: lower-case hex HMAC-SHA256 of :func:`signing_message`, keyed with the secret."""
    return hmac.new(secret.encode(), signing_message(key, data).encode(), hashlib.sha256).hexdigest()


class ApiError(Exception):
    """A request refused with BTC-Alpha's error body ``{"error": message, **extra}``."""

    def __init__(self, status: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=_ENCODER.encode(payload), content_type="application/json")


def _error_response(status: int, message: str, **extra: object) -> web.Response:
    response = _json({**extra, "error": message}, status)
    if status == 429:
        response.headers["Retry-After"] = "1"
    return response


def _now_ms() -> int:
    return int(time.time() * 1000)


def _money(value: Decimal) -> str:
    """A decimal string with at least 8 places (``"320.79900000"``), never rounded."""
    if value.as_tuple().exponent >= -8:  # type: ignore[operator]
        value = value.quantize(_MONEY_STEP)
    return format(value, "f")


def _number(value: Decimal) -> Decimal:
    """``value`` in plain notation, for JSON numbers (never ``1E+1``)."""
    return Decimal(format(value, "f"))


def _seconds(ms: int) -> Decimal:
    """Epoch ms as float seconds with microseconds (``1485777324.410000``), a JSON number."""
    return (Decimal(ms) / 1000).quantize(_MICROSECOND)


def _int_param(params: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name}: {raw!r}") from None
    if value < 0:
        raise ApiError(400, f"Invalid {name}: {raw!r}")
    return value


def _choice_param(params: Mapping[str, str], name: str, choices: Iterable[object]) -> str | None:
    raw = params.get(name, "")
    if raw == "":
        return None
    if raw not in {str(choice) for choice in choices}:
        raise ApiError(400, f"Invalid {name}: {raw!r}")
    return raw


def _decimal_param(params: Mapping[str, str], name: str) -> Decimal:
    raw = params.get(name, "")
    if raw == "":
        raise ApiError(400, f"{name} is required")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ApiError(400, f"Invalid {name}: {raw!r}") from None
    if not value.is_finite() or value <= 0:
        raise ApiError(400, f"Invalid {name}: {raw!r}")
    return value


def _order_row(order: EngineOrder) -> dict[str, object]:
    """An order in the list form; ``amount`` is what remains (base), ``status`` an int."""
    return {
        "id": order.id,
        "pair": pair_id(order.symbol),
        "type": order.side,
        "price": _money(order.price),  # type: ignore[arg-type]
        "amount": _money(order.remaining),
        "status": _ORDER_STATUS[order.status],
    }


def _order_trade(order: EngineOrder, fill: Fill) -> dict[str, object]:
    """One fill of ``order`` as the create-order ``trades`` list shows it: ``type`` and ``o_id``
    are the counter order's."""
    counter_id = fill.maker_order_id if fill.taker_order_id == order.id else fill.taker_order_id
    return {
        "tid": fill.id,
        "o_id": counter_id,
        "type": _OPPOSITE[order.side],
        "price": _money(fill.price),
        "amount": _money(fill.amount),
    }


def _single_order(order: EngineOrder) -> dict[str, object]:
    """``GET /order/<id>/``: ``date`` in int ms, ``status`` a string, amounts in base."""
    return {
        "id": order.id,
        "date": order.created_ms,
        "pair": pair_id(order.symbol),
        "type": order.side,
        "price": _money(order.price),  # type: ignore[arg-type]
        "amount": _money(order.remaining),
        "amount_filled": _money(order.filled),
        "amount_original": _money(order.amount),
        "status": str(_ORDER_STATUS[order.status]),
        "trades": [_order_trade(order, fill) for fill in order.fills],
    }


def _trade_row(fill: Fill) -> dict[str, object]:
    """A public trade ("exchange"); ``type`` is the taker's side, ``timestamp`` float seconds."""
    return {
        "id": fill.id,
        "timestamp": _seconds(fill.timestamp_ms),
        "pair": pair_id(fill.symbol),
        "price": _money(fill.price),
        "amount": _money(fill.amount),
        "type": fill.taker_side,
    }


def _my_side(fill: Fill, account: str) -> str:
    return fill.taker_side if fill.taker_account == account else _OPPOSITE[fill.taker_side]


def _book_order(order: EngineOrder) -> dict[str, object]:
    return {
        "id": order.id,
        "price": _money(order.price),  # type: ignore[arg-type]
        "amount": _money(order.remaining),
        "timestamp": _seconds(order.created_ms),
    }


def _book_level(level: tuple[Decimal, Decimal]) -> dict[str, object]:
    price, amount = level
    return {"price": _money(price), "amount": _money(amount)}


def _wallet_row(balance: AccountBalance) -> dict[str, object]:
    return {
        "currency": balance.currency,
        "balance": _money(balance.available + balance.locked),
        "reserve": _money(balance.locked),
    }


def _transfer_row(record: TransferRecord) -> dict[str, object]:
    row: dict[str, object] = {
        "id": record.id,
        "timestamp": _seconds(record.created_ms),
        "currency": record.currency,
        "amount": _money(record.amount),
    }
    if record.kind == "withdrawal":
        row["status"] = _WITHDRAW_STATUS[record.status]
    return row


def _pair_row(spec: MarketSpec) -> dict[str, object]:
    return {
        "name": pair_id(spec.symbol),
        "currency1": spec.base,
        "currency2": spec.quote,
        "price_precision": spec.price_precision,
        "amount_precision": spec.amount_precision,
        "minimum_order_size": _money(spec.min_amount),
        "maximum_order_size": _money(spec.max_amount),
        "minimum_order_value": _money(spec.min_cost),
        "liquidity_type": _LIQUIDITY_TYPE,
    }


async def _signed_data(request: web.Request) -> dict[str, str]:
    """The POST parameters that X-SIGN covers (form or JSON body); GET calls sign none."""
    if request.method != "POST" or not request.can_read_body:
        return {}
    if request.content_type == "application/json":
        try:
            body = _JSON_BODY.decode(await request.read())
        except msgspec.DecodeError:
            raise ApiError(400, "Invalid JSON body") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON body")
        items = body.items()
    else:
        items = (await request.post()).items()
    data: dict[str, str] = {}
    for name, value in items:
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise ApiError(400, f"Invalid {name}")
        data[name] = str(value)
    return data


@web.middleware
async def _error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Answer ApiError and aiohttp's own 404/405 with BTC-Alpha's ``{"error": ...}`` body."""
    try:
        return await handler(request)
    except ApiError as exc:
        return _error_response(exc.status, exc.message, **exc.extra)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error_response(exc.status, exc.reason)


class _BtcAlphaApi:
    """The endpoints of one venue, sharing its engine, API keys, nonces and rate limits."""

    __slots__ = ("venue", "_symbols", "_public_limit", "_private_limit")

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self._symbols = {pair_id(symbol): symbol for symbol in venue.markets()}
        self._public_limit = venue.window("public", _PUBLIC_CALLS_PER_SECOND, 1.0)
        self._private_limit = venue.window("private", _PRIVATE_CALLS_PER_SECOND, 1.0)

    # -- request plumbing -------------------------------------------------------------------

    def public(self, handler: PublicHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
        """Wrap a public handler: per-IP rate limit, payload encoded as JSON."""

        async def serve(request: web.Request) -> web.Response:
            self._throttle(self._public_limit, request.remote or "unknown")
            return _json(handler(request))

        return serve

    def private(self, handler: PrivateHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
        """Wrap a private handler: signature, per-account rate limit and nonce checked first."""

        async def serve(request: web.Request) -> web.Response:
            account, data = await self._authenticate(request)
            return _json(handler(request, account, data))

        return serve

    async def _authenticate(self, request: web.Request) -> tuple[str, dict[str, str]]:
        """Verify X-KEY/X-SIGN/X-NONCE; returns the key's account and the signed POST data."""
        key = request.headers.get("X-KEY", "")
        signature = request.headers.get("X-SIGN", "")
        nonce_text = request.headers.get("X-NONCE", "")
        if not (key and signature and nonce_text):
            raise ApiError(401, "Authentication credentials were not provided")
        api_key = self.venue.keys.get(key)
        if api_key is None:
            raise ApiError(401, "Invalid API key")
        data = await _signed_data(request)
        if not hmac.compare_digest(signature, expected_signature(key, api_key.secret, data)):
            raise ApiError(401, "Invalid signature")
        self._throttle(self._private_limit, api_key.account)
        try:
            nonce = int(nonce_text)
        except ValueError:
            raise ApiError(401, "Invalid nonce") from None
        last = self.venue.nonce_memory.get(key)
        if last is not None and nonce <= last:
            raise ApiError(401, "Invalid nonce")
        self.venue.nonce_memory[key] = nonce
        return api_key.account, data

    @staticmethod
    def _throttle(window: SlidingWindow, identity: str) -> None:
        if window.hit(identity) is not None:
            raise ApiError(429, "Too many requests")

    def _symbol(self, pair: str, status: int = 400) -> str:
        symbol = self._symbols.get(pair)
        if symbol is None:
            raise ApiError(status, f"Invalid pair: {pair!r}")
        return symbol

    def _pair_filter(self, params: Mapping[str, str]) -> str | None:
        pair = params.get("pair", "")
        return self._symbol(pair) if pair else None

    # -- public -----------------------------------------------------------------------------

    def currencies(self, request: web.Request) -> list[dict[str, object]]:
        codes = sorted({c for spec in self.venue.markets().values() for c in (spec.base, spec.quote)})
        return [{"sign": _CURRENCY_SIGNS.get(code, code), "short_name": code} for code in codes]

    def pairs(self, request: web.Request) -> list[dict[str, object]]:
        base, quote = request.query.get("currency1"), request.query.get("currency2")
        return [
            _pair_row(spec) for spec in self.venue.markets().values()
            if base in (None, "", spec.base) and quote in (None, "", spec.quote)
        ]

    def ticker(self, request: web.Request) -> object:
        """One object with ``?pair=``, else a list of every pair's ticker."""
        now_ms = _now_ms()
        symbol = self._pair_filter(request.query)
        if symbol is not None:
            return self._ticker_row(symbol, now_ms)
        return [self._ticker_row(symbol, now_ms) for symbol in self.venue.markets()]

    def _ticker_row(self, symbol: str, now_ms: int) -> dict[str, object]:
        stats = ticker_stats(self.venue.engine, symbol, now_ms)
        zero = Decimal(0)
        return {
            "timestamp": _seconds(now_ms),
            "pair": pair_id(symbol),
            "last": _money(stats.last or zero),
            "diff": _money((stats.last or zero) - (stats.open or zero)),
            "vol": _money(stats.volume_quote),
            "high": _money(stats.high or zero),
            "low": _money(stats.low or zero),
            "buy": _money(stats.bid or zero),
            "sell": _money(stats.ask or zero),
        }

    def orderbook_by_path(self, request: web.Request) -> dict[str, object]:
        """2022 form: ``sell`` (asks) and ``buy`` (bids), all orders unless limited."""
        symbol = self._symbol(request.match_info["pair"], status=404)
        sells, buys = self._book(
            symbol, request.query, sell_limit=_int_param(request.query, "limit_sell"),
            buy_limit=_int_param(request.query, "limit_buy"),
        )
        return {"sell": sells, "buy": buys}

    def orderbook_by_query(self, request: web.Request) -> dict[str, object]:
        """2017 form: ``bids`` holds the sell orders and ``asks`` the buy orders (the seed's labels)."""
        pair = request.query.get("pair", "")
        if not pair:
            raise ApiError(400, "pair is required")
        sells, buys = self._book(
            self._symbol(pair), request.query, sell_limit=_int_param(request.query, "limit_bids", 100),
            buy_limit=_int_param(request.query, "limit_asks", 100),
        )
        return {"bids": sells, "asks": buys}

    def _book(
        self, symbol: str, params: Mapping[str, str], *, sell_limit: int | None, buy_limit: int | None
    ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        """(sell side, buy side), best first: resting orders, or price levels with ``group=1``."""
        engine = self.venue.engine
        if _choice_param(params, "group", (0, 1)) == "1":
            bid_levels, ask_levels = engine.levels(symbol)
            return ([_book_level(level) for level in ask_levels[:sell_limit]],
                    [_book_level(level) for level in bid_levels[:buy_limit]])
        bids, asks = engine.book(symbol)
        return [_book_order(o) for o in asks[:sell_limit]], [_book_order(o) for o in bids[:buy_limit]]

    def exchanges(self, request: web.Request) -> list[dict[str, object]]:
        """Public trades; ``ordering=-id`` (default) is newest first."""
        fills = self._ordered_fills(self.venue.engine.fills(None, self._pair_filter(request.query)), request.query)
        return [_trade_row(fill) for fill in fills]

    def _ordered_fills(self, fills: list[Fill], params: Mapping[str, str]) -> list[Fill]:
        """Apply ``ordering``, ``offset`` and ``limit`` (default 100) to newest-first fills."""
        if _choice_param(params, "ordering", ("id", "-id")) == "id":
            fills = fills[::-1]
        offset = _int_param(params, "offset", 0) or 0
        return fills[offset:][: _int_param(params, "limit", 100)]

    def chart(self, request: web.Request) -> list[dict[str, object]]:
        """Candles of ``<type>`` newest first; ``since``/``until`` in seconds, ``limit`` 720."""
        symbol = self._symbol(request.match_info["pair"], status=404)
        interval_ms = _CHART_INTERVALS_MS.get(request.match_info["type"])
        if interval_ms is None:
            raise ApiError(404, f"Invalid chart type: {request.match_info['type']!r}")
        since, until = _int_param(request.query, "since"), _int_param(request.query, "until")
        bars = candles(
            self.venue.engine, symbol, interval_ms,
            since_ms=None if since is None else since * 1000,
            until_ms=None if until is None else until * 1000,
            limit=_int_param(request.query, "limit", 720),
        )
        return [
            {
                "time": bar.open_ms // 1000,
                "open": _number(bar.open),
                "high": _number(bar.high),
                "low": _number(bar.low),
                "close": _number(bar.close),
                "volume": _number(bar.volume),
            }
            for bar in reversed(bars)
        ]

    def all_orders(self, request: web.Request) -> list[dict[str, object]]:
        """Every resting order (2017 public list), newest first; filters type, pair, status, limit."""
        symbol = self._pair_filter(request.query)
        symbols = [symbol] if symbol is not None else list(self.venue.markets())
        resting = [o for s in symbols for side in self.venue.engine.book(s) for o in side]
        return self._order_rows(sorted(resting, key=lambda o: o.id, reverse=True), request.query)

    @staticmethod
    def _order_rows(orders: list[EngineOrder], params: Mapping[str, str]) -> list[dict[str, object]]:
        side = _choice_param(params, "type", _SIDES)
        status = _choice_param(params, "status", set(_ORDER_STATUS.values()))
        rows = [
            _order_row(o) for o in orders
            if side in (None, o.side) and status in (None, str(_ORDER_STATUS[o.status]))
        ]
        return rows[: _int_param(params, "limit", 2000)]

    # -- private ----------------------------------------------------------------------------

    def wallets(self, request: web.Request, account: str, data: dict[str, str]) -> list[dict[str, object]]:
        """Every currency of the venue and any the account holds; ``currency_id`` filters."""
        balances = self.venue.engine.balances(account)
        currencies = {c for spec in self.venue.markets().values() for c in (spec.base, spec.quote)}
        wanted = request.query.get("currency_id", "")
        return [
            _wallet_row(balances.get(code) or AccountBalance(code, Decimal(0), Decimal(0)))
            for code in sorted(currencies | balances.keys()) if wanted in ("", code)
        ]

    def own_orders(self, request: web.Request, account: str, data: dict[str, str]) -> list[dict[str, object]]:
        """The account's orders newest first; ``status=1`` gives the open ones."""
        orders = self.venue.engine.orders(account, self._pair_filter(request.query))
        return self._order_rows(orders, request.query)

    def order(self, request: web.Request, account: str, data: dict[str, str]) -> dict[str, object]:
        return _single_order(self._own_order(account, request.match_info["order_id"]))

    def _own_order(self, account: str, raw_id: str) -> EngineOrder:
        try:
            return self.venue.engine.order(account, int(raw_id))
        except (ValueError, OrderNotFoundError):
            raise ApiError(404, "Order not found") from None

    def own_exchanges(self, request: web.Request, account: str, data: dict[str, str]) -> list[dict[str, object]]:
        """The account's trades, each with ``my_side``; ``type`` filters on ``my_side``."""
        side = _choice_param(request.query, "type", _SIDES)
        fills = [
            fill for fill in self.venue.engine.fills(account, self._pair_filter(request.query))
            if side in (None, _my_side(fill, account))
        ]
        return [
            {**_trade_row(fill), "my_side": _my_side(fill, account)}
            for fill in self._ordered_fills(fills, request.query)
        ]

    def deposits(self, request: web.Request, account: str, data: dict[str, str]) -> list[dict[str, object]]:
        return [_transfer_row(r) for r in self.venue.engine.transfers(account, "deposit")]

    def withdraws(self, request: web.Request, account: str, data: dict[str, str]) -> list[dict[str, object]]:
        """Withdrawals newest first; filters ``currency_id`` and ``status`` (10..50)."""
        currency = request.query.get("currency_id", "")
        status = _choice_param(request.query, "status", (10, 20, 30, 40, 50))
        rows = [_transfer_row(r) for r in self.venue.engine.transfers(account, "withdrawal")]
        return [
            row for row in rows
            if currency in ("", row["currency"]) and status in (None, str(row["status"]))
        ]

    def create_order(self, request: web.Request, account: str, data: dict[str, str]) -> dict[str, object]:
        """Place a limit order; ``amount`` answered is what remains, ``trades`` its immediate fills."""
        side = _choice_param(data, "type", _SIDES)
        if side is None:
            raise ApiError(400, "type is required")
        pair = data.get("pair", "")
        if not pair:
            raise ApiError(400, "pair is required")
        symbol = self._symbol(pair)
        amount, price = _decimal_param(data, "amount"), _decimal_param(data, "price")
        try:
            event = self.venue.engine.place_order(account, symbol, side, amount, price)
        except InsufficientBalance:
            raise self._out_of_balance(account, symbol, side, amount, price) from None
        except EngineError as exc:
            raise ApiError(400, str(exc), date=_seconds(_now_ms())) from None
        order = event.order
        return {
            "success": True,
            "oid": order.id,
            "type": order.side,
            "date": _seconds(order.created_ms),
            "price": _money(price),
            "amount": _money(order.remaining),
            "trades": [_order_trade(order, fill) for fill in event.fills],
        }

    def _out_of_balance(self, account: str, symbol: str, side: str, amount: Decimal, price: Decimal) -> ApiError:
        """The live wording: ``Out of balance -9.99243661 BTC`` = what the order would leave."""
        spec = self.venue.markets()[symbol]
        currency, needed = (spec.quote, price * amount) if side == "buy" else (spec.base, amount)
        held = self.venue.engine.balances(account).get(currency)
        available = held.available if held is not None else Decimal(0)
        return ApiError(400, f"Out of balance {_money(available - needed)} {currency}", date=_seconds(_now_ms()))

    def cancel_order(self, request: web.Request, account: str, data: dict[str, str]) -> dict[str, object]:
        """Cancel an active order: ``{"order": id}``."""
        raw_id = data.get("order", "")
        if not raw_id:
            raise ApiError(400, "order is required")
        order = self._own_order(account, raw_id)
        try:
            self.venue.engine.cancel_order(account, order.id)
        except OrderNotCancelable:
            raise ApiError(400, f"Order {order.id} is not active") from None
        return {"order": order.id}


def create_app(venue: Venue) -> web.Application:
    """The BTC-Alpha app of ``venue``: the REST API and, at ``/socket.io/``, the live book feed."""
    api = _BtcAlphaApi(venue)
    app = web.Application(middlewares=[fault_middleware(venue, _error_response), _error_middleware])
    public: dict[str, PublicHandler] = {
        "/api/v1/currencies/": api.currencies,
        "/api/v1/pairs/": api.pairs,
        "/api/v1/ticker/": api.ticker,
        "/api/v1/orderbook/": api.orderbook_by_query,
        "/api/v1/orderbook/{pair}/": api.orderbook_by_path,
        "/api/v1/exchanges/": api.exchanges,
        "/api/v1/orders/": api.all_orders,
        "/api/charts/{pair}/{type}/chart": api.chart,
        "/api/charts/{pair}/{type}/chart/": api.chart,  # the form ccxt requests
    }
    private_get: dict[str, PrivateHandler] = {
        "/api/v1/wallets/": api.wallets,
        "/api/v1/orders/own/": api.own_orders,
        "/api/v1/order/{order_id}/": api.order,
        "/api/v1/exchanges/own/": api.own_exchanges,
        "/api/v1/deposits/": api.deposits,
        "/api/v1/withdraws/": api.withdraws,
    }
    private_post: dict[str, PrivateHandler] = {
        "/api/v1/order/": api.create_order,
        "/api/v1/order-cancel/": api.cancel_order,
    }
    for path, public_handler in public.items():
        app.router.add_get(path, api.public(public_handler))
    for path, private_handler in private_get.items():
        app.router.add_get(path, api.private(private_handler))
    for path, private_handler in private_post.items():
        app.router.add_post(path, api.private(private_handler))
    attach_socket(app, venue)
    return app
