"""Market statistics the exchanges publish, derived from the engine's fills and books."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sandbox.engine import Engine

__all__ = ["TickerStats", "ticker_stats", "candles", "Candle", "CURRENCY_NAMES", "DAY_MS"]

DAY_MS = 86_400_000

CURRENCY_NAMES = {
    "BTC": "Bitcoin", "ETH": "Ethereum", "LTC": "Litecoin", "USD": "US Dollar", "USDT": "Tether",
    "NGN": "Nigerian Naira", "INR": "Indian Rupee", "BIS": "Bismuth", "SNT": "Status", "TRX": "Tron",
    "DOGE": "Dogecoin",
}


@dataclass(frozen=True, slots=True)
class TickerStats:
    """Best bid/ask now and the last 24 h of trades; volumes in base and quote currency."""

    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    volume_base: Decimal
    volume_quote: Decimal

    @property
    def change(self) -> Decimal:
        """Fractional change over 24 h (0.01 = +1 %), 0 when unknown."""
        if self.open is None or self.last is None or not self.open:
            return Decimal(0)
        return (self.last - self.open) / self.open


def ticker_stats(engine: Engine, symbol: str, now_ms: int) -> TickerStats:
    bids, asks = engine.levels(symbol)
    recent = [f for f in engine.fills(None, symbol) if f.timestamp_ms > now_ms - DAY_MS]  # newest first
    prices = [f.price for f in recent]
    return TickerStats(
        bid=bids[0][0] if bids else None,
        ask=asks[0][0] if asks else None,
        last=prices[0] if prices else None,
        open=prices[-1] if prices else None,
        high=max(prices) if prices else None,
        low=min(prices) if prices else None,
        volume_base=sum((f.amount for f in recent), Decimal(0)),
        volume_quote=sum((f.amount * f.price for f in recent), Decimal(0)),
    )


@dataclass(frozen=True, slots=True)
class Candle:
    open_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal  # base currency


def candles(
    engine: Engine, symbol: str, interval_ms: int, *, since_ms: int | None = None,
    until_ms: int | None = None, limit: int | None = None,
) -> list[Candle]:
    """OHLCV bars of ``interval_ms`` from the engine's fills, oldest first; empty intervals
    are omitted; ``limit`` keeps the newest bars."""
    bars: dict[int, list[Decimal]] = {}
    for fill in reversed(engine.fills(None, symbol)):  # oldest first
        if since_ms is not None and fill.timestamp_ms < since_ms:
            continue
        if until_ms is not None and fill.timestamp_ms > until_ms:
            continue
        start = fill.timestamp_ms - fill.timestamp_ms % interval_ms
        bar = bars.get(start)
        if bar is None:
            bars[start] = [fill.price, fill.price, fill.price, fill.price, fill.amount]
        else:
            bar[1] = max(bar[1], fill.price)
            bar[2] = min(bar[2], fill.price)
            bar[3] = fill.price
            bar[4] += fill.amount
    result = [Candle(start, *values) for start, values in sorted(bars.items())]
    return result[-limit:] if limit else result
