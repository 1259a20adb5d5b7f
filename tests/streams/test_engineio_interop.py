"""Our engine.io client against reference servers, through many heartbeat cycles.

Node's engine.io 3.6 (EIO=3) and 6.6 (EIO=4, and EIO=3 with ``allowEIO3``) and socket.io 2.5
run from ``interop/server.js`` (packages pinned in ``interop/package.json``); python-engineio
runs in-process. Every server pings or expects pings every 500 ms and gives up after 900 ms,
so holding a feed for 3.5 s only passes when the heartbeat really works in both directions.
Each connection streams ``42["tick",{"n":i}]`` at one per 10 ms; every frame must arrive,
in order. Without node and npm these tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import NoReturn

import engineio
import pytest
from aiohttp import web

from streams.engineio import ConnectionLost, EngineIOConnection

INTEROP = Path(__file__).parent / "interop"
SERVER_JS = INTEROP / "server.js"
PACKAGES = ("engine.io-v3", "engine.io-v6", "socket.io-v2")  # the aliases in interop/package.json
PING_INTERVAL = 0.5  # seconds, as server.js sets them
PING_TIMEOUT = 0.4
TICK = 0.01  # seconds between ticks
HOLD = 3.5  # seconds: seven heartbeat cycles; a heartbeat mismatch is dropped after 0.9 s
MIN_TICKS = int(0.8 * HOLD / TICK)  # a loaded machine may deliver the last few late
MIN_HEARTBEATS = int(HOLD / PING_INTERVAL) - 2
PYTHON_ENGINEIO_GRACE = 0.5  # seconds, see python_engineio_feed

pytestmark = pytest.mark.slow


def tick(n: int) -> str:
    """The frame of tick ``n`` as it travels the websocket (JSON.stringify spacing)."""
    return f'42["tick",{{"n":{n}}}]'


def ticks(count: int) -> list[str]:
    return [tick(n) for n in range(count)]


def _unavailable(reason: str) -> NoReturn:
    """Under CI the reference servers are part of the suite: their absence is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def node() -> str:
    """Path of the node binary, with interop/node_modules installed from the lock file."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _unavailable("node and npm are needed to run the reference engine.io servers")
    if not all((INTEROP / "node_modules" / name / "package.json").is_file() for name in PACKAGES):
        verb = "ci" if (INTEROP / "package-lock.json").is_file() else "install"
        command = [npm, verb, "--no-audit", "--no-fund", "--loglevel=error"]
        try:
            done = subprocess.run(command, cwd=INTEROP, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            _unavailable(f"`npm {verb}` in {INTEROP} took over 300 s")
        if done.returncode != 0:
            _unavailable(f"`npm {verb}` in {INTEROP} failed: {done.stderr.strip()[-2000:]}")
    return node


class NodeServer:
    """One ``server.js FLAVOUR 0`` process on a free loopback port, and its report lines."""

    def __init__(self, node: str, flavour: str) -> None:
        self._command = [node, str(SERVER_JS), flavour, "0"]
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()
        self.lines: list[str] = []
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def __aenter__(self) -> NodeServer:
        self._proc = await asyncio.create_subprocess_exec(
            *self._command, cwd=INTEROP, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        assert self._proc.stdout is not None and self._proc.stderr is not None
        try:
            first = (await asyncio.wait_for(self._proc.stdout.readline(), 20)).decode()
        except TimeoutError:
            first = ""
        if not first.startswith("listening "):
            await self._stop()
            errors = (await self._proc.stderr.read()).decode()
            raise RuntimeError(f"{' '.join(self._command)} did not start: {first!r} {errors[-2000:]}")
        self.port = int(first.split()[1])
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stop()

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        async for raw in self._proc.stdout:
            async with self._changed:
                self.lines.append(raw.decode().rstrip("\n"))
                self._changed.notify_all()

    async def _stop(self) -> None:
        """End our own process by its pid: SIGTERM, then SIGKILL if it lingers."""
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._reader is not None:
            await self._reader

    def find(self, prefix: str) -> list[str]:
        return [line for line in self.lines if line.startswith(prefix)]

    async def line(self, prefix: str, timeout: float = 5.0) -> str:
        """The first report line starting with ``prefix``, waiting up to ``timeout`` seconds."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.find(prefix)), timeout)
        return self.find(prefix)[0]


