"""Tolerant reading of the input tables (the README's input section).

Team leaders export their caseload from the case system and edit it in Excel,
so one table may arrive as UTF-8 with or without a byte-order mark, as
Windows-1252, separated by ``,`` or ``;``, or as a sheet of a workbook. This
module turns every one of them into the same shape, a ``Table`` of plain
strings, and offers the cell parsers that turn those strings into values. It
knows nothing about what the tables mean; ``read.py`` does.

Parsers raise ``CellError``, which says what was expected and what was found;
the caller adds the file, row and column. Problems with a whole file (it cannot
be decoded, it has no header, a column appears twice) raise ``InstanceError``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl

from allocator.errors import DataWarning, InputProblem, InstanceError

# The sheets a workbook may carry; the README's input section.
SHEETS = ("municipalities", "teams", "advisors", "users", "locks", "travel")

# Characters that make a spreadsheet run a cell as a formula; the tool writes
# such text with a leading "'" (the README's output section) and strips it on reading.
_FORMULA_START = "=+-@\t\r"

_TRUE = frozenset({"true", "yes", "ja", "sann", "1"})
_FALSE = frozenset({"false", "no", "nei", "usann", "0"})
_BOOL_TEXT = "true or false (or yes/no, ja/nei, sann/usann, 1/0)"

_INT_RE = re.compile(r"[+-]?\d+")
_DECIMAL_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# Norwegian Excel writes 05.03.2026; people also type 5.3.2026.
_NORWEGIAN_DATE_RE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")

# Longest piece of a bad cell quoted back in a message.
_MAX_SHOWN = 40


@dataclass(frozen=True)
class Row:
    """One non-empty data row: its number in the file and its cells."""

    # 1-based, header = row 1, counting blank rows as the file shows them.
    number: int
    # Normalised header -> the cell's text as written.
    cells: dict[str, str]


@dataclass(frozen=True)
class Table:
    """A table read from a CSV file or a workbook sheet, as plain strings."""

    # For messages: "users.csv" or "caseload.xlsx[users]".
    label: str
    # Column names lower-cased and stripped, in file order.
    header: list[str]
    # Column names as written (stripped), parallel to ``header``; unknown
    # columns are carried to the output under this spelling.
    spelling: list[str]
    rows: list[Row]
    # Whether "0,8" reads as 0.8: true for ";"-separated files and workbooks.
    decimal_comma: bool
    # Rows that could not be split into the header's columns; left out of rows.
    problems: list[InputProblem] = field(default_factory=list)
    # Where the header is: row 1 unless blank rows come first.
    header_row: int = 1

    def spelling_of(self, column: str) -> str:
        """The column's name as the file writes it."""
        return self.spelling[self.header.index(column)]


class CellError(ValueError):
    """A cell that does not hold what its column expects."""

    def __init__(self, expected: str, found: str) -> None:
        self.expected = expected
        self.found = found
        super().__init__(str(self))

    def __str__(self) -> str:
        shown = self.found.strip()
        if not shown:
            return f"expected {self.expected}, found an empty cell."
        if len(shown) > _MAX_SHOWN:
            shown = shown[: _MAX_SHOWN - 3] + "..."
        return f'expected {self.expected}, found "{shown}".'


# --- Header and file structure ------------------------------------------------


def normalise_header(name: str) -> str:
    """A column name as matched: lower-cased, surrounding spaces dropped."""
    return name.strip().lower()


def _file_problem(label: str, message: str, row: int | None = None) -> InstanceError:
    return InstanceError([InputProblem(label, row, None, message)])


def _is_blank(cells: Sequence[str]) -> bool:
    return all(not cell.strip() for cell in cells)


