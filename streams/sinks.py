"""Where a collector puts events: SQLite (the default), JSON lines, Redis Streams.

    sink = open_sink("sqlite:exconn.db")         # or "jsonl:events.jsonl", "jsonl:-", "redis://host:6379/0"
    await sink.open()
    await sink.write([("btcalpha", trade), ("btcalpha", level_update)])
    await sink.close()

A record is ``(exchange id, event)``; events are :data:`streams.events.FeedEvent`. Each
``write`` is all-or-nothing: when it returns the whole batch is durable, when it raises
:class:`SinkError` (retryable) none of it counts as written, so the caller retries the same
batch. Delivery is therefore at-least-once: a batch that failed after part of it reached the
store may be stored twice. SQLite ignores re-sent trades (unique per exchange, symbol, id);
everything else may repeat.

Normalised fields, shared by JSONL and Redis (money as exact decimal strings, never float;
``timestamp`` in epoch ms; a missing value is ``null`` in JSONL and an absent field in Redis):

    trade     kind exchange symbol timestamp id side price amount order_id fee fee_currency
    ticker    kind exchange symbol timestamp bid ask last high low volume
    level     kind exchange symbol timestamp side price amount      (amount "0" = level gone)
    snapshot  kind exchange symbol timestamp bids asks               ([["price","amount"], ...])

SQLite schema (version 1, see :data:`SCHEMA`): one table per kind, ``book_snapshots``,
``level_updates``, ``trades``, ``tickers``, with the fields above as columns (money TEXT,
``timestamp`` INTEGER ms, snapshot sides as JSON text), plus ``received_at`` (epoch ms when
written) and an index on ``(exchange, symbol, timestamp)``; ``schema_version`` holds the
version. The database runs in WAL mode, so readers never block the writer nor see half a
batch; ``synchronous=NORMAL`` means a committed batch survives a crash of the process, while
a power cut may lose the last few commits.

Redis: one stream per exchange, symbol and kind, key ``exconn:{exchange}:{symbol}:{kind}``
(e.g. ``exconn:btcalpha:BTC/USD:trade``), trimmed with ``MAXLEN ~ maxlen``; read it with
XREAD or a consumer group (XREADGROUP + XACK).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import stat
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import IO, Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

import msgspec

from core.errors import ExconnError
from core.logging import REDACTED, get_logger
from core.models import BookLevel, Ticker, Trade
from core.timestamps import now_ms
from streams.events import BookSnapshot, FeedEvent, LevelUpdate

__all__ = ["Record", "Sink", "SinkError", "open_sink", "SqliteSink", "JsonlSink", "RedisSink", "SCHEMA",
           "SCHEMA_VERSION"]

Record = tuple[str, FeedEvent]
"""``(exchange id, event)``: Trade and Ticker do not carry their exchange themselves."""

_log = get_logger("sinks")
_T = TypeVar("_T")


class SinkError(ExconnError):
    """A sink could not be opened or a write failed; nothing of a failed batch counts as
    written, so the same batch may be retried."""


@runtime_checkable
class Sink(Protocol):
    """What the collector writes to."""

    url: str
    """Where the sink writes, for status lines; never contains a password."""

    async def open(self) -> None:
        """Create files, tables or connections; SinkError if that is impossible."""

    async def write(self, records: Sequence[Record]) -> None:
        """Store a batch durably, all or nothing; SinkError if it failed."""

    async def close(self) -> None:
        """Flush and release; idempotent."""


_ACCEPTED = "sqlite:PATH, jsonl:PATH, jsonl:- (stdout), redis://[user:pass@]HOST[:PORT][/DB] or rediss://…"


def open_sink(url: str, **options: Any) -> Sink:
    """The sink for ``url`` (not opened yet); ``options`` go to its class. A URL of no
    accepted form raises ValueError listing the forms."""
    scheme, _, rest = url.partition(":")
    if scheme == "sqlite" and rest:
        return SqliteSink(rest, **options)
    if scheme == "jsonl" and rest:
        return JsonlSink(rest, **options)
    if scheme in ("redis", "rediss") and _is_redis_url(url):
        return RedisSink(url, **options)
    raise ValueError(f"unsupported sink URL {redact_url(url)!r}; use {_ACCEPTED}")


def _is_redis_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    database = parts.path.removeprefix("/")
    return bool(parts.hostname) and (database == "" or database.isdigit())


def redact_url(url: str) -> str:
    """``url`` with any ``user:pass@`` replaced by ``***@``."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=f"{REDACTED}@{parts.netloc.rpartition('@')[2]}"))


