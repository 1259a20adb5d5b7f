"""BTC-Alpha book events per second through our engine.io client, beside python-engineio's.

Run ``python -m benchmarks.bench_engineio [--messages N] [--repeats R]``; prints a table and
writes ``benchmarks/results/bench_engineio.json``.

A book flow from the sandbox engine (``tests/streams/engine_flow.py``) is encoded as
BTC-Alpha's socket sends it (``42["book_BTC_USD",{…}]``) and replayed by a websocket server
in a separate process, as fast as the client reads (TCP back-pressure), then closed with an
engine.io close packet. Each client decodes every event and applies it to a ``LocalBook``:
ours through ``BtcAlphaBookFeed``'s own receive loop, python-engineio's ``AsyncClient``
(EIO=4 only) through a message handler doing the same decode and apply. Time runs from
before connecting until the last event is applied; the best of ``--repeats`` runs counts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import engineio
import msgspec

from connectors.btcalpha.schemas import SOCKET_MESSAGE, SocketMessageRaw
from streams.book import BookOrder
from streams.btcalpha import BtcAlphaBookFeed
from streams.engineio import ConnectionLost, EngineIOConnection
from tests.streams.engine_flow import flow

MESSAGES = 50_000  # book events per run
REPEATS = 5  # best of, in msg/s
SEED = 7
SYMBOL = "BTC/USD"
EVENT = "book_BTC_USD"
RESULTS = Path(__file__).parent / "results" / "bench_engineio.json"
TARGET_RATE = 60_000  # msg/s, ours at EIO=4
TARGET_RATIO = 3.0  # ours at EIO=4 over python-engineio
RUN_TIMEOUT = 300.0  # seconds, one client run

_encode = msgspec.json.Encoder(decimal_format="number").encode


# -- the feed ---------------------------------------------------------------------------------


def wire(message: SocketMessageRaw) -> str:
    """The frame BTC-Alpha's socket sends for ``message``: numbers as JSON numbers, a trade's
    price and amount as strings (as in ``specs/btcalpha-socket.md``)."""
    body: dict[str, Any] = {"success": True, "date": float(message.date), "oid": message.oid,
                            "type": message.type, "price": message.price, "amount": message.amount}
    if message.cancelled:
        body |= {"pair": EVENT[5:], "cancelled": True, "cancel_order_id": message.oid}
    else:
        body["trades"] = [{"tid": t.tid, "type": t.type, "price": format(t.price, "f"),
                           "amount": format(t.amount, "f"), "o_id": t.o_id} for t in message.trades]
    return "42" + _encode([EVENT, body]).decode()


@dataclass(slots=True)
class Feed:
    frames: list[str]  # 42[...] frames in order
    first: list[BookOrder]  # the book before the first frame
    last: list[tuple[int, str, Decimal, Decimal]]  # (id, side, price, amount) after the last frame


def make_feed(messages: int, seed: int) -> Feed:
    events, books = flow(seed, messages)
    return Feed([wire(event) for event in events], books[0],
                sorted((o.id, o.side, o.price, o.amount) for o in books[-1]))


def fresh_feed(feed: Feed, protocol: int, url: str) -> BtcAlphaBookFeed:
    """A live ``BtcAlphaBookFeed`` holding a copy of the feed's first book (its receive loop
    is what we run; it is never started, so it makes no REST call)."""
    book_feed = BtcAlphaBookFeed(SYMBOL, ws_url=url, protocol=protocol)
    book_feed.book.reset(BookOrder(o.id, o.side, o.price, o.amount) for o in feed.first)
    book_feed.book.state = "live"
    return book_feed


def check_final(book_feed: BtcAlphaBookFeed, feed: Feed, client: str) -> None:
    book = sorted((o.id, o.side, o.price, o.amount) for o in book_feed.book.orders.values())
    if book_feed.events != len(feed.frames) or book != feed.last:
        raise SystemExit(f"{client}: applied {book_feed.events} of {len(feed.frames)} events, "
                         f"final book {'equal' if book == feed.last else 'DIFFERENT'}")


# -- the server (a separate process) ------------------------------------------------------------


def _ws_frame(text: str | bytes, opcode: int = 0x1) -> bytes:
    """One unmasked server-to-client websocket frame."""
    payload = text.encode() if isinstance(text, str) else text
    size = len(payload)
    if size < 126:
        header = bytes((0x80 | opcode, size))
    elif size < 1 << 16:
        header = bytes((0x80 | opcode, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 127)) + size.to_bytes(8, "big")
    return header + payload


def _chunks(frames: list[str], size: int = 1 << 16) -> list[bytes]:
    """The frames as websocket bytes, cut into writes of about ``size`` bytes at frame boundaries."""
    chunks: list[bytes] = []
    pending: list[bytes] = []
    filled = 0
    for frame in frames:
        pending.append(_ws_frame(frame))
        filled += len(pending[-1])
        if filled >= size:
            chunks.append(b"".join(pending))
            pending, filled = [], 0
    chunks.append(b"".join(pending))
    return chunks


async def _read_ws_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One client-to-server (masked) frame: (opcode, payload)."""
    first, second = await reader.readexactly(2)
    size = second & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2), "big")
    elif size == 127:
        size = int.from_bytes(await reader.readexactly(8), "big")
    mask = await reader.readexactly(4) if second & 0x80 else b"\0\0\0\0"
    data = await reader.readexactly(size)
    return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


