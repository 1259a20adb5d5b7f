"""Notebook views of the models: HTML tables, and pandas DataFrames with the ``pandas`` extra.

    html_table(trades)         # Jupyter renders it as a table; str() is the HTML
    candles_frame(candles)     # DataFrame indexed by UTC time; money stays exact Decimal

pandas is imported inside the frame helpers only: ``import core`` never loads it, and a
helper called without it raises an ImportError that names the extra to install. Money
columns hold :class:`decimal.Decimal` (dtype ``object``); convert at the edge, e.g.
``frame["close"].astype(float)`` to plot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING, Any

import msgspec

from core.models import Balance, Candle, Order, OrderBook, Trade

if TYPE_CHECKING:
    import pandas

__all__ = [
    "HtmlTable", "html_table", "book_html", "book_frame", "trades_frame", "candles_frame", "balances_frame",
    "orders_frame", "utc_text",
]

MAX_ROWS = 40
BOOK_DEPTH = 10
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# properties worth a column beside a struct's fields
_DERIVED: dict[type, tuple[str, ...]] = {Balance: ("total",)}


class HtmlTable:
    """A table that Jupyter renders (``_repr_html_``); ``str()`` is its HTML, ``repr()`` a
    one-line summary for consoles."""

    __slots__ = ("html", "caption")

    def __init__(self, html: str, caption: str) -> None:
        self.html = html
        self.caption = caption

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<table: {self.caption}>"


def utc_text(timestamp_ms: int) -> str:
    """Epoch ms as ``2024-05-01 12:00:00.123`` (UTC), computed exactly (no float)."""
    moment = _EPOCH + timedelta(milliseconds=timestamp_ms)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if name == "timestamp" and isinstance(value, int):
        return utc_text(value)
    return str(value)


def _columns(kind: type) -> tuple[str, ...]:
    return tuple(kind.__struct_fields__) + _DERIVED.get(kind, ())  # type: ignore[attr-defined]


def _header(name: str) -> str:
    return "time (UTC)" if name == "timestamp" else name


def _row(cells: Iterable[str], numeric: Iterable[bool]) -> str:
    return "<tr>" + "".join(
        f'<td style="text-align:right">{escape(c)}</td>' if right else f"<td>{escape(c)}</td>"
        for c, right in zip(cells, numeric)
    ) + "</tr>"


def html_table(items: Iterable[msgspec.Struct] | Mapping[Any, msgspec.Struct], *, max_rows: int = MAX_ROWS,
               caption: str | None = None) -> HtmlTable:
    """A table of models of one kind (trades, candles, orders, balances, …), one row each.
    A mapping (e.g. balances by currency) shows its values; past ``max_rows`` rows the
    middle is elided."""
    rows = list(items.values()) if isinstance(items, Mapping) else list(items)
    if not rows:
        title = caption or "no rows"
        return HtmlTable(f"<table><caption>{escape(title)}</caption></table>", title)
    kind = type(rows[0])
    columns = _columns(kind)
    numeric = [isinstance(getattr(rows[0], name), (Decimal, int)) and name != "timestamp" for name in columns]
    shown: list[msgspec.Struct | None] = list(rows)
    elided = 0
    if len(rows) > max_rows:
        half = max(1, max_rows // 2)
        shown = [*rows[:half], None, *rows[-half:]]
        elided = len(rows) - 2 * half
    body = []
    for item in shown:
        if item is None:
            body.append(f'<tr><td colspan="{len(columns)}">… {elided} more …</td></tr>')
        else:
            body.append(_row((_cell(name, getattr(item, name)) for name in columns), numeric))
    title = caption or f"{len(rows)} × {kind.__name__}"
    head = "".join(f"<th>{escape(_header(name))}</th>" for name in columns)
    return HtmlTable(f"<table><caption>{escape(title)}</caption><thead><tr>{head}</tr></thead>"
                     f"<tbody>{''.join(body)}</tbody></table>", title)


def book_html(book: OrderBook, depth: int = BOOK_DEPTH) -> HtmlTable:
    """The top ``depth`` levels of both sides side by side, with spread and mid in the caption."""
    bids, asks = book.bids[:depth], book.asks[:depth]
    facts = [book.symbol, f"{len(book.bids)} bids / {len(book.asks)} asks"]
    if book.spread is not None:
        mid = (book.bids[0].price + book.asks[0].price) / 2
        facts.append(f"spread {format(book.spread, 'f')} (mid {format(mid, 'f')})")
    if book.timestamp:
        facts.append(f"{utc_text(book.timestamp)} UTC")
    body = []
    for i in range(max(len(bids), len(asks))):
        bid = bids[i] if i < len(bids) else None
        ask = asks[i] if i < len(asks) else None
        cells = (bid.amount if bid else None, bid.price if bid else None,
                 ask.price if ask else None, ask.amount if ask else None)
        body.append(_row((_cell("", value) for value in cells), (True,) * 4))
    title = " · ".join(facts)
    return HtmlTable(f"<table><caption>{escape(title)}</caption><thead><tr><th>bid amount</th>"
                     f"<th>bid</th><th>ask</th><th>ask amount</th></tr></thead><tbody>{''.join(body)}</tbody></table>",
                     title)


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(
            "DataFrames need pandas, an optional extra of exconn: pip install 'exconn[pandas]' "
            "(or pip install pandas)"
        ) from exc
    return pandas


def _frame(kind: type, items: Iterable[msgspec.Struct], index: str) -> pandas.DataFrame:
    """One row per item, one column per field; ``timestamp`` becomes a UTC ``time`` column."""
    pd = _pandas()
    rows = list(items)
    columns = _columns(kind)
    frame = pd.DataFrame({name: [getattr(item, name) for item in rows] for name in columns}, columns=list(columns))
    if "timestamp" in columns:
        frame.insert(0, "time", pd.to_datetime(frame.pop("timestamp").astype("int64"), unit="ms", utc=True))
    return frame.set_index(index)


def book_frame(book: OrderBook) -> pandas.DataFrame:
    """One row per level: ``side`` (bid/ask), ``price``, ``amount``; bids best first, then asks."""
    pd = _pandas()
    levels = [("bid", lvl) for lvl in book.bids] + [("ask", lvl) for lvl in book.asks]
    return pd.DataFrame({"side": [side for side, _ in levels], "price": [lvl.price for _, lvl in levels],
                         "amount": [lvl.amount for _, lvl in levels]}, columns=["side", "price", "amount"])


def trades_frame(trades: Iterable[Trade]) -> pandas.DataFrame:
    """Trades indexed by UTC ``time``."""
    return _frame(Trade, trades, "time")


def candles_frame(candles: Iterable[Candle]) -> pandas.DataFrame:
    """Candles indexed by their UTC open ``time``: open, high, low, close, volume."""
    return _frame(Candle, candles, "time")


def balances_frame(balances: Iterable[Balance] | Mapping[str, Balance]) -> pandas.DataFrame:
    """Balances indexed by ``currency``: free, locked, total."""
    return _frame(Balance, balances.values() if isinstance(balances, Mapping) else balances, "currency")


def orders_frame(orders: Iterable[Order]) -> pandas.DataFrame:
    """Orders indexed by ``id``, with their UTC ``time``."""
    return _frame(Order, orders, "id")
