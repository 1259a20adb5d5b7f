"""Shared fixtures: a real ``redis-server`` on a free loopback port.

When ``redis-server`` is missing the Redis tests skip outside CI and fail in CI (env ``CI``
set), so a CI run can never pass without having run them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A ``redis-server`` subprocess without persistence; ``stop()`` and ``start()`` again
    keep the port, so a client can be shown to reconnect."""

    def __init__(self, executable: str, log: Path, *extra_args: str) -> None:
        self.executable = executable
        self.log = log
        self.extra_args = extra_args
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", *self.extra_args],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not self._answers_ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"redis-server did not start on port {self.port}:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.01)  # an external process: nothing to await but its port

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                reply = sock.recv(64)
        except OSError:
            return False
        return reply.startswith((b"+PONG", b"-NOAUTH"))

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()  # SIGTERM to this pid only
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def redis_process(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RedisServer]:
    """A started :class:`RedisServer`, stopped after the test; parametrise it indirectly
    with a tuple of extra ``redis-server`` arguments (e.g. ``("--requirepass", "pw")``)."""
    executable = shutil.which("redis-server")
    if executable is None:
        reason = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the Redis tests")
        pytest.skip(reason)
    server = RedisServer(executable, tmp_path / "redis-server.log", *getattr(request, "param", ()))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server(redis_process: RedisServer) -> str:
    """The URL (``redis://127.0.0.1:PORT/0``) of a fresh redis-server for this test."""
    return redis_process.url
