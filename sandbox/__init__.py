"""The offline sandbox exchange: a matching engine and one aiohttp app per exchange.

    async with sandbox.Sandbox(seed=0) as sb:
        sb.url("btcalpha"), sb.credentials("btcalpha"), sb.venue("btcalpha")
"""

from sandbox.server import EXCHANGES, Sandbox
from sandbox.venue import Faults, Venue

__all__ = ["Sandbox", "EXCHANGES", "Venue", "Faults"]
