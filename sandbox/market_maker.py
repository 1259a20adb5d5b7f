"""A seeded, deterministic market maker that keeps a venue's books and trades moving."""

from __future__ import annotations

import asyncio
import random
from decimal import ROUND_DOWN, Decimal

from sandbox.engine import EngineError, MarketSpec
from sandbox.venue import MAKER_ACCOUNT, Venue

__all__ = ["MarketMaker"]


class MarketMaker:
    """Places, cancels and crosses orders on every market of a venue.

    Each :meth:`step` is one engine event (a new order or a cancel), chosen from the
    venue's seeded RNG, so the same seed gives the same flow. ``run(rate)`` steps
    ``rate`` times a second until cancelled."""

    __slots__ = ("venue", "rng", "depth", "_mids", "_specs")

    def __init__(self, venue: Venue, mids: dict[str, Decimal], *, depth: int = 25, seed: int = 0) -> None:
        self.venue = venue
        self.rng = random.Random(f"maker:{venue.exchange}:{seed}")
        self.depth = depth
        self._mids = dict(mids)
        self._specs: list[MarketSpec] = [venue.engine.markets()[s] for s in sorted(mids)]

    def seed_books(self, levels: int = 10) -> None:
        """Put ``levels`` resting orders on each side of every market."""
        for spec in self._specs:
            mid = self._mids[spec.symbol]
            tick = Decimal(1).scaleb(-spec.price_precision)
            for i in range(1, levels + 1):
                self._place(spec, "buy", mid - tick * i * 3)
                self._place(spec, "sell", mid + tick * i * 3)

    def step(self) -> None:
        """One engine event on a random market."""
        spec = self.rng.choice(self._specs)
        engine = self.venue.engine
        bids, asks = engine.book(spec.symbol)
        own = [o for o in bids + asks if o.account == MAKER_ACCOUNT]
        roll = self.rng.random()
        if own and (roll < 0.30 or len(own) > 2 * self.depth):
            victim = self.rng.choice(own)
            try:
                engine.cancel_order(MAKER_ACCOUNT, victim.id)
            except EngineError:
                pass
            return
        mid = self._walk(spec)
        tick = Decimal(1).scaleb(-spec.price_precision)
        side = "buy" if self.rng.random() < 0.5 else "sell"
        if roll < 0.45 and bids and asks:
            # cross the spread: a taker order that trades against the opposite side
            price = asks[0].price + tick if side == "buy" else bids[0].price - tick
        else:
            offset = tick * self.rng.randint(1, 40)
            price = mid - offset if side == "buy" else mid + offset
        self._place(spec, side, price)

    async def run(self, rate: float) -> None:
        """Step ``rate`` times a second until cancelled."""
        loop = asyncio.get_running_loop()
        interval = 1.0 / rate
        next_at = loop.time()
        while True:
            self.step()
            next_at += interval
            delay = next_at - loop.time()
            if delay < -1.0:  # fell far behind (loop was busy): don't burst to catch up
                next_at = loop.time()
                delay = 0.0
            await asyncio.sleep(max(0.0, delay))

    def _walk(self, spec: MarketSpec) -> Decimal:
        mid = self._mids[spec.symbol]
        tick = Decimal(1).scaleb(-spec.price_precision)
        mid += tick * self.rng.randint(-2, 2)
        mid = min(max(mid, spec.min_price * 10), spec.max_price / 10)
        self._mids[spec.symbol] = mid
        return mid

    def _place(self, spec: MarketSpec, side: str, price: Decimal) -> None:
        price = price.quantize(Decimal(1).scaleb(-spec.price_precision), rounding=ROUND_DOWN)
        if price < spec.min_price or price > spec.max_price:
            return
        step = Decimal(1).scaleb(-spec.amount_precision)
        low = max(spec.min_amount, step)
        units = self.rng.randint(1, 50)
        amount = (low * units).quantize(step, rounding=ROUND_DOWN)
        if spec.min_cost and amount * price < spec.min_cost:
            amount = (spec.min_cost / price * Decimal("1.5")).quantize(step, rounding=ROUND_DOWN) + step
        if amount > spec.max_amount:
            return
        try:
            self.venue.engine.place_order(MAKER_ACCOUNT, spec.symbol, side, amount, price)
        except EngineError:
            pass  # e.g. the maker ran short of one currency: skip this step
