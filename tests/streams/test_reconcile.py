"""Placing a REST snapshot in BTC-Alpha's unsequenced event stream (streams.btcalpha.unreflected)."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.btcalpha.schemas import SocketMessageRaw, SocketTradeRaw
from streams.book import BookOrder, LocalBook
from streams.btcalpha import apply_event, unreflected
from tests.streams.engine_flow import flow

D = Decimal


def rebuild(snapshot: list[BookOrder], pending: list[SocketMessageRaw]) -> list[tuple]:
    book = LocalBook("BTC/USD")
    book.reset(BookOrder(o.id, o.side, o.price, o.amount) for o in snapshot)
    for event in pending:
        apply_event(book, event, tolerant=True)
    return [(o.id, o.side, o.price, o.amount) for side in ("buy", "sell") for o in book.side_orders(side)]


def flat(orders: list[BookOrder]) -> list[tuple]:
    return [(o.id, o.side, o.price, o.amount) for o in orders]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), subscribed=st.integers(0, 60), lag=st.integers(0, 40))
def test_any_snapshot_inside_the_buffer_is_placed_exactly_or_declared_ambiguous(seed, subscribed, lag):
    messages, books = flow(seed, 120)
    cut = min(subscribed + lag, len(messages))  # the snapshot reflects messages[:cut]
    buffered = messages[subscribed:]  # we subscribed before message `subscribed`
    pending = unreflected({o.id: o.amount for o in books[cut]}, buffered)
    if pending is not None:
        assert rebuild(books[cut], pending) == flat(books[-1])


def test_ambiguity_is_rare_so_resyncs_converge_quickly():
    ambiguous = decided = 0
    for seed in range(20):
        messages, books = flow(seed, 150)
        for cut in range(0, 150, 3):
            pending = unreflected({o.id: o.amount for o in books[cut]}, messages)
            if pending is None:
                ambiguous += 1
            else:
                decided += 1
                assert rebuild(books[cut], pending) == flat(books[-1])
    assert ambiguous / (ambiguous + decided) < 0.25


def test_fill_of_a_maker_missing_from_the_snapshot_is_already_reflected():
    snapshot = {5: D("1")}
    taker = SocketMessageRaw(9, "sell", D("10"), D("0"), D("1"), [SocketTradeRaw(1, "buy", D("10"), D("2"), 4)])
    assert unreflected(snapshot, [taker]) == []


def test_resting_remainder_absent_from_the_snapshot_is_new_when_nothing_removed_it():
    snapshot = {5: D("1")}
    resting = SocketMessageRaw(9, "buy", D("10"), D("1"), D("1"))
    assert unreflected(snapshot, [resting]) == [resting]


def test_order_placed_and_consumed_before_the_snapshot_is_not_applied_twice():
    snapshot = {5: D("1"), 6: D("0.5")}  # 6 was hit for 0.5 by order 10, after order 9 rested and was consumed
    resting = SocketMessageRaw(9, "sell", D("10"), D("1"), D("1"))
    taker = SocketMessageRaw(10, "buy", D("10"), D("0"), D("1"),
                             [SocketTradeRaw(1, "sell", D("10"), D("1"), 9), SocketTradeRaw(2, "sell", D("10"), D("0.5"), 6)])
    # taken after both: the book is as shown; taken before both: 6 loses its last 0.5 too.
    # Both fit the snapshot and disagree, so the feed must take another snapshot.
    assert unreflected(snapshot, [resting, taker]) is None
    assert unreflected({5: D("1"), 6: D("0.5")}, [resting]) == [resting]


def test_single_partial_fill_of_a_snapshot_maker_cannot_be_placed():
    snapshot = {5: D("3")}
    filled = SocketMessageRaw(9, "sell", D("10"), D("0"), D("1"), [SocketTradeRaw(1, "buy", D("10"), D("1"), 5)])
    assert unreflected(snapshot, [filled]) is None
    bigger = SocketMessageRaw(9, "sell", D("10"), D("0"), D("1"), [SocketTradeRaw(1, "buy", D("10"), D("4"), 5)])
    assert unreflected(snapshot, [bigger]) == []  # the fill is larger than what is left: already in
