"""Quidax's REST API served from the sandbox engine: API v2 (HMAC-signed params) under
``/api/v2`` and the Bearer-token v1 endpoints under ``/api/v1``.

Written from ``specs/quidax.md`` (the v2 seed plus the Peatio source it rebrands). Where the spec
is uncertain:

- v2 signing: the canonical query is every query and form parameter except ``signature``,
  unescaped, as ``name=value`` units sorted in byte order and joined by ``&`` (Rails' ``to_query``).
  Array parameters (``orders[][side]=…`` of ``/orders/multi``) form one unit: all their
  ``name=value`` pairs joined by ``&`` in wire order, sorted by that joined text; element order and
  field order inside an element are never re-sorted.
- v2 auth checks in Peatio's order: missing ``access_key``/``tonce``/``signature`` 2001, unknown key
  2008, used tonce 2006 (the tonce is remembered 61 s from then on, even if the request then
  fails), tonce outside ±30 s 2007 (message carries the server time in ms), bad signature 2005.
  A tonce that is not an integer reads as 0 (Ruby ``to_i``), hence 2007.
- Rate limit: 6000 private requests per key per 300 s (v1 and v2 share the count); the 429 body
  is ``{"error": {"code": 429, "message": "rate limit exceeded"}}`` with ``Retry-After`` (s).
  Public endpoints are unlimited. Fault-injected 429/5xx use the HTTP status as the code.
- v2 POST success is 201 (Grape's default), everything else 200. Validation errors are 1001/400
  with Grape's messages (``market is missing``, ``limit does not have a valid value``).
- Order placement failures (insufficient funds, precision, minimum) are 2002/400 "Failed to
  create order. Reason: …"; an unknown order id is 2004/404 on ``/order`` and ``/order/delete``;
  cancelling an order that is no longer ``wait`` is 2003/400.
- ``/order/delete`` and ``/orders/clear`` answer the orders as they were (``state`` ``wait``) and
  cancel them in the engine before the answer is sent, so a later ``/order`` shows ``cancel``.
- ``/orders/multi`` is all-or-nothing like Peatio's transaction: if one order fails, orders
  already placed by the request are cancelled (fills they made stand) and 2002 is answered.
- Trades: public trades carry ``funds`` and the taker's side; ``/trades/my`` adds ``order_id`` and
  the member's side; an order's ``trades`` omit ``funds`` as in the seed's sample.
  ``/k_with_pending_trades`` lists trades in the same shape as ``/trades``.
- K-lines fill empty periods between the first trade and now with the previous close and volume
  0, as Peatio's k-line daemon does. ``/deposit_address`` answers ``{"currency", "address"}``.
- Deposit states: credited ``accepted``, pending ``submitted``, failed ``rejected``,
  cancelled ``cancelled``; a credited deposit has 6 confirmations. Fees are zero.
- v1 (Bearer ``secret_key``, ``{"status","message","data"}``): ids are strings, times ISO-8601
  with ms; ``user_id`` is ``me`` (or the member's ``sn``), else 404. Order, trade and deposit
  objects have the v2 fields (tickers add ``open``); withdrawals live under ``withdraws`` with
  states ``submitted``/``done``/``canceled``/``failed`` and stay ``submitted`` (nothing settles
  them). v1 error ``data.code`` strings: ``validation_error``, ``unauthorized``,
  ``order_failed``, ``insufficient_balance``, ``cancel_failed``, ``not_found``, ``rate_limited``,
  ``server_error``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, NamedTuple

import msgspec
from aiohttp import web
from multidict import MultiDict

from sandbox.engine import (
    AccountBalance,
    Engine,
    EngineError,
    EngineOrder,
    Fill,
    InsufficientBalance,
    MarketSpec,
    OrderNotFoundError,
    TransferRecord,
)
from sandbox.stats import CURRENCY_NAMES, candles, ticker_stats
from sandbox.venue import ApiKey, SlidingWindow, Venue, fault_middleware

__all__ = [
    "MARKETS",
    "MIDS",
    "PRIVATE_LIMIT",
    "PRIVATE_WINDOW_S",
    "canonical_query",
    "signature_payload",
    "expected_signature",
    "create_app",
]

MARKETS: tuple[MarketSpec, ...] = (
    MarketSpec("BTC/NGN", "BTC", "NGN", price_precision=2, amount_precision=6, min_amount=Decimal("0.0001"),
               max_amount=Decimal("100"), min_price=Decimal("1000"), max_price=Decimal("1000000000")),
    MarketSpec("ETH/NGN", "ETH", "NGN", price_precision=2, amount_precision=4, min_amount=Decimal("0.001"),
               max_amount=Decimal("1000"), min_price=Decimal("100"), max_price=Decimal("100000000")),
    MarketSpec("USDT/NGN", "USDT", "NGN", price_precision=2, amount_precision=2, min_amount=Decimal("1"),
               max_amount=Decimal("1000000"), min_price=Decimal("1"), max_price=Decimal("100000")),
)
MIDS: dict[str, Decimal] = {
    "BTC/NGN": Decimal("45000000"),
    "ETH/NGN": Decimal("2500000"),
    "USDT/NGN": Decimal("1550"),
}

PRIVATE_LIMIT = 6000  # requests per key per PRIVATE_WINDOW_S
PRIVATE_WINDOW_S = 300.0
_TONCE_WINDOW_MS = 30_000
_TONCE_MEMORY_S = 61.0
_KLINE_PERIODS_MIN = frozenset({1, 5, 15, 30, 60, 120, 240, 360, 720, 1440, 4320, 10080})
_CREDITED_CONFIRMATIONS = 6
_ZERO = Decimal(0)

_ORDER_STATES = {"open": "wait", "filled": "done", "canceled": "cancel", "rejected": "cancel"}
_ORDER_STATE_NAMES = ("wait", "done", "cancel")
_DEPOSIT_STATES = {"ok": "accepted", "pending": "submitted", "failed": "rejected", "canceled": "cancelled"}
_WITHDRAW_STATES = {"ok": "done", "pending": "submitted", "failed": "failed", "canceled": "canceled"}
# (id, name) of the default network of each crypto currency; a currency not listed is fiat.
_NETWORKS = {"BTC": ("btc", "Bitcoin"), "ETH": ("erc20", "Ethereum (ERC20)"), "USDT": ("trc20", "Tron (TRC20)")}
_V1_CODES = {
    1001: "validation_error", 2001: "unauthorized", 2002: "order_failed", 2003: "cancel_failed",
    2004: "not_found", 2005: "unauthorized", 2006: "unauthorized", 2007: "unauthorized",
    2008: "unauthorized", 2012: "not_found", 404: "not_found", 429: "rate_limited",
}

_ENCODER = msgspec.json.Encoder(decimal_format="number")
_JSON_BODY = msgspec.json.Decoder(float_hook=Decimal)

Pairs = list[tuple[str, str]]


# -- signing ------------------------------------------------------------------------------------


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    """Sorted ``name=value`` units of every param but ``signature``, unescaped, joined by ``&``;
    an array param's pairs (``orders[][price]=…``) make one unit, kept in wire order."""
    units: dict[str, list[str]] = {}
    for name, value in params:
        if name != "signature":
            units.setdefault(name.partition("[")[0], []).append(f"{name}={value}")
    return "&".join(sorted("&".join(pairs) for pairs in units.values()))


