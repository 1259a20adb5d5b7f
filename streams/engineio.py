"""A small websocket-only engine.io client on aiohttp, with socket.io event framing.

Speaks engine.io protocol 3 (socket.io 1.x/2.x servers such as BTC-Alpha's: the *client*
pings every ``pingInterval``) and protocol 4 (socket.io 3+: the *server* pings and the
client answers). No maintained Python client speaks protocol 3, hence this module.

Frames, as text over the websocket: ``0{open json}``, ``2``/``3`` ping/pong, ``40`` namespace
connect, ``42["event",payload]`` an event, ``41`` disconnect, ``1`` close.

Events are delivered in arrival order as raw frame text (``42[...]``), so the consumer can
hand it straight to a typed msgspec decoder. The receive queue is bounded; when it
overflows the connection is marked :class:`Overflow` and the consumer must resync — no
event is ever dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import aiohttp
import msgspec

from core.errors import BadResponse, NetworkError
from core.logging import get_logger

__all__ = ["EngineIOConnection", "ConnectionLost", "Overflow", "event_name"]

_log = get_logger("engineio")


class ConnectionLost(NetworkError):
    """The socket closed, or the heartbeat showed it dead."""


class Overflow(NetworkError):
    """The consumer fell behind and the bounded queue filled: events were not kept, resync."""


class _Open(msgspec.Struct):
    """The handshake; times in ms. A pause of zero or less would make the client ping (EIO=3)
    or declare the session dead (EIO=4) without pause, so the decoder refuses it."""

    sid: str
    pingInterval: Annotated[int, msgspec.Meta(gt=0)] = 25000
    pingTimeout: Annotated[int, msgspec.Meta(gt=0)] = 20000
    upgrades: list[str] = []


_OPEN = msgspec.json.Decoder(_Open)
_CLOSED = object()


def event_name(frame: str) -> str:
    """The event name of a ``42["name",…]`` frame (cheap: no JSON parse of the payload)."""
    end = frame.find('"', 4)
    return frame[4:end] if frame.startswith('42["') and end > 0 else ""


class EngineIOConnection:
    """One engine.io session. ``async with EngineIOConnection(url) as conn: async for frame in conn``.

    ``url`` is the server's base (``ws://host:port`` or ``http(s)://…``); ``protocol`` 3 or 4;
    ``queue_size`` bounds the frames held for a slow consumer (then :class:`Overflow`)."""

    __slots__ = (
        "url", "protocol", "path", "queue_size", "connect_timeout", "_session", "_owns_session", "_ws",
        "_queue", "_tasks", "sid", "ping_interval", "ping_timeout", "_pong_due", "_error", "_closed",
        "_loop", "last_frame_at", "frames",
    )

    def __init__(
        self,
        url: str,
        *,
        protocol: int = 3,
        path: str = "/socket.io/",
        queue_size: int = 10_000,
        connect_timeout: float = 10.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if protocol not in (3, 4):
            raise ValueError(f"engine.io protocol must be 3 or 4, got {protocol!r}")
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.url = url.rstrip("/")
        self.protocol = protocol
        self.path = path
        self.queue_size = queue_size
        self.connect_timeout = connect_timeout
        self._session = session
        self._owns_session = session is None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._queue: asyncio.Queue[Any] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.sid = ""
        self.ping_interval = 25.0
        self.ping_timeout = 20.0
        self._pong_due: asyncio.TimerHandle | None = None
        self._error: BaseException | None = None
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.last_frame_at = 0.0  # loop time of the last frame of any kind
        self.frames = 0  # event frames received

    @property
    def endpoint(self) -> str:
        base = self.url
        if base.startswith("http"):
            base = "ws" + base[4:]
        return f"{base}{self.path}?EIO={self.protocol}&transport=websocket"

    async def __aenter__(self) -> EngineIOConnection:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Open the websocket, read the handshake, join the default namespace."""
        self._loop = asyncio.get_running_loop()
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            self._ws = await self._session.ws_connect(
                self.endpoint, timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0),
                autoping=True, max_msg_size=0, heartbeat=None,
            )
            await asyncio.wait_for(self._handshake(), self.connect_timeout)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            await self.close()
            raise ConnectionLost(f"cannot open {self.endpoint}: {exc!r}") from exc
        except BaseException:
            await self.close()
            raise
        self._queue = asyncio.Queue(self.queue_size)
        self._tasks.append(asyncio.create_task(self._read(), name=f"eio-read-{self.sid}"))
        if self.protocol == 3:
            self._tasks.append(asyncio.create_task(self._ping(), name=f"eio-ping-{self.sid}"))
        else:
            self._arm(self.ping_interval + self.ping_timeout)

    async def _handshake(self) -> None:
        assert self._ws is not None
        frame = await self._next_text()
        if not frame.startswith("0"):
            raise BadResponse(f"expected an engine.io open packet, got {frame[:60]!r}")
        try:
            opened = _OPEN.decode(frame[1:])
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:  # RecursionError: nested too deep
            raise BadResponse(f"bad engine.io open packet {frame[:80]!r}: {exc}") from None
        self.sid = opened.sid
        self.ping_interval = opened.pingInterval / 1000.0
        self.ping_timeout = opened.pingTimeout / 1000.0
        if self.protocol == 4:
            await self._ws.send_str("40")
        while True:  # socket.io namespace connect: '40' (v2) or '40{"sid":…}' (v5)
            frame = await self._next_text()
            if frame.startswith("40"):
                return
            if frame.startswith("44"):
                raise ConnectionLost(f"namespace refused: {frame[2:200]}")
            if frame == "2" and self.protocol == 4:
                await self._ws.send_str("3")

    async def _next_text(self) -> str:
        assert self._ws is not None
        msg = await self._ws.receive()
        if msg.type is not aiohttp.WSMsgType.TEXT:
            raise ConnectionLost(f"socket closed during handshake ({msg.type.name})")
        return msg.data

    async def _read(self) -> None:
        ws = self._ws
        queue = self._queue
        assert ws is not None and queue is not None and self._loop is not None
        loop = self._loop
        protocol = self.protocol
        try:
            while True:
                msg = await ws.receive()
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    if msg.type is aiohttp.WSMsgType.BINARY:
                        continue
                    raise ConnectionLost(f"socket closed ({msg.type.name}, code {ws.close_code})")
                frame: str = msg.data
                self.last_frame_at = loop.time()
                kind = frame[:1]
                if kind == "4":
                    if frame.startswith("42"):
                        self.frames += 1
                        if queue.full():
                            raise Overflow(f"{self.queue_size} frames unread: the consumer fell behind")
                        queue.put_nowait(frame)
                    elif frame.startswith("41"):
                        raise ConnectionLost("server disconnected the namespace")
                    elif frame.startswith("44"):
                        raise ConnectionLost(f"server error: {frame[2:200]}")
                elif kind == "3" and protocol == 3:
                    if self._pong_due is not None:
                        self._pong_due.cancel()
                        self._pong_due = None
                elif kind == "2" and protocol == 4:
                    await ws.send_str("3" + frame[1:])
                    self._arm(self.ping_interval + self.ping_timeout)
                elif kind == "1":
                    raise ConnectionLost("server closed the engine.io session")
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._fail(exc if isinstance(exc, NetworkError) else ConnectionLost(repr(exc)))

    async def _ping(self) -> None:
        """EIO=3: ping every pingInterval; no pong within pingTimeout means the server is gone."""
        assert self._ws is not None
        try:
            while True:
                await asyncio.sleep(self.ping_interval)
                await self._ws.send_str("2")
                if self._pong_due is None:
                    self._arm(self.ping_timeout)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._fail(ConnectionLost(f"ping failed: {exc!r}"))

    def _arm(self, seconds: float) -> None:
        assert self._loop is not None
        if self._pong_due is not None:
            self._pong_due.cancel()
        self._pong_due = self._loop.call_later(
            seconds, self._fail, ConnectionLost(f"no heartbeat for {seconds:g} s: connection is dead"))

    def _fail(self, error: BaseException) -> None:
        if self._error is None and not self._closed:
            self._error = error
            if _log.isEnabledFor(logging.INFO):
                _log.info("engineio.lost", sid=self.sid, error=str(error))
            self._end_queue(drop_unread=isinstance(error, Overflow))
            for task in self._tasks:
                if task is not asyncio.current_task():
                    task.cancel()

    def _end_queue(self, *, drop_unread: bool) -> None:
        """Queue the end of the session behind the unread frames, so every recv() after them
        raises; when there is no room for it (or ``drop_unread``) the unread frames go: the
        consumer resyncs after an end anyway."""
        queue = self._queue
        if queue is None:
            return
        if drop_unread or queue.full():
            while not queue.empty():
                queue.get_nowait()
        queue.put_nowait(_CLOSED)

    async def emit(self, event: str, data: Any = None) -> None:
        """Send a socket.io event ``42["event",data]``."""
        if self._ws is None or self._error is not None:
            raise ConnectionLost("not connected")
        payload = [event] if data is None else [event, data]
        await self._ws.send_str("42" + msgspec.json.encode(payload).decode())

    @property
    def backlog(self) -> int:
        """Event frames received and not yet taken by :meth:`recv`."""
        return 0 if self._queue is None else self._queue.qsize()

    async def recv(self) -> str:
        """The next event frame text (``42[...]``); raises ConnectionLost/Overflow when the
        session ends."""
        queue = self._queue
        if queue is None:
            raise ConnectionLost("not connected")
        frame = queue.get_nowait() if queue.qsize() else await queue.get()
        if frame is _CLOSED:
            queue.put_nowait(_CLOSED)  # every later recv() sees the end as well
            raise self._error or ConnectionLost("closed")
        return frame

    def __aiter__(self) -> AsyncIterator[str]:
        return self._frames()

    async def _frames(self) -> AsyncIterator[str]:
        while True:
            try:
                yield await self.recv()
            except ConnectionLost:
                if self._closed:
                    return
                raise

    def drop(self, error: NetworkError | None = None) -> None:
        """Abort the session now (tests, or a stall detector that gave up on it); ``recv``
        then raises ``error``."""
        self._fail(error or ConnectionLost("dropped by the client"))
        if self._ws is not None:
            self._ws._response.close()  # abort the transport without a close handshake

    async def close(self) -> None:
        """Say goodbye (``41``, close frame), stop tasks, close the socket. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._pong_due is not None:
            self._pong_due.cancel()
            self._pong_due = None
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            try:
                await ws.send_str("41")
                await asyncio.wait_for(ws.close(), 2.0)
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError, RuntimeError):
                pass
        self._end_queue(drop_unread=False)
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None
