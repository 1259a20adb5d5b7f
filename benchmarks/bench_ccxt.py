"""exconn beside ccxt 4.5.33 (its last release with BTC-Alpha) and the bare floor, in one run.

Run ``python -m benchmarks [--quick]``; prints one table and writes
``benchmarks/results/benchmarks.json``. Every row compares three contestants on the same
bytes (or the same loopback server) within one run, and every target is a ratio:

a. a BTC-Alpha order book (100 bids + 100 asks in the 2022 ``sell``/``buy`` form, decimal
   strings as the live server sends them), bytes -> ``core.OrderBook`` through the
   connector's own decoder and conversion, beside ``msgspec`` decoding into a plain typed
   Decimal struct (the floor) and ccxt's ``btcalpha`` decoding the same bytes as its
   ``fetch`` does and running its ``parse_order_book``.
b. 1000 public trades, bytes -> ``list[Trade]`` oldest first, the same three.
c. signing a private POST (``create_order``'s parameters): the signer path of the connector's
   ``_sign`` (form body, HMAC, headers) beside one bare ``hmac.new(...).hexdigest()`` of the
   same message and ccxt's ``sign()``; the three signatures are checked equal.
d. sequential ``fetch_order_book`` against an aiohttp server in another process serving fixed
   bytes: exconn with its rate limiter on (limits set high) beside a bare aiohttp GET +
   msgspec decode loop and ccxt with its throttler on; once public, once as a signed private
   call (a nonce in arrival order and a signature on every request, for all three).
e. 50 concurrent ``fetch_order_book`` calls, the same three.
f. import time and RSS of ``import connectors`` + ``connectors.open("btcalpha")`` beside
   ``import ccxt.async_support`` + ``btcalpha()``, each in a fresh interpreter (median).

a, b and c count CPU time, d and e wall time (requests/s, with client CPU per request
beside), f the median of fresh interpreters. The contestants take turns within each round,
so that a slow spell of the machine does not land on one of them only, and the best round
counts.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from types import MappingProxyType
from typing import Any

import aiohttp
import msgspec
from aiohttp import web

try:
    import ccxt.async_support as ccxt_async
except ImportError:
    raise SystemExit("the benchmarks compare with ccxt: pip install -e '.[bench]'") from None

from connectors.btcalpha import BtcAlpha
from connectors.btcalpha import schemas as s
from core.connector import Pool
from core.models import OrderBook

RESULTS = Path(__file__).parent / "results" / "benchmarks.json"
ROOT = Path(__file__).resolve().parent.parent
SEED = 8
PAIR, SYMBOL = "BTC_USD", "BTC/USD"
KEY = "bench0key0ae4c1b3f9a54c2e8d7b6a5f4e3d2c1b"
SECRET = "bench0secret0b0a9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817"
BOOK_PATH = f"/api/v1/orderbook/{PAIR}/"
HIGH = 1e9  # calls per second: a limit never reached during the run
CONCURRENCY = 50

# per mode: rounds (the contestants take turns in each; the best round counts) and work per round
ROUNDS = {"full": 15, "quick": 5}
DECODE_CALLS = {"full": 300, "quick": 150}  # a
TRADES_CALLS = {"full": 10, "quick": 6}  # b (ccxt takes ~15 ms a call)
SIGN_CALLS = {"full": 10_000, "quick": 5_000}  # c
SEQUENTIAL = {"full": 150, "quick": 100}  # d, requests
CONCURRENT_BATCHES = {"full": 6, "quick": 4}  # e, batches of CONCURRENCY requests
IMPORT_RUNS = {"full": 9, "quick": 3}  # f, fresh interpreters per contestant (median)
CCXT_VERSION = "4.5.33"  # its last release with BTC-Alpha


# -- the bytes ---------------------------------------------------------------------------------


def book_body(levels: int = 100) -> bytes:
    """A BTC-Alpha 2022 order book as the live server sends it: decimal strings with 8 places,
    each side strictly best first, ``sell`` the asks and ``buy`` the bids."""
    rng = random.Random(SEED)
    tick, mid = Decimal("0.001"), Decimal("911.519")

    def side(sign: int) -> list[dict[str, str]]:
        price, out = mid, []
        for _ in range(levels):
            price += sign * tick * rng.randint(1, 25)
            amount = Decimal(rng.randint(1, 250_000_000)) / 100_000_000
            out.append({"price": f"{price:.8f}", "amount": f"{amount:.8f}"})
        return out

    return json.dumps({"sell": side(1), "buy": side(-1)}).encode()


def trades_body(count: int = 1000) -> bytes:
    """BTC-Alpha's recent trades (``ordering=-id``: newest first) in the live string form."""
    rng = random.Random(SEED + 1)
    newest_id, now = 202_203_440 + count, Decimal("1637856276.264215")
    out = []
    for i in range(count):
        now -= Decimal(rng.randint(1, 900_000)) / 1_000_000
        price = Decimal("911.519") + Decimal(rng.randint(-5000, 5000)) / 1000
        amount = Decimal(rng.randint(1, 50_000_000)) / 100_000_000
        out.append({"id": str(newest_id - i), "timestamp": f"{now:.6f}", "pair": PAIR, "price": f"{price:.8f}",
                    "amount": f"{amount:.8f}", "type": rng.choice(("buy", "sell"))})
    return json.dumps(out).encode()


