"""Read collector events back from Redis Streams through a consumer group.

Collectors (one process or many, each given its own symbols; see docs/sharding.md) write
every event to a stream ``exconn:{exchange}:{symbol}:{kind}``. This script joins a consumer
group on all of those streams (creating it where missing), prints each event, and
acknowledges it. Start it several times with the same ``--group`` and different
``--consumer`` names to share the work: each entry goes to exactly one consumer of a group.

    pip install -e '.[redis]'
    python examples/redis_consumer.py --redis redis://127.0.0.1:6379/0 --group readers --consumer reader-1

New streams (a shard that started later) are picked up every ``--rescan`` seconds. An entry
is acknowledged only after it was printed; entries this consumer had read but not
acknowledged before a crash are read again first when it restarts under the same name.
Ctrl-C finishes the batch in hand, then stops (a second Ctrl-C stops at once); ``--count``
and ``--idle`` stop it after that many events or that many seconds without one.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

import redis

STREAMS = "exconn:*"
Handler = Callable[[str, str, dict[str, str]], None]
"""Called with (stream, entry id, fields) for every event."""


def discover(client: redis.Redis, pattern: str = STREAMS) -> set[str]:
    """The stream keys matching ``pattern`` (SCAN, so a large keyspace is not blocked)."""
    return set(client.scan_iter(match=pattern, _type="stream", count=1000))


def join_group(client: redis.Redis, streams: Iterable[str], group: str) -> None:
    """Create ``group`` on each stream, starting from its first entry (``MKSTREAM`` creates a
    stream that does not exist yet); a group that exists already is kept as it is."""
    for stream in streams:
        try:
            client.xgroup_create(stream, group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if not str(exc).startswith("BUSYGROUP"):
                raise


def read_batch(client: redis.Redis, group: str, consumer: str, streams: Iterable[str], *, backlog: bool,
               count: int = 500, block_ms: int | None = None) -> list[tuple[str, str, dict[str, str] | None]]:
    """One XREADGROUP over ``streams``: this consumer's own unacknowledged entries when
    ``backlog`` (id ``0``), else entries never delivered to the group (id ``>``), waiting up to
    ``block_ms``. An entry trimmed away (MAXLEN) while pending comes back with no fields."""
    position = "0" if backlog else ">"
    reply: Any = client.xreadgroup(group, consumer, {stream: position for stream in streams}, count=count,
                                   block=None if backlog else block_ms)
    return [(stream, entry_id, fields) for stream, entries in reply or [] for entry_id, fields in entries]


class Stop:
    """Set by the first Ctrl-C (or SIGTERM): the loop ends after the batch in hand."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        self.requested = True
        signal.signal(signum, signal.SIG_DFL)  # a second one ends the process at once


def consume(client: redis.Redis, group: str, consumer: str, handle: Handler, *, pattern: str = STREAMS,
            streams: Iterable[str] = (), count: int | None = None, idle: float | None = None,
            rescan: float = 5.0, stop: Stop | None = None) -> int:
    """Deliver every event of the group to ``handle`` and acknowledge it; returns how many were
    handled. Stops after ``count`` events, after ``idle`` seconds without one, or when ``stop``
    is requested. ``streams`` are named up front; others matching ``pattern`` are found every
    ``rescan`` seconds."""
    named = set(streams)
    joined: set[str] = set()
    backlog = True  # first what this consumer read but never acknowledged (a crash, a kill)
    handled = 0
    last_event = next_scan = time.monotonic()
    while not (stop and stop.requested) and (count is None or handled < count):
        now = time.monotonic()
        if idle is not None and now - last_event >= idle:
            break
        if now >= next_scan or not joined:
            found = (named | discover(client, pattern)) - joined
            join_group(client, found, group)
            joined |= found
            next_scan = now + rescan
        if not joined:
            time.sleep(min(rescan, 1.0))
            continue
        waits = [1.0, next_scan - now] + ([idle - (now - last_event)] if idle is not None else [])
        wanted = 500 if count is None else min(500, count - handled)
        batch = read_batch(client, group, consumer, joined, backlog=backlog, count=wanted,
                           block_ms=max(1, int(min(waits) * 1000)))
        # COUNT is per stream: what is read beyond ``count`` stays pending on this consumer, unacknowledged
        batch = batch[:wanted]
        if backlog and not batch:
            backlog = False
            continue
        acks: dict[str, list[str]] = {}
        for stream, entry_id, fields in batch:
            if fields:
                handle(stream, entry_id, fields)
                handled += 1
            acks.setdefault(stream, []).append(entry_id)
        for stream, ids in acks.items():
            client.xack(stream, group, *ids)
        if batch:
            last_event = time.monotonic()
    return handled


def print_text(stream: str, entry_id: str, fields: dict[str, str]) -> None:
    """``exconn:btcalpha:BTC/USD:trade 1700000000000-0 timestamp=… price=… amount=…``"""
    shown = " ".join(f"{name}={value}" for name, value in fields.items()
                     if name not in ("kind", "exchange", "symbol"))
    print(f"{stream} {entry_id} {shown}", flush=True)


def print_json(stream: str, entry_id: str, fields: dict[str, str]) -> None:
    """One JSON object per event: ``{"stream": …, "entry_id": …, "kind": …, …}`` (money as strings)."""
    print(json.dumps({"stream": stream, "entry_id": entry_id, **fields}), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Read exconn events from Redis Streams with a consumer group.")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="redis://[user:pass@]HOST:PORT/DB")
    parser.add_argument("--group", default="exconn-readers", help="consumer group name")
    parser.add_argument("--consumer", default=f"{socket.gethostname()}-{os.getpid()}",
                        help="this consumer's name; reuse it to resume its unacknowledged entries")
    parser.add_argument("--pattern", default=STREAMS, help=f"streams to read (default {STREAMS})")
    parser.add_argument("--stream", action="append", default=[], help="a stream to read even before it exists")
    parser.add_argument("--rescan", type=float, default=5.0, help="seconds between looks for new streams")
    parser.add_argument("--count", type=int,
                        help="stop after this many events (entries read beyond it stay pending on this consumer)")
    parser.add_argument("--idle", type=float, help="stop after this many seconds without an event")
    parser.add_argument("--json", action="store_true", help="print one JSON object per event")
    args = parser.parse_args(argv)
    stop = Stop()
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    client = redis.Redis.from_url(args.redis, decode_responses=True)
    try:
        handled = consume(client, args.group, args.consumer, print_json if args.json else print_text,
                          pattern=args.pattern, streams=args.stream, count=args.count, idle=args.idle,
                          rescan=args.rescan, stop=stop)
    except redis.RedisError as exc:
        print(f"redis_consumer: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    print(f"redis_consumer: {handled} events read and acknowledged by {args.consumer} in group {args.group}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
