"""Start the five sandbox exchanges on loopback ports."""

from __future__ import annotations

import asyncio
import importlib
import random
from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import ModuleType

from aiohttp import web

from sandbox.engine import Engine
from sandbox.market_maker import MarketMaker
from sandbox.venue import DEMO_ACCOUNT, MAKER_ACCOUNT, Venue

__all__ = ["Sandbox", "EXCHANGES"]

# Each module defines MARKETS (tuple[MarketSpec]), MIDS (symbol -> mid price) and
# create_app(venue) -> web.Application.
_MODULES = {
    "btcalpha": "sandbox.exchanges.btcalpha",
    "coindcx": "sandbox.exchanges.coindcx",
    "peatio": "sandbox.exchanges.peatio",
    "qtrade": "sandbox.exchanges.qtrade",
    "quidax": "sandbox.exchanges.quidax",
}
EXCHANGES: tuple[str, ...] = tuple(sorted(_MODULES))

DEMO_FUNDS = Decimal(1_000_000)
MAKER_FUNDS = Decimal(100_000_000)


class Sandbox:
    """All five exchanges, each an aiohttp app on its own loopback port.

        async with Sandbox(seed=0) as sb:
            url = sb.url("btcalpha"); key, secret = sb.credentials("btcalpha")

    ``maker_rate`` is engine events per second per venue from the market maker (0: off);
    ``ports`` maps exchange ids to fixed ports (default: free ports); ``history`` bounds the
    fills and closed orders each venue remembers, so a sandbox can run for days."""

    def __init__(
        self,
        seed: int = 0,
        *,
        host: str = "127.0.0.1",
        ports: Mapping[str, int] | None = None,
        exchanges: Iterable[str] | None = None,
        maker_rate: float = 20.0,
        history: int | None = 20_000,
    ) -> None:
        self.seed = seed
        self.host = host
        self._ports = dict(ports or {})
        wanted = tuple(exchanges) if exchanges is not None else EXCHANGES
        unknown = set(wanted) - set(EXCHANGES)
        if unknown:
            raise ValueError(f"unknown exchanges {sorted(unknown)}; known: {list(EXCHANGES)}")
        self.exchanges = wanted
        self.maker_rate = maker_rate
        self.history = history
        self._venues: dict[str, Venue] = {}
        self._makers: dict[str, MarketMaker] = {}
        self._runners: list[web.AppRunner] = []
        self._urls: dict[str, str] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        try:
            for exchange in self.exchanges:
                await self._start_one(exchange, importlib.import_module(_MODULES[exchange]))
        except BaseException:
            await self.close()
            raise

    async def _start_one(self, exchange: str, module: ModuleType) -> None:
        rng = random.Random(f"{self.seed}:{exchange}")
        venue = Venue(exchange, Engine(history=self.history), rng)
        for spec in module.MARKETS:
            venue.engine.add_market(spec)
        venue.add_key(DEMO_ACCOUNT)
        venue.add_key(MAKER_ACCOUNT)
        currencies = {c for spec in module.MARKETS for c in (spec.base, spec.quote)}
        venue.fund(DEMO_ACCOUNT, {c: DEMO_FUNDS for c in sorted(currencies)})
        venue.fund(MAKER_ACCOUNT, {c: MAKER_FUNDS for c in sorted(currencies)})
        maker = MarketMaker(venue, module.MIDS, seed=self.seed)
        maker.seed_books()
        app = module.create_app(venue)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, self.host, self._ports.get(exchange, 0), reuse_address=True)
        await site.start()
        port = runner.addresses[0][1]
        self._urls[exchange] = f"http://{self.host}:{port}"
        self._venues[exchange] = venue
        self._makers[exchange] = maker
        if self.maker_rate > 0:
            self._tasks.append(asyncio.create_task(maker.run(self.maker_rate), name=f"sandbox-maker-{exchange}"))

    async def close(self) -> None:
        """Stop the market makers and every server. Idempotent."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        runners, self._runners = self._runners, []
        for runner in runners:
            await runner.cleanup()

    def url(self, exchange: str) -> str:
        """Base URL (``http://127.0.0.1:PORT``) to pass as a connector's ``base_url``."""
        return self._urls[self._known(exchange)]

    def ws_url(self, exchange: str) -> str:
        """The same server as a websocket base URL (``ws://127.0.0.1:PORT``)."""
        return "ws" + self.url(exchange)[4:]

    def credentials(self, exchange: str) -> tuple[str, str]:
        """(key, secret) of the funded demo account."""
        api_key = self.venue(exchange).key_for(DEMO_ACCOUNT)
        return api_key.key, api_key.secret

    def venue(self, exchange: str) -> Venue:
        """The engine's true state and the fault switches of one exchange."""
        return self._venues[self._known(exchange)]

    def market_maker(self, exchange: str) -> MarketMaker:
        return self._makers[self._known(exchange)]

    def _known(self, exchange: str) -> str:
        if exchange not in self._venues:
            raise KeyError(f"{exchange!r} is not running in this sandbox; running: {sorted(self._venues)}")
        return exchange
