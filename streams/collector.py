"""The collector: many feeds into one sink, bounded, at-least-once, and honest about it.

Feeds push events into one bounded queue; a writer takes batches from it and writes each
batch to the sink in one transaction. When the sink is slow the queue fills and the feeds
wait: polling slows down, and the BTC-Alpha feed coalesces what it holds into a fresh
book snapshot (a resync) instead of growing memory. A failing sink is retried with capped
backoff; an event counts as *written* only once the sink has made its batch durable, and
whatever could not be written by the end is counted and reported, never dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import connectors
from core.connector import Connector
from core.logging import get_logger
from core.transport import RetryPolicy
from streams.btcalpha import BtcAlphaBookFeed
from streams.polling import CHANNELS, PollingFeed
from streams.sinks import Record, Sink, SinkError

__all__ = ["FeedSpec", "Collector", "FeedStats", "CollectorStats"]

_log = get_logger("collector")


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """What to collect: one exchange, one symbol, some of ``book``/``trades``/``ticker``."""

    exchange: str
    symbol: str
    channels: tuple[str, ...] = CHANNELS

    def __post_init__(self) -> None:
        unknown = set(self.channels) - set(CHANNELS)
        if unknown or not self.channels:
            raise ValueError(f"channels must be some of {', '.join(CHANNELS)}; got {', '.join(self.channels) or 'none'}")
        if self.exchange not in connectors.EXCHANGES:
            raise ValueError(f"unknown exchange {self.exchange!r}; known: {', '.join(connectors.EXCHANGES)}")


@dataclass(slots=True)
class FeedStats:
    """Progress of one feed, for the status line."""

    name: str
    feed: Any
    events: int = 0
    last_event_at: float = 0.0  # monotonic seconds

    @property
    def state(self) -> str:
        book = getattr(self.feed, "book", None)
        if isinstance(self.feed, PollingFeed) and "book" not in self.feed.channels:
            return "polling" if not self.feed.errors or self.feed.book.state != "stale" else "stale"
        return getattr(book, "state", "-")

    @property
    def reconnects(self) -> int:
        return getattr(self.feed, "reconnects", 0) + getattr(self.feed, "errors", 0)


@dataclass(slots=True)
class CollectorStats:
    started_at: float = field(default_factory=time.monotonic)
    written: int = 0
    batches: int = 0
    sink_errors: int = 0
    unwritten: int = 0
    last_sink_error: str | None = None


class Collector:
    """Runs feeds for ``specs`` into ``sink`` until stopped. ``base_urls``/``ws_urls`` map
    exchange ids to where to connect (the sandbox, in tests and ``--sandbox``)."""

    def __init__(
        self,
        specs: Sequence[FeedSpec],
        sink: Sink,
        *,
        base_urls: Mapping[str, str] | None = None,
        ws_urls: Mapping[str, str] | None = None,
        interval: float = 1.0,
        depth: int = 50,
        queue_size: int = 10_000,
        batch_size: int = 1_000,
        sink_retry: RetryPolicy = RetryPolicy(base_delay=0.2, max_delay=10.0),
        feed_options: Mapping[str, Any] | None = None,
        shutdown_grace: float = 3.0,
    ) -> None:
        if not specs:
            raise ValueError("nothing to collect: give at least one exchange and symbol")
        self.specs = list(specs)
        self.sink = sink
        self.base_urls = dict(base_urls or {})
        self.ws_urls = dict(ws_urls or {})
        self.interval = interval
        self.depth = depth
        self.batch_size = batch_size
        self._queue: asyncio.Queue[Record | None] = asyncio.Queue(queue_size)
        self._deadline: float | None = None  # set at shutdown: stop retrying a failing sink then
        self._stopping = asyncio.Event()
        self.shutdown_grace = shutdown_grace
        self._retry = sink_retry
        self._feed_options = dict(feed_options or {})
        self.stats = CollectorStats()
        self.feeds: list[FeedStats] = []
        self._connectors: dict[str, Connector] = {}
        self._rng = random.Random()

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    async def run(self, stop: asyncio.Event, *, duration: float | None = None) -> CollectorStats:
        """Collect until ``stop`` is set or ``duration`` seconds passed, then stop the feeds,
        write what is queued, and close everything. Returns the final counts."""
        await self.sink.open()
        writer = asyncio.create_task(self._write_loop(), name="collector-writer")
        pumps: list[asyncio.Task[None]] = []
        try:
            for stats in await self._open_feeds():
                pumps.append(asyncio.create_task(self._pump(stats), name=f"collector-{stats.name}"))
            await self._until_stopped(stop, duration, writer, pumps)
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            await self._close_feeds()
            await self._finish(writer, grace=self.shutdown_grace)
            await self.sink.close()
        return self.stats

    async def _until_stopped(self, stop: asyncio.Event, duration: float | None,
                             writer: asyncio.Task[None], pumps: list[asyncio.Task[None]]) -> None:
        """Wait for ``stop`` or the end of ``duration``; a feed or the writer failing ends it too."""
        loop = asyncio.get_running_loop()
        deadline = None if duration is None else loop.time() + duration
        waiter = asyncio.create_task(stop.wait())
        pending: set[asyncio.Task[Any]] = {waiter, writer, *pumps}
        try:
            while True:
                timeout = None if deadline is None else max(0.0, deadline - loop.time())
                done, pending = await asyncio.wait(pending, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                if not done or waiter in done:
                    return
                for task in done:
                    if not task.cancelled() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
        finally:
            waiter.cancel()

    # -- feeds -------------------------------------------------------------------------

    async def _open_feeds(self) -> list[FeedStats]:
        opened = self.feeds = []  # filled as feeds start, so a failure midway still closes the earlier ones
        for spec in self.specs:
            channels = list(spec.channels)
            if spec.exchange == "btcalpha" and "book" in channels:
                channels.remove("book")
                base = self.base_urls.get("btcalpha")
                feed = BtcAlphaBookFeed(spec.symbol, base_url=base, ws_url=self.ws_urls.get("btcalpha"),
                                        **self._feed_options.get("btcalpha", {}))
                opened.append(FeedStats(f"btcalpha {spec.symbol} book", feed))
                await feed.start()
            if channels:
                connector = self._connector(spec.exchange)
                feed = PollingFeed(connector, spec.symbol, channels=channels, interval=self.interval, depth=self.depth)
                await feed.start()  # raises BadSymbol before it owns anything
                opened.append(FeedStats(f"{spec.exchange} {spec.symbol} {'+'.join(channels)}", feed))
        return opened

    def _connector(self, exchange: str) -> Connector:
        connector = self._connectors.get(exchange)
        if connector is None:
            connector = self._connectors[exchange] = connectors.open(exchange, base_url=self.base_urls.get(exchange))
        return connector

    async def _close_feeds(self) -> None:
        for stats in self.feeds:
            await stats.feed.close()
        for connector in self._connectors.values():
            await connector.close()

    async def _pump(self, stats: FeedStats) -> None:
        exchange = stats.feed.exchange
        queue = self._queue
        async for event in stats.feed:
            await queue.put((exchange, event))  # waits while the sink is behind: back-pressure
            stats.events += 1
            stats.last_event_at = time.monotonic()

    # -- writing -----------------------------------------------------------------------

    async def _write_loop(self) -> None:
        """Write batches until the end marker (None) arrives; never cancelled mid-batch."""
        queue = self._queue
        while True:
            item = await queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < self.batch_size and queue.qsize():
                item = queue.get_nowait()
                if item is None:
                    await self._write(batch)
                    return
                batch.append(item)
            await self._write(batch)

    async def _write(self, batch: list[Record]) -> None:
        """Write one batch, retrying with capped backoff; after the shutdown deadline a failing
        batch is counted as unwritten instead."""
        attempt = 0
        while True:
            try:
                await self.sink.write(batch)
            except SinkError as exc:
                self.stats.sink_errors += 1
                self.stats.last_sink_error = str(exc)
                if _log.isEnabledFor(logging.WARNING):
                    _log.warning("sink.failed", sink=self.sink.url, error=str(exc), attempt=attempt + 1,
                                 batch=len(batch))
                delay = self._retry.backoff(attempt, self._rng)
                if self._deadline is not None and time.monotonic() + delay > self._deadline:
                    self.stats.unwritten += len(batch)
                    return
                if self._stopping.is_set():
                    await asyncio.sleep(delay)
                else:  # a shutdown cuts this backoff short: one more try, then the deadline rules
                    try:
                        await asyncio.wait_for(self._stopping.wait(), delay)
                    except asyncio.TimeoutError:
                        pass
                attempt += 1
                continue
            self.stats.written += len(batch)
            self.stats.batches += 1
            return

    async def _finish(self, writer: asyncio.Task[None], grace: float) -> None:
        """Let the writer write what is queued (retrying a failing sink for ``grace`` seconds
        at most); what cannot be written is counted as unwritten."""
        self._deadline = time.monotonic() + grace
        self._stopping.set()
        if writer.done():
            self.stats.unwritten += self._queue.qsize()
            return
        await self._queue.put(None)  # the writer keeps consuming, so this cannot wait long
        await writer


def feed_specs(exchanges: Iterable[str], symbols: Iterable[str], channels: Iterable[str]) -> list[FeedSpec]:
    """Every (exchange, symbol) pair with the same channels."""
    chans = tuple(channels)
    return [FeedSpec(ex, sym, chans) for ex in exchanges for sym in symbols]