def make_table(
    label: str, raw_rows: Iterable[Sequence[str]], decimal_comma: bool
) -> Table:
    """Build a table from rows of strings; the first non-empty row is the header.

    Raises
    ------
    InstanceError
        When there is no header or a column name appears twice.
    """
    numbered = ((number, list(cells)) for number, cells in enumerate(raw_rows, 1))
    header_row = next(((n, c) for n, c in numbered if not _is_blank(c)), None)
    if header_row is None:
        raise _file_problem(label, "expected a header row, found an empty file.")
    header_number, spelling = header_row
    spelling = [name.strip() for name in spelling]
    header = [normalise_header(name) for name in spelling]
    _check_header(label, header_number, header, spelling)
    rows: list[Row] = []
    problems: list[InputProblem] = []
    for number, cells in numbered:
        if _is_blank(cells):
            continue
        problem = _misfit(label, number, header, cells)
        if problem is not None:
            problems.append(problem)
            continue
        values = dict(zip(header, cells, strict=False))
        rows.append(Row(number, {name: values.get(name, "") for name in header}))
    # Columns without a name hold nothing (checked in _misfit); drop them.
    kept = [i for i, name in enumerate(header) if name]
    return Table(
        label=label,
        header=[header[i] for i in kept],
        spelling=[spelling[i] for i in kept],
        rows=[Row(r.number, {k: v for k, v in r.cells.items() if k}) for r in rows],
        decimal_comma=decimal_comma,
        problems=problems,
        header_row=header_number,
    )


def _check_header(
    label: str, number: int, header: list[str], spelling: list[str]
) -> None:
    """Each column name appears once (case and spaces ignored)."""
    seen: set[str] = set()
    for name, written in zip(header, spelling, strict=True):
        if name and name in seen:
            raise InstanceError(
                [
                    InputProblem(
                        label,
                        number,
                        written,
                        f'expected each column once, found "{written}" twice.',
                    )
                ]
            )
        seen.add(name)


def _misfit(
    label: str, number: int, header: list[str], cells: list[str]
) -> InputProblem | None:
    """A row with values where the header names no column, else None."""
    stray = [
        i
        for i, cell in enumerate(cells)
        if cell.strip() and (i >= len(header) or not header[i])
    ]
    if not stray:
        return None
    named = sum(1 for name in header if name)
    filled = sum(1 for cell in cells if cell.strip())
    return InputProblem(
        label,
        number,
        None,
        f"expected at most {named} values under the {named} named columns, "
        f"found {filled} (a list cell in a ';'-separated file must be quoted).",
    )


# --- CSV ----------------------------------------------------------------------


def decode_csv(label: str, data: bytes) -> str:
    """The text of a CSV file: UTF-8 (BOM optional), else Windows-1252 with a warning.

    Raises
    ------
    InstanceError
        When the bytes are neither (for example UTF-16, Excel's "Unicode text").
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _file_problem(
            label,
            "expected UTF-8 or Windows-1252 text, found UTF-16; "
            "save it as CSV (UTF-8) instead.",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as err:
        raise _file_problem(
            label,
            "expected UTF-8 or Windows-1252 text, found bytes that are neither "
            f"(at byte {err.start}).",
        ) from err
    warnings.warn(
        f"{label} is not UTF-8; it was read as Windows-1252.",
        DataWarning,
        stacklevel=3,
    )
    return text


def detect_delimiter(text: str) -> str:
    """``;`` when the header line has more semicolons than commas, else ``,``."""
    header_line = text.split("\n", 1)[0]
    return ";" if header_line.count(";") > header_line.count(",") else ","


def parse_csv(label: str, data: bytes) -> Table:
    """A table from the bytes of a CSV file; ``label`` names it in messages.

    Raises
    ------
    InstanceError
        When the file cannot be decoded or has no usable header.
    """
    text = decode_csv(label, data)
    if "\x00" in text:
        raise _file_problem(label, "expected text, found a binary file.")
    delimiter = detect_delimiter(text)
    # newline="" keeps line breaks inside quoted cells, as Excel writes them.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        raw_rows = list(reader)
    except csv.Error as err:
        raise _file_problem(
            label, f"expected CSV, found a broken line ({err})."
        ) from err
    return make_table(label, raw_rows, decimal_comma=delimiter == ";")


def read_csv(path: Path) -> Table:
    """A table from a CSV file, labelled with the file's name.

    Raises
    ------
    InstanceError
        When the file cannot be read or decoded or has no usable header.
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise _file_problem(path.name, f"expected a readable file ({err}).") from err
    return parse_csv(path.name, data)