def _money(value: Decimal | None) -> str | None:
    """Exact decimal text in plain notation (``1E-8`` -> ``0.00000001``)."""
    return None if value is None else format(value, "f")


def _levels(levels: Sequence[BookLevel]) -> list[list[str]]:
    return [[format(level.price, "f"), format(level.amount, "f")] for level in levels]


def _fields(exchange: str, event: FeedEvent) -> dict[str, Any]:
    """The normalised fields of one event (see the module docstring), ``kind`` first, the
    rest in the column order of its SQLite table."""
    if isinstance(event, Trade):
        return {"kind": "trade", "exchange": exchange, "symbol": event.symbol, "timestamp": event.timestamp,
                "id": event.id, "side": event.side, "price": _money(event.price), "amount": _money(event.amount),
                "order_id": event.order_id, "fee": _money(event.fee), "fee_currency": event.fee_currency}
    if isinstance(event, LevelUpdate):
        return {"kind": "level", "exchange": exchange, "symbol": event.symbol, "timestamp": event.timestamp,
                "side": event.side, "price": _money(event.price), "amount": _money(event.amount)}
    if isinstance(event, Ticker):
        return {"kind": "ticker", "exchange": exchange, "symbol": event.symbol, "timestamp": event.timestamp,
                "bid": _money(event.bid), "ask": _money(event.ask), "last": _money(event.last),
                "high": _money(event.high), "low": _money(event.low), "volume": _money(event.volume)}
    if isinstance(event, BookSnapshot):
        return {"kind": "snapshot", "exchange": exchange, "symbol": event.symbol, "timestamp": event.timestamp,
                "bids": _levels(event.bids), "asks": _levels(event.asks)}
    raise TypeError(f"not a feed event: {event!r}")


class _Worker:
    """One dedicated thread for a sink's blocking I/O: calls run in order, off the loop."""

    __slots__ = ("_name", "_executor")

    def __init__(self, name: str) -> None:
        self._name = name
        self._executor: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)

    async def run(self, fn: Callable[..., _T], *args: Any) -> _T:
        assert self._executor is not None, "the worker is not started"
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def stop(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)  # queued calls still run, in order
            self._executor = None


# ---------------------------------------------------------------- SQLite

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);

CREATE TABLE IF NOT EXISTS book_snapshots (
    exchange    TEXT    NOT NULL,
    symbol      TEXT    NOT NULL,
    timestamp   INTEGER NOT NULL,   -- epoch ms
    bids        TEXT    NOT NULL,   -- JSON [["price","amount"], ...], best first
    asks        TEXT    NOT NULL,
    received_at INTEGER NOT NULL    -- epoch ms, when written
);
CREATE INDEX IF NOT EXISTS book_snapshots_time ON book_snapshots (exchange, symbol, timestamp);

