"""allocation.xlsx: the workbook a team leader opens, reads and edits.

A summary sheet first (status, gap, placed, unplaced and urgent, moves,
shortages in FTE by team kind and municipality, the week), then the
assignments with names beside ids and an empty ``lock`` column to type
``fix`` or ``forbid`` into, the load sheets, the unassigned users with their
reasons, and the changes. Numbers are number cells, utilisation a percent,
dates date cells; every sheet has a frozen header, a filter and fitted
widths. Text is always a text cell, so a name such as ``=HYPERLINK(...)`` or
``<b>`` stays inert. ``allocation_xlsx.py`` reads the edited workbook back.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from allocator.analysis.report import Report, Row
from allocator.domain import Instance
from allocator.errors import DataWarning
from allocator.i18n import _

MAX_WIDTH = 60
# The longest text an Excel cell holds; a longer one makes Excel refuse the file.
MAX_CELL = 32_767
CONTROL = "control characters a workbook cannot hold were left out"
LONG = f"the text was cut at {MAX_CELL:,} characters, the most a workbook cell holds"
# Rows scanned to fit a column's width (a region has 40,000 users).
WIDTH_SAMPLE = 500
# Excel's built-in short date: shown in the reader's own locale (dd.mm.yyyy
# in Norwegian Excel).
DATE_FORMAT = "mm-dd-yy"
PERCENT = "0%"
PERCENT_2 = "0.00%"
DECIMAL = "0.0##"
LOCK_COLUMN = "lock"
ASSIGNMENTS_SHEET = "assignments"

Column = tuple[str, str]  # (header, number format or "")


def leader_workbook(
    instance: Instance, report: Report, changes: Sequence[Row]
) -> bytes:
    """allocation.xlsx as bytes (see the module docstring for its sheets)."""
    names = names_of(instance)
    leader = report.summary.get("leader") or {}
    # Write-only: a region's 40,000 rows stream out instead of living as cells.
    book = Workbook(write_only=True)
    fill_summary(book.create_sheet(_("summary")), report.summary, leader, names)
    # Sheet names and headers are in the active language; the reader
    # (allocation_xlsx.py) knows every language's spelling of its columns.
    for title, columns, rows in (
        (_("assignments"), *assignment_sheet(instance, report, names)),
        (_("advisor load"), *advisor_sheet(report, names)),
        (_("team load"), *team_sheet(report, names)),
        (_("municipality load"), *municipality_sheet(report, leader, names)),
        (_("unassigned"), *unassigned_sheet(instance, report, names)),
        (_("changes"), *change_sheet(changes, names)),
    ):
        sheet = book.create_sheet(title)
        if title == _("assignments"):
            lock_drop_down(sheet, columns, len(rows))
        fill_sheet(sheet, columns, rows)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def lock_drop_down(sheet: Worksheet, columns: list[Column], rows: int) -> None:
    """A drop-down of fix and forbid (or empty) on every row's lock cell.

    The words stay fix and forbid in every language: the reader
    (allocation_xlsx.py) takes exactly those. A typed value outside the list
    is refused by Excel with a message saying what it takes.
    """
    index = [header for header, _format in columns].index(_("lock")) + 1
    letter = get_column_letter(index)
    choice = DataValidation(
        type="list",
        formula1='"fix,forbid"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=_("lock"),
        error=_("Type fix, forbid or leave the cell empty."),
    )
    choice.add(f"{letter}2:{letter}{max(2, rows + 1)}")
    sheet.data_validations.append(choice)


def names_of(instance: Instance) -> dict[str, dict[str, str]]:
    """Display names by id, per table."""
    return {
        "advisors": {a.id: a.name for a in instance.advisors},
        "teams": {t.id: t.name for t in instance.teams},
        "municipalities": {m.id: m.name for m in instance.municipalities},
    }


def fill_summary(
    sheet: Worksheet,
    summary: Mapping[str, Any],
    leader: Mapping[str, Any],
    names: Mapping[str, Mapping[str, str]],
) -> None:
    """The first sheet: headline figures, then shortages, then how to edit."""
    kpis = summary.get("kpis") or {}
    counts = summary.get("changes") or {}
    shortage = leader.get("shortage_fte") or []
    figures: list[tuple[str, Any, str]] = [
        (_("instance"), summary.get("instance", ""), ""),
        (_("week"), leader.get("week") or "", ""),
        (_("reference date"), as_date(summary.get("reference_date")), DATE_FORMAT),
        (_("status"), status_word(str(summary.get("status", ""))), ""),
        (_("gap"), summary.get("gap"), PERCENT_2),
        (_("users"), kpis.get("users"), ""),
        (_("placed"), kpis.get("assigned"), ""),
        (_("unassigned"), kpis.get("unassigned"), ""),
        (_("of them urgent"), kpis.get("urgent_unassigned"), ""),
        (_("moved from their advisor"), kpis.get("reassignments"), ""),
        (_("arrived"), counts.get("arrived"), ""),
        (_("left"), counts.get("left"), ""),
        (_("FTE short"), round(sum(r["fte"] for r in shortage), 3), DECIMAL),
        (_("utilisation, lowest"), kpis.get("utilisation_min"), PERCENT),
        (_("utilisation, highest"), kpis.get("utilisation_max"), PERCENT),
        (_("travel, total road km"), kpis.get("travel_km"), DECIMAL),
    ]
    for letter, width in zip("ABCDE", (28, 24, 28, 18, 12), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    sheet.append(bold(sheet, [_("figure"), _("value")]))
    for label, value, number_format in figures:
        sheet.append([text(sheet, label), cell(sheet, value, number_format)])
    sheet.append([])
    sheet.append(
        bold(sheet, [_("shortages"), _("municipality"), _("name"),
                     _("weight unassigned"), _("FTE short")])
    )  # fmt: skip
    for record in shortage:
        sheet.append(
            [
                text(sheet, kind_word(record["kind"])),
                text(sheet, record["municipality"]),
                text(sheet, names["municipalities"].get(record["municipality"], "")),
                cell(sheet, record["weight"], DECIMAL),
                cell(sheet, record["fte"], DECIMAL),
            ]
        )
    if not shortage:
        sheet.append([_("none: no user waits for capacity")])
    sheet.append([])
    sheet.append(
        [
            _("to edit"),
            _(
                "On the assignments sheet, type fix or forbid in the lock column, "
                "or another advisor id in the advisor column; then run allocator "
                "solve with --previous allocation.xlsx."
            ),
        ]
    )


def kind_word(kind: str) -> str:
    """A team kind in the active language (an id in English)."""
    from allocator.analysis.words import team_kind_words

    return team_kind_words(kind)


def value_word(value: str, change: bool = False) -> str:
    """A status (or, with ``change``, a change kind) in words; English keeps
    the CSV's own value, which scripts compare."""
    from allocator.i18n import active
    from allocator.render.charts import change_word

    if active() == "en":
        return value
    if change:
        return change_word(value)
    return {"assigned": _("assigned"), "unassigned": _("unassigned")}.get(
        value, value
    )


