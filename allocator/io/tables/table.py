"""A table as plain strings: its rows and cells, and the error a cell parser
raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from allocator.errors import InputProblem
from allocator.i18n import _
from allocator.io.tables.ids import visible

# The sheets a workbook may carry; the README's input section.
SHEETS = ("municipalities", "teams", "advisors", "users", "locks", "travel")

# Longest piece of a bad cell quoted back in a message.
_MAX_SHOWN = 40
# Most names listed in one warning about unknown columns.
MAX_LISTED = 10



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
            return _("expected {expected}, found an empty cell.").format(
                expected=self.expected
            )
        if len(shown) > _MAX_SHOWN:
            shown = shown[: _MAX_SHOWN - 3] + "..."
        return _('expected {expected}, found "{found}".').format(
            expected=self.expected, found=visible(shown)
        )
