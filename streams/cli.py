"""The ``exconn`` command line: ``exconn collect`` (the collector) and ``exconn sandbox``.

The only place that owns an event loop and installs signal handlers: the first SIGINT or
SIGTERM stops cleanly (feeds stop, the sink is flushed), a second one exits at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import tomllib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["main"]

DEFAULT_SINK = "sqlite:exconn.db"


@dataclass
class CollectConfig:
    """What ``exconn collect`` runs, from the command line and/or a TOML file."""

    feeds: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)  # (exchange, symbol, channels)
    sink: str = DEFAULT_SINK
    duration: float | None = None
    sandbox: bool = False
    seed: int = 0
    interval: float = 1.0
    status_interval: float | None = None


def load_config(path: str) -> CollectConfig:
    """Read a collector TOML file (see ``examples/collector.toml``)."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise SystemExit(f"exconn collect: cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SystemExit(f"exconn collect: {path} is not valid TOML: {exc}") from None
    config = CollectConfig(sink=data.get("sink", DEFAULT_SINK), duration=data.get("duration"),
                           sandbox=bool(data.get("sandbox", False)), seed=int(data.get("seed", 0)),
                           interval=float(data.get("interval", 1.0)))
    feeds = data.get("feed", [])
    if not isinstance(feeds, list) or not feeds:
        raise SystemExit(f"exconn collect: {path} has no [[feed]] tables")
    for entry in feeds:
        try:
            exchange, symbols = entry["exchange"], entry["symbols"]
        except (KeyError, TypeError):
            raise SystemExit(f"exconn collect: every [[feed]] in {path} needs 'exchange' and 'symbols'") from None
        channels = tuple(entry.get("channels", ("book", "trades", "ticker")))
        config.feeds.extend((exchange, symbol, channels) for symbol in symbols)
    return config


@contextlib.asynccontextmanager
async def _targets(config: CollectConfig) -> AsyncIterator[tuple[dict[str, str], dict[str, str]]]:
    """(base_urls, ws_urls): the built-in sandbox's when asked for, else the exchanges' own."""
    if not config.sandbox:
        yield {}, {}
        return
    from sandbox import Sandbox  # only the CLI may start the sandbox

    exchanges = sorted({exchange for exchange, _, _ in config.feeds})
    async with Sandbox(seed=config.seed, exchanges=exchanges) as sb:
        yield {ex: sb.url(ex) for ex in exchanges}, {ex: sb.ws_url(ex) for ex in exchanges}


