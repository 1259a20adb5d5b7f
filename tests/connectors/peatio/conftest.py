"""Peatio connector tests: the spec's sample responses on disk, a connector on the default
URLs with the spec's sample key (vector C3), fixed nonces, and an aioresponses mock."""

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import ClientResponse
from aioresponses import aioresponses

import connectors
from core.connector import Pool
from core.transport import RetryPolicy

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "peatio"
KEY, SECRET = "61d025b8573501c2", "2d0b4979c7fe6986daa8e21d1dc0644f"
NONCE = 1_700_000_000_000


@pytest.fixture
def load() -> Callable[[str], bytes]:
    """``load("markets")``: the bytes of ``tests/fixtures/peatio/markets.json``."""
    return lambda name: (FIXTURES / f"{name}.json").read_bytes()


@pytest.fixture
async def make_ex():
    """``make_ex(**options)``: the connector on its default URLs with the C3 key; no backoff
    sleeps, 429s raised at once, and pools of its own so tests don't throttle each other."""
    made: list[connectors.Connector] = []

    def make(**options: Any) -> connectors.Connector:
        options.setdefault("retry", RetryPolicy(base_delay=0.0, max_delay=0.0, max_rate_limited_retries=0))
        options.setdefault("rate_limits", {"public": Pool(1000), "private": Pool(1000, per_key=True)})
        made.append(connectors.open("peatio", key=KEY, secret=SECRET, **options))
        return made[-1]

    yield make
    for connector in made:
        await connector.close()


@pytest.fixture
def ex(make_ex):
    """The connector without the clock sync (tested on its own), so each private call is one request."""
    return make_ex(sync_clock=False)


@pytest.fixture
def nonces(ex, monkeypatch) -> list[int]:
    """Nonces 1700000000000, 1700000000001, …; returns the list of those issued.

    ``NonceManager.sequence()`` does not call ``manager.next`` through the instance: its
    ``_Issue`` helper holds the bound method taken at construction (and the manager has
    ``__slots__``), so the helper's ``_next`` is what must be replaced."""
    issued: list[int] = []

    def next_nonce() -> int:
        issued.append(NONCE + len(issued))
        return issued[-1]

    monkeypatch.setattr(ex.nonces._sequence, "_next", next_nonce)
    return issued


class _Response(ClientResponse):
    """aioresponses 0.7.9 builds its responses without the ``stream_writer`` argument that
    aiohttp >= 3.12 requires; an already-sent request only reads its ``output_size``."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


class _Mock(aioresponses):
    def add(self, url: Any, method: str = "GET", **kwargs: Any) -> None:
        kwargs.setdefault("response_class", _Response)
        super().add(url, method, **kwargs)


@pytest.fixture
def mock():
    """aioresponses, recording every request aiohttp is asked to send."""
    with _Mock() as m:
        yield m
