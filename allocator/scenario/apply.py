"""Applying a scenario: the changes made on the base's rows, then the reader's
own checks and build, and problems traced back to the scenario file.
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
from allocator.io.read import COLUMNS as READ_COLUMNS
from allocator.io.read import TOML, build_instance, read_config_doc
from allocator.io.tables import Row, Table, normalise_header, parse_list
from allocator.scenario.model import (
    ARRAYS,
    EXPECTED,
    KEYS,
    KINDS,
    POLICY_TABLES,
    USERS_FIXED,
    Removal,
    Scenario,
    TableEntry,
)
from allocator.scenario.read import _show, read_scenario


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
