"""The sandbox's matching engine: order-level books with price-time priority, accounts with
available and locked balances, deposits and withdrawals.

Pure synchronous code that the sandbox's aiohttp apps call. Money is exact ``Decimal``
(base or quote currency as named), timestamps are UTC epoch milliseconds. Every placed order
emits one :class:`OrderEvent` and every cancel one :class:`CancelEvent`; replaying them onto an
order-level book reproduces :meth:`Engine.book`, which is what BTC-Alpha's feed is built from.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import time
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Context, Decimal, localcontext

__all__ = [
    "Engine",
    "MarketSpec",
    "EngineOrder",
    "Fill",
    "AccountBalance",
    "TransferRecord",
    "OrderEvent",
    "CancelEvent",
    "EngineError",
    "UnknownMarket",
    "UnknownAccount",
    "InsufficientBalance",
    "OrderRejected",
    "OrderNotFoundError",
    "OrderNotCancelable",
]

_log = logging.getLogger("exconn.sandbox.engine")

_ZERO = Decimal(0)
_FEE_STEP = Decimal("1e-8")
# Money must be conserved exactly: 96 significant digits keep every sum and product of
# realistic prices, amounts and balances exact, where the default 28 could round silently.
_EXACT = Context(prec=96)
_SIDES = ("buy", "sell")
_TYPES = ("limit", "market")
_TRANSFER_STATUSES = ("pending", "ok", "canceled", "failed")


class EngineError(Exception):
    """Base of every engine error; ``reason`` is a short machine code apps map to venue errors."""

    reason: str = "engine_error"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class UnknownMarket(EngineError):
    """No market with that symbol."""

    reason = "unknown_market"


class UnknownAccount(EngineError):
    """No account with that name."""

    reason = "unknown_account"


class InsufficientBalance(EngineError):
    """The account's available balance does not cover the order or withdrawal."""

    reason = "insufficient_balance"


class OrderRejected(EngineError):
    """The order breaks a market rule; ``reason`` names the rule (e.g. ``min_amount``)."""


class OrderNotFoundError(EngineError):
    """No order with that id belongs to the account."""

    reason = "order_not_found"


class OrderNotCancelable(EngineError):
    """The order is no longer open (filled, canceled or rejected)."""

    reason = "order_not_cancelable"


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """A market's rules; precisions are decimal places, fees are fractions of what is received."""

    symbol: str
    base: str
    quote: str
    price_precision: int
    amount_precision: int
    min_amount: Decimal
    max_amount: Decimal
    min_price: Decimal
    max_price: Decimal
    min_cost: Decimal = _ZERO
    maker_fee: Decimal = _ZERO
    taker_fee: Decimal = _ZERO


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade at the maker's price; amount in base, fees in the currency each side receives."""

    id: int
    symbol: str
    price: Decimal
    amount: Decimal
    taker_order_id: int
    maker_order_id: int
    taker_side: str
    taker_account: str
    maker_account: str
    taker_fee: Decimal
    maker_fee: Decimal
    timestamp_ms: int


@dataclass(slots=True)
class EngineOrder:
    """An order; ``amount``/``remaining``/``filled`` in base, ``cost`` in quote, times in ms.

    ``remaining + filled == amount`` always; ``status`` tells whether the remainder rests.
    """

    id: int
    account: str
    symbol: str
    side: str
    type: str
    price: Decimal | None
    amount: Decimal
    remaining: Decimal
    filled: Decimal
    cost: Decimal
    status: str
    created_ms: int
    updated_ms: int
    client_id: str | None = None
    fills: list[Fill] = field(default_factory=list)

    @property
    def average(self) -> Decimal | None:
        """Average fill price in quote per base, None before the first fill."""
        return self.cost / self.filled if self.filled else None


@dataclass(frozen=True, slots=True)
class AccountBalance:
    """One currency of one account: ``available`` to trade, ``locked`` by orders and withdrawals."""

    currency: str
    available: Decimal
    locked: Decimal


