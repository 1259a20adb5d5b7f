"""Async HTTP over one aiohttp session: timeouts, safe retries, error mapping, logging.

Retry rules, in one place:

* A request that never left (connection refused, connect timeout) is retried whatever
  its method: the exchange cannot have seen it.
* A request the exchange refused without applying it (429, or the connector mapped the
  answer to :class:`InvalidNonce`) is retried with a freshly signed attempt.
* A 5xx, a read timeout or a dropped connection is retried only for idempotent requests;
  for a mutating one it raises :class:`OutcomeUnknown`, because the order may exist.

Every attempt is built by the caller's ``attempt()`` context manager, so rate-limit
permits, nonces and signatures are fresh per attempt, and an ordered nonce sequence can
hold its lock until the answer is in.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from core.errors import (
    AuthenticationError,
    BadRequest,
    ExchangeUnavailable,
    ExconnError,
    InvalidNonce,
    NetworkError,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    RequestTimeout,
)
from core.logging import get_logger

__all__ = ["Timeouts", "RetryPolicy", "Prepared", "Response", "Transport", "ErrorMapper"]

_log = get_logger("http")
USER_AGENT = "exconn/0.1 (+aiohttp)"


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds: to connect, between bytes of the answer, and for the whole attempt."""

    connect: float = 5.0
    read: float = 10.0
    total: float | None = 30.0

    def client_timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.total, sock_connect=self.connect, sock_read=self.read)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often to retry and how long to wait: full-jitter exponential backoff, capped.
    Delays in seconds."""

    max_retries: int = 3
    max_rate_limited_retries: int = 2
    max_invalid_nonce_retries: int = 1
    base_delay: float = 0.25
    max_delay: float = 8.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Delay before retry number ``attempt`` (0-based): uniform in [0, min(cap, base·2^n)]."""
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * (2 ** attempt)))


@dataclass(slots=True)
class Prepared:
    """One attempt ready to send. ``path`` (no query) is what logs and errors show."""

    method: str
    url: str
    path: str
    headers: dict[str, str] | None = None
    body: bytes | str | None = None


@dataclass(slots=True)
class Response:
    method: str
    path: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    latency_ms: float

    def text(self, limit: int = 300) -> str:
        """The body as text, cut to ``limit`` characters, for error messages."""
        return self.body[:limit].decode("utf-8", "replace")


# Maps a non-2xx answer to our error, or None to fall back on the status-based default.
ErrorMapper = Callable[[Response], ExconnError | None]


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


class _NotSent(Exception):
    """The request never reached the exchange."""


