"""The collector's progress: a live status line on a terminal, key/value logs otherwise."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import time
from typing import TextIO

from core.logging import get_logger
from streams.collector import Collector

__all__ = ["StatusReporter"]

_log = get_logger("collector")


class StatusReporter:
    """Reports ``collector`` every ``interval`` seconds: one redrawn line on a TTY, else a
    ``collector.status`` log event; :meth:`summary` is the closing report."""

    def __init__(self, collector: Collector, stream: TextIO = sys.stderr, *, tty: bool | None = None,
                 interval: float | None = None) -> None:
        self.collector = collector
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.interval = interval if interval is not None else (1.0 if self.tty else 10.0)
        self._last: dict[str, tuple[float, int]] = {}

    async def run(self) -> None:
        """Report until cancelled."""
        try:
            while True:
                await asyncio.sleep(self.interval)
                self.report()
        finally:
            if self.tty:
                self.stream.write("\r\x1b[2K")
                self.stream.flush()

    def report(self) -> None:
        feeds = self._feed_rows()
        sink = self._sink_row()
        if self.tty:
            line = " | ".join([*(f"{name}: {rate:.1f} ev/s {state} rc={rc} age={age}" for name, rate, state, rc, age in feeds), sink])
            width = shutil.get_terminal_size((160, 20)).columns
            self.stream.write("\r\x1b[2K" + line[: width - 1])
            self.stream.flush()
        elif _log.isEnabledFor(logging.INFO):
            stats = self.collector.stats
            _log.info("collector.status", written=stats.written, queue=self.collector.queue_depth,
                      sink_errors=stats.sink_errors, unwritten=stats.unwritten,
                      feeds=[{"feed": name, "events_per_s": round(rate, 1), "state": state, "reconnects": rc,
                              "last_event_age": age} for name, rate, state, rc, age in feeds])

    def _feed_rows(self) -> list[tuple[str, float, str, int, str]]:
        now = time.monotonic()
        rows = []
        for feed in self.collector.feeds:
            then, before = self._last.get(feed.name, (self.collector.stats.started_at, 0))
            rate = (feed.events - before) / max(now - then, 1e-9)
            self._last[feed.name] = (now, feed.events)
            age = f"{now - feed.last_event_at:.1f}s" if feed.last_event_at else "-"
            rows.append((feed.name, rate, feed.state, feed.reconnects, age))
        return rows

    def _sink_row(self) -> str:
        stats = self.collector.stats
        failing = f" FAILING ({stats.last_sink_error})" if stats.sink_errors and stats.last_sink_error else ""
        return f"sink {self.collector.sink.url}: {stats.written} written, queue {self.collector.queue_depth}{failing}"

    def summary(self) -> str:
        stats = self.collector.stats
        elapsed = time.monotonic() - stats.started_at
        lines = [f"collected for {elapsed:.1f} s: {stats.written} events written to {self.collector.sink.url} "
                 f"in {stats.batches} batches, {stats.unwritten} not written, {stats.sink_errors} sink errors"]
        for feed in self.collector.feeds:
            lines.append(f"  {feed.name}: {feed.events} events, state {feed.state}, reconnects/errors {feed.reconnects}")
        return "\n".join(lines)