class ReplayServer:
    """Engine.io over a bare websocket (EIO=3 and 4), replaying the same frames to each client.

    Written on asyncio streams rather than a websocket library so that the pre-encoded frames
    go out in 64 KiB writes: the server must never be what limits the clients."""

    def __init__(self, frames: list[str]) -> None:
        self._chunks = _chunks(frames)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            target = head.split(" ", 2)[1]
            headers = dict(line.split(": ", 1) for line in head.split("\r\n")[1:] if ": " in line)
            key = {name.lower(): value for name, value in headers.items()}["sec-websocket-key"]
            protocol = int(parse_qs(urlsplit(target).query).get("EIO", ["3"])[0])
            accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                                      .digest()).decode()
            writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
            opening = {"sid": "bench", "upgrades": [], "pingInterval": 25_000, "pingTimeout": 20_000}
            writer.write(_ws_frame("0" + json.dumps(opening)))
            if protocol == 3:
                writer.write(_ws_frame("40"))  # socket.io v2 joins "/" unasked
            else:
                while (await _read_ws_frame(reader))[1] != b"40":  # socket.io v5: the client asks
                    pass
                writer.write(_ws_frame('40{"sid":"bench-ns"}'))
            for chunk in self._chunks:
                writer.write(chunk)
                await writer.drain()
            writer.write(_ws_frame("1"))  # engine.io close: the feed is over
            await writer.drain()
            while True:  # answer heartbeats until the client closes
                opcode, data = await _read_ws_frame(reader)
                if opcode == 0x8:
                    writer.write(_ws_frame(data[:2], 0x8))
                    await writer.drain()
                    return
                if opcode == 0x1 and data == b"2" and protocol == 3:
                    writer.write(_ws_frame("3"))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def serve(frames_file: Path) -> None:
    """``--serve FILE``: replay FILE's frames (one a line) on a free loopback port; prints it."""
    server = ReplayServer(frames_file.read_text().splitlines())
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    print(f"listening {listener.sockets[0].getsockname()[1]}", flush=True)
    async with listener:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent goes


# -- the clients --------------------------------------------------------------------------------


async def run_ours(feed: Feed, url: str, protocol: int) -> float:
    """Seconds for our client to receive, decode and apply the whole feed."""
    book_feed = fresh_feed(feed, protocol, url)
    start = time.perf_counter()
    async with EngineIOConnection(url, protocol=protocol, queue_size=book_feed.queue_size) as conn:
        try:
            await book_feed._stream(conn)  # the feed's own receive loop; ends with the server's close
        except ConnectionLost:
            pass
    elapsed = time.perf_counter() - start
    check_final(book_feed, feed, f"exconn EIO={protocol}")
    return elapsed


async def run_python_engineio(feed: Feed, url: str) -> float:
    """Seconds for python-engineio's AsyncClient, with a handler doing the same decode and apply."""
    book_feed = fresh_feed(feed, 4, url)
    prefix = f'2["{EVENT}",'  # engine.io has taken the "4" off: the socket.io packet is left
    cut = len(prefix)
    apply = book_feed._apply
    finished = asyncio.get_running_loop().create_future()
    total = len(feed.frames)

    def on_message(data: str | bytes) -> None:
        if finished.done() or not isinstance(data, str) or not data.startswith(prefix):
            return
        try:
            apply(SOCKET_MESSAGE.decode(data[cut:-1]), tolerant=False)
        except Exception as exc:  # the library would only log it
            finished.set_exception(exc)
            return
        if book_feed.events == total:
            finished.set_result(None)

    client = engineio.AsyncClient()
    client.on("message", on_message)
    start = time.perf_counter()
    await client.connect(url, transports=["websocket"], engineio_path="socket.io")
    try:
        await client.send("0")  # join "/" (socket.io v5)
        await finished
        elapsed = time.perf_counter() - start
    finally:
        await client.disconnect()
    check_final(book_feed, feed, "python-engineio EIO=4")
    return elapsed