async def hold(conn: EngineIOConnection, seconds: float) -> list[str]:
    """Every frame received in ``seconds``; a lost connection raises."""
    frames: list[str] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while True:
                frames.append(await conn.recv())
    return frames


async def read_until_lost(conn: EngineIOConnection, frames: list[str], limit: float) -> ConnectionLost:
    """Receive into ``frames`` until the connection is lost (fails after ``limit`` seconds)."""
    try:
        async with asyncio.timeout(limit):
            while True:
                frames.append(await conn.recv())
    except ConnectionLost as lost:
        return lost
    except TimeoutError:
        pytest.fail(f"still connected after {limit} s")


@pytest.mark.parametrize(
    ("flavour", "protocol"),
    [("eio3", 3), ("eio6", 4), ("eio6-allow-eio3", 3), ("sio2", 3)],
    ids=["engine.io-3.6-EIO3", "engine.io-6.6-EIO4", "engine.io-6.6-allowEIO3-EIO3", "socket.io-2.5-EIO3"],
)
async def test_client_holds_a_node_feed_through_heartbeats_and_receives_every_tick_in_order(
    node: str, flavour: str, protocol: int,
) -> None:
    async with NodeServer(node, flavour) as server:
        async with EngineIOConnection(server.url, protocol=protocol) as conn:
            assert (conn.ping_interval, conn.ping_timeout) == (PING_INTERVAL, PING_TIMEOUT)
            frames = await hold(conn, HOLD)
            opened = await server.line("open ")
            sid = opened.split()[1]
            assert opened == f"open {sid} {protocol}"
            assert server.find(f"close {sid}") == []  # the server kept us through every cycle
        closed = await server.line(f"close {sid}")
    assert frames == ticks(len(frames))
    assert len(frames) >= MIN_TICKS
    assert len(server.find(f"heartbeat {sid}")) >= MIN_HEARTBEATS
    assert server.find(f"join {sid}") == [f"join {sid} /"]
    # our goodbye ends the session; engine.io 3 may call it a write error when a tick
    # is on its way out as the socket closes
    assert closed.split(maxsplit=2)[2].startswith(("transport close", "transport error"))


@contextlib.asynccontextmanager
async def python_engineio_feed() -> AsyncIterator[tuple[str, dict[str, asyncio.Future[str]]]]:
    """python-engineio's AsyncServer (EIO=4) on a free loopback port, socket.io framing by
    hand; yields its url and, by sid, a future of each session's disconnect reason."""
    server = engineio.AsyncServer(
        # python-engineio announces int(interval + grace) * 1000 ms: a bare 0.5 s interval
        # goes out as pingInterval 0, after which any client's watchdog (ours too) gives up
        # after pingTimeout. A 0.5 s grace makes it announce 1000 ms; it still pings every
        # 0.5 s and drops a client silent for 0.9 s.
        async_mode="aiohttp", ping_interval=(PING_INTERVAL, PYTHON_ENGINEIO_GRACE), ping_timeout=PING_TIMEOUT,
        transports=["websocket"], async_handlers=False,
    )
    tickers: dict[str, asyncio.Task[None]] = {}
    reasons: dict[str, asyncio.Future[str]] = {}

    async def send_ticks(sid: str) -> None:
        loop = asyncio.get_running_loop()
        start, n = loop.time(), 0
        while True:
            due = int((loop.time() - start) / TICK) + 1
            while n < due:
                await server.send(sid, f'2["tick",{{"n":{n}}}]')
                n += 1
            await asyncio.sleep(TICK)

    async def on_message(sid: str, data: str | bytes) -> None:
        if sid not in tickers and isinstance(data, str) and (data == "0" or data.startswith("0{")):
            reasons[sid] = asyncio.get_running_loop().create_future()
            await server.send(sid, "0" + json.dumps({"sid": sid}))
            tickers[sid] = asyncio.create_task(send_ticks(sid))

    def on_disconnect(sid: str, reason: str) -> None:
        if sid in reasons and not reasons[sid].done():
            reasons[sid].set_result(reason)
        if sid in tickers:
            tickers[sid].cancel()

    server.on("message", on_message)
    server.on("disconnect", on_disconnect)
    app = web.Application()
    server.attach(app, engineio_path="socket.io")
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"ws://{host}:{port}", reasons
    finally:
        for task in tickers.values():
            task.cancel()
        await asyncio.gather(*tickers.values(), return_exceptions=True)
        await server.shutdown()
        await runner.cleanup()


