"""What feeds yield and collectors store: one struct per event kind, money as Decimal,
times as epoch ms."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

from core.models import BookLevel, Ticker, Trade

__all__ = ["LevelUpdate", "BookSnapshot", "FeedEvent", "BookState"]

BookState = Literal["syncing", "live", "stale", "resyncing"]


class LevelUpdate(msgspec.Struct, frozen=True, gc=False, tag="level"):
    """One aggregated price level changed: ``amount`` is the new total (0 = level removed)."""

    exchange: str
    symbol: str
    side: Literal["bid", "ask"]
    price: Decimal
    amount: Decimal
    timestamp: int

    def __repr__(self) -> str:
        return f"LevelUpdate({self.symbol} {self.side} {format(self.amount, 'f')}@{format(self.price, 'f')})"


class BookSnapshot(msgspec.Struct, frozen=True, gc=False, tag="snapshot"):
    """The whole book after a (re)sync; later LevelUpdates apply on top of it."""

    exchange: str
    symbol: str
    bids: list[BookLevel]
    asks: list[BookLevel]
    timestamp: int

    def __repr__(self) -> str:
        return f"BookSnapshot({self.symbol} {len(self.bids)} bids / {len(self.asks)} asks t={self.timestamp})"


FeedEvent = LevelUpdate | BookSnapshot | Trade | Ticker
