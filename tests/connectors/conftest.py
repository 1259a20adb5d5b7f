"""Shared by every connector's tests: an aioresponses mock that works with this aiohttp,
and fixed nonces."""

from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import ClientResponse
from aioresponses import aioresponses

from core.connector import Connector


class MockResponse(ClientResponse):
    """aioresponses 0.7.9 builds its responses without the ``stream_writer`` argument that
    aiohttp >= 3.12 requires; an already-sent request only reads its ``output_size``."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


class Mock(aioresponses):
    def add(self, url: Any, method: str = "GET", **kwargs: Any) -> None:
        kwargs.setdefault("response_class", MockResponse)
        super().add(url, method, **kwargs)


@pytest.fixture
def mock():
    """aioresponses, recording every request aiohttp is asked to send."""
    with Mock() as m:
        yield m


def fix_nonces(connector: Connector, monkeypatch: pytest.MonkeyPatch, start: int) -> list[int]:
    """Make ``connector`` issue ``start``, ``start + 1``, …; returns the list of those issued.

    ``NonceManager.sequence()`` holds the bound ``next`` taken at construction (the manager
    has ``__slots__``), so its helper's ``_next`` is what must be replaced."""
    issued: list[int] = []

    def next_nonce() -> int:
        issued.append(start + len(issued))
        return issued[-1]

    monkeypatch.setattr(connector.nonces._sequence, "_next", next_nonce)
    return issued
