"""``connectors.open(..., coordination="redis://…")``: processes sharing one API key through
Redis never trip the exchange's nonce or rate rules."""

import asyncio
import json
import sys

import pytest

import connectors
from core.errors import BadRequest
from sandbox import Sandbox

LIMIT = 20  # private calls per sliding second the sandbox allows the account (BTC-Alpha documents 2)

CLIENT = r"""
import asyncio, json, sys
import connectors
from core.connector import Pool
from core.errors import ExconnError
from core.transport import RetryPolicy

async def main(base_url, key, secret, coordination, count):
    # no retries: any refusal by the exchange surfaces here instead of being absorbed
    async with connectors.open("btcalpha", key=key, secret=secret, base_url=base_url, coordination=coordination,
                               retry=RetryPolicy(max_invalid_nonce_retries=0, max_rate_limited_retries=0),
                               rate_limits={"private": Pool.window(%d, burst=2, per_key=True)}) as ex:
        await ex.load_markets()
        results = await asyncio.gather(*(ex.fetch_balances() for _ in range(count)), return_exceptions=True)
    errors = [type(r).__name__ for r in results if isinstance(r, BaseException)]
    print(json.dumps({"ok": len(results) - len(errors), "errors": errors}))

asyncio.run(main(*sys.argv[1:5], int(sys.argv[5])))
""" % LIMIT


@pytest.fixture
async def sb():
    async with Sandbox(seed=9, exchanges=["btcalpha"], maker_rate=0) as sandbox:
        sandbox.venue("btcalpha").windows["private"].limit = LIMIT
        yield sandbox


async def run_clients(sb: Sandbox, coordinations: list[str], count: int = 15) -> list[dict]:
    key, secret = sb.credentials("btcalpha")
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLIENT, sb.url("btcalpha"), key, secret, url, str(count),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE) for url in coordinations]
    outputs = await asyncio.gather(*(asyncio.wait_for(p.communicate(), 60) for p in procs))
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, err.decode()[-2000:]
    return [json.loads(out) for out, _ in outputs]


async def test_two_processes_sharing_a_key_through_redis_are_never_refused(sb, redis_server):
    results = await run_clients(sb, [redis_server, redis_server])
    assert results == [{"ok": 15, "errors": []}, {"ok": 15, "errors": []}]


async def test_control_processes_coordinating_apart_are_refused(sb, redis_server):
    """Each process on its own Redis database, as if it coordinated only with itself: the
    exchange refuses some calls, so the test above could fail."""
    results = await run_clients(sb, [redis_server, redis_server.rsplit("/", 1)[0] + "/1"])
    assert any(r["errors"] for r in results)


def test_nonce_store_and_coordination_exclude_each_other(tmp_path):
    with pytest.raises(BadRequest, match="exclude each other"):
        connectors.open("btcalpha", key="k", secret="s", nonce_store=str(tmp_path / "n"),
                        coordination="redis://127.0.0.1:6379/0")
