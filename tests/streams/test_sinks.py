"""Sinks against the real thing: SQLite files read back with sqlite3, JSONL files and pipes,
and a real redis-server (the ``redis_server`` fixture in tests/conftest.py)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.models import BookLevel, Ticker, Trade
from streams.events import BookSnapshot, LevelUpdate
from streams.sinks import SCHEMA_VERSION, JsonlSink, RedisSink, Sink, SinkError, SqliteSink, open_sink

ROOT = Path(__file__).resolve().parents[2]
T = 1_700_000_000_123  # epoch ms

SNAPSHOT = BookSnapshot("btcalpha", "BTC/USD", [BookLevel(Decimal("911.519"), Decimal("1E-8")),
                                                 BookLevel(Decimal("911.5"), Decimal("2.50"))],
                        [BookLevel(Decimal("912"), Decimal("0.5"))], T)
LEVEL = LevelUpdate("btcalpha", "BTC/USD", "bid", Decimal("911.519"), Decimal("0"), T + 1)
TRADE = Trade("t1", "BTC/USD", "buy", Decimal("1E-8"), Decimal("911.519"), T + 2)
OWN_TRADE = Trade("t2", "ETH/BTC", "sell", Decimal("0.03141"), Decimal("1E+3"), T + 3, order_id="o9",
                  fee=Decimal("0.000025"), fee_currency="BTC")
TICKER = Ticker("BTC/USD", Decimal("911.519"), Decimal("911.52"), None, Decimal("950"), Decimal("0.00000001"),
                Decimal("12.50"), T + 4)
RECORDS = [("btcalpha", SNAPSHOT), ("btcalpha", LEVEL), ("btcalpha", TRADE), ("qtrade", OWN_TRADE),
           ("btcalpha", TICKER)]

# what JSONL (and, as flat strings, Redis) must carry for RECORDS, in order
NORMALISED = [
    {"kind": "snapshot", "exchange": "btcalpha", "symbol": "BTC/USD", "timestamp": T,
     "bids": [["911.519", "0.00000001"], ["911.5", "2.50"]], "asks": [["912", "0.5"]]},
    {"kind": "level", "exchange": "btcalpha", "symbol": "BTC/USD", "timestamp": T + 1, "side": "bid",
     "price": "911.519", "amount": "0"},
    {"kind": "trade", "exchange": "btcalpha", "symbol": "BTC/USD", "timestamp": T + 2, "id": "t1", "side": "buy",
     "price": "0.00000001", "amount": "911.519", "order_id": None, "fee": None, "fee_currency": None},
    {"kind": "trade", "exchange": "qtrade", "symbol": "ETH/BTC", "timestamp": T + 3, "id": "t2", "side": "sell",
     "price": "0.03141", "amount": "1000", "order_id": "o9", "fee": "0.000025", "fee_currency": "BTC"},
    {"kind": "ticker", "exchange": "btcalpha", "symbol": "BTC/USD", "timestamp": T + 4, "bid": "911.519",
     "ask": "911.52", "last": None, "high": "950", "low": "0.00000001", "volume": "12.50"},
]


def level(i: int) -> tuple[str, LevelUpdate]:
    return "btcalpha", LevelUpdate("btcalpha", "BTC/USD", "ask", Decimal(i) / 1000, Decimal("0.1"), T + i)


def trade(i: int) -> tuple[str, Trade]:
    return "btcalpha", Trade(str(i), "BTC/USD", "buy", Decimal("911.519"), Decimal(i) / 100, T + i)


def level_fields(i: int) -> dict:
    return {"kind": "level", "exchange": "btcalpha", "symbol": "BTC/USD", "timestamp": T + i, "side": "ask",
            "price": str(Decimal(i) / 1000), "amount": "0.1"}


def trade_fields(i: int) -> dict:
    return {"kind": "trade", "exchange": "btcalpha", "symbol": "BTC/USD", "timestamp": T + i, "id": str(i),
            "side": "buy", "price": "911.519", "amount": str(Decimal(i) / 100)}


def canonical(fields: dict) -> str:
    return json.dumps(fields, sort_keys=True)


# ---------------------------------------------------------------- open_sink

@pytest.mark.parametrize("url", ["", "sqlite:", "jsonl:", "exconn.db", "postgres://h/db", "redis://",
                                 "redis://host:port/0", "redis://host:6379/zero", "http://host:6379/0"])
def test_open_sink_rejects_other_urls_listing_the_accepted_forms(url):
    with pytest.raises(ValueError) as caught:
        open_sink(url)
    message = str(caught.value)
    assert all(form in message for form in ("sqlite:PATH", "jsonl:PATH", "jsonl:-", "redis://", "rediss://"))


def test_open_sink_picks_the_sink_by_url_and_never_shows_a_password():
    assert isinstance(open_sink("sqlite:exconn.db"), SqliteSink)
    assert open_sink("sqlite:exconn.db").url == "sqlite:exconn.db"
    assert isinstance(open_sink("jsonl:-"), JsonlSink)
    sink = open_sink("rediss://reader:hunter2@cache.example:6380/2", maxlen=10)
    assert isinstance(sink, RedisSink) and sink.maxlen == 10
    assert "hunter2" not in sink.url and "reader" not in sink.url and "cache.example:6380/2" in sink.url
    assert "hunter2" not in repr(sink)
    for url in ("sqlite:x.db", "jsonl:-", "redis://127.0.0.1:6379/0"):
        assert isinstance(open_sink(url), Sink)
    with pytest.raises(ValueError) as caught:
        open_sink("redis://u:hunter2@host:6379/x")
    assert "hunter2" not in str(caught.value)


# ---------------------------------------------------------------- SQLite

async def test_sqlite_stores_every_kind_as_exact_decimal_strings_and_ms_integers(tmp_path):
    path = tmp_path / "events.db"
    sink = open_sink(f"sqlite:{path}")
    await sink.open()
    before = int(time.time() * 1000)
    await sink.write(RECORDS[:2])
    await sink.write(RECORDS[2:])
    after = int(time.time() * 1000) + 1
    await sink.close()
    await sink.close()

    with sqlite3.connect(path) as db:
        snapshot = db.execute("SELECT exchange, symbol, timestamp, bids, asks FROM book_snapshots").fetchall()
        assert snapshot == [("btcalpha", "BTC/USD", T, '[["911.519","0.00000001"],["911.5","2.50"]]',
                             '[["912","0.5"]]')]
        assert db.execute("SELECT exchange, symbol, timestamp, side, price, amount FROM level_updates").fetchall() \
            == [("btcalpha", "BTC/USD", T + 1, "bid", "911.519", "0")]
        assert db.execute("SELECT exchange, symbol, timestamp, id, side, price, amount, order_id, fee, fee_currency "
                          "FROM trades ORDER BY timestamp").fetchall() == [
            ("btcalpha", "BTC/USD", T + 2, "t1", "buy", "0.00000001", "911.519", None, None, None),
            ("qtrade", "ETH/BTC", T + 3, "t2", "sell", "0.03141", "1000", "o9", "0.000025", "BTC")]
        assert db.execute("SELECT exchange, symbol, timestamp, bid, ask, last, high, low, volume FROM tickers"
                          ).fetchall() == [("btcalpha", "BTC/USD", T + 4, "911.519", "911.52", None, "950",
                                            "0.00000001", "12.50")]
        for table in ("book_snapshots", "level_updates", "trades", "tickers"):
            types = db.execute(f"SELECT DISTINCT typeof(timestamp), typeof(received_at) FROM {table}").fetchall()
            assert types == [("integer", "integer")], table
            (low, high), = db.execute(f"SELECT min(received_at), max(received_at) FROM {table}").fetchall()
            assert before <= low <= high <= after
        assert db.execute("SELECT DISTINCT typeof(price) FROM trades UNION SELECT DISTINCT typeof(amount) "
                          "FROM level_updates").fetchall() == [("text",)]


async def test_sqlite_runs_wal_with_the_documented_indexes_and_passes_integrity_check(tmp_path):
    path = tmp_path / "events.db"
    sink = SqliteSink(str(path))
    await sink.open()
    await sink.write(RECORDS)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        for table in ("book_snapshots", "level_updates", "trades", "tickers"):
            indexed = {
                tuple(db.execute(f"SELECT name FROM pragma_index_info('{name}')").fetchall())
                for (name,) in db.execute(f"SELECT name FROM pragma_index_list('{table}')")
            }
            assert (("exchange",), ("symbol",), ("timestamp",)) in indexed, table
            assert db.execute(f"SELECT count(*) FROM pragma_table_info('{table}') WHERE name = 'received_at'"
                              ).fetchone() == (1,)
    await sink.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


async def test_sqlite_ignores_trades_written_again_in_later_batches_and_after_reopening(tmp_path):
    path = tmp_path / "events.db"
    sink = SqliteSink(str(path))
    await sink.open()
    await sink.write([trade(1), trade(2)])
    with sqlite3.connect(path) as db:
        first = db.execute("SELECT rowid, received_at FROM trades WHERE id = '2'").fetchone()
    await sink.write([trade(2), trade(3), trade(3)])
    await sink.close()
    again = SqliteSink(str(path))
    await again.open()
    await again.write([trade(1), trade(4), ("qtrade", trade(1)[1])])  # same id on another exchange is another trade
    await again.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT exchange, id, amount FROM trades ORDER BY exchange, timestamp").fetchall() == [
            ("btcalpha", "1", "0.01"), ("btcalpha", "2", "0.02"), ("btcalpha", "3", "0.03"),
            ("btcalpha", "4", "0.04"), ("qtrade", "1", "0.01")]
        assert db.execute("SELECT rowid, received_at FROM trades WHERE id = '2'").fetchone() == first  # kept, not replaced
        assert db.execute("SELECT count(*) FROM schema_version").fetchone() == (1,)


@pytest.mark.parametrize("where", ["missing/sub/events.db", "a-file/events.db"])
async def test_sqlite_in_a_directory_that_does_not_exist_raises_sink_error(tmp_path, where):
    (tmp_path / "a-file").write_text("a regular file, not a directory")
    sink = SqliteSink(str(tmp_path / where))
    with pytest.raises(SinkError, match="not a directory"):
        await sink.open()
    await sink.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")
async def test_sqlite_where_even_root_cannot_create_a_file_raises_sink_error():
    with pytest.raises(SinkError, match="cannot open"):
        await SqliteSink("/proc/exconn-sink-test.db").open()


async def test_sqlite_on_a_file_that_is_not_a_database_raises_sink_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are not the pages you are looking for\n" * 100)
    with pytest.raises(SinkError, match="cannot open"):
        await SqliteSink(str(path)).open()


async def test_sqlite_full_raises_sink_error_and_keeps_nothing_of_the_failed_batch(tmp_path):
    path = tmp_path / "events.db"
    # max_page_count makes SQLite answer SQLITE_FULL exactly as a full disk would
    sink = SqliteSink(str(path), max_pages=40)
    await sink.open()
    await sink.write([level(i) for i in range(10)])
    with pytest.raises(SinkError, match="full"):
        await sink.write([level(i) for i in range(10, 20_000)])
    await sink.write([level(i) for i in range(20_000, 20_005)])  # still usable once there is room
    await sink.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM level_updates").fetchone() == (15,)
        assert db.execute("SELECT count(*) FROM level_updates WHERE timestamp BETWEEN ? AND ?",
                          (T + 10, T + 19_999)).fetchone() == (0,)
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


async def test_sqlite_batch_refused_by_a_constraint_is_rolled_back_whole(tmp_path):
    path = tmp_path / "events.db"
    sink = SqliteSink(str(path))
    await sink.open()
    bad = LevelUpdate("btcalpha", "BTC/USD", "middle", Decimal(1), Decimal(1), T)  # type: ignore[arg-type]
    with pytest.raises(SinkError, match="CHECK constraint"):
        await sink.write([*RECORDS, ("btcalpha", bad)])
    await sink.write([trade(7)])
    await sink.close()
    with sqlite3.connect(path) as db:
        counts = [db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("book_snapshots", "level_updates", "trades", "tickers")]
    assert counts == [0, 0, 1, 0]


async def test_sqlite_readers_run_alongside_writes_and_never_see_half_a_batch(tmp_path):
    path = tmp_path / "events.db"
    sink = SqliteSink(str(path))
    await sink.open()
    reader = sqlite3.connect(path, check_same_thread=False, timeout=0)  # timeout 0: a lock would fail at once

    def count() -> int:
        return reader.execute("SELECT count(*) FROM level_updates").fetchone()[0]

    size = 200
    for n in range(20):
        writing = asyncio.create_task(sink.write([level(n * size + i) for i in range(size)]))
        seen = await asyncio.to_thread(count)
        await writing
        assert seen in (n * size, (n + 1) * size)

    # a reader inside a long transaction keeps its snapshot and does not hold the writer up
    reader.execute("BEGIN")
    assert count() == 20 * size
    await asyncio.wait_for(sink.write([level(-1)]), 5)
    assert count() == 20 * size
    reader.execute("COMMIT")
    assert count() == 20 * size + 1
    reader.close()
    await sink.close()


async def test_sqlite_write_runs_off_the_event_loop(tmp_path):
    sink = SqliteSink(str(tmp_path / "events.db"))
    await sink.open()
    writing = asyncio.create_task(sink.write([level(i) for i in range(5000)]))
    await asyncio.sleep(0)  # the write starts
    turns = 0
    while not writing.done():
        turns += 1
        await asyncio.sleep(0)
    await writing
    assert turns > 0  # the loop kept running while the batch was written
    await sink.close()


async def test_sqlite_write_after_close_raises_sink_error(tmp_path):
    sink = SqliteSink(str(tmp_path / "events.db"))
    await sink.open()
    await sink.close()
    with pytest.raises(SinkError, match="not open"):
        await sink.write(RECORDS)


# ---------------------------------------------------------------- JSON lines

def read_jsonl(data: bytes) -> list[dict]:
    assert data.endswith(b"\n")
    return [json.loads(line) for line in data.decode().splitlines()]


async def test_jsonl_file_holds_one_normalised_object_per_line_with_exact_decimals(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = open_sink(f"jsonl:{path}")
    await sink.open()
    await sink.write(RECORDS[:3])
    await sink.write(RECORDS[3:])
    assert read_jsonl(path.read_bytes()) == NORMALISED  # on disk before close: flushed per batch
    await sink.close()
    await sink.close()
    assert list(json.loads(path.read_text().splitlines()[2])) == list(NORMALISED[2])  # field order as documented


async def test_jsonl_appends_on_reopen_and_drops_a_line_torn_by_a_crash(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = JsonlSink(str(path))
    await sink.open()
    await sink.write(RECORDS[:2])
    await sink.close()
    with open(path, "ab") as f:
        f.write(b'{"kind":"trade","exchange":"btc')  # the process died mid-write
    sink = JsonlSink(str(path))
    await sink.open()
    await sink.write(RECORDS[2:])
    await sink.close()
    assert read_jsonl(path.read_bytes()) == NORMALISED


async def test_jsonl_to_a_full_device_raises_sink_error(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    sink = JsonlSink("/dev/full")
    await sink.open()
    with pytest.raises(SinkError, match="No space left"):
        await sink.write(RECORDS)
    await sink.close()


FILE_SIZE_LIMIT_CHILD = """
import asyncio, os, resource, sys
from streams.sinks import JsonlSink, SinkError
from tests.streams.test_sinks import RECORDS

