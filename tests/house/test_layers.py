"""The rooms keep their jobs: an import scan of the whole package.

Every module's imports are read, those inside functions too, and held to two
rules (docs/dev/architecture.md, "The layer rule"): a room imports only the
rooms listed for it in ALLOWED, and the modules import each other without a
circle. The known exceptions are named one by one in KNOWN, so that the test
passes today and fails on any new one, and asks for an entry to go once its
import is gone.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "allocator"

# The floors from the bottom up. A room may import itself and the rooms named
# here; "__init__" is the package's root (`import allocator`).
_LOW = {"domain", "errors", "version"}
ALLOWED: dict[str, set[str]] = {
    # The package's version: every room may name it (caches, comparison.json).
    "version": set(),
    # Located problems name their row and column in the reader's language.
    "errors": {"i18n"},
    "domain": {"errors"},
    # The catalogues of words (Babel) are a leaf every room that writes text reads.
    "i18n": set(),
    # The independent checker shares no code with the model.
    "checker": _LOW,
    # The check verb: the previous plan read as solve --previous reads it,
    # then judged by the checker.
    "checking": {"checker", "io"} | _LOW,
    # The GAP engine stands alone.
    "gap": set(),
    "engine": _LOW,
    "analysis": {"engine", "i18n"} | _LOW,
    "render": {"analysis", "i18n"} | _LOW,
    # The only room that touches files: report rows and pages are its input.
    "io": {"analysis", "render", "engine", "i18n"} | _LOW,
    "generate": {"io", "engine"} | _LOW,
    # The verbs and their nouns.
    # What a comparison found; the folder writer below reads it by protocol.
    "comparison": {"io", "render", "analysis", "engine", "i18n"} | _LOW,
    "solution": {"io", "render", "analysis", "engine"} | _LOW,
    "scenario": {"io", "engine", "i18n"} | _LOW,
    "run": {"solution", "io", "render", "analysis", "engine"} | _LOW,
    # A solve in parts words each part's reasons in the caller's language.
    "runs": {"run", "solution", "io", "gap", "render", "analysis", "engine", "i18n"}
    | _LOW,
    "compare": {
        "comparison",
        "runs",
        "run",
        "scenario",
        "solution",
        "io",
        "render",
        "analysis",
        "engine",
    }
    | _LOW,
    # The front door: every verb the command line, the page and notebooks call.
    "api": {
        "comparison",
        "compare",
        "runs",
        "run",
        "scenario",
        "solution",
        "checking",
        "checker",
        "generate",
        "io",
        "render",
        "analysis",
        "engine",
    }
    | _LOW,
    # Recommending a structure screens groupings and solves the survivors
    # with compare's code: a verb above compare, on the floor of runs.
    "recommend": {
        "comparison",
        "compare",
        "runs",
        "run",
        "scenario",
        "solution",
        "checker",
        "io",
        "render",
        "analysis",
        "engine",
    }
    | _LOW,
    # The table of contents re-exports the verbs and nouns.
    "__init__": {"api", "recommend", "scenario", "comparison", "solution"} | _LOW,
    # The web page uses the root API; Lock and the errors name its inputs.
    "web": {"__init__", "i18n"} | _LOW,
    # The command line calls the public API (the root) as notebooks do, and
    # renders terminal text; serve starts the page
    # (tests/cli/test_cli_front_door.py holds it to the modules named there).
    "cli": {"__init__", "render", "i18n", "web"},
    "__main__": {"cli"},
}

# Known imports that break a rule, each named with why, still to be undone.
# (importing file, imported module) -> the reason.
KNOWN: dict[tuple[str, str], str] = {
}

# Third-party libraries confined to named rooms.
CONFINED = {
    # recommend's screen bounds a grouping's placeable users by a max flow.
    "ortools": {"engine", "gap", "recommend"},
    "pandas": {"solution", "comparison", "compare", "scenario", "runs", "recommend"},
    "matplotlib": {"render"},
    "distributed": {"runs"},
    "dask": {"runs"},
    "fastapi": {"web"},
    "starlette": {"web"},
    "uvicorn": {"web"},
    "multipart": {"web"},
}


def module_name(path: Path) -> str:
    """allocator/io/read.py -> allocator.io.read; a package's __init__ -> it."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = sorted(PACKAGE.rglob("*.py"))
