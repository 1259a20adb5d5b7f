"""BTC-Alpha's order-book socket in the sandbox, spoken to by hand over plain aiohttp websockets."""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal as D
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from sandbox.engine import CancelEvent, Engine, MarketSpec, OrderEvent
from sandbox.exchanges.btcalpha_socket import SocketServer, attach_socket
from sandbox.market_maker import MarketMaker
from sandbox.venue import DEMO_ACCOUNT, MAKER_ACCOUNT, Venue

BTC_USD = MarketSpec(
    symbol="BTC/USD", base="BTC", quote="USD", price_precision=2, amount_precision=6,
    min_amount=D("0.0001"), max_amount=D("1000"), min_price=D("0.01"), max_price=D("10000000"),
)
ETH_BTC = MarketSpec(
    symbol="ETH/BTC", base="ETH", quote="BTC", price_precision=6, amount_precision=4,
    min_amount=D("0.001"), max_amount=D("10000"), min_price=D("0.000001"), max_price=D("10"),
)
MIDS = {"BTC/USD": D("30000.00"), "ETH/BTC": D("0.065000")}
PAIRS = {"BTC/USD": "BTC_USD", "ETH/BTC": "ETH_BTC"}

Book = dict[int, tuple[str, D, D]]  # order id -> (side, price, remaining)


def make_venue() -> Venue:
    venue = Venue("btcalpha", Engine(), random.Random("btcalpha-socket-test"))
    for spec in (BTC_USD, ETH_BTC):
        venue.engine.add_market(spec)
    for account in (DEMO_ACCOUNT, MAKER_ACCOUNT):
        venue.add_key(account)
        venue.fund(account, {currency: D(1_000_000) for currency in ("BTC", "ETH", "USD")})
    return venue