@dataclass(slots=True)
class TransferRecord:
    """A deposit or withdrawal; ``amount`` and ``fee`` in ``currency``, times in ms."""

    id: int
    account: str
    currency: str
    kind: str
    amount: Decimal
    fee: Decimal
    status: str
    address: str | None
    txid: str
    created_ms: int
    updated_ms: int


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """A new order after matching: a snapshot of it and the fills it made, in order."""

    order: EngineOrder
    fills: tuple[Fill, ...]
    seq: int


@dataclass(frozen=True, slots=True)
class CancelEvent:
    """A resting order left the book by cancel; ``order.remaining`` is what was removed (base)."""

    order: EngineOrder
    seq: int


@dataclass(slots=True)
class _Wallet:
    available: Decimal = _ZERO
    locked: Decimal = _ZERO


class _Side:
    """One side of a book: sorted level keys (price for asks, -price for bids, best first)."""

    __slots__ = ("is_bids", "keys", "levels")

    def __init__(self, *, is_bids: bool) -> None:
        self.is_bids = is_bids
        self.keys: list[Decimal] = []
        self.levels: dict[Decimal, deque[EngineOrder]] = {}

    def _key(self, order: EngineOrder) -> Decimal:
        price: Decimal = order.price  # type: ignore[assignment]  # resting orders are limit orders
        return -price if self.is_bids else price

    def add(self, order: EngineOrder) -> None:
        key = self._key(order)
        level = self.levels.get(key)
        if level is None:
            insort(self.keys, key)
            self.levels[key] = deque((order,))
        else:
            level.append(order)

    def remove(self, order: EngineOrder) -> None:
        key = self._key(order)
        level = self.levels[key]
        level.remove(order)
        if not level:
            del self.levels[key]
            del self.keys[bisect_left(self.keys, key)]

    def pop_best(self) -> None:
        """Remove the oldest order of the best level (it has just been filled)."""
        key = self.keys[0]
        level = self.levels[key]
        level.popleft()
        if not level:
            del self.levels[key]
            del self.keys[0]

    def orders(self) -> list[EngineOrder]:
        return [order for key in self.keys for order in self.levels[key]]

    def aggregated(self) -> list[tuple[Decimal, Decimal]]:
        return [
            (level[0].price, sum((order.remaining for order in level), _ZERO))  # type: ignore[misc]
            for level in (self.levels[key] for key in self.keys)
        ]


class _Market:
    __slots__ = ("spec", "bids", "asks", "fills", "amount_step")

    def __init__(self, spec: MarketSpec, history: int | None) -> None:
        self.spec = spec
        self.bids = _Side(is_bids=True)
        self.asks = _Side(is_bids=False)
        self.fills: deque[Fill] = deque(maxlen=history)
        self.amount_step = Decimal(1).scaleb(-spec.amount_precision)


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def _decimals(value: Decimal) -> int:
    """Decimal places of a finite non-zero value, trailing zeros ignored ("1.50" has 1)."""
    _, digits, exponent = value.as_tuple()
    places = -exponent  # type: ignore[operator]
    for digit in reversed(digits):
        if digit or places <= 0:
            break
        places -= 1
    return max(places, 0)


def _fee(rate: Decimal, received: Decimal) -> Decimal:
    return (rate * received).quantize(_FEE_STEP, rounding=ROUND_DOWN) if rate else _ZERO


def _snapshot(order: EngineOrder) -> EngineOrder:
    snapshot = copy.copy(order)
    snapshot.fills = order.fills.copy()
    return snapshot


def _check_positive(value: Decimal, what: str) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal, got {type(value).__name__}")
    if not value.is_finite() or value <= 0:
        raise EngineError(f"{what} must be a positive number, got {value}", "invalid_amount")


