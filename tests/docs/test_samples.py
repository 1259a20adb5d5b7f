"""Every code sample in README.md and docs/ runs as written.

``python`` blocks run as scripts in a subprocess (they use the sandbox, never the network);
``sh`` blocks' ``exconn …`` commands that carry ``--duration`` run too, from a copy of
``examples/``, with the duration cut to a few seconds. A block that must not run is fenced
``text``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(?P<lang>[\w-]*)[ \t]*\n(?P<code>.*?)^```[ \t]*$", re.M | re.S)
SAMPLE_TIMEOUT = 60  # seconds
COMMAND_DURATION = 2  # seconds an `exconn … --duration N` sample is given here
SHELLS = ("sh", "bash", "shell", "console")


@dataclass(frozen=True)
class Sample:
    page: Path
    line: int
    lang: str
    code: str

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def samples(lang: tuple[str, ...]) -> list[Sample]:
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in FENCE.finditer(text):
            if match.group("lang") in lang:
                line = text.count("\n", 0, match.start()) + 1
                found.append(Sample(page, line, match.group("lang"), match.group("code")))
    return found


def exconn_commands(code: str) -> list[list[str]]:
    """The ``exconn …`` commands with ``--duration`` in a shell block, as argument lists."""
    commands = []
    for line in code.replace("\\\n", " ").splitlines():
        for part in re.split(r"&&|\|\||;", line):
            if re.match(r"\s*exconn\s", part):  # other commands may not even parse on their own
                args = shlex.split(part, comments=True)
                if "--duration" in args:
                    commands.append(args)
    return commands


PYTHON_SAMPLES = samples(("python", "py"))
COMMANDS = [(sample, args) for sample in samples(SHELLS) for args in exconn_commands(sample.code)]


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=SAMPLE_TIMEOUT,
                          stdin=subprocess.DEVNULL)


def test_the_docs_have_samples_of_both_kinds():
    """A broken fence pattern would make every test below vanish without failing."""
    assert len(PYTHON_SAMPLES) >= 15 and len(COMMANDS) >= 2
    assert {s.page.name for s in PYTHON_SAMPLES} >= {"README.md", "index.md", "errors.md", "streams.md"}


@pytest.mark.parametrize("sample", PYTHON_SAMPLES, ids=lambda s: s.id)
def test_python_sample_runs(sample: Sample, tmp_path: Path, request: pytest.FixtureRequest):
    for call in re.findall(r"(?:connectors\.open|streams\.open_book)\([^\n]*", sample.code):
        assert "base_url=" in call, f"{sample.id}: {call!r} would reach the real exchange; point it at the sandbox"
    script = tmp_path / "sample.py"
    script.write_text(sample.code)
    # a sample that reads REDIS_URL gets a fresh redis-server of its own
    env = {"REDIS_URL": request.getfixturevalue("redis_server")} if "REDIS_URL" in sample.code else {}
    result = run([sys.executable, str(script)], tmp_path, **env)
    assert result.returncode == 0, f"{sample.id} failed:\n{result.stdout}\n{result.stderr}"


@pytest.mark.parametrize(("sample", "args"), COMMANDS, ids=[f"{s.id}:{' '.join(a[1:3])}" for s, a in COMMANDS])
def test_exconn_sample_runs_against_the_sandbox(sample: Sample, args: list[str], tmp_path: Path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    if "--config" in args:
        config = tomllib.loads((tmp_path / args[args.index("--config") + 1]).read_text())
        uses_sandbox = config.get("sandbox") is True or "--sandbox" in args
    else:
        uses_sandbox = "--sandbox" in args
    assert uses_sandbox, f"{sample.id}: {shlex.join(args)} would reach the real exchanges"
    args = list(args)
    args[args.index("--duration") + 1] = str(COMMAND_DURATION)
    result = run([sys.executable, "-m", "streams.cli", *args[1:]], tmp_path)
    assert result.returncode == 0, f"{sample.id}: {shlex.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    sink = next((args[i + 1] for i, a in enumerate(args) if a == "--sink"), None)
    if sink is None or sink.startswith("sqlite:"):
        databases = list(tmp_path.glob("*.db"))
        assert databases, f"{sample.id}: no SQLite file written"
        with sqlite3.connect(databases[0]) as db:
            assert db.execute("select count(*) from book_snapshots").fetchone()[0] > 0
