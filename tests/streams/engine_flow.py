"""Random order flows from the sandbox engine, as BTC-Alpha socket messages, for book tests."""

import random
from decimal import Decimal

from connectors.btcalpha.schemas import SocketMessageRaw, SocketTradeRaw
from sandbox.engine import CancelEvent, Engine, MarketSpec, OrderEvent
from sandbox.market_maker import MarketMaker
from sandbox.venue import MAKER_ACCOUNT, Venue
from streams.book import BookOrder

SPEC = MarketSpec("BTC/USD", "BTC", "USD", 3, 6, Decimal("0.0001"), Decimal("1000"), Decimal("1"), Decimal("100000"))


def message(event) -> SocketMessageRaw:
    """The socket message BTC-Alpha sends for an engine event."""
    order = event.order
    date = Decimal(order.updated_ms) / 1000
    if isinstance(event, CancelEvent):
        return SocketMessageRaw(order.id, order.side, order.price, order.remaining, date, cancelled=True,
                                cancel_order_id=order.id)
    trades = [SocketTradeRaw(f.id, "sell" if order.side == "buy" else "buy", f.price, f.amount, f.maker_order_id)
              for f in event.fills]
    rests = order.status == "open"
    return SocketMessageRaw(order.id, order.side, order.price, order.remaining if rests else Decimal(0), date, trades)


def snapshot_of(engine: Engine, symbol: str = "BTC/USD") -> list[BookOrder]:
    bids, asks = engine.book(symbol)
    return ([BookOrder(o.id, "buy", o.price, o.remaining) for o in bids]
            + [BookOrder(o.id, "sell", o.price, o.remaining) for o in asks])


def flow(seed: int, steps: int) -> tuple[list[SocketMessageRaw], list[list[BookOrder]]]:
    """(messages, book after each message); books[0] is the seeded book before the first."""
    venue = Venue("btcalpha", Engine(clock_ms=lambda: 1_700_000_000_000), random.Random(seed))
    venue.engine.add_market(SPEC)
    venue.add_key(MAKER_ACCOUNT)
    venue.fund(MAKER_ACCOUNT, {"BTC": Decimal(10**6), "USD": Decimal(10**9)})
    maker = MarketMaker(venue, {"BTC/USD": Decimal("911.5")}, seed=seed, depth=8)
    maker.seed_books(5)
    events: list = []
    books = [snapshot_of(venue.engine)]
    venue.engine.subscribe(events.append)
    while len(events) < steps:
        before = len(events)
        maker.step()
        if len(events) > before:
            books.append(snapshot_of(venue.engine))
    return [message(e) for e in events], books
