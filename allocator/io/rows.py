"""Rows into entities: each table's cells parsed into domain entities, every
bad cell noted, collected in a Draft for the checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from allocator.domain import Advisor, Lock, Municipality, Team, User
from allocator.errors import InputProblem
from allocator.i18n import _
from allocator.io.input_tables import _check_columns
from allocator.io.instance_columns import (
    _LOCK_KINDS,
    _STATUSES,
    COLUMNS,
    COMPETENCES,
    PRIVATE,
    E,
    T,
)
from allocator.io.instance_toml import Config
from allocator.io.tables import (
    CellError,
    Row,
    Table,
    char_name,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_id,
    parse_int,
    parse_list,
    parse_text,
    stripped_from_id,
    visible,
)


class Distance(NamedTuple):
    """One row of travel.csv."""

    start: str
    end: str
    km: float
    row: int



class Cells:
    """One row's cells, parsed column by column; every bad cell is noted.

    A bad cell yields a placeholder of the right type so that the entity can
    still be built; the caller drops it when ``failed`` is set.
    """

    def __init__(
        self,
        table: Table,
        row: Row,
        known: frozenset[str],
        problems: list[InputProblem],
        private: bool = False,
        notes: list[InputProblem] | None = None,
    ) -> None:
        # users.csv: messages leave out cell values (see PRIVATE).
        self.private = private
        # Ids from which invisible characters were removed, for one warning.
        self.notes = notes if notes is not None else []
        self.table = table
        self.row = row
        self.number = row.number
        self.problems = problems
        self.failed = False
        # The row's id, when it has a readable one (duplicates are found by it).
        self.key_value: str | None = None
        self.extra = {
            table.spelling_of(column): text
            for column, text in row.cells.items()
            if column not in known
        }

    def _parse(self, column: str, parse: Callable[[str], T], placeholder: T) -> T:
        try:
            return parse(self.row.cells.get(column, ""))
        except CellError as err:
            self.failed = True
            message = str(err)
            if self.private and column != "id":
                message = _("expected {expected}; {private}").format(
                    expected=err.expected, private=_(PRIVATE)
                )
            problem = InputProblem(self.table.label, self.number, column, message)
            self.problems.append(problem)
            return placeholder

    def _blank(self, column: str) -> bool:
        return not self.row.cells.get(column, "").strip()

    def _note_invisible(self, column: str) -> None:
        """Note the format characters ``normalise_id`` drops from this cell."""
        removed = stripped_from_id(self.row.cells.get(column, ""))
        if removed:
            names = ", ".join(char_name(c) for c in removed)
            self.notes.append(
                InputProblem(self.table.label, self.number, column, names)
            )

    def key(self) -> str:
        """The row's ``id``."""
        value = self.ident("id")
        self.key_value = value or None
        return value

    def ident(self, column: str) -> str:
        self._note_invisible(column)
        return self._parse(column, parse_id, "")

    def opt_ident(self, column: str) -> str | None:
        return None if self._blank(column) else self.ident(column)

    def text(self, column: str) -> str:
        return self._parse(column, parse_text, "")

    def whole(self, column: str, default: int | None = None) -> int:
        if default is not None and self._blank(column):
            return default
        grouped = self.table.decimal_comma
        return self._parse(column, lambda text: parse_int(text, grouped), 0)

    def opt_whole(self, column: str) -> int | None:
        return None if self._blank(column) else self.whole(column)

    def decimal(
        self, column: str, default: float | None = None, share: bool = False
    ) -> float:
        """A decimal; a ``share`` (a fraction of a post) may be written ``80 %``."""
        if default is not None and self._blank(column):
            return default
        comma = self.table.decimal_comma
        return self._parse(
            column, lambda text: parse_decimal(text, comma, percent=share), 0.0
        )

    def opt_decimal(self, column: str) -> float | None:
        return None if self._blank(column) else self.decimal(column)

    def flag(self, column: str, default: bool) -> bool:
        return self._parse(column, lambda text: parse_bool(text, default), default)

    def opt_date(self, column: str) -> dt.date | None:
        return None if self._blank(column) else self._parse(column, parse_date, None)

    def items(self, column: str) -> tuple[str, ...]:
        self._note_invisible(column)
        return self._parse(column, parse_list, ())

    def choice(self, column: str, options: Mapping[str, T]) -> T:
        def parse(text: str) -> T:
            value = text.strip().lower()
            if value not in options:
                raise CellError(_(" or ").join(f'"{o}"' for o in options), text)
            return options[value]

        return self._parse(column, parse, next(iter(options.values())))


def _municipality(c: Cells) -> Municipality:
    return Municipality(
        id=c.key(),
        name=c.text("name"),
        population=c.opt_whole("population"),
        lat=c.opt_decimal("lat"),
        lon=c.opt_decimal("lon"),
        number=c.text("number"),
        row=c.number,
        extra=c.extra,
    )


