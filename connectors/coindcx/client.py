"""CoinDCX connector (``https://api.coindcx.com``, market data on ``https://public.coindcx.com``;
specs/coindcx.md).

Choices where the spec leaves a question open:
- Every private call is a POST whose compact JSON body carries ``timestamp`` (integer epoch
  ms from the key's strictly increasing NonceManager); the body is serialized once and the
  signed bytes are the bytes sent. Decimals travel as plain JSON numbers (as in vector C2).
  Strictly increasing timestamps also keep two identical calls in one ms from repeating a
  signature, which the exchange may take for a replay.
- CoinDCX has no server-time endpoint, so timestamps cannot be corrected for clock skew:
  they are this machine's clock, and the server's (unpublished) window must cover its
  error. A refused timestamp answers 401 "Invalid credentials" like a bad key, so it maps
  to AuthenticationError, not InvalidNonce.
- Markets come from ``markets_details``: ``Market.id`` is the order symbol (``BTCINR``); the
  ``/market_data`` pair (``I-BTC_INR``) and the allowed order types are kept beside it.
  Currencies are derived from the same list (there is no currency endpoint).
- Rate limits: a documented limit of N calls per T seconds becomes a pool that admits at
  most N - 1 calls in any sliding T window (GCRA lets burst + rate*T - 1 through, so
  rate = N - burst). Public paths publish no limit and keep to the general 16/s per IP.
  Every private endpoint takes from the general per-key pools (16/s, 960/min) and, where
  the docs give one, its own per-60-s pool.
- Ticker ``volume`` is the 24 h quote turnover (ccxt; uncertain), not the model's base
  volume, so ``Ticker.volume`` is None. Public trades have no id: it is ``<T>-<price>-<amount>``.
- Open orders are listed per market. ``fetch_open_orders()`` and ``cancel_all_orders()``
  without a symbol find the markets that hold open orders from the currencies with a
  locked balance, narrowed by ``active_orders_count``, then list or cancel (natively,
  ``orders/cancel_all``) market by market. CoinDCX does not say which orders it canceled,
  so ``cancel_all_orders`` returns [].
- ``fetch_orders`` is emulated (there is no order history): the open orders plus, through
  ``status_multiple``, the last 500 orders this connector placed and the orders of the
  last 500 own trades. An order placed elsewhere and canceled unfilled is not found.
- ``fetch_my_trades`` asks for ``sort=desc`` so that ``limit`` keeps the newest trades, and
  returns them oldest first.
- ``request()`` sends a declared endpoint's path with that endpoint's pools and retry rule.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import msgspec

from connectors.coindcx import schemas as s
from connectors.coindcx.auth import Signer
from core.connector import Connector, Endpoint, Pool, to_decimal
from core.credentials import Credentials
from core.errors import (
    AuthenticationError,
    BadRequest,
    BadResponse,
    BadSymbol,
    ExchangeUnavailable,
    ExconnError,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    PermissionDenied,
    RateLimited,
)
from core.models import Balance, Candle, Currency, Market, Order, OrderBook, Ticker, Trade
from core.timestamps import now_ms
from core.transport import Prepared, Response

__all__ = ["CoinDCX"]

_GENERAL_POOLS = ("private", "private_minute")
# paths whose 400/422 refusals concern the order being placed, changed or canceled
_ORDER_CHANGES = ("/orders/create", "/orders/create_multiple", "/orders/edit", "/orders/cancel")
_REMEMBERED_ORDERS = 500
_WIRE_TYPES = {"limit": "limit_order", "market": "market_order"}


def _private(path: str, pool: str | None = None, *, idempotent: bool | None = None) -> Endpoint:
    """A signed POST taking from the general per-key pools and, if named, its own."""
    pools = _GENERAL_POOLS if pool is None else (*_GENERAL_POOLS, pool)
    return Endpoint("POST", path, auth=True, pools=pools, idempotent=idempotent)


class CoinDCX(Connector):
    """CoinDCX spot: limit and market orders, price edits, per-market cancel-all; no
    deposits, withdrawals or server time through the API."""

    id = "coindcx"
    name = "CoinDCX"
    urls = MappingProxyType({"api": "https://api.coindcx.com", "public": "https://public.coindcx.com"})
    endpoints = MappingProxyType({
        "tickers": Endpoint("GET", "/exchange/ticker"),
        "markets": Endpoint("GET", "/exchange/v1/markets"),
        "markets_details": Endpoint("GET", "/exchange/v1/markets_details"),
        "trades": Endpoint("GET", "/market_data/trade_history", host="public"),
        "orderbook": Endpoint("GET", "/market_data/orderbook", host="public"),
        "candles": Endpoint("GET", "/market_data/candles", host="public"),
        "balances": _private("/exchange/v1/users/balances", idempotent=True),
        "balances_seed": _private("/exchange/users/balances", idempotent=True),
        "user_info": _private("/exchange/v1/users/info", idempotent=True),
        "create_order": _private("/exchange/v1/orders/create", "create_order"),
        "create_order_seed": _private("/exchange/orders/create", "create_order"),
        "create_multiple": _private("/exchange/v1/orders/create_multiple", "create_multiple"),
        "order_status": _private("/exchange/v1/orders/status", "order_status", idempotent=True),
        "status_multiple": _private("/exchange/v1/orders/status_multiple", "status_multiple", idempotent=True),
        "active_orders": _private("/exchange/v1/orders/active_orders", "active_orders", idempotent=True),
        "active_orders_count": _private("/exchange/v1/orders/active_orders_count", idempotent=True),
        "my_trades": _private("/exchange/v1/orders/trade_history", idempotent=True),
        "cancel_order": _private("/exchange/v1/orders/cancel", "cancel_order"),
        "cancel_by_ids": _private("/exchange/v1/orders/cancel_by_ids", "cancel_by_ids"),
        "cancel_all": _private("/exchange/v1/orders/cancel_all", "cancel_all", idempotent=True),
        "edit_order": _private("/exchange/v1/orders/edit", "edit_order"),
    })
    rate_limits = MappingProxyType({
        "public": Pool.window(16, 1.0, burst=4),
        "private": Pool.window(16, 1.0, burst=4, per_key=True),
        "private_minute": Pool.window(960, 60.0, burst=16, per_key=True),
        "create_order": Pool.window(2000, 60.0, burst=16, per_key=True, endpoint_only=True),
        "create_multiple": Pool.window(2000, 60.0, burst=16, per_key=True, endpoint_only=True),
        "order_status": Pool.window(2000, 60.0, burst=16, per_key=True, endpoint_only=True),
        "status_multiple": Pool.window(2000, 60.0, burst=16, per_key=True, endpoint_only=True),
        "cancel_order": Pool.window(2000, 60.0, burst=16, per_key=True, endpoint_only=True),
        "edit_order": Pool.window(2000, 60.0, burst=16, per_key=True, endpoint_only=True),
        "active_orders": Pool.window(300, 60.0, burst=20, per_key=True, endpoint_only=True),
        "cancel_by_ids": Pool.window(300, 60.0, burst=20, per_key=True, endpoint_only=True),
        "cancel_all": Pool.window(30, 60.0, burst=5, per_key=True, endpoint_only=True),
    })
    not_supported = MappingProxyType({
        "fetch_server_time": "CoinDCX has no server-time endpoint (timestamps cannot be corrected for clock skew)",
        "fetch_deposits": "CoinDCX's API offers no deposit history",
        "fetch_withdrawals": "CoinDCX's API offers no withdrawal history",
        "fetch_deposit_address": "CoinDCX's API offers no deposit addresses",
        "withdraw": "CoinDCX's API offers no withdrawals (only spot/futures and sub-account transfers)",
    })
    emulated = MappingProxyType({
        "fetch_currencies": "derived from markets_details (target and base currencies)",
        "fetch_open_orders": "without a symbol: lists each market holding open orders (found from locked "
                             "balances and active_orders_count)",
        "cancel_all_orders": "without a symbol: cancels all in each market holding open orders (found from "
                             "locked balances and active_orders_count)",
        "fetch_orders": "open orders plus status_multiple of the orders this connector placed and of recent "
                        "own trades",
    })
    timeframes = MappingProxyType({
        tf: tf for tf in ("1m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "1d", "3d", "1w", "1M")
    })

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._signer = None if self._credentials is None else Signer(self._credentials.key, self._credentials.secret)
        self._details: dict[str, s.MarketDetailsRaw] = {}  # by unified symbol
        self._placed: dict[str, str] = {}  # order id -> unified symbol, oldest first

    # -- signing and errors ----------------------------------------------------------

    def _sign(self, ep: Endpoint, url: str, path: str, params: Mapping[str, Any] | None, nonce: int,
              credentials: Credentials) -> Prepared:
        signer = self._signer
        assert signer is not None
        body = signer.body(params, nonce)
        return Prepared(ep.method, url, path, signer.headers(body), body)

    def _map_error(self, response: Response) -> ExconnError | None:
        try:
            error = s.ERROR.decode(response.body)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):  # RecursionError: nested too deep
            return None
        message, code, status = error.message, error.code, response.status
        if not message:
            return None
        lowered = message.lower()
        if status == 429 or "too many requests" in lowered:
            return RateLimited(message, code=code)
        if status >= 500:
            return ExchangeUnavailable(message, code=code)
        if status == 401:
            return AuthenticationError(message, code=code)
        if status == 403:
            return PermissionDenied(message, code=code)
        if "insufficient" in lowered:
            return InsufficientFunds(message, code=code)
        if ("not found" in lowered or "not_found" in lowered) and "/orders/" in response.path:
            return OrderNotFound(message, code=code)
        if response.path.endswith(_ORDER_CHANGES):
            return InvalidOrder(message, code=code)
        return BadRequest(message, code=code)

    # -- public --------------------------------------------------------------------

    async def _fetch_markets(self) -> list[Market]:
        details = await self._call("markets_details", decoder=s.MARKETS_DETAILS)
        self._details = {d.unified_symbol: d for d in details}
        return [d.to_model() for d in details]

    async def fetch_currencies(self) -> dict[str, Currency]:
        """Currencies by code, derived from the markets' target and base currencies."""
        details = await self._call("markets_details", decoder=s.MARKETS_DETAILS)
        return {c.code: c for d in details for c in d.currencies()}

    async def fetch_ticker(self, symbol: str) -> Ticker:
        """The 24 h ticker (from the all-markets list); ``volume`` is None (CoinDCX gives quote turnover)."""
        market = await self.market(symbol)
        try:
            return (await self.fetch_tickers([market.symbol]))[market.symbol]
        except KeyError:
            raise BadSymbol(f"CoinDCX lists no ticker for {market.symbol}", exchange=self.id) from None

    async def fetch_tickers(self, symbols: Iterable[str] | None = None) -> dict[str, Ticker]:
        await self.load_markets()
        wanted = None if symbols is None else {(await self.market(sym)).symbol for sym in symbols}
        result = {}
        for raw in await self._call("tickers", decoder=s.TICKERS):
            market = self.market_by_id(raw.market)
            if market is not None and (wanted is None or market.symbol in wanted):
                result[market.symbol] = raw.to_model(market.symbol)
        return result

    async def fetch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        market = await self.market(symbol)
        raw = await self._call("orderbook", {"pair": self._pair(market)}, decoder=s.BOOK)
        bids, asks = raw.levels(limit)
        return OrderBook(market.symbol, bids, asks, now_ms() if raw.timestamp is None else raw.timestamp)

    async def fetch_trades(self, symbol: str, limit: int | None = None) -> list[Trade]:
        """Recent public trades (``limit`` up to 500, default 30), oldest first."""
        market = await self.market(symbol)
        raw = await self._call("trades", {"pair": self._pair(market), "limit": limit}, decoder=s.PUBLIC_TRADES)
        oldest_first = sorted(reversed(raw), key=lambda t: t.T)
        seen: dict[tuple[int, Decimal, Decimal, bool], int] = {}
        trades = []
        for t in oldest_first:  # identical fills in one millisecond are told apart by their order
            key = (t.T, t.p, t.q, t.m)
            seen[key] = seen.get(key, -1) + 1
            trades.append(t.to_model(market.symbol, seen[key]))
        return trades

    async def fetch_candles(self, symbol: str, timeframe: str = "1h", since: int | None = None,
                            limit: int | None = None) -> list[Candle]:
        market = await self.market(symbol)
        params = {"pair": self._pair(market), "interval": self._timeframe(timeframe), "startTime": since,
                  "limit": limit}
        raw = await self._call("candles", params, decoder=s.CANDLES)
        return sorted((c.to_model() for c in raw), key=lambda c: c.timestamp)

    def _pair(self, market: Market) -> str:
        return self._details[market.symbol].pair

    # -- private -------------------------------------------------------------------

    async def fetch_balances(self) -> dict[str, Balance]:
        return {b.currency.upper(): b.to_model() for b in await self._call("balances", decoder=s.BALANCES)}

    async def create_order(self, symbol: str, side: str, amount: Any, price: Any = None,
                           type: str = "limit") -> Order:
        market = await self.market(symbol)
        qty, px = self.check_order(market, side, amount, price, type)
        order_type = _WIRE_TYPES[type]
        allowed = self._details[market.symbol].order_types
        if allowed and order_type not in allowed:
            raise InvalidOrder(f"{market.symbol} does not take {type} orders", exchange=self.id)
        params = {"side": side, "order_type": order_type, "market": market.id, "price_per_unit": px,
                  "total_quantity": qty}
        created = await self._call("create_order", params, decoder=s.CREATED)
        if not created.orders:
            raise BadResponse("orders/create answered without the order", exchange=self.id)
        raw = created.orders[0]
        self._remember(raw.id, market.symbol)
        return raw.to_model(market.symbol)

    async def edit_order(self, order_id: str, price: Any) -> Order:
        """Move a resting limit order to ``price`` (quote currency); CoinDCX keeps its id."""
        px = to_decimal(price, "price")
        if px <= 0:
            raise InvalidOrder(f"price must be positive, got {px}", exchange=self.id)
        await self.load_markets()
        raw = await self._call("edit_order", {"id": order_id, "price_per_unit": px}, decoder=s.ORDER)
        return raw.to_model(self._market_of(raw.market).symbol)

    async def cancel_order(self, order_id: str, symbol: str | None = None) -> Order | None:
        """Cancel an open order; CoinDCX answers only "success", so this returns None."""
        await self._send("cancel_order", {"id": order_id})
        return None

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        """Cancel every open order (of ``symbol``'s market); CoinDCX does not say which, so this returns []."""
        markets = [await self.market(symbol)] if symbol is not None else await self._markets_with_open_orders()
        for market in markets:
            await self._send("cancel_all", {"market": market.id})
        return []

    async def fetch_order(self, order_id: str, symbol: str | None = None) -> Order:
        await self.load_markets()
        raw = await self._call("order_status", {"id": order_id}, decoder=s.ORDER)
        return raw.to_model(self._market_of(raw.market).symbol)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """Open orders of ``symbol``'s market, or of every market holding some (see the module notes)."""
        markets = [await self.market(symbol)] if symbol is not None else await self._markets_with_open_orders()
        orders: list[Order] = []
        for market in markets:
            listed = await self._call("active_orders", {"market": market.id}, decoder=s.ACTIVE_ORDERS)
            orders += (o.to_model(market.symbol) for o in (listed if isinstance(listed, list) else listed.orders))
        return orders

    async def fetch_orders(self, symbol: str | None = None) -> list[Order]:
        """Open orders, and the closed ones this connector placed or that have recent own trades
        (CoinDCX has no order history), oldest first."""
        market = None if symbol is None else await self.market(symbol)
        await self.load_markets()
        orders = {o.id: o for o in await self.fetch_open_orders(symbol)}
        trade_params = {"symbol": None if market is None else market.id, "sort": "desc"}
        trades = await self._call("my_trades", trade_params, decoder=s.MY_TRADES)
        known = [oid for oid, placed_in in self._placed.items() if market is None or placed_in == market.symbol]
        known += (t.order_id for t in trades)
        ids = [oid for oid in dict.fromkeys(known) if oid not in orders]
        if ids:
            for raw in await self._call("status_multiple", {"ids": ids}, decoder=s.ORDERS):
                orders[raw.id] = raw.to_model(self._market_of(raw.market).symbol)
        return sorted(orders.values(), key=lambda o: o.timestamp)

    async def fetch_my_trades(self, symbol: str | None = None, limit: int | None = None) -> list[Trade]:
        """Own trades, the newest ``limit`` (default 500, at most 5000), oldest first."""
        market = None if symbol is None else await self.market(symbol)
        await self.load_markets()
        params = {"symbol": None if market is None else market.id, "limit": limit, "sort": "desc"}
        raw = await self._call("my_trades", params, decoder=s.MY_TRADES)
        trades = (t.to_model(self._market_of(t.symbol)) for t in raw)
        return sorted(trades, key=lambda t: (t.timestamp, int(t.id)))

    async def _markets_with_open_orders(self) -> list[Market]:
        """The markets holding open orders: those trading a currency with a locked balance
        whose ``active_orders_count`` is not zero (CoinDCX lists open orders by market only)."""
        locked = {code for code, balance in (await self.fetch_balances()).items() if balance.locked > 0}
        candidates = [m for m in (await self.load_markets()).values() if m.base in locked or m.quote in locked]
        async with asyncio.TaskGroup() as group:
            counts = [group.create_task(self._call("active_orders_count", {"market": m.id}, decoder=s.COUNT))
                      for m in candidates]
        return [market for market, count in zip(candidates, counts) if count.result().count]

    def _market_of(self, market_id: str) -> Market:
        market = self.market_by_id(market_id)
        if market is None:
            raise BadSymbol(f"unknown CoinDCX market {market_id!r}", exchange=self.id)
        return market

    def _remember(self, order_id: str, symbol: str) -> None:
        """Keep the last placed order ids for :meth:`fetch_orders`."""
        self._placed.pop(order_id, None)
        self._placed[order_id] = symbol
        if len(self._placed) > _REMEMBERED_ORDERS:
            del self._placed[next(iter(self._placed))]