def _validate(spec: MarketSpec, side: str, type: str, amount: Decimal, price: Decimal | None) -> None:
    """Raise OrderRejected, its ``reason`` naming the first rule the order breaks."""
    if side not in _SIDES:
        raise OrderRejected(f"side must be 'buy' or 'sell', got {side!r}", "invalid_side")
    if type not in _TYPES:
        raise OrderRejected(f"type must be 'limit' or 'market', got {type!r}", "invalid_type")
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, got {amount.__class__.__name__}")
    if not amount.is_finite() or amount <= 0:
        raise OrderRejected(f"amount must be positive, got {amount}", "invalid_amount")
    if _decimals(amount) > spec.amount_precision:
        raise OrderRejected(
            f"amount {amount} has more than {spec.amount_precision} decimals", "amount_precision"
        )
    if amount < spec.min_amount:
        raise OrderRejected(f"amount {amount} is below the minimum {spec.min_amount}", "min_amount")
    if amount > spec.max_amount:
        raise OrderRejected(f"amount {amount} is above the maximum {spec.max_amount}", "max_amount")
    if price is None:
        if type == "limit":
            raise OrderRejected("a limit order needs a price", "price_required")
        return
    if type == "market":
        raise OrderRejected("a market order takes no price", "price_not_allowed")
    if not isinstance(price, Decimal):
        raise TypeError(f"price must be a Decimal, got {price.__class__.__name__}")
    if not price.is_finite() or price <= 0:
        raise OrderRejected(f"price must be positive, got {price}", "invalid_price")
    if _decimals(price) > spec.price_precision:
        raise OrderRejected(
            f"price {price} has more than {spec.price_precision} decimals", "price_precision"
        )
    if price < spec.min_price:
        raise OrderRejected(f"price {price} is below the minimum {spec.min_price}", "min_price")
    if price > spec.max_price:
        raise OrderRejected(f"price {price} is above the maximum {spec.max_price}", "max_price")
    if price * amount < spec.min_cost:
        raise OrderRejected(
            f"cost {price * amount} is below the minimum {spec.min_cost}", "min_cost"
        )


