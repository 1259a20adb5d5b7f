"""One exchange's world in the sandbox: its engine, API keys, fault switches and limits.

Every exchange app gets a :class:`Venue`; tests reach it with ``sb.venue(id)`` to read
the engine's true state or to switch faults on at run time.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from typing import Any

from aiohttp import web

from sandbox.engine import Engine, MarketSpec

__all__ = ["Venue", "ApiKey", "Faults", "SlidingWindow", "fault_middleware", "DEMO_ACCOUNT", "MAKER_ACCOUNT"]

DEMO_ACCOUNT = "demo"
MAKER_ACCOUNT = "maker"


@dataclass(frozen=True, slots=True)
class ApiKey:
    key: str
    secret: str
    account: str


@dataclass(slots=True)
class Faults:
    """Probabilities (0..1) of each fault per HTTP request, and socket faults per second.

    ``error_before``: 5xx before the handler runs (nothing applied);
    ``error_after``: the handler runs (an order may be placed), then 5xx is answered;
    ``rate_limit``: 429; ``latency``: seconds added to each answer;
    ``malformed`` / ``truncated`` / ``html``: the body is replaced by garbage, cut in half,
    or an HTML error page; ``methods`` limits HTTP faults to those methods (None = all).
    ``drop_socket`` / ``stall_socket``: chance per second that a socket connection is
    closed, or stops receiving events (until it reconnects)."""

    error_before: float = 0.0
    error_after: float = 0.0
    rate_limit: float = 0.0
    latency: float = 0.0
    malformed: float = 0.0
    truncated: float = 0.0
    html: float = 0.0
    methods: frozenset[str] | None = None
    drop_socket: float = 0.0
    stall_socket: float = 0.0

    def active_for(self, method: str) -> bool:
        return self.methods is None or method in self.methods


class SlidingWindow:
    """Server-side limit: at most ``limit`` requests per ``window`` seconds per identity."""

    __slots__ = ("limit", "window", "_hits")

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}

    def hit(self, identity: str, now: float | None = None) -> float | None:
        """Count a request; None when allowed, else seconds until one would be."""
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(identity, deque())
        horizon = now - self.window
        while hits and hits[0] <= horizon:
            hits.popleft()
        if len(hits) >= self.limit:
            return hits[0] + self.window - now
        hits.append(now)
        return None


@dataclass(slots=True)
class Venue:
    """The sandbox state of one exchange."""

    exchange: str
    engine: Engine
    rng: random.Random
    keys: dict[str, ApiKey] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    # set by the exchange app: wired to the socket server so tests can force drops and stalls
    socket_control: Any = None
    # per key: the last nonce seen, or the set of recently used tonces (the app decides)
    nonce_memory: dict[str, Any] = field(default_factory=dict)
    # the app's server-side rate limits by name ("public", "private", …); tests may retune them
    windows: dict[str, SlidingWindow] = field(default_factory=dict)

    def window(self, name: str, limit: int, period: float) -> SlidingWindow:
        """The venue's named rate limit: ``limit`` requests per ``period`` seconds per identity."""
        window = self.windows[name] = SlidingWindow(limit, period)
        return window

    def add_key(self, account: str, key: str | None = None, secret: str | None = None) -> ApiKey:
        """Register an API key for an account (created if new); random key/secret by default."""
        self.engine.create_account(account)
        key = key or "".join(self.rng.choice("0123456789abcdef") for _ in range(16))
        secret = secret or "".join(self.rng.choice("0123456789abcdef") for _ in range(32))
        api_key = ApiKey(key, secret, account)
        self.keys[key] = api_key
        return api_key

    def key_for(self, account: str) -> ApiKey:
        for api_key in self.keys.values():
            if api_key.account == account:
                return api_key
        raise KeyError(account)

    def fund(self, account: str, amounts: dict[str, Decimal]) -> None:
        for currency, amount in amounts.items():
            self.engine.deposit(account, currency, amount)

    def markets(self) -> dict[str, MarketSpec]:
        return self.engine.markets()

    def book(self, symbol: str):
        """The engine's true order-level book: (bids, asks), best first."""
        return self.engine.book(symbol)

    def balances(self, account: str = DEMO_ACCOUNT):
        return self.engine.balances(account)

    @contextmanager
    def inject(self, **faults: Any) -> Iterator[Faults]:
        """Switch faults on for a block: ``with venue.inject(error_after=1.0, methods={"POST"}):``."""
        known = {f.name for f in fields(Faults)}
        unknown = set(faults) - known
        if unknown:
            raise TypeError(f"unknown faults {sorted(unknown)}; known: {sorted(known)}")
        if "methods" in faults and faults["methods"] is not None:
            faults["methods"] = frozenset(m.upper() for m in faults["methods"])
        previous = self.faults
        self.faults = replace(previous, **faults)
        try:
            yield self.faults
        finally:
            self.faults = previous


# Each exchange's own way of saying "server error" and "too many requests".
ErrorResponder = Callable[[int, str], web.Response]


def fault_middleware(venue: Venue, respond: ErrorResponder) -> Callable[..., Awaitable[web.StreamResponse]]:
    """aiohttp middleware applying the venue's HTTP faults; ``respond(status, message)``
    builds the exchange's own error body for 429 and 5xx."""

    @web.middleware
    async def middleware(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        faults = venue.faults
        rng = venue.rng
        if request.path.startswith("/socket.io") or not faults.active_for(request.method):
            return await handler(request)
        if faults.latency:
            await asyncio.sleep(faults.latency)
        if faults.rate_limit and rng.random() < faults.rate_limit:
            response = respond(429, "Too many requests")
            response.headers["Retry-After"] = "1"
            return response
        if faults.error_before and rng.random() < faults.error_before:
            return respond(500, "Internal server error")
        response = await handler(request)
        if faults.error_after and rng.random() < faults.error_after:
            return respond(502, "Bad gateway")
        if isinstance(response, web.Response) and response.body is not None:
            body = bytes(response.body)  # type: ignore[arg-type]
            if faults.malformed and rng.random() < faults.malformed:
                return web.Response(status=response.status, body=b'{"data": [1, 2,, }',
                                    content_type="application/json")
            if faults.truncated and rng.random() < faults.truncated:
                return web.Response(status=response.status, body=body[: len(body) // 2],
                                    content_type="application/json")
            if faults.html and rng.random() < faults.html:
                return web.Response(status=502, text="<html><body><h1>502 Bad Gateway</h1></body></html>",
                                    content_type="text/html")
        return response

    return middleware
