"""Live data: BTC-Alpha's engine.io book feed, polling feeds, local books.

    async with streams.open_book("btcalpha", "BTC/USD") as feed:
        await feed.wait_live()
        print(feed.book.bids[:5])
        async for update in feed:
            ...
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from collections.abc import AsyncIterator
from typing import Any

from core.errors import NotSupported
from streams.book import BookOrder, LocalBook
from streams.btcalpha import BtcAlphaBookFeed
from streams.events import BookSnapshot, LevelUpdate

__all__ = ["open_book", "BtcAlphaBookFeed", "LocalBook", "BookOrder", "LevelUpdate", "BookSnapshot"]


@asynccontextmanager
async def open_book(exchange_id: str, symbol: str, *, base_url: str | None = None, ws_url: str | None = None,
                    **options: Any) -> AsyncIterator[BtcAlphaBookFeed]:
    """A live local book of ``symbol``; ``feed.book`` is kept current, ``async for update in
    feed`` yields each applied change. ``base_url`` (REST) and ``ws_url`` (socket) point the
    feed elsewhere than the exchange, e.g. at the sandbox."""
    if exchange_id != "btcalpha":
        raise NotSupported(f"live book for {exchange_id!r}", reason="only btcalpha has a socket feed so far")
    feed = BtcAlphaBookFeed(symbol, base_url=base_url, ws_url=ws_url, **options)
    async with feed:
        yield feed
