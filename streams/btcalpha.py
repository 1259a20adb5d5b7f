"""BTC-Alpha's live order book: engine.io events on top of a REST snapshot, kept exact.

BTC-Alpha's feed has no sequence numbers, so a snapshot cannot simply be matched to a
point in the stream. Order ids help: they grow with placement, and a new-order event is
emitted at placement with every fill it caused, so the highest resting id in a snapshot
bounds where in the buffered stream it was taken. :func:`unreflected` tests the cuts
that remain against what the snapshot shows; when they disagree, the feed takes another
snapshot. Cancels are idempotent (a cancelled order is simply absent from a later snapshot).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import msgspec

import connectors
from connectors.btcalpha.schemas import SOCKET_MESSAGE, SocketMessageRaw, pair_of
from core.errors import ExconnError, NetworkError
from core.logging import get_logger
from core.models import BookLevel
from core.timestamps import now_ms, seconds_to_ms
from core.transport import RetryPolicy
from streams.book import BookInconsistent, BookOrder, LocalBook
from streams.engineio import ConnectionLost, EngineIOConnection
from streams.events import BookSnapshot, LevelUpdate

__all__ = ["BtcAlphaBookFeed", "unreflected", "apply_event", "Stalled"]

_log = get_logger("btcalpha.book")
_SIDE = {"buy": "bid", "sell": "ask"}
_ZERO = Decimal(0)


class Stalled(NetworkError):
    """No event arrived for ``stall_timeout`` seconds although the connection looked alive."""


def unreflected(snapshot: dict[int, Decimal], events: list[SocketMessageRaw]) -> list[SocketMessageRaw] | None:
    """The buffered events a snapshot does not yet reflect, in order; None when that cannot
    be decided (take another snapshot). ``snapshot`` maps resting order id → amount.

    The snapshot sits at some cut of the buffer: events before it are reflected, events
    after it are not. Every new order up to the highest resting id ``M`` came before it;
    each later cut is tested — the events before it must have left exactly what the
    snapshot shows of the orders they created, and the events after it must apply
    cleanly. When every consistent cut leads to the same book, that book is right."""
    highest = max(snapshot, default=0)
    first = 0
    for i, event in enumerate(events):
        if not event.is_cancel and event.oid <= highest:
            first = i + 1
    if any(e.is_cancel and e.oid in snapshot for e in events[:first]):
        return None  # a cancel the snapshot should show is missing: the snapshot is not of this stream
    outcome: dict[int, Decimal] | None = None
    chosen = -1
    for cut in range(first, len(events) + 1):
        book = _book_at_cut(snapshot, events, first, cut)
        if book is None:
            continue
        if outcome is None:
            outcome, chosen = book, cut
        elif book != outcome:
            return None
    return None if chosen < 0 else events[chosen:]


def _book_at_cut(snapshot: dict[int, Decimal], events: list[SocketMessageRaw], first: int,
                 cut: int) -> dict[int, Decimal] | None:
    """The final book (id → amount) if the snapshot was taken after ``events[:cut]``, or None
    when that cut contradicts the snapshot or the stream."""
    created: dict[int, Decimal] = {}  # orders placed between `first` and the cut, what is left of them
    for event in events[first:cut]:
        if event.is_cancel:
            if event.oid in created:
                created[event.oid] = _ZERO
            elif event.oid in snapshot:
                return None  # cancelled before the snapshot, yet it is in it
            continue
        last = len(event.trades) - 1
        for k, trade in enumerate(event.trades):
            if trade.o_id in created:
                created[trade.o_id] -= trade.amount
                if created[trade.o_id] < 0:
                    return None
            elif k < last and trade.o_id in snapshot:
                return None  # consumed entirely before the snapshot, yet it is in it
        if event.amount > 0:
            created[event.oid] = event.amount
    for oid, left in created.items():
        if (snapshot.get(oid) != left) if left > 0 else (oid in snapshot):
            return None
    book = dict(snapshot)
    for event in events[cut:]:
        if event.is_cancel:
            book.pop(event.oid, None)
            continue
        if event.oid in book:
            return None
        last = len(event.trades) - 1
        for k, trade in enumerate(event.trades):
            have = book.get(trade.o_id)
            if have is None or have < trade.amount or (k < last and have != trade.amount):
                return None
            if have == trade.amount:
                del book[trade.o_id]
            else:
                book[trade.o_id] = have - trade.amount
        if event.amount > 0:
            book[event.oid] = event.amount
    return book


def _sound(event: SocketMessageRaw) -> bool:
    """A side the book knows and finite numbers, in the event and each of its fills."""
    if event.type not in _SIDE or not (event.price.is_finite() and event.amount.is_finite()
                                       and event.date.is_finite()):
        return False
    return all(t.amount.is_finite() and t.price.is_finite() for t in event.trades)


def apply_event(book: LocalBook, event: SocketMessageRaw, *, tolerant: bool) -> list[tuple[str, Decimal, Decimal]]:
    """Apply one socket event to the book; returns the changed levels as (side, price, new
    total). A cancel of an order not on the book is ignored (it lay beyond the snapshot or
    is already reflected); anything else that does not fit raises BookInconsistent, as does
    a crossed book unless ``tolerant`` (while replaying a buffer)."""
    if event.is_cancel:
        removed = book.cancel(event.oid)
        if removed is None:
            return []
        order, total = removed
        return [(order.side, order.price, total)]
    changes = []
    for trade in event.trades:
        order, total = book.fill(trade.o_id, trade.amount)
        changes.append((order.side, order.price, total))
    if event.amount > 0:
        changes.append((event.type, event.price, book.add(BookOrder(event.oid, event.type, event.price, event.amount))))
    if not tolerant:
        book.check_uncrossed()
    return changes


class BtcAlphaBookFeed:
    """A live BTC-Alpha book for one symbol. Use through ``streams.open_book``.

    ``book`` is always the current local book (``book.state`` tells whether it is live);
    iterating the feed yields a BookSnapshot after every (re)sync and a LevelUpdate for
    every changed price level. If the iterating consumer falls ``queue_size`` updates
    behind, the queued updates are replaced by one fresh BookSnapshot (nothing is lost:
    the snapshot holds the whole state)."""

    exchange = "btcalpha"

    def __init__(
        self,
        symbol: str,
        *,
        base_url: str | None = None,
        ws_url: str | None = None,
        protocol: int = 3,
        connector: Any = None,
        session: aiohttp.ClientSession | None = None,
        stall_timeout: float = 30.0,
        snapshot_depth: int = 10_000,
        snapshot_attempts: int = 20,
        queue_size: int = 10_000,
        reconnect: RetryPolicy = RetryPolicy(base_delay=0.25, max_delay=15.0),
        max_reconnects: int | None = None,
        subscribe: bool = False,
    ) -> None:
        self.symbol = symbol
        self.pair = pair_of(symbol)
        http = (base_url or "https://btc-alpha.com").rstrip("/")
        self.ws_url = (ws_url or ("ws" + http[4:])).rstrip("/")
        self.protocol = protocol
        self._connector = connector
        self._owns_connector = connector is None
        self._base_url = base_url
        self._session = session
        self.stall_timeout = stall_timeout
        self.snapshot_depth = snapshot_depth
        self.snapshot_attempts = snapshot_attempts
        self.queue_size = queue_size
        self._retry = reconnect
        self.max_reconnects = max_reconnects
        self._subscribe = subscribe
        self._prefix = f'42["book_{self.pair}",'
        self.book = LocalBook(symbol)
        self._updates: asyncio.Queue[Any] | None = None
        self._iterating = False
        self._runner: asyncio.Task[None] | None = None
        self._live: asyncio.Event | None = None
        self._conn: EngineIOConnection | None = None
        self._rng = random.Random()
        self._failure: BaseException | None = None
        # progress counters, for status lines and tests
        self.events = 0
        self.reconnects = 0
        self.resyncs = 0
        self.snapshots = 0
        self.coalesced = 0

    # -- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> BtcAlphaBookFeed:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        if self._runner is not None:
            return
        if self._connector is None:
            self._connector = connectors.open("btcalpha", base_url=self._base_url, session=self._session)
        self._live = asyncio.Event()
        self._updates = asyncio.Queue()
        self._runner = asyncio.create_task(self._run(), name=f"btcalpha-book-{self.pair}")

    async def close(self) -> None:
        """Stop the feed and release its connection and HTTP session. Idempotent."""
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        if self._owns_connector and self._connector is not None:
            await self._connector.close()
            self._connector = None
        if self._updates is not None:
            self._updates.put_nowait(None)

    async def wait_live(self, timeout: float | None = None) -> None:
        """Return once the book is live (raises TimeoutError after ``timeout`` seconds)."""
        if self._live is None:
            raise RuntimeError("the feed is not started; use it with 'async with'")
        await asyncio.wait_for(self._wait_live(), timeout)

    async def _wait_live(self) -> None:
        assert self._live is not None
        while True:
            if self._failure is not None:
                raise self._failure
            await self._live.wait()
            if self.book.state == "live":
                return

    def __aiter__(self) -> AsyncIterator[LevelUpdate | BookSnapshot]:
        self._iterating = True
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[LevelUpdate | BookSnapshot]:
        if self.book.state == "live":
            yield self._snapshot_event()
        queue = self._updates
        assert queue is not None
        while True:
            item = queue.get_nowait() if queue.qsize() else await queue.get()
            if item is None:
                if self._failure is not None:
                    raise self._failure
                return
            yield item

    # -- the loop: connect, sync, stream; on any failure back off and do it again ----------

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                async with EngineIOConnection(self.ws_url, protocol=self.protocol, session=self._session,
                                              queue_size=self.queue_size) as conn:
                    self._conn = conn
                    if self._subscribe:
                        await conn.emit("subscribe", f"book_{self.pair}")
                    watchdog = _Watchdog(conn, self.stall_timeout, self.book)
                    try:
                        while True:
                            await self._sync(conn)
                            attempt = 0
                            try:
                                await self._stream(conn)
                            except BookInconsistent as exc:
                                self._lost(exc, reconnect=False)
                    finally:
                        watchdog.cancel()
            except asyncio.CancelledError:
                raise
            except (ExconnError, BookInconsistent, aiohttp.ClientError, OSError) as exc:
                self._lost(exc, reconnect=True)
            finally:
                self._conn = None
            if self.max_reconnects is not None and self.reconnects > self.max_reconnects:
                self._failure = ConnectionLost(f"gave up after {self.max_reconnects} reconnects")
                assert self._live is not None and self._updates is not None
                self._live.set()
                self._updates.put_nowait(None)
                return
            await asyncio.sleep(self._retry.backoff(attempt, self._rng))
            attempt += 1

    def _lost(self, exc: BaseException, *, reconnect: bool) -> None:
        if self.book.state == "live":
            self.book.state = "stale" if reconnect else "resyncing"
        if reconnect:
            self.reconnects += 1
        else:
            self.resyncs += 1
        if self._live is not None:
            self._live.clear()
        if _log.isEnabledFor(logging.INFO):
            _log.info("book.resync", symbol=self.symbol, reason=f"{type(exc).__name__}: {exc}",
                      reconnects=self.reconnects, resyncs=self.resyncs)

    async def _sync(self, conn: EngineIOConnection) -> None:
        """Buffer events, take snapshots until one can be placed in the stream, apply the rest."""
        if self.book.state != "syncing":
            self.book.state = "resyncing"
        buffered: list[SocketMessageRaw] = []
        loop = asyncio.get_running_loop()
        for _ in range(self.snapshot_attempts):
            started = loop.time()
            snapshot_task = asyncio.ensure_future(self._snapshot())
            try:
                await self._buffer(conn, buffered, until=snapshot_task)
                orders = snapshot_task.result()
            finally:
                snapshot_task.cancel()
            # Events the snapshot already reflects may still be on their way over the socket:
            # keep buffering for as long again as the snapshot took, and until nothing received
            # is left unread, so the snapshot's cut lies inside the buffer.
            took = loop.time() - started
            await self._buffer(conn, buffered, until=asyncio.ensure_future(asyncio.sleep(took)))
            deadline = loop.time() + max(1.0, 4 * took)
            while conn.backlog and loop.time() < deadline:
                event = self._decode(await conn.recv())
                if event is not None:
                    buffered.append(event)
            self.snapshots += 1
            pending = unreflected({o.id: o.amount for o in orders}, buffered)
            if pending is None:
                continue
            book = self.book
            book.reset(orders)
            try:
                for event in pending:
                    apply_event(book, event, tolerant=True)
                self.events += len(pending)
                book.check_uncrossed()
            except BookInconsistent:
                continue
            book.state = "live"
            book.timestamp = now_ms()
            self._publish(self._snapshot_event())
            assert self._live is not None
            self._live.set()
            return
        raise BookInconsistent(f"no snapshot fitted the stream in {self.snapshot_attempts} tries")

    async def _buffer(self, conn: EngineIOConnection, buffered: list[SocketMessageRaw],
                      until: asyncio.Future[Any]) -> None:
        """Append this pair's events to ``buffered`` until ``until`` completes."""
        try:
            while not until.done():
                receive = asyncio.ensure_future(conn.recv())
                await asyncio.wait((receive, until), return_when=asyncio.FIRST_COMPLETED)
                if receive.done():
                    event = self._decode(receive.result())
                    if event is not None:
                        buffered.append(event)
                else:
                    receive.cancel()
                    await asyncio.gather(receive, return_exceptions=True)
        finally:
            until.cancel()

    async def _snapshot(self) -> list[BookOrder]:
        raw = await self._connector.fetch_book_orders(self.symbol, self.snapshot_depth)
        # the 2017 form labels sell orders 'bids' and buy orders 'asks' (as BTC-Alpha's docs do)
        return ([BookOrder(o.id, "sell", o.price, o.amount) for o in raw.bids]
                + [BookOrder(o.id, "buy", o.price, o.amount) for o in raw.asks])

    async def _stream(self, conn: EngineIOConnection) -> None:
        decode = self._decode
        apply = self._apply
        while True:
            event = decode(await conn.recv())
            if event is not None:
                apply(event, tolerant=False)

    def _decode(self, frame: str) -> SocketMessageRaw | None:
        if not frame.startswith(self._prefix):
            return None
        try:
            event = SOCKET_MESSAGE.decode(frame[len(self._prefix):-1])
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
            raise BookInconsistent(f"undecodable book event: {exc}") from None
        if not _sound(event):
            raise BookInconsistent(f"book event {event.oid} has a side or a number that cannot be meant")
        return event

    def _apply(self, event: SocketMessageRaw, *, tolerant: bool) -> None:
        self.events += 1
        when = seconds_to_ms(event.date)
        self.book.timestamp = when
        changes = apply_event(self.book, event, tolerant=tolerant)
        if self._iterating and self.book.state == "live":
            for side, price, total in changes:
                self._publish(LevelUpdate(self.exchange, self.symbol, _SIDE[side], price, total, when))

    def _publish(self, item: LevelUpdate | BookSnapshot) -> None:
        queue = self._updates
        if queue is None or not self._iterating:
            return
        if queue.qsize() >= self.queue_size:
            self.coalesced += queue.qsize()
            while queue.qsize():
                queue.get_nowait()
            item = self._snapshot_event()
        queue.put_nowait(item)

    def _snapshot_event(self) -> BookSnapshot:
        bids: list[BookLevel] = self.book.bids
        asks: list[BookLevel] = self.book.asks
        return BookSnapshot(self.exchange, self.symbol, bids, asks, self.book.timestamp or now_ms())


class _Watchdog:
    """Declares the connection stalled when no frame arrived for ``timeout`` seconds: the book
    turns stale and the connection is dropped (the feed then reconnects and resyncs)."""

    __slots__ = ("_conn", "_timeout", "_book", "_handle", "_loop")

    def __init__(self, conn: EngineIOConnection, timeout: float, book: LocalBook) -> None:
        self._conn = conn
        self._timeout = timeout
        self._book = book
        self._loop = asyncio.get_running_loop()
        conn.last_frame_at = max(conn.last_frame_at, self._loop.time())
        self._handle = self._loop.call_at(conn.last_frame_at + timeout, self._check)

    def _check(self) -> None:
        due = self._conn.last_frame_at + self._timeout
        if self._loop.time() < due:
            self._handle = self._loop.call_at(due, self._check)
            return
        if self._book.state == "live":
            self._book.state = "stale"
        self._conn.drop(Stalled(f"no event for {self._timeout:g} s"))

    def cancel(self) -> None:
        self._handle.cancel()
