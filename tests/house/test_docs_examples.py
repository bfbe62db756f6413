"""The docs' Python examples run as written (from a scratch folder).

Every ```python block of a page under docs/ runs, the page's blocks in order
in one namespace, as a reader pasting them into one notebook would; the
README's run in tests/house/test_readme.py the same way. Output shown but not run is
written as ```text or ```console.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def python_blocks(text: str) -> list[str]:
    """The ```python blocks of a Markdown text, in order."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


PAGES = sorted(
    path
    for path in DOCS.rglob("*.md")
    if python_blocks(path.read_text(encoding="utf-8"))
)


def test_the_docs_have_python_examples() -> None:
    """The guide for Python users is among the pages whose examples run."""
    assert DOCS / "guides" / "python.md" in PAGES


# The examples solve and compare hallingdal, a larger shipped instance.
@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_examples_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One page's examples, in order, in one namespace, from a scratch copy."""
    shutil.copytree(ROOT / "instances", tmp_path / "instances")
    monkeypatch.chdir(tmp_path)
    names: dict[str, object] = {"__name__": "__main__"}
    for code in python_blocks(page.read_text(encoding="utf-8")):
        exec(compile(code, str(page.relative_to(ROOT)), "exec"), names)


def test_python_blocks_finds_each_block_and_nothing_else() -> None:
    """Only ```python fences count; a ```text block or a quoted fence does not."""
    text = (
        "```python\nx = 1\n```\n\n```text\nnot run\n```\n"
        "inline ```python here``` is prose\n\n```python\ny = 2\n```\n"
    )
    assert python_blocks(text) == ["x = 1\n", "y = 2\n"]
