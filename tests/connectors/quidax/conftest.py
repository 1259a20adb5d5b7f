"""Quidax connector tests: the spec's sample responses on disk, a connector on the default
URLs with the spec's test key pair (``xxx``/``yyy``), fixed tonces, and an aioresponses mock."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import connectors
from tests.connectors.conftest import fix_nonces
from connectors.quidax import Quidax
from core.connector import Pool
from core.transport import RetryPolicy

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "quidax"
TONCE = 1_600_000_000_000


@pytest.fixture
def load() -> Callable[[str], bytes]:
    """``load("order")``: the bytes of ``tests/fixtures/quidax/order.json``."""
    return lambda name: (FIXTURES / f"{name}.json").read_bytes()


@pytest.fixture
async def ex():
    """The connector as a user opens it (default URLs, key ``xxx``, secret ``yyy``), without
    the server-clock sync; no backoff sleeps, 429s raised at once, pools of its own."""
    connector: Quidax = connectors.open(
        "quidax", key="xxx", secret="yyy", sync_clock=False,
        retry=RetryPolicy(base_delay=0.0, max_delay=0.0, max_rate_limited_retries=0),
        rate_limits={"public": Pool(1000), "private": Pool(1000, burst=1000, period=1, per_key=True)},
    )
    yield connector
    await connector.close()


@pytest.fixture
def tonces(ex, monkeypatch) -> list[int]:
    """Tonces 1600000000000, 1600000000001, …; returns the list of those issued."""
    return fix_nonces(ex, monkeypatch, TONCE)
