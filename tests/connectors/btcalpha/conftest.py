"""BTC-Alpha connector tests: the spec's sample responses on disk, a connector on the
default URLs with the spec's test key, fixed nonces, and an aioresponses mock."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import connectors
from tests.connectors.conftest import fix_nonces
from core.connector import Pool
from core.transport import RetryPolicy

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "btcalpha"
NONCE = 1_700_000_000_000


@pytest.fixture
def load() -> Callable[[str], bytes]:
    """``load("pairs_docs22")``: the bytes of ``tests/fixtures/btcalpha/pairs_docs22.json``."""
    return lambda name: (FIXTURES / f"{name}.json").read_bytes()


@pytest.fixture
async def ex():
    """The connector as a user opens it (default URLs, key ``mykey``, secret ``mysecret``);
    no backoff sleeps, 429s raised at once, and pools of its own so tests don't throttle
    each other."""
    connector = connectors.open(
        "btcalpha", key="mykey", secret="mysecret",
        retry=RetryPolicy(base_delay=0.0, max_delay=0.0, max_rate_limited_retries=0),
        rate_limits={"public": Pool(1000), "private": Pool(1000, per_key=True)},
    )
    yield connector
    await connector.close()


@pytest.fixture
def nonces(ex, monkeypatch) -> list[int]:
    """Nonces 1700000000000, 1700000000001, …; returns the list of those issued."""
    return fix_nonces(ex, monkeypatch, NONCE)
