"""docs/ restates the code only through generated blocks, and those match the code now;
every page exists where the index says and every link lands."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import connectors

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def load_generator():
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


generate = load_generator()


def test_generated_blocks_match_the_code():
    stale = [str(page.relative_to(ROOT)) for page in generate.stale_pages()]
    assert not stale, f"{stale} no longer match the code: run python3 docs/generate.py"


def test_a_page_edited_by_hand_inside_a_generated_block_is_caught_and_restored():
    page = DOCS / "exchanges" / "btcalpha.md"
    original = page.read_text()
    tampered = original.replace("| `withdraw` | **no** |", "| `withdraw` | yes |")
    assert tampered != original
    assert generate.regenerate(tampered) == original


def test_every_exchange_has_a_page_with_its_has_table_and_choices():
    for exchange in connectors.EXCHANGES:
        text = (DOCS / "exchanges" / f"{exchange}.md").read_text()
        cls = connectors.connector_class(exchange)
        for method, supported in cls.has.items():
            row = re.search(rf"^\| `{method}` \| (yes|\*\*no\*\*)", text, re.M)
            assert row is not None and (row.group(1) == "yes") == supported, (exchange, method)
        assert "Choices where the spec leaves a question open" in text
        assert f"(exchanges/{exchange}.md)" in (DOCS / "index.md").read_text()


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def test_every_relative_link_and_anchor_lands():
    pages = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
    broken = []
    for page in pages:
        text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S)
        for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]+))?\)", text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path = (page.parent / target).resolve() if target else page
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and path.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", path.read_text(), re.M)
                if anchor not in {slug(h) for h in headings}:
                    broken.append(f"{page.relative_to(ROOT)}: {target}#{anchor}")
    assert not broken, broken
