"""Exchange time formats to UTC epoch milliseconds (the one unit exconn uses)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from decimal import Decimal

__all__ = ["now_ms", "seconds_to_ms", "iso_to_ms", "any_to_ms"]


def now_ms() -> int:
    """This machine's wall clock, epoch ms."""
    return time.time_ns() // 1_000_000


def seconds_to_ms(value: Decimal | int) -> int:
    """Epoch seconds (fractions allowed, exact Decimal) to ms, truncating below the ms:
    ``Decimal("1483705817.735508")`` -> ``1483705817735``."""
    return int(value * 1000)


def iso_to_ms(text: str) -> int:
    """ISO-8601 (``2020-03-12T17:01:56+01:00``, ``…Z``, µs allowed; naive = UTC) to epoch ms."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def any_to_ms(value: str | Decimal | int | float, *, numeric_unit: str = "s") -> int:
    """A timestamp that may come as ISO text or as a number of ``numeric_unit`` ("s" or "ms")."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            value = Decimal(value)
        except ArithmeticError:
            return iso_to_ms(value)
    return seconds_to_ms(value) if numeric_unit == "s" else int(value)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
