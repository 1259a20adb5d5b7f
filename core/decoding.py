"""Guards for turning an exchange's decoded answer into core models."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import ParamSpec, TypeVar

import msgspec

from core.errors import BadResponse

__all__ = ["checked_conversion"]

P = ParamSpec("P")
R = TypeVar("R")


def checked_conversion(exchange: str, *, finite: bool = True) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A decorator for one exchange's ``to_model`` conversions: what decoded but cannot be
    meant — NaN or infinite numbers, exponents beyond Decimal's range, malformed dates,
    missing parts — becomes BadResponse, and (with ``finite``) every Decimal it returns is
    finite; hot paths that already compare every number may skip that last walk."""

    def converts(convert: Callable[P, R]) -> Callable[P, R]:
        @wraps(convert)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                result = convert(*args, **kwargs)
                if finite:
                    _check_finite(result)
            except (ArithmeticError, ValueError, TypeError, KeyError, IndexError) as exc:
                raise BadResponse(f"{convert.__qualname__}: cannot convert the answer ({exc!r})",
                                  exchange=exchange) from exc
            return result

        return checked

    return converts


def _check_finite(value: object) -> None:
    """ValueError if a Decimal in ``value`` (a model, or lists, tuples and dicts of them) is NaN or infinite."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite number")
    elif isinstance(value, msgspec.Struct):
        for field in msgspec.structs.astuple(value):
            _check_finite(field)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_finite(item)
    elif isinstance(value, dict):
        for item in value.values():
            _check_finite(item)
