"""The README's table formats: an instance's files, their columns, and the
unknown columns carried to the output files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from allocator.domain import LockKind, Status
from allocator.i18n import N_
from allocator.io.tables import SHEETS, Table

TOML = "instance.toml"
# Read order; also the order in which files enter input_sha256.
TABLES = SHEETS
REQUIRED_TABLES = frozenset({"municipalities", "teams", "advisors", "users"})
# More problems than this are summarised in one closing line.
MAX_PROBLEMS = 50
# Pseudo-table under which competence ids from instance.toml are kept.
COMPETENCES = "competence"

E = TypeVar("E")
T = TypeVar("T")


@dataclass(frozen=True)
class Columns:
    """The columns the README's table formats name for one table."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    # Whether the entities keep unknown columns for the output.
    carries_extra: bool = True

    @property
    def known(self) -> frozenset[str]:
        return frozenset(self.required + self.optional)


# "name" and "competences" have defaults in domain.py, so a file may leave
# them out (an advisor list without names is a reasonable export).
COLUMNS: dict[str, Columns] = {
    "municipalities": Columns(
        ("id",), ("name", "population", "lat", "lon", "number")
    ),
    "teams": Columns(("id", "kind"), ("name", "municipalities")),
    "advisors": Columns(
        ("id", "team", "employer", "base", "fte"),
        ("name", "casework_share", "competences", "max_municipalities", "available"),
    ),
    "users": Columns(
        ("id", "municipality", "age", "status"),
        (
            "children",
            "needs",
            "urgent",
            "weight",
            "current_advisor",
            "since",
            "household",
            "prefer_non_local",
        ),
    ),
    "locks": Columns(("user", "advisor", "kind"), carries_extra=False),
    "travel": Columns(("from", "to", "km"), carries_extra=False),
}

_STATUSES: dict[str, Status] = {"new": "new", "active": "active"}
_LOCK_KINDS: dict[str, LockKind] = {"fix": "fix", "forbid": "forbid"}
_OTHER_KIND: dict[LockKind, LockKind] = {"fix": "forbid", "forbid": "fix"}
# Messages about users.csv name the row and column but never repeat the
# cell: a user's details stay out of terminals and logs (only ids appear).
# Marked for the catalogues; translated where it is shown (rows.py, checks.py).
PRIVATE = N_("the value is not shown (user data).")

def _unknown_columns(name: str, table: Table) -> list[str]:
    """A table's unknown columns as spelled in the file, in file order."""
    known = COLUMNS[name].known
    return [table.spelling_of(c) for c in table.header if c not in known]


# The output file each table's unknown columns are carried to, and the
# columns the tool itself writes there (the README's Output section).
CARRIED_TO: dict[str, tuple[str, tuple[str, ...]]] = {
    "users": (
        "assignments.csv",
        ("user", "municipality", "team", "advisor", "status", "previous_advisor",
         "changed", "rule", "travel_km", "reason", "since"),
    ),
    "advisors": (
        "advisor_load.csv",
        ("advisor", "team", "fte", "capacity", "load", "utilisation", "users",
         "new_users", "intake_limit", "municipalities"),
    ),
}  # fmt: skip
# What a carried column whose name the output already uses is renamed with.
CARRIED_PREFIX = "input_"


def carried_names(name: str, columns: Sequence[str]) -> dict[str, str]:
    """Unknown column as written -> the name it is carried under.

    A column whose name equals (in any case) a column the tool writes to the
    same output file is renamed with the prefix ``input_`` (again, until the
    name is free), so that it can never replace a computed column and every
    solution reads back with ``check``, ``explain`` and ``--previous``.
    """
    if name not in CARRIED_TO:
        return {column: column for column in columns}
    taken = {c.casefold() for c in CARRIED_TO[name][1]}
    taken |= {c.casefold() for c in columns}
    names = {}
    for column in columns:
        carried = column
        if column.casefold() in {c.casefold() for c in CARRIED_TO[name][1]}:
            carried = CARRIED_PREFIX + column
            while carried.casefold() in taken:
                carried = CARRIED_PREFIX + carried
            taken.add(carried.casefold())
        names[column] = carried
    return names
