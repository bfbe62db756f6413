"""Reading the solution files: the CSV tables (in either dialect) and
summary.json, a file that cannot be read named as a violation.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from allocator.checker.format import FORMULA_STARTS


@dataclass(frozen=True)
class Row:
    """One data row of an output CSV, cells already unescaped."""

    number: int  # 1-based, header = row 1
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass(frozen=True)
class Table:
    """One output CSV as read."""

    name: str
    header: tuple[str, ...]
    rows: tuple[Row, ...]
    # (row, column) of text cells that start like a formula without the "'".
    unprotected: tuple[tuple[int, str], ...]
    # Rows whose cell count differs from the header's.
    ragged: tuple[int, ...]


def unescape(cell: str) -> str:
    """Drop the "'" the writer puts before a cell that would run as a formula,
    or before a cell that itself starts with "'" and one of those or "'"."""
    if len(cell) >= 2 and cell[0] == "'" and cell[1] in "".join(FORMULA_STARTS) + "'":
        return cell[1:]
    return cell


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# Section 5 columns that hold decimal numbers.
DECIMAL_COLUMNS = frozenset({"travel_km", "fte", "capacity", "load", "utilisation"})


def _point(cell: str) -> str:
    """A decimal comma as a point ("0,8" -> "0.8"); other text unchanged."""
    if cell.count(",") == 1 and "." not in cell and _is_number(cell.replace(",", ".")):
        return cell.replace(",", ".")
    return cell


def read_table(path: Path) -> Table | str:
    """Read an output CSV; a string names why it could not be read."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except FileNotFoundError:
        return f"{path.name}: missing"
    except (OSError, UnicodeDecodeError) as err:
        return f"{path.name}: cannot be read ({type(err).__name__})"
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    # A ";" file (users.csv was ";"-separated) writes decimal commas.
    decimal = DECIMAL_COLUMNS if delimiter == ";" else frozenset()
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as err:
        return f"{path.name}: cannot be read as CSV ({err})"
    if not records or not any(records[0]):
        return f"{path.name}: empty, expected a header row"
    header = tuple(unescape(name.strip()) for name in records[0])
    rows: list[Row] = []
    unprotected: list[tuple[int, str]] = []
    ragged: list[int] = []
    for number, record in enumerate(records[1:], start=2):
        if not record:
            continue  # a blank line
        if len(record) != len(header):
            ragged.append(number)
        record = [
            _point(raw) if column in decimal else raw
            for column, raw in zip(header, record, strict=False)
        ] + record[len(header) :]
        for column, raw in zip(header, record, strict=False):
            if raw.startswith(FORMULA_STARTS) and not _is_number(raw):
                unprotected.append((number, column))
        cells = {
            column: unescape(raw) for column, raw in zip(header, record, strict=False)
        }
        rows.append(Row(number, cells))
    return Table(path.name, header, tuple(rows), tuple(unprotected), tuple(ragged))


def read_summary(path: Path) -> dict[str, object] | str:
    """Read summary.json; a string names why it could not be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        return f"{path.name}: missing"
    except (OSError, UnicodeDecodeError) as err:
        return f"{path.name}: cannot be read ({type(err).__name__})"
    except json.JSONDecodeError as err:
        return f"{path.name}: not valid JSON (line {err.lineno}, column {err.colno})"
    if not isinstance(data, dict):
        return f"{path.name}: expected a JSON object"
    return data
