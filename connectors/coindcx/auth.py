"""CoinDCX request signing: hex HMAC-SHA256 of the exact JSON body bytes, which carry the
integer ms ``timestamp``; the body is serialized once, compact, and those bytes are sent."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec

from core.connector import format_decimal

__all__ = ["Signer"]

_encode = msgspec.json.Encoder().encode  # compact: no spaces after ',' or ':'


class Signer:
    """Signs for one key; the HMAC is keyed once and copied per request."""

    __slots__ = ("key", "_hmac")

    def __init__(self, key: str, secret: str) -> None:
        self.key = key
        self._hmac = hmac.new(secret.encode(), digestmod=hashlib.sha256)

    def body(self, params: Mapping[str, Any] | None, timestamp: int) -> bytes:
        """The JSON body exactly as signed and sent: ``params`` in their order (None values left
        out, Decimals as plain JSON numbers), then ``timestamp`` (epoch ms)."""
        data = {name: _json_value(value) for name, value in (params or {}).items() if value is not None}
        data["timestamp"] = timestamp
        return _encode(data)

    def signature(self, body: bytes) -> str:
        mac = self._hmac.copy()
        mac.update(body)
        return mac.hexdigest()

    def headers(self, body: bytes) -> dict[str, str]:
        return {"X-AUTH-APIKEY": self.key, "X-AUTH-SIGNATURE": self.signature(body),
                "Content-Type": "application/json"}

    def __repr__(self) -> str:
        return "Signer(coindcx, ***)"


def _json_value(value: Any) -> Any:
    """Decimals (also inside lists and objects, e.g. create_multiple's orders) as plain JSON
    numbers: ``Decimal("1E-8")`` is sent as ``0.00000001``, never as a string or a float."""
    if isinstance(value, Decimal):
        return msgspec.Raw(format_decimal(value).encode())
    if isinstance(value, Mapping):
        return {name: _json_value(item) for name, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    return value