def rule_word(rule: str) -> str:
    """``1:assessment`` with the team kind in the active language."""
    number, sep, kind = str(rule).partition(":")
    return f"{number}{sep}{kind_word(kind)}" if sep else str(rule)


def status_word(status: str) -> str:
    """The solve's status in words (report.html's words)."""
    from allocator.i18n import active
    from allocator.render.html import status_word as words

    # English keeps summary.json's own word, which scripts compare.
    return status if active() == "en" else words(status)


def assignment_sheet(
    instance: Instance, report: Report, names: Mapping[str, Mapping[str, str]]
) -> tuple[list[Column], list[list[Any]]]:
    """One row per user, names beside ids, and the editable lock column."""
    extra = list(instance.extra_columns.get("users", ()))
    columns: list[Column] = [
        (_("user"), ""), (_("municipality"), ""), (_("municipality name"), ""),
        (_("team"), ""), (_("team name"), ""), (_("advisor"), ""),
        (_("advisor name"), ""),
        (_("lock"), ""), (_("status"), ""), (_("previous_advisor"), ""),
        (_("changed"), ""), (_("rule"), ""), (_("travel_km"), DECIMAL),
        (_("since"), DATE_FORMAT), (_("reason"), ""),
        *((column, "") for column in extra),
    ]  # fmt: skip
    rows = [
        [
            r["user"], r["municipality"],
            names["municipalities"].get(r["municipality"], ""),
            r["team"], names["teams"].get(r["team"], ""),
            r["advisor"], names["advisors"].get(r["advisor"], ""),
            None, value_word(r["status"]), r["previous_advisor"], r["changed"],
            rule_word(r["rule"]),
            r["travel_km"], as_date(r.get("since")), r["reason"],
            *(r.get(column, "") for column in extra),
        ]
        for r in report.assignments
    ]  # fmt: skip
    return columns, rows


