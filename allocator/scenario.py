"""Scenarios: another structure for the same users (FORMAT.md section 6).

A scenario is a small TOML file of changes to a base instance: host
agreements, routing and competences replaced or appended, policy keys
overridden, rows of the municipalities, teams, advisors, travel and locks
tables changed by key or in bulk by ``where``, added, or removed. The users
never change, so every structure is measured on the same demand.

How an overlay is applied, and why this way: the base instance is turned
back into what its files said (instance.toml as a document, every table as
rows of strings, in the forms the writer uses), the changes are made on
those, and the result goes through the reader's own parse, checks and build
(``allocator.io.read.build_instance``). A changed instance therefore passes
exactly the rules of FORMAT.md sections 1 to 4 that a folder on disk would,
checked by the same code. Problems are then traced back: a cell, row or
array entry the scenario wrote is reported at the scenario file, its entry
(``advisors[2]``) and key; anything else at the base file "with scenario"
named. Nothing is written.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allocator.domain import Instance, Lock
from allocator.errors import InputProblem, InstanceError
from allocator.io.instance_files import (
    cell,
    entities_of,
    instance_doc,
    table_rows,
    travel_rows,
)

# The changed instance is written as an ordinary folder (``allocator scenario``).
from allocator.io.instance_files import write_instance as write_instance
from allocator.io.read import COLUMNS as READ_COLUMNS
from allocator.io.read import (
    TOML,
    TomlProblem,
    build_instance,
    load_toml_text,
    read_config_doc,
)
from allocator.io.tables import Row, Table, normalise_header, parse_list

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
USERS_FIXED = "users may not be changed: every structure is measured on the same users."

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


# --- Reading a scenario file ----------------------------------------------------------


def read_scenario(path: Path) -> Scenario:
    """Read and key-check the scenario file at ``path`` (FORMAT.md section 6).

    Checks the file's structure: known top-level keys (a ``[[users]]`` entry
    or an unknown table is an error), the id's characters, ``replace``
    naming arrays, each table entry giving its row's key or a ``where``
    table, each ``[[remove]]`` naming a table and a key or ``where``. Columns
    and values are checked against the instance by :func:`apply_scenario`.

    Raises
    ------
    InstanceError
        Every problem found, each naming the file, the entry (``advisors[2]``)
        and the key.
    """
    path = Path(path)
    label = str(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        message = f"expected a scenario file (TOML), found none ({err.strerror})."
        raise InstanceError([InputProblem(label, None, None, message)]) from None
    try:
        doc = load_toml_text(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        message = "expected UTF-8 text, found other bytes."
        raise InstanceError([InputProblem(label, None, None, message)]) from None
    except TomlProblem as err:
        # Syntax errors and hostile nesting alike, never a traceback.
        raise InstanceError([InputProblem(label, None, None, str(err))]) from None
    reader = _ScenarioReader(label)
    scenario = Scenario(
        id=reader.scenario_id(doc, path.stem),
        description=reader.text(doc, "description"),
        source=path,
        replace=reader.replace(doc),
        arrays=reader.arrays(doc),
        policy=reader.policy(doc),
        changes=reader.changes(doc),
        removals=reader.removals(doc),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    reader.unknown_keys(doc)
    if reader.problems:
        raise InstanceError(reader.problems)
    return scenario


def _show(value: object) -> str:
    """A TOML value as the file would write it, for messages."""
    if isinstance(value, dict):
        return "a table"
    return json.dumps(value, ensure_ascii=False, default=str)


class _ScenarioReader:
    """Reads the parts of a scenario document, noting each problem."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.problems: list[InputProblem] = []

    def problem(self, key: str | None, message: str) -> None:
        self.problems.append(InputProblem(self.label, None, key, message))

    def unknown_keys(self, doc: Mapping[str, Any]) -> None:
        for key, value in doc.items():
            if key in TOP_KEYS:
                continue
            if key.strip().lower() == "users":
                self.problem(key, USERS_FIXED)
            elif _is_tables(value):
                self.problem(
                    key,
                    f"expected one of the tables {', '.join(TABLES)} or the arrays "
                    f'{", ".join(ARRAYS)}, found unknown table "{key}".',
                )
            else:
                self.problem(
                    key,
                    f"expected one of {', '.join(TOP_KEYS)}, found unknown key "
                    f'"{key}".',
                )

    def scenario_id(self, doc: Mapping[str, Any], stem: str) -> str:
        """``name``, else the file's stem; a folder name, so a restricted id."""
        name = doc.get("name", stem)
        key = "name" if "name" in doc else None
        if isinstance(name, str):
            name = unicodedata.normalize("NFC", name)
        if not isinstance(name, str) or scenario_id_problem(name) is not None:
            given = "name" if key else "the file name without .toml (or name)"
            self.problem(
                key,
                f"expected {given} to be a scenario id of letters (any script, "
                f'such as å, ø, æ), digits, "-" and "_" only (it names a folder), '
                f"found {_show(name)}.",
            )
            return str(name)
        if name.lower() == BASE_ID:
            self.problem(
                key,
                f'expected a scenario id other than "{BASE_ID}", which names the '
                "unchanged instance in a comparison.",
            )
        return name

    def text(self, doc: Mapping[str, Any], key: str) -> str:
        value = doc.get(key, "")
        if isinstance(value, str):
            return value
        self.problem(key, f"expected a string, found {_show(value)}.")
        return ""

    def replace(self, doc: Mapping[str, Any]) -> tuple[str, ...]:
        value = doc.get("replace", [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(
                "replace",
                f"expected a list of array names ({', '.join(ARRAYS)}), found "
                f"{_show(value)}.",
            )
            return ()
        for name in value:
            if name not in ARRAYS:
                self.problem(
                    "replace",
                    f'expected only {", ".join(ARRAYS)}, found "{name}" (tables '
                    "are changed row by row, never replaced).",
                )
        return tuple(v for v in value if v in ARRAYS)

    def arrays(
        self, doc: Mapping[str, Any]
    ) -> dict[str, tuple[Mapping[str, Any], ...]]:
        out: dict[str, tuple[Mapping[str, Any], ...]] = {}
        for name in ARRAYS:
            if name not in doc:
                continue
            value = doc[name]
            if not _is_tables(value):
                self.problem(
                    name,
                    f"expected [[{name}]] entries (an array of tables), found "
                    f"{_show(value)}.",
                )
                continue
            out[name] = tuple(value)
        return out

    def policy(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        value = doc.get("policy", {})
        if not isinstance(value, dict):
            self.problem("policy", f"expected a table [policy], found {_show(value)}.")
            return {}
        return value

    def changes(self, doc: Mapping[str, Any]) -> tuple[TableEntry, ...]:
        """Every table entry, tables in the order the file first names them."""
        entries: list[TableEntry] = []
        for table, value in doc.items():
            if table not in TABLES:
                continue
            if not _is_tables(value):
                self.problem(
                    table,
                    f"expected [[{table}]] entries (an array of tables), found "
                    f"{_show(value)}.",
                )
                continue
            for index, entry in enumerate(value, 1):
                parsed = self.entry(table, index, entry)
                if parsed is not None:
                    entries.append(parsed)
        return tuple(entries)

    def entry(
        self, table: str, index: int, entry: Mapping[str, Any]
    ) -> TableEntry | None:
        where_label = f"{table}[{index}]"
        keys = KEYS[table]
        columns = {k: v for k, v in entry.items() if k != "where"}
        if "where" in entry:
            where = self.where(f"{where_label}.where", entry["where"])
            set_keys = [k for k in keys if _has(columns, k)]
            for name in set_keys:
                self.problem(
                    f"{where_label}.{name}",
                    f'expected no "{name}" in an entry with where (it keys the '
                    "row; remove the row and add a new one instead).",
                )
            if not columns:
                self.problem(
                    where_label,
                    "expected columns to set besides where, found none.",
                )
            if where is None or set_keys or not columns:
                return None
            return TableEntry(table, index, None, where, columns)
        missing = [k for k in keys if not _has(columns, k)]
        if missing:
            named = " and ".join(f'"{k}"' for k in keys)
            self.problem(
                where_label,
                f"expected {named} (the row to change or add) or where (the "
                f"rows to change), found no {' or '.join(missing)}.",
            )
            return None
        key = {k: v for k, v in columns.items() if normalise_header(k) in keys}
        values = {k: v for k, v in columns.items() if normalise_header(k) not in keys}
        return TableEntry(table, index, key, None, values)

    def where(self, key: str, value: object) -> dict[str, Any] | None:
        if isinstance(value, dict) and value:
            return value
        self.problem(
            key,
            "expected a table of column = value to match rows (e.g. where = "
            f'{{ team = "gol-follow_up" }}), found {_show(value)}.',
        )
        return None

    def removals(self, doc: Mapping[str, Any]) -> tuple[Removal, ...]:
        value = doc.get("remove", [])
        if not _is_tables(value):
            self.problem(
                "remove",
                f"expected [[remove]] entries (an array of tables), found "
                f"{_show(value)}.",
            )
            return ()
        out: list[Removal] = []
        for index, entry in enumerate(value, 1):
            removal = self.removal(index, entry)
            if removal is not None:
                out.append(removal)
        return tuple(out)

    def removal(self, index: int, entry: Mapping[str, Any]) -> Removal | None:
        label = f"remove[{index}]"
        table = entry.get("table")
        if isinstance(table, str) and table.strip().lower() == "users":
            self.problem(f"{label}.table", USERS_FIXED)
            return None
        if table not in TABLES:
            extra = ""
            if table in ARRAYS:
                extra = f' ([[{table}]] entries are ended with replace = ["{table}"])'
            self.problem(
                f"{label}.table",
                f"expected one of {', '.join(TABLES)}, found {_show(table)}{extra}.",
            )
            return None
        keys = KEYS[table]
        allowed = ("table", "where", *keys)
        for key in entry:
            if key not in allowed:
                self.problem(
                    f"{label}.{key}",
                    f'expected only {", ".join(allowed)}, found unknown key "{key}".',
                )
        has_key = [k for k in keys if k in entry]
        if "where" in entry and has_key:
            self.problem(label, f"expected {' and '.join(keys)} or where, found both.")
            return None
        if "where" in entry:
            where = self.where(f"{label}.where", entry["where"])
            return None if where is None else Removal(index, table, None, where)
        if len(has_key) != len(keys):
            named = " and ".join(f'"{k}"' for k in keys)
            self.problem(label, f"expected {named} or where (the rows to remove).")
            return None
        return Removal(index, table, {k: entry[k] for k in keys}, None)


def _is_tables(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def _has(columns: Mapping[str, Any], key: str) -> bool:
    return any(normalise_header(k) == key for k in columns)


def scenario_id_problem(name: str) -> str | None:
    """What ``name`` lacks to be a scenario id, or None when it is one.

    An id is non-empty, at most ``ID_MAX_BYTES`` bytes in UTF-8, and holds
    only letters and digits (``str.isalnum``, any script: "Flå", "Ål-Hol"),
    combining marks after them, ``-`` and ``_``. Compare ``name`` in NFC.
    """
    if not name:
        return "not empty"
    if len(name.encode("utf-8")) > ID_MAX_BYTES:
        return f"at most {ID_MAX_BYTES} bytes long"
    for position, char in enumerate(name):
        mark = position > 0 and unicodedata.category(char).startswith("M")
        if not (char.isalnum() or char in ID_PUNCTUATION or mark):
            return f"letters, digits, - and _ only (found {char!r})"
    return None


def folder_key(scenario_id: str) -> str:
    """The form under which two ids would share one folder.

    The folder of a structure is its id in NFC; a file system that ignores
    case (Windows, macOS) or normalises Unicode would put "Ål" and "ål", or
    a composed and a decomposed "å", in one folder, so ids are compared in
    NFC, case-folded.
    """
    return unicodedata.normalize("NFC", scenario_id).casefold()


# --- Finding scenario files -----------------------------------------------------------


def scenario_files(instance_folder: Path) -> list[Path]:
    """The scenario files in ``instance_folder/scenarios/``, sorted by name."""
    folder = Path(instance_folder) / "scenarios"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix == ".toml")


def find_scenario(instance_folder: Path, given: str | Path) -> Path:
    """The scenario file ``given`` names: a path, else an id in ``scenarios/``.

    ``allocator scenario instances/hallingdal E`` finds
    ``instances/hallingdal/scenarios/E.toml``; a path that exists wins.

    Raises
    ------
    InstanceError
        When it is neither, listing the ids the folder has.
    """
    path = Path(given)
    if path.is_file():
        return path
    candidate = Path(instance_folder) / "scenarios" / f"{given}.toml"
    if candidate.is_file():
        return candidate
    known = ", ".join(p.stem for p in scenario_files(instance_folder)) or "none"
    message = (
        f"expected a scenario file, or the id of one in {candidate.parent}, "
        f"found neither (ids there: {known})."
    )
    raise InstanceError([InputProblem(str(given), None, None, message)])


# --- Applying a scenario --------------------------------------------------------------


def apply_scenario(instance: Instance, scenario: Scenario | str | Path) -> Instance:
    """The instance with the scenario's changes applied; writes nothing.

    Parameters
    ----------
    instance
        The base, as :func:`allocator.read_instance` returns it.
    scenario
        A :class:`Scenario` or the path of a scenario file.

    Returns
    -------
    Instance
        Named ``<base name>-<scenario id>``, described by the scenario's
        description (else the base's), with the same users, files and extra
        columns, and an ``input_sha256`` over the base's and the scenario's.

    Raises
    ------
    InstanceError
        When the scenario cannot be applied (an unknown table, column or id; a
        ``where`` that matches no row; a new row without a required column; a
        removed team that still has advisors, named) or the changed instance
        breaks any rule of FORMAT.md sections 1 to 4. Problems the scenario
        caused name its file, entry and key; the others name the base file
        "with scenario" and the file.

    The changes apply in the order FORMAT.md section 6 gives: ``replace`` (and
    the arrays), ``[policy]`` key by key, the tables in the order written,
    then ``[[remove]]``.
    """
    if not isinstance(scenario, Scenario):
        scenario = read_scenario(Path(scenario))
    overlay = _Overlay(instance, scenario)
    overlay.apply_arrays()
    overlay.apply_policy()
    for entry in scenario.changes:
        overlay.apply_entry(entry)
    for removal in scenario.removals:
        overlay.apply_removal(removal)
    overlay.check_removed_references()
    if overlay.problems:
        raise InstanceError(_unique(overlay.problems))
    problems: list[InputProblem] = []
    config = read_config_doc(overlay.doc, problems, overlay.doc["name"])
    digest = hashlib.sha256(
        f"{instance.input_sha256}:{scenario.sha256}".encode()
    ).hexdigest()
    try:
        changed = build_instance(
            config,
            overlay.tables(),
            problems,
            extra_locks=overlay.extra_locks,
            sha256=digest,
            warn_unknown_columns=False,
        )
        check_fix_locks(changed)
    except InstanceError as err:
        raise InstanceError(_unique(overlay.locate(err.problems))) from None
    return changed


def check_fix_locks(instance: Instance) -> None:
    """A fix lock must hold under rules 1 to 6 (FORMAT.md section 4).

    The reader cannot see this (it needs capacity, authority and routing), so
    the model's own check runs here: a new structure can break a lock the
    base kept (the fixed advisor loses a competence, moves team, loses
    authority). Skipped when there is no fix lock, since it builds the
    model's problem. Raises InstanceError naming the lock.
    """
    if not any(lock.kind == "fix" for lock in instance.locks):
        return
    from allocator.engine.problem import build_problem

    build_problem(instance)


def _unique(problems: Sequence[InputProblem]) -> list[InputProblem]:
    """Problems without repeats (a bulk change can break one rule on many rows)."""
    seen: set[tuple[str, int | None, str | None, str]] = set()
    out = []
    for p in problems:
        key = (p.file, p.row, p.column, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


@dataclass
class _Rows:
    """One table as rows of strings while the scenario changes it."""

    name: str
    label: str
    # Normalised column names, and their spelling as the file wrote them.
    header: list[str]
    spelling: list[str]
    rows: list[Row]
    # Whether row numbers are the file's (travel's are made up here).
    numbered_by_file: bool

    def next_number(self) -> int:
        return max((r.number for r in self.rows), default=1) + 1


def _base_rows(instance: Instance, table: str) -> _Rows:
    """A table of the instance as the rows of strings its file held."""
    label = instance.files.get(table, f"{table}.csv")
    if table == "travel":
        header = ["from", "to", "km"]
        raw = [[cell(v) for v in row] for row in travel_rows(instance)]
        numbers = list(range(2, len(raw) + 2))
        by_file = False
    else:
        entities = list(entities_of(instance, table))
        if table == "locks":
            entities = [
                e for e in entities if isinstance(e, Lock) and e.source == label
            ]
        header, raw = table_rows(instance, table, entities)
        numbers = [int(getattr(e, "row", 0)) for e in entities]
        by_file = len(set(numbers)) == len(numbers) and all(n >= 2 for n in numbers)
        if not by_file:
            numbers = list(range(2, len(raw) + 2))
    spelling = list(header)
    normal = [normalise_header(c) for c in header]
    rows = [
        Row(number, dict(zip(normal, values, strict=True)))
        for number, values in zip(numbers, raw, strict=True)
    ]
    return _Rows(table, label, normal, spelling, rows, by_file)


class _Overlay:
    """The base instance as a document and rows of strings, being changed.

    Remembers where every change came from, so that a problem the reader
    finds afterwards can be reported at the scenario's entry and key.
    """

    def __init__(self, instance: Instance, scenario: Scenario) -> None:
        self.instance = instance
        self.scenario = scenario
        self.problems: list[InputProblem] = []
        self.doc = instance_doc(instance)
        self.doc["name"] = f"{instance.name}-{scenario.id}"
        if scenario.description:
            self.doc["description"] = scenario.description
        # Array -> for each entry, the scenario's index (None: from the base).
        self.array_origin: dict[str, list[int | None]] = {
            name: [None] * len(self.doc[name]) for name in ARRAYS
        }
        # Policy keys the scenario set, as reader paths (policy.weights.travel).
        self.policy_paths: set[str] = set()
        self.tables_: dict[str, _Rows] = {
            t: _base_rows(instance, t) for t in ("municipalities", "teams", "advisors")
        }
        self.tables_["users"] = _base_rows(instance, "users")
        if instance.travel or "travel" in instance.files:
            self.tables_["travel"] = _base_rows(instance, "travel")
        locks = _base_rows(instance, "locks")
        if locks.rows or "locks" in instance.files:
            self.tables_["locks"] = locks
        self.extra_locks = [
            lock for lock in instance.locks if lock.source != locks.label
        ]
        # (table, row number, column) -> (entry label, key) for each cell set.
        self.changed: dict[tuple[str, int, str], tuple[str, str]] = {}
        # (table, row number) -> entry label, for rows the scenario added.
        self.added: dict[tuple[str, int], str] = {}
        # Removed team and municipality ids -> the removal that took them.
        self.removed: dict[tuple[str, str], Removal] = {}

    def problem(self, key: str, message: str) -> None:
        self.problems.append(InputProblem(self.scenario.label, None, key, message))

    # --- replace, arrays and policy ---

    def apply_arrays(self) -> None:
        """``replace`` empties the named arrays; the file's entries are appended."""
        for name in ARRAYS:
            given = [copy.deepcopy(dict(e)) for e in self.scenario.arrays.get(name, ())]
            if name in self.scenario.replace:
                self.doc[name] = []
                self.array_origin[name] = []
            self.doc[name] = [*self.doc[name], *given]
            self.array_origin[name] += list(range(1, len(given) + 1))

    def apply_policy(self) -> None:
        """[policy] keys override the base's; weights and per-kind key by key."""
        policy = self.doc["policy"]
        for key, value in self.scenario.policy.items():
            base = policy.get(key)
            if (
                key in POLICY_TABLES
                and isinstance(value, dict)
                and isinstance(base, dict)
            ):
                for sub, sub_value in value.items():
                    base[sub] = sub_value
                    self.policy_paths.add(f"policy.{key}.{sub}")
            else:
                policy[key] = copy.deepcopy(value)
                self.policy_paths.add(f"policy.{key}")

    # --- table entries ---

    def table(self, name: str) -> _Rows:
        """The table, created empty when the base has none (travel, locks)."""
        if name not in self.tables_:
            header = list(READ_COLUMNS[name].required + READ_COLUMNS[name].optional)
            self.tables_[name] = _Rows(
                name, f"{name}.csv", header, list(header), [], name != "travel"
            )
        return self.tables_[name]

    def column_kind(self, rows: _Rows, column: str) -> str | None:
        """The value type of a column, "extra" for a carried one, None if unknown."""
        if column in KINDS[rows.name]:
            return KINDS[rows.name][column]
        return "extra" if column in rows.header else None

    def canonical(
        self, rows: _Rows, key: str, column: str, value: object
    ) -> str | None:
        """A scenario value as the cell text the writer would give it.

        Notes a problem (at ``key``) and returns None when the column is
        unknown or the value is not of the column's type. An empty string
        clears an optional cell (the column's default).
        """
        kind = self.column_kind(rows, column)
        if kind is None:
            self.problem(
                key,
                f"expected a column of {rows.label} "
                f'({", ".join(rows.spelling)}), found unknown column "{column}".',
            )
            return None
        required = column in READ_COLUMNS[rows.name].required
        if value == "" and not required:
            return ""
        text = _cell_of(kind, value)
        if text is None:
            self.problem(key, f"expected {EXPECTED[kind]}, found {_show(value)}.")
        return text

    def canonical_all(
        self, rows: _Rows, label: str, values: Mapping[str, Any]
    ) -> dict[str, str] | None:
        out: dict[str, str] = {}
        failed = False
        for key, value in values.items():
            column = normalise_header(key)
            text = self.canonical(rows, f"{label}.{key}", column, value)
            if text is None:
                failed = True
            else:
                out[column] = text
        return None if failed else out

    def matches(self, rows: _Rows, row: Row, where: Mapping[str, str]) -> bool:
        """Whether the row's cells equal every value of ``where``."""
        for column, wanted in where.items():
            have = row.cells.get(column, "")
            if KINDS[rows.name].get(column) == "list":
                if set(parse_list(have)) != set(parse_list(wanted)):
                    return False
            elif have.strip() != wanted.strip():
                return False
        return True

    def keyed(self, rows: _Rows, key: Mapping[str, str]) -> list[Row]:
        """The rows with this key; travel's pair matches either way round."""
        if rows.name == "travel":
            pair = {key["from"], key["to"]}
            return [
                r for r in rows.rows if {r.cells.get("from"), r.cells.get("to")} == pair
            ]
        return [r for r in rows.rows if self.matches(rows, r, key)]

    def apply_entry(self, entry: TableEntry) -> None:
        """Change the keyed row, add it, or change every row ``where`` matches."""
        rows = self.table(entry.table)
        label = entry.label
        values = self.canonical_all(rows, label, entry.values)
        if entry.where is not None:
            where = self.canonical_all(rows, f"{label}.where", entry.where)
            if values is None or where is None:
                return
            hits = [r for r in rows.rows if self.matches(rows, r, where)]
            if not hits:
                shown = ", ".join(f"{k} = {_show(v)}" for k, v in entry.where.items())
                self.problem(
                    f"{label}.where",
                    f"expected a where that matches rows of {rows.label}, found "
                    f"none with {shown} (a typo would silently change nothing).",
                )
                return
            for row in hits:
                self.set_cells(rows, row, values, label, entry.values)
            return
        assert entry.key is not None
        key = self.canonical_all(rows, label, entry.key)
        if values is None or key is None:
            return
        hits = self.keyed(rows, key)
        if hits:
            if not values:
                self.problem(
                    label,
                    f"expected columns to change for the row {_key_text(key)} of "
                    f"{rows.label}, found only its key.",
                )
            for row in hits:
                self.set_cells(rows, row, values, label, entry.values)
            return
        self.add_row(rows, entry, key, values)

    def set_cells(
        self,
        rows: _Rows,
        row: Row,
        values: Mapping[str, str],
        label: str,
        written: Mapping[str, Any],
    ) -> None:
        spelled = {normalise_header(k): k for k in written}
        for column, text in values.items():
            row.cells[column] = text
            self.changed[rows.name, row.number, column] = (label, spelled[column])

    def add_row(
        self,
        rows: _Rows,
        entry: TableEntry,
        key: Mapping[str, str],
        values: Mapping[str, str],
    ) -> None:
        """A new row: every required column must be given."""
        given = {**key, **values}
        required = READ_COLUMNS[rows.name].required
        missing = [c for c in required if c not in given]
        if missing:
            listed = ", ".join(missing)
            self.problem(
                entry.label,
                f"expected the key of a row of {rows.label}, or every required "
                f"column for a new row; {_key_text(key)} is no row there, and a "
                f"new row lacks {listed}.",
            )
            return
        number = rows.next_number()
        rows.rows.append(Row(number, {c: given.get(c, "") for c in rows.header}))
        self.added[rows.name, number] = entry.label
        for column in given:
            self.changed[rows.name, number, column] = (entry.label, column)

    # --- removals ---

    def apply_removal(self, removal: Removal) -> None:
        rows = self.table(removal.table)
        label = removal.label
        if removal.where is not None:
            where = self.canonical_all(rows, f"{label}.where", removal.where)
            if where is None:
                return
            hits = [r for r in rows.rows if self.matches(rows, r, where)]
            shown = ", ".join(f"{k} = {_show(v)}" for k, v in removal.where.items())
            key_name = f"{label}.where"
        else:
            assert removal.key is not None
            key = self.canonical_all(rows, label, removal.key)
            if key is None:
                return
            hits = self.keyed(rows, key)
            shown = _key_text(key)
            key_name = f"{label}.{KEYS[removal.table][0]}"
        if not hits:
            self.problem(
                key_name,
                f"expected a row of {rows.label} to remove, found none with {shown}.",
            )
            return
        for row in hits:
            rows.rows.remove(row)
            if removal.table in ("teams", "municipalities"):
                self.removed[removal.table, row.cells["id"]] = removal

    def check_removed_references(self) -> None:
        """A removed team or municipality is named by nothing that remains.

        Users cannot be changed, so a municipality where users live cannot
        go; advisors must be moved out of a team before it is removed.
        """
        advisors = self.table("advisors").rows
        teams = self.table("teams").rows
        users = self.table("users").rows
        for (table, ident), removal in self.removed.items():
            if table == "teams":
                names = [
                    a.cells["id"] for a in advisors if a.cells.get("team") == ident
                ]
                if names:
                    self.problem(
                        removal.label,
                        f'expected team "{ident}" to have no advisors when it is '
                        f"removed, found {_listing(names)} still in it; move them "
                        f'first ([[advisors]] where = {{ team = "{ident}" }}).',
                    )
                continue
            living = sum(1 for u in users if u.cells.get("municipality") == ident)
            if living:
                self.problem(
                    removal.label,
                    f'expected no users in municipality "{ident}" when it is '
                    f"removed, found {living}; {USERS_FIXED}",
                )
            names = [
                a.cells["id"]
                for a in advisors
                if ident in (a.cells.get("employer"), a.cells.get("base"))
            ]
            names += [
                t.cells["id"]
                for t in teams
                if ident in parse_list(t.cells.get("municipalities", ""))
            ]
            if names:
                self.problem(
                    removal.label,
                    f'expected nothing to name municipality "{ident}" when it is '
                    f"removed, found {_listing(names)} (advisors' employer or base, "
                    "teams' municipalities); change them first.",
                )

    # --- into the reader, and problems back to the scenario ---

    def tables(self) -> dict[str, Table]:
        return {
            name: Table(
                label=rows.label,
                header=list(rows.header),
                spelling=list(rows.spelling),
                rows=list(rows.rows),
                decimal_comma=False,
            )
            for name, rows in self.tables_.items()
        }

    def locate(self, problems: Sequence[InputProblem]) -> list[InputProblem]:
        """Each problem at the scenario entry that caused it, else "with scenario".

        The scenario's own come first, in the order its changes apply.
        """
        located = [self.origin(p) for p in problems]
        order: dict[str, int] = {"replace": 0}
        for name in ARRAYS:
            for i in range(1, len(self.scenario.arrays.get(name, ())) + 1):
                order[f"{name}[{i}]"] = len(order)
        order["policy"] = len(order)
        for entry in self.scenario.changes:
            order[entry.label] = len(order)
        for removal in self.scenario.removals:
            order[removal.label] = len(order)

        def rank(p: InputProblem) -> tuple[int, int]:
            if p.file != self.scenario.label:
                return (1, 0)
            entry = (p.column or "").split(".")[0]
            return (0, order.get(entry, len(order)))

        return sorted(located, key=rank)

    def origin(self, p: InputProblem) -> InputProblem:
        here = self.scenario.label
        if not p.file:  # the closing "... and N more problems" line
            return p
        by_label = {rows.label: rows for rows in self.tables_.values()}
        rows = by_label.get(p.file)
        if rows is not None and p.row is not None:
            if p.column and (rows.name, p.row, p.column) in self.changed:
                entry, key = self.changed[rows.name, p.row, p.column]
                return InputProblem(here, None, f"{entry}.{key}", p.message)
            if (rows.name, p.row) in self.added:
                entry = self.added[rows.name, p.row]
                key = f"{entry}.{p.column}" if p.column else entry
                return InputProblem(here, None, key, p.message)
            row = p.row if rows.numbered_by_file else None
            return InputProblem(
                f"{p.file} with scenario {here}", row, p.column, p.message
            )
        if p.file == TOML and p.column:
            located = self.toml_origin(p.column)
            if located is not None:
                return InputProblem(here, None, located, p.message)
        return InputProblem(
            f"{p.file} with scenario {here}", p.row, p.column, p.message
        )

    def toml_origin(self, column: str) -> str | None:
        """The scenario's key for an instance.toml key it wrote, else None."""
        match = re.fullmatch(r"([a-z_]+)\[(\d+)\](.*)", column)
        if match and match.group(1) in ARRAYS:
            name, index, rest = match.group(1), int(match.group(2)), match.group(3)
            origins = self.array_origin[name]
            if 1 <= index <= len(origins) and origins[index - 1] is not None:
                return f"{name}[{origins[index - 1]}]{rest}"
            return None
        if column in ARRAYS and column in self.scenario.replace:
            return "replace"
        parts = column.split(".")
        for end in range(len(parts), 1, -1):
            if ".".join(parts[:end]) in self.policy_paths:
                return column
        return None


def _listing(ids: Sequence[str], most: int = 20) -> str:
    shown = ", ".join(ids[:most])
    return shown + (f" and {len(ids) - most} more" if len(ids) > most else "")


def _key_text(key: Mapping[str, str]) -> str:
    return ", ".join(f'{k} = "{v}"' for k, v in key.items())


def _cell_of(kind: str, value: object) -> str | None:
    """A TOML value of the column's kind as its canonical cell, else None."""
    if kind == "id":
        if isinstance(value, str) and value.strip() and ";" not in value:
            return cell(value.strip())
        return None
    if kind == "text":
        return cell(value) if isinstance(value, str) else None
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return str(value) if ok else None
    if kind == "number":
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
        ):
            return cell(float(value))
        return None
    if kind == "bool":
        return cell(value) if isinstance(value, bool) else None
    if kind == "list":
        if isinstance(value, list) and all(
            isinstance(v, str) and v.strip() and ";" not in v for v in value
        ):
            return cell(tuple(v.strip() for v in value))
        return None
    # A carried (unknown) column holds text as written.
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return cell(value)
    return None
