"""Tolerant reading of the input tables (the README's input section).

Team leaders export their caseload from the case system and edit it in Excel,
so one table may arrive as UTF-8 with or without a byte-order mark, UTF-16,
Windows-1252 or MacRoman, separated by ``,``, ``;`` or tabs, with Excel's
``sep=`` hint line or a title row above the header, or as a sheet of a
workbook. This module turns every one of them into the same shape, a ``Table``
of plain strings, and offers the cell parsers that turn those strings into
values. It knows nothing about what the tables mean; ``read.py`` does.

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

import csv
import datetime as dt
import io
import math
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree

import openpyxl
from charset_normalizer import from_bytes
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries

from allocator.errors import DataWarning, InputProblem, InstanceError

# The sheets a workbook may carry; the README's input section.
SHEETS = ("municipalities", "teams", "advisors", "users", "locks", "travel")

# Characters that make a spreadsheet run a cell as a formula; the tool writes
# such text with a leading "'" (the README's output section) and strips it on reading.
_FORMULA_START = "=+-@\t\r"

_TRUE = frozenset({"true", "yes", "ja", "sann", "1"})
_FALSE = frozenset({"false", "no", "nei", "usann", "0"})
_BOOL_TEXT = "true or false (or yes/no, ja/nei, sann/usann, 1/0)"

# Excel's own limits: a cell holds at most 32,767 characters and a sheet at
# most 16,384 columns. Nothing Excel wrote exceeds them, so a longer cell is a
# quote that closes too late and a wider header is a broken or hostile file;
# both are rejected before any per-column work is done.
MAX_CELL_CHARS = 32_767
MAX_COLUMNS = 16_384
# How far below the first non-empty row a header is looked for.
_HEADER_SEARCH_ROWS = 10
# Whole numbers beyond 15 digits are not counts but ids or garbage, and
# Python refuses to convert strings beyond 4,300 digits.
_MAX_DIGITS = 15

_INT_RE = re.compile(r"[+-]?\d+")
_DECIMAL_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# Thousands separators Norwegian Excel writes: space, no-break space and
# narrow no-break space (U+202F), in groups of three digits.
_SEPARATORS = " \u00a0\u202f"
_GROUPED_RE = re.compile(r"([+-]?\d{1,3}(?:[ \u00a0\u202f]\d{3})+)((?:[.,]\d*)?)")
_SPACED_DIGITS_RE = re.compile(r"\d[ \u00a0\u202f]+\d")
_PERCENT_RE = re.compile(r"(.*?)[ \u00a0\u202f]*%")
# What Excel shows for a long number in a General cell: 1,23457E+11. An id
# written so has lost its digits, and two ids may now look the same.
_SCIENTIFIC_RE = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]\d+")
_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# Norwegian Excel writes 05.03.2026; people also type 5.3.2026.
_NORWEGIAN_DATE_RE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
# Control characters other than tab, CR and LF (C0, DEL and C1). They are
# invisible, and a workbook cannot hold most of them.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SEP_LINE_RE = re.compile(r"sep=(.)\s*$", re.IGNORECASE)

# Longest piece of a bad cell quoted back in a message.
_MAX_SHOWN = 40
# Most names listed in one warning about unknown columns.
MAX_LISTED = 10

# How much of a file the Sniffer sees (its regular expressions are slow on
# very long lines).
_SNIFF_CHARS = 64_000

_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab"}


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
    # Whether "0,8" reads as 0.8 and "1 200" as 1200: true for ";"- and
    # tab-separated files and workbooks.
    decimal_comma: bool
    # Rows and cells that could not be read; their rows are left out of rows.
    problems: list[InputProblem] = field(default_factory=list)
    # Where the header is: row 1 unless blank, title or sep= rows come first.
    header_row: int = 1
    # "," ";" or "\t" for CSV files; None for workbook sheets.
    delimiter: str | None = None
    # The header row's names by position as written, "" where a column has
    # no name (``header`` leaves those out); for locating sheet cells.
    raw_header: list[str] = field(default_factory=list)
    _spellings: dict[str, str] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # A dict, so that carrying thousands of columns stays linear.
        spellings = dict(zip(self.header, self.spelling, strict=True))
        object.__setattr__(self, "_spellings", spellings)

    def spelling_of(self, column: str) -> str:
        """The column's name as the file writes it."""
        return self._spellings[column]


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
        return f'expected {self.expected}, found "{visible(shown)}".'


