"""One front door: the command line calls the public API, as notebooks do.

Every module of ``allocator/cli/`` may import the package's root (the names
of ``allocator.__all__``), the rendering of terminal text, the page's own
root for ``serve``, and itself; nothing else of the package. The scan reads
imports inside functions too (tests/house/test_layers.py's reader).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.house.test_layers import PACKAGE, package_imports, relative

# What the command line may import besides the root and itself.
TERMINAL_TEXT = {
    "allocator.render.text",
    "allocator.render.compare_text",
    "allocator.i18n",
}
# ``allocator serve`` starts the page (the optional web extra).
PAGE = {"allocator.web"}
CLI_MODULES = sorted((PACKAGE / "cli").rglob("*.py"))


def outside_front_door(imported: frozenset[str]) -> list[str]:
    """The package modules imported that are not the public API."""
    return sorted(
        name
        for name in imported
        if name != "allocator"
        and not name.startswith("allocator.cli")
        and name not in TERMINAL_TEXT | PAGE
    )


@pytest.mark.parametrize("path", CLI_MODULES, ids=relative)
def test_the_command_line_imports_only_the_public_api(path: Path) -> None:
    assert outside_front_door(package_imports(path)) == []


def test_every_name_the_command_line_takes_from_the_root_is_public() -> None:
    """``from allocator import x`` in the CLI names something in __all__."""
    import ast

    import allocator

    for path in CLI_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "allocator":
                for alias in node.names:
                    assert alias.name in allocator.__all__, (relative(path), alias.name)


def test_the_scan_would_see_a_reader_imported_in_a_function(tmp_path: Path) -> None:
    """The rule can fail: a command importing the reader inside its body."""
    fake = tmp_path / "bad.py"
    fake.write_text(
        "def command():\n    from allocator.io.read import read_instance\n"
        "    from allocator import solve\n"
    )
    assert outside_front_door(package_imports(fake)) == ["allocator.io.read"]


def test_no_module_of_the_package_is_over_800_lines() -> None:
    """Rooms all the way down: a module holds one concept (cli and compare)."""
    for path in [*CLI_MODULES, *sorted((PACKAGE / "compare").rglob("*.py"))]:
        lines = path.read_text(encoding="utf-8").count("\n")
        assert lines <= 800, f"{relative(path)} has {lines} lines"
