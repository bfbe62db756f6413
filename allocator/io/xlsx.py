"""allocation.xlsx: the same reports as one workbook a leader can open as is."""

from __future__ import annotations

import io
import warnings
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from allocator.analysis.report import Row
from allocator.errors import DataWarning

MAX_WIDTH = 60
# The longest text an Excel cell holds; a longer one makes Excel refuse the file.
MAX_CELL = 32_767
CONTROL = "control characters a workbook cannot hold were left out"
LONG = f"the text was cut at {MAX_CELL:,} characters, the most a workbook cell holds"


def workbook_bytes(sheets: dict[str, tuple[list[str], list[Row]]]) -> bytes:
    """Sheets of rows as xlsx bytes: bold frozen header, fitted widths.

    Text is always written as a text cell, so a cell reading
    ``=HYPERLINK("x")`` stays text and is never run as a formula.
    """
    book = Workbook()
    first = True
    for title, (header, rows) in sheets.items():
        sheet = book.active if first else book.create_sheet()
        assert sheet is not None
        first = False
        sheet.title = title
        fill_sheet(sheet, header, rows)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def fill_sheet(sheet: Worksheet, header: list[str], rows: list[Row]) -> None:
    """One sheet: header and rows, every text a text cell (the header too)."""
    # (column, what was done) -> the rows it was done in.
    changed: dict[tuple[str, str], list[int]] = {}

    def safe(value: Any, column: str, row: int) -> Any:
        if not isinstance(value, str):
            return value
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        if text != value:
            changed.setdefault((column, CONTROL), []).append(row)
        if len(text) > MAX_CELL:
            changed.setdefault((column, LONG), []).append(row)
        return text[:MAX_CELL]

    sheet.append([safe(column, column, 1) for column in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, row in enumerate(rows, start=2):
        sheet.append(
            [safe(value_of(row.get(column)), column, number) for column in header]
        )
    for r in range(1, sheet.max_row + 1):
        for cell in sheet[r]:
            if isinstance(cell.value, str):
                # Force a text cell: openpyxl would store "=..." as a formula.
                cell.data_type = "s"
    for (column, done), numbers in changed.items():
        shown = ", ".join(str(n) for n in numbers[:5])
        more = f" and {len(numbers) - 5} more" if len(numbers) > 5 else ""
        warnings.warn(
            f"allocation.xlsx, sheet {sheet.title}, column {workbook_text(column)}, "
            f"row {shown}{more}: {done}; the CSV files keep the cells whole.",
            DataWarning,
            stacklevel=2,
        )
    sheet.freeze_panes = "A2"
    for idx, column in enumerate(header, start=1):
        longest = max(
            [len(column)] + [len(str(row.get(column) or "")) for row in rows[:500]]
        )
        sheet.column_dimensions[get_column_letter(idx)].width = min(
            MAX_WIDTH, longest + 2
        )


def workbook_text(text: str) -> str:
    """``text`` as a workbook can hold it: no control characters but tab,
    LF and CR (openpyxl refuses them), at most 32,767 characters."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL]


def value_of(value: Any) -> Any:
    """Cell values: lists joined with ;, None empty, the rest as is."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return value
