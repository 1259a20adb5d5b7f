"""Property tests of the matching engine: random flows of orders, cancels and transfers over
several accounts and two markets that share a currency, with the engine's invariants checked
after every step."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal as D

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from sandbox.engine import (
    CancelEvent,
    Engine,
    EngineOrder,
    Fill,
    InsufficientBalance,
    MarketSpec,
    OrderEvent,
    OrderRejected,
)

MARKETS = {
    "BTC/USD": MarketSpec(
        symbol="BTC/USD", base="BTC", quote="USD", price_precision=1, amount_precision=2,
        min_amount=D("0.01"), max_amount=D("50"), min_price=D("0.1"), max_price=D("1000"),
        min_cost=D("0.1"), maker_fee=D("0.001"), taker_fee=D("0.002"),
    ),
    "ETH/BTC": MarketSpec(
        symbol="ETH/BTC", base="ETH", quote="BTC", price_precision=3, amount_precision=3,
        min_amount=D("0.001"), max_amount=D("100"), min_price=D("0.001"), max_price=D("10"),
        maker_fee=D("0.0015"), taker_fee=D("0.0033"),
    ),
}
# Narrow price grids (integer ticks times a step) so that orders cross often.
PRICE_TICKS = {"BTC/USD": (range(95, 106), D("0.1")), "ETH/BTC": (range(45, 56), D("0.1"))}
AMOUNT_STEP = {"BTC/USD": D("0.01"), "ETH/BTC": D("0.001")}
LOT = {"BTC/USD": D("0.01"), "ETH/BTC": D("0.007")}  # amounts are whole lots; 0.007 leaves odd sums
ACCOUNTS = ("ann", "ben", "cat", "mm")
INITIAL = {"USD": D("60"), "BTC": D("30"), "ETH": D("60")}  # small, so funds often bind

accounts = st.sampled_from(ACCOUNTS)
symbols = st.sampled_from(sorted(MARKETS))
sides = st.sampled_from(("buy", "sell"))


def fingerprint(engine: Engine) -> object:
    """Everything a refused call must leave as it was."""
    return (
        {a: engine.balances(a) for a in (*ACCOUNTS, Engine.FEE_ACCOUNT)},
        {a: [(o.id, o.status, o.remaining) for o in engine.orders(a)] for a in ACCOUNTS},
        [[[(o.id, o.remaining) for o in side] for side in engine.book(s)] for s in MARKETS],
        len(engine.fills()),
    )


def priority_key(order: EngineOrder) -> tuple[D, int]:
    assert order.price is not None
    return (-order.price if order.side == "buy" else order.price, order.id)


def next_untouched_price(opposite: list[tuple[int, D, D]], fills: tuple[Fill, ...]) -> D | None:
    """Price of the first resting (id, price, remaining) the fills left liquidity in, None if swept."""
    if fills and fills[-1].amount < opposite[len(fills) - 1][2]:
        return fills[-1].price
    return opposite[len(fills)][1] if len(fills) < len(opposite) else None


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        ticks = iter(range(1_700_000_000_000, 1_800_000_000_000))
        self.engine = Engine(clock_ms=lambda: next(ticks))
        for spec in MARKETS.values():
            self.engine.add_market(spec)
        self.supply: dict[str, D] = defaultdict(D)
        for account in ACCOUNTS:
            self.engine.create_account(account)
            for currency, amount in INITIAL.items():
                self.engine.deposit(account, currency, amount)
                self.supply[currency] += amount
        self.events: list[OrderEvent | CancelEvent] = []
        self.engine.subscribe(self.events.append)
        self.replayed: dict[int, EngineOrder] = {}  # order-level book rebuilt from events only
        self.applied = 0  # how many events have been replayed
        self.pending_withdrawals: list[int] = []

    # -- helpers ----------------------------------------------------------------------------

    def expect_one_event(self, count_before: int) -> OrderEvent | CancelEvent:
        assert len(self.events) == count_before + 1
        return self.events[-1]

    def place(self, account: str, symbol: str, side: str, amount: D, price: D | None, type: str) -> None:
        engine = self.engine
        bids, asks = engine.book(symbol)
        opposite = [(o.id, o.price or D(0), o.remaining) for o in (asks if side == "buy" else bids)]
        before, count = fingerprint(engine), len(self.events)
        try:
            event = engine.place_order(account, symbol, side, amount, price, type=type)
        except (InsufficientBalance, OrderRejected):
            assert fingerprint(engine) == before and len(self.events) == count
            return
        assert self.expect_one_event(count) is event
        order, fills = event.order, event.fills
        assert order.filled == sum((f.amount for f in fills), D(0))
        assert order.remaining + order.filled == order.amount
        # Price-time priority: the fills consume the opposite side exactly from its front.
        for i, fill in enumerate(fills):
            maker_id, maker_price, maker_remaining = opposite[i]
            assert (fill.maker_order_id, fill.price, fill.taker_order_id) == (maker_id, maker_price, order.id)
            assert fill.amount == maker_remaining if i < len(fills) - 1 else fill.amount <= maker_remaining
            if price is not None:
                assert fill.price <= price if side == "buy" else fill.price >= price
        prices = [f.price for f in fills]
        assert prices == (sorted(prices) if side == "buy" else sorted(prices, reverse=True))
        untouched = next_untouched_price(opposite, fills)
        if type == "market":
            assert order.status == ("filled" if not order.remaining else "canceled" if fills else "rejected")
            if order.remaining and side == "sell":
                assert untouched is None
            self_trade = any(f.maker_account == account for f in fills)
            if order.remaining and side == "buy" and untouched is not None and not self_trade:
                # It stopped only because the quote it has left cannot pay one more amount step
                # (a self-trade hands quote back after the fact, so it is not judged by this).
                left = engine.balances(account)[MARKETS[symbol].quote].available
                assert left < untouched * AMOUNT_STEP[symbol]
        else:
            assert order.status == ("filled" if not order.remaining else "open")
            if order.remaining and untouched is not None:
                assert untouched > price if side == "buy" else untouched < price  # type: ignore[operator]

    # -- rules --------------------------------------------------------------------------------

    @initialize(lots=st.lists(st.integers(1, 100), min_size=12, max_size=12))
    def seed_books(self, lots: list[int]) -> None:
        """A market maker's ladder, so that takers usually find something to trade with."""
        for symbol, (ticks, step) in PRICE_TICKS.items():
            mid = ticks[len(ticks) // 2]
            for i in range(1, 4):
                self.place("mm", symbol, "buy", lots.pop() * LOT[symbol], (mid - i) * step, "limit")
                self.place("mm", symbol, "sell", lots.pop() * LOT[symbol], (mid + i) * step, "limit")

    @rule(account=accounts, symbol=symbols, side=sides, tick=st.integers(0, 10), lots=st.integers(1, 1500),
          extra_decimals=st.integers(0, 9).map(lambda n: n == 0))
    def place_limit(self, account: str, symbol: str, side: str, tick: int, lots: int, extra_decimals: bool) -> None:
        ticks, step = PRICE_TICKS[symbol]
        price = ticks[tick] * step
        if extra_decimals:  # more decimals than the market allows: must be refused untouched
            price += step / 1000
        self.place(account, symbol, side, lots * LOT[symbol], price, "limit")

    @rule(account=accounts, symbol=symbols, side=sides, lots=st.integers(1, 1500))
    def place_market(self, account: str, symbol: str, side: str, lots: int) -> None:
        self.place(account, symbol, side, lots * LOT[symbol], None, "market")

    @precondition(lambda self: any(self.engine.orders(a, open_only=True) for a in ACCOUNTS))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        open_orders = [o for a in ACCOUNTS for o in self.engine.orders(a, open_only=True)]
        order = data.draw(st.sampled_from(open_orders))
        count = len(self.events)
        event = self.engine.cancel_order(order.account, order.id)
        assert self.expect_one_event(count) is event
        assert (event.order.status, event.order.remaining) == ("canceled", order.remaining)

    @rule(account=accounts, symbol=st.none() | symbols, side=st.none() | sides)
    def cancel_all(self, account: str, symbol: str | None, side: str | None) -> None:
        count = len(self.events)
        expected = [o.id for o in reversed(self.engine.orders(account, symbol, open_only=True))
                    if side is None or o.side == side]
        events = self.engine.cancel_all(account, symbol, side)
        assert [e.order.id for e in events] == expected
        assert self.events[count:] == events

    @rule(account=accounts, currency=st.sampled_from(sorted(INITIAL)), amount=st.integers(1, 100),
          fee=st.integers(0, 3))
    def withdraw(self, account: str, currency: str, amount: int, fee: int) -> None:
        before = fingerprint(self.engine)
        try:
            record = self.engine.withdraw(account, currency, D(amount) / 4, "addr", fee=D(fee) / 100)
        except InsufficientBalance:
            assert fingerprint(self.engine) == before
            return
        self.pending_withdrawals.append(record.id)

    @precondition(lambda self: self.pending_withdrawals)
    @rule(data=st.data(), outcome=st.sampled_from(("ok", "failed", "canceled")))
    def settle_withdrawal(self, data: st.DataObject, outcome: str) -> None:
        transfer_id = data.draw(st.sampled_from(self.pending_withdrawals))
        self.pending_withdrawals.remove(transfer_id)
        if outcome == "canceled":
            record = self.engine.cancel_withdrawal(transfer_id)
        else:
            record = self.engine.complete_withdrawal(transfer_id, ok=outcome == "ok")
        assert record.status == outcome
        if outcome == "ok":
            self.supply[record.currency] -= record.amount

    @rule(account=accounts, currency=st.sampled_from(sorted(INITIAL)), amount=st.integers(1, 100))
    def deposit(self, account: str, currency: str, amount: int) -> None:
        self.engine.deposit(account, currency, D(amount))
        self.supply[currency] += amount

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def book_is_never_crossed(self) -> None:
        for symbol in MARKETS:
            bids, asks = self.engine.levels(symbol)
            if bids and asks:
                assert bids[0][0] < asks[0][0]

    @invariant()
    def money_is_conserved(self) -> None:
        for currency, amount in self.supply.items():
            assert self.engine.total_supply(currency) == amount

    @invariant()
    def locked_is_what_open_orders_and_withdrawals_need(self) -> None:
        needed: dict[tuple[str, str], D] = defaultdict(D)
        for account in ACCOUNTS:
            for order in self.engine.orders(account, open_only=True):
                spec = MARKETS[order.symbol]
                assert order.price is not None
                if order.side == "buy":
                    needed[account, spec.quote] += order.price * order.remaining
                else:
                    needed[account, spec.base] += order.remaining
            for record in self.engine.transfers(account, "withdrawal"):
                if record.status == "pending":
                    needed[account, record.currency] += record.amount + record.fee
        for account in (*ACCOUNTS, Engine.FEE_ACCOUNT):
            for currency, balance in self.engine.balances(account).items():
                assert balance.locked == needed[account, currency], (account, currency)

    @invariant()
    def no_balance_is_negative(self) -> None:
        for account in (*ACCOUNTS, Engine.FEE_ACCOUNT):
            for balance in self.engine.balances(account).values():
                assert balance.available >= 0 and balance.locked >= 0

    @invariant()
    def book_is_in_priority_order_and_orders_are_consistent(self) -> None:
        for symbol in MARKETS:
            for side, orders in zip(("buy", "sell"), self.engine.book(symbol)):
                assert all(o.side == side and o.status == "open" and o.remaining > 0 for o in orders)
                assert [o.id for o in orders] == [o.id for o in sorted(orders, key=priority_key)]
        for account in ACCOUNTS:
            for order in self.engine.orders(account):
                assert order.remaining + order.filled == order.amount

    @invariant()
    def replaying_events_reproduces_the_book(self) -> None:
        for expected_seq, event in enumerate(self.events, start=1):
            assert event.seq == expected_seq
        for event in self.events[self.applied:]:
            self.apply(event)
        self.applied = len(self.events)
        for symbol in MARKETS:
            replayed = [o for o in self.replayed.values() if o.symbol == symbol]
            bids = sorted((o for o in replayed if o.side == "buy"), key=priority_key)
            asks = sorted((o for o in replayed if o.side == "sell"), key=priority_key)
            engine_bids, engine_asks = self.engine.book(symbol)
            for mine, theirs in ((bids, engine_bids), (asks, engine_asks)):
                assert [(o.id, o.price, o.remaining) for o in mine] == \
                    [(o.id, o.price, o.remaining) for o in theirs]

    def apply(self, event: OrderEvent | CancelEvent) -> None:
        if isinstance(event, CancelEvent):
            resting = self.replayed.pop(event.order.id)
            assert resting.remaining == event.order.remaining
            return
        for fill in event.fills:
            maker = self.replayed[fill.maker_order_id]
            maker.remaining -= fill.amount
            if not maker.remaining:
                del self.replayed[maker.id]
        if event.order.status == "open":
            resting = event.order
            self.replayed[resting.id] = EngineOrder(
                resting.id, resting.account, resting.symbol, resting.side, resting.type, resting.price,
                resting.amount, resting.remaining, resting.filled, resting.cost, resting.status,
                resting.created_ms, resting.updated_ms,
            )


EngineMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestEngineProperties = EngineMachine.TestCase
