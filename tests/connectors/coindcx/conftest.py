"""CoinDCX connector tests: the spec's sample responses on disk, a connector on the default
URLs with the spec's test secret, fixed timestamps, and an aioresponses mock."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import connectors
from tests.connectors.conftest import fix_nonces
from connectors.coindcx import CoinDCX
from core.connector import Pool
from core.transport import RetryPolicy

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "coindcx"
TIMESTAMP = 1_524_211_224_000  # the timestamp of the spec's vectors C1-C3


@pytest.fixture
def load() -> Callable[[str], bytes]:
    """``load("ticker")``: the bytes of ``tests/fixtures/coindcx/ticker.json``."""
    return lambda name: (FIXTURES / f"{name}.json").read_bytes()


@pytest.fixture
async def ex():
    """The connector as a user opens it (default URLs, key ``mykey``, the vectors' secret
    ``secret``); no backoff sleeps, 429s raised at once, and pools of its own so tests don't
    throttle each other."""
    connector = connectors.open(
        "coindcx", key="mykey", secret="secret",
        retry=RetryPolicy(base_delay=0.0, max_delay=0.0, max_rate_limited_retries=0),
        rate_limits={name: Pool(1000, per_key=spec.per_key) for name, spec in CoinDCX.rate_limits.items()},
    )
    yield connector
    await connector.close()


@pytest.fixture
def timestamps(ex, monkeypatch) -> list[int]:
    """Timestamps 1524211224000, 1524211224001, …; returns the list of those issued."""
    return fix_nonces(ex, monkeypatch, TIMESTAMP)