async def main(path):
    sink = JsonlSink(path)
    await sink.open()
    await sink.write(RECORDS)
    size = os.path.getsize(path)
    # the kernel now refuses to grow the file past half a batch more (EFBIG, as root too)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + size // 2, resource.RLIM_INFINITY))
    try:
        await sink.write(RECORDS)
    except SinkError as exc:
        print("SinkError:", exc, file=sys.stderr)
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    await sink.write(RECORDS[:1])
    await sink.close()

asyncio.run(main(sys.argv[1]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE semantics are Linux's here")
def test_jsonl_file_write_that_fails_half_way_is_cut_back_off_the_file(tmp_path):
    path = tmp_path / "events.jsonl"
    done = subprocess.run([sys.executable, "-c", FILE_SIZE_LIMIT_CHILD, str(path)], cwd=ROOT, capture_output=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert b"SinkError: write to jsonl:" in done.stderr and b"too large" in done.stderr
    assert read_jsonl(path.read_bytes()) == NORMALISED + NORMALISED[:1]


async def test_jsonl_in_a_missing_directory_raises_sink_error(tmp_path):
    with pytest.raises(SinkError, match="cannot open"):
        await JsonlSink(str(tmp_path / "missing" / "events.jsonl")).open()


async def test_jsonl_stdout_writes_lines_to_the_binary_buffer(monkeypatch):
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", SimpleNamespace(buffer=out))
    sink = open_sink("jsonl:-")
    await sink.open()
    await sink.write(RECORDS)
    await sink.close()
    assert read_jsonl(out.getvalue()) == NORMALISED


async def test_jsonl_stdout_into_a_closed_pipe_raises_sink_error(monkeypatch):
    read_end, write_end = os.pipe()
    os.close(read_end)
    with open(write_end, "wb", buffering=0) as pipe:
        monkeypatch.setattr(sys, "stdout", SimpleNamespace(buffer=pipe))
        sink = JsonlSink("-")
        await sink.open()
        with pytest.raises(SinkError, match="Broken pipe"):
            await sink.write(RECORDS)
        await sink.close()


CHILD = """
import asyncio, os, sys
from streams.sinks import SinkError, open_sink
from tests.streams.test_sinks import RECORDS

async def main():
    sink = open_sink("jsonl:-")
    await sink.open()
    try:
        await sink.write(RECORDS)
        await sink.write(RECORDS)
    except SinkError as exc:
        print("SinkError:", exc, file=sys.stderr)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        sys.exit(3)
    finally:
        await sink.close()

asyncio.run(main())
"""


def test_jsonl_stdout_of_a_real_process_is_one_object_per_line():
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert read_jsonl(done.stdout) == NORMALISED * 2


def test_jsonl_stdout_of_a_real_process_into_a_closed_pipe_raises_sink_error():
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE,
                              timeout=60)
    finally:
        os.close(write_end)
    assert done.returncode == 3, done.stderr.decode()
    assert b"SinkError: write to jsonl:- failed" in done.stderr


# ---------------------------------------------------------------- Redis Streams

@pytest.fixture
async def redis_client(redis_server):
    import redis.asyncio as redis  # in the test extra: missing must fail, not skip

    client = redis.Redis.from_url(redis_server, decode_responses=True)
    yield client
    await client.aclose()


def flat(fields: dict) -> dict[str, str]:
    return {k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) if isinstance(v, list) else str(v)
            for k, v in fields.items() if v is not None}


async def test_redis_writes_one_stream_per_exchange_symbol_and_kind_with_exact_string_fields(redis_server,
                                                                                          redis_client):
    sink = open_sink(redis_server)
    await sink.open()
    await sink.write(RECORDS)
    await sink.close()
    await sink.close()
    keys = [f"exconn:{n['exchange']}:{n['symbol']}:{n['kind']}" for n in NORMALISED]
    assert sorted(await redis_client.keys("exconn:*")) == sorted(keys)
    assert "exconn:btcalpha:BTC/USD:trade" in keys
    for key, expected in zip(keys, NORMALISED):
        entries = await redis_client.xrange(key)
        assert [fields for _, fields in entries] == [flat(expected)], key
    snapshot = (await redis_client.xrange("exconn:btcalpha:BTC/USD:snapshot"))[0][1]
    assert json.loads(snapshot["bids"]) == [["911.519", "0.00000001"], ["911.5", "2.50"]]
    assert "last" not in (await redis_client.xrange("exconn:btcalpha:BTC/USD:ticker"))[0][1]


async def test_redis_trims_each_stream_to_about_maxlen_keeping_the_newest(redis_server, redis_client):
    maxlen = 100
    sink = RedisSink(redis_server, maxlen=maxlen)
    await sink.open()
    for start in range(0, 3 * maxlen, 25):
        await sink.write([trade(i) for i in range(start, start + 25)])
    await sink.close()
    length = await redis_client.xlen("exconn:btcalpha:BTC/USD:trade")
    assert maxlen <= length <= maxlen + 100 and length < 3 * maxlen
    (_, newest), = await redis_client.xrevrange("exconn:btcalpha:BTC/USD:trade", count=1)
    assert newest["id"] == str(3 * maxlen - 1)


async def test_redis_consumer_group_reads_every_record_once(redis_server, redis_client):
    sink = RedisSink(redis_server)
    await sink.open()
    written = [trade(i) for i in range(30)] + [level(i) for i in range(40)] + RECORDS
    for start in range(0, len(written), 16):
        await sink.write(written[start:start + 16])
    await sink.close()
    keys = sorted(await redis_client.keys("exconn:*"))
    for key in keys:
        await redis_client.xgroup_create(key, "archive", id="0")
    streams = {key: ">" for key in keys}
    got = []
    while batch := await redis_client.xreadgroup("archive", "worker-1", streams, count=7):
        for key, entries in batch:
            got += [fields for _, fields in entries]
            await redis_client.xack(key, "archive", *(entry_id for entry_id, _ in entries))
    assert await redis_client.xreadgroup("archive", "worker-2", streams) == []
    for key in keys:
        assert (await redis_client.xpending(key, "archive"))["pending"] == 0
    expected = [trade_fields(i) for i in range(30)] + [level_fields(i) for i in range(40)] + NORMALISED
    assert sorted(map(canonical, got)) == sorted(canonical(flat(e)) for e in expected)


async def test_redis_stopped_mid_run_raises_sink_error_and_a_restart_is_reconnected(redis_process):
    sink = RedisSink(redis_process.url, timeout=2)
    await sink.open()
    await sink.write([trade(1)])
    redis_process.stop()
    for _ in range(2):  # first the dropped connection, then the refused reconnect
        with pytest.raises(SinkError, match="write to redis://127.0.0.1"):
            await asyncio.wait_for(sink.write([trade(2)]), 10)
    redis_process.start()
    await sink.write([trade(3)])
    import redis.asyncio as redis

    async with redis.Redis.from_url(redis_process.url, decode_responses=True) as client:
        entries = await client.xrange("exconn:btcalpha:BTC/USD:trade")
    assert [fields["id"] for _, fields in entries] == ["3"]  # no persistence: only what came after the restart
    await sink.close()


async def test_redis_server_that_stops_answering_times_out_into_sink_error(redis_process):
    sink = RedisSink(redis_process.url, timeout=0.5)
    await sink.open()
    assert redis_process.process is not None
    pid = redis_process.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(SinkError, match="[Tt]imeout"):
            await sink.write([trade(1)])
        assert time.monotonic() - started < 5
    finally:
        os.kill(pid, signal.SIGCONT)
    await sink.write([trade(2)])  # a fresh connection, not one still owed a reply
    await sink.close()


async def test_redis_unreachable_on_open_raises_sink_error_without_the_password(redis_process):
    url = redis_process.url.replace("redis://", "redis://collector:hunter2@")
    redis_process.stop()
    sink = open_sink(url, timeout=2)
    with pytest.raises(SinkError, match="cannot reach") as caught:
        await sink.open()
    assert "hunter2" not in str(caught.value) and "hunter2" not in sink.url
    await sink.close()


@pytest.mark.parametrize("redis_process", [("--requirepass", "hunter2")], indirect=True)
async def test_redis_password_from_the_url_is_used_and_a_wrong_one_is_refused(redis_process):
    good = RedisSink(redis_process.url.replace("redis://", "redis://:hunter2@"))
    await good.open()
    await good.write(RECORDS)
    await good.close()
    wrong = RedisSink(redis_process.url.replace("redis://", "redis://default:hunter3@"))
    with pytest.raises(SinkError) as caught:
        await wrong.open()
    assert "hunter3" not in str(caught.value)
