"""BTC-Alpha connector (``https://btc-alpha.com/api/v1/``, specs/btcalpha.md).

Choices where the spec leaves a question open:
- Order book: the 2022 path form ``/orderbook/<pair>/`` first; if the server answers 404
  the connector falls back to the 2017 query form ``/orderbook/?pair=`` for good.
- GET filters are not signed (official samples and ccxt sign only the key).
- ``wallets.balance`` is the total and ``reserve`` the locked part (ccxt's reading).
- Private calls stay under 2 per sliding second per key (2022 docs) — one a second with a
  burst of one — and are sent in nonce order, because the exchange rejects a nonce lower
  than the last one it saw.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import msgspec

from connectors.btcalpha import schemas as s
from connectors.btcalpha.auth import Signer
from core.connector import Connector, Endpoint, Pool, encode_query, format_decimal
from core.credentials import Credentials
from core.errors import (
    AuthenticationError,
    BadRequest,
    BadSymbol,
    ExconnError,
    InsufficientFunds,
    InvalidNonce,
    InvalidOrder,
    OrderNotFound,
    PermissionDenied,
    RateLimited,
)
from core.models import Balance, Candle, Currency, Market, Order, OrderBook, Ticker, Trade, Transfer
from core.transport import Prepared, Response

__all__ = ["BtcAlpha"]

_FORM = "application/x-www-form-urlencoded"


class BtcAlpha(Connector):
    """BTC-Alpha spot: limit orders only; no server time, deposit address or withdrawals."""

    id = "btcalpha"
    name = "BTC-Alpha"
    urls = MappingProxyType({"api": "https://btc-alpha.com"})
    endpoints = MappingProxyType({
        "currencies": Endpoint("GET", "/api/v1/currencies/"),
        "pairs": Endpoint("GET", "/api/v1/pairs/"),
        "ticker": Endpoint("GET", "/api/v1/ticker/"),
        "orderbook": Endpoint("GET", "/api/v1/orderbook/{pair}/"),
        "orderbook_2017": Endpoint("GET", "/api/v1/orderbook/"),
        "trades": Endpoint("GET", "/api/v1/exchanges/"),
        "candles": Endpoint("GET", "/api/charts/{pair}/{type}/chart"),
        "public_orders": Endpoint("GET", "/api/v1/orders/"),
        "wallets": Endpoint("GET", "/api/v1/wallets/", auth=True),
        "own_orders": Endpoint("GET", "/api/v1/orders/own/", auth=True),
        "order": Endpoint("GET", "/api/v1/order/{id}/", auth=True),
        "create_order": Endpoint("POST", "/api/v1/order/", auth=True),
        "cancel_order": Endpoint("POST", "/api/v1/order-cancel/", auth=True),
        "own_trades": Endpoint("GET", "/api/v1/exchanges/own/", auth=True),
        "deposits": Endpoint("GET", "/api/v1/deposits/", auth=True),
        "withdraws": Endpoint("GET", "/api/v1/withdraws/", auth=True),
    })
    # 2022 docs: 2 calls/s per account, 100/s per IP — never exceeded in any sliding second
    rate_limits = MappingProxyType({"public": Pool.window(100, burst=10),
                                    "private": Pool.window(2, burst=1, per_key=True)})
    not_supported = MappingProxyType({
        "fetch_server_time": "BTC-Alpha documents no server-time endpoint",
        "create_market_order": "BTC-Alpha has limit orders only",
        "fetch_deposit_address": "BTC-Alpha offers no deposit addresses through its API",
        "withdraw": "BTC-Alpha offers no withdrawals through its API",
    })
    emulated = MappingProxyType({"cancel_all_orders": "lists open orders (status 1) and cancels each"})
    timeframes = MappingProxyType({"5m": "5", "15m": "15", "30m": "30", "1h": "60", "4h": "240", "1d": "D"})
    nonce_ordered = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._signer = None if self._credentials is None else Signer(self._credentials.key, self._credentials.secret)
        self._book_2017 = False

    # -- signing and errors ----------------------------------------------------------

    def _sign(self, ep: Endpoint, url: str, path: str, params: Mapping[str, Any] | None, nonce: int,
              credentials: Credentials) -> Prepared:
        signer = self._signer
        assert signer is not None
        if ep.method == "GET":
            if params:
                url = f"{url}?{encode_query(params)}"
            return Prepared("GET", url, path, signer.headers("", nonce))
        body = signer.encode(params) if params else ""
        headers = signer.headers(body, nonce)
        headers["Content-Type"] = _FORM
        return Prepared(ep.method, url, path, headers, body)

    def _map_error(self, response: Response) -> ExconnError | None:
        try:
            message = s.ERROR.decode(response.body).error
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            return None
        return _classify(response.status, response.path, message) if message else None

    # -- public --------------------------------------------------------------------

    async def _fetch_markets(self) -> list[Market]:
        return [p.to_model() for p in await self._call("pairs", decoder=s.PAIRS)]

    async def fetch_currencies(self) -> dict[str, Currency]:
        return {c.short_name: c.to_model() for c in await self._call("currencies", decoder=s.CURRENCIES)}

    async def fetch_ticker(self, symbol: str) -> Ticker:
        market = await self.market(symbol)
        raw = await self._call("ticker", {"pair": market.id}, decoder=s.TICKER)
        return raw.to_model()

    async def fetch_tickers(self, symbols: Iterable[str] | None = None) -> dict[str, Ticker]:
        wanted = None if symbols is None else {(await self.market(sym)).symbol for sym in symbols}
        tickers = (t.to_model() for t in await self._call("ticker", decoder=s.TICKERS))
        return {t.symbol: t for t in tickers if wanted is None or t.symbol in wanted}

    async def fetch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        market = await self.market(symbol)
        if not self._book_2017:
            params = {"group": 1} if limit is None else {"group": 1, "limit_sell": limit, "limit_buy": limit}
            try:
                raw = await self._call("orderbook", params, path_params={"pair": market.id}, decoder=s.BOOK)
            except BadRequest as exc:
                if exc.status != 404:
                    raise
                self._book_2017 = True
            else:
                return raw.to_model(market.symbol, limit)
        return (await self.fetch_book_orders(symbol, limit, group=True)).to_model(market.symbol, limit)

    async def fetch_book_orders(self, symbol: str, limit: int | None = None, *, group: bool = False) -> s.BookOrdersRaw:
        """The 2017 order-level book: every resting order with its id (``bids`` are the sell
        orders, ``asks`` the buy orders, as the seed documents) — the live book's snapshot."""
        market = await self.market(symbol)
        params: dict[str, Any] = {"pair": market.id, "group": 1 if group else 0}
        if limit is not None:
            params.update(limit_bids=limit, limit_asks=limit)
        return s.checked_book_orders(await self._call("orderbook_2017", params, decoder=s.BOOK_ORDERS))

    async def fetch_trades(self, symbol: str, limit: int | None = None) -> list[Trade]:
        market = await self.market(symbol)
        params: dict[str, Any] = {"pair": market.id, "ordering": "-id"}
        if limit is not None:
            params["limit"] = limit
        return s.trades_oldest_first(await self._call("trades", params, decoder=s.TRADES))

    async def fetch_candles(self, symbol: str, timeframe: str = "1h", since: int | None = None,
                            limit: int | None = None) -> list[Candle]:
        market = await self.market(symbol)
        params: dict[str, Any] = {}
        if since is not None:
            params["since"] = since // 1000
        if limit is not None:
            params["limit"] = limit
        raw = await self._call("candles", params, path_params={"pair": market.id, "type": self._timeframe(timeframe)},
                               decoder=s.CANDLES)
        return sorted((c.to_model() for c in raw), key=lambda c: c.timestamp)

    # -- private -------------------------------------------------------------------

    async def fetch_balances(self) -> dict[str, Balance]:
        return {w.currency: w.to_model() for w in await self._call("wallets", decoder=s.WALLETS)}

    async def create_order(self, symbol: str, side: str, amount: Any, price: Any = None,
                           type: str = "limit") -> Order:
        market = await self.market(symbol)
        qty, px = self.check_order(market, side, amount, price, type)
        data = {"type": side, "pair": market.id, "amount": format_decimal(qty), "price": format_decimal(px)}
        created = await self._call("create_order", data, decoder=s.CREATED)
        if not created.success:
            error = _classify(200, "/api/v1/order/", created.error or "order refused")
            error.exchange = self.id
            raise error
        return created.to_model(market.symbol, qty)

    async def cancel_order(self, order_id: str, symbol: str | None = None) -> Order | None:
        """Cancel an active order; BTC-Alpha answers only the id, so this returns None."""
        await self._call("cancel_order", {"order": _order_id(order_id)})
        return None

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        return await self._cancel_all_by_listing(symbol)

    async def fetch_order(self, order_id: str, symbol: str | None = None) -> Order:
        raw = await self._call("order", path_params={"id": _order_id(order_id)}, decoder=s.ORDER)
        return raw.to_model()

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        return await self._own_orders(symbol, status=1)

    async def fetch_orders(self, symbol: str | None = None) -> list[Order]:
        return await self._own_orders(symbol, status=None)

    async def _own_orders(self, symbol: str | None, status: int | None) -> list[Order]:
        params: dict[str, Any] = {}
        if symbol is not None:
            params["pair"] = (await self.market(symbol)).id
        if status is not None:
            params["status"] = status
        return [o.to_model() for o in await self._call("own_orders", params, decoder=s.ORDERS)]

    async def fetch_my_trades(self, symbol: str | None = None, limit: int | None = None) -> list[Trade]:
        params: dict[str, Any] = {"ordering": "-id"}
        if symbol is not None:
            params["pair"] = (await self.market(symbol)).id
        if limit is not None:
            params["limit"] = limit
        return s.trades_oldest_first(await self._call("own_trades", params, decoder=s.TRADES))

    async def fetch_deposits(self, currency: str | None = None) -> list[Transfer]:
        deposits = [d.to_model() for d in await self._call("deposits", decoder=s.DEPOSITS)]
        return [d for d in deposits if currency is None or d.currency == currency]

    async def fetch_withdrawals(self, currency: str | None = None) -> list[Transfer]:
        params = {} if currency is None else {"currency_id": currency}
        return [w.to_model() for w in await self._call("withdraws", params, decoder=s.WITHDRAWALS)]


def _classify(status: int, path: str, message: str) -> ExconnError:
    """BTC-Alpha answers ``{"error": text}``: the status and the text say which error it is."""
    lowered = message.lower()
    if status == 429:
        return RateLimited(message)
    if "nonce" in lowered:
        return InvalidNonce(message)
    if status == 401:
        return AuthenticationError(message)
    if status == 403:
        return PermissionDenied(message)
    if "balance" in lowered or "insufficient" in lowered:
        return InsufficientFunds(message)
    on_order = path.startswith(("/api/v1/order/", "/api/v1/order-cancel/"))
    if status == 404 and on_order:
        return OrderNotFound(message)
    if "pair" in lowered and ("unknown" in lowered or "invalid" in lowered or "not found" in lowered):
        return BadSymbol(message)
    if on_order and status < 500:
        return InvalidOrder(message)
    return BadRequest(message)


def _order_id(order_id: str) -> str:
    text = str(order_id)
    if not text.isdigit():
        raise OrderNotFound(f"BTC-Alpha order ids are integers, got {order_id!r}", exchange="btcalpha")
    return text
