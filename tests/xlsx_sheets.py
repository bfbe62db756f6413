"""Test helper: plain sheets through the workbook's own ``fill_sheet``."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from openpyxl import Workbook

from allocator.io.xlsx import fill_sheet


def workbook_bytes(
    sheets: Mapping[str, tuple[list[str], list[dict[str, Any]]]],
) -> bytes:
    """Sheets of dict rows as xlsx bytes, written cell by cell as allocation.xlsx is."""
    book = Workbook(write_only=True)
    for title, (header, rows) in sheets.items():
        values = [
            [
                ";".join(map(str, v)) if isinstance(v, (list, tuple)) else v
                for v in (row.get(column) for column in header)
            ]
            for row in rows
        ]
        fill_sheet(book.create_sheet(title), [(h, "") for h in header], values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
