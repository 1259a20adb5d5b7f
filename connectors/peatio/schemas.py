"""Peatio's raw JSON (2.4 shapes, 2.6+ accepted), shaped like the wire, and its conversion
to core models. Decimals come as strings, except k-line rows and public trades (numbers);
``created_at`` is ISO-8601, ``at``/depth ``timestamp`` epoch seconds."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from core.decoding import checked_conversion
from core.models import Balance, BookLevel, Candle, Currency, DepositAddress, Market, Order, Ticker, Trade, Transfer
from core.timestamps import any_to_ms, iso_to_ms, seconds_to_ms

ORDER_STATE = {"pending": "pending", "wait": "open", "done": "closed", "cancel": "canceled", "reject": "rejected"}
# "skipped" follows "accepted" (credited, then not collected to the hot wallet): the money is in
DEPOSIT_STATE = {"submitted": "pending", "accepted": "ok", "collected": "ok", "skipped": "ok",
                 "canceled": "canceled", "rejected": "failed"}
# terminal: succeed, rejected, canceled, failed; "skipped" and "errored" can still be processed
WITHDRAW_STATE = {"prepared": "pending", "submitted": "pending", "accepted": "pending", "processing": "pending",
                  "confirming": "pending", "to_reject": "pending", "skipped": "pending", "errored": "pending",
                  "succeed": "ok", "canceled": "canceled", "rejected": "failed", "failed": "failed"}

converts = checked_conversion("peatio")


class MarketRaw(msgspec.Struct):
    id: str
    base_unit: str
    quote_unit: str
    amount_precision: int | None = None
    price_precision: int | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    min_amount: Decimal | None = None
    state: str = "enabled"
    name: str | None = None

    @converts
    def to_model(self) -> Market:
        max_price = self.max_price if self.max_price else None  # "0.0" means no maximum
        return Market(f"{self.base_unit.upper()}/{self.quote_unit.upper()}", self.id, self.base_unit.upper(),
                      self.quote_unit.upper(), self.price_precision, self.amount_precision, self.min_amount,
                      None, self.min_price, max_price, None, self.state == "enabled")


class CurrencyRaw(msgspec.Struct):
    id: str
    name: str | None = None

    def to_model(self) -> Currency:
        return Currency(self.id.upper(), self.name or self.id.upper())


class TickerValues(msgspec.Struct):
    low: Decimal | None = None
    high: Decimal | None = None
    last: Decimal | None = None
    amount: Decimal | None = None  # 24 h base amount
    volume: Decimal | None = None  # 24 h quote turnover


class TickerRaw(msgspec.Struct):
    at: Decimal
    ticker: TickerValues

    @converts
    def to_model(self, symbol: str) -> Ticker:
        t = self.ticker
        return Ticker(symbol, None, None, t.last, t.high, t.low, t.amount, seconds_to_ms(self.at))


class DepthRaw(msgspec.Struct):
    timestamp: Decimal
    asks: list[tuple[Decimal, Decimal]] = []
    bids: list[tuple[Decimal, Decimal]] = []

    @converts
    def levels(self, limit: int | None) -> tuple[list[BookLevel], list[BookLevel]]:
        """(bids, asks) best first, whatever order the server sent."""
        bids = sorted(self.bids, key=lambda level: level[0], reverse=True)
        asks = sorted(self.asks, key=lambda level: level[0])
        if limit is not None:
            bids, asks = bids[:limit], asks[:limit]
        return [BookLevel(p, a) for p, a in bids], [BookLevel(p, a) for p, a in asks]

    @converts
    def timestamp_ms(self) -> int:
        return seconds_to_ms(self.timestamp)


class PublicTradeRaw(msgspec.Struct):
    id: int
    price: Decimal
    amount: Decimal
    market: str
    created_at: int | float | str  # Influx seconds, or ISO-8601 on some versions
    taker_type: str

    @converts
    def to_model(self, symbol: str) -> Trade:
        return Trade(str(self.id), symbol, self.taker_type, self.price, self.amount, any_to_ms(self.created_at))


class OrderRaw(msgspec.Struct):
    id: int
    side: str
    ord_type: str
    state: str
    market: str
    created_at: str
    origin_volume: Decimal
    remaining_volume: Decimal
    executed_volume: Decimal
    price: Decimal | None = None
    avg_price: Decimal | None = None
    uuid: str | None = None
    trades_count: int = 0

    @converts
    def to_model(self, symbol: str) -> Order:
        average = self.avg_price if self.avg_price and self.executed_volume else None
        return Order(str(self.id), symbol, self.side, self.ord_type, self.price, self.origin_volume,
                     self.executed_volume, self.remaining_volume, ORDER_STATE.get(self.state, "open"),
                     iso_to_ms(self.created_at), average)


class MyTradeRaw(msgspec.Struct):
    id: int
    price: Decimal
    amount: Decimal
    market: str
    created_at: str
    side: str | None = None
    taker_type: str | None = None
    order_id: int | None = None
    fee_amount: Decimal | None = None
    fee_currency: str | None = None

    @converts
    def to_model(self, symbol: str) -> Trade:
        return Trade(str(self.id), symbol, self.side or self.taker_type or "buy", self.price, self.amount,
                     iso_to_ms(self.created_at), None if self.order_id is None else str(self.order_id),
                     self.fee_amount, None if self.fee_currency is None else self.fee_currency.upper())


class BalanceRaw(msgspec.Struct):
    currency: str
    balance: Decimal
    locked: Decimal

    @converts
    def to_model(self) -> Balance:
        return Balance(self.currency.upper(), self.balance, self.locked)


class DepositRaw(msgspec.Struct):
    id: int
    currency: str
    amount: Decimal
    state: str
    created_at: str
    txid: str | None = None
    fee: Decimal | None = None

    @converts
    def to_model(self) -> Transfer:
        return Transfer(str(self.id), self.currency.upper(), self.amount, DEPOSIT_STATE.get(self.state, "pending"),
                        iso_to_ms(self.created_at), txid=self.txid, fee=self.fee)


class WithdrawRaw(msgspec.Struct):
    id: int
    currency: str
    amount: Decimal
    state: str
    created_at: str
    fee: Decimal | None = None
    rid: str | None = None
    blockchain_txid: str | None = None

    @converts
    def to_model(self) -> Transfer:
        return Transfer(str(self.id), self.currency.upper(), self.amount, WITHDRAW_STATE.get(self.state, "pending"),
                        iso_to_ms(self.created_at), self.rid, self.blockchain_txid, self.fee)


class DepositAddressRaw(msgspec.Struct):
    """2.4: ``{"currency", "address"}``; 2.6+: ``{"currencies": [...], "address", "state"}``."""

    address: str | None = None
    currency: str | None = None
    currencies: list[str] = []


class BeneficiaryRaw(msgspec.Struct):
    id: int
    currency: str
    state: str
    data: dict[str, object] = {}


class ErrorRaw(msgspec.Struct):
    errors: list[str] = []


def _resting_price(order: Order) -> Decimal:
    if order.price is None:
        raise ValueError(f"resting order {order.id} has no price")
    return order.price


@converts
def book_orders(raw: dict[str, list[OrderRaw]], symbol: str) -> tuple[list[Order], list[Order]]:
    """The resting orders of ``/order-book`` as (bids, asks), best first."""
    bids = sorted((o.to_model(symbol) for o in raw["bids"]), key=_resting_price, reverse=True)
    asks = sorted((o.to_model(symbol) for o in raw["asks"]), key=_resting_price)
    return bids, asks


@converts
def candle(row: tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]) -> Candle:
    return Candle(row[0] * 1000, row[1], row[2], row[3], row[4], row[5])


@converts
def server_time(text: str) -> int:
    return iso_to_ms(text)


def deposit_address(raw: DepositAddressRaw, currency: str) -> DepositAddress:
    return DepositAddress(currency, raw.address or "")


MARKETS = msgspec.json.Decoder(list[MarketRaw])
CURRENCIES = msgspec.json.Decoder(list[CurrencyRaw])
TICKERS = msgspec.json.Decoder(dict[str, TickerRaw])
TICKER = msgspec.json.Decoder(TickerRaw)
DEPTH = msgspec.json.Decoder(DepthRaw)
BOOK_ORDERS = msgspec.json.Decoder(dict[str, list[OrderRaw]])
PUBLIC_TRADES = msgspec.json.Decoder(list[PublicTradeRaw])
KLINE = msgspec.json.Decoder(list[tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]])
TIMESTAMP = msgspec.json.Decoder(str)
ORDERS = msgspec.json.Decoder(list[OrderRaw])
ORDER = msgspec.json.Decoder(OrderRaw)
MY_TRADES = msgspec.json.Decoder(list[MyTradeRaw])
BALANCES = msgspec.json.Decoder(list[BalanceRaw])
DEPOSITS = msgspec.json.Decoder(list[DepositRaw])
WITHDRAWS = msgspec.json.Decoder(list[WithdrawRaw])
WITHDRAW = msgspec.json.Decoder(WithdrawRaw)
DEPOSIT_ADDRESS = msgspec.json.Decoder(DepositAddressRaw)
BENEFICIARIES = msgspec.json.Decoder(list[BeneficiaryRaw])
ERROR = msgspec.json.Decoder(ErrorRaw)
