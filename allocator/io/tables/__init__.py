"""Tolerant reading of the input tables (the README's input section).

Team leaders export their caseload from the case system and edit it in Excel,
so one table may arrive as UTF-8 with or without a byte-order mark, UTF-16,
Windows-1252 or MacRoman, separated by ``,``, ``;`` or tabs, with Excel's
``sep=`` hint line or a title row above the header, or as a sheet of a
workbook. This package turns every one of them into the same shape, a ``Table``
of plain strings, and offers the cell parsers that turn those strings into
values. It knows nothing about what the tables mean; ``read.py`` does.

One module per concept: ``ids`` (invisible characters and ids), ``table``
(Row, Table, CellError), ``structure`` (header and file structure),
``csv_files``, ``workbooks`` and ``parsers`` (the cell parsers).

Two libraries do the guessing: charset-normalizer picks the encoding of a file
that is not UTF-8, and the csv module's ``Sniffer`` the delimiter. Whatever
they pick is named in the warnings, so no message claims an encoding or a
delimiter that was not used.

Parsers raise ``CellError``, which says what was expected and what was found;
the caller adds the file, row and column. Problems with a whole file (it cannot
be decoded, it has no header, a column appears twice) raise ``InstanceError``;
problems with rows and cells (a value under a column without a name, a merged
cell, a control character) are collected in ``Table.problems``.
"""

from __future__ import annotations

from allocator.io.tables.csv_files import decode_csv as decode_csv
from allocator.io.tables.csv_files import detect_delimiter as detect_delimiter
from allocator.io.tables.csv_files import parse_csv as parse_csv
from allocator.io.tables.csv_files import read_csv as read_csv
from allocator.io.tables.ids import char_name as char_name
from allocator.io.tables.ids import normalise_id as normalise_id
from allocator.io.tables.ids import stripped_from_id as stripped_from_id
from allocator.io.tables.ids import visible as visible
from allocator.io.tables.parsers import parse_bool as parse_bool
from allocator.io.tables.parsers import parse_date as parse_date
from allocator.io.tables.parsers import parse_decimal as parse_decimal
from allocator.io.tables.parsers import parse_id as parse_id
from allocator.io.tables.parsers import parse_int as parse_int
from allocator.io.tables.parsers import parse_list as parse_list
from allocator.io.tables.parsers import parse_text as parse_text
from allocator.io.tables.parsers import unquote as unquote
from allocator.io.tables.structure import MAX_CELL_CHARS as MAX_CELL_CHARS
from allocator.io.tables.structure import MAX_COLUMNS as MAX_COLUMNS
from allocator.io.tables.structure import column_ref as column_ref
from allocator.io.tables.structure import make_table as make_table
from allocator.io.tables.structure import normalise_header as normalise_header
from allocator.io.tables.table import MAX_LISTED as MAX_LISTED
from allocator.io.tables.table import SHEETS as SHEETS
from allocator.io.tables.table import CellError as CellError
from allocator.io.tables.table import Row as Row
from allocator.io.tables.table import Table as Table
from allocator.io.tables.workbooks import SheetFacts as SheetFacts
from allocator.io.tables.workbooks import cell_text as cell_text
from allocator.io.tables.workbooks import parse_workbook as parse_workbook
from allocator.io.tables.workbooks import read_table as read_table
from allocator.io.tables.workbooks import read_workbook as read_workbook