def pairs_body() -> bytes:
    return json.dumps([{"name": PAIR, "currency1": "BTC", "currency2": "USD", "price_precision": 3,
                        "amount_precision": 8, "minimum_order_size": "0.00010000",
                        "maximum_order_size": "900000.00000000", "minimum_order_value": "1.00000000",
                        "liquidity_type": 10}]).encode()


# -- the floor: msgspec straight into typed Decimal structs --------------------------------------


class FloorLevel(msgspec.Struct):
    price: Decimal
    amount: Decimal


class FloorBook(msgspec.Struct):
    sell: list[FloorLevel]
    buy: list[FloorLevel]


class FloorTrade(msgspec.Struct):
    id: str
    timestamp: Decimal
    pair: str
    price: Decimal
    amount: Decimal
    type: str


FLOOR_BOOK = msgspec.json.Decoder(FloorBook)
FLOOR_TRADES = msgspec.json.Decoder(list[FloorTrade])


# -- the contestants' clients -------------------------------------------------------------------


class SignedBookBtcAlpha(BtcAlpha):
    """BtcAlpha with its order book declared a private call, so that every ``fetch_order_book``
    takes a nonce in arrival order and is signed: the whole private path, on the book's bytes."""

    endpoints = MappingProxyType({**BtcAlpha.endpoints,
                                  "orderbook": replace(BtcAlpha.endpoints["orderbook"], auth=True)})


def ours(base_url: str, cls: type[BtcAlpha] = BtcAlpha) -> BtcAlpha:
    return cls(key=KEY, secret=SECRET, base_url=base_url,
               rate_limits={"public": Pool(HIGH), "private": Pool(HIGH, per_key=True)})


def _iso8601(timestamp: Any = None) -> str | None:
    """ccxt's ``iso8601``, returning None (as it does for other out-of-range times) where it
    would raise: 4.5.33's btcalpha scales the live trades' seconds by 10^6 and reads them as
    ms, a year past 9999 that ``datetime`` refuses, so its ``fetch_trades`` fails on live data."""
    try:
        return ccxt_async.Exchange.iso8601(timestamp)
    except ValueError:
        return None


class CcxtBtcAlpha(ccxt_async.btcalpha):  # type: ignore[misc,name-defined]
    iso8601 = staticmethod(_iso8601)


def ccxt_client(base_url: str | None = None, *, deep_bucket: bool = True) -> Any:
    """ccxt's btcalpha with its throttler on and a tiny interval. Its token bucket holds one
    token, so even then it sleeps 1 ms before every other call; ``deep_bucket`` (the
    comparison the targets use) lets it never wait, as exconn's limits set high do."""
    config = {"apiKey": KEY, "secret": SECRET, "enableRateLimit": True, "rateLimit": 1e-6}
    if deep_bucket:
        config["tokenBucket"] = {"capacity": HIGH}
    ex = CcxtBtcAlpha(config)
    if base_url is not None:
        ex.urls["api"]["rest"] = base_url + "/api"
    return ex