def decode_and_apply_only(feed: Feed) -> float:
    """Seconds for the feed's decode and apply alone, no transport: the ceiling for any client."""
    book_feed = fresh_feed(feed, 3, "ws://unused")
    decode, apply = book_feed._decode, book_feed._apply
    start = time.perf_counter()
    for frame in feed.frames:
        event = decode(frame)
        if event is not None:
            apply(event, tolerant=False)
    elapsed = time.perf_counter() - start
    check_final(book_feed, feed, "decode+apply")
    return elapsed


async def measure(feed: Feed, url: str, repeats: int) -> list[dict[str, Any]]:
    """Best seconds per client; the clients take turns within each repeat, so that a slow
    spell of the machine does not land on one of them only."""
    clients: dict[str, Callable[[], Coroutine[Any, Any, float]]] = {
        "exconn EIO=4": lambda: run_ours(feed, url, 4),
        "python-engineio EIO=4": lambda: run_python_engineio(feed, url),
        "exconn EIO=3": lambda: run_ours(feed, url, 3),
    }
    seconds = dict.fromkeys(clients, float("inf"))
    for _ in range(repeats):
        for client, run in clients.items():
            seconds[client] = min(seconds[client], await asyncio.wait_for(run(), RUN_TIMEOUT))
    seconds["decode+apply only (no transport)"] = min(decode_and_apply_only(feed) for _ in range(repeats))
    messages = len(feed.frames)
    baseline = messages / seconds["python-engineio EIO=4"]
    return [{"client": client, "messages": messages, "seconds": s, "msg_per_s": messages / s,
             "ratio_vs_python_engineio": messages / s / baseline} for client, s in seconds.items()]


# -- main -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_engineio", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=MESSAGES, help="book events per run")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="runs per client, best counts")
    parser.add_argument("--serve", type=Path, metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(serve(args.serve))
        return

    started = time.perf_counter()
    feed = make_feed(args.messages, SEED)
    print(f"{len(feed.frames)} frames, {sum(map(len, feed.frames)) / len(feed.frames):.0f} chars on average, "
          f"generated in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as folder:
        frames_file = Path(folder) / "frames.txt"
        frames_file.write_text("\n".join(feed.frames) + "\n")
        server = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_engineio", "--serve", str(frames_file)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  cwd=Path(__file__).parent.parent)
        try:
            assert server.stdout is not None
            first = server.stdout.readline()
            if not first.startswith("listening "):
                raise SystemExit(f"the replay server did not start: {first!r}")
            url = f"ws://127.0.0.1:{int(first.split()[1])}"
            rows = asyncio.run(measure(feed, url, args.repeats))
        finally:
            server.terminate()  # our own child, by pid
            server.wait(10)

    width = max(len(row["client"]) for row in rows)
    print(f"{'client':<{width}}  {'msgs':>7}  {'seconds':>7}  {'msg/s':>9}  {'ratio':>6}")
    for row in rows:
        print(f"{row['client']:<{width}}  {row['messages']:>7}  {row['seconds']:>7.3f}  "
              f"{row['msg_per_s']:>9,.0f}  {row['ratio_vs_python_engineio']:>6.2f}")
    ours = next(row for row in rows if row["client"] == "exconn EIO=4")
    met = {"rate": ours["msg_per_s"] >= TARGET_RATE, "ratio": ours["ratio_vs_python_engineio"] >= TARGET_RATIO}
    print(f"targets (exconn EIO=4): >= {TARGET_RATE:,} msg/s {'met' if met['rate'] else 'MISSED'}, "
          f">= {TARGET_RATIO:g}x python-engineio {'met' if met['ratio'] else 'MISSED'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": {name: version(name) for name in ("aiohttp", "msgspec", "python-engineio")},
        "messages": len(feed.frames),
        "repeats": args.repeats,
        "targets": {"msg_per_s": TARGET_RATE, "ratio_vs_python_engineio": TARGET_RATIO, "met": met},
        "results": rows,
    }, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
