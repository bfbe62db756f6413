"""CSV files: the encoding and delimiter found, the records split, and the
rows made into a Table.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
from collections.abc import Sequence
from pathlib import Path

from charset_normalizer import from_bytes

from allocator.errors import DataWarning, InputProblem, InstanceError
from allocator.i18n import _
from allocator.io.tables.structure import (
    _CONTROL_RE,
    _HEADER_SEARCH_ROWS,
    MAX_CELL_CHARS,
    _file_problem,
    _is_blank,
    make_table,
)
from allocator.io.tables.table import Table

_SEP_LINE_RE = re.compile(r"sep=(.)\s*$", re.IGNORECASE)
# How much of a file the Sniffer sees (its regular expressions are slow on
# very long lines).
_SNIFF_CHARS = 64_000

_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab"}

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
                _(
                    "expected UTF-16 text after the UTF-16 byte-order mark, found "
                    "broken bytes (at byte {byte}); save it as CSV (UTF-8)."
                ).format(byte=err.start),
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
            raise _file_problem(label, _("expected text, found a binary file."))
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
            raise _file_problem(label, _("expected text, found a binary file."))
        raise _file_problem(
            label,
            _(
                "expected UTF-8, Windows-1252 or MacRoman text, found bytes that "
                "read as none of them; save it as CSV (UTF-8)."
            ),
        )
    # Equal scores keep charset-normalizer's order.
    _chaos, _odd, encoding, text = min(readings, key=lambda r: (round(r[0], 3), r[1]))
    warnings.warn(
        _("{file} is not UTF-8; it was read as {encoding}.").format(
            file=label, encoding=_ENCODING_NAMES[encoding]
        ),
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
            message = _(
                "expected every quoted cell to be closed, found a quote opened in "
                "row {row} (line {line}) that is never closed, so every line "
                "below it would be one cell; close the quote or remove it."
            ).format(row=row, line=line + 1)
        elif "field limit" in reason:
            message = _(
                "expected cells of at most {most} characters, found a "
                "cell starting in row {row} (line {line}) that runs on much "
                "longer; a quote opened there is probably never closed."
            ).format(most=MAX_CELL_CHARS, row=row, line=line + 1)
        elif "expected after" in reason:
            message = _(
                "expected a quoted cell to end at its closing quote, found more "
                "text after it (line {line}); quote the whole cell and "
                'double every quote inside it ("").'
            ).format(line=reader.line_num)
        else:
            message = _(
                "expected CSV, found a line the reader cannot split ({reason})."
            ).format(reason=reason)
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
                message = _(
                    "expected one row per line, found a quoted cell that runs "
                    "from line {first} to line {last} and holds {rows} line(s) "
                    "that look like rows; a quote in this row is closed only "
                    "there. Close it where the cell ends, or remove it."
                ).format(first=first, last=last, rows=rows)
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
        raise _file_problem(label, _("expected text, found a binary file."))
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
        message = _("expected a readable file ({error}).").format(error=err)
        raise _file_problem(path.name, message) from err
    return parse_csv(path.name, data, required)
