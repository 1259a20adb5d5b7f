"""A notebook opens and closes connectors and book feeds again and again in one running
loop: nothing may be left behind (task, session, socket), and importing or constructing
anything must start nothing."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

import connectors
import streams
from sandbox import Sandbox

ROUNDS = 100
LEAK_WARNINGS = ("Unclosed client session", "Unclosed connector", "Unclosed response")


def open_fds() -> dict[int, str]:
    """This process's open file descriptors and what each points at (``socket:[…]``, a path…)."""
    fds = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            fds[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except FileNotFoundError:  # the directory listing's own descriptor, closed already
            continue
    return fds


def thread_count() -> int:
    """OS threads of this process (Python's and native ones, e.g. a DNS resolver's)."""
    return len(os.listdir("/proc/self/task"))


@dataclass
class Leaks:
    """What a block left behind in the running loop and the process."""

    tasks: list[asyncio.Task] = field(default_factory=list)
    fds: dict[int, str] = field(default_factory=dict)
    threads: int = 0
    warnings: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.tasks or self.fds or self.threads > 0 or self.warnings)


@asynccontextmanager
async def no_leaks(settle: float = 5.0) -> AsyncIterator[None]:
    """Fail if the block leaves a task, an open descriptor, a thread or an unclosed-session warning.

    Closing a client socket finishes the server's side of it (in this same loop) a moment
    later, so leftovers are given ``settle`` seconds to go before they count."""
    loop = asyncio.get_running_loop()
    gc.collect()  # what earlier code left for the collector is not this block's doing
    tasks_before = asyncio.all_tasks()
    fds_before = open_fds()
    threads_before = thread_count()
    reported: list[str] = []
    previous_handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(str(context.get("message"))))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
            deadline = loop.time() + settle
            while True:
                gc.collect()
                leaks = Leaks(
                    tasks=[t for t in asyncio.all_tasks() - tasks_before if not t.done()],
                    fds={fd: target for fd, target in open_fds().items() if fds_before.get(fd) != target},
                    threads=thread_count() - threads_before,
                    warnings=[str(w.message) for w in caught if str(w.message).startswith(LEAK_WARNINGS)]
                    + [m for m in reported if m.startswith(LEAK_WARNINGS)],
                )
                if not leaks or loop.time() > deadline:
                    break
                await asyncio.sleep(0.05)
    finally:
        loop.set_exception_handler(previous_handler)
    assert not leaks.warnings, leaks.warnings[:5]
    assert not leaks.tasks, sorted(t.get_name() for t in leaks.tasks)
    assert not leaks.fds, leaks.fds
    assert leaks.threads <= 0, f"{leaks.threads} more threads"


async def rounds(body: Callable[[int], Awaitable[None]]) -> None:
    for i in range(ROUNDS):
        await body(i)


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(seed=3) as sandbox:
        # one request first: process-wide state made on first use (a DNS resolver thread) is no leak
        async with connectors.open("btcalpha", base_url=sandbox.url("btcalpha")) as ex:
            await ex.load_markets()
        yield sandbox


async def test_opening_and_closing_a_connector_100_times_leaves_no_task_session_or_socket(sb):
    exchanges = connectors.EXCHANGES
    seen: dict[str, int] = {}

    async def one(i: int) -> None:
        exchange = exchanges[i % len(exchanges)]
        key, secret = sb.credentials(exchange)
        async with connectors.open(exchange, key=key, secret=secret, base_url=sb.url(exchange)) as ex:
            markets = await ex.load_markets()
            if exchange == "peatio":  # 20 signed calls fit its private limit (5/s) in a few seconds
                balances = await ex.fetch_balances()
                assert balances["USDT"].total > 0
        seen[exchange] = seen.get(exchange, 0) + len(markets)

    async with no_leaks():
        await rounds(one)
    assert sorted(seen) == sorted(exchanges) and all(count >= 20 for count in seen.values())


