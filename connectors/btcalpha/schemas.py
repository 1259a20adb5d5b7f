"""BTC-Alpha's raw JSON, shaped like the wire, and its conversion to core models.

Numbers arrive as JSON numbers in the docs and as decimal strings live: msgspec decodes
both into exact Decimals. Timestamps are float epoch seconds (single order: int ms).
Every struct holds only scalars and lists of structs, never a cycle, hence ``gc=False``: the
garbage collector has no reason to track the thousands a book or trade list decodes into."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from itertools import islice

import msgspec

from core.decoding import checked_conversion
from core.models import Balance, BookLevel, Candle, Currency, Market, Order, OrderBook, Ticker, Trade, Transfer
from core.timestamps import now_ms, seconds_to_ms

# order status -> unified; list endpoints send ints, the single order a string
ORDER_STATUS = {"1": "open", "2": "canceled", "3": "closed"}
# withdrawal status: 10 new, 20 verified, 30 approved, 40 refused, 50 canceled by user
WITHDRAW_STATUS = {10: "pending", 20: "pending", 30: "ok", 40: "failed", 50: "canceled"}
_INFINITY = Decimal("Infinity")


converts = checked_conversion("btcalpha")
# one check per answer on the hot paths: their comparisons already refuse NaN
converts_fast = checked_conversion("btcalpha", finite=False)


def symbol_of(pair: str) -> str:
    return pair.replace("_", "/", 1)


def pair_of(symbol: str) -> str:
    return symbol.replace("/", "_", 1)


class CurrencyRaw(msgspec.Struct, gc=False):
    short_name: str
    sign: str = ""

    @converts
    def to_model(self) -> Currency:
        return Currency(self.short_name, self.short_name)


class PairRaw(msgspec.Struct, gc=False):
    name: str
    currency1: str
    currency2: str
    price_precision: int
    minimum_order_size: Decimal
    maximum_order_size: Decimal
    amount_precision: int | None = None
    minimum_order_value: Decimal | None = None
    liquidity_type: int | None = None

    @converts
    def to_model(self) -> Market:
        return Market(
            symbol=f"{self.currency1}/{self.currency2}", id=self.name, base=self.currency1, quote=self.currency2,
            price_precision=self.price_precision, amount_precision=self.amount_precision,
            min_amount=self.minimum_order_size, max_amount=self.maximum_order_size,
            min_cost=self.minimum_order_value,
        )


class TickerRaw(msgspec.Struct, gc=False):
    timestamp: Decimal
    pair: str
    last: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    vol: Decimal | None = None
    buy: Decimal | None = None
    sell: Decimal | None = None
    diff: Decimal | None = None

    @converts
    def to_model(self) -> Ticker:
        # ``vol`` is the 24 h volume in quote currency (as ccxt reads it); Ticker.volume is
        # base currency and BTC-Alpha does not give that, so it stays None.
        return Ticker(symbol_of(self.pair), self.buy, self.sell, self.last, self.high, self.low, None,
                      seconds_to_ms(self.timestamp))


class LevelRaw(msgspec.Struct, gc=False):
    price: Decimal
    amount: Decimal


class BookRaw(msgspec.Struct, gc=False):
    """2022 form: ``sell`` = asks, ``buy`` = bids."""

    sell: list[LevelRaw] = []
    buy: list[LevelRaw] = []

    @converts_fast
    def to_model(self, symbol: str, limit: int | None) -> OrderBook:
        bids, asks = book_levels(self.sell, self.buy, limit)
        return OrderBook(symbol, bids, asks, now_ms())


class BookOrderRaw(msgspec.Struct, gc=False):
    price: Decimal
    amount: Decimal
    id: int | None = None
    timestamp: Decimal | None = None


class BookOrdersRaw(msgspec.Struct, gc=False):
    """2017 form. As the seed documents it, ``bids`` holds the sell orders and ``asks`` the
    buy orders (its sample agrees: the 'bids' price is above the 'asks' price)."""

    bids: list[BookOrderRaw] = []
    asks: list[BookOrderRaw] = []

    @converts_fast
    def to_model(self, symbol: str, limit: int | None) -> OrderBook:
        """Aggregated by price: ``asks`` (the buy orders) become the bids."""
        bids, asks = book_levels(self.bids, self.asks, limit)
        return OrderBook(symbol, bids, asks, now_ms())


@converts
def checked_book_orders(raw: BookOrdersRaw) -> BookOrdersRaw:
    """The resting orders as sent, once every price and amount is known to be a finite number."""
    return raw


def book_levels(sells: list[LevelRaw] | list[BookOrderRaw], buys: list[LevelRaw] | list[BookOrderRaw],
                limit: int | None) -> tuple[list[BookLevel], list[BookLevel]]:
    """Aggregate and sort best first, whatever order the exchange sent: (bids, asks)."""
    return _best_first(buys, descending=True, limit=limit), _best_first(sells, descending=False, limit=limit)


def _best_first(levels: list[LevelRaw] | list[BookOrderRaw], *, descending: bool,
                limit: int | None) -> list[BookLevel]:
    """One side's levels, best first, equal prices summed. A side already sent strictly best
    first (the usual case) is copied as it is: one pass of comparisons, no hashing of fresh
    Decimals, no sort."""
    if not _strictly_best_first(levels, descending):
        return _aggregate(levels, descending=descending, limit=limit)
    out = [BookLevel(level.price, level.amount) for level in (levels if limit is None else levels[:limit])]
    if not all(map(_finite_amount, out)):
        raise ValueError("a book level with an amount that is not a finite number")
    return out


def _finite_amount(level: BookLevel) -> bool:
    return level.amount.is_finite()


def _strictly_best_first(levels: list[LevelRaw] | list[BookOrderRaw], descending: bool) -> bool:
    try:
        if descending:
            previous = _INFINITY
            for level in levels:
                if not level.price < previous:
                    return False
                previous = level.price
        else:
            previous = -_INFINITY
            for level in levels:
                if not level.price > previous:
                    return False
                previous = level.price
    except InvalidOperation:  # a NaN price does not order: the general path deals with it
        return False
    return previous.is_finite()  # strictly monotone from ±Infinity: the last one bounds them all


def _aggregate(levels: list[LevelRaw] | list[BookOrderRaw], *, descending: bool,
               limit: int | None) -> list[BookLevel]:
    totals: dict[Decimal, Decimal] = {}
    for level in levels:
        if not (level.price.is_finite() and level.amount.is_finite()):
            raise ValueError(f"a book level of {level.amount} at {level.price}")
        totals[level.price] = totals.get(level.price, Decimal(0)) + level.amount
    prices = sorted(totals, reverse=descending)
    if limit is not None:
        prices = prices[:limit]
    return [BookLevel(p, totals[p]) for p in prices]


class TradeRaw(msgspec.Struct, gc=False):
    id: int | str
    timestamp: Decimal
    pair: str
    price: Decimal
    amount: Decimal
    type: str
    my_side: str | None = None
    account_id: int | None = None

    def to_model(self) -> Trade:
        return Trade(str(self.id), symbol_of(self.pair), self.my_side or self.type, self.price, self.amount,
                     seconds_to_ms(self.timestamp))


@converts_fast
def trades_oldest_first(raw: list[TradeRaw]) -> list[Trade]:
    """Public trades as models, oldest first (ties by numeric id). BTC-Alpha sends them
    newest first, so this is usually one pass of comparisons and a reversal, not a sort."""
    trades = [t.to_model() for t in raw]
    if _strictly_newest_first(trades):
        trades.reverse()
    else:
        trades.sort(key=_trade_order)
    return trades


def _trade_order(trade: Trade) -> tuple[int, int]:
    return trade.timestamp, int(trade.id) if trade.id.isdigit() else 0


def _strictly_newest_first(trades: list[Trade]) -> bool:
    """True when each trade is strictly before the one listed above it, in :func:`_trade_order`."""
    for newer, older in zip(trades, islice(trades, 1, None)):
        if older.timestamp < newer.timestamp:
            continue
        if older.timestamp > newer.timestamp or not _trade_order(older) < _trade_order(newer):
            return False
    return True


class CandleRaw(msgspec.Struct, gc=False):
    time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    @converts
    def to_model(self) -> Candle:
        return Candle(self.time * 1000, self.open, self.high, self.low, self.close, self.volume)


class WalletRaw(msgspec.Struct, gc=False):
    """``balance`` is the total and ``reserve`` the part locked in orders (as ccxt reads it)."""

    currency: str
    balance: Decimal
    reserve: Decimal

    @converts
    def to_model(self) -> Balance:
        return Balance(self.currency, self.balance - self.reserve, self.reserve)


class OrderRaw(msgspec.Struct, gc=False):
    """Own-order list entry and single order. ``amount`` is what remains open; the single
    order adds ``amount_original``/``amount_filled`` and ``date`` in ms."""

    id: int | str
    pair: str
    type: str
    price: Decimal
    amount: Decimal
    status: int | str
    date: int | str | None = None  # ms; the live server sends it as a string
    amount_original: Decimal | None = None
    amount_filled: Decimal | None = None

    @converts
    def to_model(self) -> Order:
        status = ORDER_STATUS.get(str(self.status), "open")
        if self.amount_original is not None:
            original = self.amount_original
            filled = self.amount_filled if self.amount_filled is not None else original - self.amount
        elif status == "closed":  # a done order lists its executed amount
            original, filled = self.amount, self.amount
        else:
            original, filled = self.amount, Decimal(0)
        remaining = original - filled if status == "open" else Decimal(0)
        return Order(str(self.id), symbol_of(self.pair), self.type, "limit", self.price, original, filled,
                     remaining, status, int(self.date) if self.date else 0)


class CreateTradeRaw(msgspec.Struct, gc=False):
    type: str
    price: Decimal
    amount: Decimal
    o_id: int
    tid: int


class CreatedRaw(msgspec.Struct, gc=False):
    success: bool
    type: str = ""
    date: Decimal = Decimal(0)
    oid: int | str = 0
    price: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)
    trades: list[CreateTradeRaw] = []
    error: str | None = None

    @converts
    def to_model(self, symbol: str, requested: Decimal) -> Order:
        filled = requested - self.amount
        cost = sum((t.price * t.amount for t in self.trades), Decimal(0))
        return Order(str(self.oid), symbol, self.type, "limit", self.price, requested, filled, self.amount,
                     "open" if self.amount > 0 else "closed", seconds_to_ms(self.date),
                     average=cost / filled if filled > 0 and self.trades else None)


class DepositRaw(msgspec.Struct, gc=False):
    id: int
    timestamp: Decimal
    currency: str
    amount: Decimal

    @converts
    def to_model(self) -> Transfer:
        return Transfer(str(self.id), self.currency, self.amount, "ok", seconds_to_ms(self.timestamp))


class WithdrawalRaw(msgspec.Struct, gc=False):
    id: int
    timestamp: Decimal
    currency: str
    amount: Decimal
    status: int

    @converts
    def to_model(self) -> Transfer:
        return Transfer(str(self.id), self.currency, self.amount, WITHDRAW_STATUS.get(self.status, "pending"),
                        seconds_to_ms(self.timestamp))


class ErrorRaw(msgspec.Struct, gc=False):
    error: str = ""
    success: bool | None = None


CURRENCIES = msgspec.json.Decoder(list[CurrencyRaw])
PAIRS = msgspec.json.Decoder(list[PairRaw])
TICKERS = msgspec.json.Decoder(list[TickerRaw])
TICKER = msgspec.json.Decoder(TickerRaw)
BOOK = msgspec.json.Decoder(BookRaw)
BOOK_ORDERS = msgspec.json.Decoder(BookOrdersRaw)
TRADES = msgspec.json.Decoder(list[TradeRaw])
CANDLES = msgspec.json.Decoder(list[CandleRaw])
WALLETS = msgspec.json.Decoder(list[WalletRaw])
ORDERS = msgspec.json.Decoder(list[OrderRaw])
ORDER = msgspec.json.Decoder(OrderRaw)
CREATED = msgspec.json.Decoder(CreatedRaw)
DEPOSITS = msgspec.json.Decoder(list[DepositRaw])
WITHDRAWALS = msgspec.json.Decoder(list[WithdrawalRaw])
ERROR = msgspec.json.Decoder(ErrorRaw)


class SocketTradeRaw(msgspec.Struct, gc=False):
    """A fill inside a live-book message: ``o_id`` is the resting order hit."""

    tid: int
    type: str
    price: Decimal
    amount: Decimal
    o_id: int


class SocketMessageRaw(msgspec.Struct, gc=False):
    """A ``book_<PAIR>`` socket event: a new order (``amount`` = what rests of it, ``trades`` =
    the fills it caused) or, with ``cancelled``, the cancel of resting order ``oid``."""

    oid: int
    type: str
    price: Decimal
    amount: Decimal
    date: Decimal
    trades: list[SocketTradeRaw] = []
    cancelled: bool = False
    cancel_order_id: int | None = None
    success: bool = True
    pair: str | None = None

    @property
    def is_cancel(self) -> bool:
        return self.cancelled or self.cancel_order_id is not None


SOCKET_MESSAGE = msgspec.json.Decoder(SocketMessageRaw)
