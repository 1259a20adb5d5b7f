"""qTrade's raw JSON, shaped like the wire, and its conversion to core models.

Every answer is ``{"data": ...}``; errors are ``{"errors": [{"code", "title"}]}``. Amounts
are decimal strings, times ISO-8601 UTC (book and ticker ``last_change`` are epoch µs).
qTrade's words are inverted: ``market_currency`` is our base, ``base_currency`` our quote.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Generic, TypeVar

import msgspec

from core.decoding import checked_conversion
from core.errors import BadResponse
from core.models import Balance, BookLevel, Candle, Currency, DepositAddress, Market, Order, Ticker, Trade, Transfer
from core.timestamps import iso_to_ms

T = TypeVar("T")

converts = checked_conversion("qtrade")


DEPOSIT_STATUS = {"credited": "ok"}
WITHDRAW_STATUS = {"initiated": "pending", "needs_create": "pending", "confirmed": "ok"}
# Address prefixes that are part of the address, not a memo separator.
_ADDRESS_PREFIXES = frozenset({"bitcoincash", "bchtest", "bchreg", "ecash"})


class Data(msgspec.Struct, Generic[T]):
    """The success envelope."""

    data: T


def symbol_of(market_currency: str, base_currency: str) -> str:
    return f"{market_currency.upper()}/{base_currency.upper()}"


class MarketRaw(msgspec.Struct):
    """``minimum_*`` and ``*_precision`` appear in 2020 responses, not in the docs' sample."""

    id: int
    market_currency: str
    base_currency: str
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    can_trade: bool = True
    can_cancel: bool = True
    can_view: bool = True
    market_string: str | None = None
    minimum_sell_amount: Decimal | None = None
    minimum_buy_value: Decimal | None = None
    market_precision: int | None = None
    base_precision: int | None = None

    @converts
    def to_model(self) -> Market:
        return Market(
            symbol=symbol_of(self.market_currency, self.base_currency), id=str(self.id),
            base=self.market_currency.upper(), quote=self.base_currency.upper(),
            price_precision=self.base_precision, amount_precision=self.market_precision,
            min_amount=self.minimum_sell_amount, min_cost=self.minimum_buy_value, active=self.can_trade,
        )


class MarketsRaw(msgspec.Struct):
    markets: list[MarketRaw]


class CurrencyConfigRaw(msgspec.Struct):
    withdraw_fee: Decimal | None = None
    required_confirmations: int | None = None


class CurrencyRaw(msgspec.Struct):
    code: str
    long_name: str
    status: str = "ok"
    can_withdraw: bool = True
    precision: int | None = None
    config: CurrencyConfigRaw = msgspec.field(default_factory=CurrencyConfigRaw)

    def to_model(self) -> Currency:
        return Currency(self.code.upper(), self.long_name)


class CurrenciesRaw(msgspec.Struct):
    currencies: list[CurrencyRaw]


class TickerRaw(msgspec.Struct):
    """``day_volume_market`` is in our base currency, ``day_volume_base`` in our quote."""

    id: int
    id_hr: str
    ask: Decimal | None = None
    bid: Decimal | None = None
    last: Decimal | None = None
    day_open: Decimal | None = None
    day_high: Decimal | None = None
    day_low: Decimal | None = None
    day_avg_price: Decimal | None = None
    day_change: Decimal | None = None
    day_volume_base: Decimal | None = None
    day_volume_market: Decimal | None = None
    last_change: int | None = None  # epoch µs

    @converts
    def to_model(self, symbol: str, received_ms: int) -> Ticker:
        """``received_ms`` stands in for the time when the exchange sent no ``last_change``."""
        timestamp = received_ms if self.last_change is None else self.last_change // 1000
        return Ticker(symbol, self.bid, self.ask, self.last, self.day_high, self.day_low, self.day_volume_market,
                      timestamp)


class TickersRaw(msgspec.Struct):
    markets: list[TickerRaw]


class OrderBookRaw(msgspec.Struct):
    """Price -> amount maps; ``buy`` are the bids, ``sell`` the asks, in no useful order."""

    buy: dict[Decimal, Decimal]
    sell: dict[Decimal, Decimal]
    last_change: int  # epoch µs

    @converts
    def levels(self, limit: int | None) -> tuple[list[BookLevel], list[BookLevel]]:
        """(bids, asks) best first, at most ``limit`` a side."""
        bids = sorted(self.buy, reverse=True)[:limit]
        asks = sorted(self.sell)[:limit]
        return [BookLevel(p, self.buy[p]) for p in bids], [BookLevel(p, self.sell[p]) for p in asks]


class PublicTradeRaw(msgspec.Struct):
    """``side`` (the taker's) is in 2020 responses; the docs' sample has only ``seller_taker``."""

    id: int
    amount: Decimal
    price: Decimal
    created_at: str
    seller_taker: bool | None = None
    side: str | None = None

    @converts
    def to_model(self, symbol: str) -> Trade:
        side = self.side or ("sell" if self.seller_taker else "buy")
        return Trade(str(self.id), symbol, side, self.price, self.amount, iso_to_ms(self.created_at))


