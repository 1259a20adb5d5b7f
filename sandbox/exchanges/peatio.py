"""Peatio (openware) user API 2.4 under ``/api/v2/peatio``, with Barong API-key authentication.

Written from ``specs/peatio.md``. Serves the Peatio 2.4 shapes the seed's samples match (deposit
address is the 2.4 ``{"currency", "address"}``). Decimals are strings except in k-line rows and
public trades (JSON numbers); ``created_at``/``updated_at`` are ISO-8601 (``+00:00``), ticker
``at``, depth ``timestamp`` and every time filter are seconds.

Auth: ``X-Auth-Signature`` = hex HMAC-SHA256(secret, nonce + api_key), nonce in ms, refused when
``|server_ms - nonce| >= 5000``; like Barong, used nonces are not remembered (only the window counts).
Rate limits are unpublished (gateway settings): the sandbox allows 10 req/s per API key on
private and 20 req/s per IP on public endpoints, answering 429 ``{"errors": ["too_many_requests"]}``.
Create answers the order as accepted (state ``pending``, nothing executed) although the engine has
matched it already; cancel is applied at once but answers the order as it was (state ``wait``).
Withdrawals accept only the OTP ``123456``; beneficiaries are activated with the pin ``000000``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec
from aiohttp import web

from sandbox.engine import (
    Engine,
    EngineError,
    EngineOrder,
    Fill,
    InsufficientBalance,
    MarketSpec,
    OrderNotFoundError,
    OrderRejected,
    TransferRecord,
)
from sandbox.stats import CURRENCY_NAMES, candles, ticker_stats
from sandbox.venue import ApiKey, Venue, fault_middleware

__all__ = [
    "MARKETS",
    "MIDS",
    "create_app",
    "expected_signature",
    "authenticate",
    "ApiError",
    "API_PREFIX",
    "NONCE_LIFETIME_MS",
    "PRIVATE_REQUESTS_PER_SECOND",
    "PUBLIC_REQUESTS_PER_SECOND",
    "SANDBOX_OTP",
    "SANDBOX_PIN",
]

API_PREFIX = "/api/v2/peatio"
PUBLIC_PREFIX = API_PREFIX + "/public/"
NONCE_LIFETIME_MS = 5000  # Barong's apikey_nonce_lifetime default
PRIVATE_REQUESTS_PER_SECOND = 10  # per API key; unpublished, sandbox choice
PUBLIC_REQUESTS_PER_SECOND = 20  # per IP; unpublished, sandbox choice
SANDBOX_OTP = "123456"  # the only 2FA code the sandbox accepts for withdrawals
SANDBOX_PIN = "000000"  # the pin that activates a beneficiary

MARKETS: tuple[MarketSpec, ...] = (
    MarketSpec(
        "ETH/USDT", "ETH", "USDT", price_precision=2, amount_precision=5, min_amount=Decimal("0.00001"),
        max_amount=Decimal("10000"), min_price=Decimal("0.01"), max_price=Decimal("100000"),
        maker_fee=Decimal("0.001"), taker_fee=Decimal("0.002"),
    ),
    MarketSpec(
        "BTC/USDT", "BTC", "USDT", price_precision=2, amount_precision=6, min_amount=Decimal("0.0001"),
        max_amount=Decimal("1000"), min_price=Decimal("0.01"), max_price=Decimal("1000000"),
        maker_fee=Decimal("0.001"), taker_fee=Decimal("0.002"),
    ),
    MarketSpec(
        "ETH/BTC", "ETH", "BTC", price_precision=6, amount_precision=4, min_amount=Decimal("0.001"),
        max_amount=Decimal("10000"), min_price=Decimal("0.000001"), max_price=Decimal("10"),
        maker_fee=Decimal("0.001"), taker_fee=Decimal("0.002"),
    ),
)
MIDS: dict[str, Decimal] = {
    "ETH/USDT": Decimal("3000.00"), "BTC/USDT": Decimal("60000.00"), "ETH/BTC": Decimal("0.050000"),
}


@dataclass(frozen=True, slots=True)
class _CurrencyInfo:
    """What Peatio publishes about a currency beyond its code; fee in that currency."""

    symbol: str
    precision: int
    withdraw_fee: Decimal
    min_confirmations: int
    explorer: str


_CURRENCY_INFO = {
    "BTC": _CurrencyInfo("฿", 8, Decimal("0.0005"), 6, "https://blockchair.com/bitcoin"),
    "ETH": _CurrencyInfo("Ξ", 8, Decimal("0.005"), 12, "https://etherscan.io"),
    "USDT": _CurrencyInfo("₮", 6, Decimal("2.0"), 12, "https://etherscan.io"),
}

_ZERO = Decimal(0)
_SIDES = ("buy", "sell")
_ORD_TYPES = ("limit", "market")
_ORDERINGS = ("asc", "desc")
_KLINE_PERIODS = (1, 5, 15, 30, 60, 120, 240, 360, 720, 1440, 4320, 10080)  # minutes
# engine status -> Peatio order state; "pending" only appears in the create answer
_ORDER_STATES = {"open": "wait", "filled": "done", "canceled": "cancel", "rejected": "reject"}
_DEPOSIT_STATES = {"pending": "submitted", "ok": "accepted", "canceled": "canceled", "failed": "rejected"}
_WITHDRAW_STATES = {"pending": "accepted", "ok": "succeed", "canceled": "canceled", "failed": "failed"}
_ALL_DEPOSIT_STATES = ("submitted", "canceled", "rejected", "accepted", "collected", "skipped")
_ALL_WITHDRAW_STATES = (
    "prepared", "submitted", "canceled", "accepted", "skipped", "to_reject", "rejected",
    "processing", "succeed", "failed", "errored", "confirming",
)
_UUID_PREFIX = "a5e1c0de-0000-4000-8000"  # order uuid = prefix + 12 hex digits of the order id
_DIGITS = re.compile(r"-?[0-9]+")

_NUMBER_ENCODER = msgspec.json.Encoder(decimal_format="number")
_TEXT_ENCODER = msgspec.json.Encoder()

T = TypeVar("T")


class ApiError(Exception):
    """A refusal answered as ``{"errors": [code]}`` with HTTP ``status``."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


