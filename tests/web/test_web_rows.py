"""The page's tables read a solution's CSV files in the dialect they were written."""

from __future__ import annotations

from pathlib import Path

from allocator.io.write import csv_text
from allocator.web.rows import csv_rows

ROWS = [
    {"user": "u1", "advisor": "a1", "weight": 1.5, "reason": "full, waits; see team"},
    {"user": "u2", "advisor": "", "weight": 2.0, "reason": "=not a formula"},
]
HEADER = ["user", "advisor", "weight", "reason"]


def test_a_semicolon_file_with_bom_crlf_and_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "assignments.csv"
    text = csv_text(ROWS, HEADER, dialect=";")
    assert text.startswith("\ufeff") and "\r\n" in text and "1,5" in text
    path.write_text(text, encoding="utf-8", newline="")
    table = csv_rows(path)
    assert table["columns"] == HEADER
    assert table["rows"] == [
        ["u1", "a1", "1,5", "full, waits; see team"],
        ["u2", "", "2", "=not a formula"],
    ]


def test_a_comma_file_whose_cells_hold_semicolons(tmp_path: Path) -> None:
    # More ";" than "," in the first line must not make it a ";"-file.
    path = tmp_path / "changes.csv"
    rows = [{"user": "u1", "advisor": "a;b;c", "weight": 1.5, "reason": "x;y"}]
    path.write_text(csv_text(rows, HEADER), encoding="utf-8")
    table = csv_rows(path)
    assert table["columns"] == HEADER
    assert table["rows"] == [["u1", "a;b;c", "1.5", "x;y"]]
