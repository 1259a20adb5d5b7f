"""The contract every connector passes against the sandbox (one parametrised suite)."""

from dataclasses import dataclass

import pytest

import connectors
from sandbox import Sandbox

# The symbol each exchange's contract runs on, and whether its cancels are asynchronous.
SYMBOLS = {
    "btcalpha": "BTC/USD",
    "coindcx": "BTC/INR",
    "peatio": "ETH/USDT",
    "qtrade": "LTC/BTC",
    "quidax": "BTC/NGN",
}


@dataclass
class Venue:
    """A running sandbox exchange and a connector logged in as its demo account."""

    id: str
    symbol: str
    sb: Sandbox
    ex: connectors.Connector

    @property
    def engine(self):
        return self.sb.venue(self.id).engine

    def connector(self, key: str | None = None, secret: str | None = None, **options) -> connectors.Connector:
        return connectors.open(self.id, key=key, secret=secret, base_url=self.sb.url(self.id), **options)


@pytest.fixture(params=[ex for ex in sorted(SYMBOLS) if ex in connectors.EXCHANGES])
async def venue(request):
    exchange = request.param
    async with Sandbox(seed=1, exchanges=[exchange], maker_rate=0) as sb:
        key, secret = sb.credentials(exchange)
        async with connectors.open(exchange, key=key, secret=secret, base_url=sb.url(exchange)) as ex:
            yield Venue(exchange, SYMBOLS[exchange], sb, ex)