def ccxt_decode(ex: Any, body: bytes) -> Any:
    """What ccxt's ``fetch`` does with the bytes of a 200 answer (aiohttp's text, stripped, JSON)."""
    return ex.parse_json(ex.on_rest_response(200, "OK", "", "GET", {}, body.decode("utf-8", "replace"), {}, None))


def ccxt_book(ex: Any, response: Any) -> dict[str, Any]:
    """The rest of ccxt's btcalpha ``fetch_order_book``."""
    return ex.parse_order_book(response, SYMBOL, None, "buy", "sell", "price", "amount")


# -- measuring ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Row:
    """One line of the table. Costs are per call (seconds) unless ``unit`` says otherwise;
    ``vs_floor`` = ours / floor (lower is better), ``vs_ccxt`` = ccxt / ours (higher is better)."""

    case: str
    what: str
    unit: str
    ours: float
    floor: float | None
    ccxt: float | None
    target: str
    passed: bool | None
    floor_name: str = "floor"

    @property
    def vs_floor(self) -> float | None:
        return None if self.floor is None else self.ours / self.floor

    @property
    def vs_ccxt(self) -> float | None:
        return None if self.ccxt is None else self.ccxt / self.ours


def best_per_call(contestants: dict[str, Callable[[], object]], calls: int, rounds: int) -> dict[str, float]:
    """Best CPU seconds per call of each contestant, taking turns within each round. CPU time,
    not wall time: this work never waits, and a busy machine then only costs cache misses."""
    best = dict.fromkeys(contestants, float("inf"))
    for _ in range(rounds):
        for name, fn in contestants.items():
            start = time.process_time()
            for _ in range(calls):
                fn()
            best[name] = min(best[name], (time.process_time() - start) / calls)
    return best


def bench_decoding(mode: str) -> list[Row]:
    ex = ccxt_client()
    ex.set_markets(ex.parse_markets(ccxt_decode(ex, pairs_body())))
    market = ex.market(SYMBOL)
    book, trades = book_body(), trades_body()

    # all three read the same book and the same trades
    ours_book = s.BOOK.decode(book).to_model(SYMBOL, None)
    floor_book, ccxt_ob = FLOOR_BOOK.decode(book), ccxt_book(ex, ccxt_decode(ex, book))
    assert ours_book.bids[0].price == floor_book.buy[0].price and ours_book.asks[0].price == floor_book.sell[0].price
    assert ccxt_ob["bids"][0][0] == float(floor_book.buy[0].price) and len(ccxt_ob["asks"]) == len(ours_book.asks)
    ours_trades = s.trades_oldest_first(s.TRADES.decode(trades))
    ccxt_trades = ex.parse_trades(ccxt_decode(ex, trades), market, None, None)
    newest_first = [t.id for t in FLOOR_TRADES.decode(trades)]
    assert [t.id for t in ours_trades] == [t["id"] for t in ccxt_trades] == newest_first[::-1]

    rounds = ROUNDS[mode]
    a = best_per_call({
        "ours": lambda: s.BOOK.decode(book).to_model(SYMBOL, None),
        "floor": lambda: FLOOR_BOOK.decode(book),
        "ccxt": lambda: ccxt_book(ex, ccxt_decode(ex, book)),
    }, DECODE_CALLS[mode], rounds)
    b = best_per_call({
        "ours": lambda: s.trades_oldest_first(s.TRADES.decode(trades)),
        "floor": lambda: FLOOR_TRADES.decode(trades),
        "ccxt": lambda: ex.parse_trades(ccxt_decode(ex, trades), market, None, None),
    }, TRADES_CALLS[mode], rounds)
    return [
        Row("a", f"order book 100+100 ({len(book) / 1000:.1f} kB) -> OrderBook", "µs", a["ours"], a["floor"], a["ccxt"],
            "<= 1.3x floor, >= 1.7x ccxt", a["ours"] <= 1.3 * a["floor"] and a["ccxt"] >= 1.7 * a["ours"]),
        Row("b", f"1000 trades ({len(trades) / 1000:.0f} kB) -> list[Trade]", "µs", b["ours"], b["floor"], b["ccxt"],
            ">= 30x ccxt", b["ccxt"] >= 30 * b["ours"]),
    ]


