"""Every broken input of the reader's table, through the command line.

The same cases as tests/io/test_read.py's BROKEN table: each must exit 1, name
file, row and column on stderr, print no traceback and write nothing.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from allocator.cli import main
from tests.io.test_read import BROKEN, append, copy_valid, edit


def where(file: str, row: int | None, column: str | None) -> str:
    """How the CLI prints a problem's location (see errors.InputProblem)."""
    text = file
    if row is not None:
        text += f", row {row}"
    if column:
        text += f", column {column}"
    return text


@pytest.mark.parametrize(
    ("name", "old", "new", "file", "row", "column", "fragment"),
    BROKEN,
    ids=[f"{case[0]}:{i}" for i, case in enumerate(BROKEN)],
)
def test_broken_input_through_cli(
    tmp_path, name, old, new, file, row, column, fragment
):
    """Exit 1, the location and message on stderr, no traceback, no files."""
    folder = copy_valid(tmp_path)
    if new is None:
        (folder / name).unlink()
    elif old is None:
        append(folder, name, new)
    else:
        edit(folder, name, old, new)
    out = tmp_path / "solution"
    result = CliRunner().invoke(main, ["solve", str(folder), "--out", str(out)])
    assert result.exit_code == 1
    assert f"{where(file, row, column)}: " in result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".solution")]
