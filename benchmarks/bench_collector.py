"""The collector's sustained write rate into SQLite, and its memory over a multi-minute run.

Run ``python -m benchmarks.bench_collector [--minutes 3] [--maker-rate R]``; prints a sample
row every few seconds, then a summary table, and writes
``benchmarks/results/bench_collector.json``.

The sandbox runs in a child process with its market makers at a high rate (engine events per
second per exchange): its engine keeps every fill by design, so its memory grows and must not
be counted as the collector's. The collector runs in this process as ``exconn collect`` runs
it, on every market of all five exchanges (books, trades, tickers; BTC-Alpha's books from its
socket, the rest polled within each exchange's documented limits), into a fresh SQLite file.

Reported: events/s written (whole run, and over the steady window after ``WARMUP_S``),
p50/p99 of the time one batch takes to become durable, peak and final RSS and RSS flatness
(least-squares slope over the steady window and over its last minute, max - min over the
steady window; flat = last-minute slope and max - min within ``FLAT_SLOPE``/``FLAT_SPREAD``),
open file descriptors, CPU. At the end the market makers stop and every collected book must
come to equal the engine's (``books exact``), and every event counted as written is looked up
in the database (``lost``). :mod:`benchmarks.soak` runs the same with faults on.

Each sample row also shows the trade ids the polling feeds remember to skip repeats (at most
5000 a feed: it fills over the first minutes, and most of the early RSS growth is that), and
the sandbox's achieved engine events/s and event-loop lag, which tell a dip in the sandbox
from one in the collector.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import logging
import math
import multiprocessing
import multiprocessing.connection
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.models import Ticker, Trade
from streams.btcalpha import BtcAlphaBookFeed
from streams.collector import Collector, FeedSpec
from streams.events import BookSnapshot, LevelUpdate
from streams.polling import PollingFeed
from streams.sinks import Record, Sink, SqliteSink

RESULTS = Path(__file__).parent / "results" / "bench_collector.json"
MAKER_RATE = 1500.0  # engine events/s per exchange: about the most the sandbox process keeps up with on 2 CPUs
INTERVAL = 1.0  # seconds between polls of one channel, as exconn collect (shorter: the sandbox's tickers choke it)
SAMPLE_S = 5.0  # seconds between samples
WARMUP_S = 30.0  # seconds left out of the steady window (imports, caches, first snapshots)
SETTLE_S = 30.0  # seconds the books get to match the engine once the market makers stop
SEED = 11
FLAT_SLOPE = 0.5  # MiB/min: RSS is flat when its last-minute slope is at most this...
FLAT_SPREAD = 16.0  # MiB: ...and its steady-window max - min at most this
TABLES = {Trade: "trades", Ticker: "tickers", LevelUpdate: "level_updates", BookSnapshot: "book_snapshots"}
MiB = 1024 * 1024

Levels = list[tuple[Decimal, Decimal]]  # (price, amount) best first


# -- process metrics --------------------------------------------------------------------------


def proc_status(pid: int | str = "self") -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in bytes, from ``/proc/PID/status``."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) * 1024
    return values


def open_fds() -> int:
    """Open file descriptors of this process (``/proc/self/fd``, less the one listing it)."""
    return len(os.listdir("/proc/self/fd")) - 1


# -- the sandbox in a child process -----------------------------------------------------------


def _count_event(events: Counter[str], exchange: str, _event: object) -> None:
    events[exchange] += 1


def _serve_sandbox(conn: multiprocessing.connection.Connection, seed: int, maker_rate: float,
                   faults: Mapping[str, Mapping[str, Any]]) -> None:
    asyncio.run(_sandbox_main(conn, seed, maker_rate, faults))


async def _sandbox_main(conn: multiprocessing.connection.Connection, seed: int, maker_rate: float,
                        faults: Mapping[str, Mapping[str, Any]]) -> None:
    """Run all five exchanges with ``faults`` (exchange -> ``sandbox.venue.Faults`` fields) on;
    send the URLs and markets, then answer requests until "stop": "events" (engine events so
    far per exchange), "quiesce" (market makers and faults off) and ("levels", exchange,
    symbol) (the engine's aggregated book)."""
    from sandbox import Sandbox

    logging.getLogger("exconn.sandbox").setLevel(logging.ERROR)  # the collector's side reports drops and stalls
    events: Counter[str] = Counter()
    async with Sandbox(seed=seed, maker_rate=0) as sb:
        with contextlib.ExitStack() as faulty:
            makers = []
            for exchange in sb.exchanges:
                venue = sb.venue(exchange)
                venue.engine.subscribe(functools.partial(_count_event, events, exchange))
                if exchange in faults:
                    faulty.enter_context(venue.inject(**faults[exchange]))
                makers.append(asyncio.create_task(sb.market_maker(exchange).run(maker_rate)))
            conn.send({"urls": {ex: sb.url(ex) for ex in sb.exchanges},
                       "ws_urls": {ex: sb.ws_url(ex) for ex in sb.exchanges},
                       "markets": {ex: sorted(sb.venue(ex).markets()) for ex in sb.exchanges}})
            while (request := await asyncio.to_thread(conn.recv)) != "stop":
                if request == "events":
                    conn.send(dict(events))
                elif request == "quiesce":
                    for task in makers:
                        task.cancel()
                    await asyncio.gather(*makers, return_exceptions=True)
                    faulty.close()
                    conn.send(dict(events))
                else:
                    _, exchange, symbol = request
                    conn.send(sb.venue(exchange).engine.levels(symbol))


class SandboxProcess:
    """The sandbox (all five exchanges, market makers at ``maker_rate`` engine events/s per
    exchange, ``faults`` per exchange) in a child process. Blocking calls: use them from a
    thread when an event loop is running.

        with SandboxProcess(maker_rate=1000) as sandbox:
            sandbox.urls, sandbox.ws_urls, sandbox.markets, sandbox.engine_events()
    """

    def __init__(self, *, seed: int = SEED, maker_rate: float = MAKER_RATE,
                 faults: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.maker_rate = maker_rate
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self.process = context.Process(target=_serve_sandbox, args=(child, seed, maker_rate, dict(faults or {})),
                                       name="exconn-sandbox", daemon=True)
        self.process.start()
        child.close()
        try:
            if not self._conn.poll(60):
                raise EOFError("no answer within 60 s")
            hello = self._conn.recv()
        except EOFError as exc:
            self.close()
            raise RuntimeError(f"the sandbox process did not start: {exc}") from None
        self.urls: dict[str, str] = hello["urls"]
        self.ws_urls: dict[str, str] = hello["ws_urls"]
        self.markets: dict[str, list[str]] = hello["markets"]

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _ask(self, request: Any) -> Any:
        self._conn.send(request)
        return self._conn.recv()

    def engine_events(self) -> dict[str, int]:
        """Engine events (new orders and cancels) so far, per exchange."""
        return self._ask("events")

    def quiesce(self) -> dict[str, int]:
        """Stop the market makers and switch the faults off; returns engine events per exchange."""
        return self._ask("quiesce")

    def levels(self, exchange: str, symbol: str) -> tuple[Levels, Levels]:
        """The engine's aggregated book: (bids, asks), best first."""
        return self._ask(("levels", exchange, symbol))

    def rss(self) -> int:
        """The sandbox process's RSS in bytes."""
        return proc_status(self.process.pid or 0)["VmRSS"]

    def close(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send("stop")
            self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()  # this child only
            self.process.join(10)
        self._conn.close()


# -- the sink, timed and counted --------------------------------------------------------------


class LatencyHistogram:
    """Durations in ms in fixed logarithmic bins (2 % wide, 1 µs to 100 s): quantiles within
    2 % in constant memory, so a long run's own bookkeeping does not grow the RSS it measures."""

    __slots__ = ("counts", "total", "max")
    _LOW = 0.001  # ms
    _STEP = math.log(1.02)

    def __init__(self) -> None:
        self.counts = [0] * (int(math.log(100_000 / self._LOW) / self._STEP) + 2)
        self.total = 0
        self.max = 0.0

    def add(self, ms: float) -> None:
        index = 0 if ms <= self._LOW else min(len(self.counts) - 1, int(math.log(ms / self._LOW) / self._STEP) + 1)
        self.counts[index] += 1
        self.total += 1
        self.max = max(self.max, ms)

    def quantile(self, q: float) -> float:
        """The upper edge of the bin holding the ``q`` quantile (0..1), in ms; 0 when empty."""
        rank = max(1, math.ceil(q * self.total))
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return min(self.max, self._LOW * math.exp(index * self._STEP))
        return 0.0


class MeasuredSink:
    """Passes batches to ``inner`` and records, for what it made durable, each batch's write
    time, the events per table, and every trade's key (exchange, symbol, id) in the file
    ``trade_keys`` (not in memory: that would be counted in the RSS being measured)."""

    def __init__(self, inner: Sink, trade_keys: Path) -> None:
        self.inner = inner
        self.url = inner.url
        self.batch_ms = LatencyHistogram()
        self.per_table: Counter[str] = Counter()
        self._trade_keys_path = trade_keys
        self._trade_keys = open(trade_keys, "w")  # noqa: SIM115 - closed in close()

    async def open(self) -> None:
        await self.inner.open()

    async def write(self, records: Sequence[Record]) -> None:
        started = time.perf_counter()
        await self.inner.write(records)
        self.batch_ms.add((time.perf_counter() - started) * 1000)
        for exchange, event in records:
            self.per_table[TABLES[type(event)]] += 1
            if isinstance(event, Trade):
                self._trade_keys.write(f"{exchange}\t{event.symbol}\t{event.id}\n")

    async def close(self) -> None:
        self._trade_keys.close()
        await self.inner.close()

    def repeated_trades(self) -> Counter[str]:
        """Per exchange, trades written under a key already written (SQLite keeps the first)."""
        repeated: Counter[str] = Counter()
        with open(self._trade_keys_path) as keys:
            for key, times in Counter(keys).items():
                repeated[key.partition("\t")[0]] += times - 1
        return +repeated  # without the zeros


def lost_events(db: Path, sink: MeasuredSink) -> dict[str, int]:
    """Per table, events counted as written that are not in the database (negative: rows
    nobody counted). SQLite ignores a trade under a key it holds, so trades count distinct keys.
    Raises RuntimeError if the file fails ``PRAGMA integrity_check``."""
    conn = sqlite3.connect(db)
    try:
        rows = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES.values()}
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    if integrity != "ok":
        raise RuntimeError(f"{db} fails PRAGMA integrity_check: {integrity}")
    expected = {table: sink.per_table[table] for table in TABLES.values()}
    expected["trades"] -= sum(sink.repeated_trades().values())
    return {table: expected[table] - rows[table] for table in TABLES.values()}


# -- one run ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Sample:
    """The collector ``t`` seconds into the run; sizes in bytes, CPU in seconds."""

    t: float
    written: int
    rss: int
    fds: int
    cpu: float
    queue: int
    live: int  # feeds whose book is live (or that poll without trouble, for feeds without a book)
    feeds: int
    reconnects: int  # BTC-Alpha socket reconnects
    resyncs: int  # BTC-Alpha book resyncs on a live connection
    poll_errors: int  # failed polls (5xx, 429, timeouts, undecodable bodies)
    trade_ids: int  # trade ids the polling feeds remember to skip repeats (bounded per feed)
    engine_events: int  # the sandbox's engine events so far, all five exchanges
    sandbox_reply_ms: float  # how long the sandbox's event loop took to answer: its lag
    sandbox_rss: int


@dataclass(slots=True)
class Run:
    """What one collection measured."""

    seconds: float  # collecting, until the market makers stopped
    maker_rate: float
    engine_events_per_s: float  # what the sandbox's market makers achieved, all five exchanges
    feeds: int
    written: int
    unwritten: int
    sink_errors: int
    batches: int
    batch_ms: LatencyHistogram
    lost: dict[str, int]
    repeated_trades: dict[str, int]  # per exchange: written under a trade key already written
    peak_rss: int
    books_exact: int  # collected books equal to the engine's after the makers stopped
    books: int
    book_mismatches: list[str]
    samples: list[Sample] = field(default_factory=list)


def collector_feeds(markets: Mapping[str, Sequence[str]]) -> list[FeedSpec]:
    """Books, trades and tickers of every market of every exchange."""
    return [FeedSpec(exchange, symbol) for exchange, symbols in sorted(markets.items()) for symbol in symbols]


async def take_sample(collector: Collector, t: float, sandbox: SandboxProcess) -> Sample:
    started = time.perf_counter()
    engine_events = sum((await asyncio.to_thread(sandbox.engine_events)).values())
    reply_ms = (time.perf_counter() - started) * 1000
    feeds = [stats.feed for stats in collector.feeds]
    sockets = [feed for feed in feeds if isinstance(feed, BtcAlphaBookFeed)]
    return Sample(
        t=t, written=collector.stats.written, rss=proc_status()["VmRSS"], fds=open_fds(),
        cpu=time.process_time(), queue=collector.queue_depth,
        live=sum(stats.state in ("live", "polling") for stats in collector.feeds), feeds=len(feeds),
        reconnects=sum(feed.reconnects for feed in sockets), resyncs=sum(feed.resyncs for feed in sockets),
        poll_errors=sum(feed.errors for feed in feeds if isinstance(feed, PollingFeed)),
        trade_ids=sum(len(feed._seen_trades) for feed in feeds if isinstance(feed, PollingFeed)),  # diagnostics only
        engine_events=engine_events, sandbox_reply_ms=reply_ms, sandbox_rss=sandbox.rss())


def book_mismatch(feed: Any, truth: tuple[Levels, Levels]) -> str | None:
    """Why ``feed.book`` differs from the engine's ``truth`` (None when equal)."""
    book = feed.book
    mine = ([(level.price, level.amount) for level in book.bids], [(level.price, level.amount) for level in book.asks])
    if book.state == "live" and mine == (list(truth[0]), list(truth[1])):
        return None
    return (f"{feed.exchange} {feed.symbol}: {book.state}, {len(mine[0])}/{len(mine[1])} levels, "
            f"engine {len(truth[0])}/{len(truth[1])}")


async def settled_books(collector: Collector, sandbox: SandboxProcess, timeout: float) -> tuple[int, list[str]]:
    """Wait up to ``timeout`` s for every collected book to equal the engine's; returns how many
    books there are and why the ones that never did differ."""
    loop = asyncio.get_running_loop()
    feeds = [stats.feed for stats in collector.feeds
             if not isinstance(stats.feed, PollingFeed) or "book" in stats.feed.channels]
    truths = {(feed.exchange, feed.symbol): await asyncio.to_thread(sandbox.levels, feed.exchange, feed.symbol)
              for feed in feeds}
    deadline = loop.time() + timeout
    while True:
        mismatches = [why for feed in feeds if (why := book_mismatch(feed, truths[feed.exchange, feed.symbol]))]
        if not mismatches or loop.time() > deadline:
            return len(feeds), mismatches
        await asyncio.sleep(0.5)


async def collect(sandbox: SandboxProcess, db: Path, seconds: float, *, interval: float = INTERVAL,
                  every: float = SAMPLE_S, on_sample: Callable[[Sample], None] | None = None) -> Run:
    """Collect from ``sandbox`` into SQLite at ``db`` for ``seconds``, sampling every ``every``
    s; then stop the market makers, check the books, stop, and check the database."""
    trade_keys = db.with_suffix(".trade-keys")
    sink = MeasuredSink(SqliteSink(str(db)), trade_keys)
    collector = Collector(collector_feeds(sandbox.markets), sink, base_urls=sandbox.urls,
                          ws_urls=sandbox.ws_urls, interval=interval)
    loop = asyncio.get_running_loop()
    samples: list[Sample] = []
    stop = asyncio.Event()

    async def record() -> None:
        samples.append(await take_sample(collector, loop.time() - started, sandbox))
        if on_sample is not None:
            on_sample(samples[-1])

    async def drive() -> tuple[float, float, int, list[str]]:
        """Sample until ``seconds`` passed, quiesce, check the books, then stop the collector."""
        next_at = started
        while next_at + every <= started + seconds + 1e-6:
            next_at += every
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            await record()
        await asyncio.sleep(max(0.0, started + seconds - loop.time()))
        events_after = sum((await asyncio.to_thread(sandbox.quiesce)).values())
        elapsed = loop.time() - started
        books, mismatches = await settled_books(collector, sandbox, SETTLE_S)
        stop.set()
        return elapsed, (events_after - samples[0].engine_events) / elapsed, books, mismatches

    started = loop.time()
    await record()  # before: the baseline the collector's RSS and fds return to
    driver = asyncio.create_task(drive())
    driver.add_done_callback(lambda _: stop.set())  # a failing driver stops the run too
    try:
        stats = await collector.run(stop)
        elapsed, engine_rate, books, mismatches = await driver
    finally:
        driver.cancel()
        await asyncio.gather(driver, return_exceptions=True)
    await record()  # after the sink flushed and closed
    peak = proc_status()["VmHWM"]  # before counting rows, which is not the collector's doing
    lost = lost_events(db, sink)
    repeated = dict(sink.repeated_trades())
    trade_keys.unlink()
    if sum(sink.per_table.values()) != stats.written:
        raise RuntimeError(f"the sink wrote {sum(sink.per_table.values())} events, the collector counted {stats.written}")
    return Run(seconds=elapsed, maker_rate=sandbox.maker_rate, engine_events_per_s=engine_rate, feeds=len(collector.feeds),
               written=stats.written, unwritten=stats.unwritten, sink_errors=stats.sink_errors,
               batches=stats.batches, batch_ms=sink.batch_ms, lost=lost, repeated_trades=repeated,
               peak_rss=peak, books_exact=books - len(mismatches), books=books,
               book_mismatches=mismatches, samples=samples)


def run_against_sandbox(minutes: float, maker_rate: float, *, faults: Mapping[str, Mapping[str, Any]] | None = None,
                        interval: float = INTERVAL, every: float = SAMPLE_S,
                        on_sample: Callable[[Sample], None] | None = None) -> Run:
    """Start the sandbox process, collect for ``minutes`` into a temporary SQLite file, stop."""
    with SandboxProcess(maker_rate=maker_rate, faults=faults) as sandbox, \
            tempfile.TemporaryDirectory(prefix="exconn-bench-") as tmp:
        return asyncio.run(collect(sandbox, Path(tmp) / "collector.db", minutes * 60, interval=interval,
                                   every=every, on_sample=on_sample))


# -- analysis ---------------------------------------------------------------------------------


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points; 0 with fewer than two distinct x."""
    if len({x for x, _ in points}) < 2:
        return 0.0
    xs, ys = zip(*points)
    return statistics.linear_regression(xs, ys).slope


def summary(run: Run) -> dict[str, Any]:
    """The headline numbers of a run: sizes in MiB, rates per second, slopes in MiB/min."""
    collecting = run.samples[1:-1]  # the first sample is taken before starting, the last after closing
    window = [s for s in collecting if s.t >= WARMUP_S] if run.seconds >= 2 * WARMUP_S else collecting
    first, last = window[0], window[-1]
    last_minute = [s for s in window if s.t >= last.t - 60]
    rss = [s.rss / MiB for s in window]
    return {
        "seconds": round(run.seconds, 1),
        "maker_rate_per_exchange": run.maker_rate,
        "engine_events_per_s": round(run.engine_events_per_s, 1),
        "feeds": run.feeds,
        "written": run.written,
        "events_per_s": round(collecting[-1].written / collecting[-1].t, 1),
        "steady_events_per_s": round((last.written - first.written) / max(last.t - first.t, 1e-9), 1),
        "batches": run.batches,
        "events_per_batch": round(run.written / max(run.batches, 1), 1),
        "batch_ms_p50": round(run.batch_ms.quantile(0.50), 2),
        "batch_ms_p99": round(run.batch_ms.quantile(0.99), 2),
        "batch_ms_max": round(run.batch_ms.max, 1),
        "cpu_percent": round(100 * (last.cpu - first.cpu) / max(last.t - first.t, 1e-9), 1),
        "rss_before_mib": round(run.samples[0].rss / MiB, 1),
        "rss_peak_mib": round(run.peak_rss / MiB, 1),
        "rss_final_mib": round(run.samples[-1].rss / MiB, 1),
        "rss_steady_spread_mib": round(max(rss) - min(rss), 1),
        "rss_steady_slope_mib_per_min": round(60 * slope([(s.t, s.rss / MiB) for s in window]), 3),
        "rss_last_minute_slope_mib_per_min": round(60 * slope([(s.t, s.rss / MiB) for s in last_minute]), 3),
        "fds_before": run.samples[0].fds,
        "fds_max": max(s.fds for s in collecting),
        "fds_steady_delta": last.fds - first.fds,
        "fds_after_close": run.samples[-1].fds,
        "queue_max": max(s.queue for s in collecting),
        "trade_ids": last.trade_ids,
        "reconnects": last.reconnects,
        "resyncs": last.resyncs,
        "poll_errors": last.poll_errors,
        "sink_errors": run.sink_errors,
        "unwritten": run.unwritten,
        "lost": sum(abs(n) for n in run.lost.values()),
        "lost_per_table": run.lost,
        "repeated_trades": sum(run.repeated_trades.values()),
        "repeated_trades_per_exchange": run.repeated_trades,
        "books_exact": run.books_exact,
        "books": run.books,
        "book_mismatches": run.book_mismatches,
        "sandbox_rss_final_mib": round(run.samples[-1].sandbox_rss / MiB, 1),
    }


def rss_flat(numbers: Mapping[str, Any]) -> bool:
    """RSS is flat when it no longer trends over the last minute (FLAT_SLOPE) and the steady
    window's max - min stays within FLAT_SPREAD."""
    return (abs(numbers["rss_last_minute_slope_mib_per_min"]) <= FLAT_SLOPE
            and numbers["rss_steady_spread_mib"] <= FLAT_SPREAD)


def summary_rows(n: Mapping[str, Any]) -> list[tuple[str, object]]:
    """(label, value) rows of the summary table shared by the benchmark and the soak."""
    return [
        ("collecting (s)", n["seconds"]),
        ("feeds (15 markets; BTC-Alpha books by socket)", n["feeds"]),
        ("market maker, requested (events/s per exchange)", n["maker_rate_per_exchange"]),
        ("engine events/s achieved, all five exchanges", n["engine_events_per_s"]),
        ("events written", n["written"]),
        ("events/s written: whole run / steady window", f"{n['events_per_s']} / {n['steady_events_per_s']}"),
        ("batches / events per batch", f"{n['batches']} / {n['events_per_batch']}"),
        ("batch write ms: p50 / p99 / max", f"{n['batch_ms_p50']} / {n['batch_ms_p99']} / {n['batch_ms_max']}"),
        ("collector CPU, steady window (% of one core)", n["cpu_percent"]),
        ("RSS MiB: before start / peak / after close", f"{n['rss_before_mib']} / {n['rss_peak_mib']} / {n['rss_final_mib']}"),
        ("RSS steady window: max-min (MiB)", n["rss_steady_spread_mib"]),
        ("RSS slope MiB/min: steady window / last minute",
         f"{n['rss_steady_slope_mib_per_min']} / {n['rss_last_minute_slope_mib_per_min']}"),
        ("open fds: before start / max / after close", f"{n['fds_before']} / {n['fds_max']} / {n['fds_after_close']}"),
        ("open fds: steady window, last - first", n["fds_steady_delta"]),
        ("queue depth max", n["queue_max"]),
        ("trade ids the polling feeds remember, at the end (at most 5000 a feed)", n["trade_ids"]),
        ("socket reconnects / book resyncs / failed polls", f"{n['reconnects']} / {n['resyncs']} / {n['poll_errors']}"),
        ("books equal to the engine's after the makers stop", f"{n['books_exact']} / {n['books']}"),
        ("sink errors / unwritten", f"{n['sink_errors']} / {n['unwritten']}"),
        ("lost (counted written, not in the database)", n["lost"]),
        ("trades under a repeated key, ignored by SQLite", n["repeated_trades"]),
        ("sandbox process RSS at the end (MiB)", n["sandbox_rss_final_mib"]),
    ]


# -- output -----------------------------------------------------------------------------------

SAMPLE_HEADER = (f"{'t s':>5}  {'written':>9}  {'ev/s':>6}  {'RSS MiB':>7}  {'fds':>4}  {'queue':>5}  "
                 f"{'live':>5}  {'reconn':>6}  {'resync':>6}  {'poll err':>8}  {'trade ids':>9}  "
                 f"{'engine ev/s':>11}  {'sandbox lag ms':>14}")


def sample_printer() -> Callable[[Sample], None]:
    """Prints a table row per sample (rates since the previous one), the header first."""
    previous: list[Sample] = []

    def show(s: Sample) -> None:
        if not previous:
            print(SAMPLE_HEADER, flush=True)
        before = previous[0] if previous else s
        elapsed = max(s.t - before.t, 1e-9)
        rate, engine_rate = (s.written - before.written) / elapsed, (s.engine_events - before.engine_events) / elapsed
        print(f"{s.t:>5.0f}  {s.written:>9}  {rate:>6.0f}  {s.rss / MiB:>7.1f}  {s.fds:>4}  {s.queue:>5}  "
              f"{s.live:>2}/{s.feeds:<2}  {s.reconnects:>6}  {s.resyncs:>6}  {s.poll_errors:>8}  {s.trade_ids:>9}  "
              f"{engine_rate:>11.0f}  {s.sandbox_reply_ms:>14.0f}", flush=True)
        previous[:] = [s]

    return show


def print_table(rows: Sequence[tuple[str, object]]) -> None:
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


def write_results(path: Path, numbers: Mapping[str, Any], run: Run, **extra: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),  # other work on the machine skews every number
        **extra,
        "summary": numbers,
        "samples": [asdict(s) for s in run.samples],
    }, indent=2) + "\n")
    print(f"wrote {path}")


