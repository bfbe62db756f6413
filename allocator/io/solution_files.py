"""A solution folder's files read back as typed rows, in either CSV dialect.

The HTML report is always built from the files a solve writes (or wrote), so
``allocator report SOLUTION_DIR`` rebuilds exactly the page the solve wrote.
Both dialects are read: ``,`` with decimal points and ``;`` with decimal
commas (FORMAT.md section 5, written when users.csv was ``;``-separated).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from allocator.errors import DataWarning, InputProblem, InstanceError
from allocator.io.tables import (
    Table,
    parse_csv,
    parse_list,
    parse_text,
    read_csv,
    unquote,
)

# The files a report reads; changes.csv is optional in older folders.
REPORT_FILES = (
    "assignments.csv",
    "advisor_load.csv",
    "team_load.csv",
    "municipality_load.csv",
    "changes.csv",
    "summary.json",
)
OPTIONAL = frozenset({"changes.csv"})

DECIMALS = frozenset({"fte", "capacity", "load", "utilisation", "travel_km"})
COUNTS = frozenset(
    {"users", "new_users", "intake_limit", "advisors", "assigned", "unassigned"}
)
FLAGS = frozenset({"changed", "team_change", "locked"})
LISTS = {"advisor_load.csv": frozenset({"municipalities"})}


def read_solution_files(folder: Path) -> dict[str, str]:
    """The text of the report's files in ``folder`` (FORMAT.md section 5).

    Raises:
        InstanceError: a required file is missing or not UTF-8.
    """
    files: dict[str, str] = {}
    problems = []
    for name in REPORT_FILES:
        path = folder / name
        if not path.is_file():
            if name not in OPTIONAL:
                problems.append(
                    InputProblem(
                        f"{folder.name}/{name}",
                        None,
                        None,
                        "expected this file of a solution folder, found none.",
                    )
                )
            continue
        try:
            files[name] = path.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as err:
            message = f"expected a readable UTF-8 file ({type(err).__name__})."
            problems.append(InputProblem(f"{folder.name}/{name}", None, None, message))
    if problems:
        raise InstanceError(problems)
    return files


def solution_tables(files: Mapping[str, str | bytes]) -> dict[str, Any]:
    """Typed rows of every report file present, and the summary.

    Returns ``{"summary": dict, "assignments": [...], "advisor_load": [...],
    "team_load": [...], "municipality_load": [...], "changes": [...]}``:
    numbers as float or int (None when empty), flags as bool, list cells as
    lists, text with the formula-guarding ``'`` removed.

    Raises:
        InstanceError: summary.json is not JSON, or a number cell is not one.
    """
    out: dict[str, Any] = {}
    summary = files.get("summary.json", "{}")
    try:
        out["summary"] = json.loads(summary)
    except json.JSONDecodeError as err:
        raise InstanceError(
            [InputProblem("summary.json", err.lineno, None, "expected JSON.")]
        ) from err
    for name in REPORT_FILES[:-1]:
        content = files.get(name)
        key = name.removesuffix(".csv")
        if content is None:
            out[key] = []
            continue
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        out[key] = typed_rows(parse_csv(name, data), LISTS.get(name, frozenset()))
    return out


def typed_rows(table: Table, lists: frozenset[str]) -> list[dict[str, Any]]:
    """The table's rows with the section 5 columns turned into values."""
    rows = []
    for row in table.rows:
        values: dict[str, Any] = {}
        for column, text in row.cells.items():
            values[column] = value_of(table, row.number, column, text, lists)
        rows.append(values)
    return rows


def value_of(
    table: Table, number: int, column: str, text: str, lists: frozenset[str]
) -> Any:
    """One cell as its column's value."""
    if column in lists:
        return list(parse_list(text))
    if column in FLAGS:
        return text.strip().lower() == "true"
    if column in DECIMALS or column in COUNTS:
        value = text.strip()
        if not value:
            return None
        if table.decimal_comma:
            value = value.replace(",", ".")
        try:
            parsed = float(value)
        except ValueError as err:
            message = f'expected a number, found "{value[:40]}".'
            raise InstanceError(
                [InputProblem(table.label, number, column, message)]
            ) from err
        return int(parsed) if column in COUNTS else parsed
    return parse_text(text)


def write_report(folder: Path, name: str, text: str) -> Path:
    """Replace ``folder/name`` atomically (a temporary file, then a rename)."""
    target = folder / name
    staging = folder / f".{name}.{os.getpid()}.tmp"
    try:
        staging.write_text(text, encoding="utf-8", newline="")
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    return target


def table_rows(path: Path) -> dict[str, list[Any]]:
    """``{"columns": [...], "rows": [[...], ...]}`` of a solution's CSV file.

    The solution's CSV files are written in the input's dialect: a
    ``;``-separated users.csv (as Norwegian Excel saves it) gives
    ``;``-separated output with a byte-order mark, CRLF and decimal commas,
    so they are read with the input's own reader, which detects delimiter
    and encoding the same way, rather than guessing again. Columns keep the
    file's spelling; each row has one cell per column, as text, with the
    ``'`` the writer put before formula-like text dropped. A file without
    rows gives its header and no rows.

    Raises:
        InstanceError: the file cannot be read as CSV (not a solution file).
    """
    with warnings.catch_warnings():
        # The solution's files are UTF-8; a warning here would say nothing
        # to the reader of the table.
        warnings.simplefilter("ignore", DataWarning)
        table = read_csv(path)
    rows = [
        [unquote(row.cells.get(name, "")) for name in table.header]
        for row in table.rows
    ]
    return {"columns": list(table.spelling), "rows": rows}
