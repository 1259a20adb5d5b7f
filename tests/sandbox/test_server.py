"""The Sandbox as a whole: ports, credentials, market maker, HTTP faults and the CLI."""

import asyncio
import os
import signal
import sys
import time

import aiohttp
import pytest

from sandbox import EXCHANGES, Sandbox
from sandbox.engine import OrderEvent


async def test_every_exchange_gets_its_own_loopback_port_and_demo_credentials(start_sandbox):
    sb = await start_sandbox(*EXCHANGES)
    assert sb.exchanges == EXCHANGES
    urls = {sb.url(ex) for ex in sb.exchanges}
    assert len(urls) == len(sb.exchanges)
    assert all(url.startswith("http://127.0.0.1:") for url in urls)
    for exchange in sb.exchanges:
        key, secret = sb.credentials(exchange)
        assert key and secret and sb.venue(exchange).keys[key].account == "demo"
        assert sb.ws_url(exchange).startswith("ws://127.0.0.1:")


async def test_books_are_seeded_and_not_crossed(start_sandbox):
    sb = await start_sandbox("btcalpha")
    engine = sb.venue("btcalpha").engine
    for symbol in engine.markets():
        bids, asks = engine.levels(symbol)
        assert len(bids) >= 5 and len(asks) >= 5 and bids[0][0] < asks[0][0]


def _flow(sb: Sandbox, steps: int) -> list[tuple]:
    venue = sb.venue("btcalpha")
    events: list = []
    venue.engine.subscribe(events.append)
    maker = sb.market_maker("btcalpha")
    for _ in range(steps):
        maker.step()
    return [
        (type(e).__name__, e.order.symbol, e.order.side, e.order.price, e.order.amount,
         tuple((f.price, f.amount) for f in e.fills) if isinstance(e, OrderEvent) else ())
        for e in events
    ]


async def test_market_maker_is_deterministic_for_a_seed_and_differs_across_seeds(start_sandbox):
    a = _flow(await start_sandbox("btcalpha", seed=7), 300)
    b = _flow(await start_sandbox("btcalpha", seed=7), 300)
    c = _flow(await start_sandbox("btcalpha", seed=8), 300)
    assert len(a) == 300 and a == b and a != c
    kinds = {kind for kind, *_ in a}
    assert kinds == {"OrderEvent", "CancelEvent"}
    assert any(fills for *_, fills in a)  # it also trades


async def test_market_maker_runs_at_its_rate_and_keeps_books_uncrossed(start_sandbox):
    sb = await start_sandbox("btcalpha", maker_rate=200)
    engine = sb.venue("btcalpha").engine
    seen: list = []
    engine.subscribe(seen.append)
    await asyncio.sleep(0.5)
    assert 40 <= len(seen) <= 140
    for symbol in engine.markets():
        bids, asks = engine.levels(symbol)
        assert not bids or not asks or bids[0][0] < asks[0][0]


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        ("malformed", lambda status, body: status == 200 and body.startswith(b'{"data": [1, 2,,')),
        ("truncated", lambda status, body: status == 200 and not body.rstrip().endswith((b"]", b"}"))),
        ("html", lambda status, body: status == 502 and body.startswith(b"<html>")),
        ("error_before", lambda status, body: status == 500 and b"error" in body.lower()),
        ("rate_limit", lambda status, body: status == 429),
    ],
)
async def test_http_faults_change_the_answer_as_configured(start_sandbox, fault, check):
    sb = await start_sandbox("btcalpha")
    url = sb.url("btcalpha") + "/api/v1/pairs/"
    async with aiohttp.ClientSession() as session:
        with sb.venue("btcalpha").inject(**{fault: 1.0}):
            async with session.get(url) as resp:
                assert check(resp.status, await resp.read())
        async with session.get(url) as resp:  # switched off again after the block
            assert resp.status == 200 and (await resp.json())[0]["name"]


async def test_latency_fault_delays_answers_and_methods_filter_limits_faults(start_sandbox):
    sb = await start_sandbox("btcalpha")
    url = sb.url("btcalpha") + "/api/v1/pairs/"
    async with aiohttp.ClientSession() as session:
        with sb.venue("btcalpha").inject(latency=0.3):
            started = time.perf_counter()
            async with session.get(url) as resp:
                await resp.read()
            assert time.perf_counter() - started >= 0.3
        with sb.venue("btcalpha").inject(error_before=1.0, methods={"POST"}):
            async with session.get(url) as resp:
                assert resp.status == 200


def test_inject_refuses_unknown_fault_names():
    from random import Random

    from sandbox.engine import Engine
    from sandbox.venue import Venue

    with pytest.raises(TypeError, match="unknown faults"):
        with Venue("x", Engine(), Random(0)).inject(explode=1.0):
            pass


async def test_cli_runs_all_exchanges_prints_urls_and_credentials_and_stops_on_sigint():
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "streams.cli", "sandbox", "--maker-rate", "5",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = []
        while not any("Ctrl-C" in line for line in lines):
            line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
            assert line, (await proc.stderr.read()).decode()
            lines.append(line)
        listed = [line.split()[0] for line in lines if "http://127.0.0.1:" in line]
        assert sorted(listed) == sorted(EXCHANGES)
        assert all("key=" in line and "secret=" in line for line in lines if "http://" in line)
        url = next(line.split()[1] for line in lines if line.split()[0] == "btcalpha")
        async with aiohttp.ClientSession() as session:
            async with session.get(url + "/api/v1/pairs/") as resp:
                assert resp.status == 200
        proc.send_signal(signal.SIGINT)
        rest = await asyncio.wait_for(proc.stdout.read(), 10)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        assert b"sandbox stopped" in rest
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