class Transport:
    """Sends prepared requests for one exchange; owns or borrows an aiohttp session."""

    __slots__ = (
        "exchange", "_session", "_owns_session", "_timeout", "retry", "_mapper", "_rng",
        "_sleep", "_closed",
    )

    def __init__(
        self,
        exchange: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
        error_mapper: ErrorMapper | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.exchange = exchange
        self._session = session
        self._owns_session = session is None
        self._timeout = timeouts.client_timeout()
        self.retry = retry
        self._mapper = error_mapper
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._closed = False

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session, created on first use inside the running loop."""
        if self._session is None or (self._owns_session and self._session.closed):
            if self._closed:
                raise ExchangeUnavailable("transport is closed", exchange=self.exchange)
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers={"User-Agent": USER_AGENT},
                connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300),
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        """Close the session if we created it; an injected session is the caller's."""
        self._closed = True
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def request(
        self,
        attempt: Callable[[], AbstractAsyncContextManager[Prepared]],
        *,
        idempotent: bool,
        on_rate_limited: Callable[[float], None] | None = None,
    ) -> Response:
        """Send until success or a final error. ``attempt()`` yields a freshly prepared
        request each time; ``on_rate_limited(seconds)`` is told of every 429."""
        policy = self.retry
        retries = rate_limited = bad_nonce = 0
        while True:
            prepared: Prepared | None = None
            try:
                async with attempt() as prepared:
                    response = await self._send(prepared)
            except _NotSent as exc:
                cause = exc.__cause__
                if retries < policy.max_retries:
                    await self._sleep(policy.backoff(retries, self._rng))
                    retries += 1
                    continue
                if isinstance(cause, asyncio.TimeoutError):
                    raise RequestTimeout(f"connect timed out: {cause}", exchange=self.exchange) from cause
                raise ExchangeUnavailable(f"cannot connect: {cause}", exchange=self.exchange) from cause
            except NetworkError as exc:  # sent, no usable answer
                if idempotent and retries < policy.max_retries:
                    await self._sleep(policy.backoff(retries, self._rng))
                    retries += 1
                    continue
                if not idempotent and prepared is not None:
                    raise OutcomeUnknown(
                        f"{exc.message}; the request may have been applied",
                        exchange=self.exchange, method=prepared.method, path=prepared.path, cause=exc,
                    ) from exc
                raise

            if 200 <= response.status < 300:
                return response

            error = self._map_error(response)
            if isinstance(error, RateLimited):
                delay = error.retry_after
                if on_rate_limited is not None:
                    on_rate_limited(delay if delay is not None else policy.backoff(rate_limited + 1, self._rng))
                if rate_limited < policy.max_rate_limited_retries:
                    rate_limited += 1
                    if on_rate_limited is None:
                        await self._sleep(delay if delay is not None else policy.backoff(rate_limited, self._rng))
                    continue
                raise error
            if isinstance(error, InvalidNonce) and bad_nonce < policy.max_invalid_nonce_retries:
                bad_nonce += 1
                continue
            if response.status >= 500:
                if idempotent and retries < policy.max_retries:
                    await self._sleep(policy.backoff(retries, self._rng))
                    retries += 1
                    continue
                if not idempotent:
                    raise OutcomeUnknown(
                        f"HTTP {response.status} after the request was sent; it may have been applied",
                        exchange=self.exchange, status=response.status, method=response.method,
                        path=response.path, cause=error,
                    ) from error
            raise error

    async def _send(self, prepared: Prepared) -> Response:
        started = time.perf_counter()
        try:
            async with self.session.request(
                prepared.method, prepared.url, headers=prepared.headers, data=prepared.body,
                allow_redirects=False,
            ) as resp:
                body = await resp.read()
                status = resp.status
                headers = resp.headers
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise _NotSent() from exc
        except (aiohttp.SocketTimeoutError, asyncio.TimeoutError) as exc:
            self._log(prepared, None, started, error="timeout")
            raise RequestTimeout(
                f"{prepared.method} {prepared.path} timed out", exchange=self.exchange
            ) from exc
        except aiohttp.ClientError as exc:
            self._log(prepared, None, started, error=type(exc).__name__)
            raise ExchangeUnavailable(
                f"{prepared.method} {prepared.path} failed: {type(exc).__name__}", exchange=self.exchange
            ) from exc
        latency_ms = (time.perf_counter() - started) * 1000.0
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug("http", exchange=self.exchange, method=prepared.method, path=prepared.path,
                       status=status, latency_ms=round(latency_ms, 2))
        return Response(prepared.method, prepared.path, status, headers, body, latency_ms)

    def _log(self, prepared: Prepared, status: int | None, started: float, **fields: Any) -> None:
        if _log.isEnabledFor(logging.INFO):
            _log.info("http", exchange=self.exchange, method=prepared.method, path=prepared.path,
                      status=status, latency_ms=round((time.perf_counter() - started) * 1000.0, 2), **fields)

    def _map_error(self, response: Response) -> ExconnError:
        error = self._mapper(response) if self._mapper is not None else None
        if error is None:
            error = default_error(self.exchange, response)
        if isinstance(error, RateLimited) and error.retry_after is None:
            error.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if error.status is None:
            error.status = response.status
        if error.exchange is None:
            error.exchange = self.exchange
        return error


_BY_STATUS: dict[int, type[ExconnError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: BadRequest,
    405: BadRequest,
    406: BadRequest,
    409: BadRequest,
    422: BadRequest,
    429: RateLimited,
}


def default_error(exchange: str, response: Response) -> ExconnError:
    """Our error for a status when the connector's mapper had nothing more specific."""
    cls = _BY_STATUS.get(response.status)
    if cls is None:
        cls = ExchangeUnavailable if response.status >= 500 else BadRequest
    message = f"{response.method} {response.path}: {response.text()}"
    return cls(message, exchange=exchange, status=response.status)
