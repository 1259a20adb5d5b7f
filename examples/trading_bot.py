"""A small quoting bot: keeps one buy and one sell order around the mid price of one market.

    python3 examples/trading_bot.py                                  # Peatio ETH/USDT in the sandbox, Ctrl-C stops
    python3 examples/trading_bot.py --exchange btcalpha --symbol BTC/USD --duration 30 --faults

It runs against the built-in sandbox exchange, so it needs no network and no account;
``--faults`` makes the sandbox answer some requests with 5xx *after* applying them, with
5xx before applying them, and with 429, which is what the bot is here to show:

- ``OutcomeUnknown`` (a create or cancel was sent but its answer was lost): the order may
  exist. The bot never just sends it again: it looks the order up first
  (``core.reconcile.find_order``: the open orders and the order history) and adopts it if
  it is there; only when it is certainly absent is the order placed again. A lost cancel
  is settled by reading the order's status.
- ``RateLimited``: the bot waits ``retry_after`` seconds (or backs off) and carries on.
- Other network errors: back off and carry on; the exchange's state is re-read each cycle.
- Ctrl-C or SIGTERM: stop quoting, cancel the bot's own orders, close, exit 0 (a second
  Ctrl-C exits at once).

To trade on a real exchange, open the connector with your own key and secret and no
``base_url`` (see docs/auth.md), and call :func:`run_bot` with it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import sys
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_UP, Decimal

import connectors
from core.errors import ExconnError, InsufficientFunds, NetworkError, OrderNotFound, OutcomeUnknown, RateLimited
from core.models import Market, Order
from core.reconcile import find_order
from core.timestamps import now_ms
from sandbox import Sandbox

SIDES = ("buy", "sell")
# what --faults switches on in the sandbox: probabilities per request
DEMO_FAULTS = {"error_after": 0.15, "error_before": 0.05, "rate_limit": 0.05}


@dataclass
class Stats:
    """What the bot did, for the summary line."""

    cycles: int = 0
    placed: int = 0
    canceled: int = 0
    filled: int = 0
    outcome_unknown: int = 0
    adopted: int = 0  # lost creates found on the exchange and taken over
    rate_limited: int = 0
    network_errors: int = 0

    def __str__(self) -> str:
        return " ".join(f"{name}={value}" for name, value in vars(self).items())


@dataclass
class QuotingBot:
    """One quote per side at ``spread`` (a fraction, 0.002 = 0.2 %) from the mid price,
    requoted when the mid moves by more than ``tolerance`` (a fraction too)."""

    ex: connectors.Connector
    symbol: str
    amount: Decimal
    spread: Decimal = Decimal("0.002")
    tolerance: Decimal = Decimal("0.001")
    settle: float = 1.0  # seconds to wait before a second look for a lost order (find_order's)
    stats: Stats = field(default_factory=Stats)
    quotes: dict[str, Order] = field(default_factory=dict)  # side -> our live order
    ours: set[str] = field(default_factory=set)  # every order id the bot placed or adopted
    others: set[str] = field(default_factory=set)  # ids the exchange listed before we started
    unresolved: dict[str, tuple[Decimal, int]] = field(default_factory=dict)  # side -> (price, sent at ms)
    market: Market | None = None

    async def start(self) -> None:
        self.market = await self.ex.market(self.symbol)
        self.others = {o.id for o in await self.ex.fetch_orders(self.symbol)}

    async def cycle(self) -> None:
        """Re-read the book and our orders, then requote each side that needs it."""
        self.stats.cycles += 1
        book = await self.ex.fetch_order_book(self.symbol, limit=5)
        if book.best_bid is None or book.best_ask is None:
            return
        mid = (book.best_bid.price + book.best_ask.price) / 2
        open_ids = {o.id for o in await self.ex.fetch_open_orders(self.symbol)}
        for side in SIDES:
            quote = self.quotes.get(side)
            if quote is not None and quote.id not in open_ids:
                self.stats.filled += 1  # gone without our cancel: it traded
                del self.quotes[side]
            if side in self.unresolved:
                await self._resolve(side)  # raises while the exchange cannot be read: nothing is placed
            target = self._price(side, mid)
            quote = self.quotes.get(side)
            if quote is not None and quote.price is not None and abs(quote.price - target) <= mid * self.tolerance:
                continue
            if quote is not None and not await self._cancel(side, quote):
                continue
            await self._place(side, target)

    async def stop(self) -> None:
        """Cancel every order the bot owns (settling lost creates first)."""
        for side in list(self.unresolved):
            await self._resolve(side)
        for order in await self.ex.fetch_open_orders(self.symbol):
            if order.id in self.ours:
                try:
                    await self.ex.cancel_order(order.id, self.symbol)
                    self.stats.canceled += 1
                except OrderNotFound:
                    pass
        self.quotes.clear()

    def _price(self, side: str, mid: Decimal) -> Decimal:
        assert self.market is not None
        step = Decimal(1).scaleb(-(self.market.price_precision or 8))
        if side == "buy":
            return (mid * (1 - self.spread)).quantize(step, rounding=ROUND_DOWN)
        return (mid * (1 + self.spread)).quantize(step, rounding=ROUND_UP)

    async def _place(self, side: str, price: Decimal) -> None:
        sent_at = now_ms()
        try:
            order = await self.ex.create_order(self.symbol, side, self.amount, price)
        except OutcomeUnknown:
            self.stats.outcome_unknown += 1
            self.unresolved[side] = (price, sent_at)
            await self._resolve(side)
            return
        except InsufficientFunds:
            return  # the other side will trade it back
        self._adopt(side, order)
        self.stats.placed += 1

    async def _resolve(self, side: str) -> None:
        """Settle a create whose outcome is unknown: adopt the order if the exchange lists it,
        else forget it (the caller places it again)."""
        price, sent_at = self.unresolved[side]
        order = await find_order(self.ex, self.symbol, side, self.amount, price, sent_at=sent_at,
                                 known=self.ours | self.others, settle=self.settle)
        del self.unresolved[side]
        if order is None:
            return
        self.stats.adopted += 1
        if order.status in ("open", "pending"):
            self._adopt(side, order)
        else:
            self.ours.add(order.id)  # it filled at once: nothing to quote with

    async def _cancel(self, side: str, order: Order) -> bool:
        """Cancel our quote; True when it is certainly gone."""
        try:
            await self.ex.cancel_order(order.id, self.symbol)
        except OrderNotFound:
            pass  # already filled or canceled
        except OutcomeUnknown:
            self.stats.outcome_unknown += 1
            if (await self.ex.fetch_order(order.id, self.symbol)).status in ("open", "pending"):
                return False  # the cancel did not land (or not yet): the next cycle tries again
        self.stats.canceled += 1
        del self.quotes[side]
        return True

    def _adopt(self, side: str, order: Order) -> None:
        self.ours.add(order.id)
        self.quotes[side] = order


async def run_bot(bot: QuotingBot, stop: asyncio.Event, *, interval: float = 1.0,
                  max_backoff: float = 10.0) -> Stats:
    """Quote every ``interval`` seconds until ``stop`` is set, then cancel the bot's orders."""
    rng = random.Random()
    failures = 0
    await bot.start()
    try:
        while not stop.is_set():
            pause = interval
            try:
                await bot.cycle()
                failures = 0
            except RateLimited as exc:
                bot.stats.rate_limited += 1
                failures += 1
                pause = exc.retry_after if exc.retry_after is not None else min(max_backoff, 2 ** failures)
            except (NetworkError, OutcomeUnknown) as exc:  # a read failed, or a lost cancel's lookup did
                bot.stats.network_errors += 1
                failures += 1
                pause = rng.uniform(0, min(max_backoff, 0.25 * 2 ** failures))
                print(f"  {type(exc).__name__}: {exc}; retrying in {pause:.2f} s", file=sys.stderr)
            try:
                await asyncio.wait_for(stop.wait(), pause)
            except TimeoutError:
                pass
    finally:
        await _stop_with_retries(bot)
    return bot.stats