# --- Invisible characters and ids ------------------------------------------------


def _invisible(char: str) -> bool:
    """Characters a reader cannot see: controls, format marks, odd spaces."""
    category = unicodedata.category(char)
    return category in {"Cc", "Cf", "Co", "Cn", "Zl", "Zp"} or (
        category == "Zs" and char != " "
    )


def visible(text: str) -> str:
    """``text`` with every invisible character written as ``\\uXXXX``.

    For messages about ids and cells: ``"u1\\u200b"`` shows why it differs from
    ``"u1"``. Tab, CR and LF are written ``\\t``, ``\\r`` and ``\\n``.
    """
    out = []
    for char in text:
        if char in "\t\r\n":
            out.append(repr(char)[1:-1])
        elif _invisible(char):
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


# Control characters have no Unicode name; these are the ones met in pasted text.
_CONTROL_NAMES = {
    "\x00": "null",
    "\x07": "bell",
    "\x08": "backspace",
    "\x0b": "vertical tab",
    "\x0c": "form feed",
    "\x1a": "end of file, Ctrl-Z",
    "\x1b": "escape",
    "\x7f": "delete",
    "\x85": "next line",
}


def char_name(char: str) -> str:
    """``U+200B (zero width space)``, for messages."""
    name = unicodedata.name(char, "").lower() or _CONTROL_NAMES.get(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def _format_chars(text: str) -> list[str]:
    """The format characters (zero-width space, joiners, BOM, bidi marks) in ``text``.

    A zero-width joiner between two symbols is part of an emoji sequence
    (as in a family emoji) and is kept.
    """
    if text.isascii():
        return []
    found = []
    for i, char in enumerate(text):
        if unicodedata.category(char) != "Cf":
            continue
        if char == "\u200d" and 0 < i < len(text) - 1:
            before = unicodedata.category(text[i - 1])
            after = unicodedata.category(text[i + 1])
            if before in {"So", "Sk", "Mn"} and after in {"So", "Sk", "Mn"}:
                continue
        found.append(char)
    return found


def normalise_id(text: str) -> str:
    """An id as compared everywhere: NFC form, without format characters.

    The same name typed on a Mac (NFD, "å" as "a" and a combining ring) and
    on Windows (NFC) is one id; a zero-width space pasted from a web page or
    chat does not make another. Applied to every id and reference in every
    file, to ``--fix``/``--forbid`` and to a ``--previous`` solution, so
    comparisons agree everywhere.
    """
    if text.isascii():
        return text
    drop = set(_format_chars(text))
    if drop:
        text = "".join(char for char in text if char not in drop)
    return unicodedata.normalize("NFC", text)


def stripped_from_id(text: str) -> list[str]:
    """The format characters ``normalise_id`` removes from ``text``, once each."""
    return list(dict.fromkeys(_format_chars(text)))


# --- Header and file structure ------------------------------------------------


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
        raise _file_problem(label, "expected a header row, found an empty file.")
    # Excel pads rows with empty cells; only up to the last name counts.
    # Checked first, so that a hostile width costs no per-column work.
    for number, cells in numbered[: _HEADER_SEARCH_ROWS + 1]:
        if len(cells) > MAX_COLUMNS and len(_trimmed(cells)) > MAX_COLUMNS:
            raise _file_problem(
                label,
                f"expected at most {MAX_COLUMNS} columns (Excel's limit), found "
                f"{len(_trimmed(cells))} in this row; the file is damaged or was "
                "not exported as a table.",
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
    strays: dict[int, list[int]] = {}
    for number, cells in numbered[start + 1 :]:
        cell_problems = []
        if scan:
            cell_problems += _control_problems(label, number, cells, spelling, workbook)
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
            f"{label}: row(s) {rows} above the header (row {header_number}) hold "
            "a title only and were skipped.",
            DataWarning,
            stacklevel=4,
        )
        return found
    raise _file_problem(
        label,
        f"expected the header (the column names) in the first row, found it on "
        f"row {header_number}; delete the rows above it.",
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
        f"from the {label[label.index('[') + 1 : -1]} sheet"
        if label.endswith("]") and "[" in label
        else "from this file"
    )
    wanted = ", ".join(required)
    raise _file_problem(
        label,
        f"the header row is missing {where}: expected the column names "
        f"({wanted}) in the first row, found a row without any of them (data?); "
        "put the header row back.",
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
                        f'expected each column once, found "{visible(written)}" twice.',
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
        message = (
            "expected text without control characters, found "
            f"{char_name(match.group())} at character {match.start() + 1}; "
            "delete it (most programs do not show it)."
        )
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
            hint = (
                f"; it runs over {lines + 1} lines, so a quote opened in this row "
                "is probably closed only much later"
            )
        message = (
            f"expected at most {MAX_CELL_CHARS} characters in a cell (Excel's "
            f"limit), found {len(cell)}{hint}."
        )
        column = _column_label(i, spelling, workbook)
        problems.append(InputProblem(label, number, column, message))
    return problems


def _strays(header: list[str], cells: Sequence[str]) -> list[int]:
    """Indexes of cells with a value where the header names no column."""
    width = len(header)
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
        more = f" (and in {len(rows) - 1} more rows)" if len(rows) > 1 else ""
        column = column_ref(index, workbook)
        if index < len(header):
            message = (
                f"expected a header name for column {column}, found a value under "
                f"a column without a name{more}; name the column in the header "
                "row, or delete the values."
            )
        else:
            hint = ""
            if delimiter == ";":
                hint = " (a list cell in a ';'-separated file must be quoted)"
            message = (
                f"expected at most {len(header)} columns as in the header "
                f"({named} named), found a value in column {column}{more}{hint}."
            )
        problems.append(InputProblem(label, rows[0], column, message))
    return problems


# --- CSV ----------------------------------------------------------------------

_CANDIDATE_ENCODINGS = ["cp1252", "mac_roman"]
_ENCODING_NAMES = {
    "cp1252": "Windows-1252",
    "mac_roman": "MacRoman",
    "utf_16_le": "UTF-16",
    "utf_16_be": "UTF-16",
}


def _oddities(text: str) -> int:
    """Non-ASCII characters that would be odd in names: symbols, and capitals
    inside a word ("B¾rum", "HŒkon" are Norwegian read with the wrong code page)."""
    count = 0
    for i, char in enumerate(text):
        if char.isascii():
            continue
        category = unicodedata.category(char)
        inside = 0 < i < len(text) - 1 and text[i - 1].isalpha()
        if not category.startswith("L") or (
            category == "Lu" and inside and text[i + 1].islower()
        ):
            count += 1
    return count


def decode_csv(label: str, data: bytes) -> str:
    """The text of a CSV file, and a warning naming the encoding if not UTF-8.

    UTF-8 (byte-order mark optional) and UTF-16 with a byte-order mark are
    read as they are. Other bytes go to charset-normalizer, limited to the
    code pages Excel saves as "CSV" in Norway: Windows-1252 on Windows and
    MacRoman on a Mac; between equally plausible readings the one without
    stray symbols inside words wins. UTF-16 without a byte-order mark is
    recognised by its zero bytes.

    Raises
    ------
    InstanceError
        When the bytes are none of these.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise _file_problem(
                label,
                "expected UTF-16 text after the UTF-16 byte-order mark, found "
                f"broken bytes (at byte {err.start}); save it as CSV (UTF-8).",
            ) from err
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    zeros = b"\x00" in data
    candidates = _CANDIDATE_ENCODINGS
    if zeros:
        utf16 = _utf16_order(data)
        if utf16 is None:
            raise _file_problem(label, "expected text, found a binary file.")
        candidates = [utf16]
    matches = list(from_bytes(data, cp_isolation=candidates))
    readings: list[tuple[float, int, str, str]] = []
    for match in matches:
        text = str(match)
        if zeros and "\x00" in text:
            continue
        readings.append((match.chaos, _oddities(text), match.encoding, text))
    if not readings:
        if zeros:
            raise _file_problem(label, "expected text, found a binary file.")
        raise _file_problem(
            label,
            "expected UTF-8, Windows-1252 or MacRoman text, found bytes that "
            "read as none of them; save it as CSV (UTF-8).",
        )
    # Equal scores keep charset-normalizer's order.
    _, _, encoding, text = min(readings, key=lambda r: (round(r[0], 3), r[1]))
    warnings.warn(
        f"{label} is not UTF-8; it was read as {_ENCODING_NAMES[encoding]}.",
        DataWarning,
        stacklevel=3,
    )
    return text


def _utf16_order(data: bytes) -> str | None:
    """``utf_16_le`` or ``utf_16_be`` when the zero bytes sit where UTF-16 of
    mostly Latin text puts them (every other byte), else None (binary)."""
    even = data[0::2].count(0)
    odd = data[1::2].count(0)
    half = len(data) // 2
    if half == 0 or len(data) % 2:
        return None
    if odd >= 0.3 * half and even <= 0.05 * half:
        return "utf_16_le"
    if even >= 0.3 * half and odd <= 0.05 * half:
        return "utf_16_be"
    return None


def _sep_line(text: str) -> tuple[str | None, str]:
    """Excel's ``sep=X`` first line: the delimiter it names, and the rest.

    The line is replaced by an empty one so that row numbers stay those of
    the file (the header is then on row 2).
    """
    first, newline, rest = _first_line(text)
    match = _SEP_LINE_RE.fullmatch(first.strip('"'))
    if match is None or match.group(1) not in _DELIMITER_NAMES:
        return None, text
    return match.group(1), newline + rest


def _first_line(text: str) -> tuple[str, str, str]:
    """The first line, its line break and everything after (CR, LF or CRLF)."""
    match = re.search(r"\r\n|\r|\n", text)
    if match is None:
        return text, "", ""
    return text[: match.start()], match.group(), text[match.end() :]


def detect_delimiter(text: str) -> str:
    """``,``, ``;`` or tab, as csv.Sniffer finds it in the first lines.

    The header line has the last word: when the sniffed delimiter does not
    occur in it, or another one occurs more than twice as often, the one the
    header uses most is taken (ties go to ``,``).
    """
    lines = [line for line in text[:_SNIFF_CHARS].splitlines() if line.strip()][:20]
    if not lines:
        return ","
    header = lines[0]
    counts = {d: header.count(d) for d in _DELIMITER_NAMES}
    by_header = max(counts, key=lambda d: counts[d])
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t").delimiter
    except csv.Error:
        sniffed = by_header
    if counts.get(sniffed, 0) == 0 or counts[by_header] > 2 * counts[sniffed]:
        return by_header
    return sniffed


def _records(label: str, text: str, delimiter: str) -> list[list[str]]:
    """The file's records, each a list of cells; row N is record N.

    Raises
    ------
    InstanceError
        Naming the row where a quoted cell starts that never closes (which
        would swallow every row below it), that is longer than the csv
        module's limit, or that has text after its closing quote.
    """
    # newline="" keeps line breaks inside quoted cells, as Excel writes them.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[list[str]] = []
    spans: list[tuple[int, int]] = []
    line = 0
    try:
        for cells in reader:
            records.append(cells)
            spans.append((line + 1, reader.line_num))
            line = reader.line_num
    except csv.Error as err:
        row = len(records) + 1
        reason = str(err)
        if "end of data" in reason:
            message = (
                f"expected every quoted cell to be closed, found a quote opened in "
                f"row {row} (line {line + 1}) that is never closed, so every line "
                "below it would be one cell; close the quote or remove it."
            )
        elif "field limit" in reason:
            message = (
                f"expected cells of at most {MAX_CELL_CHARS} characters, found a "
                f"cell starting in row {row} (line {line + 1}) that runs on much "
                "longer; a quote opened there is probably never closed."
            )
        elif "expected after" in reason:
            message = (
                f"expected a quoted cell to end at its closing quote, found more "
                f"text after it (line {reader.line_num}); quote the whole cell and "
                'double every quote inside it ("").'
            )
        else:
            message = f"expected CSV, found a line the reader cannot split ({reason})."
        raise _file_problem(label, message, row) from err
    _check_swallowed_rows(label, records, spans, delimiter)
    return records


def _check_swallowed_rows(
    label: str,
    records: list[list[str]],
    spans: list[tuple[int, int]],
    delimiter: str,
) -> None:
    """A quoted cell over several lines, one of which looks like a whole row.

    A note may legitimately hold line breaks; but a line inside a cell with
    as many delimiters as the header is rows swallowed by a quote that was
    closed too late (by another stray quote further down).
    """
    # The widest of the first rows, so that a title row above the header
    # does not lower the bar.
    leading = [r for r in records[: _HEADER_SEARCH_ROWS + 2] if not _is_blank(r)]
    header = max(leading, key=len, default=[])
    needed = max(2, len(header) - 1)
    for number, (cells, (first, last)) in enumerate(
        zip(records, spans, strict=True), 1
    ):
        if first == last:
            continue
        for i, cell in enumerate(cells):
            inner = cell.splitlines()[1:]
            rows = sum(1 for part in inner if part.count(delimiter) >= needed)
            if rows:
                column = header[i].strip() if i < len(header) else str(i + 1)
                message = (
                    f"expected one row per line, found a quoted cell that runs "
                    f"from line {first} to line {last} and holds {rows} line(s) "
                    "that look like rows; a quote in this row is closed only "
                    "there. Close it where the cell ends, or remove it."
                )
                raise InstanceError([InputProblem(label, number, column, message)])


def parse_csv(label: str, data: bytes, required: Sequence[str] = ()) -> Table:
    """A table from the bytes of a CSV file; ``label`` names it in messages.

    ``required`` names columns that locate the header (see ``make_table``).

    Raises
    ------
    InstanceError
        When the file cannot be decoded or split into rows, or has no usable
        header.
    """
    text = decode_csv(label, data)
    if "\x00" in text:
        raise _file_problem(label, "expected text, found a binary file.")
    hinted, text = _sep_line(text)
    delimiter = hinted or detect_delimiter(text)
    records = _records(label, text, delimiter)
    scan = len(text) > MAX_CELL_CHARS or _CONTROL_RE.search(text) is not None
    return make_table(
        label,
        records,
        decimal_comma=delimiter in (";", "\t"),
        delimiter=delimiter,
        required=required,
        scan=scan,
    )


def read_csv(path: Path, required: Sequence[str] = ()) -> Table:
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
    return parse_csv(path.name, data, required)


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
        for _, element in ElementTree.iterparse(stream):
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
            "expected an Excel workbook (.xlsx), found a file openpyxl cannot read "
            f"({type(err).__name__}).",
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
                "expected a visible sheet, found it hidden; unhide it (right-click "
                "a sheet tab, Unhide), or delete it if it should not be read.",
            )
        )
    rows = {row.number for row in table.rows}
    first_data = table.header_row
    for ref in facts.merged:
        min_col, min_row, _, max_row = range_boundaries(ref)
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
                f"expected a value in every cell, found this cell part of the merged "
                f"cells {ref} (only {get_column_letter(min_col)}{min_row} holds the "
                "value); unmerge them and fill each row.",
            )
        )
    hidden = sorted(r for r in facts.hidden_rows if r in rows)
    if hidden:
        more = f" (and {len(hidden) - 1} more hidden rows)" if len(hidden) > 1 else ""
        problems.append(
            InputProblem(
                label,
                hidden[0],
                None,
                f"expected every row visible, found this row hidden by a filter or "
                f"Hide{more}; unhide them, or delete the rows that should not be read.",
            )
        )
    for ref, what in facts.unreadable.items():
        min_col, row, _, _ = range_boundaries(ref)
        if row < first_data:
            continue
        if what == "formula":
            message = (
                "expected a value, found a formula saved without its computed value "
                "(the program that saved the workbook does not calculate); open and "
                "save it in Excel, or paste the values."
            )
        else:
            message = (
                f"expected a value, found the formula error {what}; fix the formula."
            )
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
            f"{label}: hidden columns {listed} were read as they are.",
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
        raise _file_problem(path.name, f"expected a readable file ({err}).") from err
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
        raise _file_problem(path.name, f'expected a sheet named "{sheet}", found none.')
    return table


# --- Cell parsers -------------------------------------------------------------


def unquote(text: str) -> str:
    """Drop the ``'`` this tool writes before text a spreadsheet would run
    (or before a text that itself starts with ' and one of those)."""
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_START + "'":
        return text[1:]
    return text


def parse_text(text: str) -> str:
    """Free text, stripped; may be empty."""
    return unquote(text.strip())


def parse_id(text: str) -> str:
    """A non-empty id without ``;`` (``;`` separates lists), as ``normalise_id``
    gives it.

    An id Excel wrote in scientific notation (``1,23457E+11``) has lost
    digits, so that two ids may look the same: it is rejected, never read.
    """
    value = normalise_id(parse_text(text)).strip()
    if not value:
        raise CellError("an id", text)
    if ";" in value:
        raise CellError('an id without ";"', text)
    if _SCIENTIFIC_RE.fullmatch(value):
        raise CellError(
            "an id as written, not a number Excel rounded to scientific notation "
            "(format the column as Text in Excel and export again)",
            text,
        )
    return value


def _digits_only(value: str, grouped: bool, what: str, text: str) -> str:
    """``value`` with thousands separators removed when ``grouped`` allows them."""
    if match := _GROUPED_RE.fullmatch(value):
        if not grouped:
            raise CellError(
                f"{what} without spaces or thousands separators (this file is "
                "','-separated; write 1200, not 1 200)",
                text,
            )
        whole, fraction = match.groups()
        return "".join(c for c in whole if c not in _SEPARATORS) + fraction
    if _SPACED_DIGITS_RE.search(value):
        raise CellError(
            f"{what}; the number holds a space that is not a thousands separator",
            text,
        )
    return value


def parse_int(text: str, grouped: bool = False) -> int:
    """A whole number such as ``12``, ``-3`` or, when ``grouped``, ``1 200``.

    ``grouped`` allows a space, no-break space or narrow no-break space
    between groups of three digits, as Norwegian Excel writes in ``;`` files.
    """
    value = _digits_only(text.strip(), grouped, "a whole number", text)
    if not _INT_RE.fullmatch(value):
        raise CellError("a whole number", text)
    if len(value.lstrip("+-")) > _MAX_DIGITS:
        raise CellError(f"a whole number of at most {_MAX_DIGITS} digits", text)
    return int(value)


def parse_decimal(text: str, decimal_comma: bool, percent: bool = False) -> float:
    """A finite decimal number.

    With ``decimal_comma`` (``;``- and tab-separated files, workbooks),
    ``0,8`` is 0.8 and ``1 200,5`` is 1200.5. With ``percent``, ``80 %``
    or ``80%`` is 0.8 (a share written as a percentage).
    """
    value = text.strip()
    is_percent = False
    if match := _PERCENT_RE.fullmatch(value):
        if not percent:
            raise CellError("a decimal number, not a percentage", text)
        value, is_percent = match.group(1).strip(), True
    value = _digits_only(value, decimal_comma, "a decimal number", text)
    if decimal_comma and value.count(",") == 1 and "." not in value:
        value = value.replace(",", ".")
    if not _DECIMAL_RE.fullmatch(value):
        if "," in value and not decimal_comma:
            raise CellError(
                "a decimal number with a point (this file is ','-separated)", text
            )
        raise CellError("a decimal number", text)
    number = float(value)
    if not math.isfinite(number):
        raise CellError("a finite decimal number", text)
    return number / 100 if is_percent else number


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
    """Ids separated by ``;``, each stripped and normalised; empty items are dropped."""
    items = (normalise_id(item).strip() for item in unquote(text.strip()).split(";"))
    return tuple(item for item in items if item)
