"""An event loop on virtual time: when idle it jumps straight to the next timer, so a test
of a 60 s schedule runs in milliseconds. No real I/O may be awaited on it."""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["VirtualTimeLoop", "run_virtual"]

T = TypeVar("T")


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """``time()`` starts at 0.0 s and advances only by the select timeouts the loop asks for."""

    def __init__(self) -> None:
        super().__init__()
        self._virtual_now = 0.0
        real_select = self._selector.select  # type: ignore[attr-defined]

        def select(timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
            events = real_select(0)  # the self-pipe may have work from other threads
            if events:
                return events
            if timeout is None:
                raise RuntimeError("virtual loop idle with no timer scheduled: the test deadlocked")
            self._virtual_now += timeout
            return []

        self._selector.select = select  # type: ignore[attr-defined]

    def time(self) -> float:
        return self._virtual_now


def run_virtual(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion on a fresh VirtualTimeLoop and close it."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