# -- authentication -------------------------------------------------------------------------


def expected_signature(secret: str, nonce: str, api_key: str) -> str:
    """Barong's X-Auth-Signature: lower-case hex HMAC-SHA256 keyed by ``secret`` over ``nonce + api_key``."""
    return hmac.new(secret.encode(), (nonce + api_key).encode(), hashlib.sha256).hexdigest()


def authenticate(keys: Mapping[str, ApiKey], headers: Mapping[str, str], now_ms: int) -> ApiKey:
    """The API key a request's X-Auth headers prove; raises ApiError with Barong's authz code."""
    api_key = headers.get("X-Auth-Apikey", "").strip()
    nonce = headers.get("X-Auth-Nonce", "").strip()
    signature = headers.get("X-Auth-Signature", "").strip()
    if not (api_key and nonce and signature):
        raise ApiError(422, "authz.invalid_api_key_headers")
    if not nonce.isascii() or not nonce.isdigit() or int(nonce) == 0:
        raise ApiError(401, "authz.nonce_not_valid_timestamp")
    if abs(now_ms - int(nonce)) >= NONCE_LIFETIME_MS:
        raise ApiError(401, "authz.nonce_expired")
    known = keys.get(api_key)
    if known is None:
        raise ApiError(401, "authz.unexistent_apikey")
    if not hmac.compare_digest(expected_signature(known.secret, nonce, api_key), signature):
        raise ApiError(401, "authz.invalid_signature")
    return known


# -- app state ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Beneficiary:
    id: int
    account: str
    currency: str  # engine code, e.g. "BTC"
    name: str
    description: str
    data: dict[str, Any]
    state: str  # "pending" until activated with the pin, then "active"


@dataclass(slots=True)
class _Ledger:
    """What Peatio keeps that the engine does not: beneficiaries and withdrawal notes."""

    started_ms: int
    beneficiaries: dict[int, _Beneficiary] = field(default_factory=dict)
    withdraw_notes: dict[int, str | None] = field(default_factory=dict)
    next_beneficiary_id: int = 1


_VENUE = web.AppKey("venue", Venue)
_LEDGER = web.AppKey("ledger", _Ledger)
_ACCOUNT = web.RequestKey("account", str)


def _now_ms() -> int:
    return int(time.time() * 1000)


# -- wire formats ---------------------------------------------------------------------------


def _text(value: Decimal) -> str:
    """A decimal the way Peatio (Ruby BigDecimal) prints it: ``"31.0"``, ``"0.00001"``."""
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def _number(value: Decimal) -> Decimal:
    """A decimal to be emitted as a plain JSON number (``160.82``, ``5.0``)."""
    return Decimal(_text(value))


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).isoformat()


def _market_id(symbol: str) -> str:
    return symbol.replace("/", "").lower()


def _order_uuid(order_id: int) -> str:
    return f"{_UUID_PREFIX}-{order_id:012x}"


def _json(data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None,
          numbers: bool = False) -> web.Response:
    """A JSON answer; ``numbers`` emits Decimals as JSON numbers (else they must be pre-formatted)."""
    body = (_NUMBER_ENCODER if numbers else _TEXT_ENCODER).encode(data)
    return web.Response(body=body, status=status, headers=headers, content_type="application/json")


def _error(status: int, code: str) -> web.Response:
    return _json({"errors": [code]}, status=status)


def _fault_response(status: int, _message: str) -> web.Response:
    return _error(status, "too_many_requests" if status == 429 else "server.internal_error")


def _too_many_requests(retry_after: float) -> web.Response:
    response = _error(429, "too_many_requests")
    response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response


def _market_json(spec: MarketSpec) -> dict[str, Any]:
    return {
        "id": _market_id(spec.symbol), "name": f"{spec.base}/{spec.quote}",
        "base_unit": spec.base.lower(), "quote_unit": spec.quote.lower(),
        "min_price": _text(spec.min_price), "max_price": _text(spec.max_price),
        "min_amount": _text(spec.min_amount), "amount_precision": spec.amount_precision,
        "price_precision": spec.price_precision, "state": "enabled",
    }


def _currency_json(code: str, position: int) -> dict[str, Any]:
    info = _CURRENCY_INFO[code]
    return {
        "id": code.lower(), "name": CURRENCY_NAMES.get(code, code), "symbol": info.symbol,
        "explorer_transaction": info.explorer + "/tx/#{txid}",
        "explorer_address": info.explorer + "/address/#{address}",
        "type": "coin", "deposit_enabled": True, "withdrawal_enabled": True,
        "deposit_fee": "0.0", "min_deposit_amount": "0.0", "withdraw_fee": _text(info.withdraw_fee),
        "min_withdraw_amount": "0.0", "withdraw_limit_24h": "0.0", "withdraw_limit_72h": "0.0",
        "base_factor": 10**info.precision, "precision": info.precision, "position": position,
        "icon_url": None, "min_confirmations": info.min_confirmations,
    }


