"""Quidax tonces against the sandbox, which enforces the spec's rules: a tonce is epoch ms,
within ±30 s of server time and single use per key.

A skewed machine clock is simulated for the connector alone (the sandbox runs in this
process on the true clock) by moving its nonce manager's clock, which both makes the
tonces and times the ``GET /timestamp`` round trip the offset is computed from."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

import connectors
from connectors.quidax import Quidax
from core.errors import AuthenticationError, InvalidNonce
from sandbox import Sandbox

SKEW_S = 60.0


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(seed=1, exchanges=["quidax"], maker_rate=0) as sandbox:
        yield sandbox


@pytest.fixture
def connector(sb, request) -> Callable[..., Quidax]:
    """``connector(secret=None, **options)``: a connector for a fresh sandbox key. Keys are
    unique across tests because connectors of one key share a nonce manager, and a tonce
    issued 60 s ahead stays its high-water mark."""

    def make(secret: str | None = None, **options) -> Quidax:
        api_key = sb.venue("quidax").add_key(request.node.name, key=uuid.uuid4().hex)
        return connectors.open("quidax", key=api_key.key, secret=secret or api_key.secret,
                               base_url=sb.url("quidax"), **options)

    return make


def skew_clock(ex: Quidax, monkeypatch, seconds: float) -> None:
    """Make the connector's machine clock read ``seconds`` off the true time."""
    skewed = lambda: time.time() + seconds  # noqa: E731
    monkeypatch.setattr(ex.nonces, "_clock", skewed)


@pytest.mark.parametrize("skew", [SKEW_S, -SKEW_S], ids=["ahead", "behind"])
async def test_clock_60s_off_without_sync_gets_invalid_nonce(connector, monkeypatch, skew):
    async with connector(sync_clock=False) as ex:
        skew_clock(ex, monkeypatch, skew)
        with pytest.raises(InvalidNonce) as raised:
            await ex.fetch_balances()
    assert raised.value.code == "2007"


@pytest.mark.parametrize("skew", [SKEW_S, -SKEW_S], ids=["ahead", "behind"])
async def test_clock_60s_off_is_absorbed_by_the_server_time_offset(connector, monkeypatch, skew):
    async with connector() as ex:
        skew_clock(ex, monkeypatch, skew)
        balances = await ex.fetch_balances()
        open_orders = await ex.fetch_open_orders("BTC/NGN")
    assert "NGN" in balances and open_orders == []
    assert abs(ex.nonces.offset + skew * 1000) < 2000  # ms: the offset undoes the skew (±1 s truncation)


async def test_wrong_secret_is_authentication_error_not_invalid_nonce(connector):
    async with connector(secret="not-the-secret") as ex:
        with pytest.raises(AuthenticationError) as raised:
            await ex.fetch_balances()
    assert type(raised.value) is AuthenticationError and raised.value.code == "2005"


async def test_expired_tonce_is_invalid_nonce(connector, monkeypatch):
    async with connector(sync_clock=False) as ex:
        expired = int((time.time() - 31) * 1000)  # ms, just outside the 30 s window
        tonces = iter(range(expired, expired + 10))
        monkeypatch.setattr(ex.nonces._sequence, "_next", lambda: next(tonces))
        with pytest.raises(InvalidNonce) as raised:
            await ex.fetch_balances()
    assert raised.value.code == "2007" and "invalid" in raised.value.message


async def test_reused_tonce_is_invalid_nonce(connector, monkeypatch):
    async with connector(sync_clock=False) as ex:
        tonce = int(time.time() * 1000)
        monkeypatch.setattr(ex.nonces._sequence, "_next", lambda: tonce)
        await ex.fetch_balances()
        with pytest.raises(InvalidNonce) as raised:
            await ex.fetch_balances()
    assert raised.value.code == "2006"


async def test_concurrent_private_calls_never_reuse_a_tonce(connector):
    async with connector() as ex:
        results = await asyncio.gather(*(ex.fetch_balances() for _ in range(50)))
    assert len(results) == 50
