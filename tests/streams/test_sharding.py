"""Collectors sharded across processes into one Redis, read back once through a consumer group.

Two real ``exconn collect`` processes with disjoint symbols (each with its own ``--sandbox``)
write to the same redis-server while two ``examples/redis_consumer.py`` processes of one
consumer group read. Every entry must reach exactly one consumer, and the entries read must
be exactly the events the collectors reported as written.
"""

import asyncio
import importlib.util
import json
import os
import re
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

CONSUMER = Path(__file__).parents[2] / "examples" / "redis_consumer.py"
SHARDS = {"btcalpha": "BTC/USD", "peatio": "ETH/USDT"}
GROUP = "readers"


def _spawn(*args: str) -> Coroutine[Any, Any, asyncio.subprocess.Process]:
    return asyncio.create_subprocess_exec(
        sys.executable, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})


async def _collect(exchange: str, symbol: str, sink: str) -> tuple[int, str]:
    """Run one collector shard to its end; (events it reported written, its stderr)."""
    proc = await _spawn("-m", "streams.cli", "collect", "--sandbox", "--exchange", exchange, "--symbol", symbol,
                        "--sink", sink, "--duration", "2", "--interval", "0.1")
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = err.decode()
    written = re.search(r"(\d+) events written to redis://", text)
    assert proc.returncode == 0 and written, text[-2000:]
    return int(written.group(1)), text


async def _lines(stream: asyncio.StreamReader, into: list[dict]) -> None:
    async for line in stream:
        into.append(json.loads(line))


async def test_sharded_collectors_are_read_back_exactly_once_by_a_consumer_group(redis_server):
    import redis.asyncio as redis

    consumers = []
    read: dict[str, list[dict]] = {"reader-1": [], "reader-2": []}
    readers = []
    try:
        for name in read:
            proc = await _spawn(str(CONSUMER), "--redis", redis_server, "--group", GROUP, "--consumer", name,
                                "--json", "--rescan", "0.2")
            consumers.append(proc)
            readers.append(asyncio.create_task(_lines(proc.stdout, read[name])))
        shards = await asyncio.gather(*(_collect(ex, sym, redis_server) for ex, sym in SHARDS.items()))
        expected = sum(written for written, _ in shards)
        assert all(written > 0 for written, _ in shards), [err[-500:] for _, err in shards]

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while sum(map(len, read.values())) < expected and loop.time() < deadline:
            await asyncio.sleep(0.1)
        for proc in consumers:
            proc.send_signal(signal.SIGINT)  # Ctrl-C: finish the batch in hand, acknowledge, exit 0
        await asyncio.wait_for(asyncio.gather(*readers), 10)
        errors = [await asyncio.wait_for(proc.stderr.read(), 10) for proc in consumers]
        codes = [await asyncio.wait_for(proc.wait(), 10) for proc in consumers]
    finally:
        for proc in consumers:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert codes == [0, 0], [err.decode()[-2000:] for err in errors]

    assert all(read.values())  # the group shared the work between its two consumers
    entries = [(event["stream"], event["entry_id"]) for events in read.values() for event in events]
    assert len(entries) == len(set(entries)) == expected  # every entry once, none twice, none missing
    streams = {stream for stream, _ in entries}
    for exchange, symbol in SHARDS.items():
        assert {f"exconn:{exchange}:{symbol}:{kind}" for kind in ("snapshot", "level", "trade")} <= streams
    events = [event for events in read.values() for event in events]
    assert all(event["stream"] == f"exconn:{event['exchange']}:{event['symbol']}:{event['kind']}" for event in events)
    trades = [event for event in events if event["kind"] == "trade"]
    assert trades and all(re.fullmatch(r"\d+(\.\d+)?", event["price"]) for event in trades)

    client = redis.Redis.from_url(redis_server, decode_responses=True)
    try:
        keys = [key async for key in client.scan_iter(match="exconn:*")]
        assert sum([await client.xlen(key) for key in keys]) == expected
        pending = [(await client.xpending(key, GROUP))["pending"] for key in keys]
    finally:
        await client.aclose()
    assert pending == [0] * len(keys)  # every entry acknowledged


def _load_example():
    spec = importlib.util.spec_from_file_location("redis_consumer", CONSUMER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_consumer_restarted_under_its_name_first_rereads_what_it_never_acknowledged(redis_server):
    import redis

    example = _load_example()
    stream = "exconn:peatio:ETH/USDT:trade"
    client = redis.Redis.from_url(redis_server, decode_responses=True)
    try:
        ids = [client.xadd(stream, {"kind": "trade", "id": str(i)}) for i in range(10)]
        example.join_group(client, [stream], GROUP)
        # reader-1 read three entries, then died before acknowledging them
        crashed = example.read_batch(client, GROUP, "reader-1", [stream], backlog=False, count=3)
        assert [entry_id for _, entry_id, _ in crashed] == ids[:3]
        seen: list[str] = []
        handled = example.consume(client, GROUP, "reader-1", lambda _s, entry_id, _f: seen.append(entry_id),
                                  idle=0.3, rescan=0.1)
        assert handled == 10 and seen == ids  # the unacknowledged three first, then the rest, each once
        assert client.xpending(stream, GROUP)["pending"] == 0
    finally:
        client.close()