async def _stop_with_retries(bot: QuotingBot, attempts: int = 5) -> None:
    for attempt in range(attempts):
        try:
            await bot.stop()
            return
        except ExconnError as exc:
            print(f"  cleanup: {type(exc).__name__}: {exc}", file=sys.stderr)
            await asyncio.sleep(0.5 * (attempt + 1))
    print("  cleanup gave up: some orders may still be open", file=sys.stderr)


async def main(args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    current = asyncio.current_task()
    assert current is not None

    def on_signal() -> None:
        if stop.is_set():
            current.cancel()  # second Ctrl-C: leave now
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    if args.duration is not None:
        loop.call_later(args.duration, stop.set)
    async with Sandbox(seed=args.seed, exchanges=[args.exchange]) as sb:
        key, secret = sb.credentials(args.exchange)
        async with connectors.open(args.exchange, key=key, secret=secret, base_url=sb.url(args.exchange)) as ex:
            bot = QuotingBot(ex, args.symbol, Decimal(args.amount))
            print(f"quoting {args.symbol} on {args.exchange} (sandbox {sb.url(args.exchange)}); Ctrl-C to stop",
                  flush=True)
            with sb.venue(args.exchange).inject(**DEMO_FAULTS) if args.faults else nullcontext():
                stats = await run_bot(bot, stop, interval=args.interval)
    print(f"stopped: {stats}", flush=True)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exchange", default="peatio", choices=connectors.EXCHANGES)
    parser.add_argument("--symbol", default="ETH/USDT")
    parser.add_argument("--amount", default="0.05", help="order size, base currency (default 0.05)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between cycles (default 1)")
    parser.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    parser.add_argument("--faults", action="store_true", help="make the sandbox fail some requests")
    parser.add_argument("--seed", type=int, default=0, help="sandbox seed")
    return parser.parse_args(argv)


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(parse_args())))
    except asyncio.CancelledError:
        sys.exit(130)