Serve = Callable[..., Awaitable[tuple[Venue, SocketServer, TestServer]]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """``venue, socket, server = await serve(**attach_socket_options)``: an app with only the socket."""
    servers: list[TestServer] = []

    async def start(venue: Venue | None = None, **options: Any) -> tuple[Venue, SocketServer, TestServer]:
        venue = venue or make_venue()
        app = web.Application()
        socket = attach_socket(app, venue, **options)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return venue, socket, server

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def socket_url(server: TestServer, eio: str, transport: str = "websocket") -> str:
    return str(server.make_url("/socket.io/").with_query(EIO=eio, transport=transport))


async def receive_text(ws: aiohttp.ClientWebSocketResponse, timeout: float = 3.0) -> str:
    message = await ws.receive(timeout=timeout)
    assert message.type is WSMsgType.TEXT, message
    return message.data


async def connect_eio3(session: aiohttp.ClientSession, server: TestServer) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(socket_url(server, "3"))
    assert (await receive_text(ws)).startswith("0{")
    assert await receive_text(ws) == "40"
    return ws


async def connect_eio4(session: aiohttp.ClientSession, server: TestServer) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(socket_url(server, "4"))
    assert (await receive_text(ws)).startswith("0{")
    await ws.send_str("40")
    assert (await receive_text(ws)).startswith("40{")
    return ws


CONNECT = {"3": connect_eio3, "4": connect_eio4}


async def receive_book_events(ws: aiohttp.ClientWebSocketResponse, count: int) -> list[tuple[str, dict[str, Any]]]:
    """The next ``count`` socket.io events (``42[name, message]``), numbers as Decimal."""
    events = []
    while len(events) < count:
        text = await receive_text(ws)
        assert text.startswith("42["), text
        name, message = json.loads(text[2:], parse_float=D)
        events.append((name, message))
    return events


async def wait_closed(ws: aiohttp.ClientWebSocketResponse, timeout: float = 3.0) -> aiohttp.WSMessage:
    """Read until the connection ends; the first non-text message."""
    while True:
        message = await ws.receive(timeout=timeout)
        if message.type is not WSMsgType.TEXT:
            return message


async def eventually(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def without_date(text: str) -> str:
    return re.sub(r'"date":\d+\.\d+', '"date":DATE', text)


# -- engine.io v3 (socket.io v2), served by our own code ---------------------------------------


async def test_eio3_handshake_is_open_packet_with_intervals_then_namespace_connect(serve: Serve, session) -> None:
    _, _, server = await serve()
    ws = await session.ws_connect(socket_url(server, "3"))
    opening = await receive_text(ws)
    sid = json.loads(opening[1:])["sid"]
    assert opening == '0{"sid":"%s","upgrades":[],"pingInterval":25000,"pingTimeout":20000}' % sid
    assert await receive_text(ws) == "40"


async def test_eio_defaults_to_3_when_absent(serve: Serve, session) -> None:
    _, _, server = await serve(ping_interval=0.5, ping_timeout=0.25)
    ws = await session.ws_connect(str(server.make_url("/socket.io/").with_query(transport="websocket")))
    assert json.loads((await receive_text(ws))[1:])["pingInterval"] == 500
    assert await receive_text(ws) == "40"


async def test_eio3_client_ping_is_answered_with_pong_echoing_payload(serve: Serve, session) -> None:
    _, _, server = await serve()
    ws = await connect_eio3(session, server)
    await ws.send_str("2")
    assert await receive_text(ws) == "3"
    await ws.send_str("2probe")
    assert await receive_text(ws) == "3probe"


async def test_eio3_client_silent_past_ping_interval_plus_timeout_is_dropped(serve: Serve, session) -> None:
    _, socket, server = await serve(ping_interval=0.2, ping_timeout=0.2)
    ws = await connect_eio3(session, server)
    started = time.monotonic()
    assert socket.clients == 1
    message = await wait_closed(ws)
    assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    assert time.monotonic() - started >= 0.35
    await eventually(lambda: socket.clients == 0)


async def test_eio3_client_that_keeps_pinging_stays_connected(serve: Serve, session) -> None:
    _, socket, server = await serve(ping_interval=0.2, ping_timeout=0.2)
    ws = await connect_eio3(session, server)
    for _ in range(8):  # 0.8 s, twice the silence limit
        await asyncio.sleep(0.1)
        await ws.send_str("2")
        assert await receive_text(ws) == "3"
    assert socket.clients == 1


async def test_eio3_client_disconnect_packet_ends_the_session(serve: Serve, session) -> None:
    _, socket, server = await serve()
    ws = await connect_eio3(session, server)
    await ws.send_str("41")
    assert (await wait_closed(ws)).type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    await eventually(lambda: socket.clients == 0)


@pytest.mark.parametrize("eio", ["3", "4"])
async def test_long_polling_is_refused_with_400_and_engineio_error_body(serve: Serve, session, eio: str) -> None:
    _, _, server = await serve()
    async with session.get(socket_url(server, eio, transport="polling")) as response:
        assert response.status == 400
        body = await response.json()
    assert body["code"] == 0
    assert "transport=websocket" in body["message"]


async def test_unknown_engineio_version_is_refused_with_400(serve: Serve, session) -> None:
    _, _, server = await serve()
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await session.ws_connect(socket_url(server, "5"))
    assert refused.value.status == 400


# -- engine.io v4 (socket.io v5), served by python-engineio -----------------------------------


async def test_eio4_handshake_namespace_connect_and_server_heartbeat(serve: Serve, session) -> None:
    _, socket, server = await serve(ping_interval=0.3, ping_timeout=0.3)
    ws = await session.ws_connect(socket_url(server, "4"))
    opening = json.loads((await receive_text(ws))[1:])
    assert opening["sid"] and opening["upgrades"] == [] and opening["pingTimeout"] == 300
    await ws.send_str("40")
    connected = await receive_text(ws)
    assert connected.startswith("40{")
    assert json.loads(connected[2:])["sid"]
    assert socket.clients == 1
    for _ in range(3):  # 0.9 s, past ping interval + timeout: answering keeps it open
        assert await receive_text(ws) == "2"
        await ws.send_str("3")
    assert socket.clients == 1


async def test_eio4_events_are_socketio_v5_event_frames(serve: Serve, session) -> None:
    venue, _, server = await serve()
    ws = await connect_eio4(session, server)
    venue.engine.place_order(MAKER_ACCOUNT, "BTC/USD", "sell", D("0.5"), D("30010.00"))
    [(name, message)] = await receive_book_events(ws, 1)
    assert name == "book_BTC_USD"
    assert message["amount"] == D("0.5")


# -- messages ---------------------------------------------------------------------------------


async def test_crossing_order_frame_is_the_documented_new_order_message(serve: Serve, session) -> None:
    venue, _, server = await serve()
    engine = venue.engine
    ws = await connect_eio3(session, server)
    first = engine.place_order(MAKER_ACCOUNT, "BTC/USD", "sell", D("0.5"), D("936.00")).order.id
    second = engine.place_order(MAKER_ACCOUNT, "BTC/USD", "sell", D("0.3"), D("936.20")).order.id
    taker = engine.place_order(DEMO_ACCOUNT, "BTC/USD", "buy", D("1.0"), D("936.50"))
    frames = [await receive_text(ws) for _ in range(3)]
    tids = [fill.id for fill in taker.fills]
    assert without_date(frames[2]) == (
        '42["book_BTC_USD",{"success":true,"date":DATE,"oid":%d,"type":"buy","price":936.50,"amount":0.2,'
        '"trades":[{"tid":%d,"type":"sell","price":"936.00","amount":"0.5","o_id":%d},'
        '{"tid":%d,"type":"sell","price":"936.20","amount":"0.3","o_id":%d}]}]'
        % (taker.order.id, tids[0], first, tids[1], second)
    )
    assert without_date(frames[0]) == (
        '42["book_BTC_USD",{"success":true,"date":DATE,"oid":%d,"type":"sell","price":936.00,"amount":0.5,'
        '"trades":[]}]' % first
    )
    date = json.loads(frames[2][2:])[1]["date"]
    assert isinstance(date, float) and abs(date - time.time()) < 5


async def test_fully_filled_order_reports_amount_zero(serve: Serve, session) -> None:
    venue, _, server = await serve()
    ws = await connect_eio3(session, server)
    venue.engine.place_order(MAKER_ACCOUNT, "ETH/BTC", "buy", D("2.5"), D("0.065100"))
    venue.engine.place_order(DEMO_ACCOUNT, "ETH/BTC", "sell", D("1.25"), D("0.065000"))
    _, (name, message) = await receive_book_events(ws, 2)
    assert name == "book_ETH_BTC"
    assert message["amount"] == 0 and message["type"] == "sell"
    assert message["trades"][0]["type"] == "buy" and message["trades"][0]["price"] == "0.065100"


async def test_cancel_frame_carries_pair_cancelled_and_cancel_order_id(serve: Serve, session) -> None:
    venue, _, server = await serve()
    ws = await connect_eio3(session, server)
    order = venue.engine.place_order(DEMO_ACCOUNT, "BTC/USD", "buy", D("0.75"), D("29000.50")).order
    venue.engine.place_order(MAKER_ACCOUNT, "BTC/USD", "sell", D("0.25"), D("29000.00"))
    venue.engine.cancel_order(DEMO_ACCOUNT, order.id)
    frames = [await receive_text(ws) for _ in range(3)]
    assert without_date(frames[2]) == (
        '42["book_BTC_USD",{"success":true,"date":DATE,"oid":%d,"type":"buy","price":29000.50,"amount":0.50,'
        '"pair":"BTC_USD","cancelled":true,"cancel_order_id":%d}]' % (order.id, order.id)
    )


async def test_subscribe_emit_is_accepted_and_every_pair_is_still_broadcast(serve: Serve, session) -> None:
    venue, _, server = await serve()
    ws = await connect_eio3(session, server)
    await ws.send_str('42["subscribe","book_BTC_USD"]')
    venue.engine.place_order(MAKER_ACCOUNT, "ETH/BTC", "sell", D("1"), D("0.070000"))
    venue.engine.place_order(MAKER_ACCOUNT, "BTC/USD", "sell", D("1"), D("31000.00"))
    names = [name for name, _ in await receive_book_events(ws, 2)]
    assert names == ["book_ETH_BTC", "book_BTC_USD"]


def order_level_snapshot(venue: Venue, symbol: str) -> Book:
    bids, asks = venue.engine.book(symbol)
    return {order.id: (order.side, order.price, order.remaining) for order in bids + asks}  # type: ignore[misc]


def apply(book: Book, message: dict[str, Any]) -> None:
    if message.get("cancelled"):
        side, price, remaining = book.pop(message["cancel_order_id"])
        assert (side, price, remaining) == (message["type"], message["price"], message["amount"])
        return
    for trade in message["trades"]:
        side, price, remaining = book[trade["o_id"]]
        assert side == trade["type"] and price == D(trade["price"])
        left = remaining - D(trade["amount"])
        if left:
            book[trade["o_id"]] = (side, price, left)
        else:
            del book[trade["o_id"]]
    if message["amount"]:
        book[message["oid"]] = (message["type"], message["price"], message["amount"])


def priority_order(book: Book) -> tuple[list[tuple[int, D, D]], list[tuple[int, D, D]]]:
    bids = sorted((-price, oid, price, left) for oid, (side, price, left) in book.items() if side == "buy")
    asks = sorted((price, oid, price, left) for oid, (side, price, left) in book.items() if side == "sell")
    return [(oid, price, left) for _, oid, price, left in bids], [(oid, price, left) for _, oid, price, left in asks]


@pytest.mark.parametrize("eio", ["3", "4"])
async def test_500_events_arrive_in_seq_order_and_replay_onto_snapshot_gives_engine_book(
    serve: Serve, session, eio: str
) -> None:
    venue = make_venue()
    maker = MarketMaker(venue, MIDS, seed=7)
    maker.seed_books()
    _, socket, server = await serve(venue)
    ws = await CONNECT[eio](session, server)
    books = {symbol: order_level_snapshot(venue, symbol) for symbol in PAIRS}
    emitted: list[OrderEvent | CancelEvent] = []
    venue.engine.subscribe(emitted.append)
    while len(emitted) < 500:
        maker.step()

    received = await receive_book_events(ws, 500)

    assert [(name, m["oid"], bool(m.get("cancelled"))) for name, m in received] == [
        (f"book_{PAIRS[e.order.symbol]}", e.order.id, isinstance(e, CancelEvent)) for e in emitted
    ]
    assert any(m.get("trades") for _, m in received) and any(m.get("cancelled") for _, m in received)
    for name, message in received:
        apply(books[next(s for s, p in PAIRS.items() if name == f"book_{p}")], message)
    for symbol in PAIRS:
        bids, asks = venue.engine.book(symbol)
        assert priority_order(books[symbol]) == (
            [(o.id, o.price, o.remaining) for o in bids], [(o.id, o.price, o.remaining) for o in asks]
        )
    assert socket.sent == 500


# -- control and faults -----------------------------------------------------------------------


async def test_socket_server_is_the_venue_socket_control(serve: Serve) -> None:
    venue, socket, _ = await serve()
    assert venue.socket_control is socket


async def test_drop_all_cuts_every_client(serve: Serve, session) -> None:
    _, socket, server = await serve()
    clients = [await connect_eio3(session, server), await connect_eio4(session, server)]
    assert socket.clients == 2
    socket.drop_all()
    assert socket.clients == 0
    for ws in clients:
        assert (await wait_closed(ws)).type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR)


async def test_stall_all_holds_events_then_delivers_them_while_pings_are_answered(serve: Serve, session) -> None:
    venue, socket, server = await serve()
    ws = await connect_eio3(session, server)
    stalled_at = time.monotonic()
    socket.stall_all(0.6)
    venue.engine.place_order(MAKER_ACCOUNT, "BTC/USD", "sell", D("0.5"), D("30010.00"))
    venue.engine.place_order(MAKER_ACCOUNT, "BTC/USD", "sell", D("0.7"), D("30020.00"))
    await ws.send_str("2")
    assert await receive_text(ws, timeout=0.3) == "3"
    assert socket.sent == 0
    received = await receive_book_events(ws, 2)
    assert time.monotonic() - stalled_at >= 0.55
    assert [m["amount"] for _, m in received] == [D("0.5"), D("0.7")]
    assert socket.sent == 2


@pytest.mark.parametrize("eio", ["3", "4"])
async def test_client_falling_behind_its_queue_is_disconnected_not_skipped(serve: Serve, session, eio: str) -> None:
    venue, socket, server = await serve(queue_size=3)
    ws = await CONNECT[eio](session, server)
    socket.stall_all(5)
    for step in range(4):
        venue.engine.place_order(MAKER_ACCOUNT, "BTC/USD", "sell", D("0.1"), D(30100 + step))
    assert socket.clients == 0
    assert (await wait_closed(ws)).type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR)
    assert socket.sent == 0


async def test_drop_socket_fault_cuts_connections_on_the_next_tick(serve: Serve, session) -> None:
    venue, socket, server = await serve()
    ws = await connect_eio3(session, server)
    with venue.inject(drop_socket=1.0):
        assert (await wait_closed(ws)).type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR)
    assert socket.clients == 0


async def test_app_cleanup_closes_every_websocket_and_leaves_no_tasks(session) -> None:
    before = asyncio.all_tasks()
    venue = make_venue()
    app = web.Application()
    socket = attach_socket(app, venue, ping_interval=0.5, ping_timeout=0.5)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    clients = [await connect_eio3(session, server), await connect_eio4(session, server)]
    venue.engine.place_order(MAKER_ACCOUNT, "BTC/USD", "sell", D("0.5"), D("30010.00"))
    readers = [asyncio.create_task(wait_closed(ws)) for ws in clients]

    started = time.monotonic()
    await server.close()

    assert time.monotonic() - started < 1.0
    assert all(message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED) for message in await asyncio.gather(*readers))
    assert socket.clients == 0
    venue.engine.place_order(MAKER_ACCOUNT, "BTC/USD", "sell", D("0.5"), D("30020.00"))  # nobody subscribed
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()
