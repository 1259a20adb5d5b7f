"""The exception tree. Every connector maps its exchange's error bodies onto it; callers
match on types, never on message strings.

    ExconnError
    ├── ExchangeError            the exchange (or our pre-flight check) refused the request
    │   ├── AuthenticationError  bad or missing key, secret or signature
    │   │   └── InvalidNonce     nonce/tonce/timestamp reused, too low or outside the window
    │   ├── PermissionDenied     key lacks the permission, or IP/WAF refused (HTTP 403)
    │   ├── RateLimited          HTTP 429 or the exchange's own limit code; has .retry_after
    │   ├── InsufficientFunds
    │   ├── InvalidOrder         amount/price/type refused, often before anything is sent
    │   ├── OrderNotFound
    │   ├── BadSymbol            unknown or inactive market
    │   ├── BadRequest           any other refused parameter
    │   └── NotSupported         the exchange has no such feature; .reason says why
    ├── NetworkError             no usable answer came back
    │   ├── RequestTimeout
    │   ├── ExchangeUnavailable  connection refused, 5xx on a read, maintenance
    │   ├── BadResponse          the answer could not be decoded (truncated, HTML, wrong shape)
    │   └── CoordinationUnavailable  the shared (Redis) limiter or nonce store did not answer:
    │                            nothing was sent
    └── OutcomeUnknown           a mutating request was sent but its result is unknown
                                 (5xx or timeout after send): reconcile before retrying

Each exception carries ``exchange`` (id), ``status`` (HTTP status or None), ``code`` and
``message`` (the exchange's own, when it gave one). No exception text ever contains a key,
secret or signature.
"""

from __future__ import annotations

__all__ = [
    "ExconnError",
    "ExchangeError",
    "AuthenticationError",
    "InvalidNonce",
    "PermissionDenied",
    "RateLimited",
    "InsufficientFunds",
    "InvalidOrder",
    "OrderNotFound",
    "BadSymbol",
    "BadRequest",
    "NotSupported",
    "NetworkError",
    "RequestTimeout",
    "ExchangeUnavailable",
    "BadResponse",
    "CoordinationUnavailable",
    "OutcomeUnknown",
]


class ExconnError(Exception):
    """Root of every error raised by exconn."""

    def __init__(
        self,
        message: str = "",
        *,
        exchange: str | None = None,
        status: int | None = None,
        code: str | int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exchange = exchange
        self.status = status
        self.code = None if code is None else str(code)

    def __str__(self) -> str:
        parts = []
        if self.exchange:
            parts.append(f"[{self.exchange}]")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code is not None:
            parts.append(f"code={self.code}")
        head = " ".join(parts)
        if head and self.message:
            return f"{head}: {self.message}"
        return head or self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class ExchangeError(ExconnError):
    """The exchange answered and refused the request (or our pre-flight check did)."""


class AuthenticationError(ExchangeError):
    pass


class InvalidNonce(AuthenticationError):
    pass


class PermissionDenied(ExchangeError):
    pass


class RateLimited(ExchangeError):
    """Too many requests. ``retry_after`` is in seconds, when the exchange said."""

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class InsufficientFunds(ExchangeError):
    pass


class InvalidOrder(ExchangeError):
    pass


class OrderNotFound(ExchangeError):
    pass


class BadSymbol(ExchangeError):
    pass


class BadRequest(ExchangeError):
    pass


class NotSupported(ExchangeError):
    """The exchange cannot do this; ``reason`` says why."""

    def __init__(self, message: str = "", *, reason: str | None = None, **kw) -> None:
        super().__init__(message if reason is None else f"{message}: {reason}", **kw)
        self.reason = reason


class NetworkError(ExconnError):
    pass


class RequestTimeout(NetworkError):
    pass


class ExchangeUnavailable(NetworkError):
    pass


class BadResponse(NetworkError):
    pass


class CoordinationUnavailable(NetworkError):
    """The shared (Redis) rate limiter or nonce store did not answer after a few retries: no
    permit or nonce was handed out, so nothing was sent; retry later."""


class OutcomeUnknown(ExconnError):
    """A mutating request left us but its fate is unknown: it may or may not have been
    applied. ``method`` and ``path`` name the request; ``cause`` is what went wrong."""

    def __init__(
        self,
        message: str = "",
        *,
        method: str | None = None,
        path: str | None = None,
        cause: BaseException | None = None,
        **kw,
    ) -> None:
        super().__init__(message, **kw)
        self.method = method
        self.path = path
        self.cause = cause