def bench_signing(mode: str) -> Row:
    """The signer path ``_sign`` takes for a POST (form body from the parameters, HMAC,
    headers), one raw HMAC of the same message, and ccxt's ``sign()``."""
    ex = ccxt_client()
    ex.nonce = lambda: 1_700_000_000_000  # the same nonce as ours: the headers must match
    connector = ours("http://127.0.0.1:1")
    endpoint = connector.endpoints["create_order"]
    params = {"type": "buy", "pair": PAIR, "amount": "0.01", "price": "870.69"}
    signer = connector._signer
    assert signer is not None
    secret = SECRET.encode()
    message = (KEY + "amount=0.01&pair=BTC_USD&price=870.69&type=buy").encode()

    prepared = connector._sign(endpoint, "http://127.0.0.1:1" + endpoint.path, endpoint.path, params,
                               1_700_000_000_000, connector.credentials)
    request = ex.sign("order/", "private", "POST", params)
    raw = hmac.new(secret, message, hashlib.sha256).hexdigest()
    assert prepared.body == request["body"] and prepared.headers is not None
    assert prepared.headers["X-SIGN"] == request["headers"]["X-SIGN"] == raw
    assert prepared.headers["X-NONCE"] == request["headers"]["X-NONCE"]

    nonce = itertools.count(1_700_000_000_000).__next__
    best = best_per_call({
        "ours": lambda: signer.headers(signer.encode(params), nonce()),
        "floor": lambda: hmac.new(secret, message, hashlib.sha256).hexdigest(),
        "ccxt": lambda: ex.sign("order/", "private", "POST", params),
    }, SIGN_CALLS[mode], ROUNDS[mode])
    return Row("c", "sign a private POST (create_order)", "µs", best["ours"], best["floor"], best["ccxt"],
               "<= 2x raw HMAC", best["ours"] <= 2 * best["floor"], floor_name="raw HMAC")


# -- end to end on loopback ---------------------------------------------------------------------


async def serve() -> None:
    """``--serve``: BTC-Alpha's pairs and the fixed order book on a free loopback port; prints it."""
    book, pairs = book_body(), pairs_body()

    async def book_handler(_request: web.Request) -> web.Response:
        return web.Response(body=book, content_type="application/json")

    async def pairs_handler(_request: web.Request) -> web.Response:
        return web.Response(body=pairs, content_type="application/json")

    app = web.Application()
    app.router.add_get(BOOK_PATH, book_handler)
    app.router.add_get(BOOK_PATH.rstrip("/"), book_handler)  # ccxt leaves the trailing slash off
    app.router.add_get("/api/v1/pairs/", pairs_handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"listening {runner.addresses[0][1]}", flush=True)
    try:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent goes
    finally:
        await runner.cleanup()


Fetch = Callable[[], Awaitable[object]]


async def sequential(fetch: Fetch, requests: int) -> tuple[float, float]:
    """(wall seconds, client CPU seconds) per request, one request at a time."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        await fetch()
    return (time.perf_counter() - wall) / requests, (time.process_time() - cpu) / requests


async def concurrent(fetch: Fetch, batches: int) -> tuple[float, float]:
    """(wall seconds, client CPU seconds) per request, CONCURRENCY requests at a time."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(batches):
        await asyncio.gather(*[fetch() for _ in range(CONCURRENCY)])
    requests = batches * CONCURRENCY
    return (time.perf_counter() - wall) / requests, (time.process_time() - cpu) / requests


