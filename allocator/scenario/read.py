"""Reading a scenario file: the TOML checked key by key into a Scenario, every
problem located at the file, its entry and key.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from allocator.errors import InputProblem, InstanceError
from allocator.i18n import _
from allocator.io.read import TomlProblem, load_toml_text
from allocator.io.tables import normalise_header
from allocator.scenario.model import (
    ARRAYS,
    BASE_ID,
    ID_MAX_BYTES,
    ID_PUNCTUATION,
    KEYS,
    TABLES,
    TOP_KEYS,
    USERS_FIXED,
    Removal,
    Scenario,
    TableEntry,
)


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
        message = _("expected a scenario file (TOML), found none ({error}).").format(
            error=err.strerror
        )
        raise InstanceError([InputProblem(label, None, None, message)]) from None
    try:
        doc = load_toml_text(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        message = _("expected UTF-8 text, found other bytes.")
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
                self.problem(key, _(USERS_FIXED))
            elif _is_tables(value):
                self.problem(
                    key,
                    _(
                        "expected one of the tables {tables} or the arrays "
                        '{arrays}, found unknown table "{key}".'
                    ).format(
                        tables=", ".join(TABLES), arrays=", ".join(ARRAYS), key=key
                    ),
                )
            else:
                self.problem(
                    key,
                    _('expected one of {keys}, found unknown key "{key}".').format(
                        keys=", ".join(TOP_KEYS), key=key
                    ),
                )

    def scenario_id(self, doc: Mapping[str, Any], stem: str) -> str:
        """``name``, else the file's stem; a folder name, so a restricted id."""
        name = doc.get("name", stem)
        key = "name" if "name" in doc else None
        if isinstance(name, str):
            name = unicodedata.normalize("NFC", name)
        if not isinstance(name, str) or scenario_id_problem(name) is not None:
            given = "name" if key else _("the file name without .toml (or name)")
            self.problem(
                key,
                _(
                    "expected {given} to be a scenario id of letters (any script, "
                    'such as å, ø, æ), digits, "-" and "_" only (it names a folder), '
                    "found {found}."
                ).format(given=given, found=_show(name)),
            )
            return str(name)
        if name.lower() == BASE_ID:
            self.problem(
                key,
                _(
                    'expected a scenario id other than "{base}", which names the '
                    "unchanged instance in a comparison."
                ).format(base=BASE_ID),
            )
        return name

    def text(self, doc: Mapping[str, Any], key: str) -> str:
        value = doc.get(key, "")
        if isinstance(value, str):
            return value
        self.problem(
            key, _("expected a string, found {found}.").format(found=_show(value))
        )
        return ""

    def replace(self, doc: Mapping[str, Any]) -> tuple[str, ...]:
        value = doc.get("replace", [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(
                "replace",
                _("expected a list of array names ({arrays}), found {found}.").format(
                    arrays=", ".join(ARRAYS), found=_show(value)
                ),
            )
            return ()
        for name in value:
            if name not in ARRAYS:
                self.problem(
                    "replace",
                    _(
                        'expected only {arrays}, found "{name}" (tables '
                        "are changed row by row, never replaced)."
                    ).format(arrays=", ".join(ARRAYS), name=name),
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
                    _(
                        "expected [[{name}]] entries (an array of tables), found "
                        "{found}."
                    ).format(name=name, found=_show(value)),
                )
                continue
            out[name] = tuple(value)
        return out

    def policy(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        value = doc.get("policy", {})
        if not isinstance(value, dict):
            self.problem(
                "policy",
                _("expected a table [policy], found {found}.").format(
                    found=_show(value)
                ),
            )
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
                    _(
                        "expected [[{name}]] entries (an array of tables), found "
                        "{found}."
                    ).format(name=table, found=_show(value)),
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
                    _(
                        'expected no "{name}" in an entry with where (it keys the '
                        "row; remove the row and add a new one instead)."
                    ).format(name=name),
                )
            if not columns:
                self.problem(
                    where_label,
                    _("expected columns to set besides where, found none."),
                )
            if where is None or set_keys or not columns:
                return None
            return TableEntry(table, index, None, where, columns)
        missing = [k for k in keys if not _has(columns, k)]
        if missing:
            named = _(" and ").join(f'"{k}"' for k in keys)
            self.problem(
                where_label,
                _(
                    "expected {named} (the row to change or add) or where (the "
                    "rows to change), found no {missing}."
                ).format(named=named, missing=_(" or ").join(missing)),
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
            _(
                "expected a table of column = value to match rows (e.g. where = "
                '{{ team = "gol-follow_up" }}), found {found}.'
            ).format(found=_show(value)),
        )
        return None

    def removals(self, doc: Mapping[str, Any]) -> tuple[Removal, ...]:
        value = doc.get("remove", [])
        if not _is_tables(value):
            self.problem(
                "remove",
                _(
                    "expected [[{name}]] entries (an array of tables), found "
                    "{found}."
                ).format(name="remove", found=_show(value)),
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
            self.problem(f"{label}.table", _(USERS_FIXED))
            return None
        if table not in TABLES:
            extra = ""
            if table in ARRAYS:
                extra = _(
                    ' ([[{table}]] entries are ended with replace = ["{table}"])'
                ).format(table=table)
            self.problem(
                f"{label}.table",
                _("expected one of {tables}, found {found}{extra}.").format(
                    tables=", ".join(TABLES), found=_show(table), extra=extra
                ),
            )
            return None
        keys = KEYS[table]
        allowed = ("table", "where", *keys)
        for key in entry:
            if key not in allowed:
                self.problem(
                    f"{label}.{key}",
                    _('expected only {keys}, found unknown key "{key}".').format(
                        keys=", ".join(allowed), key=key
                    ),
                )
        has_key = [k for k in keys if k in entry]
        if "where" in entry and has_key:
            self.problem(
                label,
                _("expected {keys} or where, found both.").format(
                    keys=_(" and ").join(keys)
                ),
            )
            return None
        if "where" in entry:
            where = self.where(f"{label}.where", entry["where"])
            return None if where is None else Removal(index, table, None, where)
        if len(has_key) != len(keys):
            named = _(" and ").join(f'"{k}"' for k in keys)
            self.problem(
                label,
                _("expected {named} or where (the rows to remove).").format(
                    named=named
                ),
            )
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
        return _("not empty")
    if len(name.encode("utf-8")) > ID_MAX_BYTES:
        return _("at most {most} bytes long").format(most=ID_MAX_BYTES)
    for position, char in enumerate(name):
        mark = position > 0 and unicodedata.category(char).startswith("M")
        if not (char.isalnum() or char in ID_PUNCTUATION or mark):
            return _("letters, digits, - and _ only (found {char})").format(
                char=repr(char)
            )
    return None


def folder_key(scenario_id: str) -> str:
    """The form under which two ids would share one folder.

    The folder of a structure is its id in NFC; a file system that ignores
    case (Windows, macOS) or normalises Unicode would put "Ål" and "ål", or
    a composed and a decomposed "å", in one folder, so ids are compared in
    NFC, case-folded.
    """
    return unicodedata.normalize("NFC", scenario_id).casefold()
