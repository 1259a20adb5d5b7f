"""BTC-Alpha's live order-book feed: socket.io over engine.io at ``GET /socket.io/``.

``EIO=3`` (socket.io v2 framing, what BTC-Alpha ran, and the default when ``EIO`` is absent)
is served by the small engine.io v3 server below, because python-engineio 4.x speaks only
``EIO=4``, which it serves for us. Websocket transport only. Every engine event is broadcast
to every connected client as the event ``book_<PAIR>`` (no subscription; a ``subscribe`` emit
is accepted and ignored), in engine seq order, never skipped: a client whose bounded queue
overflows is disconnected instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import Any

import engineio
import msgspec
from aiohttp import WSCloseCode, WSMsgType, web

from sandbox.engine import CancelEvent, OrderEvent
from sandbox.venue import Venue

__all__ = ["attach_socket", "SocketServer", "SOCKET_PATH"]

_log = logging.getLogger("exconn.sandbox.btcalpha.socket")

SOCKET_PATH = "/socket.io/"
DEFAULT_QUEUE_SIZE = 4096
# Venue socket faults are chances per second: each connection draws once per tick.
_FAULT_TICK = 1.0
_STALL_SECONDS = (1.0, 5.0)
# At shutdown a polite close (close frame / engine.io close packet) gets this long (seconds)
# before the remaining transports are cut.
_CLOSE_GRACE = 1.0
_ZERO = Decimal("0.0")
_encode = msgspec.json.Encoder().encode


def _pair(symbol: str) -> str:
    """BTC-Alpha's pair id: ``BTC/USD`` -> ``BTC_USD``."""
    return symbol.replace("/", "_")


def _number(value: Decimal) -> msgspec.Raw:
    """A Decimal as a JSON number in plain notation, never through float."""
    return msgspec.Raw(format(value, "f").encode())


def _book_event_args(event: OrderEvent | CancelEvent) -> str:
    """The socket.io event ``["book_<PAIR>", {message}]`` of one engine event, as JSON text."""
    order = event.order
    message: dict[str, Any] = {
        "success": True,
        "date": time.time_ns() // 1_000 / 1_000_000,  # epoch seconds with microseconds
        "oid": order.id,
        "type": order.side,
    }
    if isinstance(event, CancelEvent):
        message |= {
            "price": _number(order.price),  # type: ignore[arg-type]  # only limit orders rest
            "amount": _number(order.remaining),
            "pair": _pair(order.symbol),
            "cancelled": True,
            "cancel_order_id": order.id,
        }
    else:
        maker_side = "sell" if order.side == "buy" else "buy"
        message |= {
            # BTC-Alpha has limit orders only; a market order put on the engine directly
            # reports its average fill price.
            "price": _number(order.price or order.average or _ZERO),
            "amount": _number(order.remaining if order.status == "open" else _ZERO),
            "trades": [
                {
                    "tid": fill.id,
                    "type": maker_side,
                    "price": format(fill.price, "f"),
                    "amount": format(fill.amount, "f"),
                    "o_id": fill.maker_order_id,
                }
                for fill in event.fills
            ],
        }
    return _encode([f"book_{_pair(order.symbol)}", message]).decode()


async def _send_each(ws: web.WebSocketResponse, frames: Sequence[str]) -> None:
    """Frames to an engine.io v3 client, one websocket message each."""
    for frame in frames:
        await ws.send_str(frame)


def _engineio_error(code: int, message: str) -> web.Response:
    """engine.io's own handshake error: HTTP 400 with ``{"code": …, "message": …}``."""
    return web.Response(body=_encode({"code": code, "message": message}), status=400, content_type="application/json")


