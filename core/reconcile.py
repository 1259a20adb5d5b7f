"""Resolving :class:`~core.errors.OutcomeUnknown`: did a mutating request take effect?

A create or withdraw whose answer was lost (5xx after sending, timeout) may or may not have
been applied; retrying blindly can double it. Note the time before sending, and on
OutcomeUnknown ask the exchange what it holds::

    sent_at = now_ms()
    try:
        order = await ex.create_order("BTC/USD", "buy", amount, price)
    except OutcomeUnknown:
        order = await find_order(ex, "BTC/USD", "buy", amount, price, sent_at=sent_at)
        if order is None:
            ...  # not placed: sending it again cannot double it

An order is looked for in the order history (open orders included), then — for one that
filled and left the history — among the own trades, which name their order. A lost cancel
needs no helper: ``fetch_order`` (or ``fetch_open_orders``) tells whether it took.

"Not found" is only as good as what the exchange lists. Per exchange:

- **BTC-Alpha**: open orders list what *remains* of an order, so a partly filled one no
  longer matches the requested amount until it is done; own trades do not name their order,
  so an order that filled and left the history is not found.
- **CoinDCX**: there is no order history. ``fetch_orders`` adds, to the open orders, the
  orders this connector placed (an order whose answer was lost is not among them) and those
  of the last 500 own trades; an order placed and canceled unfilled is not found.
- **Peatio**: the history holds the newest 1000 orders of any state.
- **qTrade**: the history holds the newest 200 orders; an older one is found through the
  newest 200 own trades only if it traded.
- **Quidax**: the newest 1000 orders of each state per market.

The exchange's order time comes from its clock, ``sent_at`` from ours: ``skew`` (ms) allows
for the difference. Orders the caller already knows (ids in ``known``) never match, so two
identical orders in a row are told apart. An answer lost in a proxy may still be on its way
to the exchange's engine: when nothing is found the lists are read again after ``settle``
seconds before concluding "not placed".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Iterable
from decimal import Decimal
from typing import Any, TypeVar

from core.connector import Connector, to_decimal
from core.models import Order, Trade, Transfer

__all__ = ["find_order", "find_withdrawal"]

T = TypeVar("T")

DEFAULT_SKEW_MS = 10_000
DEFAULT_SETTLE = 1.0


async def find_order(
    connector: Connector,
    symbol: str,
    side: str,
    amount: Any,
    price: Any = None,
    *,
    sent_at: int,
    known: Collection[str] = (),
    skew: int = DEFAULT_SKEW_MS,
    settle: float = DEFAULT_SETTLE,
) -> Order | None:
    """The order a lost ``create_order(symbol, side, amount, price)`` placed, or None if it
    was not placed. ``amount`` in base, ``price`` in quote (None: a market order, any price);
    ``sent_at`` epoch ms (our clock) just before the request was sent."""
    qty = to_decimal(amount, "amount")
    px = None if price is None else to_decimal(price, "price")
    since = sent_at - skew

    def matches(order: Order) -> bool:
        return (order.id not in known and order.symbol == symbol and order.side == side
                and (px is None or order.price == px) and qty in (order.amount, order.filled + order.remaining)
                and (order.timestamp == 0 or order.timestamp >= since))  # 0: the exchange gave no time

    async def look() -> Order | None:
        # every exchange's order history includes the open orders: one request, not two
        listed = await (connector.fetch_orders(symbol) if connector.has["fetch_orders"]
                        else connector.fetch_open_orders(symbol))
        found = _earliest(o for o in listed if matches(o))
        if found is None and connector.has["fetch_my_trades"]:
            found = await _filled_order(connector, symbol, side, qty, since, matches)
        return found

    return await _look_twice(look, settle)


async def find_withdrawal(
    connector: Connector,
    currency: str,
    amount: Any,
    address: str,
    *,
    sent_at: int,
    known: Collection[str] = (),
    skew: int = DEFAULT_SKEW_MS,
    settle: float = DEFAULT_SETTLE,
) -> Transfer | None:
    """The withdrawal a lost ``withdraw(currency, amount, address)`` started, or None if it
    was not started. ``amount`` in ``currency``; ``sent_at`` epoch ms just before sending.
    A withdrawal listed without an address (or with ``address:memo``) matches on the rest."""
    qty = to_decimal(amount, "amount")
    since = sent_at - skew
    code = currency.upper()

    async def look() -> Transfer | None:
        listed = await connector.fetch_withdrawals(currency)
        return _earliest(
            w for w in listed
            if w.id not in known and w.currency == code and w.amount == qty and w.timestamp >= since
            and (w.address is None or w.address == address or w.address.startswith(f"{address}:"))
        )

    return await _look_twice(look, settle)


async def _look_twice(look: Callable[[], Awaitable[T | None]], settle: float) -> T | None:
    found = await look()
    if found is None and settle > 0:
        await asyncio.sleep(settle)
        found = await look()
    return found


def _earliest(candidates: Iterable[T]) -> T | None:
    """The first placed of the candidates (ids break ties; models all carry ``timestamp``)."""
    return min(candidates, key=lambda item: (item.timestamp, item.id), default=None)  # type: ignore[attr-defined]


async def _filled_order(connector: Connector, symbol: str, side: str, qty: Decimal, since: int,
                        matches: Callable[[Order], bool]) -> Order | None:
    """An order that filled and left the history, through the own trades naming it."""
    filled: dict[str, Decimal] = {}
    trades: list[Trade] = await connector.fetch_my_trades(symbol)
    for trade in trades:
        if trade.order_id is not None and trade.side == side and trade.timestamp >= since:
            filled[trade.order_id] = filled.get(trade.order_id, Decimal(0)) + trade.amount
    for order_id, amount in filled.items():
        if amount == qty:
            order = await connector.fetch_order(order_id, symbol)
            if matches(order):
                return order
    return None
