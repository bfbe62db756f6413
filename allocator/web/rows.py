"""A solution's CSV file as the page's columns and rows.

The page reads the files through the public API (``allocator.table_rows``),
which uses the tool's own reader: a ``;``-file with a byte-order mark, CRLF
and decimal commas (as Norwegian Excel saves it) is split as it was written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def csv_rows(path: Path) -> dict[str, list[Any]]:
    """``{"columns": [...], "rows": [[...], ...]}`` of a solution's CSV file.

    Raises:
        InstanceError: the file cannot be read as CSV (not a solution file).
    """
    import allocator

    return allocator.table_rows(path)
