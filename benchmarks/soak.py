"""Soak: the collector for minutes against the sandbox at a high event rate with faults on.

Run ``python -m benchmarks.soak [--minutes 5] [--maker-rate R]`` (not part of the test
suite); prints a sample row every few seconds (events written, events/s, RSS, open file
descriptors, books live, socket reconnects and resyncs, failed polls), then a summary and a
verdict, and writes ``benchmarks/results/soak.json``.

The run is :mod:`benchmarks.bench_collector`'s (sandbox in a child process, every market of
all five exchanges into SQLite) with the sandbox's fault injection switched on for the whole
collection: on every exchange's REST API a small chance per request of a 5xx (before or
after the handler ran), a 429, a malformed, truncated or HTML body, and latency added to
every answer; on BTC-Alpha's socket a chance per second per connection of a drop or a stall.

Verdict: RSS flat (no trend over the last minute, a bounded spread over the steady window), the open fds of the steady window flat and back to
the count before the start once closed, every collected book equal to the engine's once the
faults and market makers stop, and nothing lost: ``unwritten`` is 0 and every event counted
as written is in the database (trades by distinct key, as SQLite keeps one row per key).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.bench_collector import (
    FLAT_SLOPE, FLAT_SPREAD, WARMUP_S, arguments, print_table, rss_flat, run_against_sandbox, sample_printer,
    summary, summary_rows, write_results,
)

RESULTS = Path(__file__).parent / "results" / "soak.json"
HTTP_FAULTS: dict[str, Any] = {  # chances per request; latency in seconds on every answer
    "error_before": 0.01, "error_after": 0.005, "rate_limit": 0.005,
    "malformed": 0.003, "truncated": 0.003, "html": 0.003, "latency": 0.02,
}
SOCKET_FAULTS: dict[str, Any] = {"drop_socket": 0.01, "stall_socket": 0.02}  # chances per second per connection
FAULTS = {
    "btcalpha": HTTP_FAULTS | SOCKET_FAULTS,
    **{exchange: HTTP_FAULTS for exchange in ("coindcx", "peatio", "qtrade", "quidax")},
}
FD_SLACK = 8  # pooled HTTP connections come and go with the load: steady-window fd drift allowed


def verdict(numbers: dict[str, Any]) -> list[tuple[str, bool]]:
    """(what, held) for each claim of the soak."""
    return [
        (f"RSS flat: last-minute slope {numbers['rss_last_minute_slope_mib_per_min']} MiB/min (<= {FLAT_SLOPE}), "
         f"steady max-min {numbers['rss_steady_spread_mib']} MiB (<= {FLAT_SPREAD}); "
         f"whole steady window {numbers['rss_steady_slope_mib_per_min']} MiB/min", rss_flat(numbers)),
        (f"open fds flat: steady window drift {numbers['fds_steady_delta']:+d} (|drift| <= {FD_SLACK}), "
         f"{numbers['fds_before']} before start, {numbers['fds_after_close']} after close",
         abs(numbers["fds_steady_delta"]) <= FD_SLACK and numbers["fds_after_close"] <= numbers["fds_before"]),
        (f"books equal to the engine's after the faults stop: {numbers['books_exact']} / {numbers['books']}",
         numbers["books_exact"] == numbers["books"]),
        (f"lost events: {numbers['lost']} (per table {numbers['lost_per_table']}), unwritten {numbers['unwritten']}",
         numbers["lost"] == 0 and numbers["unwritten"] == 0),
    ]


def main() -> None:
    args = arguments("Collector soak with faults on: RSS, fds and lost events over minutes.", 5.0, RESULTS).parse_args()
    run = run_against_sandbox(args.minutes, args.maker_rate, faults=FAULTS, interval=args.interval,
                              every=args.every, on_sample=sample_printer())
    numbers = summary(run)
    checks = verdict(numbers)
    print()
    print_table(summary_rows(numbers))
    for why in run.book_mismatches:
        print(f"  book differs: {why}")
    print()
    for claim, held in checks:
        print(f"{'PASS' if held else 'FAIL'}  {claim}")
    print(f"verdict: {'PASS' if all(held for _, held in checks) else 'FAIL'}")
    write_results(args.results, numbers, run, faults=FAULTS, verdict={claim: held for claim, held in checks},
                  interval_s=args.interval, sample_s=args.every, warmup_s=WARMUP_S)


if __name__ == "__main__":
    main()