CREATE TABLE IF NOT EXISTS level_updates (
    exchange    TEXT    NOT NULL,
    symbol      TEXT    NOT NULL,
    timestamp   INTEGER NOT NULL,
    side        TEXT    NOT NULL CHECK (side IN ('bid', 'ask')),
    price       TEXT    NOT NULL,
    amount      TEXT    NOT NULL,   -- new total at the price; "0" = level gone
    received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS level_updates_time ON level_updates (exchange, symbol, timestamp);

CREATE TABLE IF NOT EXISTS trades (
    exchange     TEXT    NOT NULL,
    symbol       TEXT    NOT NULL,
    timestamp    INTEGER NOT NULL,
    id           TEXT    NOT NULL,
    side         TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    price        TEXT    NOT NULL,
    amount       TEXT    NOT NULL,
    order_id     TEXT,
    fee          TEXT,
    fee_currency TEXT,
    received_at  INTEGER NOT NULL,
    UNIQUE (exchange, symbol, id)
);
CREATE INDEX IF NOT EXISTS trades_time ON trades (exchange, symbol, timestamp);

CREATE TABLE IF NOT EXISTS tickers (
    exchange    TEXT    NOT NULL,
    symbol      TEXT    NOT NULL,
    timestamp   INTEGER NOT NULL,
    bid         TEXT,
    ask         TEXT,
    last        TEXT,
    high        TEXT,
    low         TEXT,
    volume      TEXT,               -- base currency
    received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tickers_time ON tickers (exchange, symbol, timestamp);
"""
"""The SQLite schema: money columns hold exact decimal strings, times are epoch ms."""

_INSERT = {  # columns in the order of _fields
    "snapshot": "INSERT INTO book_snapshots (exchange, symbol, timestamp, bids, asks, received_at) "
                  "VALUES (?, ?, ?, ?, ?, ?)",
    "level": "INSERT INTO level_updates (exchange, symbol, timestamp, side, price, amount, received_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
    # a trade re-sent after a failed batch or a restart is already there: keep the first
    "trade": "INSERT OR IGNORE INTO trades (exchange, symbol, timestamp, id, side, price, amount, order_id, fee, "
           "fee_currency, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "ticker": "INSERT INTO tickers (exchange, symbol, timestamp, bid, ask, last, high, low, volume, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
}


class SqliteSink:
    """Events in one SQLite file (WAL, one transaction per batch), all database work in one
    dedicated thread. ``busy_timeout`` is in seconds; ``max_pages`` caps the file size in
    pages (``PRAGMA max_page_count``: past it SQLite fails exactly as on a full disk)."""

    __slots__ = ("path", "url", "busy_timeout", "max_pages", "_worker", "_conn", "_json")

    def __init__(self, path: str, *, busy_timeout: float = 5.0, max_pages: int | None = None) -> None:
        self.path = path
        self.url = f"sqlite:{path}"
        self.busy_timeout = busy_timeout
        self.max_pages = max_pages
        self._worker = _Worker("exconn-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._json = msgspec.json.Encoder()

    def __repr__(self) -> str:
        return f"SqliteSink({self.url} {'open' if self._conn else 'closed'})"

    async def open(self) -> None:
        if self._conn is not None:
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise SinkError(f"cannot create {self.url}: {directory} is not a directory")
        self._worker.start()
        try:
            self._conn = await self._worker.run(self._connect)
        except sqlite3.Error as exc:
            self._worker.stop()
            raise SinkError(f"cannot open {self.url}: {exc}") from exc
        except SinkError:
            self._worker.stop()
            raise

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=self.busy_timeout)
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise SinkError(f"cannot open {self.url}: the file system does not allow WAL (journal mode {mode})")
            conn.execute("PRAGMA synchronous=NORMAL")
            if self.max_pages is not None:
                conn.execute(f"PRAGMA max_page_count={int(self.max_pages)}")
            conn.executescript(
                f"BEGIN IMMEDIATE; {SCHEMA}"
                f"INSERT INTO schema_version SELECT {SCHEMA_VERSION} WHERE NOT EXISTS (SELECT 1 FROM schema_version);"
                "COMMIT;")
            version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                raise SinkError(f"{self.url} has schema version {version}; this exconn writes {SCHEMA_VERSION}")
        except BaseException:
            conn.close()
            raise
        return conn

    async def write(self, records: Sequence[Record]) -> None:
        if not records:
            return
        if self._conn is None:
            raise SinkError(f"{self.url} is not open")
        try:
            await self._worker.run(self._write, self._conn, records)
        except sqlite3.Error as exc:
            raise SinkError(f"write to {self.url} failed: {exc}") from exc

    def _write(self, conn: sqlite3.Connection, records: Sequence[Record]) -> None:
        received_at = now_ms()
        rows: dict[str, list[tuple[Any, ...]]] = {kind: [] for kind in _INSERT}
        for exchange, event in records:
            fields = _fields(exchange, event)
            kind = fields.pop("kind")
            rows[kind].append((*(self._json.encode(value).decode() if isinstance(value, list) else value
                                 for value in fields.values()), received_at))
        try:
            conn.execute("BEGIN IMMEDIATE")
            for kind, batch in rows.items():
                if batch:
                    conn.executemany(_INSERT[kind], batch)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLITE_FULL and friends may already have rolled back
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await self._worker.run(conn.close)  # the last connection checkpoints the WAL
        except sqlite3.Error as exc:
            raise SinkError(f"closing {self.url} failed: {exc}") from exc
        finally:
            self._worker.stop()


# ---------------------------------------------------------------- JSON lines

class JsonlSink:
    """One normalised event per line, appended to ``path`` (fsynced per batch) or written to
    stdout for ``-`` (flushed per batch). A failed write to a file is cut back off it; a pipe
    cannot take bytes back, so on stdout a failed batch may have been partly written."""

    __slots__ = ("path", "url", "_worker", "_fd", "_regular", "_stdout", "_json")

    def __init__(self, path: str) -> None:
        self.path = path
        self.url = f"jsonl:{path}"
        self._worker = _Worker("exconn-jsonl")
        self._fd: int | None = None
        self._regular = False
        self._stdout: IO[bytes] | None = None
        self._json = msgspec.json.Encoder()

    def __repr__(self) -> str:
        return f"JsonlSink({self.url} {'open' if self._is_open else 'closed'})"

    @property
    def _is_open(self) -> bool:
        return self._fd is not None or self._stdout is not None

    async def open(self) -> None:
        if self._is_open:
            return
        if self.path == "-":
            self._stdout = sys.stdout.buffer
            self._worker.start()
            return
        self._worker.start()
        try:
            self._fd = await self._worker.run(self._open_file)
        except OSError as exc:
            self._worker.stop()
            raise SinkError(f"cannot open {self.url}: {exc.strerror or exc}") from exc

    def _open_file(self) -> int:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            info = os.fstat(fd)
            self._regular = stat.S_ISREG(info.st_mode)
            if self._regular and info.st_size:
                whole = _complete_lines_length(self.path, info.st_size)
                if whole != info.st_size:
                    # a crash mid-write left half a line: appending after it would garble the next line too
                    _log.warning("jsonl.torn_line_dropped", path=self.path, bytes=info.st_size - whole)
                    os.ftruncate(fd, whole)
        except BaseException:
            os.close(fd)
            raise
        return fd

    async def write(self, records: Sequence[Record]) -> None:
        if not records:
            return
        if not self._is_open:
            raise SinkError(f"{self.url} is not open")
        data = self._json.encode_lines([_fields(exchange, event) for exchange, event in records])
        try:
            if self._stdout is not None:
                await self._worker.run(self._write_stdout, self._stdout, data)
            else:
                await self._worker.run(self._append, self._fd, data)
        except (OSError, ValueError) as exc:  # ValueError: stdout was closed under us
            raise SinkError(f"write to {self.url} failed: {exc}") from exc

    @staticmethod
    def _write_stdout(out: IO[bytes], data: bytes) -> None:
        out.write(data)
        out.flush()

    def _append(self, fd: int, data: bytes) -> None:
        start = os.fstat(fd).st_size if self._regular else 0
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if self._regular:
                os.fsync(fd)
        except OSError:
            if self._regular:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)
            raise

    async def close(self) -> None:
        fd, self._fd, self._stdout = self._fd, None, None
        try:
            if fd is not None:
                await self._worker.run(os.close, fd)
        except OSError as exc:
            raise SinkError(f"closing {self.url} failed: {exc}") from exc
        finally:
            self._worker.stop()


def _complete_lines_length(path: str, size: int, chunk: int = 1 << 16) -> int:
    """Bytes of the file ``path`` (``size`` bytes long) up to and including its last newline."""
    with open(path, "rb") as f:
        end = size
        while end > 0:
            start = max(0, end - chunk)
            f.seek(start)
            newline = f.read(end - start).rfind(b"\n")
            if newline >= 0:
                return start + newline + 1
            end = start
    return 0


# ---------------------------------------------------------------- Redis Streams

class RedisSink:
    """Redis Streams, one per exchange, symbol and kind (``exconn:{exchange}:{symbol}:{kind}``),
    each trimmed to about ``maxlen`` entries; every field a string (snapshot sides as JSON
    text, absent values left out). A batch goes in one pipeline; if any XADD fails the write
    raises SinkError and the caller re-sends the whole batch, so entries that did get in are
    stored twice (at-least-once). ``timeout`` is in seconds, for connecting and each reply.
    After a lost connection the next write reconnects."""

    __slots__ = ("url", "maxlen", "timeout", "_secret_url", "_client", "_errors", "_json")

    def __init__(self, url: str, *, maxlen: int = 100_000, timeout: float = 5.0) -> None:
        self._secret_url = url
        self.url = redact_url(url)
        self.maxlen = maxlen
        self.timeout = timeout
        self._client: Any = None
        self._errors: tuple[type[BaseException], ...] = (OSError,)
        self._json = msgspec.json.Encoder()

    def __repr__(self) -> str:
        return f"RedisSink({self.url} maxlen~{self.maxlen} {'open' if self._client else 'closed'})"

    async def open(self) -> None:
        if self._client is not None:
            return
        try:
            from redis.asyncio import Redis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
            from redis.exceptions import RedisError
        except ImportError as exc:
            raise SinkError(f"{self.url} needs the redis package: pip install 'exconn[redis]'") from exc
        self._errors = (RedisError, OSError)
        try:
            # no retries inside the client: the collector owns retrying, with its own backoff
            client = Redis.from_url(self._secret_url, socket_timeout=self.timeout,
                                    socket_connect_timeout=self.timeout, retry=Retry(NoBackoff(), 0))
        except ValueError as exc:
            raise SinkError(f"cannot use {self.url}: {exc}") from exc
        try:
            await client.ping()
        except self._errors as exc:
            await client.aclose()
            raise SinkError(f"cannot reach {self.url}: {exc}") from exc
        self._client = client

    async def write(self, records: Sequence[Record]) -> None:
        if not records:
            return
        client = self._client
        if client is None:
            raise SinkError(f"{self.url} is not open")
        entries = [self._entry(exchange, event) for exchange, event in records]
        try:
            async with client.pipeline(transaction=False) as pipe:
                for key, fields in entries:
                    pipe.xadd(key, fields, maxlen=self.maxlen, approximate=True)
                await pipe.execute()
        except self._errors as exc:
            raise SinkError(f"write to {self.url} failed: {exc}") from exc

    def _entry(self, exchange: str, event: FeedEvent) -> tuple[str, dict[str, str]]:
        """The stream key and flat string fields of one event."""
        fields = _fields(exchange, event)
        flat = {}
        for name, value in fields.items():
            if isinstance(value, list):
                flat[name] = self._json.encode(value).decode()
            elif value is not None:
                flat[name] = str(value)
        return f"exconn:{exchange}:{fields['symbol']}:{fields['kind']}", flat

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(*self._errors):  # nothing is buffered: every write awaited its replies
                await client.aclose()
