"""Live data: BTC-Alpha's engine.io book feed, polling feeds, local books.

    async with streams.open_book("btcalpha", "BTC/USD") as feed:
        await feed.wait_live()
        print(feed.book.bids[:5])
        async for update in feed:
            ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import connectors
from streams.book import BookOrder, LocalBook
from streams.btcalpha import BtcAlphaBookFeed
from streams.events import BookSnapshot, LevelUpdate
from streams.polling import LevelBook, PollingFeed

__all__ = [
    "open_book", "BtcAlphaBookFeed", "PollingFeed", "LocalBook", "LevelBook", "BookOrder", "LevelUpdate",
    "BookSnapshot",
]


@asynccontextmanager
async def open_book(exchange_id: str, symbol: str, *, base_url: str | None = None, ws_url: str | None = None,
                    **options: Any) -> AsyncIterator[BtcAlphaBookFeed | PollingFeed]:
    """A live local book of ``symbol``: BTC-Alpha's from its socket, the others' by polling.
    ``feed.book`` is kept current (``bids``, ``asks``, ``state``); ``async for update in feed``
    yields each applied change. ``base_url`` (REST) and ``ws_url`` (socket) point the feed
    elsewhere than the exchange, e.g. at the sandbox; other options go to the feed class."""
    feed: BtcAlphaBookFeed | PollingFeed
    if exchange_id == "btcalpha":
        feed = BtcAlphaBookFeed(symbol, base_url=base_url, ws_url=ws_url, **options)
    else:
        connector = connectors.open(exchange_id, base_url=base_url)
        feed = PollingFeed(connector, symbol, channels=("book",), owns_connector=True, **options)
    try:
        await feed.start()
        yield feed
    finally:
        await feed.close()
