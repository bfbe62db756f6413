"""Header and file structure: the header found and checked, rows made into a
Table, and the problems of whole rows and cells collected.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence

from openpyxl.utils import get_column_letter

from allocator.errors import DataWarning, InputProblem, InstanceError
from allocator.i18n import _
from allocator.io.tables.ids import char_name, normalise_id, visible
from allocator.io.tables.table import Row, Table

# Excel's own limits: a cell holds at most 32,767 characters and a sheet at
# most 16,384 columns. Nothing Excel wrote exceeds them, so a longer cell is a
# quote that closes too late and a wider header is a broken or hostile file;
# both are rejected before any per-column work is done.
MAX_CELL_CHARS = 32_767
MAX_COLUMNS = 16_384
# How far below the first non-empty row a header is looked for.
_HEADER_SEARCH_ROWS = 10
# Control characters other than tab, CR and LF (C0, DEL and C1). They are
# invisible, and a workbook cannot hold most of them.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def normalise_header(name: str) -> str:
    """A column name as matched: NFC, lower-cased, surrounding spaces and
    format characters (a stray byte-order mark, a zero-width space) dropped."""
    return normalise_id(name).strip().lower()


def _file_problem(label: str, message: str, row: int | None = None) -> InstanceError:
    return InstanceError([InputProblem(label, row, None, message)])


def _is_blank(cells: Sequence[str]) -> bool:
    return all(not cell.strip() for cell in cells)


def _trimmed(cells: Sequence[str]) -> list[str]:
    """Cells without the empty ones at the end (Excel pads rows with them)."""
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return list(cells[:end])


def column_ref(index: int, workbook: bool) -> str:
    """A column's place for messages: its letter in a sheet, else its number."""
    return get_column_letter(index + 1) if workbook else str(index + 1)


def make_table(
    label: str,
    raw_rows: Iterable[Sequence[str]],
    decimal_comma: bool,
    delimiter: str | None = None,
    required: Sequence[str] = (),
    scan: bool = True,
) -> Table:
    """Build a table from rows of strings; the first non-empty row is the header.

    With ``scan``, every cell is checked for control characters and for
    Excel's length limit (the caller may know that no cell can fail).

    When ``required`` names columns and the first non-empty row lacks some
    of them but a row just below has them all, that row is the header: rows
    above it that hold at most one cell each (a title) are skipped with a
    warning; anything else above it is an error naming the header's row.

    Raises
    ------
    InstanceError
        When there is no header, the header is wider than ``MAX_COLUMNS`` or
        not where it should be, or a column name appears twice.
    """
    numbered = [(n, list(c)) for n, c in enumerate(raw_rows, 1) if not _is_blank(c)]
    if not numbered:
        raise _file_problem(label, _("expected a header row, found an empty file."))
    # Excel pads rows with empty cells; only up to the last name counts.
    # Checked first, so that a hostile width costs no per-column work.
    for number, cells in numbered[: _HEADER_SEARCH_ROWS + 1]:
        if len(cells) > MAX_COLUMNS and len(_trimmed(cells)) > MAX_COLUMNS:
            raise _file_problem(
                label,
                _(
                    "expected at most {most} columns (Excel's limit), found "
                    "{found} in this row; the file is damaged or was not exported "
                    "as a table."
                ).format(most=MAX_COLUMNS, found=len(_trimmed(cells))),
                number,
            )
    start = _header_index(label, numbered, required)
    header_number, spelling = numbered[start]
    _check_header_present(label, header_number, spelling, required)
    spelling = spelling[:MAX_COLUMNS]
    workbook = delimiter is None
    problems = _control_problems(label, header_number, spelling, None, workbook)
    spelling = [name.strip() for name in spelling]
    header = [normalise_header(name) for name in spelling]
    _check_header(label, header_number, header, spelling)
    rows: list[Row] = []
    named = all(header)
    strays: dict[int, list[int]] = {}
    for number, cells in numbered[start + 1 :]:
        cell_problems = []
        # The whole row is tested at once first (a tab, which is allowed,
        # keeps cells apart): most rows are clean and need no cell-by-cell pass.
        if scan and _CONTROL_RE.search("\t".join(cells)):
            cell_problems += _control_problems(label, number, cells, spelling, workbook)
        if scan and cells and max(map(len, cells)) > MAX_CELL_CHARS:
            cell_problems += _long_cells(label, number, cells, spelling, workbook)
        stray = _strays(header, cells)
        for index in stray:
            strays.setdefault(index, []).append(number)
        problems += cell_problems
        # A row whose values cannot be placed under the header is left out;
        # a row with a bad cell is kept, so that references to its id are
        # not reported on top of the cell.
        if stray:
            continue
        if named:
            # Every column named (and, as checked, once): the cells in
            # header order, an empty text for any the row lacks.
            values = dict(zip(header, cells, strict=False))
            for name in header[len(cells) :]:
                values[name] = ""
            rows.append(Row(number, values))
            continue
        values = dict(zip(header, cells, strict=False))
        rows.append(
            Row(number, {name: values.get(name, "") for name in header if name})
        )
    problems += _stray_problems(label, header, strays, delimiter, workbook)
    # Columns without a name hold nothing (checked above); drop them.
    kept = [i for i, name in enumerate(header) if name]
    return Table(
        label=label,
        header=[header[i] for i in kept],
        spelling=[spelling[i] for i in kept],
        rows=rows,
        decimal_comma=decimal_comma,
        problems=problems,
        header_row=header_number,
        delimiter=delimiter,
        raw_header=spelling,
    )


