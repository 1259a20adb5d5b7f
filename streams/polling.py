"""Polling feeds for exchanges without a documented socket: successive REST snapshots
diffed into the same events the socket feed yields.

Every poll goes through the connector, so it waits for the shared rate limiter: a feed
polls as fast as ``interval`` allows *and* the exchange's documented limits allow, and a
collector running many feeds on one exchange never draws a 429. A failed poll marks the
book ``stale``; the next good poll diffs against the last good one, so nothing is lost
in between except what the exchange itself no longer lists.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterable
from decimal import Decimal
from typing import Any

from core.connector import Connector
from core.errors import ExconnError
from core.logging import get_logger
from core.models import BookLevel, OrderBook, Ticker, Trade
from core.timestamps import now_ms
from streams.events import BookSnapshot, BookState, LevelUpdate

__all__ = ["PollingFeed", "LevelBook", "CHANNELS"]

CHANNELS = ("book", "trades", "ticker")
_log = get_logger("polling")


class LevelBook:
    """The aggregated book a polling feed keeps: ``bids``/``asks`` best first, and ``state``."""

    __slots__ = ("symbol", "bids", "asks", "state", "timestamp")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids: list[BookLevel] = []
        self.asks: list[BookLevel] = []
        self.state: BookState = "syncing"
        self.timestamp = 0

    def __repr__(self) -> str:
        bid = self.bids[0].price if self.bids else None
        ask = self.asks[0].price if self.asks else None
        return f"LevelBook({self.symbol} {self.state} {len(self.bids)} bids / {len(self.asks)} asks, best {bid} | {ask})"


def diff_levels(exchange: str, symbol: str, side: str, old: list[BookLevel], new: list[BookLevel],
                timestamp: int) -> list[LevelUpdate]:
    """LevelUpdates turning ``old`` into ``new`` (amount 0 = level gone)."""
    before = {level.price: level.amount for level in old}
    updates = []
    for level in new:
        if before.pop(level.price, None) != level.amount:
            updates.append(LevelUpdate(exchange, symbol, side, level.price, level.amount, timestamp))  # type: ignore[arg-type]
    for price in before:
        updates.append(LevelUpdate(exchange, symbol, side, price, Decimal(0), timestamp))  # type: ignore[arg-type]
    return updates


class PollingFeed:
    """Book, trades and ticker of one symbol by polling; iterate for events, or read ``book``.

    Yields a BookSnapshot on the first good book poll, then LevelUpdates; each Trade once
    (by id, oldest first, starting with the page listed at start); a Ticker when it changed. ``interval`` is seconds between
    polls of each channel; ``depth`` the book levels kept per side. If the iterating consumer
    falls ``queue_size`` events behind, polling pauses until it catches up (back-pressure:
    memory stays bounded and the exchange is asked less)."""

    def __init__(
        self,
        connector: Connector,
        symbol: str,
        *,
        channels: Iterable[str] = CHANNELS,
        interval: float = 1.0,
        depth: int = 50,
        queue_size: int = 10_000,
        owns_connector: bool = False,
    ) -> None:
        channels = tuple(channels)
        unknown = set(channels) - set(CHANNELS)
        if unknown or not channels:
            raise ValueError(f"channels must be some of {CHANNELS}, got {channels}")
        self.connector = connector
        self.exchange = connector.id
        self.symbol = symbol
        self.channels = channels
        self.interval = interval
        self.depth = depth
        self.book = LevelBook(symbol)
        self._owns_connector = owns_connector
        self._queue: asyncio.Queue[Any] = asyncio.Queue(queue_size)
        self._iterating = False
        self._tasks: list[asyncio.Task[None]] = []
        self._live: asyncio.Event | None = None
        self._seen_trades: deque[str] = deque(maxlen=5000)
        self._seen_set: set[str] = set()
        self._ticker: Ticker | None = None
        self.polls = 0
        self.dropped = 0  # trades/tickers discarded because nobody iterated and the queue was full
        self.errors = 0
        self.events = 0
        self.reconnects = 0  # polling has no connection; kept for a uniform status line
        self.last_error: str | None = None

    async def __aenter__(self) -> PollingFeed:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        if self._tasks:
            return
        self._live = asyncio.Event()
        await self.connector.market(self.symbol)  # BadSymbol now rather than in a background task
        for channel in self.channels:
            poll = {"book": self._poll_book, "trades": self._poll_trades, "ticker": self._poll_ticker}[channel]
            self._tasks.append(asyncio.create_task(self._loop(poll), name=f"poll-{self.exchange}-{self.symbol}-{channel}"))

    async def close(self) -> None:
        """Stop polling (and close the connector if the feed opened it). Idempotent."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._owns_connector:
            await self.connector.close()
        if self._iterating:
            try:
                self._queue.put_nowait(None)
            except asyncio.QueueFull:
                pass

    async def wait_live(self, timeout: float | None = None) -> None:
        """Return once the first book poll succeeded."""
        if self._live is None:
            raise RuntimeError("the feed is not started; use it with 'async with'")
        await asyncio.wait_for(self._live.wait(), timeout)

    def __aiter__(self) -> AsyncIterator[Any]:
        self._iterating = True
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        if self.book.state == "live":
            yield BookSnapshot(self.exchange, self.symbol, list(self.book.bids), list(self.book.asks), self.book.timestamp)
        while True:
            item = await self._queue.get()
            if item is None:
                return
            yield item

    async def _emit(self, item: Any) -> None:
        self.events += 1
        if self._iterating:
            await self._queue.put(item)  # waits while the consumer is behind: polling slows down
        elif not isinstance(item, (LevelUpdate, BookSnapshot)):
            # trades and tickers wait for a consumer that has not started yet; book changes
            # do not, as iteration starts with a snapshot of the book as it is then
            if self._queue.full():
                self._queue.get_nowait()
                self.dropped += 1
            self._queue.put_nowait(item)

    async def _loop(self, poll) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await poll()
                self.polls += 1
                if self.book.state == "stale" and "book" not in self.channels:
                    self.book.state = "live"
            except asyncio.CancelledError:
                raise
            except ExconnError as exc:
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                if self.book.state == "live":
                    self.book.state = "stale"
                if _log.isEnabledFor(logging.INFO):
                    _log.info("poll.failed", exchange=self.exchange, symbol=self.symbol, error=self.last_error)
            await asyncio.sleep(max(0.0, self.interval - (loop.time() - started)))

    async def _poll_book(self) -> None:
        book: OrderBook = await self.connector.fetch_order_book(self.symbol, limit=self.depth)
        bids, asks = book.bids[: self.depth], book.asks[: self.depth]
        timestamp = book.timestamp or now_ms()
        current = self.book
        first = current.state == "syncing"
        if not first and (self._iterating or current.state == "live"):
            for update in (diff_levels(self.exchange, self.symbol, "bid", current.bids, bids, timestamp)
                           + diff_levels(self.exchange, self.symbol, "ask", current.asks, asks, timestamp)):
                await self._emit(update)
        current.bids, current.asks, current.timestamp = bids, asks, timestamp
        current.state = "live"
        if first:
            await self._emit(BookSnapshot(self.exchange, self.symbol, list(bids), list(asks), timestamp))
        assert self._live is not None
        self._live.set()

    async def _poll_trades(self) -> None:
        trades: list[Trade] = await self.connector.fetch_trades(self.symbol)
        fresh = [t for t in trades if t.id not in self._seen_set]
        for trade in fresh:
            if len(self._seen_trades) == self._seen_trades.maxlen:
                self._seen_set.discard(self._seen_trades[0])
            self._seen_trades.append(trade.id)
            self._seen_set.add(trade.id)
        for trade in fresh:
            await self._emit(trade)

    async def _poll_ticker(self) -> None:
        ticker = await self.connector.fetch_ticker(self.symbol)
        previous = self._ticker
        self._ticker = ticker
        if previous is None or (ticker.bid, ticker.ask, ticker.last, ticker.volume) != (
                previous.bid, previous.ask, previous.last, previous.volume):
            await self._emit(ticker)