class _Client:
    """One socket.io connection: its bounded outgoing queue, writer task, stall and fault timer."""

    __slots__ = ("protocol", "request", "send", "close", "queue", "writer", "stalled_until", "fault_timer")

    def __init__(
        self,
        protocol: int,
        request: web.Request,
        send: Callable[[Sequence[str]], Awaitable[None]],
        close: Callable[[], Awaitable[object]],
        queue_size: int,
    ) -> None:
        self.protocol = protocol  # engine.io version, 3 or 4
        self.request = request
        self.send = send  # frames to the client in order, as its transport frames them
        self.close = close  # a polite close, used at shutdown
        self.queue: asyncio.Queue[str] = asyncio.Queue(queue_size)
        self.writer: asyncio.Task[None] | None = None
        self.stalled_until = 0.0  # loop time
        self.fault_timer: asyncio.TimerHandle | None = None

    def cut(self) -> None:
        """Cut the TCP connection at once, without a closing handshake."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()


class _EngineIO(engineio.AsyncServer):  # type: ignore[misc]
    """python-engineio's server, keeping its background tasks (ping timers) so shutdown ends them."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.background_tasks: set[asyncio.Task[Any]] = set()

    def start_background_task(
        self, target: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = super().start_background_task(target, *args, **kwargs)
        self.background_tasks.add(task)
        task.add_done_callback(self.background_tasks.discard)
        return task


class SocketServer:
    """The ``/socket.io/`` endpoint of one venue (also ``venue.socket_control``); intervals in seconds."""

    __slots__ = ("_venue", "_ping_interval", "_ping_timeout", "_queue_size", "_clients", "_eio4_clients",
                 "_tasks", "_sent", "_eio")

    def __init__(self, venue: Venue, *, ping_interval: float, ping_timeout: float, queue_size: int) -> None:
        self._venue = venue
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._queue_size = queue_size
        self._clients: set[_Client] = set()  # receiving events
        self._eio4_clients: dict[str, _Client] = {}  # by engine.io sid, from open to close
        self._tasks: set[asyncio.Task[None]] = set()  # writers
        self._sent = 0
        self._eio = _EngineIO(
            async_mode="aiohttp",
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            cors_allowed_origins="*",
            transports=["websocket"],
            async_handlers=False,
        )
        self._eio.on("connect", self._eio4_opened)
        self._eio.on("message", self._eio4_message)
        self._eio.on("disconnect", self._eio4_closed)

    @property
    def clients(self) -> int:
        """Connected clients receiving events."""
        return len(self._clients)

    @property
    def sent(self) -> int:
        """Events sent so far, summed over clients."""
        return self._sent

    def drop_all(self) -> None:
        """Cut every connection at once, as a network failure would."""
        for client in self._connections():
            self._drop(client)

    def stall_all(self, seconds: float) -> None:
        """Hold events back from every current client for ``seconds``; heartbeats still answered."""
        for client in self._clients:
            self._stall(client, seconds)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """``GET /socket.io/?EIO=3|4&transport=websocket``: an engine.io session over a websocket."""
        if request.query.get("transport") != "websocket":
            return _engineio_error(0, "Transport unknown: only transport=websocket is served, no HTTP long-polling")
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return _engineio_error(3, "Bad request: transport=websocket needs a websocket upgrade")
        version = request.query.get("EIO", "3")
        if version == "4":
            response: web.StreamResponse = await self._eio.handle_request(request)
            return response
        if version != "3":
            return _engineio_error(5, "Unsupported protocol version: EIO=3 or EIO=4")
        if "sid" in request.query:
            return _engineio_error(1, "Session ID unknown")
        return await self._serve_eio3(request)

    # -- lifecycle --------------------------------------------------------------------------

    async def subscription(self, app: web.Application) -> AsyncIterator[None]:
        """aiohttp cleanup context: receive the engine's events while the app runs."""
        unsubscribe = self._venue.engine.subscribe(self._broadcast)
        yield
        unsubscribe()

    async def close_all(self, app: web.Application) -> None:
        """aiohttp on_shutdown: close every connection (politely, then cut) and end every task."""
        clients = self._connections()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_CLOSE_GRACE):
                await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)
        for client in clients:
            self._drop(client)
        await self._eio.shutdown()
        tasks = self._tasks | self._eio.background_tasks
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- engine.io v3, our own --------------------------------------------------------------

    async def _serve_eio3(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        client = _Client(
            3, request, partial(_send_each, ws), partial(ws.close, code=WSCloseCode.GOING_AWAY), self._queue_size
        )
        opening = _encode({
            "sid": secrets.token_urlsafe(15),
            "upgrades": [],
            "pingInterval": round(self._ping_interval * 1000),
            "pingTimeout": round(self._ping_timeout * 1000),
        }).decode()
        try:
            with contextlib.suppress(ConnectionError):
                await self._open(client, ("0" + opening, "40"))
                await self._read_eio3(ws)
        finally:
            self._forget(client)
            await ws.close()
        return ws

    async def _read_eio3(self, ws: web.WebSocketResponse) -> None:
        """Answer the client's pings until it leaves, closes, or is silent too long."""
        silence_limit = self._ping_interval + self._ping_timeout
        while True:
            try:
                message = await ws.receive(timeout=silence_limit)
            except TimeoutError:
                return
            if message.type is WSMsgType.BINARY:
                continue
            if message.type is not WSMsgType.TEXT:
                return
            packet: str = message.data
            if packet.startswith("2"):
                await ws.send_str("3" + packet[1:])
            elif packet in ("1", "41"):
                return

    # -- engine.io v4, python-engineio ------------------------------------------------------

    def _eio4_opened(self, sid: str, environ: dict[str, Any]) -> None:
        self._eio4_clients[sid] = _Client(
            4, environ["aiohttp.request"], partial(self._eio4_send, sid), partial(self._eio4_close, sid),
            self._queue_size,
        )

    async def _eio4_message(self, sid: str, data: str | bytes) -> None:
        client = self._eio4_clients.get(sid)
        if client is None or not isinstance(data, str):
            return
        if (data == "0" or data.startswith("0{")) and client not in self._clients:
            await self._open(client, ("0" + _encode({"sid": secrets.token_urlsafe(15)}).decode(),))
        elif data == "1":
            await self._eio.disconnect(sid)

    def _eio4_closed(self, sid: str, reason: object) -> None:
        client = self._eio4_clients.pop(sid, None)
        if client is not None:
            self._forget(client)

    async def _eio4_send(self, sid: str, packets: Sequence[str]) -> None:
        for packet in packets:
            await self._eio.send(sid, packet)
        socket = self._eio.sockets.get(sid)
        if socket is not None:
            # python-engineio's own queue is unbounded: wait until its writer has taken the
            # packets, so that a slow client backs up into our bounded queue.
            await socket.queue.join()

    async def _eio4_close(self, sid: str) -> None:
        client = self._eio4_clients.get(sid)
        transport = client.request.transport if client is not None else None
        # A connection already closing is being wound up by python-engineio, whose close
        # packet would then wait for a writer that has already stopped.
        if transport is None or transport.is_closing():
            return
        await self._eio.disconnect(sid)
        transport.close()  # flushes engine.io's close packet first

    # -- events -----------------------------------------------------------------------------

    async def _open(self, client: _Client, handshake: Sequence[str]) -> None:
        """Admit ``client`` (events queue up from now on), send the handshake, then the events."""
        self._clients.add(client)
        client.fault_timer = asyncio.get_running_loop().call_later(_FAULT_TICK, self._draw_faults, client)
        await client.send(handshake)
        if client in self._clients:
            client.writer = asyncio.create_task(self._write(client), name="btcalpha-socket-writer")
            self._tasks.add(client.writer)
            client.writer.add_done_callback(self._tasks.discard)

    def _broadcast(self, event: OrderEvent | CancelEvent) -> None:
        """Engine subscriber: queue the event, encoded once, for every client."""
        if not self._clients:
            return
        args = _book_event_args(event)
        frames = {3: "42" + args, 4: "2" + args}  # engine.io v4 adds its own "4"
        for client in tuple(self._clients):
            try:
                client.queue.put_nowait(frames[client.protocol])
            except asyncio.QueueFull:
                _log.warning("btcalpha socket client %d events behind: disconnected", client.queue.qsize())
                self._drop(client)

    async def _write(self, client: _Client) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                frames = [await client.queue.get()]
                while not client.queue.empty():
                    frames.append(client.queue.get_nowait())
                while (pause := client.stalled_until - loop.time()) > 0:
                    await asyncio.sleep(pause)
                await client.send(frames)
                self._sent += len(frames)
        except ConnectionError:
            self._drop(client)

    # -- faults -----------------------------------------------------------------------------

    def _draw_faults(self, client: _Client) -> None:
        faults, rng = self._venue.faults, self._venue.rng
        if faults.drop_socket and rng.random() < faults.drop_socket:
            self._drop(client)
            return
        if faults.stall_socket and rng.random() < faults.stall_socket:
            self._stall(client, rng.uniform(*_STALL_SECONDS))
        client.fault_timer = asyncio.get_running_loop().call_later(_FAULT_TICK, self._draw_faults, client)

    def _stall(self, client: _Client, seconds: float) -> None:
        until = asyncio.get_running_loop().time() + seconds
        client.stalled_until = max(client.stalled_until, until)

    def _drop(self, client: _Client) -> None:
        self._forget(client)
        client.cut()

    def _forget(self, client: _Client) -> None:
        """Stop sending events to ``client``; its connection is closing or closed."""
        self._clients.discard(client)
        if client.fault_timer is not None:
            client.fault_timer.cancel()
        if client.writer is not None:
            client.writer.cancel()

    def _connections(self) -> set[_Client]:
        return self._clients | set(self._eio4_clients.values())


def attach_socket(
    app: web.Application,
    venue: Venue,
    *,
    ping_interval: float = 25.0,
    ping_timeout: float = 20.0,
    queue_size: int = DEFAULT_QUEUE_SIZE,
) -> SocketServer:
    """Serve ``venue``'s book feed at ``GET /socket.io/`` of ``app``; intervals in seconds,
    ``queue_size`` in events a client may fall behind before it is disconnected."""
    server = SocketServer(venue, ping_interval=ping_interval, ping_timeout=ping_timeout, queue_size=queue_size)
    app.router.add_get(SOCKET_PATH, server.handle)
    app.cleanup_ctx.append(server.subscription)
    app.on_shutdown.append(server.close_all)
    venue.socket_control = server
    return server
