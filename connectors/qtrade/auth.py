"""qTrade request signing. Despite the ``HMAC-SHA256`` header name this is a salted hash:
base64(sha256(METHOD\\nURI\\nTIMESTAMP\\nBODY\\nSECRET)), where URI is the path plus
``?query`` exactly as sent, BODY the exact body bytes and TIMESTAMP Unix seconds."""

from __future__ import annotations

import base64
import hashlib

__all__ = ["Signer"]


class Signer:
    """Signs for one key: ``key_id`` is the part of qTrade's ``<key_id>:<key>`` before the
    colon, ``secret`` the part after it."""

    __slots__ = ("key_id", "_suffix")

    def __init__(self, key_id: str, secret: str) -> None:
        self.key_id = key_id
        self._suffix = b"\n" + secret.encode()  # the secret is salted onto the end of the text

    def signature(self, method: str, uri: str, timestamp: int, body: bytes = b"") -> str:
        """Base64 SHA-256 of the request text; ``timestamp`` in Unix seconds."""
        text = f"{method.upper()}\n{uri}\n{timestamp}\n".encode() + body + self._suffix
        return base64.b64encode(hashlib.sha256(text).digest()).decode()

    def headers(self, method: str, uri: str, timestamp: int, body: bytes = b"") -> dict[str, str]:
        return {
            "Authorization": f"HMAC-SHA256 {self.key_id}:{self.signature(method, uri, timestamp, body)}",
            "HMAC-Timestamp": str(timestamp),
        }

    def __repr__(self) -> str:
        return "Signer(qtrade, ***)"
