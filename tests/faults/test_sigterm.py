"""SIGTERM to a collector process in the middle of a burst of writes to the JSONL sink: it
exits 0, every event its summary counts is in the file, and no line is torn.
(tests/streams/test_collector.py does the same for SQLite at a calm pace.)"""

from __future__ import annotations

import asyncio
import json
import re
import signal

from tests.streams.test_collector import _cli

# every exchange, every channel, polled 20 times a second (as fast as their limits let it)
BURST = """
sink = "jsonl:{out}"
sandbox = true
interval = 0.05
{feeds}
"""
FEED = """
[[feed]]
exchange = "{exchange}"
symbols = ["{symbol}"]
"""
SYMBOLS = {"btcalpha": "BTC/USD", "coindcx": "BTC/INR", "peatio": "ETH/USDT", "qtrade": "LTC/BTC",
           "quidax": "BTC/NGN"}


async def test_sigterm_in_a_burst_of_jsonl_writes_loses_nothing_and_tears_no_line(tmp_path):
    out = tmp_path / "burst.jsonl"
    config = tmp_path / "burst.toml"
    feeds = "".join(FEED.format(exchange=ex, symbol=sym) for ex, sym in SYMBOLS.items())
    config.write_text(BURST.format(out=out, feeds=feeds))
    proc = await _cli("--config", str(config), "--status-interval", "0.2")
    err = b""
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        counted = 0
        while counted < 60 and loop.time() < deadline:  # well into the burst
            line = await asyncio.wait_for(proc.stderr.readline(), 30)
            err += line
            if match := re.search(rb"written=(\d+)", line):
                counted = int(match.group(1))
        assert counted >= 60, err.decode()[-2000:]
        proc.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(proc.stderr.read(), 15)
        code = await asyncio.wait_for(proc.wait(), 15)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert code == 0, (err + rest).decode()[-2000:]
    text = out.read_text()
    assert text.endswith("\n")  # the last batch was written whole
    events = [json.loads(line) for line in text.splitlines()]  # every line parses: none torn
    summary = re.search(rb"(\d+) events written", rest)
    assert summary and int(summary.group(1)) == len(events) >= counted
    assert {e["exchange"] for e in events} == set(SYMBOLS)
