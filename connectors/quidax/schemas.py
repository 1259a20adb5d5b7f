"""Quidax's raw JSON, shaped like the wire, and its conversion to core models.

API v2 answers bare payloads: decimals as strings (k-line rows as numbers), ``at`` / depth
``timestamp`` / k-line time in epoch seconds, ``created_at`` ISO-8601. API v1 wraps every
payload in ``{"status", "message", "data"}``, with string ids and ISO-8601 times with ms.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Generic, TypeVar

import msgspec

from core.decoding import checked_conversion
from core.errors import BadResponse
from core.models import Balance, BookLevel, Candle, DepositAddress, Market, Order, Ticker, Trade, Transfer
from core.timestamps import iso_to_ms, seconds_to_ms

T = TypeVar("T")

converts = checked_conversion("quidax")


# ``wait`` = new or partially filled; ``cancel`` may follow a partial fill (see executed_volume)
ORDER_STATE = {"wait": "open", "done": "closed", "cancel": "canceled"}
# Peatio's deposit states: ``accepted`` is credited; ``checked``/``warning`` come after it
DEPOSIT_STATE = {"submitting": "pending", "submitted": "pending", "accepted": "ok", "checked": "ok",
                 "warning": "ok", "rejected": "failed", "cancelled": "canceled", "canceled": "canceled"}
# v1 transaction states seen in clients (spec §5)
WITHDRAW_STATE = {"submitting": "pending", "submitted": "pending", "accepted": "pending", "checked": "pending",
                  "processing": "pending", "done": "ok", "canceled": "canceled", "cancelled": "canceled",
                  "rejected": "failed", "failed": "failed"}


class MarketRaw(msgspec.Struct):
    """``{"id": "btcngn", "name": "BTC/NGN"}``: no precision or limits are published."""

    id: str
    name: str

    def to_model(self) -> Market:
        base, slash, quote = self.name.upper().partition("/")
        if not (base and slash and quote):
            raise BadResponse(f"market {self.id!r} has a name that is not BASE/QUOTE: {self.name!r}",
                              exchange="quidax")
        return Market(f"{base}/{quote}", self.id, base, quote)


class TickerValues(msgspec.Struct):
    """``buy``/``sell`` are the best bid/ask; ``low``/``high``/``vol`` (base) over 24 h."""

    buy: Decimal | None = None
    sell: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    last: Decimal | None = None
    vol: Decimal | None = None


class TickerRaw(msgspec.Struct):
    at: int
    ticker: TickerValues

    @converts
    def to_model(self, symbol: str) -> Ticker:
        t = self.ticker
        return Ticker(symbol, t.buy, t.sell, t.last, t.high, t.low, t.vol, seconds_to_ms(self.at))


class DepthRaw(msgspec.Struct):
    """Aggregated ``[price, volume]`` levels; both sides arrive highest price first."""

    timestamp: int
    asks: list[tuple[Decimal, Decimal]] = []
    bids: list[tuple[Decimal, Decimal]] = []

    @converts
    def levels(self, limit: int | None) -> tuple[list[BookLevel], list[BookLevel]]:
        """(bids, asks) best first, whatever order the server sent."""
        bids = sorted(self.bids, key=lambda level: level[0], reverse=True)[:limit]
        asks = sorted(self.asks, key=lambda level: level[0])[:limit]
        return [BookLevel(p, a) for p, a in bids], [BookLevel(p, a) for p, a in asks]


class TradeRaw(msgspec.Struct):
    """A public trade (``side`` = taker's, adds ``funds``), an own trade (``side`` = ours, adds
    ``order_id``) or an order's trade (neither)."""

    id: int
    price: Decimal
    volume: Decimal
    market: str
    created_at: str
    side: str
    funds: Decimal | None = None
    order_id: int | None = None

    @converts
    def to_model(self, symbol: str) -> Trade:
        return Trade(str(self.id), symbol, self.side, self.price, self.volume, iso_to_ms(self.created_at),
                     None if self.order_id is None else str(self.order_id))


class OrderRaw(msgspec.Struct):
    """``volume`` = ``remaining_volume`` + ``executed_volume``; ``trades`` only on ``/order``."""

    id: int
    side: str
    state: str
    market: str
    created_at: str
    volume: Decimal
    remaining_volume: Decimal
    executed_volume: Decimal
    ord_type: str = "limit"
    price: Decimal | None = None
    avg_price: Decimal | None = None
    trades_count: int = 0
    trades: list[TradeRaw] = []

    @converts
    def to_model(self, symbol: str) -> Order:
        average = self.avg_price if self.avg_price and self.executed_volume else None
        return Order(str(self.id), symbol, self.side, "market" if self.ord_type == "market" else "limit",
                     self.price, self.volume, self.executed_volume, self.remaining_volume,
                     ORDER_STATE.get(self.state, "open"), iso_to_ms(self.created_at), average)


class AccountRaw(msgspec.Struct):
    """``balance`` excludes ``locked``."""

    currency: str
    balance: Decimal
    locked: Decimal

    @converts
    def to_model(self) -> Balance:
        return Balance(self.currency.upper(), self.balance, self.locked)


