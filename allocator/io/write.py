"""Writes a report into a solution folder: all files at once, or none."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from allocator.analysis.report import Report, Row
from allocator.errors import SolutionError

# A spreadsheet runs a text cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@")
# Leads a ";"-dialect CSV so that Excel reads it as UTF-8.
BOM = "\ufeff"


def neutralise(text: str) -> str:
    """Prefix a formula-like text with ' so a spreadsheet shows it as text."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


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
    """
    buffer = io.StringIO()
    nordic = dialect == ";"
    if nordic:
        buffer.write(BOM)
    writer = csv.writer(
        buffer, delimiter=dialect, lineterminator="\r\n" if nordic else "\n"
    )
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(row.get(column), dialect) for column in header])
    return buffer.getvalue()


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
        "summary.json": json.dumps(report.summary, indent=2, ensure_ascii=False) + "\n",
    }


def check_target(out: Path) -> None:
    """Refuse an --out folder that holds anything but an earlier solution.

    A solve replaces its folder as a whole, so pointing --out at an instance
    folder, a home directory or "." must fail before anything is touched.
    """
    if not out.exists():
        return
    if not out.is_dir():
        raise SolutionError(f"--out {out} exists and is not a folder.")
    if any(out.iterdir()) and not (out / "summary.json").is_file():
        raise SolutionError(
            f"--out {out} exists and is not a solution folder (no summary.json); "
            "choose a new or empty folder."
        )


def write_folder(files: dict[str, str | bytes], out: Path) -> None:
    """Write every file into ``out`` atomically: all of them, or nothing.

    The files go to a temporary sibling folder first, which then replaces
    ``out`` in one rename; an older folder at ``out`` is removed only after.
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for name, content in files.items():
            target = staging / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8", newline="")
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}-old-{os.getpid()}")
            out.rename(old)
        staging.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


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