def signature_payload(verb: str, path: str, params: Iterable[tuple[str, str]]) -> str:
    """``VERB|/api/v2/path|canonical_query``, the text Quidax signs."""
    return f"{verb.upper()}|{path}|{canonical_query(params)}"


def expected_signature(secret: str, verb: str, path: str, params: Iterable[tuple[str, str]]) -> str:
    """Lower-case hex HMAC-SHA256 of the signature payload, keyed with the secret key."""
    payload = signature_payload(verb, path, params)
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


# -- errors and formatting ----------------------------------------------------------------------


class QuidaxError(Exception):
    """An error answer: HTTP status, v2 numeric code, message and the v1 ``data.code`` string."""

    def __init__(self, status: int, code: int, message: str, v1_code: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.v1_code = v1_code or _V1_CODES.get(code) or ("server_error" if status >= 500 else "bad_request")
        self.retry_after = retry_after


def _invalid(name: str) -> QuidaxError:
    return QuidaxError(400, 1001, f"{name} does not have a valid value")


def _missing(name: str) -> QuidaxError:
    return QuidaxError(400, 1001, f"{name} is missing")


def _create_failed(error: EngineError) -> QuidaxError:
    if isinstance(error, InsufficientBalance):
        return QuidaxError(400, 2002, f"Failed to create order. Reason: insufficient balance, {error}",
                           "insufficient_balance")
    return QuidaxError(400, 2002, f"Failed to create order. Reason: {error}")


def _num(value: Decimal) -> str:
    """Ruby's BigDecimal text: no exponent, trailing zeros dropped, at least one decimal ("3100.0")."""
    text = format(value.normalize(), "f")
    return text if "." in text else f"{text}.0"


def _num_or_zero(value: Decimal | None) -> str:
    return _num(value if value is not None else _ZERO)


def _json_number(value: Decimal) -> Decimal:
    """A Decimal that the encoder writes as a JSON number in the ``_num`` form."""
    return Decimal(_num(value))


def _iso_seconds(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def _iso_millis(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _market_id(symbol: str) -> str:
    return symbol.replace("/", "").lower()


def _member_sn(account: str) -> str:
    return "QDX" + hashlib.sha256(account.encode()).hexdigest()[:9].upper()


def _response(status: int, payload: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=_ENCODER.encode(payload), content_type="application/json",
                        headers=headers)


# -- request state ------------------------------------------------------------------------------


class _TonceMemory:
    """The tonces one access key used in the last 61 s."""

    __slots__ = ("_seen", "_expiries")

    def __init__(self) -> None:
        self._seen: set[int] = set()
        self._expiries: deque[tuple[float, int]] = deque()

    def remember(self, tonce: int, now: float) -> bool:
        """Record ``tonce`` (``now`` monotonic seconds); False if it was already used."""
        while self._expiries and self._expiries[0][0] <= now:
            self._seen.discard(self._expiries.popleft()[1])
        if tonce in self._seen:
            return False
        self._seen.add(tonce)
        self._expiries.append((now + _TONCE_MEMORY_S, tonce))
        return True


class _State:
    """What every handler of one venue shares."""

    __slots__ = ("venue", "markets", "currencies", "private_limit", "started_ms", "withdraw_notes")

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.markets = {_market_id(spec.symbol): spec for spec in venue.engine.markets().values()}
        self.currencies = sorted({c for spec in self.markets.values() for c in (spec.base, spec.quote)})
        self.private_limit = SlidingWindow(PRIVATE_LIMIT, PRIVATE_WINDOW_S)
        self.started_ms = _now_ms()
        # withdrawal id -> the request's fund_uid2, transaction_note and narration
        self.withdraw_notes: dict[int, tuple[str | None, str | None, str | None]] = {}


class _Params:
    """A request's parameters with Grape-style validation (errors are 1001/400)."""

    __slots__ = ("_values", "_state")

    def __init__(self, items: Iterable[tuple[str, str]], state: _State) -> None:
        self._values: MultiDict[str] = MultiDict(items)
        self._state = state

    def text(self, name: str) -> str | None:
        return self._values.get(name) or None

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise _missing(name)
        return value

    def optional_choice(self, name: str, allowed: tuple[str, ...]) -> str | None:
        value = self.text(name)
        if value is not None and value not in allowed:
            raise _invalid(name)
        return value

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        return self.optional_choice(name, allowed) or default

    def required_choice(self, name: str, allowed: tuple[str, ...]) -> str:
        self.required(name)
        return self.optional_choice(name, allowed)  # type: ignore[return-value]

    def optional_integer(self, name: str, low: int | None = None, high: int | None = None) -> int | None:
        text = self.text(name)
        if text is None:
            return None
        try:
            value = int(text)
        except ValueError:
            raise _invalid(name) from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise _invalid(name)
        return value

    def integer(self, name: str, default: int, low: int | None = None, high: int | None = None) -> int:
        value = self.optional_integer(name, low, high)
        return default if value is None else value

    def required_integer(self, name: str) -> int:
        self.required(name)
        return self.integer(name, 0)

    def optional_decimal(self, name: str) -> Decimal | None:
        text = self.text(name)
        if text is None:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise _invalid(name) from None
        if not value.is_finite():
            raise _invalid(name)
        return value

    def decimal(self, name: str) -> Decimal:
        self.required(name)
        return self.optional_decimal(name)  # type: ignore[return-value]

    def optional_market(self) -> MarketSpec | None:
        market_id = self.text("market")
        if market_id is None:
            return None
        spec = self._state.markets.get(market_id)
        if spec is None:
            raise _invalid("market")
        return spec

    def market(self) -> MarketSpec:
        self.required("market")
        return self.optional_market()  # type: ignore[return-value]

    def optional_currency(self) -> str | None:
        """The ``currency`` param as the engine's upper-case code."""
        code = self.text("currency")
        if code is not None and code.upper() not in self._state.currencies:
            raise _invalid("currency")
        return code.upper() if code is not None else None

    def currency(self) -> str:
        self.required("currency")
        return self.optional_currency()  # type: ignore[return-value]

    def array(self, name: str) -> list[Pairs]:
        """``name[][field]=value`` params as one list of (field, value) per element, in wire
        order; a field seen again starts the next element (as Rack parses them)."""
        prefix = f"{name}[]["
        elements: list[Pairs] = []
        for key, value in self._values.items():
            if not (key.startswith(prefix) and key.endswith("]")):
                continue
            field = key[len(prefix):-1]
            if not elements or any(seen == field for seen, _ in elements[-1]):
                elements.append([])
            elements[-1].append((field, value))
        return elements

    def element(self, items: Pairs) -> _Params:
        return _Params(items, self._state)


# -- dialects -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Dialect:
    """What differs between v2 and v1: auth, body encoding, envelope, ids, times, errors."""

    version: str
    authenticate: Callable[[_State, web.Request, Pairs], ApiKey]
    read_body: Callable[[web.Request], Awaitable[Pairs]]
    envelope: Callable[[Any], Any]
    error_body: Callable[[QuidaxError], Any]
    ident: Callable[[int], int | str]
    timestamp: Callable[[int], str]
    post_status: int


@dataclass(frozen=True, slots=True)
class _Call:
    """One request as the actions see it; ``account`` is empty on public endpoints."""

    state: _State
    dialect: _Dialect
    params: _Params
    account: str

    @property
    def engine(self) -> Engine:
        return self.state.venue.engine


def _authenticate_keypair(state: _State, request: web.Request, signed: Pairs) -> ApiKey:
    """v2: ``access_key``, ``tonce`` (ms) and ``signature`` params, checked in Peatio's order."""
    values = dict(signed)
    access_key, tonce_text, signature = values.get("access_key"), values.get("tonce"), values.get("signature")
    if not (access_key and tonce_text and signature):
        raise QuidaxError(401, 2001, "Authorization failed")
    api_key = state.venue.keys.get(access_key)
    if api_key is None:
        raise QuidaxError(401, 2008, f"The access key {access_key} does not exist.")
    try:
        tonce = int(tonce_text)
    except ValueError:
        tonce = 0
    memory = state.venue.nonce_memory.setdefault(access_key, _TonceMemory())
    if not memory.remember(tonce, time.monotonic()):
        raise QuidaxError(401, 2006, f"The tonce {tonce} has already been used by access key {access_key}.")
    now_ms = _now_ms()
    if abs(tonce - now_ms) > _TONCE_WINDOW_MS:
        raise QuidaxError(401, 2007, f"The tonce {tonce} is invalid, current timestamp is {now_ms}.")
    expected = expected_signature(api_key.secret, request.method, request.path, signed)
    if not hmac.compare_digest(expected, signature):
        raise QuidaxError(401, 2005, f"The signature {signature} is incorrect.")
    return api_key


def _authenticate_bearer(state: _State, request: web.Request, signed: Pairs) -> ApiKey:
    """v1: ``Authorization: Bearer <secret_key>``; a ``user_id`` path segment must be ``me``."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not token:
        raise QuidaxError(401, 2001, "Unauthorized: missing bearer token")
    api_key = next((k for k in state.venue.keys.values() if hmac.compare_digest(k.secret, token)), None)
    if api_key is None:
        raise QuidaxError(401, 2008, "Unauthorized: invalid token")
    user_id = request.match_info.get("user_id")
    if user_id is not None and user_id not in ("me", _member_sn(api_key.account)):
        raise QuidaxError(404, 404, f"User {user_id} not found")
    return api_key


async def _form_body(request: web.Request) -> Pairs:
    form = await request.post()
    return [(name, value) for name, value in form.items() if isinstance(value, str)]


async def _json_body(request: web.Request) -> Pairs:
    raw = await request.read()
    if not raw.strip():
        return []
    try:
        body = _JSON_BODY.decode(raw)
    except msgspec.DecodeError:
        raise QuidaxError(400, 1001, "request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise QuidaxError(400, 1001, "request body must be a JSON object")
    return [(name, _json_text(value)) for name, value in body.items() if value is not None]


def _json_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _v2_error(error: QuidaxError) -> Any:
    return {"error": {"code": error.code, "message": error.message}}


def _v1_error(error: QuidaxError) -> Any:
    return {"status": "error", "message": error.message, "data": {"code": error.v1_code, "message": error.message}}


_V2 = _Dialect("v2", _authenticate_keypair, _form_body, lambda data: data, _v2_error,
               lambda ident: ident, _iso_seconds, 201)
_V1 = _Dialect("v1", _authenticate_bearer, _json_body,
               lambda data: {"status": "success", "message": "Successful", "data": data}, _v1_error,
               str, _iso_millis, 200)


# -- entities -----------------------------------------------------------------------------------


def _order(call: _Call, order: EngineOrder, *, with_trades: bool = False) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "id": call.dialect.ident(order.id),
        "side": order.side,
        "ord_type": order.type,
        "price": _num(order.price) if order.price is not None else None,
        "avg_price": _num_or_zero(order.average),
        "state": _ORDER_STATES[order.status],
        "market": _market_id(order.symbol),
        "created_at": call.dialect.timestamp(order.created_ms),
        "volume": _num(order.amount),
        "remaining_volume": _num(order.remaining),
        "executed_volume": _num(order.filled),
        "trades_count": len(order.fills),
    }
    if with_trades:
        rendered["trades"] = [_trade(call, fill, order.side, with_funds=False) for fill in order.fills]
    return rendered


def _trade(call: _Call, fill: Fill, side: str, *, with_funds: bool = True,
           order_id: int | None = None) -> dict[str, Any]:
    rendered: dict[str, Any] = {"id": call.dialect.ident(fill.id), "price": _num(fill.price),
                                "volume": _num(fill.amount)}
    if with_funds:
        rendered["funds"] = _num(fill.price * fill.amount)
    rendered["market"] = _market_id(fill.symbol)
    rendered["created_at"] = call.dialect.timestamp(fill.timestamp_ms)
    rendered["side"] = side
    if order_id is not None:
        rendered["order_id"] = call.dialect.ident(order_id)
    return rendered


def _public_trade(call: _Call, fill: Fill) -> dict[str, Any]:
    return _trade(call, fill, fill.taker_side)


def _member_trade(call: _Call, fill: Fill) -> dict[str, Any]:
    as_taker = fill.taker_account == call.account
    side = fill.taker_side if as_taker else ("sell" if fill.taker_side == "buy" else "buy")
    return _trade(call, fill, side, order_id=fill.taker_order_id if as_taker else fill.maker_order_id)


def _deposit(call: _Call, record: TransferRecord) -> dict[str, Any]:
    credited = record.status == "ok"
    return {
        "id": call.dialect.ident(record.id),
        "currency": record.currency.lower(),
        "amount": _num(record.amount),
        "fee": _num(record.fee),
        "txid": record.txid,
        "created_at": call.dialect.timestamp(record.created_ms),
        "confirmations": _CREDITED_CONFIRMATIONS if credited else 0,
        "done_at": call.dialect.timestamp(record.updated_ms) if credited else None,
        "state": _DEPOSIT_STATES[record.status],
    }


def _withdrawal(call: _Call, record: TransferRecord) -> dict[str, Any]:
    tag, note, narration = call.state.withdraw_notes.get(record.id, (None, None, None))
    return {
        "id": call.dialect.ident(record.id),
        "currency": record.currency.lower(),
        "amount": _num(record.amount),
        "fee": _num(record.fee),
        "total": _num(record.amount + record.fee),
        "txid": record.txid if record.status == "ok" else None,
        "transaction_note": note,
        "narration": narration,
        "status": _WITHDRAW_STATES[record.status],
        "reason": None,
        "created_at": call.dialect.timestamp(record.created_ms),
        "done_at": call.dialect.timestamp(record.updated_ms) if record.status == "ok" else None,
        "recipient": {"type": "coin_address", "details": {"address": record.address, "destination_tag": tag}},
    }


def _balance(call: _Call, currency: str) -> AccountBalance:
    return call.engine.balances(call.account).get(currency) or AccountBalance(currency, _ZERO, _ZERO)


def _held_currencies(call: _Call) -> list[str]:
    return sorted(set(call.state.currencies) | set(call.engine.balances(call.account)))


def _wallet(call: _Call, currency: str) -> dict[str, Any]:
    balance = _balance(call, currency)
    network = _NETWORKS.get(currency)
    since = call.dialect.timestamp(call.state.started_ms)
    wallet_uuid = uuid.UUID(hashlib.sha256(f"{call.account}\x00{currency}".encode()).hexdigest()[:32])
    return {
        "id": str(wallet_uuid),
        "name": CURRENCY_NAMES.get(currency, currency),
        "currency": currency.lower(),
        "balance": _num(balance.available),
        "locked": _num(balance.locked),
        "staked": "0.0",
        "converted_balance": "0.0",
        "reference_currency": "usd",
        "is_crypto": network is not None,
        "blockchain_enabled": network is not None,
        "default_network": network[0] if network else None,
        "networks": [{"id": network[0], "name": network[1], "deposits_enabled": True, "withdraws_enabled": True}]
        if network else [],
        "deposit_address": call.engine.deposit_address(call.account, currency) if network else None,
        "destination_tag": None,
        "created_at": since,
        "updated_at": since,
    }


def _address(call: _Call, currency: str) -> dict[str, Any]:
    network = _NETWORKS.get(currency)
    since = call.dialect.timestamp(call.state.started_ms)
    return {
        "id": str(uuid.UUID(hashlib.sha256(f"{call.account}\x00{currency}\x00address".encode()).hexdigest()[:32])),
        "currency": currency.lower(),
        "address": call.engine.deposit_address(call.account, currency),
        "network": network[0] if network else None,
        "destination_tag": None,
        "created_at": since,
        "updated_at": since,
    }


# -- public actions -----------------------------------------------------------------------------


def _markets(call: _Call) -> Any:
    return [{"id": market_id, "name": f"{spec.base}/{spec.quote}"} for market_id, spec in call.state.markets.items()]


def _ticker_entry(call: _Call, spec: MarketSpec, now_ms: int) -> dict[str, Any]:
    stats = ticker_stats(call.engine, spec.symbol, now_ms)
    ticker = {"buy": _num_or_zero(stats.bid), "sell": _num_or_zero(stats.ask), "low": _num_or_zero(stats.low),
              "high": _num_or_zero(stats.high)}
    if call.dialect is _V1:
        ticker["open"] = _num_or_zero(stats.open)
    ticker["last"] = _num_or_zero(stats.last)
    ticker["vol"] = _num(stats.volume_base)
    return {"at": now_ms // 1000, "ticker": ticker}


def _tickers(call: _Call) -> Any:
    now_ms = _now_ms()
    return {market_id: _ticker_entry(call, spec, now_ms) for market_id, spec in call.state.markets.items()}


def _ticker(call: _Call) -> Any:
    return _ticker_entry(call, call.params.market(), _now_ms())


def _order_book(call: _Call, asks_param: str = "asks_limit") -> Any:
    spec = call.params.market()
    asks_limit = call.params.integer(asks_param, 20, 1, 200)
    bids_limit = call.params.integer("bids_limit", 20, 1, 200)
    bids, asks = call.engine.book(spec.symbol)
    return {"asks": [_order(call, o) for o in asks[:asks_limit]], "bids": [_order(call, o) for o in bids[:bids_limit]]}


def _depth(call: _Call) -> Any:
    spec = call.params.market()
    limit = call.params.integer("limit", 300, 1, 1000)
    bids, asks = call.engine.levels(spec.symbol)
    return {
        "timestamp": int(time.time()),
        "asks": [[_num(price), _num(amount)] for price, amount in reversed(asks[:limit])],
        "bids": [[_num(price), _num(amount)] for price, amount in bids[:limit]],
    }


def _select_fills(params: _Params, fills: list[Fill]) -> list[Fill]:
    """Peatio's trade filters over ``fills`` (newest first): ``timestamp`` (s, at or before),
    ``from``/``to`` (exclusive trade ids), ``order_by`` (desc) and ``limit`` (50, ≤1000)."""
    limit = params.integer("limit", 50, 1, 1000)
    before_s = params.optional_integer("timestamp")
    after_id = params.optional_integer("from")
    below_id = params.optional_integer("to")
    order_by = params.choice("order_by", ("asc", "desc"), "desc")
    selected = [
        fill for fill in fills
        if (before_s is None or fill.timestamp_ms // 1000 <= before_s)
        and (after_id is None or fill.id > after_id)
        and (below_id is None or fill.id < below_id)
    ]
    if order_by == "asc":
        selected.reverse()
    return selected[:limit]


def _public_trades(call: _Call) -> Any:
    spec = call.params.market()
    return [_public_trade(call, fill) for fill in _select_fills(call.params, call.engine.fills(None, spec.symbol))]


def _kline(call: _Call) -> tuple[MarketSpec, list[list[Any]]]:
    """``[time_s, open, high, low, close, volume]`` rows, oldest first: the newest ``limit``
    periods, or ``limit`` periods from the one holding ``timestamp`` (s)."""
    spec = call.params.market()
    period = call.params.integer("period", 1)
    if period not in _KLINE_PERIODS_MIN:
        raise _invalid("period")
    limit = call.params.integer("limit", 30, 1, 10000)
    after_s = call.params.optional_integer("timestamp")
    step = period * 60_000
    bars = candles(call.engine, spec.symbol, step)
    if not bars:
        return spec, []
    now_ms = _now_ms()
    current = now_ms - now_ms % step
    if after_s is None:
        start = max(bars[0].open_ms, current - (limit - 1) * step)
    else:
        start = max(bars[0].open_ms, after_s * 1000 - after_s * 1000 % step)
    end = min(current, start + (limit - 1) * step)
    by_start = {bar.open_ms: bar for bar in bars}
    close = next((bar.close for bar in reversed(bars) if bar.open_ms < start), None)
    rows: list[list[Any]] = []
    for open_ms in range(start, end + 1, step):
        bar = by_start.get(open_ms)
        if bar is not None:
            rows.append([open_ms // 1000, *map(_json_number, (bar.open, bar.high, bar.low, bar.close, bar.volume))])
            close = bar.close
        elif close is not None:
            flat = _json_number(close)
            rows.append([open_ms // 1000, flat, flat, flat, flat, _json_number(_ZERO)])
    return spec, rows


def _k(call: _Call) -> Any:
    return _kline(call)[1]


def _k_with_pending_trades(call: _Call) -> Any:
    spec, rows = _kline(call)
    trade_id = call.params.required_integer("trade_id")
    trades: list[dict[str, Any]] = []
    if trade_id > 0 and rows:
        since_ms = rows[-1][0] * 1000
        trades = [
            _public_trade(call, fill) for fill in reversed(call.engine.fills(None, spec.symbol))
            if fill.timestamp_ms >= since_ms and fill.id < trade_id
        ]
    return {"k": rows, "trades": trades}


def _server_time(call: _Call) -> Any:
    return int(time.time())


# -- private actions ----------------------------------------------------------------------------


def _member(call: _Call) -> Any:
    accounts = []
    for currency in _held_currencies(call):
        balance = _balance(call, currency)
        accounts.append({"currency": currency.lower(), "balance": _num(balance.available),
                         "locked": _num(balance.locked)})
    return {"sn": _member_sn(call.account), "name": call.account, "email": f"{call.account}@sandbox.invalid",
            "activated": True, "accounts": accounts}


def _user(call: _Call) -> Any:
    since = call.dialect.timestamp(call.state.started_ms)
    return {"id": _member_sn(call.account), "sn": _member_sn(call.account),
            "email": f"{call.account}@sandbox.invalid", "first_name": call.account, "last_name": "",
            "display_name": call.account, "created_at": since, "updated_at": since}


def _deposits(call: _Call, default_limit: int = 3) -> Any:
    currency = call.params.optional_currency()
    limit = call.params.integer("limit", default_limit, 1, 100)
    state = call.params.text("state")
    records = [
        record for record in call.engine.transfers(call.account, "deposit")
        if (currency is None or record.currency == currency)
        and (state is None or _DEPOSIT_STATES[record.status] == state)
    ]
    return [_deposit(call, record) for record in records[:limit]]


def _find_deposit(call: _Call, key: str = "txid") -> Any:
    wanted = call.params.required(key)
    for record in call.engine.transfers(call.account, "deposit"):
        if (record.txid if key == "txid" else str(record.id)) == wanted:
            return _deposit(call, record)
    raise QuidaxError(404, 2012, f"Deposit#{wanted} doesn't exist.")


def _deposit_address(call: _Call) -> Any:
    currency = call.params.currency()
    return {"currency": currency.lower(), "address": call.engine.deposit_address(call.account, currency)}


def _orders(call: _Call, market_required: bool = True, default_state: str | None = "wait") -> Any:
    spec = call.params.market() if market_required else call.params.optional_market()
    state = call.params.optional_choice("state", _ORDER_STATE_NAMES) or default_state
    limit = call.params.integer("limit", 100, 1, 1000)
    page = call.params.integer("page", 1, 1)
    order_by = call.params.choice("order_by", ("asc", "desc"), "asc")
    orders = [
        order for order in call.engine.orders(call.account, spec.symbol if spec else None, open_only=state == "wait")
        if state is None or _ORDER_STATES[order.status] == state
    ]
    if order_by == "asc":
        orders.reverse()
    first = (page - 1) * limit
    return [_order(call, order) for order in orders[first:first + limit]]


def _owned_order(call: _Call) -> EngineOrder:
    order_id = call.params.required_integer("id")
    try:
        return call.engine.order(call.account, order_id)
    except OrderNotFoundError:
        raise QuidaxError(404, 2004, f"Order#{order_id} doesn't exist.") from None


def _get_order(call: _Call) -> Any:
    return _order(call, _owned_order(call), with_trades=True)


class _OrderRequest(NamedTuple):
    side: str
    volume: Decimal
    price: Decimal | None
    ord_type: str


def _order_request(params: _Params) -> _OrderRequest:
    return _OrderRequest(
        side=params.required_choice("side", ("buy", "sell")),
        volume=params.decimal("volume"),
        price=params.optional_decimal("price"),
        ord_type=params.choice("ord_type", ("limit", "market"), "limit"),
    )


def _place(call: _Call, spec: MarketSpec, request: _OrderRequest) -> EngineOrder:
    try:
        event = call.engine.place_order(call.account, spec.symbol, request.side, request.volume, request.price,
                                        type=request.ord_type)
    except EngineError as error:
        raise _create_failed(error) from error
    return call.engine.order(call.account, event.order.id)


def _create_order(call: _Call) -> Any:
    spec = call.params.market()
    return _order(call, _place(call, spec, _order_request(call.params)))


def _create_orders(call: _Call) -> Any:
    spec = call.params.market()
    requests = [_order_request(call.params.element(items)) for items in call.params.array("orders")]
    if not requests:
        raise _missing("orders")
    placed: list[EngineOrder] = []
    try:
        for request in requests:
            placed.append(_place(call, spec, request))
    except QuidaxError:
        for order in placed:
            if order.status == "open":
                call.engine.cancel_order(call.account, order.id)
        raise
    return [_order(call, order) for order in placed]


def _cancel_order(call: _Call) -> Any:
    order = _owned_order(call)
    if order.status != "open":
        raise QuidaxError(400, 2003, f"Failed to cancel order. Reason: Order#{order.id} is "
                                     f"{_ORDER_STATES[order.status]}")
    accepted = _order(call, order)  # as Quidax answers it: cancelling is asynchronous there
    call.engine.cancel_order(call.account, order.id)
    return accepted


def _clear_orders(call: _Call) -> Any:
    side = call.params.optional_choice("side", ("buy", "sell"))
    pending = [order for order in reversed(call.engine.orders(call.account, open_only=True))
               if side is None or order.side == side]
    accepted = [_order(call, order) for order in pending]
    call.engine.cancel_all(call.account, side=side)
    return accepted


def _my_trades(call: _Call, market_required: bool = True) -> Any:
    spec = call.params.market() if market_required else call.params.optional_market()
    fills = call.engine.fills(call.account, spec.symbol if spec else None)
    return [_member_trade(call, fill) for fill in _select_fills(call.params, fills)]


def _wallets(call: _Call) -> Any:
    return [_wallet(call, currency) for currency in _held_currencies(call)]


def _one_wallet(call: _Call) -> Any:
    return _wallet(call, call.params.currency())


def _wallet_address(call: _Call) -> Any:
    return _address(call, call.params.currency())


def _wallet_addresses(call: _Call) -> Any:
    return [_wallet_address(call)]


def _withdrawals(call: _Call) -> Any:
    currency = call.params.optional_currency()
    state = call.params.text("state")
    return [
        _withdrawal(call, record) for record in call.engine.transfers(call.account, "withdrawal")
        if (currency is None or record.currency == currency)
        and (state is None or _WITHDRAW_STATES[record.status] == state)
    ]


def _owned_withdrawal(call: _Call) -> TransferRecord:
    wanted = call.params.required("id")
    for record in call.engine.transfers(call.account, "withdrawal"):
        if str(record.id) == wanted:
            return record
    raise QuidaxError(404, 404, f"Withdrawal {wanted} not found")


def _one_withdrawal(call: _Call) -> Any:
    return _withdrawal(call, _owned_withdrawal(call))


def _withdraw(call: _Call) -> Any:
    currency = call.params.currency()
    amount = call.params.decimal("amount")
    address = call.params.required("fund_uid")
    if amount <= 0:
        raise _invalid("amount")
    try:
        record = call.engine.withdraw(call.account, currency, amount, address)
    except InsufficientBalance as error:
        raise QuidaxError(400, 400, f"Insufficient balance: {error}", "insufficient_balance") from error
    call.state.withdraw_notes[record.id] = (
        call.params.text("fund_uid2"), call.params.text("transaction_note"), call.params.text("narration"))
    return _withdrawal(call, record)


def _cancel_withdrawal(call: _Call) -> Any:
    record = _owned_withdrawal(call)
    try:
        call.engine.cancel_withdrawal(record.id)
    except EngineError as error:
        raise QuidaxError(400, 400, f"Withdrawal {record.id} cannot be cancelled: {error}", "cancel_failed") \
            from error
    return _withdrawal(call, record)


# -- routes and app -----------------------------------------------------------------------------


class _Route(NamedTuple):
    method: str
    path: str
    action: Callable[[_Call], Any]
    private: bool = False


_V2_ROUTES: tuple[_Route, ...] = (
    _Route("GET", "/markets", _markets),
    _Route("GET", "/tickers", _tickers),
    _Route("GET", "/tickers/{market}", _ticker),
    _Route("GET", "/order_book", _order_book),
    _Route("GET", "/depth", _depth),
    _Route("GET", "/trades", _public_trades),
    _Route("GET", "/k", _k),
    _Route("GET", "/k_with_pending_trades", _k_with_pending_trades),
    _Route("GET", "/timestamp", _server_time),
    _Route("GET", "/members/me", _member, private=True),
    _Route("GET", "/deposits", _deposits, private=True),
    _Route("GET", "/deposit", _find_deposit, private=True),
    _Route("GET", "/deposit_address", _deposit_address, private=True),
    _Route("GET", "/orders", _orders, private=True),
    _Route("POST", "/orders", _create_order, private=True),
    _Route("POST", "/orders/multi", _create_orders, private=True),
    _Route("POST", "/orders/clear", _clear_orders, private=True),
    _Route("GET", "/order", _get_order, private=True),
    _Route("POST", "/order/delete", _cancel_order, private=True),
    _Route("GET", "/trades/my", _my_trades, private=True),
)

_V1_ROUTES: tuple[_Route, ...] = (
    _Route("GET", "/markets", _markets),
    _Route("GET", "/markets/tickers", _tickers),
    _Route("GET", "/markets/tickers/{market}", _ticker),
    _Route("GET", "/markets/{market}/k", _k),
    _Route("GET", "/markets/{market}/k_with_pending_trades/{trade_id}", _k_with_pending_trades),
    _Route("GET", "/markets/{market}/order_book", partial(_order_book, asks_param="ask_limit")),
    _Route("GET", "/markets/{market}/depth", _depth),
    _Route("GET", "/trades/{market}", _public_trades),
    _Route("GET", "/users/me", _user, private=True),
    _Route("GET", "/users/{user_id}/wallets", _wallets, private=True),
    _Route("GET", "/users/{user_id}/wallets/{currency}", _one_wallet, private=True),
    _Route("GET", "/users/{user_id}/wallets/{currency}/address", _wallet_address, private=True),
    _Route("GET", "/users/{user_id}/wallets/{currency}/addresses", _wallet_addresses, private=True),
    _Route("POST", "/users/{user_id}/wallets/{currency}/addresses", _wallet_address, private=True),
    _Route("GET", "/users/{user_id}/orders", partial(_orders, market_required=False, default_state=None),
           private=True),
    _Route("GET", "/users/{user_id}/orders/{id}", _get_order, private=True),
    _Route("POST", "/users/{user_id}/orders", _create_order, private=True),
    _Route("POST", "/users/{user_id}/orders/{id}/cancel", _cancel_order, private=True),
    _Route("GET", "/users/{user_id}/trades", partial(_my_trades, market_required=False), private=True),
    _Route("GET", "/users/{user_id}/deposits", partial(_deposits, default_limit=100), private=True),
    _Route("GET", "/users/{user_id}/deposits/{id}", partial(_find_deposit, key="id"), private=True),
    _Route("GET", "/users/{user_id}/withdraws", _withdrawals, private=True),
    _Route("GET", "/users/{user_id}/withdraws/{id}", _one_withdrawal, private=True),
    _Route("POST", "/users/{user_id}/withdraws", _withdraw, private=True),
    _Route("POST", "/users/{user_id}/withdraws/{id}/cancel", _cancel_withdrawal, private=True),
)


def _error_response(dialect: _Dialect, error: QuidaxError) -> web.Response:
    headers = {"Retry-After": str(math.ceil(error.retry_after))} if error.retry_after is not None else None
    return _response(error.status, dialect.error_body(error), headers)


def _handler(state: _State, dialect: _Dialect, route: _Route) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        try:
            signed: Pairs = list(request.query.items())
            if request.method == "POST":
                signed += await dialect.read_body(request)
            account = ""
            if route.private:
                api_key = dialect.authenticate(state, request, signed)
                wait = state.private_limit.hit(api_key.key)
                if wait is not None:
                    raise QuidaxError(429, 429, "rate limit exceeded", retry_after=wait)
                account = api_key.account
            params = _Params([*request.match_info.items(), *signed], state)
            data = route.action(_Call(state, dialect, params, account))
        except QuidaxError as error:
            return _error_response(dialect, error)
        return _response(dialect.post_status if request.method == "POST" else 200, dialect.envelope(data))

    return handle


def _dialect_app(state: _State, dialect: _Dialect, routes: tuple[_Route, ...]) -> web.Application:
    def respond(status: int, message: str) -> web.Response:
        return _error_response(dialect, QuidaxError(status, status, message))

    app = web.Application(middlewares=[fault_middleware(state.venue, respond)])
    for route in routes:
        app.router.add_route(route.method, route.path, _handler(state, dialect, route))
    return app


def create_app(venue: Venue) -> web.Application:
    """Quidax's v2 API under ``/api/v2`` and its v1 API under ``/api/v1``, on one engine."""
    state = _State(venue)
    app = web.Application()
    app.add_subapp("/api/v2", _dialect_app(state, _V2, _V2_ROUTES))
    app.add_subapp("/api/v1", _dialect_app(state, _V1, _V1_ROUTES))
    return app