async def bench_loopback(base_url: str, mode: str) -> list[Row]:
    book_url = base_url + BOOK_PATH + "?group=1"  # what fetch_order_book asks for
    ex_public, ex_signed = ours(base_url), ours(base_url, SignedBookBtcAlpha)
    cx, cx_shallow = ccxt_client(base_url), ccxt_client(base_url, deep_bucket=False)
    bare = aiohttp.ClientSession()
    nonce = itertools.count(time.time_ns() // 1_000_000).__next__
    secret = SECRET.encode()

    async def bare_get(headers: dict[str, str] | None = None) -> FloorBook:
        async with bare.get(book_url, headers=headers) as resp:
            body = await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"bare GET answered {resp.status}")
        return FLOOR_BOOK.decode(body)

    def bare_signed() -> Awaitable[FloorBook]:
        return bare_get({"X-KEY": KEY, "X-SIGN": hmac.new(secret, KEY.encode(), hashlib.sha256).hexdigest(),
                         "X-NONCE": str(nonce())})

    async def ccxt_signed() -> dict[str, Any]:
        return ccxt_book(cx, await cx.request("orderbook/{pair_name}", "private", "GET", {"pair_name": PAIR}))

    public: dict[str, Fetch] = {"ours": lambda: ex_public.fetch_order_book(SYMBOL), "floor": bare_get,
                                "ccxt": lambda: cx.fetch_order_book(SYMBOL),
                                "ccxt shallow": lambda: cx_shallow.fetch_order_book(SYMBOL)}
    signed: dict[str, Fetch] = {"ours": lambda: ex_signed.fetch_order_book(SYMBOL), "floor": bare_signed,
                                "ccxt": ccxt_signed}
    cases = {"d": (sequential, public, SEQUENTIAL[mode]), "d signed": (sequential, signed, SEQUENTIAL[mode]),
             "e": (concurrent, public, CONCURRENT_BATCHES[mode])}
    runs: dict[str, dict[str, list[tuple[float, float]]]] = {case: {name: [] for name in fetches}
                                                             for case, (_, fetches, _) in cases.items()}
    try:
        for client in (ex_public, ex_signed, cx, cx_shallow):
            await client.load_markets()
        for fetches in (public, signed):  # warm up: connections open, ccxt's first refill done
            for fetch in fetches.values():
                for _ in range(20):
                    await fetch()
        book = await ex_signed.fetch_order_book(SYMBOL)
        assert isinstance(book, OrderBook) and len(book.bids) == len(book.asks) == 100
        assert (await ccxt_signed())["bids"][0][0] == float(book.bids[0].price)
        for _ in range(ROUNDS[mode]):
            for case, (measure, fetches, work) in cases.items():
                for name, fetch in fetches.items():
                    runs[case][name].append(await measure(fetch, work))
    finally:
        for client in (ex_public, ex_signed, cx, cx_shallow, bare):
            await client.close()

    titles = {"d": "sequential fetch_order_book", "d signed": "sequential fetch_order_book, signed",
              "e": f"{CONCURRENCY} concurrent fetch_order_book"}
    rows = []
    for case, by_name in runs.items():
        wall = {name: min(w for w, _ in results) for name, results in by_name.items()}
        cpu = {name: min(c for _, c in results) for name, results in by_name.items()}
        rows.append(Row(case, titles[case], "req/s", wall["ours"], wall["floor"], wall["ccxt"],
                        "<= 1.15x bare time, >= 2x ccxt req/s",
                        wall["ours"] <= 1.15 * wall["floor"] and wall["ccxt"] >= 2 * wall["ours"], floor_name="bare"))
        rows.append(Row(case, "  client CPU per request", "µs CPU", cpu["ours"], cpu["floor"], cpu["ccxt"],
                        "", None, floor_name="bare"))
        if "ccxt shallow" in wall:
            rows.append(Row(case, "  ccxt with rateLimit alone (1-token bucket)", "req/s", wall["ours"], None,
                            wall["ccxt shallow"], "", None))
    return rows


def run_loopback(mode: str) -> list[Row]:
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_ccxt", "--serve"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        if not first.startswith("listening "):
            raise SystemExit(f"the loopback server did not start: {first!r}")
        return asyncio.run(bench_loopback(f"http://127.0.0.1:{int(first.split()[1])}", mode))
    finally:
        server.terminate()  # our own child, by pid
        server.wait(10)


# -- import time and memory -------------------------------------------------------------------------

_IMPORT_PROBE = """
import time, psutil
process = psutil.Process()
before = process.memory_info().rss
wall, cpu = time.perf_counter(), time.process_time()
{statement}
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
print(cpu, wall, process.memory_info().rss - before)
"""
IMPORTS = {
    "ours": "import connectors; connectors.open('btcalpha')",
    "ccxt": "import ccxt.async_support; ccxt.async_support.btcalpha()",
}


