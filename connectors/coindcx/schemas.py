"""CoinDCX's raw JSON, shaped like the wire, and its conversion to core models.

Numbers come as JSON numbers in the docs and often as strings live (balances, tickers,
private trades): msgspec decodes both into exact Decimals. CoinDCX's *target* currency is
the unified base and its *base* currency the unified quote. Times: ticker ``timestamp`` in
seconds; trades, candles, book and private trades in ms (private trades may send a
fractional ms float); order ``created_at`` as ISO-8601 (docs) or integer ms (live).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from core.decoding import checked_conversion
from core.models import Balance, BookLevel, Candle, Currency, Market, Order, Ticker, Trade
from core.timestamps import any_to_ms, seconds_to_ms

ORDER_STATUS = {
    "init": "pending",
    "open": "open",
    "partially_filled": "open",
    "filled": "closed",
    "partially_cancelled": "canceled",
    "cancelled": "canceled",
    "rejected": "rejected",
}
ORDER_TYPE = {"limit_order": "limit", "market_order": "market"}

converts = checked_conversion("coindcx")


class MarketDetailsRaw(msgspec.Struct):
    """One ``markets_details`` entry: ``symbol`` (``BTCINR``) names the market in orders,
    tickers and private trades, ``pair`` (``I-BTC_INR``) in ``/market_data``."""

    symbol: str
    pair: str
    target_currency_short_name: str
    base_currency_short_name: str
    target_currency_name: str = ""
    base_currency_name: str = ""
    coindcx_name: str | None = None
    ecode: str | None = None
    min_quantity: Decimal | None = None
    max_quantity: Decimal | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    min_notional: Decimal | None = None
    base_currency_precision: int | None = None
    target_currency_precision: int | None = None
    step: Decimal | None = None
    order_types: list[str] = []
    status: str = "active"

    @property
    def unified_symbol(self) -> str:
        return f"{self.target_currency_short_name.upper()}/{self.base_currency_short_name.upper()}"

    @converts
    def to_model(self) -> Market:
        """Minimum amount = max(min_quantity, one unit of the target precision), as the FAQ says."""
        min_amount = self.min_quantity
        if self.target_currency_precision is not None:
            unit = Decimal(1).scaleb(-self.target_currency_precision)
            min_amount = unit if min_amount is None else max(min_amount, unit)
        return Market(
            self.unified_symbol, self.symbol, self.target_currency_short_name.upper(),
            self.base_currency_short_name.upper(), price_precision=self.base_currency_precision,
            amount_precision=self.target_currency_precision, min_amount=min_amount, max_amount=self.max_quantity,
            min_price=self.min_price, max_price=self.max_price, min_cost=self.min_notional,
            active=self.status == "active",
        )

    def currencies(self) -> tuple[Currency, Currency]:
        target, base = self.target_currency_short_name.upper(), self.base_currency_short_name.upper()
        return Currency(target, self.target_currency_name or target), Currency(base, self.base_currency_name or base)


class TickerRaw(msgspec.Struct):
    """``/exchange/ticker`` entry; ``volume`` is the 24 h quote turnover (ccxt, uncertain), so it
    is not the model's base volume; ``timestamp`` in seconds. Fields are omitted while unknown."""

    market: str
    timestamp: Decimal
    last_price: Decimal | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    volume: Decimal | None = None
    change_24_hour: Decimal | None = None

    @converts
    def to_model(self, symbol: str) -> Ticker:
        return Ticker(symbol, self.bid, self.ask, self.last_price, self.high, self.low, None,
                      seconds_to_ms(self.timestamp))


class BookRaw(msgspec.Struct):
    """Price -> amount objects (strings or numbers); ``timestamp`` ms on live answers only."""

    asks: dict[Decimal, Decimal] = {}
    bids: dict[Decimal, Decimal] = {}
    timestamp: int | None = None

    @converts
    def levels(self, limit: int | None) -> tuple[list[BookLevel], list[BookLevel]]:
        """(bids, asks) best first, at most ``limit`` a side, whatever order the server sent."""
        bids = sorted(self.bids.items(), reverse=True)
        asks = sorted(self.asks.items())
        if limit is not None:
            bids, asks = bids[:limit], asks[:limit]
        return [BookLevel(p, a) for p, a in bids], [BookLevel(p, a) for p, a in asks]