async def test_client_holds_a_python_engineio_feed_through_heartbeats_and_receives_every_tick_in_order() -> None:
    async with python_engineio_feed() as (url, reasons):
        async with EngineIOConnection(url, protocol=4) as conn:
            assert (conn.ping_interval, conn.ping_timeout) == (PING_INTERVAL + PYTHON_ENGINEIO_GRACE, PING_TIMEOUT)
            frames = await hold(conn, HOLD)
            assert list(reasons) == [conn.sid]
            closed = reasons[conn.sid]
            assert not closed.done()  # the server kept us through every cycle
        reason = await asyncio.wait_for(closed, 5)
    assert frames == ticks(len(frames))
    assert len(frames) >= MIN_TICKS
    assert reason != engineio.AsyncServer.reason.PING_TIMEOUT


async def test_protocol_4_client_against_engineio_3_streams_then_is_dropped_after_ping_interval_plus_timeout(
    node: str,
) -> None:
    """Each side waits for the other to ping: both declare the session dead after 900 ms."""
    loop = asyncio.get_running_loop()
    async with NodeServer(node, "eio3") as server:
        async with EngineIOConnection(server.url, protocol=4) as conn:
            began = loop.time()
            frames: list[str] = []
            lost = await read_until_lost(conn, frames, 5.0)
            after = loop.time() - began
            sid = (await server.line("open ")).split()[1]
            # read before our goodbye, which would otherwise end the session first
            closed = await server.line(f"close {sid}")
    assert closed == f"close {sid} ping timeout"
    assert server.find(f"heartbeat {sid}") == []
    assert 0.8 * (PING_INTERVAL + PING_TIMEOUT) <= after <= PING_INTERVAL + PING_TIMEOUT + 1.0, str(lost)
    assert frames == ticks(len(frames))  # until then it streamed normally
    assert len(frames) >= 0.5 * (PING_INTERVAL + PING_TIMEOUT) / TICK


async def test_protocol_4_client_against_socketio_2_joins_twice_gets_every_tick_twice_then_is_dropped(
    node: str,
) -> None:
    """socket.io 2 joins every client to "/" unasked; the EIO=4 client's own "40" joins it
    again, so each tick arrives twice (two counters interleaved) until the ping timeout."""
    async with NodeServer(node, "sio2") as server:
        async with EngineIOConnection(server.url, protocol=4) as conn:
            frames: list[str] = []
            await read_until_lost(conn, frames, 5.0)
            sid = (await server.line("open ")).split()[1]
            closed = await server.line(f"close {sid}")
    assert server.find(f"join {sid}") == [f"join {sid} /", f"join {sid} /"]
    assert closed == f"close {sid} ping timeout"
    numbers = [json.loads(frame[2:])[1]["n"] for frame in frames]
    assert numbers.count(0) == 2 and numbers.count(1) == 2
    assert sorted(set(numbers)) == list(range(max(numbers) + 1))


async def test_protocol_3_client_is_refused_by_engineio_6_without_allow_eio3_after_the_websocket_upgrade(
    node: str,
) -> None:
    """engine.io 6 checks the protocol only once the websocket is up, then writes a raw HTTP
    400 into it: the client sees a broken websocket, not an HTTP error."""
    async with NodeServer(node, "eio6") as server:
        with pytest.raises(ConnectionLost):
            async with asyncio.timeout(5):
                async with EngineIOConnection(server.url, protocol=3):
                    pass
        refused = await server.line("refused ")
    assert refused == "refused 5 Unsupported protocol version"
    assert server.find("open ") == []