def bench_imports(mode: str) -> list[Row]:
    """Median CPU seconds, wall seconds and RSS growth (bytes) of each statement, each run in
    a fresh interpreter. The target uses CPU time: with the files cached an import is all CPU,
    and CPU time does not count the moments a busy machine lends the core to someone else."""
    samples: dict[str, list[tuple[float, ...]]] = {name: [] for name in IMPORTS}
    for run in range(IMPORT_RUNS[mode] + 1):
        for name, statement in IMPORTS.items():
            out = subprocess.run([sys.executable, "-c", _IMPORT_PROBE.format(statement=statement)], cwd=ROOT,
                                 check=True, capture_output=True, text=True).stdout
            if run:  # the first run of each only writes the bytecode caches
                samples[name].append(tuple(map(float, out.split())))
    cpu, wall, rss = ({name: statistics.median(sample[i] for sample in samples[name]) for name in IMPORTS}
                      for i in range(3))
    return [
        Row("f", "import + open btcalpha, CPU time", "ms", cpu["ours"], None, cpu["ccxt"],
            "<= 40% of ccxt", cpu["ours"] <= 0.4 * cpu["ccxt"]),
        Row("f", "  wall time", "ms", wall["ours"], None, wall["ccxt"], "", None),
        Row("f", "  RSS growth", "MB", rss["ours"], None, rss["ccxt"], "", None),
    ]


# -- the table --------------------------------------------------------------------------------------


def shown(row: Row, value: float | None) -> str:
    if value is None:
        return "-"
    if row.unit == "µs" or row.unit == "µs CPU":
        return f"{value * 1e6:,.1f}"
    if row.unit == "req/s":
        return f"{1 / value:,.0f}"
    if row.unit == "ms":
        return f"{value * 1e3:,.1f}"
    return f"{value / 1e6:,.1f}"  # MB


def table(rows: list[Row]) -> str:
    header = ("case", "what", "unit", "ours", "floor/bare", "ccxt", "ours/floor", "ccxt/ours", "target", "result")
    lines = [header]
    for row in rows:
        lines.append((row.case, row.what, row.unit, shown(row, row.ours), shown(row, row.floor),
                      shown(row, row.ccxt), "-" if row.vs_floor is None else f"{row.vs_floor:.2f}x",
                      "-" if row.vs_ccxt is None else f"{row.vs_ccxt:.2f}x", row.target,
                      "" if row.passed is None else ("PASS" if row.passed else "FAIL")))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {3, 4, 5, 6, 7}
    return "\n".join("  ".join(cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w)
                               in enumerate(zip(line, widths))).rstrip() for line in lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and calls (about a third of the time)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve())
        return
    mode = "quick" if args.quick else "full"
    if version("ccxt") != CCXT_VERSION:
        print(f"warning: ccxt {version('ccxt')} installed; the comparison is meant for {CCXT_VERSION}")
    started = time.perf_counter()
    rows = [*bench_decoding(mode), bench_signing(mode), *run_loopback(mode), *bench_imports(mode)]
    print(table(rows))
    print("ours/floor: ours' cost over the floor's (the bare loop's for d, e); ccxt/ours: how many times "
          "faster than ccxt.\na, b, c and the CPU rows: CPU time per call; d, e: wall time (requests/s); "
          "f: median of fresh interpreters.")
    failed = [f"{row.case} {row.what}" for row in rows if row.passed is False]
    print(f"{len(failed)} target(s) missed: {', '.join(failed)}" if failed else "every target met",
          f"({time.perf_counter() - started:.0f} s)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": {name: version(name) for name in ("aiohttp", "msgspec", "ccxt")},
        "ccxt_json": "orjson" if sys.modules.get("orjson") else "json",
        "ccxt_config": {"enableRateLimit": True, "rateLimit_ms": 1e-6, "tokenBucket_capacity": HIGH,
                        "rows 'ccxt with rateLimit alone'": "the default one-token bucket"},
        "mode": mode,
        "units": "seconds per call for ours/floor/ccxt (CPU for a, b, c and the CPU rows, wall for d, e, f "
                 "time); f RSS growth in bytes",
        "results": [{**asdict(row), "vs_floor": row.vs_floor, "vs_ccxt": row.vs_ccxt} for row in rows],
    }, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
