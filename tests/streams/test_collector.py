"""The collector end to end against the sandbox: every sink, signals, failures, back-pressure."""

import asyncio
import json
import os
import re
import signal
import sqlite3
import sys
from decimal import Decimal

import pytest

from sandbox import Sandbox
from streams.collector import Collector, FeedSpec
from streams.events import BookSnapshot, LevelUpdate
from streams.sinks import SinkError, open_sink

SPECS = [FeedSpec("btcalpha", "BTC/USD"), FeedSpec("peatio", "ETH/USDT")]


@pytest.fixture
async def sb():
    async with Sandbox(seed=21, exchanges=["btcalpha", "peatio"], maker_rate=60) as sandbox:
        yield sandbox


def urls(sb: Sandbox) -> dict:
    return {"base_urls": {ex: sb.url(ex) for ex in sb.exchanges}, "ws_urls": {ex: sb.ws_url(ex) for ex in sb.exchanges}}


async def collect(sb: Sandbox, sink, seconds: float, **options) -> Collector:
    collector = Collector(SPECS, sink, interval=0.1, **urls(sb), **options)
    await collector.run(asyncio.Event(), duration=seconds)
    return collector


async def test_sqlite_sink_receives_every_kind_and_counts_match(sb, tmp_path):
    path = tmp_path / "c.db"
    collector = await collect(sb, open_sink(f"sqlite:{path}"), 2.5)
    db = sqlite3.connect(path)
    counts = {t: db.execute(f"select count(*) from {t}").fetchone()[0]
              for t in ("book_snapshots", "level_updates", "trades", "tickers")}
    assert all(counts.values()), counts
    assert sum(counts.values()) == collector.stats.written and collector.stats.unwritten == 0
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    price, amount = db.execute("select price, amount from trades limit 1").fetchone()
    assert Decimal(price) > 0 and Decimal(amount) > 0 and "e" not in price.lower()
    exchanges = {row[0] for row in db.execute("select distinct exchange from level_updates")}
    assert exchanges == {"btcalpha", "peatio"}


async def test_jsonl_sink_writes_one_normalised_event_per_line(sb, tmp_path):
    path = tmp_path / "c.jsonl"
    collector = await collect(sb, open_sink(f"jsonl:{path}"), 2.0)
    lines = path.read_text().splitlines()
    events = [json.loads(line) for line in lines]
    assert len(events) == collector.stats.written > 0
    assert {e["kind"] for e in events} >= {"snapshot", "level", "trade", "ticker"}
    assert all(isinstance(e["price"], str) for e in events if e["kind"] in ("level", "trade"))


async def test_redis_sink_gets_one_stream_per_exchange_symbol_and_kind(sb, redis_server):
    import redis.asyncio as redis

    collector = await collect(sb, open_sink(redis_server), 2.0)
    client = redis.Redis.from_url(redis_server, decode_responses=True)
    try:
        keys = sorted(await client.keys("exconn:*"))
        lengths = [await client.xlen(k) for k in keys]
    finally:
        await client.aclose()
    assert "exconn:btcalpha:BTC/USD:level" in keys and "exconn:peatio:ETH/USDT:trade" in keys
    assert sum(lengths) == collector.stats.written


class FlakySink:
    """Fails the first ``failures`` writes, then passes them to a real sink."""

    def __init__(self, inner, failures: int) -> None:
        self.inner, self.failures, self.url = inner, failures, "flaky:" + inner.url
        self.attempts = 0

    async def open(self):
        await self.inner.open()

    async def write(self, records):
        self.attempts += 1
        if self.attempts <= self.failures:
            raise SinkError("disk full (simulated)")
        await self.inner.write(records)

    async def close(self):
        await self.inner.close()


async def test_a_failing_sink_is_retried_and_nothing_is_lost(sb, tmp_path):
    path = tmp_path / "c.jsonl"
    sink = FlakySink(open_sink(f"jsonl:{path}"), failures=4)
    collector = await collect(sb, sink, 2.5)
    assert collector.stats.sink_errors == 4 and collector.stats.unwritten == 0
    assert len(path.read_text().splitlines()) == collector.stats.written > 0


async def test_a_sink_that_never_recovers_counts_what_it_could_not_write(sb, tmp_path):
    sink = FlakySink(open_sink(f"jsonl:{tmp_path / 'never.jsonl'}"), failures=10**9)
    collector = Collector(SPECS, sink, interval=0.1, shutdown_grace=0.5, **urls(sb))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await collector.run(asyncio.Event(), duration=1.5)
    assert loop.time() - started < 4.0  # shutdown is bounded even though the sink never works
    assert collector.stats.written == 0 and collector.stats.unwritten > 0


