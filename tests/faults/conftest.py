"""The fault campaign's common ground: one sandbox exchange per test, a connector logged in as
its demo account with limits fast enough for a test (the sandbox's own limits raised to
match), and the exchange's way of withdrawing."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

import connectors
from core.connector import Pool
from core.transport import RetryPolicy
from sandbox import Faults, Sandbox
from tests.conftest import RedisServer
from tests.contract.conftest import SYMBOLS
from tests.contract.test_contract import min_amount, quiet_price, rules

EXCHANGES = sorted(SYMBOLS)

# A few campaign tests at once touch each exchange a few dozen times: documented limits this
# slow (BTC-Alpha 1 private call/s, qTrade 45/min) would make them minutes long. Every pool is
# given to the connector explicitly, so it is the connector's own: a test never waits for
# what an earlier test (same sandbox key) spent.
FAST_POOLS: dict[str, dict[str, Pool]] = {
    "btcalpha": {"private": Pool.window(40, burst=4, per_key=True)},
    "qtrade": {"private": Pool.window(60, 60.0, burst=30, per_key=True),
               "public": Pool.window(120, 60.0, burst=40)},
}
# Backoff short enough for a test; as many retries as the defaults.
QUICK_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05)


@dataclass(slots=True)
class HitLog(Faults):
    """Faults that also note when each HTTP request reached the server (monotonic seconds)
    and what it was answered: the fault middleware asks ``active_for`` once per request."""

    hits: list[float] = field(default_factory=list)

    def active_for(self, method: str) -> bool:
        self.hits.append(time.monotonic())
        return Faults.active_for(self, method)  # zero-argument super() fails in a slots dataclass


@dataclass
class Exchange:
    """One running sandbox exchange and a connector on its demo account."""

    id: str
    symbol: str
    sb: Sandbox
    ex: connectors.Connector

    @property
    def venue(self):
        return self.sb.venue(self.id)

    @property
    def engine(self):
        return self.venue.engine

    def connector(self, *, rate_limits: dict[str, Pool] | None = None, **options: Any) -> connectors.Connector:
        """Another connector on the demo account, with pools of its own (the documented ones,
        FAST_POOLS and then ``rate_limits`` over them) and QUICK_RETRY unless told otherwise."""
        key, secret = self.sb.credentials(self.id)
        documented = connectors.connector_class(self.id).rate_limits
        pools = {**documented, **FAST_POOLS.get(self.id, {}), **(rate_limits or {})}
        options.setdefault("retry", QUICK_RETRY)
        return connectors.open(self.id, key=key, secret=secret, base_url=self.sb.url(self.id), rate_limits=pools,
                               **options)

    async def quiet_order(self, side: str = "buy") -> tuple[Decimal, Decimal]:
        """(amount, price) of an order that rests without trading."""
        market = rules(self, await self.ex.market(self.symbol))
        price = await quiet_price(self, market, side)
        return min_amount(market, price), price

    def demo_orders(self) -> list:
        return self.engine.orders("demo", self.symbol)

    def withdrawals(self) -> list:
        return self.engine.transfers("demo", "withdrawal")


@asynccontextmanager
async def open_exchanges(*ids: str, seed: int = 7, **sandbox_options: Any) -> AsyncIterator[dict[str, Exchange]]:
    """The exchanges ``ids`` in one sandbox (no market maker unless asked), each with a
    connector whose markets are loaded; by id."""
    sandbox_options.setdefault("maker_rate", 0)
    async with Sandbox(seed=seed, exchanges=ids, **sandbox_options) as sb, AsyncExitStack() as stack:
        if "btcalpha" in ids:
            sb.venue("btcalpha").windows["private"].limit = 40  # as FAST_POOLS
        opened = {}
        for exchange in ids:
            placeholder = Exchange(exchange, SYMBOLS[exchange], sb, None)  # type: ignore[arg-type]
            ex = await stack.enter_async_context(placeholder.connector())
            await ex.load_markets()
            opened[exchange] = Exchange(exchange, SYMBOLS[exchange], sb, ex)
        yield opened


@asynccontextmanager
async def open_exchange(exchange: str, **options: Any) -> AsyncIterator[Exchange]:
    async with open_exchanges(exchange, **options) as opened:
        yield opened[exchange]


@pytest.fixture(params=EXCHANGES)
async def exchange(request) -> AsyncIterator[Exchange]:
    """Each exchange in turn, alone in its sandbox, markets loaded."""
    async with open_exchange(request.param) as opened:
        yield opened


@pytest.fixture
async def every_exchange() -> AsyncIterator[dict[str, Exchange]]:
    """All five in one sandbox, for faults that take seconds: they run side by side."""
    async with open_exchanges(*EXCHANGES) as opened:
        yield opened


# -- withdrawals -----------------------------------------------------------------------------

WITHDRAW_CURRENCY = {"peatio": "BTC", "qtrade": "LTC", "quidax": "BTC"}
WITHDRAW_ADDRESS = "bc1qexconnfaultcampaign"


async def withdraw_options(venue: Exchange) -> dict[str, Any]:
    """The extra arguments ``withdraw`` needs on this exchange (Peatio: an active beneficiary
    for the address and the sandbox's 2FA code)."""
    if venue.id != "peatio":
        return {}
    prefix = "/api/v2/peatio/account/beneficiaries"
    created = await venue.ex.request("POST", prefix, {
        "currency": "btc", "name": "fault campaign", "data": {"address": WITHDRAW_ADDRESS}}, auth=True)
    await venue.ex.request("PATCH", f"{prefix}/{created['id']}/activate", {"pin": "000000"}, auth=True)
    return {"otp": "123456", "beneficiary_id": created["id"]}


# -- a redis-server that keeps what it was given ----------------------------------------------

@pytest.fixture
def durable_redis(redis_process: RedisServer, tmp_path) -> RedisServer:
    """A redis-server that fsyncs every write to an append-only file in ``tmp_path``, so
    what it acknowledged survives ``stop()`` and ``start()`` (the shared fixture's server
    keeps nothing; it is used here for its availability rules, then stopped)."""
    redis_process.stop()
    server = RedisServer(redis_process.executable, tmp_path / "durable-redis.log", "--dir", str(tmp_path),
                         "--appendonly", "yes", "--appendfsync", "always")
    server.start()
    try:
        yield server
    finally:
        server.stop()
