"""Regenerate the parts of docs/ that restate the code, so they cannot drift from it.

    python3 docs/generate.py            # rewrite the generated blocks in docs/**/*.md
    python3 docs/generate.py --check    # exit 1 and name the stale files (what the tests run)

A generated block sits between ``<!-- generated: NAME ARG -->`` and ``<!-- end generated -->``;
NAME picks a renderer below (``has btcalpha``, ``errors``, ``sqlite-schema``, …). Everything
outside the markers is written by hand and left alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import re
import sys
import textwrap
import typing
from collections.abc import Callable
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import connectors  # noqa: E402
import core.errors  # noqa: E402
import streams.events  # noqa: E402
import streams.sinks  # noqa: E402
from core.connector import UNIFIED_METHODS, Connector, Pool  # noqa: E402
from sandbox.venue import Faults  # noqa: E402

BLOCK = re.compile(
    r"(<!-- generated: (?P<name>[\w-]+)(?: (?P<arg>[\w./-]+))? -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)


def rst_to_markdown(text: str) -> str:
    """The docstrings' reST inline markup as Markdown: double backticks and roles such as
    :meth: become single backticks."""
    text = re.sub(r":(?:meth|func|class|data|mod|attr):`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def render_has(exchange: str) -> str:
    """Every unified method: supported or not, and how (emulated) or why not."""
    cls = connectors.connector_class(exchange)
    rows = ["| method | supported | notes |", "|---|---|---|"]
    for method in UNIFIED_METHODS:
        if cls.has[method]:
            note = cls.emulated.get(method, "")
            rows.append(f"| `{method}` | yes{' (emulated)' if note else ''} | {note} |")
        else:
            rows.append(f"| `{method}` | **no** | {cls.not_supported[method]} |")
    return "\n".join(rows) + "\n"


def _pool_text(pool: Pool) -> str:
    period = f"{pool.period:g} s"
    burst = "" if pool.burst is None else f", burst {pool.burst:g}"
    return f"{pool.rate:g} per {period}{burst}"


def render_facts(exchange: str) -> str:
    """Hosts, rate-limit pools, timeframes and nonce rule, from the connector class."""
    cls = connectors.connector_class(exchange)
    lines = [f"- Connector class: `connectors.{cls.__name__}` (`connectors.open({exchange!r}, ...)`)"]
    hosts = ", ".join(f"`{url}`" + ("" if name == "api" else f" ({name})") for name, url in cls.urls.items())
    lines.append(f"- Hosts: {hosts} — `base_url=` replaces all of them")
    if cls.nonce_unit is None:
        lines.append("- Signed requests carry the clock (no nonce)")
    else:
        order = "; sent in nonce order per key" if cls.nonce_ordered else ""
        lines.append(f"- Nonces: strictly increasing per key, in {cls.nonce_unit}{order}")
    lines.append(f"- Candle timeframes: {', '.join(f'`{tf}`' for tf in cls.timeframes) or 'none'}")
    lines.append("- Rate limits kept client-side (shared by every connector of the process with the same key):")
    for name, pool in cls.rate_limits.items():
        scope = "per key" if pool.per_key else "per IP"
        where = "only the endpoints that name it" if pool.endpoint_only else "every call of its kind"
        lines.append(f"  - `{name}`: {_pool_text(pool)}, {scope}, {where}")
    return "\n".join(lines) + "\n"


def render_choices(exchange: str) -> str:
    """The connector module's docstring after its first line: credentials notes and the
    choices made where the exchange's documents leave a question open."""
    module = importlib.import_module(f"connectors.{exchange}.client")
    doc = inspect.cleandoc(module.__doc__ or "")
    rest = doc.partition("\n\n")[2]
    return rst_to_markdown(rest.strip()) + "\n"


def _call_text(name: str, function: Callable[..., object]) -> str:
    """``name(a, b=None, *, c=False)``: the signature without annotations or ``self``."""
    params = list(inspect.signature(function).parameters.values())[1:]
    return f"{name}({', '.join(str(p.replace(annotation=inspect.Parameter.empty)) for p in params)})"