def advisor_sheet(
    report: Report, names: Mapping[str, Mapping[str, str]]
) -> tuple[list[Column], list[list[Any]]]:
    columns: list[Column] = [
        (_("advisor"), ""), (_("name"), ""), (_("team"), ""), (_("team name"), ""),
        (_("fte"), DECIMAL), (_("capacity"), DECIMAL), (_("load"), DECIMAL),
        (_("utilisation"), PERCENT), (_("users"), ""), (_("new_users"), ""),
        (_("intake_limit"), ""), (_("municipalities"), ""),
    ]  # fmt: skip
    rows = [
        [
            r["advisor"], names["advisors"].get(r["advisor"], ""), r["team"],
            names["teams"].get(r["team"], ""), r["fte"], r["capacity"], r["load"],
            r["utilisation"], r["users"], r["new_users"], r["intake_limit"],
            ";".join(r["municipalities"]),
        ]
        for r in report.advisor_load
    ]  # fmt: skip
    return columns, rows


def team_sheet(
    report: Report, names: Mapping[str, Mapping[str, str]]
) -> tuple[list[Column], list[list[Any]]]:
    columns: list[Column] = [
        (_("team"), ""), (_("name"), ""), (_("kind"), ""), (_("advisors"), ""),
        (_("assigned"), ""), (_("load"), DECIMAL), (_("capacity"), DECIMAL),
        (_("utilisation"), PERCENT),
    ]  # fmt: skip
    rows = [
        [
            r["team"], names["teams"].get(r["team"], ""), kind_word(r["kind"]),
            r["advisors"],
            r["assigned"], r["load"], r["capacity"],
            r["load"] / r["capacity"] if r["capacity"] else None,
        ]
        for r in report.team_load
    ]  # fmt: skip
    return columns, rows


def municipality_sheet(
    report: Report, leader: Mapping[str, Any], names: Mapping[str, Mapping[str, str]]
) -> tuple[list[Column], list[list[Any]]]:
    short: dict[str, float] = {}
    for record in leader.get("shortage_fte") or []:
        short[record["municipality"]] = (
            short.get(record["municipality"], 0.0) + record["fte"]
        )
    base = leader.get("base_capacity") or {}
    columns: list[Column] = [
        (_("municipality"), ""), (_("name"), ""), (_("users"), ""), (_("assigned"), ""),
        (_("unassigned"), ""), (_("load"), DECIMAL), (_("advisors"), ""),
        (_("capacity based here"), DECIMAL), (_("FTE short"), DECIMAL),
    ]  # fmt: skip
    rows = [
        [
            r["municipality"], names["municipalities"].get(r["municipality"], ""),
            r["users"], r["assigned"], r["unassigned"], r["load"], r["advisors"],
            base.get(r["municipality"], 0.0),
            round(short.get(r["municipality"], 0.0), 3),
        ]
        for r in report.municipality_load
    ]  # fmt: skip
    return columns, rows


def unassigned_sheet(
    instance: Instance, report: Report, names: Mapping[str, Mapping[str, str]]
) -> tuple[list[Column], list[list[Any]]]:
    """Unassigned users, urgent first, with the reason."""
    urgent = {u.id for u in instance.users if u.urgent}
    columns: list[Column] = [
        (_("user"), ""), (_("urgent"), ""), (_("municipality"), ""),
        (_("municipality name"), ""), (_("team kind"), ""), (_("reason"), ""),
    ]  # fmt: skip
    rows = [
        [
            r["user"], r["user"] in urgent, r["municipality"],
            names["municipalities"].get(r["municipality"], ""),
            kind_word(str(r["rule"]).partition(":")[2]), r["reason"],
        ]
        for r in report.assignments
        if r["status"] == "unassigned"
    ]  # fmt: skip
    rows.sort(key=lambda row: not row[1])
    return columns, rows


