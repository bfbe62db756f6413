"""Writes a report into a solution folder: all files at once, or none."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from allocator.analysis.report import Report, Row
from allocator.errors import SolutionError
from allocator.io.folder import check_writable
from allocator.io.folder import write_folder as write_folder

# A spreadsheet runs a text cell starting with one of these as a formula
# (tab and CR too: some spreadsheets skip them and run what follows).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Leads a ";"-dialect CSV so that Excel reads it as UTF-8.
BOM = "\ufeff"


def neutralise(text: str) -> str:
    """Prefix a formula-like text with ' so a spreadsheet shows it as text.

    A text that already starts with ' before a formula start or another '
    gets one more, so that reading back (which drops exactly one ' there)
    gives the text as it was: "'-" is written "''-".
    """
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    if len(text) > 1 and text[0] == "'" and text[1] in (*FORMULA_STARTS, "'"):
        return "'" + text
    return text


def cell(value: Any, dialect: str = ",") -> str:
    """One CSV cell: booleans true/false, lists ;-joined, numbers plain.

    In the ``;`` dialect a decimal number is written with a decimal comma.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return ""
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        return text.replace(".", ",") if dialect == ";" else text
    if isinstance(value, (list, tuple)):
        return neutralise(";".join(str(v) for v in value))
    return neutralise(str(value))


def csv_text(rows: Iterable[Row], header: list[str], dialect: str = ",") -> str:
    """Rows as CSV text, header first, in the input's dialect.

    ``","``: comma-separated, decimal point, LF, no byte-order mark.
    ``";"``: what Norwegian Excel opens as columns: semicolon-separated,
    decimal comma, CRLF, led by a byte-order mark (so UTF-8 letters survive).

    Header cells are neutralised like data cells. A cell holding CR or LF is
    quoted, so every row stays one row: the csv module quotes only the
    characters of its line terminator, hence CRLF while writing, and each
    row's end is turned into the dialect's line end afterwards.
    """
    nordic = dialect == ";"
    end = "\r\n" if nordic else "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=dialect, lineterminator="\r\n")
    lines = []
    for cells in _rows_of(rows, header, dialect):
        writer.writerow(cells)
        lines.append(buffer.getvalue()[:-2])
        buffer.seek(0)
        buffer.truncate()
    return (BOM if nordic else "") + "".join(line + end for line in lines)


def _rows_of(
    rows: Iterable[Row], header: list[str], dialect: str
) -> Iterable[list[str]]:
    yield [neutralise(str(column)) for column in header]
    for row in rows:
        yield [cell(row.get(column), dialect) for column in header]


def header_of(rows: list[Row], fallback: list[str]) -> list[str]:
    return list(rows[0]) if rows else fallback


def report_files(report: Report, dialect: str = ",") -> dict[str, str]:
    """File name -> content for every file a solve writes (CSVs in ``dialect``)."""
    return {
        "assignments.csv": csv_text(
            report.assignments,
            header_of(report.assignments, ASSIGNMENT_COLUMNS),
            dialect,
        ),
        "advisor_load.csv": csv_text(
            report.advisor_load,
            header_of(report.advisor_load, ADVISOR_COLUMNS),
            dialect,
        ),
        "team_load.csv": csv_text(
            report.team_load, header_of(report.team_load, TEAM_COLUMNS), dialect
        ),
        "municipality_load.csv": csv_text(
            report.municipality_load,
            header_of(report.municipality_load, MUNICIPALITY_COLUMNS),
            dialect,
        ),
        "summary.json": strict_json(report.summary),
    }


def strict_json(data: Any) -> str:
    """JSON text any parser takes: NaN and infinities become null.

    ``json.dumps`` writes ``NaN``/``Infinity`` by default, which JavaScript's
    ``JSON.parse`` and other strict readers reject; ``allow_nan=False`` makes
    sure none slips through.
    """
    return (
        json.dumps(_finite(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    )


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def check_target(out: Path) -> None:
    """Refuse an --out folder that holds anything but an earlier solution.

    A solve replaces its folder as a whole, so pointing --out at an instance
    folder, a home directory or "." must fail before anything is touched;
    so must a folder that cannot be written (a read-only share), before the
    solve rather than after it.

    Raises:
        SolutionError: ``out`` is a file, a folder that is not a solution,
            or a place this user cannot write to.
    """
    if out.exists() and not out.is_dir():
        raise SolutionError(f"--out {out} exists and is not a folder.")
    if out.is_dir() and any(out.iterdir()) and not (out / "summary.json").is_file():
        raise SolutionError(
            f"--out {out} exists and is not a solution folder (no summary.json); "
            "choose a new or empty folder."
        )
    check_writable(out)


ASSIGNMENT_COLUMNS = [
    "user", "municipality", "team", "advisor", "status", "previous_advisor",
    "changed", "rule", "travel_km", "reason",
]  # fmt: skip
ADVISOR_COLUMNS = [
    "advisor", "team", "fte", "capacity", "load", "utilisation", "users",
    "new_users", "intake_limit", "municipalities",
]  # fmt: skip
TEAM_COLUMNS = ["team", "kind", "advisors", "assigned", "load", "capacity"]
MUNICIPALITY_COLUMNS = [
    "municipality", "users", "assigned", "unassigned", "load", "advisors",
]  # fmt: skip
