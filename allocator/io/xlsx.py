"""allocation.xlsx: the same reports as one workbook a leader can open as is."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from allocator.analysis.report import Row

MAX_WIDTH = 60


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
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = cell.font.copy(bold=True)
    for row in rows:
        sheet.append([value_of(row.get(column)) for column in header])
    for r in range(2, sheet.max_row + 1):
        for cell in sheet[r]:
            if isinstance(cell.value, str):
                # Force a text cell: openpyxl would store "=..." as a formula.
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    for idx, column in enumerate(header, start=1):
        longest = max(
            [len(column)] + [len(str(row.get(column) or "")) for row in rows[:500]]
        )
        sheet.column_dimensions[get_column_letter(idx)].width = min(
            MAX_WIDTH, longest + 2
        )


def value_of(value: Any) -> Any:
    """Cell values: lists joined with ;, None empty, the rest as is."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return value