class PublicTradesRaw(msgspec.Struct):
    trades: list[PublicTradeRaw]


class SliceRaw(msgspec.Struct):
    """One OHLCV slice. ``volume`` is in qTrade's base currency (our quote); the volume in
    our base currency is ``market_volume``, present in 2020 responses only."""

    time: str
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    market_volume: Decimal | None = None

    @converts
    def to_model(self) -> Candle:
        if self.market_volume is None:
            raise BadResponse("OHLCV slice without market_volume: its volume is in the quote currency and the "
                              "base volume cannot be derived exactly", exchange="qtrade")
        return Candle(iso_to_ms(self.time), self.open, self.high, self.low, self.close, self.market_volume)


class SlicesRaw(msgspec.Struct):
    slices: list[SliceRaw]


class BalanceRaw(msgspec.Struct):
    currency: str
    balance: Decimal


class BalancesRaw(msgspec.Struct):
    """``/user/balances`` (free only) and ``/user/balances_all`` (plus ``order_balances``)."""

    balances: list[BalanceRaw]
    order_balances: list[BalanceRaw] = []

    @converts
    def to_model(self) -> dict[str, Balance]:
        free: dict[str, Decimal] = {}
        locked: dict[str, Decimal] = {}
        for totals, rows in ((free, self.balances), (locked, self.order_balances)):
            for row in rows:
                code = row.currency.upper()
                totals[code] = totals.get(code, Decimal(0)) + row.balance
        return {code: Balance(code, free.get(code, Decimal(0)), locked.get(code, Decimal(0)))
                for code in sorted(free.keys() | locked.keys())}


class OrderTradeRaw(msgspec.Struct):
    """A fill inside an order; in a create-order answer ``id`` is 0 and ``created_at`` the
    placeholder ``0001-01-01T00:00:00Z``."""

    market_amount: Decimal
    price: Decimal
    id: int = 0
    base_amount: Decimal | None = None
    base_fee: Decimal | None = None
    taker: bool | None = None
    created_at: str | None = None


class OrderRaw(msgspec.Struct):
    """``market_amount_remaining`` is "0" on every closed order, canceled ones included."""

    id: int
    market_id: int
    order_type: str  # buy_limit | sell_limit
    price: Decimal
    market_amount: Decimal
    market_amount_remaining: Decimal
    open: bool
    created_at: str
    base_amount: Decimal | None = None
    close_reason: str | None = None
    market_string: str | None = None
    trades: list[OrderTradeRaw] | None = None

    @converts
    def to_model(self, symbol: str) -> Order:
        trades = self.trades or []
        traded = sum((t.market_amount for t in trades), Decimal(0))
        if self.open or self.close_reason is None:
            filled = self.market_amount - self.market_amount_remaining
        else:
            filled = traded
        average = sum((t.price * t.market_amount for t in trades), Decimal(0)) / traded if traded else None
        return Order(str(self.id), symbol, "sell" if self.order_type.startswith("sell") else "buy", "limit",
                     self.price, self.market_amount, filled, self.market_amount_remaining,
                     self._status(filled), iso_to_ms(self.created_at), average)

    def _status(self, filled: Decimal) -> str:
        """open → open; closed without a reason → filled; ``canceled`` (or an unknown reason
        on an order not fully filled) → canceled."""
        if self.open:
            return "open"
        if self.close_reason is None or (self.close_reason != "canceled" and filled == self.market_amount):
            return "closed"
        return "canceled"


class OrderWrapRaw(msgspec.Struct):
    order: OrderRaw


class OrdersRaw(msgspec.Struct):
    orders: list[OrderRaw]


class MyTradeRaw(msgspec.Struct):
    """``base_fee`` is in qTrade's base currency (our quote); ``side`` is ours."""

    id: int
    market_amount: Decimal
    price: Decimal
    order_id: int
    market_id: int
    side: str
    created_at: str
    base_amount: Decimal | None = None
    base_fee: Decimal | None = None
    taker: bool | None = None

    @converts
    def to_model(self, market: Market) -> Trade:
        return Trade(str(self.id), market.symbol, self.side, self.price, self.market_amount,
                     iso_to_ms(self.created_at), str(self.order_id), self.base_fee,
                     None if self.base_fee is None else market.quote)


class MyTradesRaw(msgspec.Struct):
    trades: list[MyTradeRaw]


class NetworkDataRaw(msgspec.Struct):
    txid: str | None = None
    confirms: int | None = None
    confirms_required: int | None = None