class SlowSink:
    """Takes ``delay`` seconds per batch and remembers only counts."""

    url = "slow:"

    def __init__(self, delay: float) -> None:
        self.delay, self.records = delay, 0

    async def open(self):
        pass

    async def write(self, records):
        await asyncio.sleep(self.delay)
        self.records += len(records)

    async def close(self):
        pass


async def test_a_slow_sink_bounds_the_queue_and_makes_the_book_feed_coalesce(sb):
    sink = SlowSink(0.5)  # 4 records a second: far slower than the feed
    collector = Collector([FeedSpec("btcalpha", "BTC/USD", ("book",))], sink, queue_size=20, batch_size=2,
                          feed_options={"btcalpha": {"queue_size": 20}}, **urls(sb))
    depths = []

    async def watch():
        while True:
            depths.append(collector.queue_depth)
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    await collector.run(asyncio.Event(), duration=5.0)
    watcher.cancel()
    feed = collector.feeds[0].feed
    assert max(depths) <= 20
    assert feed.coalesced > 0  # the feed replaced what it could not hand over by a fresh snapshot
    assert sink.records == collector.stats.written


async def test_collector_refuses_an_unknown_exchange_or_channel():
    with pytest.raises(ValueError, match="unknown exchange"):
        FeedSpec("binance", "BTC/USDT")
    with pytest.raises(ValueError, match="channels"):
        FeedSpec("peatio", "ETH/USDT", ("book", "candles"))


def _cli(*args: str, **env: str):
    return asyncio.create_subprocess_exec(
        sys.executable, "-m", "streams.cli", "collect", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
    )


async def test_sigterm_mid_run_exits_0_quickly_and_every_counted_event_is_in_the_database(tmp_path):
    db = tmp_path / "run.db"
    proc = await _cli("--exchange", "btcalpha", "--symbol", "BTC/USD", "--symbol", "ETH/BTC", "--sandbox",
                      "--sink", f"sqlite:{db}", "--interval", "0.1", "--status-interval", "0.3")
    counted = 0
    err = b""
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while counted < 20 and loop.time() < deadline:
            line = await asyncio.wait_for(proc.stderr.readline(), 30)
            err += line
            match = re.search(rb"written=(\d+)", line)
            if match:
                counted = int(match.group(1))
        assert counted >= 20, err.decode()[-2000:]
        proc.send_signal(signal.SIGTERM)
        started = loop.time()
        rest = await asyncio.wait_for(proc.stderr.read(), 10)
        code = await asyncio.wait_for(proc.wait(), 10)
        assert loop.time() - started < 5.0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert code == 0, (err + rest).decode()[-2000:]
    conn = sqlite3.connect(db)
    rows = sum(conn.execute(f"select count(*) from {t}").fetchone()[0]
               for t in ("book_snapshots", "level_updates", "trades", "tickers"))
    assert rows >= counted
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    summary = re.search(rb"(\d+) events written", rest)
    assert summary and int(summary.group(1)) == rows


async def test_second_signal_exits_at_once(tmp_path):
    proc = await _cli("--exchange", "btcalpha", "--symbol", "BTC/USD", "--sandbox",
                      "--sink", f"jsonl:{tmp_path / 'x.jsonl'}")
    try:
        line = await asyncio.wait_for(proc.stderr.readline(), 30)
        assert b"exconn collect" in line
        await asyncio.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 5)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert code in (0, 130)


async def test_cli_refuses_bad_input_with_a_clear_message(tmp_path):
    proc = await _cli("--exchange", "btcalpha", "--symbol", "BTC/USD", "--sink", "ftp://x")
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2 and b"sink" in err.lower()
    proc = await _cli("--symbol", "BTC/USD")
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2 and b"--exchange" in err


async def test_config_file_runs_many_exchanges(tmp_path):
    config = tmp_path / "c.toml"
    out = tmp_path / "c.jsonl"
    config.write_text(f'''
sink = "jsonl:{out}"
duration = 2
sandbox = true
interval = 0.2

[[feed]]
exchange = "btcalpha"
symbols = ["BTC/USD"]
channels = ["book"]

[[feed]]
exchange = "quidax"
symbols = ["BTC/NGN"]
channels = ["book", "trades"]
''')
    proc = await _cli("--config", str(config))
    _, err = await asyncio.wait_for(proc.communicate(), 40)
    assert proc.returncode == 0, err.decode()[-2000:]
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert {e["exchange"] for e in events} == {"btcalpha", "quidax"}
