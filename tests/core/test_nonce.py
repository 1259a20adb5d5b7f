from __future__ import annotations

import asyncio
import os
import random
import stat
from pathlib import Path

import pytest

from core.errors import InvalidNonce
from core.nonce import NonceManager
from tests.core.virtual_time import run_virtual

T0 = 1_700_000_000.0  # a fixed wall-clock instant, s


class FakeClock:
    """Wall clock in seconds that only moves when told."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def assert_strictly_increasing(values: list[int]) -> None:
    assert all(a < b for a, b in zip(values, values[1:]))


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_ten_thousand_concurrent_tasks_get_unique_increasing_nonces(unit: str) -> None:
    manager = NonceManager(unit=unit)  # type: ignore[arg-type]
    issued: list[int] = []

    async def task() -> None:
        await asyncio.sleep(0)
        issued.append(manager.next())

    async def main() -> None:
        await asyncio.gather(*(task() for _ in range(10_000)))

    asyncio.run(main())
    assert len(set(issued)) == 10_000
    assert_strictly_increasing(issued)
    assert manager.last == issued[-1]


@pytest.mark.parametrize("ordered", [False, True])
def test_ten_thousand_concurrent_sequences_get_unique_increasing_nonces(ordered: bool) -> None:
    manager = NonceManager(ordered=ordered, clock=FakeClock())
    issued: list[int] = []

    async def task() -> None:
        async with manager.sequence() as nonce:
            issued.append(nonce)

    async def main() -> None:
        await asyncio.gather(*(task() for _ in range(10_000)))

    asyncio.run(main())
    assert len(set(issued)) == 10_000
    assert_strictly_increasing(issued)


def test_frozen_clock_still_gives_strictly_increasing_nonces() -> None:
    manager = NonceManager(clock=FakeClock())
    issued = [manager.next() for _ in range(5_000)]
    assert issued[0] == int(T0 * 1000)
    assert issued == list(range(issued[0], issued[0] + 5_000))


def test_clock_jumping_backwards_never_decreases_nonces() -> None:
    clock = FakeClock()
    manager = NonceManager(clock=clock)
    rng = random.Random(1)
    issued = []
    for _ in range(2_000):
        clock.now += rng.uniform(-5, 1)
        issued.append(manager.next())
    assert_strictly_increasing(issued)


def test_server_time_with_local_clock_60s_behind_shifts_nonces_to_server_time() -> None:
    clock = FakeClock(T0 - 60)
    manager = NonceManager(clock=clock)
    server_ms = int(T0 * 1000)
    manager.observe_server_time(server_ms, sent_at=clock.now - 0.2, received_at=clock.now + 0.2)
    assert manager.offset == 60_000
    assert manager.next() == server_ms
    clock.now += 1
    assert manager.next() == server_ms + 1000


def test_server_time_in_microseconds_and_without_round_trip() -> None:
    clock = FakeClock(T0 - 60)
    manager = NonceManager(unit="us", clock=clock)
    manager.observe_server_time(int(T0 * 1000))
    assert manager.offset == 60_000_000
    assert manager.next() == int(T0 * 1_000_000)


def test_server_time_behind_local_never_lowers_nonces_below_the_last() -> None:
    manager = NonceManager(clock=FakeClock())
    first = manager.next()
    manager.observe_server_time(int((T0 - 30) * 1000))
    assert manager.next() == first + 1


def test_half_a_round_trip_is_refused() -> None:
    with pytest.raises(ValueError):
        NonceManager().observe_server_time(0, sent_at=1.0)


def test_restart_never_reissues_even_with_the_clock_10s_back(tmp_path: Path) -> None:
    store = tmp_path / "key.nonce"
    clock = FakeClock()
    first = NonceManager(clock=clock, store=store, persist_block=100)
    issued = [first.next() for _ in range(1_234)]  # frozen clock: +1 each
    clock.now -= 10
    restarted = NonceManager(clock=clock, store=store, persist_block=100)
    assert restarted.next() > max(issued)


def test_store_is_written_once_per_block_not_per_nonce(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    writes = []
    real_replace = os.replace

    def counting_replace(src: str, dst: str) -> None:
        writes.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", counting_replace)
    manager = NonceManager(clock=FakeClock(), store=tmp_path / "n", persist_block=1000)
    for _ in range(10_000):
        manager.next()
    assert len(writes) == 10
    assert int((tmp_path / "n").read_text()) > manager.last


def test_manager_does_no_io_until_the_first_nonce(tmp_path: Path) -> None:
    store = tmp_path / "lazy"
    manager = NonceManager(store=store)
    assert not store.exists()
    manager.next()
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert list(tmp_path.iterdir()) == [store]  # no temp file left behind


@pytest.mark.parametrize("content", ["", "garbage\n", "-5\n", "12.5\n"])
def test_corrupt_store_raises_invalid_nonce(tmp_path: Path, content: str) -> None:
    store = tmp_path / "bad"
    store.write_text(content)
    manager = NonceManager(store=store)
    with pytest.raises(InvalidNonce, match="corrupt"):
        manager.next()
    assert manager.last is None
    assert store.read_text() == content  # left for a human to inspect


def test_ordered_sequences_send_in_nonce_order_across_awaits() -> None:
    manager = NonceManager(ordered=True, clock=FakeClock())
    sent: list[int] = []
    rng = random.Random(5)

    async def signed_request() -> None:
        async with manager.sequence() as nonce:
            await asyncio.sleep(rng.uniform(0, 0.01))  # building the request
            sent.append(nonce)
            await asyncio.sleep(rng.uniform(0, 0.01))  # awaiting the answer

    async def main() -> None:
        await asyncio.gather(*(signed_request() for _ in range(200)))

    run_virtual(main())
    assert len(sent) == 200
    assert_strictly_increasing(sent)


def test_unordered_sequences_do_not_block_each_other() -> None:
    manager = NonceManager(clock=FakeClock())
    inside = 0
    most_inside = 0

    async def signed_request() -> None:
        nonlocal inside, most_inside
        async with manager.sequence():
            inside += 1
            most_inside = max(most_inside, inside)
            await asyncio.sleep(1)
            inside -= 1

    async def main() -> float:
        await asyncio.gather(*(signed_request() for _ in range(50)))
        return asyncio.get_running_loop().time()

    assert run_virtual(main()) == pytest.approx(1.0)
    assert most_inside == 50


def test_ordered_sequence_is_released_after_an_error_and_a_cancelled_wait() -> None:
    manager = NonceManager(ordered=True, clock=FakeClock())

    async def hold() -> None:
        async with manager.sequence():
            await asyncio.sleep(1)

    async def wait_turn() -> None:
        async with manager.sequence():
            pass

    async def main() -> int:
        with pytest.raises(RuntimeError):
            async with manager.sequence():
                raise RuntimeError("send failed")
        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        waiting = asyncio.create_task(wait_turn())
        await asyncio.sleep(0.5)
        waiting.cancel()
        await holder
        with pytest.raises(asyncio.CancelledError):
            await waiting
        async with asyncio.timeout(1):
            async with manager.sequence() as nonce:
                return nonce

    assert run_virtual(main()) == int(T0 * 1000) + 2  # the cancelled wait issued no nonce


def test_ordered_sequence_works_in_a_new_event_loop_after_the_first_one_closed():
    manager = NonceManager(ordered=True)

    async def use() -> int:
        async with manager.sequence() as nonce:
            await asyncio.sleep(0)
            return nonce

    first = asyncio.run(use())
    second = asyncio.run(use())  # a Jupyter kernel or a test suite runs many loops in one process
    assert second > first
