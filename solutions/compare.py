"""Regenerate the shipped comparisons (docs/comparison.md).

    python solutions/compare.py                      # both, as recorded
    python solutions/compare.py hallingdal           # one of them
    python solutions/compare.py -- --time-limit 3    # quicker, not for committing
    python solutions/compare.py --tables             # only compare.txt, from the rows

Runs ``allocator compare instances/<name> --all --out solutions/<name>/compare
--replace`` with the default settings (three seeds, each structure's own
time limit) and writes the printed table to ``solutions/<name>/compare.txt``,
which docs/comparison.md quotes. ``tests/compare/test_compare_shipped.py`` checks
that every structure folder passes ``allocator check``, that the table is
the one comparison.csv gives, and that a fresh run gives the same
comparison.csv apart from wall time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("hallingdal", "nord-gudbrandsdal")


def command(name: str, out: Path, extra: list[str]) -> list[str]:
    """The recorded command for one shipped comparison."""
    return [
        sys.executable, "-m", "allocator", "compare", f"instances/{name}", "--all",
        "--out", str(out), "--replace", *extra,
    ]  # fmt: skip


def regenerate(name: str, extra: list[str]) -> None:
    """Run the comparison of ``name`` and write its table beside it."""
    out = Path("solutions") / name / "compare"
    done = subprocess.run(
        command(name, out, extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise SystemExit(done.returncode)
    table = [
        line for line in done.stdout.splitlines() if not line.startswith("written:")
    ]
    (ROOT / "solutions" / name / "compare.txt").write_text(
        "\n".join(table).rstrip("\n") + "\n", encoding="utf-8"
    )
    print(f"written: solutions/{name}/compare and solutions/{name}/compare.txt")


def write_table(name: str) -> None:
    """Rewrite compare.txt from the committed rows, solving nothing.

    For a change in how the table is printed; the rows stay as they were.
    """
    import json

    from allocator.render.compare_text import comparison_table

    folder = ROOT / "solutions" / name / "compare"
    rows = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))["rows"]
    (folder.parent / "compare.txt").write_text(
        comparison_table(rows) + "\n", encoding="utf-8"
    )
    print(f"written: solutions/{name}/compare.txt")


def main(argv: list[str]) -> None:
    split = argv.index("--") if "--" in argv else len(argv)
    names, extra = argv[:split], argv[split + 1 :]
    tables_only = "--tables" in names
    names = [n for n in names if n != "--tables"] or list(SHIPPED)
    for name in names:
        if tables_only:
            write_table(name)
        else:
            regenerate(name, extra)


if __name__ == "__main__":
    main(sys.argv[1:])
