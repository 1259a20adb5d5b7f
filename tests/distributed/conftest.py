"""Client processes for the distributed tests (tests/distributed/worker.py), started together."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parents[2]
KEY = "distributed-test-api-key"


class Workers:
    """Starts worker processes, releases them at once, collects their JSON results; kills
    (by pid) any still running when the test ends."""

    def __init__(self) -> None:
        self.processes: list[asyncio.subprocess.Process] = []

    async def start(self, count: int, scenario: str, *args: str, key: str = KEY,
                    secret: str = "") -> list[asyncio.subprocess.Process]:
        """`count` workers of `scenario`, each connected and waiting for the go."""
        env = {**os.environ, "EXCONN_TEST_KEY": key, "EXCONN_TEST_SECRET": secret}
        started = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.distributed.worker", scenario, *args, cwd=ROOT, env=env,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            for _ in range(count)
        ]
        self.processes += started
        for process in started:
            line = await asyncio.wait_for(process.stdout.readline(), 30)  # type: ignore[union-attr]
            if line != b"ready\n":
                _, err = await process.communicate()
                pytest.fail(f"worker did not start: {line!r}\n{err.decode()[-3000:]}")
        return started

    @staticmethod
    def go(processes: list[asyncio.subprocess.Process]) -> None:
        for process in processes:
            process.stdin.write(b"go\n")  # type: ignore[union-attr]

    @staticmethod
    async def results(processes: list[asyncio.subprocess.Process], timeout: float = 60) -> list[dict[str, Any]]:
        """Each worker's JSON result; fails the test with its stderr if one failed."""
        outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in processes)), timeout)
        results = []
        for process, (out, err) in zip(processes, outputs):
            if process.returncode != 0:
                pytest.fail(f"worker exited {process.returncode}:\n{err.decode()[-3000:]}")
            results.append(json.loads(out.splitlines()[-1]))
        return results

    async def run(self, count: int, scenario: str, *args: str, **kw: str) -> list[dict[str, Any]]:
        """Start `count` workers, release them together, return their results."""
        processes = await self.start(count, scenario, *args, **kw)
        self.go(processes)
        return await self.results(processes)

    async def kill_leftovers(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.kill()
                await process.wait()


@pytest.fixture
async def workers() -> AsyncIterator[Workers]:
    group = Workers()
    try:
        yield group
    finally:
        await group.kill_leftovers()


@pytest.fixture
async def redis_client(redis_server: str) -> AsyncIterator[Redis]:
    """A plain client of the test's redis-server, to inspect what the workers left."""
    client = Redis.from_url(redis_server)
    try:
        yield client
    finally:
        await client.aclose()
