"""BTC-Alpha's socket dropped and stalled while the market moves: the local book says so
(``stale`` / ``resyncing``), resyncs, goes ``live`` again, and ends equal to the engine's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from core.transport import RetryPolicy
from sandbox import Sandbox
from streams.book import LocalBook
from streams.btcalpha import BtcAlphaBookFeed
from tests.streams.test_btcalpha_book import settled

SYMBOL = "BTC/USD"


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(seed=13, exchanges=["btcalpha"], maker_rate=0) as sandbox:
        yield sandbox


@pytest.fixture
async def market(sb) -> AsyncIterator[asyncio.Task[None]]:
    """The market maker moving the books 200 times a second, so BTC/USD never stays quiet for
    the stall timeout (a quiet book looks stalled); cancel it to let the book stand still."""
    task = asyncio.create_task(sb.market_maker("btcalpha").run(200))
    yield task
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


class RecordedBook(LocalBook):
    """A LocalBook that remembers every state it was put in, in order."""

    __slots__ = ("states",)

    def __init__(self, symbol: str) -> None:
        self.states: list[str] = []
        super().__init__(symbol)

    @property
    def state(self) -> str:
        return LocalBook.state.__get__(self)  # the base class's slot

    @state.setter
    def state(self, value: str) -> None:
        if not self.states or self.states[-1] != value:
            self.states.append(value)
        LocalBook.state.__set__(self, value)

    async def wait_for(self, state: str, timeout: float = 10.0) -> None:
        """Until the book has been ``state`` (since the last ``states.clear()``)."""
        async with asyncio.timeout(timeout):
            while state not in self.states:
                await asyncio.sleep(0.005)


def recorded_feed(sb: Sandbox) -> BtcAlphaBookFeed:
    feed = BtcAlphaBookFeed(SYMBOL, base_url=sb.url("btcalpha"), stall_timeout=0.5,
                            reconnect=RetryPolicy(base_delay=0.01, max_delay=0.1))
    feed.book = RecordedBook(SYMBOL)
    return feed


async def test_random_drops_and_stalls_are_reported_resynced_and_leave_the_book_exact(sb, market):
    venue = sb.venue("btcalpha")
    async with recorded_feed(sb) as feed:
        await feed.wait_live(10)
        book = feed.book
        book.states.clear()
        with venue.inject(drop_socket=0.7, stall_socket=0.7):  # chances per second per connection
            await asyncio.sleep(4.0)
        await feed.wait_live(10)
        market.cancel()  # then stands still, to be compared with the engine
        await settled(feed, sb)
    assert feed.reconnects >= 2
    # each time it stopped being live it said so (stale), resynced, and went live again
    assert book.states == ["stale", "resyncing", "live"] * (len(book.states) // 3)


@pytest.mark.parametrize("fault", ["drop", "stall"])
async def test_a_dropped_or_stalled_socket_turns_the_book_stale_then_live(sb, market, fault):
    control = sb.venue("btcalpha").socket_control
    async with recorded_feed(sb) as feed:
        await feed.wait_live(10)
        book = feed.book
        book.states.clear()
        control.drop_all() if fault == "drop" else control.stall_all(3.0)
        await book.wait_for("stale", timeout=2.0)  # a stall is noticed after stall_timeout (0.5 s)
        await book.wait_for("live")
    assert feed.reconnects == 1
    assert book.states == ["stale", "resyncing", "live"]
