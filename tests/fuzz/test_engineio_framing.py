"""engine.io framing and BTC-Alpha book events, fed arbitrary text.

A real aiohttp websocket server on loopback plays a scripted engine.io session (handshake,
then whatever frames hypothesis draws, then a close); the client must hand over exactly the
``42`` event frames, in order, and end only with ConnectionLost, Overflow or BadResponse.
The book feed's decoder and ``apply_event`` must turn anything else into BookInconsistent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from connectors.btcalpha.schemas import SocketMessageRaw
from core.errors import BadResponse, NetworkError
from streams.book import BookInconsistent, BookOrder, LocalBook
from streams.btcalpha import BtcAlphaBookFeed, apply_event
from streams.engineio import ConnectionLost, EngineIOConnection, Overflow
from tests.fuzz.json_strategies import DEEPLY_NESTED, JSON, encode, fuzz, shaped_like

OPEN = '0{"sid":"fuzz","upgrades":[],"pingInterval":25000,"pingTimeout":20000}'
PREFIX = '42["book_BTC_USD",'

# Text frames: engine.io packet types with arbitrary payloads, and arbitrary text.
FRAMES = st.one_of(
    st.text(max_size=40),
    st.tuples(st.sampled_from(["0", "1", "2", "3", "4", "40", "41", "42", "43", "44", "5", "6"]),
              st.text(max_size=40)).map("".join),
    JSON.map(lambda value: "42" + encode(value).decode()),
)


class ScriptedServer:
    """Plays ``script`` (text frames) to the next websocket client, then closes it."""

    def __init__(self) -> None:
        self.script: list[str] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        for frame in self.script:
            await ws.send_str(frame)
        await ws.close()
        return ws


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    scripted = ScriptedServer()
    app = web.Application()
    app.router.add_get("/socket.io/", scripted.handle)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    scripted.url = f"ws://127.0.0.1:{runner.addresses[0][1]}"
    yield scripted
    await runner.cleanup()


async def session(server: ScriptedServer, script: list[str], *, protocol: int, queue_size: int,
                  read_late: bool) -> tuple[list[str], BaseException]:
    """Connect to the server playing ``script``; the event frames received and how it ended.
    ``read_late``: read only once the server has closed (so a small queue overflows)."""
    server.script = script
    received: list[str] = []
    conn = EngineIOConnection(server.url, protocol=protocol, queue_size=queue_size, connect_timeout=2.0)
    try:
        await conn.connect()
        if read_late:
            await asyncio.wait_for(conn._tasks[0], 2.0)  # the reader ends when the server closes
        while True:
            received.append(await asyncio.wait_for(conn.recv(), 2.0))
    except Exception as exc:  # classified by the caller; hypothesis' signals are BaseExceptions
        return received, exc
    finally:
        await conn.close()


@pytest.mark.parametrize("protocol", [3, 4])
@fuzz(60)
@given(frames=st.lists(FRAMES, max_size=12), queue_size=st.integers(1, 16), read_late=st.booleans())
async def test_event_frames_come_through_in_order_and_anything_else_ends_with_a_typed_error(
        server, protocol, frames, queue_size, read_late):
    received, ended = await session(server, [OPEN, "40", *frames], protocol=protocol, queue_size=queue_size,
                                    read_late=read_late)
    assert isinstance(ended, (ConnectionLost, Overflow)), repr(ended)
    events = []  # the event frames sent before anything that ends the session
    for frame in frames:
        if frame.startswith(("1", "41", "44")):
            break
        if frame.startswith("42"):
            events.append(frame)
    assert received == events[:len(received)]  # in order, none invented, none skipped
    if isinstance(ended, Overflow):
        assert len(events) > len(received) + queue_size  # it overflowed only past a full queue
    elif received != events:
        assert len(events) >= len(received) + queue_size  # a full queue is cleared to report the end


@pytest.mark.parametrize("protocol", [3, 4])
@fuzz(60)
@given(first=st.one_of(FRAMES, st.text(max_size=40).map("0".__add__),
                       shaped_like(dict[str, Any]).map(lambda value: "0" + encode(value).decode())),
       then=st.lists(FRAMES, max_size=3))
async def test_a_bad_handshake_raises_connection_lost_or_bad_response(server, protocol, first, then):
    _, ended = await session(server, [first, *then], protocol=protocol, queue_size=8, read_late=False)
    assert isinstance(ended, (ConnectionLost, BadResponse)), repr(ended)


@pytest.mark.parametrize("interval", ["0", "-1", "-25000"])
async def test_a_handshake_asking_for_pings_without_pause_is_refused(server, interval):
    handshake = OPEN.replace('"pingInterval":25000', f'"pingInterval":{interval}')
    _, ended = await session(server, [handshake, "40"], protocol=3, queue_size=8, read_late=False)
    assert isinstance(ended, BadResponse) and "pingInterval" in str(ended)


async def test_a_handshake_nested_too_deep_is_a_bad_response(server):
    _, ended = await session(server, ['0{"sid": "x", "a": ' + "[" * 100_000], protocol=3, queue_size=8,
                             read_late=False)
    assert isinstance(ended, BadResponse)


# -- the BTC-Alpha book: decoding and applying events -----------------------------------------

BOOK_EVENT_ERRORS = (BookInconsistent, NetworkError)


def book() -> LocalBook:
    """A live book with two resting orders a side."""
    local = LocalBook("BTC/USD")
    local.reset([BookOrder(1, "buy", Decimal("900"), Decimal("1")), BookOrder(2, "buy", Decimal("899"), Decimal("2")),
                 BookOrder(3, "sell", Decimal("901"), Decimal("1")),
                 BookOrder(4, "sell", Decimal("902"), Decimal("3"))])
    local.state = "live"
    return local


def message_text(value: Any) -> str:
    return PREFIX + encode(value).decode() + "]"


BOOK_FRAMES = st.one_of(
    st.text(max_size=60),
    st.text(max_size=60).map(PREFIX.__add__),
    JSON.map(message_text),
    shaped_like(SocketMessageRaw).map(message_text),
    DEEPLY_NESTED.map(lambda nested: PREFIX + nested.decode()),
)


@fuzz(150)
@given(frames=st.lists(BOOK_FRAMES, min_size=1, max_size=6))
def test_book_frames_are_applied_or_refused_as_book_inconsistent(frames):
    feed = BtcAlphaBookFeed("BTC/USD")
    local = book()
    for frame in frames:
        try:
            event = feed._decode(frame)
            if event is not None:
                apply_event(local, event, tolerant=False)
        except BOOK_EVENT_ERRORS:
            local = book()  # the feed resyncs: a fresh snapshot


@pytest.mark.parametrize("message", [
    {"oid": 10, "type": "buy", "price": "NaN", "amount": "1", "date": 1},
    {"oid": 10, "type": "sell", "price": "905", "amount": "sNaN", "date": 1},
])
def test_a_book_event_with_a_nan_price_or_amount_is_book_inconsistent(message):
    with pytest.raises(BookInconsistent):
        apply_event(book(), BtcAlphaBookFeed("BTC/USD")._decode(message_text(message)), tolerant=False)


def test_a_book_frame_nested_too_deep_is_book_inconsistent():
    with pytest.raises(BookInconsistent):
        BtcAlphaBookFeed("BTC/USD")._decode(PREFIX + '{"unknown": ' + "[" * 5_000)


@pytest.mark.parametrize("message", [
    {"oid": 10, "type": "bid", "price": "900.5", "amount": "1", "date": 1},
    {"oid": 10, "type": "buy", "price": "900.5", "amount": "1", "date": "NaN"},
])
def test_a_live_book_event_with_an_unknown_side_or_date_is_book_inconsistent(message):
    feed = BtcAlphaBookFeed("BTC/USD")
    feed.book = book()
    feed._iterating = True  # a consumer is iterating: changes become LevelUpdates
    with pytest.raises(BookInconsistent):
        feed._apply(feed._decode(message_text(message)), tolerant=False)
