"""Unified, exchange-agnostic data models.

Money is always :class:`decimal.Decimal` (never float); timestamps are UTC epoch
milliseconds (``int``); symbols are ``BASE/QUOTE`` upper case.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Literal

import msgspec

if TYPE_CHECKING:
    import pandas

__all__ = [
    "Side",
    "OrderType",
    "OrderStatus",
    "TransferStatus",
    "Market",
    "Currency",
    "Ticker",
    "BookLevel",
    "OrderBook",
    "Trade",
    "Order",
    "Balance",
    "Candle",
    "Transfer",
    "DepositAddress",
]

Side = Literal["buy", "sell"]
OrderType = Literal["limit", "market"]
OrderStatus = Literal["pending", "open", "closed", "canceled", "rejected"]
TransferStatus = Literal["pending", "ok", "failed", "canceled"]


def _one_row_html(item: msgspec.Struct) -> str:
    """A model as a one-row HTML table, for notebooks."""
    from core.frames import html_table  # frames imports this module

    return html_table([item], caption=type(item).__name__).html


def _num(value: Decimal | None) -> str:
    """Render a Decimal for reprs: plain notation, no exponent, no ``Decimal('…')``."""
    if value is None:
        return "-"
    return format(value, "f")


class Market(msgspec.Struct, frozen=True, gc=False):
    """A tradable pair. Precisions are numbers of decimal places; limits are in base
    (amount), quote (price) and quote (cost) currency."""

    symbol: str
    id: str
    base: str
    quote: str
    price_precision: int | None = None
    amount_precision: int | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    min_cost: Decimal | None = None
    active: bool = True

    def __repr__(self) -> str:
        return (
            f"Market({self.symbol} id={self.id!r} price_dp={self.price_precision} "
            f"amount_dp={self.amount_precision} min_amount={_num(self.min_amount)}"
            f"{'' if self.active else ' inactive'})"
        )


class Currency(msgspec.Struct, frozen=True, gc=False):
    code: str
    name: str

    def __repr__(self) -> str:
        return f"Currency({self.code} {self.name!r})"


class Ticker(msgspec.Struct, frozen=True, gc=False):
    """24 h ticker. ``volume`` is in base currency; ``timestamp`` in epoch ms."""

    symbol: str
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    high: Decimal | None
    low: Decimal | None
    volume: Decimal | None
    timestamp: int

    def __repr__(self) -> str:
        return (
            f"Ticker({self.symbol} bid={_num(self.bid)} ask={_num(self.ask)} "
            f"last={_num(self.last)} vol={_num(self.volume)} t={self.timestamp})"
        )

    def _repr_html_(self) -> str:
        return _one_row_html(self)


class BookLevel(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """One aggregated price level: ``price`` in quote, ``amount`` in base currency."""

    price: Decimal
    amount: Decimal

    def __repr__(self) -> str:
        return f"{_num(self.amount)}@{_num(self.price)}"


class OrderBook(msgspec.Struct, gc=False):
    """Price levels, bids highest first and asks lowest first; ``timestamp`` in epoch ms."""

    symbol: str
    bids: list[BookLevel]
    asks: list[BookLevel]
    timestamp: int

    @property
    def best_bid(self) -> BookLevel | None:
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> BookLevel | None:
        return self.asks[0] if self.asks else None

    @property
    def spread(self) -> Decimal | None:
        if not self.bids or not self.asks:
            return None
        return self.asks[0].price - self.bids[0].price

    def __repr__(self) -> str:
        bid = self.bids[0] if self.bids else None
        ask = self.asks[0] if self.asks else None
        return (
            f"OrderBook({self.symbol} {len(self.bids)} bids / {len(self.asks)} asks, "
            f"best {bid!r} | {ask!r}, spread={_num(self.spread)}, t={self.timestamp})"
        )

    def _repr_html_(self) -> str:
        from core.frames import book_html  # frames imports this module

        return book_html(self).html

    def to_dataframe(self) -> pandas.DataFrame:
        """A pandas DataFrame, one row per level (side, price, amount); needs the ``pandas`` extra."""
        from core.frames import book_frame

        return book_frame(self)


class Trade(msgspec.Struct, frozen=True, gc=False):
    """A public or own trade. ``side`` is the taker's side for public trades and our side
    for own trades; ``fee`` is absolute, in ``fee_currency``."""

    id: str
    symbol: str
    side: Side
    price: Decimal
    amount: Decimal
    timestamp: int
    order_id: str | None = None
    fee: Decimal | None = None
    fee_currency: str | None = None

    @property
    def cost(self) -> Decimal:
        """Price times amount, in quote currency."""
        return self.price * self.amount

    def __repr__(self) -> str:
        return (
            f"Trade({self.id} {self.symbol} {self.side} {_num(self.amount)}@{_num(self.price)} "
            f"t={self.timestamp}{'' if self.order_id is None else ' order=' + self.order_id})"
        )

    def _repr_html_(self) -> str:
        return _one_row_html(self)


class Order(msgspec.Struct, frozen=True, gc=False):
    """An order. Amounts in base currency, prices in quote; ``price`` is None for market
    orders; ``average`` is the average fill price when known."""

    id: str
    symbol: str
    side: Side
    type: OrderType
    price: Decimal | None
    amount: Decimal
    filled: Decimal
    remaining: Decimal
    status: OrderStatus
    timestamp: int
    average: Decimal | None = None

    def __repr__(self) -> str:
        return (
            f"Order({self.id} {self.symbol} {self.type} {self.side} {_num(self.amount)}"
            f"@{_num(self.price)} filled={_num(self.filled)} {self.status} t={self.timestamp})"
        )

    def _repr_html_(self) -> str:
        return _one_row_html(self)


class Balance(msgspec.Struct, frozen=True, gc=False):
    """Free and locked (in orders or withdrawals) amounts of one currency."""

    currency: str
    free: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        return self.free + self.locked

    def __repr__(self) -> str:
        return f"Balance({self.currency} free={_num(self.free)} locked={_num(self.locked)})"

    def _repr_html_(self) -> str:
        return _one_row_html(self)


class Candle(msgspec.Struct, frozen=True, gc=False):
    """OHLCV bar; ``timestamp`` is the open time in epoch ms, ``volume`` in base currency."""

    timestamp: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def __repr__(self) -> str:
        return (
            f"Candle(t={self.timestamp} o={_num(self.open)} h={_num(self.high)} "
            f"l={_num(self.low)} c={_num(self.close)} v={_num(self.volume)})"
        )

    def _repr_html_(self) -> str:
        return _one_row_html(self)


class Transfer(msgspec.Struct, frozen=True, gc=False):
    """A deposit or withdrawal; ``amount`` and ``fee`` in ``currency``."""

    id: str
    currency: str
    amount: Decimal
    status: TransferStatus
    timestamp: int
    address: str | None = None
    txid: str | None = None
    fee: Decimal | None = None

    def __repr__(self) -> str:
        return f"Transfer({self.id} {_num(self.amount)} {self.currency} {self.status} t={self.timestamp})"


class DepositAddress(msgspec.Struct, frozen=True, gc=False):
    currency: str
    address: str
    tag: str | None = None

    def __repr__(self) -> str:
        tag = "" if self.tag is None else f" tag={self.tag!r}"
        return f"DepositAddress({self.currency} {self.address!r}{tag})"