def render_extras(exchange: str) -> str:
    """Public methods this connector has beyond the unified API."""
    cls = connectors.connector_class(exchange)
    base = set(dir(Connector))
    lines = []
    for name, function in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_") or name in base:
            continue
        summary = (inspect.getdoc(function) or "").split("\n\n")[0].replace("\n", " ")
        lines.append(f"- `{_call_text(name, function)}`: {rst_to_markdown(summary)}")
    return ("\n".join(lines) if lines else "None: only the unified API.") + "\n"


def render_errors(_: str = "") -> str:
    """The exception tree as documented at the top of core/errors.py."""
    paragraphs = inspect.cleandoc(core.errors.__doc__ or "").split("\n\n")
    tree = next(p for p in paragraphs if p.strip().startswith("ExconnError"))
    return "```text\n" + textwrap.dedent(tree) + "\n```\n"


def render_sink_fields(_: str = "") -> str:
    """The normalised fields of each event kind, from streams/sinks.py."""
    doc = inspect.cleandoc(streams.sinks.__doc__ or "")
    block = re.search(r"\n\n( *trade .*?)\n\n", doc, re.S)
    assert block is not None, "streams/sinks.py docstring lost its field table"
    return "```text\n" + inspect.cleandoc(block.group(1)) + "\n```\n"


def render_sqlite_schema(_: str = "") -> str:
    return f"```sql\n-- schema version {streams.sinks.SCHEMA_VERSION}\n{streams.sinks.SCHEMA.strip()}\n```\n"


def render_book_states(_: str = "") -> str:
    return ", ".join(f"`{state}`" for state in typing.get_args(streams.events.BookState)) + "\n"


def render_faults(_: str = "") -> str:
    """The sandbox's fault switches: the Faults docstring and each field's default."""
    defaults = ", ".join(f"`{f.name}={f.default!r}`" for f in dataclasses.fields(Faults))
    return f"```text\n{rst_to_markdown(inspect.cleandoc(Faults.__doc__ or ''))}\n```\n\nDefaults: {defaults}.\n"


def render_sandbox_markets(only: str = "") -> str:
    """The sandbox's markets (of one exchange, or all) with their precisions and minimums."""
    rows = ["| exchange | symbol | price decimals | amount decimals | min amount |", "|---|---|---|---|---|"]
    for exchange in [only] if only else connectors.EXCHANGES:
        module = importlib.import_module(f"sandbox.exchanges.{exchange}")
        for spec in module.MARKETS:
            rows.append(f"| {exchange} | `{spec.symbol}` | {spec.price_precision} | {spec.amount_precision} "
                        f"| {format(spec.min_amount, 'f')} |")
    return "\n".join(rows) + "\n"


def render_file(path: str) -> str:
    """A file of the repository, whole (e.g. an example config)."""
    language = {".toml": "toml", ".py": "python", ".json": "json"}.get(Path(path).suffix, "text")
    return f"```{language}\n{(ROOT / path).read_text()}```\n"


RENDERERS: dict[str, Callable[[str], str]] = {
    "has": render_has,
    "facts": render_facts,
    "choices": render_choices,
    "extras": render_extras,
    "errors": render_errors,
    "sink-fields": render_sink_fields,
    "sqlite-schema": render_sqlite_schema,
    "book-states": render_book_states,
    "faults": render_faults,
    "sandbox-markets": render_sandbox_markets,
    "file": render_file,
}


def regenerate(text: str) -> str:
    """``text`` with every generated block rendered afresh."""
    def fill(match: re.Match[str]) -> str:
        name, arg = match.group("name"), match.group("arg") or ""
        if name not in RENDERERS:
            raise KeyError(f"unknown generated block {name!r}; known: {sorted(RENDERERS)}")
        return match.group(1) + RENDERERS[name](arg) + match.group(5)

    return BLOCK.sub(fill, text)


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def stale_pages() -> list[Path]:
    """The pages whose generated blocks differ from what the code says now."""
    return [page for page in pages() if regenerate(page.read_text()) != page.read_text()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale pages (exit 1 if any)")
    args = parser.parse_args(argv)
    stale = stale_pages()
    if args.check:
        for page in stale:
            print(f"stale: {page.relative_to(ROOT)} (run python3 docs/generate.py)")
        return 1 if stale else 0
    for page in stale:
        page.write_text(regenerate(page.read_text()))
        print(f"updated {page.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
