"""The rooms keep their jobs: an import scan of the package (README module map)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "allocator"

# room -> the rooms (first component under allocator.) it may import.
ALLOWED: dict[str, set[str]] = {
    "domain": {"errors"},
    "errors": set(),
    "engine": {"engine", "domain", "errors"},
    "checker": {"domain", "errors", "checker"},
    "gap": {"gap"},
    "analysis": {"analysis", "engine", "domain", "errors", "i18n"},
    "render": {"render", "analysis", "domain", "errors", "i18n"},
    # The catalogues of words (Babel) are a leaf every room that writes text reads.
    "i18n": set(),
    # Scenarios run the reader's checks, and the model's for fix locks.
    "scenario": {"scenario", "io", "engine", "domain", "errors"},
    # The web page uses the root API; Lock and the errors name its inputs.
    "web": {"web", "domain", "errors", "i18n"},
}
# Known crossings still to be undone, each named so that no new one slips in:
# changes rows take the reader's Previous, and explain reads a solution folder.
CROSSINGS = {
    ("analysis/changes.py", "allocator.io.previous"),
    ("analysis/explain.py", "allocator.io.previous"),
}
# Third-party libraries confined to one room each.
CONFINED = {
    "ortools": {"engine", "gap"},
    "pandas": {"solution", "compare", "scenario", "runs"},
    "matplotlib": {"render"},
    "distributed": {"runs"},
    "dask": {"runs"},
    "fastapi": {"web"},
    "starlette": {"web"},
    "uvicorn": {"web"},
    "multipart": {"web"},
}


def room_of(path: Path) -> str:
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


MODULES = sorted(
    p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE
)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_room_imports_only_what_it_may(path: Path) -> None:
    room = room_of(path)
    for name in imports_of(path):
        parts = name.split(".")
        known = (str(path.relative_to(PACKAGE)), name) in CROSSINGS
        if parts[0] == "allocator" and len(parts) > 1 and room in ALLOWED and not known:
            assert parts[1] in ALLOWED[room], f"{room} must not import {name}"
        if parts[0] in CONFINED:
            assert room in CONFINED[parts[0]], (
                f"{parts[0]} is confined to {CONFINED[parts[0]]}, imported by {room}"
            )


def test_nothing_below_the_cli_imports_it() -> None:
    for path in MODULES:
        if room_of(path) in {"cli", "__main__"}:
            continue
        assert not any(n.startswith("allocator.cli") for n in imports_of(path)), path


def test_the_scan_sees_a_forbidden_import(tmp_path: Path) -> None:
    # The scan itself must be able to fail: an engine module importing the CLI.
    bad = tmp_path / "bad.py"
    bad.write_text("from allocator.cli import main\nimport pandas\n")
    assert "allocator.cli" in imports_of(bad) and "pandas" in imports_of(bad)
