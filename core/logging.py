"""Structured key/value logging that never prints a secret.

The library logs through stdlib loggers under ``exconn.*`` rendered by structlog, so it is
silent until the application enables those loggers (the CLI does, via :func:`configure`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

__all__ = ["get_logger", "configure", "redact_processor", "is_secret_name", "REDACTED"]

REDACTED = "***"

# Field names (lower case, '-' and '_' removed) whose values are credentials in some exchange.
_SECRET_PARTS = ("secret", "signature", "password", "passphrase", "token", "otp", "totp")
_SECRET_NAMES = frozenset(
    {"key", "apikey", "accesskey", "authorization", "xkey", "sign", "xsign", "xauthapikey",
     "xauthapikeyid", "credentials", "cookie", "setcookie"}
)


def is_secret_name(name: str) -> bool:
    """True when a field or header of this name carries a credential."""
    folded = name.lower().replace("-", "").replace("_", "")
    return folded in _SECRET_NAMES or any(part in folded for part in _SECRET_PARTS)


def _scrub(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: (REDACTED if isinstance(k, str) and is_secret_name(k) else _scrub(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub(v) for v in value)
    return value


def redact_processor(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: replace the value of every credential-named field, at any depth."""
    for name, value in list(event_dict.items()):
        if is_secret_name(name):
            event_dict[name] = REDACTED
        elif isinstance(value, (Mapping, list, tuple)):
            event_dict[name] = _scrub(value)
    return event_dict


_PROCESSORS: list[structlog.typing.Processor] = [
    redact_processor,
    structlog.processors.format_exc_info,
    structlog.processors.KeyValueRenderer(key_order=["event"], drop_missing=True),
]


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A key/value logger over the stdlib logger ``exconn.<name>``; check
    ``.isEnabledFor(level)`` before building costly fields on a hot path."""
    # built here rather than through structlog's lazy proxy, which assembles a new bound
    # logger on every attribute access (each isEnabledFor check)
    return structlog.stdlib.BoundLogger(logging.getLogger(f"exconn.{name}"), processors=_PROCESSORS, context={})


def configure(level: int | str = logging.INFO, stream: TextIO | None = None) -> None:
    """Send ``exconn.*`` logs to ``stream`` (stderr) at ``level``: for applications and the
    CLI, never called by the library itself."""
    root = logging.getLogger("exconn")
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_exconn", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler._exconn = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.propagate = False
