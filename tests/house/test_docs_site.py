"""The docs site's own pieces: links to repository files, the navigation."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

pytest.importorskip("mkdocs")
_spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
assert _spec is not None and _spec.loader is not None
hooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hooks)


@pytest.mark.parametrize(
    ("page", "target", "expected"),
    [
        # From docs/guides/, ../../ is the repository's root, as on GitHub.
        ("guides/a.md", "../../solutions/REPORTS.md", "solutions/REPORTS.md"),
        ("index.md", "../instances/README.md", "instances/README.md"),
        # Links that stay inside docs/ are MkDocs' own business.
        ("guides/a.md", "../reference/cli.md", None),
        ("index.md", "tutorials/first-solve.md", None),
        # Web addresses, absolute paths and links above the repository are not.
        ("index.md", "https://example.org/x.md", None),
        ("index.md", "/solutions/REPORTS.md", None),
        ("index.md", "../../elsewhere.md", None),
    ],
)
def test_escaping_target(page: str, target: str, expected: str | None) -> None:
    """Only a relative link that leaves docs/ names a repository file."""
    assert hooks.escaping_target(page, target) == expected


def nav_pages() -> list[str]:
    """The pages mkdocs.yml's nav names (Markdown files under docs/)."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text[text.index("\nnav:") :]
    return re.findall(r":\s*([\w/.-]+\.md)\s*$", nav, flags=re.M)


def test_every_nav_page_exists() -> None:
    """Each page the navigation names is in docs/ (the build fails otherwise)."""
    pages = nav_pages()
    assert "index.md" in pages and "reference/cli.md" in pages
    assert [p for p in pages if not (DOCS / p).is_file()] == []


def test_the_cli_and_api_references_are_generated() -> None:
    """The CLI page renders the click commands, the API page the docstrings."""
    cli = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    assert "::: mkdocs-click" in cli and ":module: allocator.cli" in cli
    api = (DOCS / "reference" / "api.md").read_text(encoding="utf-8")
    assert "::: allocator.solve" in api and "::: allocator.read_instance" in api