async def _collect(config: CollectConfig) -> int:
    from core.errors import ExconnError
    from streams.collector import Collector, FeedSpec
    from streams.sinks import open_sink
    from streams.status import StatusReporter

    try:
        specs = [FeedSpec(exchange, symbol, channels) for exchange, symbol, channels in config.feeds]
        sink = open_sink(config.sink)
    except ValueError as exc:
        print(f"exconn collect: {exc}", file=sys.stderr)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            os._exit(130)  # second signal: exit at once
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    async with _targets(config) as (base_urls, ws_urls):
        collector = Collector(specs, sink, base_urls=base_urls, ws_urls=ws_urls, interval=config.interval)
        reporter = StatusReporter(collector, interval=config.status_interval)
        status = asyncio.create_task(reporter.run())
        where = "the built-in sandbox" if config.sandbox else "the exchanges"
        print(f"exconn collect: {len(specs)} feed(s) from {where} into {sink.url}"
              f"{'' if config.duration is None else f' for {config.duration:g} s'}; Ctrl-C to stop", file=sys.stderr)
        try:
            await collector.run(stop, duration=config.duration)
        except ExconnError as exc:
            print(f"\nexconn collect: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        finally:
            status.cancel()
            await asyncio.gather(status, return_exceptions=True)
            print(reporter.summary(), file=sys.stderr, flush=True)
    return 0 if collector.stats.unwritten == 0 else 3


async def _run_sandbox(host: str, port: int, seed: int, maker_rate: float) -> None:
    from sandbox import EXCHANGES, Sandbox

    ports = {exchange: port + i for i, exchange in enumerate(EXCHANGES)} if port else {}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Sandbox(seed=seed, host=host, ports=ports, maker_rate=maker_rate) as sb:
        print(f"exconn sandbox (seed {seed}, market maker {maker_rate:g} events/s per exchange)")
        for exchange in sb.exchanges:
            key, secret = sb.credentials(exchange)
            print(f"  {exchange:<9} {sb.url(exchange):<28} key={key} secret={secret}")
        print("Ctrl-C to stop.", flush=True)
        await stop.wait()
    print("sandbox stopped", flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exconn", description="exconn: exchange connectors and tools")
    commands = parser.add_subparsers(dest="command", required=True)

    collect = commands.add_parser("collect", help="collect books, trades and tickers into a sink until stopped")
    collect.add_argument("--exchange", action="append", default=[], metavar="ID",
                         help="exchange id (btcalpha, coindcx, peatio, qtrade, quidax); repeatable")
    collect.add_argument("--symbol", action="append", default=[], metavar="SYM",
                         help="unified symbol such as BTC/USD; repeatable")
    collect.add_argument("--channels", default="book,trades,ticker", help="comma list of book,trades,ticker")
    collect.add_argument("--sink", default=None,
                         help=f"sqlite:PATH, jsonl:PATH, jsonl:- or redis://HOST:PORT/DB (default {DEFAULT_SINK})")
    collect.add_argument("--duration", type=float, default=None, metavar="SECONDS", help="stop after this long")
    collect.add_argument("--sandbox", action="store_true", help="start the built-in sandbox and collect from it")
    collect.add_argument("--config", metavar="FILE.toml", help="feeds and options from a TOML file")
    collect.add_argument("--interval", type=float, default=None, help="seconds between polls (default 1)")
    collect.add_argument("--seed", type=int, default=None, help="sandbox seed")
    collect.add_argument("--status-interval", type=float, default=None, metavar="SECONDS",
                         help="seconds between status reports (default: 1 on a terminal, 10 in logs)")

    sb = commands.add_parser("sandbox", help="run the five offline sandbox exchanges until Ctrl-C")
    sb.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sb.add_argument("--port", type=int, default=0,
                    help="first port; the exchanges take consecutive ports in id order (default: free ports)")
    sb.add_argument("--seed", type=int, default=0, help="seed of the market maker and demo credentials")
    sb.add_argument("--maker-rate", type=float, default=20.0, help="market-maker events per second per exchange")
    return parser


def collect_config(args: argparse.Namespace, parser: argparse.ArgumentParser) -> CollectConfig:
    config = load_config(args.config) if args.config else CollectConfig()
    if args.exchange or args.symbol:
        if not args.exchange or not args.symbol:
            parser.error("collect: give --exchange and --symbol together (or a --config file)")
        channels = tuple(c.strip() for c in args.channels.split(",") if c.strip())
        config.feeds.extend((ex, sym, channels) for ex in args.exchange for sym in args.symbol)
    if not config.feeds:
        parser.error("collect: nothing to collect: give --exchange ID --symbol SYM, or --config FILE")
    overrides: dict[str, Any] = {"sink": args.sink, "duration": args.duration, "interval": args.interval,
                                 "seed": args.seed, "status_interval": args.status_interval}
    for name, value in overrides.items():
        if value is not None:
            setattr(config, name, value)
    config.sandbox = config.sandbox or args.sandbox
    return config


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "collect":
        config = collect_config(args, parser)
        if not sys.stderr.isatty():
            from core.logging import configure

            configure("INFO")
        return asyncio.run(_collect(config))
    try:
        asyncio.run(_run_sandbox(args.host, args.port, args.seed, args.maker_rate))
    except OSError as exc:
        print(f"exconn sandbox: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
