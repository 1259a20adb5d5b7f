"""The ``exconn`` command line: ``exconn sandbox`` (and, later, ``exconn collect``)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

__all__ = ["main"]


async def _run_sandbox(host: str, port: int, seed: int, maker_rate: float) -> None:
    from sandbox import Sandbox

    ports = {}
    if port:
        from sandbox import EXCHANGES

        ports = {exchange: port + i for i, exchange in enumerate(EXCHANGES)}
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="exconn", description="exconn: exchange connectors and tools")
    commands = parser.add_subparsers(dest="command", required=True)
    sb = commands.add_parser("sandbox", help="run the five offline sandbox exchanges until Ctrl-C")
    sb.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sb.add_argument("--port", type=int, default=0,
                    help="first port; the exchanges take consecutive ports in id order (default: free ports)")
    sb.add_argument("--seed", type=int, default=0, help="seed of the market maker and demo credentials")
    sb.add_argument("--maker-rate", type=float, default=20.0, help="market-maker events per second per exchange")
    args = parser.parse_args(argv)
    if args.command == "sandbox":
        try:
            asyncio.run(_run_sandbox(args.host, args.port, args.seed, args.maker_rate))
        except OSError as exc:
            print(f"exconn sandbox: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
