"""Peatio (Barong) request signing: hex HMAC-SHA256 of nonce + API key; method, path and
body are not signed. The nonce is epoch ms and must be within the server's window (5 s)."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["Signer"]


class Signer:
    """Signs for one key; the HMAC is keyed once and copied per request."""

    __slots__ = ("key", "_hmac")

    def __init__(self, key: str, secret: str, digest: str = "sha256") -> None:
        self.key = key
        self._hmac = hmac.new(secret.encode(), digestmod=getattr(hashlib, digest))

    def signature(self, nonce: int) -> str:
        mac = self._hmac.copy()
        mac.update(f"{nonce}{self.key}".encode())
        return mac.hexdigest()

    def headers(self, nonce: int) -> dict[str, str]:
        return {"X-Auth-Apikey": self.key, "X-Auth-Nonce": str(nonce), "X-Auth-Signature": self.signature(nonce)}

    def __repr__(self) -> str:
        return "Signer(peatio, ***)"