NAMES = {module_name(path) for path in MODULES}


def room_of(module: str) -> str:
    """The room of a module of the package: its first name under allocator."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path) -> list[str]:
    """Every name imported anywhere in the file, functions included.

    ``from a.b import c`` gives ``a.b.c``, which is the module ``a.b.c`` or
    the name ``c`` of the module ``a.b``; relative imports are made absolute
    from the file's package.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base: list[str] = []
            if node.level:  # relative: from the file's own package up
                here = module_name(path).split(".")
                if path.name != "__init__.py":
                    here.pop()
                base = here[: len(here) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
            names += [f"{module}.{alias.name}" for alias in node.names]
    return names


@cache
def package_imports(path: Path) -> frozenset[str]:
    """The package's modules a file imports (the longest module each name is)."""
    found = set()
    for name in imports_of(path):
        parts = name.split(".")
        while parts and ".".join(parts) not in NAMES:
            parts.pop()
        if parts and parts[0] == "allocator":
            found.add(".".join(parts))
    if path.is_relative_to(PACKAGE):
        found.discard(module_name(path))
    return frozenset(found)


def relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def graph() -> dict[str, set[str]]:
    """Module -> the modules it imports, without the KNOWN exceptions."""
    return {
        module_name(path): {
            target
            for target in package_imports(path)
            if (relative(path), target) not in KNOWN
        }
        for path in MODULES
    }


def find_circle(edges: dict[str, set[str]]) -> list[str] | None:
    """One circle of the graph as a path (first node repeated), else None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        trail.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return [*trail[trail.index(target) :], target]
            if target not in state and (circle := visit(target)):
                return circle
        trail.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (circle := visit(node)):
            return circle
    return None


def test_every_room_and_top_level_module_has_a_rule() -> None:
    """A new room or module at the package's top must be placed on a floor."""
    rooms = {room_of(module_name(path)) for path in MODULES}
    assert rooms == set(ALLOWED)


@pytest.mark.parametrize("path", MODULES, ids=relative)
def test_room_imports_only_what_it_may(path: Path) -> None:
    """Each import of the package goes to the room's own floor or below."""
    room = room_of(module_name(path))
    for target in sorted(package_imports(path)):
        if (relative(path), target) in KNOWN:
            continue
        assert room_of(target) in ALLOWED[room] | {room}, (
            f"{relative(path)} ({room}) must not import {target}"
        )
    for name in imports_of(path):
        library = name.split(".")[0]
        if library in CONFINED:
            assert room in CONFINED[library], (
                f"{library} is confined to {CONFINED[library]}, "
                f"imported by {relative(path)}"
            )


def test_no_import_circle() -> None:
    """Without the known exceptions, the modules import each other in a tree."""
    circle = find_circle(graph())
    assert circle is None, "import circle: " + " -> ".join(circle or [])


@pytest.mark.parametrize("known", sorted(KNOWN), ids=lambda k: f"{k[0]}->{k[1]}")
def test_each_known_exception_is_still_there(known: tuple[str, str]) -> None:
    """An exception whose import is gone must leave KNOWN too."""
    source, target = known
    assert target in package_imports(PACKAGE / source)


def test_nothing_below_the_cli_imports_it() -> None:
    """Only __main__ imports the command line."""
    for path in MODULES:
        if room_of(module_name(path)) in {"cli", "__main__"}:
            continue
        assert "allocator.cli" not in package_imports(path), path


def test_the_scan_sees_imports_inside_functions(tmp_path: Path) -> None:
    """The scan itself must be able to fail: imports in a function count."""
    fake = tmp_path / "bad.py"
    fake.write_text("def f():\n    from allocator.cli import main\n    import pandas\n")
    assert {"allocator.cli.main", "pandas"} <= set(imports_of(fake))
    assert "allocator.cli" in package_imports(fake)
    # ... and an engine module importing the CLI would break the engine's rule.
    assert room_of("allocator.engine.bad") == "engine"
    assert "cli" not in ALLOWED["engine"]


def test_the_circle_finder_finds_a_circle() -> None:
    """A three-module circle is found, a tree is not."""
    circle = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_circle(circle) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
