"""Peatio connector tests: the spec's sample responses on disk, a connector on the default
URLs with the spec's sample key (vector C3), fixed nonces, and an aioresponses mock."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import connectors
from tests.connectors.conftest import fix_nonces
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
    """Nonces 1700000000000, 1700000000001, …; returns the list of those issued."""
    return fix_nonces(ex, monkeypatch, NONCE)
