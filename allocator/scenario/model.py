"""What a scenario file may say: its keys, tables and kinds of value, and the
Scenario it is read into.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allocator.i18n import N_

# A scenario's id names a folder of a comparison: letters and digits of any
# script (Flå, Ål-Hol), "-" and "_", in Unicode's composed form (NFC), so the
# folder is one plain name on every system the tool supports.
ID_PUNCTUATION = frozenset("-_")
# An id longer than this would make a folder name some systems refuse.
ID_MAX_BYTES = 100
# The unchanged instance's name in a comparison; no scenario may take it.
BASE_ID = "base"
# instance.toml arrays a scenario may replace or append to.
ARRAYS = ("host_agreement", "routing", "competence")
# Tables a scenario may change, and the columns that key their rows.
KEYS: dict[str, tuple[str, ...]] = {
    "municipalities": ("id",),
    "teams": ("id",),
    "advisors": ("id",),
    "travel": ("from", "to"),
    "locks": ("user", "advisor"),
}
TABLES = tuple(KEYS)
TOP_KEYS = ("name", "description", "replace", "policy", *ARRAYS, *TABLES, "remove")
# The sub-tables of [policy] that a scenario overrides key by key.
POLICY_TABLES = ("weights", "cases_per_fte_by_kind")
# Marked for the catalogues; translated where it is shown (read.py).
USERS_FIXED = N_(
    "users may not be changed: every structure is measured on the same users."
)

# The TOML type each column's values must have (FORMAT.md section 3).
KINDS: dict[str, dict[str, str]] = {
    "municipalities": {
        "id": "id",
        "name": "text",
        "population": "int",
        "lat": "number",
        "lon": "number",
    },
    "teams": {"id": "id", "name": "text", "kind": "id", "municipalities": "list"},
    "advisors": {
        "id": "id",
        "name": "text",
        "team": "id",
        "employer": "id",
        "base": "id",
        "fte": "number",
        "casework_share": "number",
        "competences": "list",
        "max_municipalities": "int",
        "available": "bool",
    },
    "locks": {"user": "id", "advisor": "id", "kind": "text"},
    "travel": {"from": "id", "to": "id", "km": "number"},
}
EXPECTED = {
    "id": 'an id (a non-empty string without ";")',
    "text": "a string",
    "int": "a whole number",
    "number": "a number",
    "bool": "true or false",
    "list": 'a TOML array of ids (e.g. ["a", "b"]; [] is empty)',
    "extra": "a string, number or boolean",
}


@dataclass(frozen=True)
class TableEntry:
    """One ``[[table]]`` entry: change the row with this key, add it, or
    change every row that ``where`` matches."""

    table: str
    # 1-based position among the file's entries of this table.
    index: int
    # The key columns as written (by key), or None (by where).
    key: Mapping[str, Any] | None
    where: Mapping[str, Any] | None
    # Columns to set, as written.
    values: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{self.table}[{self.index}]"


@dataclass(frozen=True)
class Removal:
    """One ``[[remove]]`` entry: delete the row with this key, or every row
    that ``where`` matches."""

    index: int
    table: str
    key: Mapping[str, Any] | None
    where: Mapping[str, Any] | None

    @property
    def label(self) -> str:
        return f"remove[{self.index}]"


@dataclass(frozen=True)
class Scenario:
    """A scenario file as read and key-checked (FORMAT.md section 6).

    ``id`` is the file's ``name``, else its stem, in NFC: letters and digits
    of any script, ``-`` and ``_`` only, since it names a folder of a
    comparison (``scenario_id_problem``). The changes are kept
    in the order they apply: ``replace`` and the arrays, ``policy``, the table
    entries in the order written, then ``removals``.
    """

    id: str
    description: str
    source: Path
    replace: tuple[str, ...] = ()
    # Array name -> the entries the file gives (host_agreement, routing, ...).
    arrays: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    policy: Mapping[str, Any] = field(default_factory=dict)
    changes: tuple[TableEntry, ...] = ()
    removals: tuple[Removal, ...] = ()
    # SHA-256 of the file's bytes.
    sha256: str = ""

    @property
    def label(self) -> str:
        """The file as messages name it."""
        return str(self.source)
