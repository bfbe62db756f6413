"""Workbooks: the sheets of an xlsx file read into Tables, with merged,
hidden, formula and error cells noted.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries

from allocator.errors import DataWarning, InputProblem, InstanceError
from allocator.i18n import _
from allocator.io.tables.csv_files import read_csv
from allocator.io.tables.structure import _file_problem, make_table, normalise_header
from allocator.io.tables.table import MAX_LISTED, SHEETS, Table


def cell_text(value: object) -> str:
    """A workbook cell's value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass
class SheetFacts:
    """What a sheet's XML says beyond its values (see ``_sheet_facts``)."""

    merged: list[str] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)
    # (first, last) 1-based column numbers.
    hidden_columns: list[tuple[int, int]] = field(default_factory=list)
    # Cell reference -> "formula" (no computed value) or the error shown.
    unreadable: dict[str, str] = field(default_factory=dict)


def _part(base: str, target: str) -> str:
    """A relationship's target as a path in the package."""
    if target.startswith("/"):
        return target.lstrip("/")
    return str(PurePosixPath(base).parent / target)


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target path) of ``part`` ("" for the package)."""
    path = PurePosixPath(part)
    rels = str(path.parent / "_rels" / f"{path.name}.rels") if part else "_rels/.rels"
    root = ElementTree.fromstring(archive.read(rels))
    return {
        r.get("Id", ""): (r.get("Type", ""), _part(part, r.get("Target", "")))
        for r in root.iter(f"{_PACKAGE_REL}Relationship")
    }


def _sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> its XML part, found as Excel finds it (package rels,
    workbook, workbook rels)."""
    book_part = next(
        target
        for kind, target in _rels(archive, "").values()
        if kind.endswith("/officeDocument")
    )
    targets = _rels(archive, book_part)
    book = ElementTree.fromstring(archive.read(book_part))
    return {
        sheet.get("name", ""): targets.get(sheet.get(f"{_REL}id", ""), ("", ""))[1]
        for sheet in book.iter(f"{_MAIN}sheet")
    }


# Markers of what _sheet_facts looks for; a sheet without any (the usual
# case) is not parsed a second time. Elements may carry a namespace prefix.
_FACT_MARKERS = re.compile(rb"mergeCell|hidden=|<(?:\w+:)?f[\s>/]|t=\"e\"")


def _sheet_facts(archive: zipfile.ZipFile, path: str) -> SheetFacts:
    """Merged ranges, hidden rows and columns, and formula cells without a
    computed value or with an error, streamed from the sheet's XML."""
    facts = SheetFacts()
    if _FACT_MARKERS.search(archive.read(path)) is None:
        return facts
    with archive.open(path) as stream:
        for _event, element in ElementTree.iterparse(stream):
            tag = element.tag
            if tag == f"{_MAIN}c":
                _cell_fact(element, facts)
                element.clear()
            elif tag == f"{_MAIN}row":
                if element.get("hidden") in ("1", "true"):
                    facts.hidden_rows.add(int(element.get("r", "0")))
                element.clear()
            elif tag == f"{_MAIN}col" and element.get("hidden") in ("1", "true"):
                first, last = int(element.get("min", "1")), int(element.get("max", "1"))
                facts.hidden_columns.append((first, last))
            elif tag == f"{_MAIN}mergeCell":
                facts.merged.append(element.get("ref", ""))
    return facts


def _cell_fact(cell: Any, facts: SheetFacts) -> None:
    ref = cell.get("r", "")
    value = cell.find(f"{_MAIN}v")
    if cell.get("t") == "e":
        facts.unreadable[ref] = (
            value.text if value is not None and value.text else "#error"
        )
    elif cell.find(f"{_MAIN}f") is not None and (
        value is None or (not value.text and cell.get("t") != "str")
    ):
        # Never calculated: no value, or an empty one where a number belongs
        # (a formula that computed "" is stored as an empty string, t="str").
        facts.unreadable[ref] = "formula"


def parse_workbook(
    label: str,
    data: bytes,
    required: Mapping[str, Sequence[str]] | None = None,
    checked: Sequence[str] = SHEETS,
) -> dict[str, Table]:
    """Every sheet of a workbook, keyed by its normalised name.

    Each table is labelled ``label[sheet]`` with the sheet's own spelling.
    ``required`` maps a sheet's normalised name to the columns that locate
    its header. In the sheets named in ``checked`` (by default the
    instance's ``SHEETS``; an edited allocation.xlsx names its own), cells
    that do not hold
    what they show are problems of the table: merged cells in or below the
    header, formulas saved without a computed value, formula errors, hidden
    rows and a hidden sheet. Hidden columns are read, with a warning.

    Raises
    ------
    InstanceError
        When the bytes are not a workbook openpyxl can read, or a sheet has no
        usable header.
    """
    required = required or {}
    # openpyxl raises many kinds of error for damaged files, also while it
    # reads sheets lazily, so everything up to the last row is guarded.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            paths = _sheet_paths(archive)
            facts = {
                title: _sheet_facts(archive, path)
                for title, path in paths.items()
                if normalise_header(title) in checked and path in archive.namelist()
            }
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            tables = {}
            for sheet in book.worksheets:
                name = normalise_header(sheet.title)
                table = _sheet_table(label, sheet, required.get(name, ()))
                if name in checked:
                    _check_sheet(table, sheet, facts.get(sheet.title, SheetFacts()))
                tables[name] = table
            return tables
        finally:
            book.close()
    except InstanceError:
        raise
    except Exception as err:
        raise _file_problem(
            label,
            _(
                "expected an Excel workbook (.xlsx), found a file openpyxl cannot "
                "read ({error})."
            ).format(error=type(err).__name__),
        ) from err