async def test_the_leak_check_sees_a_socket_a_task_and_a_session_left_behind(sb):
    """The checks above can fail: each kind of leftover is caught and named."""
    ex = connectors.open("btcalpha", base_url=sb.url("btcalpha"))
    try:
        with pytest.raises(AssertionError, match="socket:"):
            async with no_leaks(settle=0.2):
                await ex.load_markets()
    finally:
        await ex.close()

    feed = streams.BtcAlphaBookFeed("BTC/USD", base_url=sb.url("btcalpha"))
    try:
        with pytest.raises(AssertionError, match="btcalpha-book-BTC_USD"):
            async with no_leaks(settle=0.2):
                await feed.start()
                await feed.wait_live(10)
    finally:
        await feed.close()

    # the session and its connector die together; whichever goes first reports
    with pytest.raises(AssertionError, match="Unclosed (client session|connector)"):
        async with no_leaks(settle=0.2):
            forgotten = connectors.open("btcalpha", base_url=sb.url("btcalpha"))
            await forgotten.load_markets()
            del forgotten


async def test_opening_and_closing_the_btcalpha_live_book_100_times_leaves_nothing(sb):
    live = 0

    async def one(_: int) -> None:
        nonlocal live
        async with streams.open_book("btcalpha", "BTC/USD", base_url=sb.url("btcalpha")) as feed:
            await feed.wait_live(10)
            live += feed.book.state == "live" and bool(feed.book.bids) and bool(feed.book.asks)

    async with no_leaks():
        await rounds(one)
    assert live == ROUNDS


async def test_opening_and_closing_a_polling_book_100_times_leaves_nothing(sb):
    # BTC-Alpha's polled book, the one whose public limit (90/s) lets 100 rounds of
    # markets + book run in about two seconds; open_book gives the other exchanges this class
    live = 0

    async def one(_: int) -> None:
        nonlocal live
        connector = connectors.open("btcalpha", base_url=sb.url("btcalpha"))
        async with streams.PollingFeed(connector, "BTC/USD", channels=("book",), owns_connector=True) as feed:
            await feed.wait_live(10)
            live += feed.book.state == "live" and bool(feed.book.bids) and bool(feed.book.asks)

    async with no_leaks():
        await rounds(one)
    assert live == ROUNDS


_IMPORT_PROBE = """
import asyncio, json, os, signal, sys, threading
handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
fds = sorted(os.listdir("/proc/self/fd"))
threads = len(os.listdir("/proc/self/task"))
import core, connectors, streams
for exchange in connectors.EXCHANGES:
    connectors.open(exchange, key="k", secret="s", base_url="http://127.0.0.1:9")
streams.BtcAlphaBookFeed("BTC/USD", base_url="http://127.0.0.1:9")
streams.PollingFeed(connectors.open("peatio"), "ETH/USDT")
policy_loop = getattr(asyncio.get_event_loop_policy(), "_local")._loop
print(json.dumps({
    "fds_opened": sorted(set(os.listdir("/proc/self/fd")) - set(fds)),
    "threads": len(os.listdir("/proc/self/task")) - threads,
    "python_threads": threading.active_count(),
    "signal_handlers_changed": [int(s) for s, h in handlers.items() if signal.getsignal(s) is not h],
    "event_loop_made": policy_loop is not None,
    "heavy_modules": sorted(m for m in ("pandas", "numpy", "matplotlib", "sandbox", "IPython") if m in sys.modules),
}))
"""


def test_importing_and_constructing_starts_no_thread_loop_socket_or_signal_handler():
    """``import core, connectors, streams`` and building every connector and feed (no
    ``async with`` yet) open nothing, start nothing and pull in neither pandas nor the sandbox."""
    result = subprocess.run([sys.executable, "-W", "error::ResourceWarning", "-c", _IMPORT_PROBE],
                            capture_output=True, text=True, timeout=60, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    # listdir's own descriptor is gone by the time it returns; anything else is a real open
    assert probe == {"fds_opened": [], "threads": 0, "python_threads": 1, "signal_handlers_changed": [],
                     "event_loop_made": False, "heavy_modules": []}, probe
