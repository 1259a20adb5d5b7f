"""API credentials that never show themselves in reprs, logs or tracebacks."""

from __future__ import annotations

import hashlib

__all__ = ["Credentials", "key_fingerprint"]


def key_fingerprint(key: str) -> str:
    """A short, stable, non-reversible name for an API key (8 hex digits of its SHA-256)."""
    return hashlib.sha256(key.encode()).hexdigest()[:8]


class Credentials:
    """An API key and secret. ``repr`` and ``str`` show only a short fingerprint."""

    __slots__ = ("_key", "_secret", "fingerprint")

    def __init__(self, key: str, secret: str) -> None:
        if not isinstance(key, str) or not isinstance(secret, str) or not key or not secret:
            raise TypeError("key and secret must be non-empty strings")
        self._key = key
        self._secret = secret
        self.fingerprint = key_fingerprint(key)

    @property
    def key(self) -> str:
        return self._key

    @property
    def secret(self) -> str:
        return self._secret

    def __repr__(self) -> str:
        return f"Credentials(key=<{self.fingerprint}>, secret=***)"

    __str__ = __repr__

    def __reduce__(self):  # refuse pickling: it would write the secret somewhere
        raise TypeError("Credentials cannot be pickled")