def _sheet_table(label: str, sheet: Any, required: Sequence[str]) -> Table:
    # Some writers store a wrong size; forget it so no row or column is cut off.
    sheet.reset_dimensions()
    values = sheet.iter_rows(min_row=1, values_only=True)
    raw_rows = ([cell_text(value) for value in row] for row in values)
    return make_table(
        f"{label}[{sheet.title}]", raw_rows, decimal_comma=True, required=required
    )


def _check_sheet(table: Table, sheet: Any, facts: SheetFacts) -> None:
    """Add a sheet's hidden, merged and uncomputed cells to ``table.problems``."""
    label = table.label
    columns = dict(enumerate(table.raw_header))

    def column(index: int) -> str:
        return columns.get(index) or get_column_letter(index + 1)

    problems = table.problems
    if sheet.sheet_state != "visible":
        problems.append(
            InputProblem(
                label,
                None,
                None,
                _(
                    "expected a visible sheet, found it hidden; unhide it "
                    "(right-click a sheet tab, Unhide), or delete it if it should "
                    "not be read."
                ),
            )
        )
    rows = {row.number for row in table.rows}
    first_data = table.header_row
    for ref in facts.merged:
        min_col, min_row, _max_col, max_row = range_boundaries(ref)
        if max_row < first_data:
            continue
        # The first cell of the range that shows the value but holds none.
        row, col = (
            (min_row + 1, min_col) if max_row > min_row else (min_row, min_col + 1)
        )
        where = row if row >= first_data else first_data
        problems.append(
            InputProblem(
                label,
                where,
                column(col - 1),
                _(
                    "expected a value in every cell, found this cell part of the "
                    "merged cells {cells} (only {first} holds the value); unmerge "
                    "them and fill each row."
                ).format(cells=ref, first=f"{get_column_letter(min_col)}{min_row}"),
            )
        )
    hidden = sorted(r for r in facts.hidden_rows if r in rows)
    if hidden:
        more = (
            _(" (and {more} more hidden rows)").format(more=len(hidden) - 1)
            if len(hidden) > 1
            else ""
        )
        problems.append(
            InputProblem(
                label,
                hidden[0],
                None,
                _(
                    "expected every row visible, found this row hidden by a filter "
                    "or Hide{more}; unhide them, or delete the rows that should not "
                    "be read."
                ).format(more=more),
            )
        )
    for ref, what in facts.unreadable.items():
        min_col, row, _max_col, _max_row = range_boundaries(ref)
        if row < first_data:
            continue
        if what == "formula":
            message = _(
                "expected a value, found a formula saved without its computed value "
                "(the program that saved the workbook does not calculate); open and "
                "save it in Excel, or paste the values."
            )
        else:
            message = _(
                "expected a value, found the formula error {error}; fix the formula."
            ).format(error=what)
        problems.append(InputProblem(label, row, column(min_col - 1), message))
    hidden_named = [
        column(i - 1)
        for first, last in facts.hidden_columns
        for i in range(first, min(last, len(columns)) + 1)
        if columns.get(i - 1)
    ]
    if hidden_named:
        listed = ", ".join(hidden_named[:MAX_LISTED])
        warnings.warn(
            _("{file}: hidden columns {columns} were read as they are.").format(
                file=label, columns=listed
            ),
            DataWarning,
            stacklevel=5,
        )


def read_workbook(
    path: Path,
    required: Mapping[str, Sequence[str]] | None = None,
    checked: Sequence[str] = SHEETS,
) -> dict[str, Table]:
    """Every sheet of the workbook at ``path``, keyed by normalised sheet name.

    ``required`` and ``checked`` are as for :func:`parse_workbook`.

    Raises
    ------
    InstanceError
        When the file cannot be read or is not a workbook.
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        message = _("expected a readable file ({error}).").format(error=err)
        raise _file_problem(path.name, message) from err
    return parse_workbook(path.name, data, required, checked)


def read_table(path: Path, sheet: str | None = None) -> Table:
    """A table from a CSV file, or from the named sheet of a workbook.

    Sheet names match case-insensitively.

    Raises
    ------
    InstanceError
        When the file cannot be read, the sheet is missing or the table has no
        usable header.
    """
    if sheet is None:
        return read_csv(path)
    tables = read_workbook(path)
    table = tables.get(normalise_header(sheet))
    if table is None:
        message = _('expected a sheet named "{sheet}", found none.').format(
            sheet=sheet
        )
        raise _file_problem(path.name, message)
    return table