class Engine:
    """An in-memory exchange: markets, accounts, order books and transfers (times in ms)."""

    FEE_ACCOUNT = "__fees__"

    __slots__ = (
        "_clock",
        "_markets",
        "_wallets",
        "_orders",
        "_account_orders",
        "_open",
        "_fills",
        "_account_fills",
        "_transfers",
        "_account_transfers",
        "_next_order_id",
        "_next_fill_id",
        "_next_transfer_id",
        "_seq",
        "_subscribers",
        "_pending_events",
        "_emitting",
        "_history",
    )

    def __init__(self, *, clock_ms: Callable[[], int] | None = None, history: int | None = None) -> None:
        """``history`` bounds the fills and closed orders remembered per list (None: all), so
        a sandbox that runs for days keeps a steady memory; open orders are always kept."""
        if history is not None and history < 1:
            raise ValueError("history must be at least 1")
        self._history = history
        self._clock = clock_ms or _wall_clock_ms
        self._markets: dict[str, _Market] = {}
        self._wallets: dict[str, dict[str, _Wallet]] = {}
        self._orders: dict[int, EngineOrder] = {}
        self._account_orders: dict[str, deque[EngineOrder]] = {}
        self._open: dict[str, dict[int, EngineOrder]] = {}
        self._fills: deque[Fill] = deque(maxlen=history)
        self._account_fills: dict[str, deque[Fill]] = {}
        self._transfers: dict[int, TransferRecord] = {}
        self._account_transfers: dict[str, list[TransferRecord]] = {}
        self._next_order_id = 1
        self._next_fill_id = 1
        self._next_transfer_id = 1
        self._seq = 0
        self._subscribers: list[Callable[[OrderEvent | CancelEvent], None]] = []
        self._pending_events: deque[OrderEvent | CancelEvent] = deque()
        self._emitting = False
        self.create_account(self.FEE_ACCOUNT)

    # -- markets and accounts -------------------------------------------------------------

    def add_market(self, spec: MarketSpec) -> None:
        """Open a market; raises ValueError if the symbol exists or the fees are not in [0, 1)."""
        if spec.symbol in self._markets:
            raise ValueError(f"market {spec.symbol} already exists")
        if not (0 <= spec.maker_fee < 1 and 0 <= spec.taker_fee < 1):
            raise ValueError(f"fees of {spec.symbol} must be fractions in [0, 1)")
        self._markets[spec.symbol] = _Market(spec, self._history)

    def markets(self) -> dict[str, MarketSpec]:
        """Every market's spec by unified symbol."""
        return {symbol: market.spec for symbol, market in self._markets.items()}

    def create_account(self, name: str) -> None:
        """Create an empty account; does nothing if it exists."""
        if name in self._wallets:
            return
        self._wallets[name] = {}
        self._account_orders[name] = deque()
        self._open[name] = {}
        self._account_fills[name] = deque(maxlen=self._history)
        self._account_transfers[name] = []

    def accounts(self) -> list[str]:
        """Names of the trading accounts (the fee account excluded), in creation order."""
        return [name for name in self._wallets if name != self.FEE_ACCOUNT]

    def balances(self, account: str) -> dict[str, AccountBalance]:
        """The account's balance in every currency it ever touched, by currency code."""
        return {
            currency: AccountBalance(currency, wallet.available, wallet.locked)
            for currency, wallet in self._require_account(account).items()
        }

    def total_supply(self, currency: str) -> Decimal:
        """Available plus locked over every account and the fee account, in ``currency``."""
        with localcontext(_EXACT):
            return sum(
                (w.available + w.locked for wallets in self._wallets.values()
                 if (w := wallets.get(currency)) is not None),
                _ZERO,
            )

    # -- transfers --------------------------------------------------------------------------

    def deposit(
        self, account: str, currency: str, amount: Decimal, *, txid: str | None = None, status: str = "ok"
    ) -> TransferRecord:
        """Record a deposit of ``amount`` (in ``currency``); credits available when ``status`` is ok."""
        wallets = self._require_account(account)
        _check_positive(amount, "deposit amount")
        if status not in _TRANSFER_STATUSES:
            raise EngineError(f"unknown transfer status {status!r}", "invalid_status")
        record = self._new_transfer(
            account, currency, "deposit", amount, _ZERO, status, self.deposit_address(account, currency), txid
        )
        if status == "ok":
            with localcontext(_EXACT):
                self._wallet(wallets, currency).available += amount
        return record

    def withdraw(
        self, account: str, currency: str, amount: Decimal, address: str, *, fee: Decimal = _ZERO
    ) -> TransferRecord:
        """Start a withdrawal: lock ``amount + fee`` (in ``currency``) until completed or canceled."""
        wallets = self._require_account(account)
        _check_positive(amount, "withdrawal amount")
        if not isinstance(fee, Decimal) or not fee.is_finite() or fee < 0:
            raise EngineError(f"withdrawal fee must be a non-negative Decimal, got {fee!r}", "invalid_fee")
        with localcontext(_EXACT):
            total = amount + fee
            wallet = wallets.get(currency)
            available = wallet.available if wallet is not None else _ZERO
            if wallet is None or available < total:
                raise InsufficientBalance(
                    f"withdrawal needs {total} {currency}, {available} available"
                )
            wallet.available -= total
            wallet.locked += total
        return self._new_transfer(account, currency, "withdrawal", amount, fee, "pending", address, None)

    def complete_withdrawal(self, transfer_id: int, ok: bool = True) -> TransferRecord:
        """Settle a pending withdrawal: ok sends the amount outside and the fee to the fee
        account; not ok returns both to available and marks it failed."""
        record = self._pending_withdrawal(transfer_id)
        with localcontext(_EXACT):
            wallet = self._wallets[record.account][record.currency]
            wallet.locked -= record.amount + record.fee
            if ok:
                if record.fee:
                    self._wallet(self._wallets[self.FEE_ACCOUNT], record.currency).available += record.fee
            else:
                wallet.available += record.amount + record.fee
        record.status = "ok" if ok else "failed"
        record.updated_ms = self._clock()
        return record

    def cancel_withdrawal(self, transfer_id: int) -> TransferRecord:
        """Cancel a pending withdrawal and return its amount and fee to available."""
        record = self._pending_withdrawal(transfer_id)
        with localcontext(_EXACT):
            wallet = self._wallets[record.account][record.currency]
            wallet.locked -= record.amount + record.fee
            wallet.available += record.amount + record.fee
        record.status = "canceled"
        record.updated_ms = self._clock()
        return record

    def transfers(self, account: str, kind: str | None = None) -> list[TransferRecord]:
        """The account's deposits and/or withdrawals (``kind``), newest first."""
        self._require_account(account)
        records = self._account_transfers[account]
        return [r for r in reversed(records) if kind is None or r.kind == kind]

    def deposit_address(self, account: str, currency: str) -> str:
        """A deposit address that depends only on (account, currency)."""
        self._require_account(account)
        return hashlib.sha256(f"{account}\x00{currency}".encode()).hexdigest()[:40]

    # -- orders -----------------------------------------------------------------------------

    def place_order(
        self,
        account: str,
        symbol: str,
        side: str,
        amount: Decimal,
        price: Decimal | None = None,
        *,
        type: str = "limit",
        client_id: str | None = None,
    ) -> OrderEvent:
        """Validate, lock funds, match and rest the remainder of a limit order (amount in base,
        price in quote); market orders never rest. Emits and returns one OrderEvent."""
        market = self._market(symbol)
        wallets = self._require_account(account)
        spec = market.spec
        with localcontext(_EXACT):
            _validate(spec, side, type, amount, price)
            if side == "buy":
                funds, need = spec.quote, (price * amount if price is not None else None)
            else:
                funds, need = spec.base, amount
            wallet = wallets.get(funds)
            available = wallet.available if wallet is not None else _ZERO
            if need is None:
                if available <= 0:
                    raise InsufficientBalance(f"a market buy needs some {funds}, none available")
            elif available < need:
                raise InsufficientBalance(f"order needs {need} {funds}, {available} available")
            now = self._clock()
            order = EngineOrder(
                self._next_order_id, account, symbol, side, type, price, amount, amount,
                _ZERO, _ZERO, "open", now, now, client_id,
            )
            self._next_order_id += 1
            if need is not None:
                wallet = self._wallet(wallets, funds)
                wallet.available -= need
                wallet.locked += need
            fills = self._match(market, order, now)
            if not order.remaining:
                order.status = "filled"
            elif type == "limit":
                (market.bids if side == "buy" else market.asks).add(order)
                self._open[account][order.id] = order
            else:
                if side == "sell":
                    wallet = wallets[funds]
                    wallet.locked -= order.remaining
                    wallet.available += order.remaining
                order.status = "canceled" if order.filled else "rejected"
        self._remember(order)
        event = OrderEvent(_snapshot(order), tuple(fills), self._next_seq())
        self._emit(event)
        return event

    def _remember(self, order: EngineOrder) -> None:
        """Index a new order; past ``history`` orders of its account, the oldest leaves the list
        (and, once closed, the index)."""
        self._orders[order.id] = order
        remembered = self._account_orders[order.account]
        remembered.append(order)
        if self._history is not None and len(remembered) > self._history:
            oldest = remembered.popleft()
            if oldest.status != "open":  # a resting order stays findable by id and in open orders
                del self._orders[oldest.id]

    def cancel_order(self, account: str, order_id: int) -> CancelEvent:
        """Take an open order of ``account`` off the book, release its lock, emit a CancelEvent."""
        order = self.order(account, order_id)
        if order.status != "open":
            raise OrderNotCancelable(f"order {order_id} is {order.status}")
        event = self._cancel(order)
        self._emit(event)
        return event

    def cancel_all(self, account: str, symbol: str | None = None, side: str | None = None) -> list[CancelEvent]:
        """Cancel every open order of ``account`` (optionally of one symbol and side), oldest first."""
        self._require_account(account)
        if symbol is not None:
            self._market(symbol)
        if side is not None and side not in _SIDES:
            raise EngineError(f"side must be 'buy' or 'sell', got {side!r}", "invalid_side")
        events = []
        for order in list(self._open[account].values()):
            if (symbol is None or order.symbol == symbol) and (side is None or order.side == side):
                event = self._cancel(order)
                self._emit(event)
                events.append(event)
        return events

    def order(self, account: str, order_id: int) -> EngineOrder:
        """The live order ``order_id`` of ``account``; OrderNotFoundError if it is not theirs."""
        self._require_account(account)
        order = self._orders.get(order_id)
        if order is None or order.account != account:
            raise OrderNotFoundError(f"order {order_id} not found")
        return order

    def orders(self, account: str, symbol: str | None = None, *, open_only: bool = False) -> list[EngineOrder]:
        """The account's orders (live objects), newest first."""
        self._require_account(account)
        if symbol is not None:
            self._market(symbol)
        source = self._open[account].values() if open_only else self._account_orders[account]
        return [o for o in reversed(source) if symbol is None or o.symbol == symbol]

    def fills(self, account: str | None = None, symbol: str | None = None) -> list[Fill]:
        """Fills of ``account`` (as taker or maker), or every public trade if None; newest first."""
        market = self._market(symbol) if symbol is not None else None
        if account is not None:
            self._require_account(account)
            source = self._account_fills[account]
        else:
            source = market.fills if market is not None else self._fills
        return [f for f in reversed(source) if symbol is None or f.symbol == symbol]

    def book(self, symbol: str) -> tuple[list[EngineOrder], list[EngineOrder]]:
        """Resting orders (live objects) as (bids, asks), each in priority order."""
        market = self._market(symbol)
        return market.bids.orders(), market.asks.orders()

    def levels(self, symbol: str) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """Aggregated (price in quote, remaining in base) levels as (bids, asks), best first."""
        market = self._market(symbol)
        with localcontext(_EXACT):
            return market.bids.aggregated(), market.asks.aggregated()

    # -- events -----------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[OrderEvent | CancelEvent], None]) -> Callable[[], None]:
        """Call ``callback`` with every later event, in seq order; returns the unsubscribe function."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    # -- internals --------------------------------------------------------------------------

    def _market(self, symbol: str) -> _Market:
        market = self._markets.get(symbol)
        if market is None:
            raise UnknownMarket(f"unknown market {symbol!r}")
        return market

    def _require_account(self, account: str) -> dict[str, _Wallet]:
        wallets = self._wallets.get(account)
        if wallets is None:
            raise UnknownAccount(f"unknown account {account!r}")
        return wallets

    @staticmethod
    def _wallet(wallets: dict[str, _Wallet], currency: str) -> _Wallet:
        wallet = wallets.get(currency)
        if wallet is None:
            wallet = wallets[currency] = _Wallet()
        return wallet

    def _match(self, market: _Market, taker: EngineOrder, now: int) -> list[Fill]:
        """Trade ``taker`` against the opposite side while it crosses; fills at makers' prices."""
        buying = taker.side == "buy"
        opposite = market.asks if buying else market.bids
        limit_key = None if taker.price is None else (taker.price if buying else -taker.price)
        quote_wallet = (
            self._wallet(self._wallets[taker.account], market.spec.quote)
            if buying and taker.type == "market" else None
        )
        keys, levels = opposite.keys, opposite.levels
        fills: list[Fill] = []
        while taker.remaining and keys:
            key = keys[0]
            if limit_key is not None and key > limit_key:
                break
            maker = levels[key][0]
            amount = min(taker.remaining, maker.remaining)
            short_of_quote = False
            if quote_wallet is not None and maker.price * amount > quote_wallet.available:  # type: ignore[operator]
                # A market buy spends only what it has: round the affordable amount down, and
                # stop there (a self-trade would otherwise hand it back quote to keep buying).
                step = market.amount_step
                amount = quote_wallet.available // (maker.price * step) * step  # type: ignore[operator]
                if not amount:
                    break
                short_of_quote = True
            fills.append(self._settle(market, taker, maker, amount, now))
            if not maker.remaining:
                opposite.pop_best()
                maker.status = "filled"
                del self._open[maker.account][maker.id]
            if short_of_quote:
                break
        return fills

    def _settle(self, market: _Market, taker: EngineOrder, maker: EngineOrder, amount: Decimal, now: int) -> Fill:
        """Move the funds of one fill of ``amount`` base at the maker's price, fees included."""
        spec = market.spec
        price: Decimal = maker.price  # type: ignore[assignment]
        cost = price * amount
        buyer, seller = (taker, maker) if taker.side == "buy" else (maker, taker)
        buyer_rate, seller_rate = (
            (spec.taker_fee, spec.maker_fee) if buyer is taker else (spec.maker_fee, spec.taker_fee)
        )
        buyer_fee = _fee(buyer_rate, amount)
        seller_fee = _fee(seller_rate, cost)

        buyer_wallets = self._wallets[buyer.account]
        buyer_quote = buyer_wallets[spec.quote]
        if buyer.price is None:
            buyer_quote.available -= cost
        else:
            buyer_quote.locked -= buyer.price * amount
            if buyer.price != price:
                buyer_quote.available += (buyer.price - price) * amount
        self._wallet(buyer_wallets, spec.base).available += amount - buyer_fee
        seller_wallets = self._wallets[seller.account]
        seller_wallets[spec.base].locked -= amount
        self._wallet(seller_wallets, spec.quote).available += cost - seller_fee
        fee_wallets = self._wallets[self.FEE_ACCOUNT]
        if buyer_fee:
            self._wallet(fee_wallets, spec.base).available += buyer_fee
        if seller_fee:
            self._wallet(fee_wallets, spec.quote).available += seller_fee

        taker_fee, maker_fee = (buyer_fee, seller_fee) if buyer is taker else (seller_fee, buyer_fee)
        fill = Fill(
            self._next_fill_id, spec.symbol, price, amount, taker.id, maker.id, taker.side,
            taker.account, maker.account, taker_fee, maker_fee, now,
        )
        self._next_fill_id += 1
        for order in (taker, maker):
            order.remaining -= amount
            order.filled += amount
            order.cost += cost
            order.updated_ms = now
            order.fills.append(fill)
        self._fills.append(fill)
        market.fills.append(fill)
        self._account_fills[taker.account].append(fill)
        if maker.account != taker.account:
            self._account_fills[maker.account].append(fill)
        return fill

    def _cancel(self, order: EngineOrder) -> CancelEvent:
        market = self._markets[order.symbol]
        wallets = self._wallets[order.account]
        with localcontext(_EXACT):
            if order.side == "buy":
                market.bids.remove(order)
                wallet, released = wallets[market.spec.quote], order.price * order.remaining  # type: ignore[operator]
            else:
                market.asks.remove(order)
                wallet, released = wallets[market.spec.base], order.remaining
            wallet.locked -= released
            wallet.available += released
        del self._open[order.account][order.id]
        order.status = "canceled"
        order.updated_ms = self._clock()
        return CancelEvent(_snapshot(order), self._next_seq())

    def _pending_withdrawal(self, transfer_id: int) -> TransferRecord:
        record = self._transfers.get(transfer_id)
        if record is None or record.kind != "withdrawal":
            raise EngineError(f"withdrawal {transfer_id} not found", "transfer_not_found")
        if record.status != "pending":
            raise EngineError(f"withdrawal {transfer_id} is {record.status}", "transfer_not_pending")
        return record

    def _new_transfer(
        self, account: str, currency: str, kind: str, amount: Decimal, fee: Decimal, status: str,
        address: str | None, txid: str | None,
    ) -> TransferRecord:
        transfer_id = self._next_transfer_id
        self._next_transfer_id += 1
        now = self._clock()
        record = TransferRecord(
            transfer_id, account, currency, kind, amount, fee, status, address,
            txid or hashlib.sha256(f"sandbox-tx-{transfer_id}".encode()).hexdigest(), now, now,
        )
        self._transfers[transfer_id] = record
        self._account_transfers[account].append(record)
        return record

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _emit(self, event: OrderEvent | CancelEvent) -> None:
        """Deliver ``event`` to every subscriber; events raised from inside a callback are queued
        so that every subscriber still sees all events in seq order."""
        if not self._subscribers:
            return
        self._pending_events.append(event)
        if self._emitting:
            return
        self._emitting = True
        try:
            while self._pending_events:
                queued = self._pending_events.popleft()
                for callback in tuple(self._subscribers):
                    try:
                        callback(queued)
                    except Exception:
                        _log.exception("engine event subscriber %r failed on seq %d", callback, queued.seq)
        finally:
            self._emitting = False
