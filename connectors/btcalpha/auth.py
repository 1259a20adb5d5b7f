"""BTC-Alpha request signing: hex HMAC-SHA256 of the API key followed by the sorted,
URL-encoded POST data (GET filters are not signed); the nonce travels unsigned in X-NONCE."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlencode

__all__ = ["Signer"]


class Signer:
    """Signs for one key; the HMAC is keyed once and copied per request."""

    __slots__ = ("key", "_hmac")

    def __init__(self, key: str, secret: str) -> None:
        self.key = key
        self._hmac = hmac.new(secret.encode(), digestmod=hashlib.sha256)

    def encode(self, data: Mapping[str, str]) -> str:
        """The form body exactly as signed and sent: ``k1=v1&k2=v2`` sorted by name."""
        return urlencode(sorted(data.items())) if data else ""

    def signature(self, body: str) -> str:
        mac = self._hmac.copy()
        mac.update((self.key + body).encode())
        return mac.hexdigest()

    def headers(self, body: str, nonce: int) -> dict[str, str]:
        return {"X-KEY": self.key, "X-SIGN": self.signature(body), "X-NONCE": str(nonce)}

    def __repr__(self) -> str:
        return "Signer(btcalpha, ***)"
