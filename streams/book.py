"""A local order book kept at order level, with aggregated price levels beside it."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from core.models import BookLevel
from streams.events import BookState

__all__ = ["LocalBook", "BookOrder", "BookInconsistent"]

_ZERO = Decimal(0)


class BookInconsistent(Exception):
    """An event does not fit the book (a fill for an unknown order, a crossed book…): resync."""


@dataclass(slots=True)
class BookOrder:
    """A resting order: ``amount`` is what remains, in base currency."""

    id: int
    side: str  # "buy" | "sell"
    price: Decimal
    amount: Decimal


class _Side:
    """One side: orders by id in arrival order, totals by price, prices sorted ascending."""

    __slots__ = ("totals", "prices", "descending")

    def __init__(self, descending: bool) -> None:
        self.totals: dict[Decimal, Decimal] = {}
        self.prices: list[Decimal] = []  # ascending
        self.descending = descending

    def add(self, price: Decimal, amount: Decimal) -> Decimal:
        total = self.totals.get(price)
        if total is None:
            insort(self.prices, price)
            total = _ZERO
        total += amount
        self.totals[price] = total
        return total

    def remove(self, price: Decimal, amount: Decimal) -> Decimal:
        total = self.totals[price] - amount
        if total > 0:
            self.totals[price] = total
            return total
        del self.totals[price]
        del self.prices[bisect_left(self.prices, price)]
        return _ZERO

    def best(self) -> Decimal | None:
        if not self.prices:
            return None
        return self.prices[-1] if self.descending else self.prices[0]

    def levels(self, depth: int | None) -> list[BookLevel]:
        prices = reversed(self.prices) if self.descending else iter(self.prices)
        totals = self.totals
        out = []
        for price in prices:
            if depth is not None and len(out) >= depth:
                break
            out.append(BookLevel(price, totals[price]))
        return out


class LocalBook:
    """Order-level book of one symbol. Mutations return the changed level totals so a feed
    can report them; ``state`` says whether it can be trusted right now."""

    __slots__ = ("symbol", "orders", "_bids", "_asks", "state", "timestamp")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.orders: dict[int, BookOrder] = {}
        self._bids = _Side(descending=True)
        self._asks = _Side(descending=False)
        self.state: BookState = "syncing"
        self.timestamp = 0  # epoch ms of the last applied change

    # -- reading -----------------------------------------------------------------------

    @property
    def bids(self) -> list[BookLevel]:
        """Aggregated bids, highest first."""
        return self._bids.levels(None)

    @property
    def asks(self) -> list[BookLevel]:
        """Aggregated asks, lowest first."""
        return self._asks.levels(None)

    def top(self, depth: int) -> tuple[list[BookLevel], list[BookLevel]]:
        return self._bids.levels(depth), self._asks.levels(depth)

    @property
    def best_bid(self) -> Decimal | None:
        return self._bids.best()

    @property
    def best_ask(self) -> Decimal | None:
        return self._asks.best()

    def side_orders(self, side: str) -> list[BookOrder]:
        """Orders of one side in priority order (best price first, then arrival)."""
        orders = [o for o in self.orders.values() if o.side == side]
        orders.sort(key=lambda o: -o.price if side == "buy" else o.price)  # stable: arrival order kept
        return orders

    def __repr__(self) -> str:
        return (f"LocalBook({self.symbol} {self.state} {len(self._bids.prices)} bids / "
                f"{len(self._asks.prices)} asks, best {self.best_bid} | {self.best_ask})")

    # -- writing -----------------------------------------------------------------------

    def reset(self, orders: Iterable[BookOrder]) -> None:
        """Replace the whole book by a snapshot (orders in priority order per side)."""
        self.orders = {}
        self._bids = _Side(descending=True)
        self._asks = _Side(descending=False)
        for order in orders:
            self.orders[order.id] = order
            self._side(order.side).add(order.price, order.amount)

    def add(self, order: BookOrder) -> Decimal:
        """Rest a new order; returns its level's new total."""
        if order.id in self.orders:
            raise BookInconsistent(f"order {order.id} is already on the book")
        if order.amount <= 0:
            raise BookInconsistent(f"order {order.id} rests with amount {order.amount}")
        self.orders[order.id] = order
        return self._side(order.side).add(order.price, order.amount)

    def fill(self, order_id: int, amount: Decimal) -> tuple[BookOrder, Decimal]:
        """Reduce a resting order by a fill; returns it and its level's new total."""
        order = self.orders.get(order_id)
        if order is None:
            raise BookInconsistent(f"fill of {amount} for unknown order {order_id}")
        if amount > order.amount:
            raise BookInconsistent(f"fill of {amount} exceeds order {order_id}'s {order.amount}")
        order.amount -= amount
        if not order.amount:
            del self.orders[order_id]
        return order, self._side(order.side).remove(order.price, amount)

    def cancel(self, order_id: int) -> tuple[BookOrder, Decimal] | None:
        """Remove an order; None when it is not on the book."""
        order = self.orders.pop(order_id, None)
        if order is None:
            return None
        return order, self._side(order.side).remove(order.price, order.amount)

    def check_uncrossed(self) -> None:
        bid, ask = self._bids.best(), self._asks.best()
        if bid is not None and ask is not None and bid >= ask:
            raise BookInconsistent(f"crossed book: bid {bid} >= ask {ask}")

    def _side(self, side: str) -> _Side:
        return self._bids if side == "buy" else self._asks