class MemberRaw(msgspec.Struct):
    """``/members/me``: the key owner's profile and accounts."""

    accounts: list[AccountRaw]
    sn: str | None = None
    name: str | None = None
    email: str | None = None
    activated: bool | None = None


class DepositRaw(msgspec.Struct):
    id: int
    currency: str
    amount: Decimal
    state: str
    created_at: str
    fee: Decimal | None = None
    txid: str | None = None
    confirmations: int | None = None
    done_at: str | None = None

    @converts
    def to_model(self) -> Transfer:
        return Transfer(str(self.id), self.currency.upper(), self.amount, DEPOSIT_STATE.get(self.state, "pending"),
                        iso_to_ms(self.created_at), txid=self.txid, fee=self.fee)


class DepositAddressRaw(msgspec.Struct):
    """An empty ``address`` means it is still being generated."""

    address: str | None = None
    currency: str | None = None

    def to_model(self, currency: str) -> DepositAddress:
        return DepositAddress(currency, self.address or "")


def _resting_price(order: Order) -> Decimal:
    if order.price is None:
        raise ValueError(f"resting order {order.id} has no price")
    return order.price


@converts
def book_orders(raw: dict[str, list[OrderRaw]], symbol: str) -> tuple[list[Order], list[Order]]:
    """The resting orders of ``/order_book`` as (bids, asks), best first."""
    bids = sorted((o.to_model(symbol) for o in raw.get("bids", [])), key=_resting_price, reverse=True)
    asks = sorted((o.to_model(symbol) for o in raw.get("asks", [])), key=_resting_price)
    return bids, asks


@converts
def candle(row: tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]) -> Candle:
    """A ``[time_s, open, high, low, close, volume]`` k-line row."""
    return Candle(seconds_to_ms(row[0]), row[1], row[2], row[3], row[4], row[5])


# -- v1 ------------------------------------------------------------------------------------


class Envelope(msgspec.Struct, Generic[T]):
    """v1's ``{"status": "success", "message": "Successful", "data": …}``."""

    data: T
    status: str = "success"
    message: str = ""


class RecipientDetails(msgspec.Struct):
    address: str | None = None
    destination_tag: str | None = None


class Recipient(msgspec.Struct):
    type: str | None = None
    details: RecipientDetails | None = None


class WithdrawalRaw(msgspec.Struct):
    id: str | int
    currency: str
    amount: Decimal
    status: str
    created_at: str
    fee: Decimal | None = None
    total: Decimal | None = None
    txid: str | None = None
    transaction_note: str | None = None
    narration: str | None = None
    reason: str | None = None
    done_at: str | None = None
    recipient: Recipient | None = None

    @converts
    def to_model(self) -> Transfer:
        details = self.recipient.details if self.recipient is not None else None
        return Transfer(str(self.id), self.currency.upper(), self.amount, WITHDRAW_STATE.get(self.status, "pending"),
                        iso_to_ms(self.created_at), None if details is None else details.address, self.txid,
                        self.fee)


class WalletRaw(msgspec.Struct):
    """A v1 wallet (``/users/{user_id}/wallets``); ``balance`` excludes ``locked``."""

    currency: str
    balance: Decimal
    locked: Decimal
    id: str | None = None
    name: str | None = None
    deposit_address: str | None = None
    destination_tag: str | None = None

    @converts
    def to_model(self) -> Balance:
        return Balance(self.currency.upper(), self.balance, self.locked)


# -- errors --------------------------------------------------------------------------------


class ErrorDetail(msgspec.Struct):
    code: int | str
    message: str = ""


class ErrorRaw(msgspec.Struct):
    """v2 ``{"error": {"code": 1001, "message": …}}`` or v1 ``{"status": "error", "message": …,
    "data": {"code": "validation_error", "message": …}}``."""

    error: ErrorDetail | None = None
    data: ErrorDetail | None = None
    message: str | None = None


MARKETS = msgspec.json.Decoder(list[MarketRaw])
TICKERS = msgspec.json.Decoder(dict[str, TickerRaw])
TICKER = msgspec.json.Decoder(TickerRaw)
DEPTH = msgspec.json.Decoder(DepthRaw)
BOOK_ORDERS = msgspec.json.Decoder(dict[str, list[OrderRaw]])
TRADES = msgspec.json.Decoder(list[TradeRaw])
KLINE = msgspec.json.Decoder(list[tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]])
TIMESTAMP = msgspec.json.Decoder(int)
MEMBER = msgspec.json.Decoder(MemberRaw)
ORDER = msgspec.json.Decoder(OrderRaw)
ORDERS = msgspec.json.Decoder(list[OrderRaw])
DEPOSITS = msgspec.json.Decoder(list[DepositRaw])
DEPOSIT_ADDRESS = msgspec.json.Decoder(DepositAddressRaw)
V1_WITHDRAWALS = msgspec.json.Decoder(Envelope[list[WithdrawalRaw]])
V1_WITHDRAWAL = msgspec.json.Decoder(Envelope[WithdrawalRaw])
V1_WALLETS = msgspec.json.Decoder(Envelope[list[WalletRaw]])
ERROR = msgspec.json.Decoder(ErrorRaw)