def change_sheet(
    changes: Sequence[Row], names: Mapping[str, Mapping[str, str]]
) -> tuple[list[Column], list[list[Any]]]:
    columns: list[Column] = [
        (_("user"), ""), (_("kind"), ""), (_("from"), ""), (_("from name"), ""),
        (_("to"), ""), (_("to name"), ""), (_("from_team"), ""), (_("to_team"), ""),
        (_("team_change"), ""),
        (_("locked"), ""), (_("reason"), ""),
    ]  # fmt: skip
    rows = [
        [
            r["user"], value_word(r["kind"], change=True), r["from"],
            names["advisors"].get(r["from"], ""),
            r["to"], names["advisors"].get(r["to"], ""), r["from_team"],
            r["to_team"], r["team_change"], r["locked"], r["reason"],
        ]
        for r in changes
    ]  # fmt: skip
    return columns, rows


def fill_sheet(sheet: Worksheet, columns: list[Column], rows: list[list[Any]]) -> None:
    """Header, rows, formats; frozen header, filter over all, fitted widths.

    Text a workbook cannot hold (control characters other than tab, LF and
    CR; more than 32,767 characters) is made holdable and a warning names the
    sheet, column and rows, never the value; the CSV files keep it whole.
    """
    # (column, what was done) -> the rows it was done in.
    changed: dict[tuple[str, str], list[int]] = {}

    def safe(value: Any, column: str, row: int) -> Any:
        if not isinstance(value, str):
            return value
        holdable = ILLEGAL_CHARACTERS_RE.sub("", value)
        if holdable != value:
            changed.setdefault((column, CONTROL), []).append(row)
        if len(holdable) > MAX_CELL:
            changed.setdefault((column, LONG), []).append(row)
        return holdable[:MAX_CELL]

    headers = [workbook_text(header) for header, _format in columns]
    for header, _format in columns:
        safe(header, workbook_text(header), 1)
    for index, (header, number_format) in enumerate(columns, start=1):
        sample = [row[index - 1] for row in rows[:WIDTH_SAMPLE]]
        longest = max(
            [len(header) + 3] + [len(shown(value, number_format)) for value in sample]
        )
        sheet.column_dimensions[get_column_letter(index)].width = min(
            MAX_WIDTH, longest + 2
        )
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{len(rows) + 1}"
    sheet.append(bold(sheet, headers))
    formats = [number_format for _, number_format in columns]
    for number, row in enumerate(rows, start=2):
        sheet.append(
            [
                cell(sheet, safe(value, column, number), fmt)
                for value, fmt, column in zip(row, formats, headers, strict=True)
            ]
        )
    for (column, done), numbers in changed.items():
        listed = ", ".join(str(n) for n in numbers[:5])
        more = f" and {len(numbers) - 5} more" if len(numbers) > 5 else ""
        warnings.warn(
            f"allocation.xlsx, sheet {sheet.title}, column {column}, "
            f"row {listed}{more}: {done}; the CSV files keep the cells whole.",
            DataWarning,
            stacklevel=2,
        )


def workbook_text(text: str) -> str:
    """``text`` as a workbook can hold it: no control characters but tab,
    LF and CR (openpyxl refuses them), at most 32,767 characters."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL]


def cell(sheet: Worksheet, value: Any, number_format: str = "") -> Any:
    """A value as written: text always a text cell, numbers and dates formatted."""
    if isinstance(value, str):
        return text(sheet, value)
    if number_format and value is not None:
        formatted = WriteOnlyCell(sheet, value=value)
        formatted.number_format = number_format
        return formatted
    return value


def text(sheet: Worksheet, value: str) -> Any:
    """A text cell; openpyxl would store text starting with "=" as a formula."""
    if not value.startswith("="):
        return value
    literal = WriteOnlyCell(sheet, value=value)
    literal.data_type = "s"
    return literal


def bold(sheet: Worksheet, values: list[str]) -> list[Any]:
    """A header row in bold."""
    cells = []
    for value in values:
        header = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            # A header such as "=HYPERLINK(...)" stays text, like a data cell.
            header.data_type = "s"
        header.font = Font(bold=True)
        cells.append(header)
    return cells


def shown(value: Any, number_format: str) -> str:
    """Roughly what a cell shows, to size its column."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return "00.00.0000"
    if number_format in (PERCENT, PERCENT_2) and isinstance(value, float):
        return f"{value * 100:.0f} %"
    return str(value)


def as_date(value: Any) -> dt.date | None:
    """An ISO date string as a date (a date cell in the workbook)."""
    if not value:
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
