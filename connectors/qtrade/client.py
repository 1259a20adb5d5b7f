"""qTrade connector (``https://api.qtrade.io/v1``, specs/qtrade.md).

Credentials: qTrade issues one string ``<key_id>:<key>``; pass the part before the first
colon as ``key`` and the part after it as ``secret``.

Choices where the spec leaves a question open:
- ``HMAC-Timestamp`` is Unix seconds (the official docs and client), read from the clock at
  signing time. It is not a nonce: qTrade accepts a repeated timestamp, and a strictly
  increasing one-per-request counter (what the base's NonceManager issues) would run one
  second ahead of the clock per request in a burst and leave the server's window. So the
  class declares ``nonce_unit = None`` and signs the clock. There is no server-time endpoint.
- Market ids are qTrade's integer ids (``"1"`` for LTC_BTC): every order, trade and ticker
  carries ``market_id``, while ``market_string`` is only in newer answers.
- ``minimum_sell_amount`` is taken as the market's minimum amount and ``minimum_buy_value``
  as its minimum cost (ccxt's reading), both for either side.
- Balances come from the undocumented ``/user/balances_all`` (free + in orders); the
  documented ``/user/balances`` has free amounts only.
- A closed order with ``close_reason`` ``canceled`` is canceled, without one it is filled;
  a canceled order's filled amount is the sum of its trades (its remaining is sent as 0).
- ``cancel_order`` returns None: qTrade answers an empty body, and re-reading the order
  would spend a second request of a 1 request/s budget (call :meth:`fetch_order`).
- Candle volume is ``market_volume`` (base currency); a slice without it is refused rather
  than reported in the wrong currency.
- Memos travel as ``address:memo`` (ccxt): ``withdraw(..., tag=)`` appends one and deposit
  addresses are split on the first colon.
- Rate limits: a windowed 60 requests per 60 s (docs' example) per key and 120 per IP for
  public calls (the official client's figure). Each pool's burst plus its refill over
  60 s stays below the window, so neither a sliding nor a fixed window is ever exceeded.
- A 429 waits for ``X-Ratelimit-Reset`` (seconds until the window resets) when sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

import msgspec
from yarl import URL

from connectors.qtrade import schemas as s
from connectors.qtrade.auth import Signer
from core.connector import Connector, Endpoint, Pool, encode_query, format_decimal, to_decimal
from core.credentials import Credentials
from core.errors import (
    AuthenticationError,
    BadRequest,
    BadSymbol,
    ExchangeError,
    ExchangeUnavailable,
    ExconnError,
    InsufficientFunds,
    InvalidNonce,
    InvalidOrder,
    OrderNotFound,
    PermissionDenied,
    RateLimited,
)
from core.models import Balance, Candle, Currency, DepositAddress, Market, Order, OrderBook, Ticker, Trade, Transfer
from core.timestamps import now_ms
from core.transport import Prepared, Response

__all__ = ["QTrade"]

_JSON = "application/json"
_encode = msgspec.json.Encoder(decimal_format="string")

_ERRORS: dict[str, type[ExconnError]] = {
    "invalid_auth": AuthenticationError,
    "insuff_funds": InsufficientFunds,
    "order_not_found": OrderNotFound,
    "market_not_found": BadSymbol,
    "too_small": InvalidOrder,
    "invalid_amount": InvalidOrder,
    "invalid_price": InvalidOrder,
    "limit_exceeded": RateLimited,
}
_BY_STATUS: dict[int, type[ExconnError]] = {401: AuthenticationError, 403: PermissionDenied, 429: RateLimited}


class QTrade(Connector):
    """qTrade spot: limit orders only; deposits, withdrawals and internal transfers."""

    id = "qtrade"
    name = "qTrade"
    urls = MappingProxyType({"api": "https://api.qtrade.io"})
    endpoints = MappingProxyType({
        "common": Endpoint("GET", "/v1/common"),
        "markets": Endpoint("GET", "/v1/markets"),
        "market": Endpoint("GET", "/v1/market/{market}"),
        "currencies": Endpoint("GET", "/v1/currencies"),
        "currency": Endpoint("GET", "/v1/currency/{code}"),
        "ticker": Endpoint("GET", "/v1/ticker/{market}"),
        "ticker_by_id": Endpoint("GET", "/v1/ticker_by_id/{market_id}"),
        "tickers": Endpoint("GET", "/v1/tickers"),
        "orderbook": Endpoint("GET", "/v1/orderbook/{market}"),
        "orderbook_by_id": Endpoint("GET", "/v1/orderbook_by_id/{market_id}"),
        "trades": Endpoint("GET", "/v1/market/{market}/trades"),
        "ohlcv": Endpoint("GET", "/v1/market/{market}/ohlcv/{interval}"),
        "me": Endpoint("GET", "/v1/user/me", auth=True),
        "balances": Endpoint("GET", "/v1/user/balances", auth=True),
        "balances_all": Endpoint("GET", "/v1/user/balances_all", auth=True),
        "user_market": Endpoint("GET", "/v1/user/market/{market}", auth=True),
        "orders": Endpoint("GET", "/v1/user/orders", auth=True),
        "order": Endpoint("GET", "/v1/user/order/{order_id}", auth=True),
        "sell_limit": Endpoint("POST", "/v1/user/sell_limit", auth=True),
        "buy_limit": Endpoint("POST", "/v1/user/buy_limit", auth=True),
        "cancel_order": Endpoint("POST", "/v1/user/cancel_order", auth=True),
        "my_trades": Endpoint("GET", "/v1/user/trades", auth=True),
        "deposits": Endpoint("GET", "/v1/user/deposits", auth=True),
        "deposit": Endpoint("GET", "/v1/user/deposit/{deposit_id}", auth=True),
        "withdraws": Endpoint("GET", "/v1/user/withdraws", auth=True),
        "withdrawal": Endpoint("GET", "/v1/user/withdraw/{withdraw_id}", auth=True),
        "deposit_address": Endpoint("POST", "/v1/user/deposit_address/{currency}", auth=True),
        "withdraw": Endpoint("POST", "/v1/user/withdraw", auth=True),
        "transfers": Endpoint("GET", "/v1/user/transfers", auth=True),
    })
    # at most burst + rate requests in any 60 s: 114 of 120 per IP, 57 of 60 per key
    rate_limits = MappingProxyType({
        "public": Pool(90, period=60, burst=24),
        "private": Pool(45, period=60, burst=12, per_key=True),
    })
    not_supported = MappingProxyType({
        "fetch_server_time": "qTrade documents no server-time endpoint",
        "create_market_order": "qTrade has limit orders only (buy_limit / sell_limit)",
    })
    emulated = MappingProxyType({"cancel_all_orders": "lists open orders (open=true) and cancels each"})
    timeframes = MappingProxyType({
        "5m": "fivemin", "15m": "fifteenmin", "30m": "thirtymin", "1h": "onehour", "2h": "twohour",
        "4h": "fourhour", "1d": "oneday",
    })
    nonce_unit = None  # HMAC-Timestamp is the clock in seconds, not a nonce (see the module docstring)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        credentials = self._credentials
        if credentials is not None and ":" in credentials.key:
            raise AuthenticationError("qTrade's '<key_id>:<key>' goes in two parts: key=<key_id>, secret=<key>",
                                      exchange=self.id)
        self._signer = None if credentials is None else Signer(credentials.key, credentials.secret)
        self._clock: Callable[[], float] = time.time  # HMAC-Timestamp source, epoch seconds

    # -- signing and errors ----------------------------------------------------------

    def _sign(self, ep: Endpoint, url: str, path: str, params: Mapping[str, Any] | None, nonce: int | None,
              credentials: Credentials) -> Prepared:
        signer = self._signer
        assert signer is not None
        timestamp = int(self._clock())  # not `nonce`: see the module docstring
        if ep.method == "GET":
            # yarl re-quotes what it is given; sign the URL it will send, byte for byte
            target = URL(f"{url}?{encode_query(params)}" if params else url)
            headers = signer.headers("GET", target.raw_path_qs, timestamp)
            return Prepared("GET", str(target), path, headers)
        body = _encode.encode({k: v for k, v in (params or {}).items() if v is not None})
        target = URL(url)
        headers = signer.headers(ep.method, target.raw_path_qs, timestamp, body)
        headers["Content-Type"] = _JSON
        return Prepared(ep.method, str(target), path, headers, body)

    def _map_error(self, response: Response) -> ExconnError | None:
        try:
            errors = s.ERRORS.decode(response.body).errors
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):  # RecursionError: nested too deep
            errors = []
        if not errors:
            if response.status == 429:
                return RateLimited(response.text(), retry_after=_reset_seconds(response))
            return None
        code, title = errors[0].code, errors[0].title
        message = "; ".join(f"{e.code}: {e.title}" for e in errors)
        cls = _ERRORS.get(code) or _BY_STATUS.get(response.status)
        if cls is AuthenticationError and "timestamp" in title.lower():
            cls = InvalidNonce
        if cls is RateLimited:
            return RateLimited(message, code=code, retry_after=_reset_seconds(response))
        if cls is None:
            cls = ExchangeUnavailable if response.status >= 500 else BadRequest
        return cls(message, code=code)

    # -- public --------------------------------------------------------------------

    async def _fetch_markets(self) -> list[Market]:
        return [m.to_model() for m in (await self._call("markets", decoder=s.MARKETS)).data.markets]

    async def fetch_currencies(self) -> dict[str, Currency]:
        currencies = (await self._call("currencies", decoder=s.CURRENCIES)).data.currencies
        return {c.code.upper(): c.to_model() for c in currencies}

    async def fetch_ticker(self, symbol: str) -> Ticker:
        market = await self.market(symbol)
        raw = (await self._call("ticker", path_params={"market": market.id}, decoder=s.TICKER)).data
        return raw.to_model(market.symbol, now_ms())

    async def fetch_tickers(self, symbols: Iterable[str] | None = None) -> dict[str, Ticker]:
        await self.load_markets()
        wanted = None if symbols is None else {(await self.market(sym)).symbol for sym in symbols}
        raw = (await self._call("tickers", decoder=s.TICKERS)).data.markets
        received = now_ms()
        result = {}
        for ticker in raw:
            market = self.market_by_id(str(ticker.id))
            if market is not None and (wanted is None or market.symbol in wanted):
                result[market.symbol] = ticker.to_model(market.symbol, received)
        return result

    async def fetch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        """Full depth (qTrade has no depth parameter), cut to ``limit`` levels a side here."""
        market = await self.market(symbol)
        raw = (await self._call("orderbook", path_params={"market": market.id}, decoder=s.ORDER_BOOK)).data
        bids, asks = raw.levels(limit)
        return OrderBook(market.symbol, bids, asks, raw.last_change // 1000)

    async def fetch_trades(self, symbol: str, limit: int | None = None) -> list[Trade]:
        """The latest public trades (qTrade sends up to 200), oldest first."""
        market = await self.market(symbol)
        raw = (await self._call("trades", path_params={"market": market.id}, decoder=s.PUBLIC_TRADES)).data
        trades = sorted((t.to_model(market.symbol) for t in raw.trades), key=lambda t: (t.timestamp, int(t.id)))
        return trades if limit is None else trades[max(len(trades) - limit, 0):]

    async def fetch_candles(self, symbol: str, timeframe: str = "1h", since: int | None = None,
                            limit: int | None = None) -> list[Candle]:
        market = await self.market(symbol)
        params: dict[str, Any] = {}
        if since is not None:
            params["start"] = since // 1000
        if limit is not None:
            params["limit"] = limit
        raw = (await self._call("ohlcv", params, path_params={"market": market.id,
                                                               "interval": self._timeframe(timeframe)},
                                decoder=s.SLICES)).data
        return sorted((c.to_model() for c in raw.slices), key=lambda c: c.timestamp)

    # -- private -------------------------------------------------------------------

    async def fetch_balances(self) -> dict[str, Balance]:
        return (await self._call("balances_all", decoder=s.BALANCES)).data.to_model()

    async def create_order(self, symbol: str, side: str, amount: Any, price: Any = None,
                           type: str = "limit") -> Order:
        market = await self.market(symbol)
        qty, px = self.check_order(market, side, amount, price, type)
        body = {"amount": format_decimal(qty), "price": format_decimal(px),  # type: ignore[arg-type]  # limit only
                "market_id": int(market.id)}
        raw = (await self._call(f"{side}_limit", body, decoder=s.ORDER)).data.order
        return raw.to_model(market.symbol)

    async def cancel_order(self, order_id: str, symbol: str | None = None) -> Order | None:
        """Cancel an open order; qTrade answers an empty body, so this returns None."""
        await self._send("cancel_order", {"id": _order_id(order_id)})
        return None

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        return await self._cancel_all_by_listing(symbol)

    async def fetch_order(self, order_id: str, symbol: str | None = None) -> Order:
        await self.load_markets()
        raw = (await self._call("order", path_params={"order_id": _order_id(order_id)}, decoder=s.ORDER)).data.order
        return raw.to_model(self._market_of(raw.market_id).symbol)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        return await self._orders(symbol, {"open": True})

    async def fetch_orders(self, symbol: str | None = None) -> list[Order]:
        """Open and closed orders, the latest 200."""
        return await self._orders(symbol, {})

    async def _orders(self, symbol: str | None, params: dict[str, Any]) -> list[Order]:
        await self.load_markets()
        if symbol is not None:
            params["market_id"] = (await self.market(symbol)).id
        raw = (await self._call("orders", params, decoder=s.ORDERS)).data.orders
        return [o.to_model(self._market_of(o.market_id).symbol) for o in raw]

    async def fetch_my_trades(self, symbol: str | None = None, limit: int | None = None) -> list[Trade]:
        """Own trades, the latest 200 (or ``limit``), oldest first; fees in the quote currency."""
        await self.load_markets()
        params: dict[str, Any] = {}
        if symbol is not None:
            params["market_id"] = (await self.market(symbol)).id
        params["desc"] = True  # newest first: the default (oldest first) is deprecated
        raw = (await self._call("my_trades", params, decoder=s.MY_TRADES)).data.trades
        newest = raw if limit is None else raw[:max(limit, 0)]
        return sorted((t.to_model(self._market_of(t.market_id)) for t in newest),
                      key=lambda t: (t.timestamp, int(t.id)))

    async def fetch_deposits(self, currency: str | None = None) -> list[Transfer]:
        deposits = (d.to_model() for d in (await self._call("deposits", decoder=s.DEPOSITS)).data.deposits)
        return [d for d in deposits if currency is None or d.currency == currency.upper()]

    async def fetch_deposit(self, deposit_id: str) -> Transfer:
        """One deposit by its id (``"<n>:<txid>"`` as listed)."""
        raw = (await self._call("deposit", path_params={"deposit_id": _path_id(str(deposit_id))},
                                decoder=s.DEPOSIT)).data
        deposit = raw.one()
        if deposit is None:
            raise BadRequest(f"no deposit {deposit_id!r}", exchange=self.id)
        return deposit.to_model()

    async def fetch_withdrawals(self, currency: str | None = None) -> list[Transfer]:
        withdrawals = (w.to_model() for w in (await self._call("withdraws", decoder=s.WITHDRAWS)).data.withdraws)
        return [w for w in withdrawals if currency is None or w.currency == currency.upper()]

    async def fetch_withdrawal(self, withdrawal_id: str) -> Transfer:
        """One withdrawal by id, e.g. to follow one made with :meth:`withdraw`."""
        raw = await self._call("withdrawal", path_params={"withdraw_id": _path_id(str(withdrawal_id))},
                               decoder=s.WITHDRAW)
        return raw.data.withdraw.to_model()

    async def fetch_transfers(self, currency: str | None = None) -> list[Transfer]:
        """Internal credits (referral payouts, transfers from other users); always settled."""
        transfers = (t.to_model() for t in (await self._call("transfers", decoder=s.TRANSFERS)).data.transfers)
        return [t for t in transfers if currency is None or t.currency == currency.upper()]

    async def fetch_deposit_address(self, currency: str) -> DepositAddress:
        code = currency.upper()
        raw = (await self._call("deposit_address", path_params={"currency": _path_id(code)},
                                decoder=s.DEPOSIT_ADDRESS)).data
        if not raw.address:
            raise ExchangeError(f"no {code} deposit address: currency status is {raw.currency_status!r}",
                                exchange=self.id, code=raw.currency_status)
        return raw.to_model(code)

    async def withdraw(self, currency: str, amount: Any, address: str, **params: Any) -> Transfer:
        """Withdraw ``amount`` of ``currency``; ``tag=`` adds a memo. qTrade asks for an email/2FA
        confirmation unless the address is whitelisted, so the result stays pending until then."""
        unknown = set(params) - {"tag"}
        if unknown:
            raise BadRequest(f"qTrade withdrawals take only tag=, not {sorted(unknown)}", exchange=self.id)
        qty = to_decimal(amount, "amount")
        if qty <= 0:
            raise BadRequest(f"amount must be positive, got {format_decimal(qty)}", exchange=self.id)
        tag = params.get("tag")
        destination = address if tag is None else f"{address}:{tag}"
        body = {"address": destination, "amount": format_decimal(qty), "currency": currency.upper()}
        raw = (await self._call("withdraw", body, decoder=s.WITHDRAW_RESULT)).data
        return Transfer(str(raw.id), currency.upper(), qty, "pending", now_ms(), destination)

    def _market_of(self, market_id: int) -> Market:
        market = self.market_by_id(str(market_id))
        if market is None:
            raise BadSymbol(f"unknown market id {market_id!r}", exchange=self.id)
        return market


def _order_id(order_id: str) -> int:
    """Order ids are integers; anything else cannot exist."""
    text = str(order_id)
    if not text.isdigit():
        raise OrderNotFound(f"qTrade ids are integers, got {order_id!r}", exchange="qtrade")
    return int(text)


def _path_id(value: str) -> str:
    if not value or "/" in value or "?" in value or "#" in value:
        raise BadRequest(f"bad qTrade id {value!r}", exchange="qtrade")
    return value


def _reset_seconds(response: Response) -> float | None:
    """``X-Ratelimit-Reset``: seconds until the window resets (not an epoch)."""
    try:
        return max(0.0, float(response.headers["X-Ratelimit-Reset"]))
    except (KeyError, ValueError):
        return None
