"""A solution's CSV file as the page's columns and rows.

The solution's CSV files are written in the input's dialect: a
``;``-separated users.csv (as Norwegian Excel saves it) gives
``;``-separated output with a byte-order mark, CRLF and decimal commas. So
the page reads them with the tool's own reader (``allocator.io.tables``),
which detects the delimiter and encoding the same way as for the input,
rather than guessing again here.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from allocator.errors import DataWarning
from allocator.io.tables import read_csv, unquote


def csv_rows(path: Path) -> dict[str, list]:
    """``{"columns": [...], "rows": [[...], ...]}`` of a solution's CSV file.

    Columns keep the file's spelling; each row has one cell per column, as
    text with the ``'`` the writer put before formula-like text dropped (the
    page shows text, never runs it). A file without rows gives its header
    and no rows.

    Raises:
        InstanceError: the file cannot be read as CSV (not a solution file).
    """
    with warnings.catch_warnings():
        # The solution's files are UTF-8; a warning here would say nothing
        # to the leader.
        warnings.simplefilter("ignore", DataWarning)
        table = read_csv(path)
    rows = [
        [unquote(row.cells.get(name, "")) for name in table.header]
        for row in table.rows
    ]
    return {"columns": list(table.spelling), "rows": rows}
