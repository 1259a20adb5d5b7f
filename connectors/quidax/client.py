"""Quidax connector (``https://www.quidax.com``, specs/quidax.md): API v2 (HMAC-signed
parameters) for everything it has, API v1 (Bearer token) for withdrawals.

Choices where the spec leaves a question open:
- ``/api/v2/markets`` gives only ``id`` and ``name`` (``"BTC/NGN"``): base and quote come from
  the name; precision and limits are unknown (None), so the server, not ``check_order``,
  refuses an amount or price it does not accept (2002 -> InvalidOrder).
- Currencies: v2 has no endpoint; :meth:`Quidax.fetch_currencies` derives them from the markets.
- Array parameters (``orders[][side]=…`` of ``/orders/multi``) are signed as the sandbox
  states it: the array is one ``name=value&…`` unit in wire order, sorted among the others by
  its text, never re-sorted inside (spec §2 calls the canonical form uncertain).
- ``/order/delete`` and ``/orders/clear`` are asynchronous: they answer the orders as they
  were; poll :meth:`Quidax.fetch_order` for ``canceled``. ``/orders/clear`` has no market
  filter, so ``cancel_all_orders(symbol)`` lists that market's open orders and cancels each.
- v2 lists orders and own trades per market and orders per state: without a symbol the
  connector asks every market; ``fetch_orders`` asks ``wait``, ``done`` and ``cancel``
  (newest 1000 each, ``order_by=desc``).
- Withdrawals exist only in v1: ``/api/v1/users/me/withdraws`` (quidax-python's spelling, as
  the sandbox serves it); every other v1 path is declared as a ``v1_*`` endpoint. ``_sign``
  tells the two apart by the ``/api/v1/`` path prefix.
- Limits: the seed calls public calls unlimited; the connector still keeps to 20/s per IP so
  a proxy's 429 has a bucket to back off. Private: 6000 per key in any 300 s (v1 and v2
  count together in the sandbox), as a sliding-window pool with a burst of 300.
- Error 2012 (deposit not found) maps to OrderNotFound as the house mapping asks; v1 errors
  are mapped from their ``data.code`` strings.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from urllib.parse import urlencode

import msgspec

from connectors.quidax import schemas as s
from connectors.quidax.auth import Signer
from core.connector import Connector, Endpoint, Pool, encode_query, format_decimal, to_decimal, wire_value
from core.credentials import Credentials
from core.errors import (
    AuthenticationError,
    BadRequest,
    BadSymbol,
    ExchangeError,
    ExconnError,
    InsufficientFunds,
    InvalidNonce,
    InvalidOrder,
    OrderNotFound,
    PermissionDenied,
    RateLimited,
)
from core.models import Balance, Candle, Currency, DepositAddress, Market, Order, OrderBook, Ticker, Trade, Transfer
from core.timestamps import seconds_to_ms
from core.transport import Prepared, Response

__all__ = ["Quidax"]

_V2 = "/api/v2"
_V1 = "/api/v1"
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_JSON = {"Content-Type": "application/json"}
_ORDER_PAGE = 1000  # the most one /orders call lists
_INSUFFICIENT = "Failed to create order. Reason: insufficient balance"
_WITHDRAW_OPTIONS = {"tag": "fund_uid2", "transaction_note": "transaction_note", "narration": "narration"}
_encode_json = msgspec.json.Encoder()
_HEX_SIGNATURE = re.compile(r"\b[0-9a-f]{64}\b")

_ERRORS: dict[int | str, type[ExconnError]] = {
    1001: BadRequest,
    2001: AuthenticationError,
    2002: InvalidOrder,
    2003: InvalidOrder,
    2004: OrderNotFound,
    2005: AuthenticationError,
    2006: InvalidNonce,
    2007: InvalidNonce,
    2008: AuthenticationError,
    2009: AuthenticationError,
    2010: AuthenticationError,
    2011: PermissionDenied,
    2012: OrderNotFound,
    429: RateLimited,
    # v1 data.code strings
    "validation_error": BadRequest,
    "unauthorized": AuthenticationError,
    "order_failed": InvalidOrder,
    "insufficient_balance": InsufficientFunds,
    "cancel_failed": InvalidOrder,
    "not_found": BadRequest,
    "rate_limited": RateLimited,
}


def _v2(method: str, path: str, auth: bool = False) -> Endpoint:
    return Endpoint(method, _V2 + path, auth=auth)


def _v1(method: str, path: str, auth: bool = False) -> Endpoint:
    return Endpoint(method, _V1 + path, auth=auth)


class Quidax(Connector):
    """Quidax spot: limit and market orders, batch orders (``create_orders``), server-side
    cancel-all, withdrawals through API v1."""

    id = "quidax"
    name = "Quidax"
    urls = MappingProxyType({"api": "https://www.quidax.com"})
    endpoints = MappingProxyType({
        "markets": _v2("GET", "/markets"),
        "tickers": _v2("GET", "/tickers"),
        "ticker": _v2("GET", "/tickers/{market}"),
        "order_book": _v2("GET", "/order_book"),
        "depth": _v2("GET", "/depth"),
        "trades": _v2("GET", "/trades"),
        "k": _v2("GET", "/k"),
        "k_with_pending_trades": _v2("GET", "/k_with_pending_trades"),
        "timestamp": _v2("GET", "/timestamp"),
        "member": _v2("GET", "/members/me", auth=True),
        "deposits": _v2("GET", "/deposits", auth=True),
        "deposit": _v2("GET", "/deposit", auth=True),
        "deposit_address": _v2("GET", "/deposit_address", auth=True),
        "orders": _v2("GET", "/orders", auth=True),
        "order": _v2("GET", "/order", auth=True),
        "create_order": _v2("POST", "/orders", auth=True),
        "create_orders": _v2("POST", "/orders/multi", auth=True),
        "cancel_order": _v2("POST", "/order/delete", auth=True),
        "cancel_all": _v2("POST", "/orders/clear", auth=True),
        "my_trades": _v2("GET", "/trades/my", auth=True),
        "v1_markets": _v1("GET", "/markets"),
        "v1_tickers": _v1("GET", "/markets/tickers"),
        "v1_ticker": _v1("GET", "/markets/tickers/{market}"),
        "v1_k": _v1("GET", "/markets/{market}/k"),
        "v1_k_with_pending_trades": _v1("GET", "/markets/{market}/k_with_pending_trades/{trade_id}"),
        "v1_order_book": _v1("GET", "/markets/{market}/order_book"),
        "v1_depth": _v1("GET", "/markets/{market}/depth"),
        "v1_trades": _v1("GET", "/trades/{market}"),
        "v1_user": _v1("GET", "/users/me", auth=True),
        "v1_wallets": _v1("GET", "/users/{user_id}/wallets", auth=True),
        "v1_wallet": _v1("GET", "/users/{user_id}/wallets/{currency}", auth=True),
        "v1_wallet_address": _v1("GET", "/users/{user_id}/wallets/{currency}/address", auth=True),
        "v1_wallet_addresses": _v1("GET", "/users/{user_id}/wallets/{currency}/addresses", auth=True),
        "v1_create_wallet_address": _v1("POST", "/users/{user_id}/wallets/{currency}/addresses", auth=True),
        "v1_orders": _v1("GET", "/users/{user_id}/orders", auth=True),
        "v1_order": _v1("GET", "/users/{user_id}/orders/{id}", auth=True),
        "v1_create_order": _v1("POST", "/users/{user_id}/orders", auth=True),
        "v1_cancel_order": _v1("POST", "/users/{user_id}/orders/{id}/cancel", auth=True),
        "v1_my_trades": _v1("GET", "/users/{user_id}/trades", auth=True),
        "v1_deposits": _v1("GET", "/users/{user_id}/deposits", auth=True),
        "v1_deposit": _v1("GET", "/users/{user_id}/deposits/{id}", auth=True),
        "v1_withdraws": _v1("GET", "/users/{user_id}/withdraws", auth=True),
        "v1_withdrawal": _v1("GET", "/users/{user_id}/withdraws/{id}", auth=True),
        "v1_withdraw": _v1("POST", "/users/{user_id}/withdraws", auth=True),
        "v1_cancel_withdrawal": _v1("POST", "/users/{user_id}/withdraws/{id}/cancel", auth=True),
    })
    rate_limits = MappingProxyType({
        "public": Pool(20),
        "private": Pool.window(6000, 300, burst=300, per_key=True),
    })
    emulated = MappingProxyType({
        "cancel_all_orders": "with a symbol: lists that market's open orders and cancels each "
                             "(/orders/clear has no market filter)",
        "fetch_currencies": "derived from the markets (v2 has no currencies endpoint)",
    })
    timeframes = MappingProxyType({
        "1m": "1", "5m": "5", "15m": "15", "30m": "30", "1h": "60", "2h": "120", "4h": "240", "6h": "360",
        "12h": "720", "1d": "1440", "3d": "4320", "1w": "10080",
    })

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._signer = None if self._credentials is None else Signer(self._credentials.key, self._credentials.secret)

    # -- signing and errors ----------------------------------------------------------

    def _sign(self, ep: Endpoint, url: str, path: str, params: Mapping[str, Any] | None, nonce: int,
              credentials: Credentials) -> Prepared:
        signer = self._signer
        assert signer is not None
        if path.startswith(_V1 + "/"):
            headers = signer.bearer()
            if ep.method == "GET":
                return Prepared("GET", f"{url}?{encode_query(params)}" if params else url, path, headers)
            headers.update(_JSON)
            body = _encode_json.encode({k: wire_value(v) if isinstance(v, Decimal) else v
                                        for k, v in (params or {}).items() if v is not None})
            return Prepared(ep.method, url, path, headers, body)
        query = urlencode(signer.sign(ep.method, path, params or {}, nonce))
        if ep.method == "GET":
            return Prepared("GET", f"{url}?{query}", path)
        return Prepared(ep.method, url, path, dict(_FORM), query)

    def _map_error(self, response: Response) -> ExconnError | None:
        try:
            raw = s.ERROR.decode(response.body)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):  # RecursionError: nested too deep
            return None
        detail = raw.error or raw.data
        cls = None if detail is None else _ERRORS.get(detail.code)
        if detail is None or cls is None:
            return None  # by HTTP status: 429 RateLimited, 5xx ExchangeUnavailable, ...
        code = detail.code
        message = self._scrub(detail.message or raw.message or "", code)
        if cls is InvalidOrder and message.startswith(_INSUFFICIENT):
            cls = InsufficientFunds
        elif cls is BadRequest and code == "not_found" and "/orders" in response.path:
            cls = OrderNotFound
        elif cls is BadRequest and message.startswith("market ") and not message.startswith("market is missing"):
            cls = BadSymbol
        return cls(message, code=code)

    def _scrub(self, message: str, code: int | str) -> str:
        """The exchange's message without our access key (2006/2008–2010 echo it) or
        signature (2005 echoes it): exceptions never show either."""
        if self._credentials is not None:
            message = message.replace(self._credentials.key, f"<{self._credentials.fingerprint}>")
        return _HEX_SIGNATURE.sub("***", message) if code == 2005 else message

    # -- public --------------------------------------------------------------------

    async def _fetch_markets(self) -> list[Market]:
        return [m.to_model() for m in await self._call("markets", decoder=s.MARKETS)]

    async def fetch_currencies(self) -> dict[str, Currency]:
        """Currencies by code, derived from the markets (names are the codes)."""
        codes = {code for m in (await self.load_markets()).values() for code in (m.base, m.quote)}
        return {code: Currency(code, code) for code in sorted(codes)}

    async def fetch_server_time(self) -> int:
        return seconds_to_ms(await self._call("timestamp", decoder=s.TIMESTAMP))

    async def fetch_ticker(self, symbol: str) -> Ticker:
        market = await self.market(symbol)
        raw = await self._call("ticker", path_params={"market": market.id}, decoder=s.TICKER)
        return raw.to_model(market.symbol)

    async def fetch_tickers(self, symbols: Iterable[str] | None = None) -> dict[str, Ticker]:
        return await self._tickers_by_market_id(await self._call("tickers", decoder=s.TICKERS), symbols)

    async def fetch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        market = await self.market(symbol)
        params: dict[str, Any] = {"market": market.id}
        if limit is not None:
            params["limit"] = limit
        raw = await self._call("depth", params, decoder=s.DEPTH)
        bids, asks = raw.levels(limit)
        return OrderBook(market.symbol, bids, asks, seconds_to_ms(raw.timestamp))

    async def fetch_book_orders(self, symbol: str, limit: int | None = None) -> tuple[list[Order], list[Order]]:
        """Resting orders of ``/order_book`` (at most ``limit`` ≤ 200 a side): (bids, asks), best first."""
        market = await self.market(symbol)
        params: dict[str, Any] = {"market": market.id}
        if limit is not None:
            params.update(asks_limit=limit, bids_limit=limit)
        raw = await self._call("order_book", params, decoder=s.BOOK_ORDERS)
        return s.book_orders(raw, market.symbol)

    async def fetch_trades(self, symbol: str, limit: int | None = None) -> list[Trade]:
        market = await self.market(symbol)
        params: dict[str, Any] = {"market": market.id}
        if limit is not None:
            params["limit"] = limit
        raw = await self._call("trades", params, decoder=s.TRADES)
        return _oldest_first(t.to_model(market.symbol) for t in raw)

    async def fetch_candles(self, symbol: str, timeframe: str = "1h", since: int | None = None,
                            limit: int | None = None) -> list[Candle]:
        market = await self.market(symbol)
        params: dict[str, Any] = {"market": market.id, "period": self._timeframe(timeframe)}
        if limit is not None:
            params["limit"] = limit
        if since is not None:
            params["timestamp"] = since // 1000
        raw = await self._call("k", params, decoder=s.KLINE)
        return sorted((s.candle(row) for row in raw), key=lambda c: c.timestamp)

    # -- private: account and orders ---------------------------------------------------

    async def fetch_balances(self) -> dict[str, Balance]:
        member = await self._call("member", decoder=s.MEMBER)
        return {a.currency.upper(): a.to_model() for a in member.accounts}

    async def create_order(self, symbol: str, side: str, amount: Any, price: Any = None,
                           type: str = "limit") -> Order:
        market = await self.market(symbol)
        params = {"market": market.id, **self._order_fields(market, side, amount, price, type)}
        raw = await self._call("create_order", params, decoder=s.ORDER)
        return raw.to_model(market.symbol)

    async def create_orders(self, symbol: str, orders: Iterable[Mapping[str, Any]]) -> list[Order]:
        """Place several orders on one market in one call (``/orders/multi``, all or nothing); each
        mapping has ``side``, ``amount`` (base), ``price`` (quote; omit for market), ``type`` (limit)."""
        market = await self.market(symbol)
        fields = [self._order_fields(market, o["side"], o["amount"], o.get("price"), o.get("type", "limit"))
                  for o in orders]
        if not fields:
            raise InvalidOrder("create_orders needs at least one order", exchange=self.id)
        raw = await self._call("create_orders", {"market": market.id, "orders": fields}, decoder=s.ORDERS)
        return [o.to_model(market.symbol) for o in raw]

    def _order_fields(self, market: Market, side: str, amount: Any, price: Any, type: str) -> dict[str, str]:
        qty, px = self.check_order(market, side, amount, price, type)
        fields = {"side": side, "volume": format_decimal(qty)}
        if px is None:
            fields["ord_type"] = type  # market; limit is the default and left out, as in the seed
        else:
            fields["price"] = format_decimal(px)
        return fields

    async def cancel_order(self, order_id: str, symbol: str | None = None) -> Order | None:
        """Request the cancel; Quidax cancels asynchronously and returns the order as it was
        (usually still ``open``) — poll :meth:`fetch_order` for ``canceled``."""
        raw = await self._call("cancel_order", {"id": _order_id(order_id)}, decoder=s.ORDER)
        await self.load_markets()  # after the cancel: nothing may delay or prevent it
        return raw.to_model(self._symbol(raw.market))

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        """Cancel every open order (asynchronously; the orders come back as they were). With a
        symbol, that market's open orders are listed and cancelled one by one."""
        if symbol is not None:
            return await self._cancel_all_by_listing(symbol)
        raw = await self._call("cancel_all", decoder=s.ORDERS)
        await self.load_markets()  # after the cancel, as in cancel_order
        return [o.to_model(self._symbol(o.market)) for o in raw]

    async def fetch_order(self, order_id: str, symbol: str | None = None) -> Order:
        await self.load_markets()
        raw = await self._call("order", {"id": _order_id(order_id)}, decoder=s.ORDER)
        return raw.to_model(self._symbol(raw.market))

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """Open orders, oldest first; without a symbol, one request per market."""
        return await self._orders(symbol, ("wait",))

    async def fetch_orders(self, symbol: str | None = None) -> list[Order]:
        """The newest 1000 open, filled and cancelled orders (each) per market, oldest first."""
        return await self._orders(symbol, ("wait", "done", "cancel"))

    async def _orders(self, symbol: str | None, states: tuple[str, ...]) -> list[Order]:
        markets = await self._markets_for(symbol)
        pages = await asyncio.gather(*(
            self._call("orders", {"market": m.id, "state": state, "limit": _ORDER_PAGE, "order_by": "desc"},
                       decoder=s.ORDERS)
            for m in markets for state in states
        ))
        orders = [o.to_model(self._symbol(o.market)) for page in pages for o in page]
        orders.sort(key=lambda o: (o.timestamp, int(o.id)))
        return orders

    async def fetch_my_trades(self, symbol: str | None = None, limit: int | None = None) -> list[Trade]:
        """Own trades, oldest first (the newest ``limit``); without a symbol, one request per market."""
        markets = await self._markets_for(symbol)
        extra = {} if limit is None else {"limit": limit}
        pages = await asyncio.gather(*(
            self._call("my_trades", {"market": m.id, **extra}, decoder=s.TRADES) for m in markets
        ))
        trades = _oldest_first(t.to_model(self._symbol(t.market)) for page in pages for t in page)
        return trades if limit is None else trades[-limit:]

    async def _markets_for(self, symbol: str | None) -> list[Market]:
        if symbol is not None:
            return [await self.market(symbol)]
        return list((await self.load_markets()).values())

    # -- private: transfers ----------------------------------------------------------

    async def fetch_deposits(self, currency: str | None = None) -> list[Transfer]:
        """The newest 100 deposits."""
        params: dict[str, Any] = {"limit": 100}
        if currency is not None:
            params["currency"] = currency.lower()
        return [d.to_model() for d in await self._call("deposits", params, decoder=s.DEPOSITS)]

    async def fetch_deposit_address(self, currency: str) -> DepositAddress:
        raw = await self._call("deposit_address", {"currency": currency.lower()}, decoder=s.DEPOSIT_ADDRESS)
        if not raw.address:
            raise ExchangeError(f"the {currency} deposit address is still being generated; retry later",
                                exchange=self.id)
        return raw.to_model(currency.upper())

    async def fetch_withdrawals(self, currency: str | None = None) -> list[Transfer]:
        """Withdrawals, through API v1 (v2 has none)."""
        params = None if currency is None else {"currency": currency.lower()}
        raw = await self._call("v1_withdraws", params, path_params={"user_id": "me"}, decoder=s.V1_WITHDRAWALS)
        return [w.to_model() for w in raw.data]

    async def withdraw(self, currency: str, amount: Any, address: str, **params: Any) -> Transfer:
        """Withdraw ``amount`` of ``currency`` to ``address`` through API v1; options ``tag``
        (memo / destination tag), ``transaction_note`` and ``narration``."""
        qty = to_decimal(amount, "amount")
        if qty <= 0:
            raise BadRequest(f"amount must be positive, got {format_decimal(qty)}", exchange=self.id)
        unknown = set(params) - set(_WITHDRAW_OPTIONS)
        if unknown:  # a misspelt tag must not send coins without one
            raise BadRequest(f"unknown withdraw options {sorted(unknown)}; known: {sorted(_WITHDRAW_OPTIONS)}",
                             exchange=self.id)
        body = {"currency": currency.lower(), "amount": format_decimal(qty), "fund_uid": address,
                **{_WITHDRAW_OPTIONS[name]: value for name, value in params.items()}}
        raw = await self._call("v1_withdraw", body, path_params={"user_id": "me"}, decoder=s.V1_WITHDRAWAL)
        return raw.data.to_model()

    def _symbol(self, market_id: str) -> str:
        market = self.market_by_id(market_id)
        if market is None:
            raise BadSymbol(f"unknown market id {market_id!r}", exchange=self.id)
        return market.symbol


def _oldest_first(trades: Iterable[Trade]) -> list[Trade]:
    return sorted(trades, key=lambda t: (t.timestamp, int(t.id)))


def _order_id(order_id: str) -> str:
    text = str(order_id)
    if not text.isdigit():
        raise OrderNotFound(f"Quidax order ids are integers, got {order_id!r}", exchange="quidax")
    return text