def _team(c: Cells) -> Team:
    return Team(
        id=c.key(),
        name=c.text("name"),
        kind=c.ident("kind"),
        municipalities=c.items("municipalities"),
        row=c.number,
        extra=c.extra,
    )


def _advisor(c: Cells) -> Advisor:
    return Advisor(
        id=c.key(),
        name=c.text("name"),
        team=c.ident("team"),
        employer=c.ident("employer"),
        base=c.ident("base"),
        fte=c.decimal("fte", share=True),
        casework_share=c.decimal("casework_share", default=1.0, share=True),
        competences=c.items("competences"),
        max_municipalities=c.opt_whole("max_municipalities"),
        available=c.flag("available", default=True),
        row=c.number,
        extra=c.extra,
    )


def _user(c: Cells) -> User:
    return User(
        id=c.key(),
        municipality=c.ident("municipality"),
        age=c.whole("age"),
        children=c.whole("children", default=0),
        needs=c.items("needs"),
        status=c.choice("status", _STATUSES),
        urgent=c.flag("urgent", default=False),
        weight=c.decimal("weight", default=1.0),
        current_advisor=c.opt_ident("current_advisor"),
        since=c.opt_date("since"),
        household=c.opt_ident("household"),
        prefer_non_local=c.flag("prefer_non_local", default=False),
        row=c.number,
        extra=c.extra,
    )


def _lock(c: Cells) -> Lock:
    return Lock(
        user=c.ident("user"),
        advisor=c.ident("advisor"),
        kind=c.choice("kind", _LOCK_KINDS),
        row=c.number,
        source=c.table.label,
    )


def _distance(c: Cells) -> Distance:
    return Distance(c.ident("from"), c.ident("to"), c.decimal("km"), c.number)


def _parse_rows(
    name: str,
    table: Table,
    parse: Callable[[Cells], E],
    problems: list[InputProblem],
    notes: list[InputProblem] | None = None,
) -> tuple[list[E], dict[str, int]]:
    """Entities of every good row, and id -> first row for every readable id.

    The ids include rows with other bad cells, so that references to them are
    not reported as unknown on top of the bad cell. Ids are compared as
    ``normalise_id`` gives them, so two spellings of one id in different
    Unicode forms are duplicates.
    """
    known = COLUMNS[name].known
    entities: list[E] = []
    first: dict[str, int] = {}
    written: dict[str, str] = {}
    for row in table.rows:
        cells = Cells(table, row, known, problems, name == "users", notes)
        entity = parse(cells)
        key = cells.key_value
        if key is not None and key in first:
            form = ""
            if written[key] != row.cells.get("id", "").strip():
                form = _(
                    "; the two are written differently but are the same id once "
                    "invisible characters are removed and both are in one Unicode "
                    "form (NFC)"
                )
            message = _(
                'expected a unique id, found "{id}" again (first in row {row}{form}).'
            ).format(id=visible(key), row=first[key], form=form)
            problems.append(InputProblem(table.label, row.number, "id", message))
            continue
        if key is not None:
            first[key] = row.number
            written[key] = row.cells.get("id", "").strip()
        if not cells.failed:
            entities.append(entity)
    return entities, first


@dataclass
class Draft:
    """The instance as parsed, before the cross-reference checks."""

    config: Config
    tables: dict[str, Table]
    # Table -> id -> first row, for every readable id. None when the table
    # could not be read: references into it are then not checked.
    ids: dict[str, dict[str, int] | None]
    # Tables whose every row was read; checks that need all rows use these.
    complete: set[str]
    municipalities: list[Municipality] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)
    advisors: list[Advisor] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    locks: list[Lock] = field(default_factory=list)
    distances: list[Distance] = field(default_factory=list)
    # Id cells from which invisible characters were removed (one warning).
    notes: list[InputProblem] = field(default_factory=list)

    def label(self, name: str) -> str:
        """The file a table came from, for messages."""
        table = self.tables.get(name)
        return table.label if table is not None else f"{name}.csv"


def _parse_tables(
    config: Config,
    tables: dict[str, Table],
    problems: list[InputProblem],
    warn_unknown_columns: bool = True,
) -> Draft:
    """Every table's rows as entities; tables with missing columns are skipped."""
    competences = config.competence_ids
    known = None if competences is None else dict.fromkeys(competences, 0)
    draft = Draft(config, tables, {COMPETENCES: known}, set())
    parsers: dict[str, Callable[[Cells], Any]] = {
        "municipalities": _municipality,
        "teams": _team,
        "advisors": _advisor,
        "users": _user,
        "locks": _lock,
        "travel": _distance,
    }
    for name, parse in parsers.items():
        table = tables.get(name)
        usable = table is not None and _check_columns(
            name, table, problems, warn_unknown_columns
        )
        if table is None or not usable:
            draft.ids[name] = None
            continue
        before = len(problems)
        entities, ids = _parse_rows(name, table, parse, problems, draft.notes)
        setattr(draft, "distances" if name == "travel" else name, entities)
        draft.ids[name] = ids
        if len(problems) == before and not table.problems:
            draft.complete.add(name)
    return draft
