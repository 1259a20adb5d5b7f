"""Notebook views of the models: HTML tables and pandas DataFrames (core/frames.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path


from core.frames import balances_frame, book_html, candles_frame, html_table, orders_frame, trades_frame, utc_text
from core.models import Balance, BookLevel, Candle, Order, OrderBook, Trade

D = Decimal
ROOT = Path(__file__).resolve().parents[2]
T0 = 1714564800123  # 2024-05-01 12:00:00.123 UTC


def book(levels: int) -> OrderBook:
    bids = [BookLevel(D(100) - i, D("0.5") + i) for i in range(levels)]
    asks = [BookLevel(D("100.25") + i, D("1E-8") * (i + 1)) for i in range(levels)]
    return OrderBook("BTC/USD", bids, asks, T0)


def rows(html: str) -> list[str]:
    return html.split("<tr>")[2:]  # after the header row


def test_utc_text_is_exact_to_the_millisecond():
    assert utc_text(T0) == "2024-05-01 12:00:00.123"
    assert utc_text(0) == "1970-01-01 00:00:00.000"
    assert utc_text(253402300799999) == "9999-12-31 23:59:59.999"  # no float rounding at the far end


def test_order_book_html_shows_the_top_levels_of_both_sides_with_spread_and_mid():
    html = book(15)._repr_html_()
    assert "BTC/USD · 15 bids / 15 asks · spread 0.25 (mid 100.125) · 2024-05-01 12:00:00.123 UTC" in html
    body = rows(html)
    assert len(body) == 10  # top 10 of 15 levels
    assert body[0].count("<td") == 4
    assert ">0.5<" in body[0] and ">100<" in body[0] and ">100.25<" in body[0] and ">0.00000001<" in body[0]
    assert ">91<" in body[9] and ">91<" not in html.replace(body[9], "")
    assert "E-" not in html  # plain decimals, never exponents
    assert len(rows(book_html(book(15), depth=3).html)) == 3


def test_a_one_sided_book_leaves_the_other_side_blank_and_has_no_spread():
    one_sided = OrderBook("X/Y", [BookLevel(D(1), D(2)), BookLevel(D("0.5"), D(1))], [], 0)
    html = one_sided._repr_html_()
    assert "spread" not in html and "UTC" not in html  # no timestamp given either
    assert rows(html)[1].count('text-align:right"></td>') == 2


def test_single_models_render_as_a_one_row_table_with_every_field():
    balance = Balance("BTC", D("0.1"), D("0.2"))
    html = balance._repr_html_()
    assert "<th>currency</th><th>free</th><th>locked</th><th>total</th>" in html
    assert len(rows(html)) == 1 and ">0.3<" in html  # the derived total, exact
    order = Order("7", "BTC/USD", "buy", "limit", D("870.69"), D("0.01"), D(0), D("0.01"), "open", T0)
    assert ">870.69<" in order._repr_html_() and ">open<" in order._repr_html_()
    trade = Trade("t<1>", "BTC/USD", "sell", D("1.5"), D(2), T0, order_id="7")
    assert ">t&lt;1&gt;<" in trade._repr_html_()  # text from the exchange is escaped
    candle = Candle(T0, D(1), D(2), D("0.5"), D("1.5"), D(10))
    assert "<th>time (UTC)</th>" in candle._repr_html_() and ">2024-05-01 12:00:00.123<" in candle._repr_html_()


def test_html_table_of_a_long_list_elides_the_middle_and_says_how_much():
    trades = [Trade(str(i), "BTC/USD", "buy", D(100 + i), D(1), T0 + i) for i in range(100)]
    table = html_table(trades, max_rows=10)
    assert repr(table) == "<table: 100 × Trade>" and table._repr_html_() == str(table)
    body = rows(str(table))
    assert len(body) == 11 and "… 90 more …" in body[5]
    assert ">0<" in body[0] and ">99<" in body[-1]


def test_html_table_takes_a_mapping_and_an_empty_list():
    balances = {"BTC": Balance("BTC", D(1), D(0)), "USD": Balance("USD", D(5), D(1))}
    assert len(rows(str(html_table(balances)))) == 2
    assert "no rows" in str(html_table([]))


def test_frames_keep_money_exact_and_index_by_utc_time():
    trades = [Trade("1", "BTC/USD", "buy", D("0.1"), D("1E-8"), T0, fee=D("0.3")),
              Trade("2", "BTC/USD", "sell", D("0.2"), D("3"), T0 + 1000)]
    frame = trades_frame(trades)
    assert list(frame.index) == [datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=timezone.utc),
                                 datetime(2024, 5, 1, 12, 0, 1, 123000, tzinfo=timezone.utc)]
    assert frame.index.name == "time" and "timestamp" not in frame.columns
    assert frame["price"].sum() == D("0.3")  # Decimal arithmetic: 0.1 + 0.2 as floats is not 0.3
    assert isinstance(frame["amount"].iloc[0], Decimal) and frame["amount"].iloc[0] == D("1E-8")
    candles = candles_frame([Candle(T0, D(1), D(3), D("0.5"), D(2), D(7))])
    assert list(candles.columns) == ["open", "high", "low", "close", "volume"]
    assert candles["close"].astype(float).iloc[0] == 2.0  # what a plot needs


def test_balance_order_and_book_frames():
    balances = balances_frame({"BTC": Balance("BTC", D("0.1"), D("0.2"))})
    assert balances.loc["BTC", "total"] == D("0.3") and list(balances.columns) == ["free", "locked", "total"]
    orders = orders_frame([Order("7", "X/Y", "buy", "market", None, D(1), D(1), D(0), "closed", T0, D("2.5"))])
    assert orders.loc["7", "average"] == D("2.5") and orders.loc["7", "price"] is None
    levels = book(2).to_dataframe()
    assert list(levels["side"]) == ["bid", "bid", "ask", "ask"]
    assert list(levels["price"]) == [D(100), D(99), D("100.25"), D("101.25")]


def test_empty_lists_give_empty_frames_with_the_right_columns():
    assert list(trades_frame([]).columns) == ["id", "symbol", "side", "price", "amount", "order_id", "fee",
                                              "fee_currency"]
    assert len(candles_frame([])) == 0


_WITHOUT_PANDAS = """
import importlib.abc, sys
class NoPandas(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("No module named 'pandas'")
sys.meta_path.insert(0, NoPandas())
from decimal import Decimal
from core.models import Balance, BookLevel, OrderBook
from core.frames import html_table, trades_frame
book = OrderBook("BTC/USD", [BookLevel(Decimal(1), Decimal(2))], [], 0)
assert "<table>" in book._repr_html_() and "<table>" in str(html_table([Balance("X", Decimal(1), Decimal(0))]))
try:
    trades_frame([])
except ImportError as exc:
    print(exc)
"""


def test_without_pandas_tables_still_render_and_frames_name_the_extra_to_install():
    result = subprocess.run([sys.executable, "-c", _WITHOUT_PANDAS], capture_output=True, text=True, timeout=60,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert "pip install 'exconn[pandas]'" in result.stdout