def _header_index(
    label: str, numbered: list[tuple[int, list[str]]], required: Sequence[str]
) -> int:
    """Index in ``numbered`` of the header row (see ``make_table``)."""

    def score(cells: list[str]) -> int:
        names = {normalise_header(cell) for cell in cells[:MAX_COLUMNS]}
        return sum(1 for column in required if column in names)

    if not required:
        return 0
    # The row naming most of the required columns (a header may lack one,
    # which is reported later), if it is not the first.
    scores = [score(cells) for _, cells in numbered[: _HEADER_SEARCH_ROWS + 1]]
    best = max(scores)
    if scores[0] == best or best == 0:
        return 0
    found = scores.index(best)
    header_number = numbered[found][0]
    above = numbered[:found]
    if all(sum(1 for c in cells if c.strip()) <= 1 for _, cells in above):
        rows = ", ".join(str(number) for number, _ in above)
        warnings.warn(
            _(
                "{file}: row(s) {rows} above the header (row {header}) hold "
                "a title only and were skipped."
            ).format(file=label, rows=rows, header=header_number),
            DataWarning,
            stacklevel=4,
        )
        return found
    raise _file_problem(
        label,
        _(
            "expected the header (the column names) in the first row, found it on "
            "row {row}; delete the rows above it."
        ).format(row=header_number),
        numbered[0][0],
    )


def _check_header_present(
    label: str, number: int, cells: list[str], required: Sequence[str]
) -> None:
    """A header that names none of the required columns is no header.

    When the header row was deleted (a row of data comes first), the first
    row's values would otherwise be read as column names, and two equal
    values reported as a column named twice; the cause is named instead.
    """
    if not required:
        return
    names = {normalise_header(cell) for cell in cells[:MAX_COLUMNS]}
    if any(column in names for column in required):
        return
    where = (
        _("from the {sheet} sheet").format(sheet=label[label.index("[") + 1 : -1])
        if label.endswith("]") and "[" in label
        else _("from this file")
    )
    wanted = ", ".join(required)
    raise _file_problem(
        label,
        _(
            "the header row is missing {where}: expected the column names "
            "({wanted}) in the first row, found a row without any of them (data?); "
            "put the header row back."
        ).format(where=where, wanted=wanted),
        number,
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
                        _('expected each column once, found "{name}" twice.').format(
                            name=visible(written)
                        ),
                    )
                ]
            )
        seen.add(name)


def _column_label(index: int, spelling: list[str] | None, workbook: bool) -> str:
    if spelling is not None and index < len(spelling) and spelling[index].strip():
        return spelling[index].strip()
    return column_ref(index, workbook)


def _control_problems(
    label: str,
    number: int,
    cells: Sequence[str],
    spelling: list[str] | None,
    workbook: bool,
) -> list[InputProblem]:
    """A problem per cell holding a control character (other than tab, CR, LF).

    The value is not shown: only which character and where.
    """
    problems = []
    for i, cell in enumerate(cells):
        match = _CONTROL_RE.search(cell)
        if match is None:
            continue
        column = _column_label(i, spelling, workbook)
        message = _(
            "expected text without control characters, found "
            "{char} at character {position}; "
            "delete it (most programs do not show it)."
        ).format(char=char_name(match.group()), position=match.start() + 1)
        problems.append(InputProblem(label, number, column, message))
    return problems


def _long_cells(
    label: str, number: int, cells: Sequence[str], spelling: list[str], workbook: bool
) -> list[InputProblem]:
    """A problem per cell longer than Excel's limit."""
    problems = []
    for i, cell in enumerate(cells):
        if len(cell) <= MAX_CELL_CHARS:
            continue
        hint = ""
        if "\n" in cell or "\r" in cell:
            lines = cell.count("\n") + cell.count("\r") - cell.count("\r\n")
            hint = _(
                "; it runs over {lines} lines, so a quote opened in this row "
                "is probably closed only much later"
            ).format(lines=lines + 1)
        message = _(
            "expected at most {most} characters in a cell (Excel's "
            "limit), found {found}{hint}."
        ).format(most=MAX_CELL_CHARS, found=len(cell), hint=hint)
        column = _column_label(i, spelling, workbook)
        problems.append(InputProblem(label, number, column, message))
    return problems


def _strays(header: list[str], cells: Sequence[str]) -> list[int]:
    """Indexes of cells with a value where the header names no column."""
    width = len(header)
    if len(cells) <= width and all(header[: len(cells)]):
        # Every cell is under a named column (most rows): nothing to look at.
        return []
    return [
        i
        for i, cell in enumerate(cells)
        if (i >= width or not header[i]) and cell.strip()
    ]


def _stray_problems(
    label: str,
    header: list[str],
    strays: dict[int, list[int]],
    delimiter: str | None,
    workbook: bool,
) -> list[InputProblem]:
    """One problem per column holding values without a column name."""
    problems = []
    named = sum(1 for name in header if name)
    for index, rows in sorted(strays.items(), key=lambda item: item[1][0]):
        more = (
            _(" (and in {more} more rows)").format(more=len(rows) - 1)
            if len(rows) > 1
            else ""
        )
        column = column_ref(index, workbook)
        if index < len(header):
            message = _(
                "expected a header name for column {column}, found a value under "
                "a column without a name{more}; name the column in the header "
                "row, or delete the values."
            ).format(column=column, more=more)
        else:
            hint = ""
            if delimiter == ";":
                hint = _(" (a list cell in a ';'-separated file must be quoted)")
            message = _(
                "expected at most {most} columns as in the header "
                "({named} named), found a value in column {column}{more}{hint}."
            ).format(
                most=len(header), named=named, column=column, more=more, hint=hint
            )
        problems.append(InputProblem(label, rows[0], column, message))
    return problems