class DepositRaw(msgspec.Struct):
    """``id`` is a string, often ``"<n>:<txid>"``."""

    id: str
    currency: str
    amount: Decimal
    status: str
    created_at: str
    address: str | None = None
    network_data: NetworkDataRaw = msgspec.field(default_factory=NetworkDataRaw)
    relay_status: str = ""

    @converts
    def to_model(self) -> Transfer:
        return Transfer(self.id, self.currency.upper(), self.amount, DEPOSIT_STATUS.get(self.status, "pending"),
                        iso_to_ms(self.created_at), self.address, self.network_data.txid)


class DepositsRaw(msgspec.Struct):
    deposits: list[DepositRaw]


class DepositWrapRaw(msgspec.Struct):
    """The docs show ``deposit`` as a one-element list, live answers an object."""

    deposit: DepositRaw | list[DepositRaw]

    def one(self) -> DepositRaw | None:
        if isinstance(self.deposit, DepositRaw):
            return self.deposit
        return self.deposit[0] if self.deposit else None


class WithdrawRaw(msgspec.Struct):
    id: int
    currency: str
    amount: Decimal
    status: str
    created_at: str
    address: str | None = None
    cancel_requested: bool = False
    network_data: NetworkDataRaw = msgspec.field(default_factory=NetworkDataRaw)
    relay_status: str = ""

    @converts
    def to_model(self) -> Transfer:
        status = WITHDRAW_STATUS.get(self.status, "pending")
        if self.cancel_requested and status == "pending":
            status = "canceled"
        return Transfer(str(self.id), self.currency.upper(), self.amount, status, iso_to_ms(self.created_at),
                        self.address, self.network_data.txid)


class WithdrawsRaw(msgspec.Struct):
    withdraws: list[WithdrawRaw]


class WithdrawWrapRaw(msgspec.Struct):
    withdraw: WithdrawRaw


class WithdrawResultRaw(msgspec.Struct):
    """``POST /user/withdraw`` (201); the 2018 form had only ``id``."""

    id: int
    code: str | None = None
    result: str | None = None


class InternalTransferRaw(msgspec.Struct):
    """A credit from qTrade or another user (referral payouts and the like)."""

    id: int
    currency: str
    amount: Decimal
    created_at: str
    reason_code: str | None = None
    sender_email: str | None = None
    sender_id: int | None = None

    @converts
    def to_model(self) -> Transfer:
        return Transfer(str(self.id), self.currency.upper(), self.amount, "ok", iso_to_ms(self.created_at))


class InternalTransfersRaw(msgspec.Struct):
    transfers: list[InternalTransferRaw]


class DepositAddressRaw(msgspec.Struct):
    """``address`` only when ``currency_status`` is ``ok`` or ``degraded``."""

    currency_status: str
    address: str | None = None

    def to_model(self, currency: str) -> DepositAddress:
        address, tag = split_tag(self.address or "")
        return DepositAddress(currency, address, tag)


def split_tag(address: str) -> tuple[str, str | None]:
    """``"address:memo"`` → (address, memo); a cash-address prefix (``bitcoincash:qq…``) is no memo."""
    head, sep, tail = address.partition(":")
    if not sep or head in _ADDRESS_PREFIXES:
        return address, None
    return head, tail


class ErrorRaw(msgspec.Struct):
    code: str
    title: str = ""


class ErrorsRaw(msgspec.Struct):
    errors: list[ErrorRaw] = []


MARKETS = msgspec.json.Decoder(Data[MarketsRaw])
CURRENCIES = msgspec.json.Decoder(Data[CurrenciesRaw])
TICKER = msgspec.json.Decoder(Data[TickerRaw])
TICKERS = msgspec.json.Decoder(Data[TickersRaw])
ORDER_BOOK = msgspec.json.Decoder(Data[OrderBookRaw])
PUBLIC_TRADES = msgspec.json.Decoder(Data[PublicTradesRaw])
SLICES = msgspec.json.Decoder(Data[SlicesRaw])
BALANCES = msgspec.json.Decoder(Data[BalancesRaw])
ORDER = msgspec.json.Decoder(Data[OrderWrapRaw])
ORDERS = msgspec.json.Decoder(Data[OrdersRaw])
MY_TRADES = msgspec.json.Decoder(Data[MyTradesRaw])
DEPOSITS = msgspec.json.Decoder(Data[DepositsRaw])
DEPOSIT = msgspec.json.Decoder(Data[DepositWrapRaw])
WITHDRAWS = msgspec.json.Decoder(Data[WithdrawsRaw])
WITHDRAW = msgspec.json.Decoder(Data[WithdrawWrapRaw])
WITHDRAW_RESULT = msgspec.json.Decoder(Data[WithdrawResultRaw])
TRANSFERS = msgspec.json.Decoder(Data[InternalTransfersRaw])
DEPOSIT_ADDRESS = msgspec.json.Decoder(Data[DepositAddressRaw])
ERRORS = msgspec.json.Decoder(ErrorsRaw)
