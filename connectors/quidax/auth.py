"""Quidax request signing.

API v2: hex HMAC-SHA256, keyed with the secret, of ``VERB|/api/v2/path|canonical`` where
``canonical`` is every parameter (``access_key`` and ``tonce`` included, ``signature``
excluded) as unescaped ``name=value`` units sorted in byte order and joined by ``&``. An
array parameter (``orders[][side]=…`` of ``/orders/multi``) is one unit: its pairs joined by
``&`` in wire order, never re-sorted. ``access_key``, ``tonce`` (epoch ms, single use) and
``signature`` travel as parameters. API v1: ``Authorization: Bearer <secret>``, nothing signed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from core.connector import wire_value

__all__ = ["Signer", "flatten"]

Pairs = list[tuple[str, str]]


def flatten(params: Mapping[str, Any]) -> list[Pairs]:
    """Parameters as units of wire pairs: a scalar is one pair; a list is one unit of all its
    elements' pairs in order, as Rails writes them (``name[][field]`` for mappings, else
    ``name[]``). None is left out."""
    units: list[Pairs] = []
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, Sequence) and not isinstance(value, str):
            units.append([pair for element in value for pair in _element(name, element)])
        else:
            units.append([(name, wire_value(value))])
    return units


def _element(name: str, element: Any) -> Pairs:
    if isinstance(element, Mapping):
        return [(f"{name}[][{field}]", wire_value(v)) for field, v in element.items() if v is not None]
    return [(f"{name}[]", wire_value(element))]


class Signer:
    """Signs for one key pair; the HMAC is keyed once and copied per request."""

    __slots__ = ("key", "_hmac", "_bearer")

    def __init__(self, key: str, secret: str) -> None:
        self.key = key
        self._hmac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
        self._bearer = {"Authorization": f"Bearer {secret}"}

    @staticmethod
    def canonical(units: list[Pairs]) -> tuple[Pairs, str]:
        """(the pairs in canonical order, the unescaped canonical query) of ``units``."""
        texts = sorted(("&".join(f"{k}={v}" for k, v in unit), unit) for unit in units)
        return [pair for _, unit in texts for pair in unit], "&".join(text for text, _ in texts)

    def signature(self, payload: str) -> str:
        """Lower-case hex HMAC-SHA256 of ``VERB|/api/v2/path|canonical``."""
        mac = self._hmac.copy()
        mac.update(payload.encode())
        return mac.hexdigest()

    def sign(self, verb: str, path: str, params: Mapping[str, Any], tonce: int) -> Pairs:
        """Every wire pair of a v2 call in canonical order, ``signature`` last; ``tonce`` in ms."""
        units = flatten(params)
        units += [[("access_key", self.key)], [("tonce", str(tonce))]]
        pairs, query = self.canonical(units)
        pairs.append(("signature", self.signature(f"{verb.upper()}|{path}|{query}")))
        return pairs

    def bearer(self) -> dict[str, str]:
        """The v1 ``Authorization`` header."""
        return dict(self._bearer)

    def __repr__(self) -> str:
        return "Signer(quidax, ***)"
