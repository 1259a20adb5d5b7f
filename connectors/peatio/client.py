"""Peatio / OpenDAX connector (``https://exchange.intercore.trade/api/v2/peatio``,
specs/peatio.md).

Choices where the spec leaves a question open:
- Peatio 2.4 shapes (what the seed's samples match); 2.6+ deposit-address shape accepted.
- POST parameters go as a JSON body (Grape accepts form or JSON; hummingbot-peatio sends JSON).
- Nonces follow the server clock (``/public/timestamp``) because Barong refuses a nonce more
  than 5 s away from its own time; the clock is re-read after any nonce refusal.
- Numeric rate limits are not published: the connector keeps to 10/s public and 5/s per
  key, and a 403 from the WAF is treated like a 429.
- Order book = ``/depth`` (aggregated levels); ``/order-book`` (resting orders) is
  :meth:`Peatio.fetch_book_orders`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import msgspec

from connectors.peatio import schemas as s
from connectors.peatio.auth import Signer
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
from core.transport import Prepared, Response

__all__ = ["Peatio"]

_PREFIX = "/api/v2/peatio"
_JSON = {"Content-Type": "application/json"}
_encode = msgspec.json.Encoder(decimal_format="string")

_ERRORS: dict[str, type[ExconnError]] = {
    "authz.nonce_expired": InvalidNonce,
    "authz.nonce_not_valid_timestamp": InvalidNonce,
    "authz.invalid_permission": PermissionDenied,
    "market.account.insufficient_balance": InsufficientFunds,
    "market.order.invalid_volume_or_price": InvalidOrder,
    "market.order.market_order_price": InvalidOrder,
    "market.order.insufficient_market_liquidity": InvalidOrder,
    "market.order.create_error": InvalidOrder,
    "market.order.cancel_error": InvalidOrder,
    "market.order.invaild_id_or_uuid": OrderNotFound,
    "public.market.doesnt_exist": BadSymbol,
}


def _endpoint(method: str, path: str, auth: bool = False) -> Endpoint:
    return Endpoint(method, _PREFIX + path, auth=auth)


class Peatio(Connector):
    """Peatio 2.x spot: limit and market orders, server-side cancel-all, withdrawals to
    pre-registered beneficiaries with a 2FA code."""

    id = "peatio"
    name = "Peatio (intercore.trade)"
    urls = MappingProxyType({"api": "https://exchange.intercore.trade"})
    endpoints = MappingProxyType({
        "markets": _endpoint("GET", "/public/markets"),
        "currencies": _endpoint("GET", "/public/currencies"),
        "currency": _endpoint("GET", "/public/currencies/{id}"),
        "tickers": _endpoint("GET", "/public/markets/tickers"),
        "ticker": _endpoint("GET", "/public/markets/{market}/tickers"),
        "order_book": _endpoint("GET", "/public/markets/{market}/order-book"),
        "depth": _endpoint("GET", "/public/markets/{market}/depth"),
        "trades": _endpoint("GET", "/public/markets/{market}/trades"),
        "k_line": _endpoint("GET", "/public/markets/{market}/k-line"),
        "timestamp": _endpoint("GET", "/public/timestamp"),
        "trading_fees": _endpoint("GET", "/public/trading_fees"),
        "balances": _endpoint("GET", "/account/balances", auth=True),
        "balance": _endpoint("GET", "/account/balances/{currency}", auth=True),
        "orders": _endpoint("GET", "/market/orders", auth=True),
        "order": _endpoint("GET", "/market/orders/{id}", auth=True),
        "create_order": _endpoint("POST", "/market/orders", auth=True),
        "cancel_order": _endpoint("POST", "/market/orders/{id}/cancel", auth=True),
        "cancel_all": _endpoint("POST", "/market/orders/cancel", auth=True),
        "my_trades": _endpoint("GET", "/market/trades", auth=True),
        "deposits": _endpoint("GET", "/account/deposits", auth=True),
        "deposit": _endpoint("GET", "/account/deposits/{txid}", auth=True),
        "deposit_address": _endpoint("GET", "/account/deposit_address/{currency}", auth=True),
        "withdraws": _endpoint("GET", "/account/withdraws", auth=True),
        "withdraw": _endpoint("POST", "/account/withdraws", auth=True),
        "beneficiaries": _endpoint("GET", "/account/beneficiaries", auth=True),
        "create_beneficiary": _endpoint("POST", "/account/beneficiaries", auth=True),
        "beneficiary": _endpoint("GET", "/account/beneficiaries/{id}", auth=True),
        "delete_beneficiary": _endpoint("DELETE", "/account/beneficiaries/{id}", auth=True),
        "activate_beneficiary": _endpoint("PATCH", "/account/beneficiaries/{id}/activate", auth=True),
        "transactions": _endpoint("GET", "/account/transactions", auth=True),
    })
    rate_limits = MappingProxyType({"public": Pool(10), "private": Pool(5, per_key=True)})
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
        headers = signer.headers(nonce)
        if ep.method in ("GET", "DELETE"):
            if params:
                url = f"{url}?{encode_query(params)}"
            return Prepared(ep.method, url, path, headers)
        headers.update(_JSON)
        body = _encode.encode({k: wire_value(v) if isinstance(v, Decimal) else v
                               for k, v in (params or {}).items() if v is not None})
        return Prepared(ep.method, url, path, headers, body)

    def _map_error(self, response: Response) -> ExconnError | None:
        try:
            codes = s.ERROR.decode(response.body).errors
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):  # RecursionError: nested too deep
            codes = []
        code = codes[0] if codes else None
        status = response.status
        if status == 429 or (status == 403 and not (code or "").startswith("authz.")):
            return RateLimited(code or "rate limit (WAF)", code=code)
        if code is None:
            return None
        cls = _ERRORS.get(code)
        if cls is None:
            if code.startswith("authz.") or code.startswith("jwt."):
                cls = AuthenticationError
            elif code == "record.not_found" and "/orders" in response.path:
                cls = OrderNotFound
            else:
                cls = BadRequest
        return cls(", ".join(codes), code=code)

    # -- public --------------------------------------------------------------------

    async def _fetch_markets(self) -> list[Market]:
        return [m.to_model() for m in await self._call("markets", {"limit": 1000}, decoder=s.MARKETS)]

    async def fetch_currencies(self) -> dict[str, Currency]:
        currencies = (c.to_model() for c in await self._call("currencies", {"limit": 1000}, decoder=s.CURRENCIES))
        return {c.code: c for c in currencies}

    async def fetch_server_time(self) -> int:
        return s.server_time(await self._call("timestamp", decoder=s.TIMESTAMP))

    async def fetch_ticker(self, symbol: str) -> Ticker:
        market = await self.market(symbol)
        raw = await self._call("ticker", path_params={"market": market.id}, decoder=s.TICKER)
        return raw.to_model(market.symbol)

    async def fetch_tickers(self, symbols: Iterable[str] | None = None) -> dict[str, Ticker]:
        return await self._tickers_by_market_id(await self._call("tickers", decoder=s.TICKERS), symbols)

    async def fetch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        market = await self.market(symbol)
        params = None if limit is None else {"limit": limit}
        raw = await self._call("depth", params, path_params={"market": market.id}, decoder=s.DEPTH)
        bids, asks = raw.levels(limit)
        return OrderBook(market.symbol, bids, asks, raw.timestamp_ms())

    async def fetch_book_orders(self, symbol: str, limit: int | None = None) -> tuple[list[Order], list[Order]]:
        """Resting orders of ``/order-book``: (bids, asks), best first."""
        market = await self.market(symbol)
        params = None if limit is None else {"asks_limit": limit, "bids_limit": limit}
        raw = await self._call("order_book", params, path_params={"market": market.id},
                               decoder=s.BOOK_ORDERS)
        return s.book_orders(raw, market.symbol)

    async def fetch_trades(self, symbol: str, limit: int | None = None) -> list[Trade]:
        market = await self.market(symbol)
        params = None if limit is None else {"limit": limit}
        raw = await self._call("trades", params, path_params={"market": market.id}, decoder=s.PUBLIC_TRADES)
        return sorted((t.to_model(market.symbol) for t in raw), key=lambda t: (t.timestamp, int(t.id)))

    async def fetch_candles(self, symbol: str, timeframe: str = "1h", since: int | None = None,
                            limit: int | None = None) -> list[Candle]:
        market = await self.market(symbol)
        params: dict[str, Any] = {"period": self._timeframe(timeframe)}
        if since is not None:
            params["time_from"] = since // 1000
        if limit is not None:
            params["limit"] = limit
        raw = await self._call("k_line", params, path_params={"market": market.id}, decoder=s.KLINE)
        return sorted((s.candle(row) for row in raw), key=lambda c: c.timestamp)

    # -- private -------------------------------------------------------------------

    async def fetch_balances(self) -> dict[str, Balance]:
        return {b.currency.upper(): b.to_model() for b in await self._call("balances", {"limit": 1000},
                                                                         decoder=s.BALANCES)}

    async def create_order(self, symbol: str, side: str, amount: Any, price: Any = None,
                           type: str = "limit") -> Order:
        market = await self.market(symbol)
        qty, px = self.check_order(market, side, amount, price, type)
        params: dict[str, Any] = {"market": market.id, "side": side, "volume": format_decimal(qty), "ord_type": type}
        if px is not None:
            params["price"] = format_decimal(px)
        raw = await self._call("create_order", params, decoder=s.ORDER)
        return raw.to_model(market.symbol)

    async def cancel_order(self, order_id: str, symbol: str | None = None) -> Order | None:
        """Request the cancel; Peatio cancels asynchronously and returns the order as it was
        (often still ``open``) — poll :meth:`fetch_order` for ``canceled``."""
        raw = await self._call("cancel_order", path_params={"id": _order_id(order_id)}, decoder=s.ORDER)
        await self.load_markets()  # after the cancel: nothing may delay or prevent it
        return raw.to_model(self._symbol(raw.market))

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        params = None if symbol is None else {"market": (await self.market(symbol)).id}
        await self.load_markets()
        return [o.to_model(self._symbol(o.market)) for o in await self._call("cancel_all", params, decoder=s.ORDERS)]

    async def fetch_order(self, order_id: str, symbol: str | None = None) -> Order:
        await self.load_markets()
        raw = await self._call("order", path_params={"id": _order_id(order_id)}, decoder=s.ORDER)
        return raw.to_model(self._symbol(raw.market))

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        return await self._orders(symbol, {"state": "wait"})

    async def fetch_orders(self, symbol: str | None = None) -> list[Order]:
        return await self._orders(symbol, {})

    async def _orders(self, symbol: str | None, params: dict[str, Any]) -> list[Order]:
        await self.load_markets()
        params = {**params, "limit": 1000}
        if symbol is not None:
            params["market"] = (await self.market(symbol)).id
        return [o.to_model(self._symbol(o.market)) for o in await self._call("orders", params, decoder=s.ORDERS)]

    async def fetch_my_trades(self, symbol: str | None = None, limit: int | None = None) -> list[Trade]:
        await self.load_markets()
        params: dict[str, Any] = {}
        if symbol is not None:
            params["market"] = (await self.market(symbol)).id
        if limit is not None:
            params["limit"] = limit
        raw = await self._call("my_trades", params, decoder=s.MY_TRADES)
        return sorted((t.to_model(self._symbol(t.market)) for t in raw), key=lambda t: (t.timestamp, int(t.id)))

    async def fetch_deposits(self, currency: str | None = None) -> list[Transfer]:
        params = None if currency is None else {"currency": currency.lower()}
        return [d.to_model() for d in await self._call("deposits", params, decoder=s.DEPOSITS)]

    async def fetch_withdrawals(self, currency: str | None = None) -> list[Transfer]:
        params = None if currency is None else {"currency": currency.lower()}
        return [w.to_model() for w in await self._call("withdraws", params, decoder=s.WITHDRAWS)]

    async def fetch_deposit_address(self, currency: str) -> DepositAddress:
        raw = await self._call("deposit_address", path_params={"currency": currency.lower()},
                               decoder=s.DEPOSIT_ADDRESS)
        if not raw.address:
            raise ExchangeError(f"the {currency} deposit address is still being generated; retry later",
                                exchange=self.id)
        return s.deposit_address(raw, currency.upper())

    async def withdraw(self, currency: str, amount: Any, address: str, **params: Any) -> Transfer:
        """Withdraw to an active beneficiary whose address is ``address``; Peatio requires
        ``otp=<2FA code>`` (and accepts ``beneficiary_id=`` and ``note=``)."""
        qty = to_decimal(amount, "amount")
        otp = params.get("otp")
        if otp is None:
            raise BadRequest("Peatio withdrawals need otp=<current 2FA code>", exchange=self.id)
        beneficiary_id = params.get("beneficiary_id") or await self._beneficiary_for(currency, address)
        body = {"currency": currency.lower(), "amount": format_decimal(qty), "otp": otp,
                "beneficiary_id": beneficiary_id, "note": params.get("note")}
        raw = await self._call("withdraw", body, decoder=s.WITHDRAW)
        return raw.to_model()

    async def _beneficiary_for(self, currency: str, address: str) -> int:
        for beneficiary in await self._call("beneficiaries", {"currency": currency.lower()}, decoder=s.BENEFICIARIES):
            if beneficiary.state == "active" and beneficiary.data.get("address") == address:
                return beneficiary.id
        raise BadRequest(f"no active {currency} beneficiary with address {address!r}: register and activate one "
                         f"first (Peatio withdraws only to beneficiaries)", exchange=self.id)

    def _symbol(self, market_id: str) -> str:
        market = self.market_by_id(market_id)
        if market is None:
            raise BadSymbol(f"unknown market id {market_id!r}", exchange=self.id)
        return market.symbol


def _order_id(order_id: str) -> str:
    text = str(order_id)
    if not text or "/" in text:
        raise OrderNotFound(f"bad Peatio order id {order_id!r}", exchange="peatio")
    return text
