"""examples/trading_bot.py against the sandbox: lost answers never double an order, a rate
limit is waited out, and Ctrl-C stops it cleanly with nothing left open."""

from __future__ import annotations

import asyncio
import importlib.util
import select
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

import connectors
from sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "examples" / "trading_bot.py"
SYMBOL = "ETH/USDT"


def load_bot() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trading_bot", BOT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bot_module = load_bot()


async def until(condition, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


@pytest.fixture
async def peatio():
    async with Sandbox(seed=5, exchanges=["peatio"]) as sb:
        key, secret = sb.credentials("peatio")
        async with connectors.open("peatio", key=key, secret=secret, base_url=sb.url("peatio")) as ex:
            yield sb, ex


async def test_lost_create_and_cancel_answers_never_leave_a_second_order(peatio):
    sb, ex = peatio
    venue = sb.venue("peatio")
    # requote on every cycle, so every cycle cancels and places
    # the sandbox lists an order as soon as it answers: no second look needed for a lost one
    bot = bot_module.QuotingBot(ex, SYMBOL, Decimal("0.05"), tolerance=Decimal(0), settle=0)
    stop = asyncio.Event()
    with venue.inject(error_after=0.3, error_before=0.1, methods={"POST"}):
        task = asyncio.create_task(bot_module.run_bot(bot, stop, interval=0.01))
        await until(lambda: bot.stats.outcome_unknown >= 3 and bot.stats.cycles >= 6)
        stop.set()
        stats = await task
    orders = venue.engine.orders("demo", SYMBOL)
    # every order on the exchange is one the bot knows: a blind retry would have left an orphan
    assert {str(o.id) for o in orders} == bot.ours
    assert len(orders) == stats.placed + stats.adopted
    assert [o.id for o in orders if o.status == "open"] == []  # stopping canceled them all
    assert stats.adopted >= 1  # some lost creates had been applied, and were found


async def test_a_rate_limit_is_waited_out_and_quoting_resumes(peatio):
    sb, ex = peatio
    venue = sb.venue("peatio")
    bot = bot_module.QuotingBot(ex, SYMBOL, Decimal("0.05"))
    stop = asyncio.Event()
    task = asyncio.create_task(bot_module.run_bot(bot, stop, interval=0.01))
    await until(lambda: len(bot.quotes) == 2)
    with venue.inject(rate_limit=1.0, methods={"GET"}):
        await until(lambda: bot.stats.rate_limited >= 1)
    cycles = bot.stats.cycles
    await until(lambda: bot.stats.cycles >= cycles + 3)
    stop.set()
    stats = await task
    assert not task.exception() and stats.rate_limited >= 1
    assert [o for o in venue.engine.orders("demo", SYMBOL) if o.status == "open"] == []


def test_ctrl_c_cancels_the_bots_orders_and_exits_0():
    process = subprocess.Popen([sys.executable, str(BOT), "--interval", "0.2", "--faults"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([process.stdout], [], [], 30)  # seconds: never block the suite
        assert ready, "the bot printed nothing for 30 s"
        first = process.stdout.readline()
        assert first.startswith("quoting ETH/USDT on peatio"), first + process.stderr.read()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert out.startswith("stopped: cycles="), out + err
    assert "Traceback" not in err
