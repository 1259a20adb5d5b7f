"""Strictly increasing nonces per API key: clock-based, skew-corrected, optionally durable.

A nonce is ``max(now_in_unit + offset, last + 1)``, so bursts inside one clock tick and a
clock stepping backwards never repeat or decrease it. With a store file, a high-water mark
is persisted ahead of issuance in blocks, so a restarted process never reissues a nonce.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from typing import AsyncContextManager, Literal

from core.errors import InvalidNonce

__all__ = ["NonceManager"]

_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000}


class NonceManager:
    """Strictly increasing integer nonces for one API key."""

    __slots__ = ("_unit", "_scale", "_clock", "_store", "_persist_block", "_last", "_offset",
                 "_mark", "_sequence", "__weakref__")

    def __init__(
        self,
        *,
        unit: Literal["s", "ms", "us"] = "ms",
        clock: Callable[[], float] = time.time,
        store: str | os.PathLike[str] | None = None,
        ordered: bool = False,
        persist_block: int = 1000,
    ) -> None:
        if unit not in _PER_SECOND:
            raise ValueError(f"unit must be one of {sorted(_PER_SECOND)}, got {unit!r}")
        if persist_block < 1:
            raise ValueError(f"persist_block must be >= 1 nonce, got {persist_block!r}")
        self._unit = unit
        self._scale = _PER_SECOND[unit]  # nonce units per second
        self._clock = clock
        self._store = None if store is None else os.fspath(store)
        self._persist_block = persist_block
        self._last: int | None = None
        self._offset = 0  # server minus local time, in nonce units
        self._mark: int | None = None  # high-water mark in the store; None until read
        self._sequence: AsyncContextManager[int] = _InOrder(self) if ordered else _Issue(self)

    @property
    def last(self) -> int | None:
        """The last nonce issued, or None before the first."""
        return self._last

    @property
    def clock(self) -> Callable[[], float]:
        """The local clock nonces are read from (epoch seconds)."""
        return self._clock

    @property
    def offset(self) -> int:
        """Server clock minus local clock, in nonce units."""
        return self._offset

    def next(self) -> int:
        """Issue the next nonce: local time in `unit` plus the server offset, above the last."""
        nonce = int(self._clock() * self._scale) + self._offset
        last = self._last
        if last is not None and nonce <= last:
            nonce = last + 1
        store = self._store
        if store is not None and (self._mark is None or nonce >= self._mark):
            nonce = self._persist(nonce, store)
        self._last = nonce
        return nonce

    def observe_server_time(self, server_time_ms: int, *, sent_at: float | None = None,
                            received_at: float | None = None) -> None:
        """Follow the server clock: `server_time_ms` in epoch ms; `sent_at`, `received_at` are the
        request's round trip in `clock` seconds."""
        if sent_at is not None and received_at is not None:
            local = (sent_at + received_at) / 2
        elif sent_at is None and received_at is None:
            local = self._clock()
        else:
            raise ValueError("give both sent_at and received_at, or neither")
        self._offset = round(server_time_ms * self._scale / 1000 - local * self._scale)

    def sequence(self) -> AsyncContextManager[int]:
        """``async with nm.sequence() as nonce:`` issues a nonce; if ordered, blocks run one at a time in
        nonce order (send and await the signed request inside; don't mix with bare ``next()``)."""
        return self._sequence

    def _persist(self, nonce: int, store: str) -> int:
        """Raise `nonce` above the stored mark if not yet read, then store nonce + persist_block."""
        if self._mark is None:
            stored = _read_mark(store)
            if stored is not None and nonce <= stored:
                nonce = stored + 1
        mark = nonce + self._persist_block
        _write_mark(store, mark)
        self._mark = mark
        return nonce

    def __repr__(self) -> str:
        ordered = isinstance(self._sequence, _InOrder)
        return (f"NonceManager(unit={self._unit!r}, last={self._last}, offset={self._offset}, "
                f"ordered={ordered})")


class _Issue:
    """``sequence()`` when unordered: issues a nonce and holds nothing."""

    __slots__ = ("_next",)

    def __init__(self, manager: NonceManager) -> None:
        self._next = manager.next

    async def __aenter__(self) -> int:
        return self._next()

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class _InOrder:
    """``sequence()`` when ordered: a FIFO lock held from issuing the nonce to the end of the block."""

    __slots__ = ("_next", "_lock", "_loop")

    def __init__(self, manager: NonceManager) -> None:
        self._next = manager.next
        self._lock: asyncio.Lock | None = None  # made on first use, inside a running loop
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> int:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or the manager outlived an earlier event loop
            self._lock = asyncio.Lock()
            self._loop = loop
        await self._lock.acquire()  # type: ignore[union-attr]
        try:
            return self._next()
        except BaseException:
            self._lock.release()  # type: ignore[union-attr]
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._lock.release()  # type: ignore[union-attr]  # __aenter__ made it


def _read_mark(path: str) -> int | None:
    """The high-water mark in the store file, or None if there is no file."""
    try:
        with open(path, "rb") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    try:
        mark = int(text)
        if mark < 0:
            raise ValueError(mark)
    except ValueError:
        raise InvalidNonce(f"nonce store {path} is corrupt (expected a non-negative integer, "
                           f"found {text[:40]!r}); fix or remove it only once no nonce above "
                           "its old value can have been used") from None
    return mark


def _write_mark(path: str, mark: int) -> None:
    """Atomically replace the store file with `mark`: temp file (mode 0o600), fsync, rename."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".nonce-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(b"%d\n" % mark)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself survive a power loss
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