def arguments(description: str, minutes: float, results: Path, every: float = SAMPLE_S) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--results", type=Path, default=results, help=f"JSON file to write (default {results})")
    parser.add_argument("--minutes", type=float, default=minutes, help=f"length of the run (default {minutes:g})")
    parser.add_argument("--maker-rate", type=float, default=MAKER_RATE,
                        help=f"sandbox engine events/s per exchange (default {MAKER_RATE:g})")
    parser.add_argument("--interval", type=float, default=INTERVAL,
                        help=f"seconds between polls of one channel (default {INTERVAL:g})")
    parser.add_argument("--every", type=float, default=every, help=f"seconds between samples (default {every:g})")
    return parser


def main() -> None:
    args = arguments("Collector events/s into SQLite and RSS over minutes, against the sandbox.", 3.0,
                     RESULTS).parse_args()
    run = run_against_sandbox(args.minutes, args.maker_rate, interval=args.interval, every=args.every,
                              on_sample=sample_printer())
    numbers = summary(run)
    flat = rss_flat(numbers)
    print()
    print_table([*summary_rows(numbers),
                 (f"RSS flat (last-minute slope <= {FLAT_SLOPE} MiB/min, steady max-min <= {FLAT_SPREAD} MiB)",
                  "yes" if flat else "NO")])
    for why in run.book_mismatches:
        print(f"  book differs: {why}")
    write_results(args.results, numbers, run, rss_flat=flat, interval_s=args.interval, sample_s=args.every,
                  warmup_s=WARMUP_S)


if __name__ == "__main__":
    main()