class PublicTradeRaw(msgspec.Struct):
    """``p`` price, ``q`` amount, ``s`` market symbol, ``T`` ms, ``m`` buyer is maker (taker sold)."""

    p: Decimal
    q: Decimal
    T: int
    m: bool
    s: str = ""

    @converts
    def to_model(self, symbol: str, occurrence: int = 0) -> Trade:
        """CoinDCX gives public trades no id: the id is ``<T>-<price>-<amount>-<side>``, stable
        across polls, plus ``-<n>`` for the n-th identical fill of the same millisecond."""
        side = "sell" if self.m else "buy"
        suffix = f"-{occurrence}" if occurrence else ""
        return Trade(f"{self.T}-{self.p}-{self.q}-{side}{suffix}", symbol, side, self.p, self.q, self.T)


class CandleRaw(msgspec.Struct):
    """``time`` = open time in ms; ``volume`` in target (base) currency."""

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    time: int

    @converts
    def to_model(self) -> Candle:
        return Candle(self.time, self.open, self.high, self.low, self.close, self.volume)


class BalanceRaw(msgspec.Struct):
    """``balance`` is free, ``locked_balance`` held in open orders."""

    currency: str
    balance: Decimal
    locked_balance: Decimal

    @converts
    def to_model(self) -> Balance:
        return Balance(self.currency.upper(), self.balance, self.locked_balance)


class OrderRaw(msgspec.Struct):
    """An order; quantities in target (base) currency, ``price_per_unit``/``avg_price`` in quote."""

    id: str
    market: str
    side: str
    order_type: str
    status: str
    total_quantity: Decimal
    remaining_quantity: Decimal
    price_per_unit: Decimal | None = None
    avg_price: Decimal | None = None
    fee_amount: Decimal | None = None
    fee: Decimal | None = None
    client_order_id: str | None = None
    created_at: int | float | str | None = None
    updated_at: int | float | str | None = None

    @converts
    def to_model(self, symbol: str) -> Order:
        """Unknown statuses read as open and unknown types (stop_limit, take_profit) as limit."""
        kind = ORDER_TYPE.get(self.order_type, "limit")
        filled = self.total_quantity - self.remaining_quantity
        average = self.avg_price if filled and self.avg_price else None
        return Order(
            self.id, symbol, self.side, kind, self.price_per_unit if kind == "limit" else None,
            self.total_quantity, filled, self.remaining_quantity, ORDER_STATUS.get(self.status, "open"),
            0 if self.created_at is None else any_to_ms(self.created_at, numeric_unit="ms"), average,
        )


class CreatedRaw(msgspec.Struct):
    """``orders/create`` (and ``create_multiple``) wrap the new orders in ``orders``."""

    orders: list[OrderRaw]


class ActiveOrdersRaw(msgspec.Struct):
    """The live ``active_orders`` shape; the docs' bare array is accepted too (``ACTIVE_ORDERS``)."""

    orders: list[OrderRaw] = []


class CountRaw(msgspec.Struct):
    count: int
    status: int | None = None


class MyTradeRaw(msgspec.Struct):
    """``orders/trade_history`` entry; ``fee_amount`` in base (unified quote) currency,
    ``timestamp`` in ms (possibly with a fraction)."""

    id: int
    order_id: str
    side: str
    quantity: Decimal
    price: Decimal
    symbol: str
    timestamp: Decimal
    fee_amount: Decimal | None = None
    ecode: str | None = None

    @converts
    def to_model(self, market: Market) -> Trade:
        return Trade(str(self.id), market.symbol, self.side, self.price, self.quantity, int(self.timestamp),
                     self.order_id, self.fee_amount, market.quote if self.fee_amount is not None else None)


class ErrorRaw(msgspec.Struct):
    """``{"code": 404, "message": "Order not found", "status": "error"}``."""

    message: str = ""
    code: int | str | None = None
    status: int | str | None = None


MARKETS_DETAILS = msgspec.json.Decoder(list[MarketDetailsRaw])
TICKERS = msgspec.json.Decoder(list[TickerRaw])
BOOK = msgspec.json.Decoder(BookRaw)
PUBLIC_TRADES = msgspec.json.Decoder(list[PublicTradeRaw])
CANDLES = msgspec.json.Decoder(list[CandleRaw])
BALANCES = msgspec.json.Decoder(list[BalanceRaw])
CREATED = msgspec.json.Decoder(CreatedRaw)
ORDER = msgspec.json.Decoder(OrderRaw)
ORDERS = msgspec.json.Decoder(list[OrderRaw])
ACTIVE_ORDERS = msgspec.json.Decoder(list[OrderRaw] | ActiveOrdersRaw)
COUNT = msgspec.json.Decoder(CountRaw)
MY_TRADES = msgspec.json.Decoder(list[MyTradeRaw])
ERROR = msgspec.json.Decoder(ErrorRaw)