def _ticker_json(engine: Engine, spec: MarketSpec, now_ms: int) -> dict[str, Any]:
    stats = ticker_stats(engine, spec.symbol, now_ms)
    average = stats.volume_quote / stats.volume_base if stats.volume_base else _ZERO
    return {
        "at": str(now_ms // 1000),
        "ticker": {
            "low": _text(stats.low or _ZERO), "high": _text(stats.high or _ZERO),
            "open": _text(stats.open or _ZERO), "last": _text(stats.last or _ZERO),
            "volume": _text(stats.volume_quote), "amount": _text(stats.volume_base),
            "avg_price": _text(average), "price_change_percent": f"{stats.change * 100:+.2f}%",
            "vol": _text(stats.volume_quote),
        },
    }


def _order_json(order: EngineOrder, state: str | None = None) -> dict[str, Any]:
    """Peatio's Order entity; ``state`` overrides the one derived from the engine status."""
    return {
        "id": order.id, "uuid": _order_uuid(order.id), "side": order.side, "ord_type": order.type,
        "price": None if order.price is None else _text(order.price),
        "avg_price": _text(order.average or _ZERO), "state": state or _ORDER_STATES[order.status],
        "market": _market_id(order.symbol), "created_at": _iso(order.created_ms),
        "updated_at": _iso(order.updated_ms), "origin_volume": _text(order.amount),
        "remaining_volume": _text(order.remaining), "executed_volume": _text(order.filled),
        "trades_count": len(order.fills),
    }


def _trade_json(fill: Fill, spec: MarketSpec, as_taker: bool) -> dict[str, Any]:
    """A private trade seen from the taker's or the maker's order; fee in the currency received."""
    side = fill.taker_side if as_taker else ("sell" if fill.taker_side == "buy" else "buy")
    return {
        "id": fill.id, "price": _text(fill.price), "amount": _text(fill.amount),
        "total": _text(fill.price * fill.amount), "market": _market_id(fill.symbol),
        "created_at": _iso(fill.timestamp_ms), "taker_type": fill.taker_side, "side": side,
        "order_id": fill.taker_order_id if as_taker else fill.maker_order_id,
        "fee_currency": (spec.base if side == "buy" else spec.quote).lower(),
        "fee": _text(spec.taker_fee if as_taker else spec.maker_fee),
        "fee_amount": _text(fill.taker_fee if as_taker else fill.maker_fee),
    }


def _public_trade_json(fill: Fill) -> dict[str, Any]:
    return {
        "id": fill.id, "price": _number(fill.price), "amount": _number(fill.amount),
        "total": _number(fill.price * fill.amount), "market": _market_id(fill.symbol),
        "created_at": fill.timestamp_ms // 1000, "taker_type": fill.taker_side,
    }


def _tid(record: TransferRecord) -> str:
    return "TID" + hashlib.sha256(f"tid-{record.id}".encode()).hexdigest()[:10].upper()


def _deposit_json(record: TransferRecord) -> dict[str, Any]:
    accepted = record.status == "ok"
    return {
        "id": record.id, "currency": record.currency.lower(), "amount": _text(record.amount),
        "fee": _text(record.fee), "txid": record.txid,
        "confirmations": _CURRENCY_INFO[record.currency].min_confirmations if accepted else 0,
        "state": _DEPOSIT_STATES[record.status], "created_at": _iso(record.created_ms),
        "completed_at": _iso(record.updated_ms) if accepted else None, "tid": _tid(record),
    }


def _withdraw_json(record: TransferRecord, note: str | None) -> dict[str, Any]:
    sent = record.status == "ok"
    return {
        "id": record.id, "currency": record.currency.lower(), "type": "coin",
        "amount": _text(record.amount), "fee": _text(record.fee),
        "blockchain_txid": record.txid if sent else None, "rid": record.address,
        "state": _WITHDRAW_STATES[record.status],
        "confirmations": _CURRENCY_INFO[record.currency].min_confirmations if sent else 0,
        "note": note, "created_at": _iso(record.created_ms), "updated_at": _iso(record.updated_ms),
        "done_at": None if record.status == "pending" else _iso(record.updated_ms),
    }


def _transaction_json(record: TransferRecord, note: str | None) -> dict[str, Any]:
    deposit = record.kind == "deposit"
    return {
        "currency": record.currency.lower(), "address": record.address,
        "amount": _text(record.amount), "fee": _text(record.fee),
        "txid": record.txid if deposit or record.status == "ok" else None,
        "state": (_DEPOSIT_STATES if deposit else _WITHDRAW_STATES)[record.status],
        "note": None if deposit else note, "updated_at": _iso(record.updated_ms),
        "type": "deposit" if deposit else "withdraw",
    }


def _beneficiary_json(beneficiary: _Beneficiary) -> dict[str, Any]:
    return {
        "id": beneficiary.id, "currency": beneficiary.currency.lower(), "name": beneficiary.name,
        "description": beneficiary.description, "data": beneficiary.data, "state": beneficiary.state,
    }


# -- parameters -----------------------------------------------------------------------------


async def _params(request: web.Request) -> dict[str, Any]:
    """Query, form and JSON-body parameters merged as Grape sees them; ``name[]`` repeats are lists."""
    sources: list[Mapping[str, Any]] = [request.query]
    body: dict[str, Any] = {}
    if request.method != "GET" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                decoded = json.loads(await request.text(), parse_float=Decimal)
            except ValueError:
                raise ApiError(400, "server.method.invalid_message_body") from None
            if not isinstance(decoded, dict):
                raise ApiError(400, "server.method.invalid_message_body")
            body = decoded
        else:
            sources.append(await request.post())
    params: dict[str, Any] = {}
    for source in sources:
        for name in dict.fromkeys(source.keys()):
            values = source.getall(name)  # type: ignore[attr-defined]
            if name.endswith("[]"):
                params[name[:-2]] = list(values)
            else:
                params[name] = values[0] if len(values) == 1 else list(values)
    params.update(body)
    return params


def _string(params: Mapping[str, Any], name: str) -> str | None:
    """A single parameter as text; absent or blank is None."""
    value = params.get(name)
    if isinstance(value, list):
        value = value[-1] if value else None
    if value is None or isinstance(value, dict):
        return None
    text = str(value).strip()
    return text or None


def _required(params: Mapping[str, Any], name: str, scope: str) -> str:
    text = _string(params, name)
    if text is None:
        raise ApiError(422, f"{scope}.missing_{name}")
    return text


def _integer(params: Mapping[str, Any], name: str, scope: str, *,
             low: int | None = None, high: int | None = None) -> int | None:
    text = _string(params, name)
    if text is None:
        return None
    if not _DIGITS.fullmatch(text):
        raise ApiError(422, f"{scope}.non_integer_{name}")
    value = int(text)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ApiError(422, f"{scope}.invalid_{name}")
    return value


def _integer_or(params: Mapping[str, Any], name: str, scope: str, default: int, *,
                low: int | None = None, high: int | None = None) -> int:
    value = _integer(params, name, scope, low=low, high=high)
    return default if value is None else value


def _positive_decimal(params: Mapping[str, Any], name: str, scope: str) -> Decimal | None:
    text = _string(params, name)
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ApiError(422, f"{scope}.non_decimal_{name}") from None
    if not value.is_finite():
        raise ApiError(422, f"{scope}.non_decimal_{name}")
    if value <= 0:
        raise ApiError(422, f"{scope}.non_positive_{name}")
    return value


def _choice(params: Mapping[str, Any], name: str, scope: str, choices: Iterable[str],
            default: str | None = None) -> str | None:
    text = _string(params, name)
    if text is None:
        return default
    return _one_of(text, name, scope, choices)


def _one_of(text: str, name: str, scope: str, choices: Iterable[str]) -> str:
    if text not in choices:
        raise ApiError(422, f"{scope}.invalid_{name}")
    return text


def _boolean(params: Mapping[str, Any], name: str, scope: str) -> bool:
    text = _string(params, name)
    if text is None:
        return False
    if text.lower() not in ("true", "false", "1", "0"):
        raise ApiError(422, f"{scope}.non_boolean_{name}")
    return text.lower() in ("true", "1")


def _time_window(params: Mapping[str, Any], scope: str) -> Callable[[int], bool]:
    """A test of an epoch-ms time against ``time_from``/``time_to`` (seconds, inclusive)."""
    time_from = _integer(params, "time_from", scope, low=0)
    time_to = _integer(params, "time_to", scope, low=0)

    def within(ms: int) -> bool:
        return (time_from is None or ms >= time_from * 1000) and (time_to is None or ms < (time_to + 1) * 1000)

    return within


def _contains(params: Mapping[str, Any], name: str, value: str) -> bool:
    """Ransack-style ``search[...]`` filter: case-insensitive substring; absent matches all."""
    wanted = _string(params, name)
    return wanted is None or wanted.lower() in value.lower()


def _page(items: Sequence[T], params: Mapping[str, Any], scope: str, render: Callable[[T], Any], *,
          default_limit: int = 100, min_limit: int = 1, max_limit: int = 1000) -> web.Response:
    """One page of ``items`` with Peatio's ``Total``/``Per-Page``/``Page`` headers."""
    limit = _integer_or(params, "limit", scope, default_limit, low=min_limit, high=max_limit)
    page = _integer_or(params, "page", scope, 1, low=1)
    start = (page - 1) * limit
    headers = {"Total": str(len(items)), "Per-Page": str(limit), "Page": str(page)}
    return _json([render(item) for item in items[start:start + limit]], headers=headers)


def _sorted_by_time(items: list[T], key: Callable[[T], tuple[int, int]], params: Mapping[str, Any],
                    scope: str) -> list[T]:
    """``items`` by ``key`` in the ``order_by`` direction (asc/desc, newest first by default)."""
    order_by = _choice(params, "order_by", scope, _ORDERINGS, default="desc")
    return sorted(items, key=key, reverse=order_by == "desc")


# -- lookups --------------------------------------------------------------------------------


def _venue(request: web.Request) -> Venue:
    return request.app[_VENUE]


def _find_market(venue: Venue, market_id: str, scope: str) -> MarketSpec:
    for spec in venue.markets().values():
        if _market_id(spec.symbol) == market_id:
            return spec
    raise ApiError(422, f"{scope}.market.doesnt_exist")


def _path_market(request: web.Request) -> MarketSpec:
    return _find_market(_venue(request), request.match_info["market"], "public")


def _optional_market(venue: Venue, params: Mapping[str, Any], scope: str) -> MarketSpec | None:
    market_id = _string(params, "market")
    return None if market_id is None else _find_market(venue, market_id, scope)


def _currencies(venue: Venue) -> list[str]:
    """Engine codes of every currency traded, in market order."""
    return list(dict.fromkeys(c for spec in venue.markets().values() for c in (spec.base, spec.quote)))


def _currency_code(venue: Venue, currency_id: str) -> str | None:
    code = currency_id.upper()
    return code if code in _currencies(venue) else None


def _path_currency(request: web.Request, name: str = "currency") -> str:
    code = _currency_code(_venue(request), request.match_info[name])
    if code is None:
        raise ApiError(404, "record.not_found")
    return code


def _param_currency(venue: Venue, params: Mapping[str, Any], scope: str, *, required: bool = False) -> str | None:
    currency_id = _required(params, "currency", scope) if required else _string(params, "currency")
    if currency_id is None:
        return None
    code = _currency_code(venue, currency_id)
    if code is None:
        raise ApiError(422, "account.currency.doesnt_exist")
    return code


def _order_id(raw: str) -> int:
    """A numeric order id or one of our order UUIDs; anything else is 422 (Peatio's spelling)."""
    if raw.isascii() and raw.isdigit():
        return int(raw)
    try:
        parsed = str(uuid.UUID(raw))
    except ValueError:
        raise ApiError(422, "market.order.invaild_id_or_uuid") from None
    if not parsed.startswith(_UUID_PREFIX + "-"):
        raise ApiError(404, "record.not_found")
    return int(parsed[len(_UUID_PREFIX) + 1:], 16)


def _own_order(request: web.Request) -> EngineOrder:
    try:
        return _venue(request).engine.order(request[_ACCOUNT], _order_id(request.match_info["id"]))
    except OrderNotFoundError:
        raise ApiError(404, "record.not_found") from None


def _own_beneficiary(request: web.Request) -> _Beneficiary:
    beneficiary_id = _integer_or(request.match_info, "id", "account.beneficiary", 0)
    beneficiary = request.app[_LEDGER].beneficiaries.get(beneficiary_id)
    if beneficiary is None or beneficiary.account != request[_ACCOUNT]:
        raise ApiError(404, "record.not_found")
    return beneficiary


# -- middlewares ----------------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _answer_api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """ApiError and routing failures as Peatio error bodies."""
    try:
        return await handler(request)
    except ApiError as error:
        return _error(error.status, error.code)
    except web.HTTPNotFound:
        return _error(404, "record.not_found")
    except web.HTTPMethodNotAllowed:
        return _error(405, "server.method_not_allowed")


def _gate(venue: Venue) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Rate limits per IP (public) and per API key (private, after Barong authentication)."""
    public = venue.window("public", PUBLIC_REQUESTS_PER_SECOND, 1.0)
    private = venue.window("private", PRIVATE_REQUESTS_PER_SECOND, 1.0)

    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(PUBLIC_PREFIX):
            wait = public.hit(request.remote or "unknown")
        elif request.path.startswith(API_PREFIX + "/"):
            api_key = authenticate(venue.keys, request.headers, _now_ms())
            request[_ACCOUNT] = api_key.account
            wait = private.hit(api_key.key)
        else:
            wait = None
        if wait is not None:
            return _too_many_requests(wait)
        return await handler(request)

    return gate


# -- public handlers ------------------------------------------------------------------------


async def list_markets(request: web.Request) -> web.Response:
    params = await _params(request)
    scope = "public.market"
    ordering = _choice(params, "ordering", scope, _ORDERINGS, default="asc")
    order_by = _choice(params, "order_by", scope, ("id", "position"), default="position")
    specs = [
        spec for spec in _venue(request).markets().values()
        if _string(params, "base_unit") in (None, spec.base.lower())
        and _string(params, "quote_unit") in (None, spec.quote.lower())
        and _contains(params, "search[base_code]", spec.base)
        and _contains(params, "search[quote_code]", spec.quote)
        and _contains(params, "search[base_name]", CURRENCY_NAMES.get(spec.base, spec.base))
        and _contains(params, "search[quote_name]", CURRENCY_NAMES.get(spec.quote, spec.quote))
    ]
    if order_by == "id":
        specs.sort(key=lambda spec: _market_id(spec.symbol))
    if ordering == "desc":
        specs.reverse()
    return _page(specs, params, scope, _market_json)


async def list_currencies(request: web.Request) -> web.Response:
    params = await _params(request)
    scope = "public.currency"
    kind = _choice(params, "type", scope, ("coin", "fiat"))
    codes = list(enumerate(_currencies(_venue(request)), start=1)) if kind in (None, "coin") else []
    return _page(codes, params, scope, lambda item: _currency_json(item[1], item[0]))


async def get_currency(request: web.Request) -> web.Response:
    code = _path_currency(request, "id")
    return _json(_currency_json(code, _currencies(_venue(request)).index(code) + 1))


async def all_tickers(request: web.Request) -> web.Response:
    venue, now_ms = _venue(request), _now_ms()
    return _json({_market_id(s.symbol): _ticker_json(venue.engine, s, now_ms) for s in venue.markets().values()})


async def market_ticker(request: web.Request) -> web.Response:
    return _json(_ticker_json(_venue(request).engine, _path_market(request), _now_ms()))


async def order_book(request: web.Request) -> web.Response:
    spec = _path_market(request)
    params = await _params(request)
    asks_limit = _integer_or(params, "asks_limit", "public.order_book", 20, low=1, high=200)
    bids_limit = _integer_or(params, "bids_limit", "public.order_book", 20, low=1, high=200)
    bids, asks = _venue(request).engine.book(spec.symbol)
    return _json({
        "asks": [_order_json(order) for order in asks[:asks_limit]],
        "bids": [_order_json(order) for order in bids[:bids_limit]],
    })


async def depth(request: web.Request) -> web.Response:
    spec = _path_market(request)
    params = await _params(request)
    limit = _integer_or(params, "limit", "public.market_depth", 300, low=1, high=1000)
    bids, asks = _venue(request).engine.levels(spec.symbol)
    return _json({
        "timestamp": _now_ms() // 1000,
        "asks": [[_text(price), _text(volume)] for price, volume in asks[:limit]],
        "bids": [[_text(price), _text(volume)] for price, volume in bids[:limit]],
    })


async def public_trades(request: web.Request) -> web.Response:
    spec = _path_market(request)
    params = await _params(request)
    scope = "public.trade"
    limit = _integer_or(params, "limit", scope, 100, low=1, high=1000)
    before = _integer(params, "timestamp", scope, low=0)
    fills = [
        f for f in _venue(request).engine.fills(None, spec.symbol)
        if before is None or f.timestamp_ms < (before + 1) * 1000
    ]
    fills = _sorted_by_time(fills, lambda f: (f.timestamp_ms, f.id), params, scope)[:limit]
    return _json([_public_trade_json(f) for f in fills], numbers=True)


async def k_line(request: web.Request) -> web.Response:
    spec = _path_market(request)
    params = await _params(request)
    scope = "public.k_line"
    period = _integer_or(params, "period", scope, 1)
    if period not in _KLINE_PERIODS:
        raise ApiError(422, f"{scope}.invalid_period")
    limit = _integer_or(params, "limit", scope, 30, low=1, high=10000)
    time_from = _integer(params, "time_from", scope, low=0)
    time_to = _integer(params, "time_to", scope, low=0)
    bars = [
        bar for bar in candles(_venue(request).engine, spec.symbol, period * 60_000)
        if (time_from is None or bar.open_ms >= time_from * 1000)
        and (time_to is None or bar.open_ms <= time_to * 1000)
    ]
    if time_from is None or time_to is None:
        bars = bars[:limit] if time_from is not None else bars[-limit:]
    rows = [
        [bar.open_ms // 1000, _number(bar.open), _number(bar.high), _number(bar.low),
         _number(bar.close), _number(bar.volume)]
        for bar in bars
    ]
    return _json(rows, numbers=True)


async def timestamp(request: web.Request) -> web.Response:
    return _json(_iso(_now_ms()))


async def trading_fees(request: web.Request) -> web.Response:
    params = await _params(request)
    started = _iso(request.app[_LEDGER].started_ms)
    rows = [
        {"id": position, "group": "any", "market_id": _market_id(spec.symbol),
         "maker": _text(spec.maker_fee), "taker": _text(spec.taker_fee),
         "created_at": started, "updated_at": started}
        for position, spec in enumerate(_venue(request).markets().values(), start=1)
    ]
    rows = [
        row for row in rows
        if _string(params, "group") in (None, row["group"])
        and _string(params, "market_id") in (None, row["market_id"])
    ]
    return _page(rows, params, "public.trading_fee", lambda row: row)


# -- account handlers -----------------------------------------------------------------------


def _balance_json(venue: Venue, account: str, code: str) -> dict[str, Any]:
    balance = venue.balances(account).get(code)
    available, locked = (balance.available, balance.locked) if balance else (_ZERO, _ZERO)
    return {"currency": code.lower(), "balance": _text(available), "locked": _text(locked)}


async def list_balances(request: web.Request) -> web.Response:
    venue, account = _venue(request), request[_ACCOUNT]
    params = await _params(request)
    scope = "account.balances"
    nonzero = _boolean(params, "nonzero", scope)
    balances = venue.balances(account)

    def held(code: str) -> bool:
        balance = balances.get(code)
        return balance is not None and bool(balance.available or balance.locked)

    codes = [
        code for code in _currencies(venue)
        if _contains(params, "search[currency_code]", code)
        and _contains(params, "search[currency_name]", CURRENCY_NAMES.get(code, code))
        and (not nonzero or held(code))
    ]
    return _page(codes, params, scope, lambda code: _balance_json(venue, account, code))


async def get_balance(request: web.Request) -> web.Response:
    return _json(_balance_json(_venue(request), request[_ACCOUNT], _path_currency(request)))


async def list_deposits(request: web.Request) -> web.Response:
    venue = _venue(request)
    params = await _params(request)
    scope = "account.deposit"
    code = _param_currency(venue, params, scope)
    state = _choice(params, "state", scope, _ALL_DEPOSIT_STATES)
    txid = _string(params, "txid")
    records = [
        r for r in venue.engine.transfers(request[_ACCOUNT], "deposit")
        if code in (None, r.currency) and state in (None, _DEPOSIT_STATES[r.status]) and txid in (None, r.txid)
    ]
    return _page(records, params, scope, _deposit_json, max_limit=100)


async def get_deposit(request: web.Request) -> web.Response:
    txid = request.match_info["txid"]
    for record in _venue(request).engine.transfers(request[_ACCOUNT], "deposit"):
        if record.txid == txid:
            return _json(_deposit_json(record))
    raise ApiError(404, "record.not_found")


async def deposit_address(request: web.Request) -> web.Response:
    code = _path_currency(request)
    address = _venue(request).engine.deposit_address(request[_ACCOUNT], code)
    return _json({"currency": code.lower(), "address": address})


async def list_withdraws(request: web.Request) -> web.Response:
    venue, notes = _venue(request), request.app[_LEDGER].withdraw_notes
    params = await _params(request)
    scope = "account.withdraw"
    code = _param_currency(venue, params, scope)
    state = _choice(params, "state", scope, _ALL_WITHDRAW_STATES)
    rid = _string(params, "rid")
    records = [
        r for r in venue.engine.transfers(request[_ACCOUNT], "withdrawal")
        if code in (None, r.currency) and state in (None, _WITHDRAW_STATES[r.status]) and rid in (None, r.address)
    ]
    return _page(records, params, scope, lambda r: _withdraw_json(r, notes.get(r.id)), max_limit=100)


async def create_withdraw(request: web.Request) -> web.Response:
    venue, ledger, account = _venue(request), request.app[_LEDGER], request[_ACCOUNT]
    params = await _params(request)
    scope = "account.withdraw"
    otp = _required(params, "otp", scope)
    if not _DIGITS.fullmatch(otp):
        raise ApiError(422, f"{scope}.non_integer_otp")
    beneficiary_id = _integer(params, "beneficiary_id", scope)
    if beneficiary_id is None:
        raise ApiError(422, f"{scope}.missing_beneficiary_id")
    code = _param_currency(venue, params, scope, required=True)
    amount = _positive_decimal(params, "amount", scope)
    if amount is None:
        raise ApiError(422, f"{scope}.missing_amount")
    if otp != SANDBOX_OTP:
        raise ApiError(422, f"{scope}.invalid_otp")
    beneficiary = ledger.beneficiaries.get(beneficiary_id)
    if beneficiary is None or beneficiary.account != account or beneficiary.currency != code:
        raise ApiError(422, "account.beneficiary.doesnt_exist")
    if beneficiary.state != "active":
        raise ApiError(422, "account.beneficiary.invalid_state_for_withdrawal")
    assert code is not None
    try:
        record = venue.engine.withdraw(
            account, code, amount, beneficiary.data["address"], fee=_CURRENCY_INFO[code].withdraw_fee
        )
    except InsufficientBalance:
        raise ApiError(422, f"{scope}.insufficient_balance") from None
    note = _string(params, "note")
    ledger.withdraw_notes[record.id] = note
    return _json(_withdraw_json(record, note), status=201)


async def list_beneficiaries(request: web.Request) -> web.Response:
    params = await _params(request)
    code = _param_currency(_venue(request), params, "account.beneficiary")
    return _json([
        _beneficiary_json(b) for b in request.app[_LEDGER].beneficiaries.values()
        if b.account == request[_ACCOUNT] and code in (None, b.currency)
    ])


async def create_beneficiary(request: web.Request) -> web.Response:
    ledger = request.app[_LEDGER]
    params = await _params(request)
    scope = "account.beneficiary"
    code = _param_currency(_venue(request), params, scope, required=True)
    name = _required(params, "name", scope)
    data = params.get("data")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            raise ApiError(422, f"{scope}.non_json_data") from None
    if data is None:
        raise ApiError(422, f"{scope}.missing_data")
    if not isinstance(data, dict):
        raise ApiError(422, f"{scope}.non_json_data")
    if not isinstance(data.get("address"), str) or not data["address"]:
        raise ApiError(422, f"{scope}.missing_address_in_data")
    assert code is not None
    beneficiary = _Beneficiary(
        ledger.next_beneficiary_id, request[_ACCOUNT], code, name,
        _string(params, "description") or "", data, "pending",
    )
    ledger.beneficiaries[beneficiary.id] = beneficiary
    ledger.next_beneficiary_id += 1
    return _json(_beneficiary_json(beneficiary), status=201)


async def get_beneficiary(request: web.Request) -> web.Response:
    return _json(_beneficiary_json(_own_beneficiary(request)))


async def delete_beneficiary(request: web.Request) -> web.Response:
    beneficiary = _own_beneficiary(request)
    del request.app[_LEDGER].beneficiaries[beneficiary.id]
    return web.Response(status=204)


async def activate_beneficiary(request: web.Request) -> web.Response:
    beneficiary = _own_beneficiary(request)
    params = await _params(request)
    pin = _required(params, "pin", "account.beneficiary")
    if beneficiary.state == "active":
        raise ApiError(422, "account.beneficiary.cant_activate")
    if pin != SANDBOX_PIN:
        raise ApiError(422, "account.beneficiary.invalid_pin")
    beneficiary.state = "active"
    return _json(_beneficiary_json(beneficiary))


async def list_transactions(request: web.Request) -> web.Response:
    venue, notes = _venue(request), request.app[_LEDGER].withdraw_notes
    params = await _params(request)
    scope = "account.transactions"
    code = _param_currency(venue, params, scope)
    deposit_state = _choice(params, "deposit_state", scope, _ALL_DEPOSIT_STATES)
    withdraw_state = _choice(params, "withdraw_state", scope, _ALL_WITHDRAW_STATES)
    txid = _string(params, "txid")
    within = _time_window(params, scope)
    records = [
        r for r in venue.engine.transfers(request[_ACCOUNT])
        if code in (None, r.currency) and txid in (None, r.txid) and within(r.updated_ms)
        and (deposit_state in (None, _DEPOSIT_STATES[r.status]) if r.kind == "deposit"
             else withdraw_state in (None, _WITHDRAW_STATES[r.status]))
    ]
    records = _sorted_by_time(records, lambda r: (r.updated_ms, r.id), params, scope)
    return _page(records, params, scope, lambda r: _transaction_json(r, notes.get(r.id)))


# -- market handlers ------------------------------------------------------------------------


def _order_states(params: Mapping[str, Any]) -> set[str] | None:
    """Peatio states asked for by ``state`` or ``state[]`` (one or many), None for all."""
    raw = params.get("state")
    if raw is None or raw == "" or raw == []:
        return None
    states = {str(s) for s in (raw if isinstance(raw, list) else [raw])}
    if not states <= {"pending", *_ORDER_STATES.values()}:
        raise ApiError(422, "market.order.invalid_state")
    return states


async def list_orders(request: web.Request) -> web.Response:
    venue = _venue(request)
    params = await _params(request)
    scope = "market.order"
    spec = _optional_market(venue, params, "market")
    base_unit, quote_unit = _string(params, "base_unit"), _string(params, "quote_unit")
    states = _order_states(params)
    ord_type = _choice(params, "ord_type", scope, _ORD_TYPES)
    side = _choice(params, "type", scope, _SIDES)
    within = _time_window(params, scope)
    orders = [
        o for o in venue.engine.orders(request[_ACCOUNT], spec.symbol if spec else None)
        if base_unit in (None, o.symbol.split("/")[0].lower())
        and quote_unit in (None, o.symbol.split("/")[1].lower())
        and (states is None or _ORDER_STATES[o.status] in states)
        and ord_type in (None, o.type) and side in (None, o.side) and within(o.created_ms)
    ]
    orders = _sorted_by_time(orders, lambda o: (o.updated_ms, o.id), params, scope)
    return _page(orders, params, scope, _order_json, min_limit=0)


async def get_order(request: web.Request) -> web.Response:
    order = _own_order(request)
    spec = _venue(request).markets()[order.symbol]
    trades = [_trade_json(fill, spec, fill.taker_order_id == order.id) for fill in order.fills]
    return _json({**_order_json(order), "trades": trades})


def _check_market_order(engine: Engine, account: str, spec: MarketSpec, side: str, volume: Decimal) -> None:
    """Peatio prices a market order against the book before accepting it: the opposite side must
    hold ``volume`` and a buy must afford its estimated cost (quote)."""
    bids, asks = engine.levels(spec.symbol)
    remaining, cost = volume, _ZERO
    for price, size in asks if side == "buy" else bids:
        taken = min(remaining, size)
        remaining -= taken
        cost += taken * price
        if not remaining:
            break
    if remaining:
        raise ApiError(422, "market.order.insufficient_market_liquidity")
    quote = engine.balances(account).get(spec.quote)
    if side == "buy" and (quote is None or quote.available < cost):
        raise ApiError(422, "market.account.insufficient_balance")


async def create_order(request: web.Request) -> web.Response:
    venue, account = _venue(request), request[_ACCOUNT]
    params = await _params(request)
    scope = "market.order"
    spec = _find_market(venue, _required(params, "market", scope), "market")
    side = _one_of(_required(params, "side", scope), "side", scope, _SIDES)
    volume = _positive_decimal(params, "volume", scope)
    if volume is None:
        raise ApiError(422, f"{scope}.missing_volume")
    ord_type = _choice(params, "ord_type", scope, _ORD_TYPES, default="limit")
    price = _positive_decimal(params, "price", scope)
    if ord_type == "market" and price is not None:
        raise ApiError(422, f"{scope}.market_order_price")
    if ord_type == "limit" and price is None:
        raise ApiError(422, f"{scope}.missing_price")
    if ord_type == "market":
        _check_market_order(venue.engine, account, spec, side, volume)
    try:
        event = venue.engine.place_order(
            account, spec.symbol, side, volume, price, type=ord_type  # type: ignore[arg-type]
        )
    except InsufficientBalance:
        raise ApiError(422, "market.account.insufficient_balance") from None
    except OrderRejected:
        raise ApiError(422, f"{scope}.invalid_volume_or_price") from None
    except EngineError:
        raise ApiError(422, f"{scope}.create_error") from None
    placed = event.order
    accepted = replace(placed, remaining=placed.amount, filled=_ZERO, cost=_ZERO, fills=[],
                       updated_ms=placed.created_ms)
    return _json(_order_json(accepted, state="pending"), status=201)


async def cancel_order(request: web.Request) -> web.Response:
    order = _own_order(request)
    if order.status != "open":
        raise ApiError(422, "market.order.cancel_error")
    as_it_was = _order_json(order)
    _venue(request).engine.cancel_order(request[_ACCOUNT], order.id)
    return _json(as_it_was, status=201)


async def cancel_all_orders(request: web.Request) -> web.Response:
    venue, account = _venue(request), request[_ACCOUNT]
    params = await _params(request)
    spec = _optional_market(venue, params, "market")
    side = _choice(params, "side", "market.order", _SIDES)
    symbol = spec.symbol if spec else None
    as_they_were = [
        _order_json(o) for o in venue.engine.orders(account, symbol, open_only=True) if side in (None, o.side)
    ]
    venue.engine.cancel_all(account, symbol, side)
    return _json(as_they_were, status=201)


async def my_trades(request: web.Request) -> web.Response:
    venue, account = _venue(request), request[_ACCOUNT]
    params = await _params(request)
    scope = "market.trade"
    spec = _optional_market(venue, params, "market")
    within = _time_window(params, scope)
    fills = [f for f in venue.engine.fills(account, spec.symbol if spec else None) if within(f.timestamp_ms)]
    fills = _sorted_by_time(fills, lambda f: (f.timestamp_ms, f.id), params, scope)
    specs = venue.markets()
    return _page(fills, params, scope, lambda f: _trade_json(f, specs[f.symbol], f.taker_account == account))


# -- app ------------------------------------------------------------------------------------


def create_app(venue: Venue) -> web.Application:
    """The Peatio REST app for ``venue``: every endpoint of the spec's table under ``/api/v2/peatio``."""
    app = web.Application(middlewares=[fault_middleware(venue, _fault_response), _answer_api_errors, _gate(venue)])
    app[_VENUE] = venue
    app[_LEDGER] = _Ledger(started_ms=_now_ms())
    p = API_PREFIX
    app.router.add_routes([
        web.get(p + "/public/markets", list_markets),
        web.get(p + "/public/markets/tickers", all_tickers),
        web.get(p + "/public/markets/{market}/tickers", market_ticker),
        web.get(p + "/public/markets/{market}/order-book", order_book),
        web.get(p + "/public/markets/{market}/depth", depth),
        web.get(p + "/public/markets/{market}/trades", public_trades),
        web.get(p + "/public/markets/{market}/k-line", k_line),
        web.get(p + "/public/currencies", list_currencies),
        web.get(p + "/public/currencies/{id}", get_currency),
        web.get(p + "/public/timestamp", timestamp),
        web.get(p + "/public/trading_fees", trading_fees),
        web.get(p + "/account/balances", list_balances),
        web.get(p + "/account/balances/{currency}", get_balance),
        web.get(p + "/account/deposits", list_deposits),
        web.get(p + "/account/deposits/{txid}", get_deposit),
        web.get(p + "/account/deposit_address/{currency}", deposit_address),
        web.get(p + "/account/withdraws", list_withdraws),
        web.post(p + "/account/withdraws", create_withdraw),
        web.get(p + "/account/beneficiaries", list_beneficiaries),
        web.post(p + "/account/beneficiaries", create_beneficiary),
        web.get(p + "/account/beneficiaries/{id}", get_beneficiary),
        web.delete(p + "/account/beneficiaries/{id}", delete_beneficiary),
        web.patch(p + "/account/beneficiaries/{id}/activate", activate_beneficiary),
        web.get(p + "/account/transactions", list_transactions),
        web.get(p + "/market/orders", list_orders),
        web.post(p + "/market/orders", create_order),
        web.post(p + "/market/orders/cancel", cancel_all_orders),
        web.get(p + "/market/orders/{id}", get_order),
        web.post(p + "/market/orders/{id}/cancel", cancel_order),
        web.get(p + "/market/trades", my_trades),
    ])
    return app
