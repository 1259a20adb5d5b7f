"""BTC-Alpha request signing: hex HMAC-SHA256 of the API key followed by the sorted,
URL-encoded POST data (GET filters are not signed); the nonce travels unsigned in X-NONCE."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from core.connector import form_encode, wire_value

__all__ = ["Signer"]


class Signer:
    """Signs for one key. HMAC-SHA256 is keyed once (the hash states after the padded secret
    and, inside, the API key every message starts with, copied per request), and the
    signature of an empty body — every GET's: the key alone — is computed once."""

    __slots__ = ("key", "_inner", "_outer", "_key_only")

    def __init__(self, key: str, secret: str) -> None:
        self.key = key
        self._inner, self._outer = _keyed_sha256(secret.encode())
        self._inner.update(key.encode())  # every signed message starts with the key
        self._key_only = self._sign("")

    def encode(self, data: Mapping[str, Any]) -> str:
        """The form body exactly as signed and sent: ``k1=v1&k2=v2`` sorted by name, values
        as :func:`core.connector.wire_value`, None values left out."""
        return form_encode(sorted([(k, wire_value(v)) for k, v in data.items() if v is not None]))

    def signature(self, body: str) -> str:
        return self._sign(body) if body else self._key_only

    def headers(self, body: str, nonce: int) -> dict[str, str]:
        return {"X-KEY": self.key, "X-SIGN": self.signature(body), "X-NONCE": str(nonce)}

    def _sign(self, body: str) -> str:
        inner = self._inner.copy()
        inner.update(body.encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def __repr__(self) -> str:
        return "Signer(btcalpha, ***)"


# RFC 2104 pads, as the standard library's hmac module builds them
_INNER_PAD = bytes(x ^ 0x36 for x in range(256))
_OUTER_PAD = bytes(x ^ 0x5C for x in range(256))


def _keyed_sha256(secret: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256's inner and outer hash states for ``secret`` (RFC 2104). Copying these
    two is what ``hmac.HMAC.copy`` does, less its Python-level wrapping, which costs as
    much again as the hashing of a short request."""
    block = hashlib.sha256().block_size
    if len(secret) > block:
        secret = hashlib.sha256(secret).digest()
    secret = secret.ljust(block, b"\0")
    return hashlib.sha256(secret.translate(_INNER_PAD)), hashlib.sha256(secret.translate(_OUTER_PAD))