# --- Workbooks ----------------------------------------------------------------


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


def parse_workbook(label: str, data: bytes) -> dict[str, Table]:
    """Every sheet of a workbook, keyed by its normalised name.

    Each table is labelled ``label[sheet]`` with the sheet's own spelling.

    Raises
    ------
    InstanceError
        When the bytes are not a workbook openpyxl can read, or a sheet has no
        usable header.
    """
    # openpyxl raises many kinds of error for damaged files, also while it
    # reads sheets lazily, so everything up to the last row is guarded.
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            return {
                normalise_header(sheet.title): _sheet_table(label, sheet)
                for sheet in book.worksheets
            }
        finally:
            book.close()
    except InstanceError:
        raise
    except Exception as err:
        raise _file_problem(
            label,
            "expected an Excel workbook (.xlsx), found a file openpyxl cannot read "
            f"({type(err).__name__}).",
        ) from err


def _sheet_table(label: str, sheet: Any) -> Table:
    # Some writers store a wrong size; forget it so no row or column is cut off.
    sheet.reset_dimensions()
    values = sheet.iter_rows(min_row=1, values_only=True)
    raw_rows = ([cell_text(value) for value in row] for row in values)
    return make_table(f"{label}[{sheet.title}]", raw_rows, decimal_comma=True)


def read_workbook(path: Path) -> dict[str, Table]:
    """Every sheet of the workbook at ``path``, keyed by normalised sheet name.

    Raises
    ------
    InstanceError
        When the file cannot be read or is not a workbook.
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise _file_problem(path.name, f"expected a readable file ({err}).") from err
    return parse_workbook(path.name, data)


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
        raise _file_problem(path.name, f'expected a sheet named "{sheet}", found none.')
    return table


# --- Cell parsers -------------------------------------------------------------


def unquote(text: str) -> str:
    """Drop the ``'`` this tool writes before text a spreadsheet would run."""
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_START:
        return text[1:]
    return text


def parse_text(text: str) -> str:
    """Free text, stripped; may be empty."""
    return unquote(text.strip())


def parse_id(text: str) -> str:
    """A non-empty id without ``;`` (``;`` separates lists)."""
    value = parse_text(text)
    if not value:
        raise CellError("an id", text)
    if ";" in value:
        raise CellError('an id without ";"', text)
    return value


def parse_int(text: str) -> int:
    """A whole number such as ``12`` or ``-3``."""
    value = text.strip()
    if not _INT_RE.fullmatch(value):
        raise CellError("a whole number", text)
    return int(value)


def parse_decimal(text: str, decimal_comma: bool) -> float:
    """A decimal number; ``0,8`` is 0.8 when ``decimal_comma`` is set."""
    value = text.strip()
    if decimal_comma and value.count(",") == 1 and "." not in value:
        value = value.replace(",", ".")
    if not _DECIMAL_RE.fullmatch(value):
        if "," in value and not decimal_comma:
            raise CellError(
                "a decimal number with a point (this file is ','-separated)", text
            )
        raise CellError("a decimal number", text)
    return float(value)


def parse_bool(text: str, default: bool) -> bool:
    """true/false, yes/no, ja/nei, sann/usann or 1/0 in any case; empty = default."""
    value = text.strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellError(_BOOL_TEXT, text)


def parse_date(text: str) -> dt.date:
    """A date written YYYY-MM-DD or DD.MM.YYYY."""
    value = text.strip()
    if match := _ISO_DATE_RE.fullmatch(value):
        year, month, day = match.groups()
    elif match := _NORWEGIAN_DATE_RE.fullmatch(value):
        day, month, year = match.groups()
    else:
        raise CellError("a date YYYY-MM-DD or DD.MM.YYYY", text)
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError as err:
        raise CellError("a date that exists in the calendar", text) from err


def parse_list(text: str) -> tuple[str, ...]:
    """Items separated by ``;``, each stripped; empty items are dropped."""
    items = (item.strip() for item in unquote(text.strip()).split(";"))
    return tuple(item for item in items if item)
