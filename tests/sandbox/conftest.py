import pytest

from sandbox import Sandbox


@pytest.fixture
async def start_sandbox():
    """``sb = await start_sandbox("btcalpha", maker_rate=0)``: a running Sandbox (market maker
    off by default, books seeded), stopped after the test."""
    started: list[Sandbox] = []

    async def start(*exchanges: str, maker_rate: float = 0.0, seed: int = 0) -> Sandbox:
        sb = Sandbox(seed=seed, exchanges=exchanges or None, maker_rate=maker_rate)
        await sb.start()
        started.append(sb)
        return sb

    yield start
    for sb in started:
        await sb.close()
