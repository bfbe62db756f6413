"""Write an Instance back out as an ordinary instance folder (FORMAT.md section 1).

The same text serves three callers: the synthetic generator and
``instances/build.py`` (which must write byte-identical files from one seed),
``allocator scenario`` (a changed instance that every other command can read),
and the scenario overlay, which turns an instance back into rows of strings
so that the reader's own checks run on the changed tables.

Cells are written in the reader's canonical forms: lists ``;``-joined,
booleans ``true``/``false``, dates ``YYYY-MM-DD``, numbers without trailing
zeros. Text that a spreadsheet would run as a formula gets a leading ``'``
(FORMAT.md section 5), which the reader strips again. Unknown columns are
carried after the format's columns exactly as they were read.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from allocator.domain import Instance, Policy, RoutingRule
from allocator.errors import InputProblem, InstanceError
from allocator.io.write import neutralise, write_folder

# The format's columns of every table, in the order FORMAT.md lists them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "municipalities": ("id", "name", "population", "lat", "lon"),
    "teams": ("id", "name", "kind", "municipalities"),
    "advisors": (
        "id",
        "name",
        "team",
        "employer",
        "base",
        "fte",
        "casework_share",
        "competences",
        "max_municipalities",
        "available",
    ),
    "users": (
        "id",
        "municipality",
        "age",
        "children",
        "needs",
        "status",
        "urgent",
        "weight",
        "current_advisor",
        "since",
        "household",
        "prefer_non_local",
    ),
    "locks": ("user", "advisor", "kind"),
    "travel": ("from", "to", "km"),
}
# Every file an instance folder written here may hold.
FILE_NAMES = frozenset({"instance.toml", *(f"{table}.csv" for table in COLUMNS)})


def cell(value: object) -> str:
    """One CSV cell as the reader reads it: lists ``;``-joined, true/false.

    Floats are rounded to 6 decimals (the format's precision is far
    coarser); formula-like text gets a leading ``'``.
    """
    if isinstance(value, str):
        return neutralise(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(round(value, 6))
    if isinstance(value, (tuple, list)):
        return neutralise(";".join(str(v) for v in value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """UTF-8 CSV text, ``,``-delimited, ``\\n`` line ends (stable across platforms)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def toml_value(value: object) -> str:
    """A TOML literal for the few value types an instance.toml holds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        escaped = []
        for char in value:
            if char in '"\\':
                escaped.append("\\" + char)
            elif ord(char) < 0x20 or ord(char) == 0x7F:
                escaped.append(f"\\u{ord(char):04x}")
            else:
                escaped.append(char)
        return '"' + "".join(escaped) + '"'
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


# Policy keys added after the first format: written only when not at their
# default, so that folders written before they existed stay byte-identical.
OPTIONAL_POLICY: tuple[str, ...] = ("travel_speed_kmh",)


def instance_toml(instance: Instance) -> str:
    """The text of instance.toml, keys in the format's order (FORMAT.md 2)."""
    lines = [f"name = {toml_value(instance.name)}"]
    if instance.description:
        lines.append(f"description = {toml_value(instance.description)}")
    if instance.week:
        lines.append(f"week = {toml_value(instance.week)}")
    policy = instance.policy
    lines += ["", "[policy]"]
    for key in Policy.model_fields:
        value = getattr(policy, key)
        if key in OPTIONAL_POLICY and value == Policy.model_fields[key].default:
            continue
        if key not in ("cases_per_fte_by_kind", "weights"):
            lines.append(f"{key} = {toml_value(value)}")
    if policy.cases_per_fte_by_kind:
        lines += ["", "[policy.cases_per_fte_by_kind]"]
        lines += [
            f"{kind} = {toml_value(v)}"
            for kind, v in policy.cases_per_fte_by_kind.items()
        ]
    lines += ["", "[policy.weights]"]
    lines += [
        f"{key} = {toml_value(getattr(policy.weights, key))}"
        for key in type(policy.weights).model_fields
    ]
    for competence in instance.competences:
        lines += ["", "[[competence]]", f"id = {toml_value(competence.id)}"]
        if competence.name:
            lines.append(f"name = {toml_value(competence.name)}")
        if competence.municipal_authority:
            lines.append("municipal_authority = true")
    for agreement in instance.host_agreements:
        lines += [
            "",
            "[[host_agreement]]",
            f"host = {toml_value(agreement.host)}",
            f"members = {toml_value(agreement.members)}",
        ]
    for rule in instance.routing:
        lines += ["", "[[routing]]"]
        lines += [
            f"{key} = {toml_value(getattr(rule, key))}"
            for key in RoutingRule.model_fields
            if getattr(rule, key) is not None
        ]
    return "\n".join(lines) + "\n"


def instance_doc(instance: Instance) -> dict[str, Any]:
    """instance.toml's content as a parsed TOML document (plain dicts and lists).

    The policy is written out in full (every key, defaults included), so a
    document made from an instance built in code says what that instance does.
    """
    doc: dict[str, Any] = {"name": instance.name, "description": instance.description}
    if instance.week:
        doc["week"] = instance.week
    doc["policy"] = instance.policy.model_dump()
    doc["competence"] = [c.model_dump() for c in instance.competences]
    doc["host_agreement"] = [
        {"host": a.host, "members": list(a.members)} for a in instance.host_agreements
    ]
    doc["routing"] = [
        {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in rule.model_dump(exclude_none=True).items()
        }
        for rule in instance.routing
    ]
    return doc


def entities_of(instance: Instance, table: str) -> Sequence[object]:
    """The entities of one table (users, advisors, ...) in input order."""
    return cast(Sequence[object], getattr(instance, table))


def table_rows(
    instance: Instance, table: str, entities: Sequence[object] | None = None
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a table as strings, extra columns after the format's.

    ``entities`` defaults to the instance's own. Not for ``travel``, whose
    rows are ``travel_rows``.
    """
    if entities is None:
        entities = entities_of(instance, table)
    extra = list(instance.extra_columns.get(table, ()))
    header = [*COLUMNS[table], *extra]
    rows = []
    for entity in entities:
        values = [cell(getattr(entity, c)) for c in COLUMNS[table]]
        carried = cast(dict[str, str], getattr(entity, "extra", {}))
        # Unknown columns are carried exactly as read.
        rows.append(values + [carried.get(c, "") for c in extra])
    return header, rows


def travel_rows(instance: Instance) -> list[tuple[str, str, float]]:
    """Each unordered pair of the travel table once, in municipality order."""
    order = {m.id: i for i, m in enumerate(instance.municipalities)}
    seen: set[tuple[str, str]] = set()
    rows = []
    for (a, b), km in instance.travel.items():
        first, second = sorted((a, b), key=lambda m: (order.get(m, len(order)), m))
        if (first, second) not in seen:
            seen.add((first, second))
            rows.append((first, second, km))
    rows.sort(key=lambda r: (order.get(r[0], 0), order.get(r[1], 0)))
    return rows


def instance_files(instance: Instance) -> dict[str, str]:
    """File name -> text of every file of the instance's folder.

    locks.csv and travel.csv are present only when the instance has locks
    or road distances.
    """
    files = {"instance.toml": instance_toml(instance)}
    for table in ("municipalities", "teams", "advisors", "users", "locks"):
        if table == "locks" and not instance.locks:
            continue
        files[f"{table}.csv"] = csv_text(*table_rows(instance, table))
    pairs = travel_rows(instance)
    if pairs:
        files["travel.csv"] = csv_text(
            COLUMNS["travel"], [[cell(v) for v in pair] for pair in pairs]
        )
    return files


def write_instance_files(folder: Path, instance: Instance) -> None:
    """Write the folder's files in place, removing a stale locks.csv or travel.csv.

    For the generator and ``instances/build.py``, which rewrite their own
    folders (other files there, such as scenarios/, are left alone).
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = instance_files(instance)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8", newline="")
    for name in ("locks.csv", "travel.csv"):
        if name not in files:
            (folder / name).unlink(missing_ok=True)


def write_instance(instance: Instance, folder: Path) -> None:
    """Write ``instance`` as an ordinary instance folder (FORMAT.md section 1).

    instance.toml and the CSV tables (locks.csv and travel.csv only when
    there are locks or road distances), readable by ``read_instance``. All
    files are written at once or none: they go to a temporary sibling folder
    that then replaces ``folder``.

    Raises
    ------
    InstanceError
        When ``folder`` exists and holds anything besides the files of an
        instance written here before (a README, a scenarios/ folder, a
        workbook...): such a folder is never replaced.
    """
    folder = Path(folder)
    refuse_foreign_folder(folder)
    files: Mapping[str, str] = instance_files(instance)
    write_folder(dict(files), folder)


def refuse_foreign_folder(folder: Path) -> None:
    """Raise unless ``folder`` is absent, empty, or holds only instance files."""
    if not folder.exists():
        return
    if not folder.is_dir():
        message = "expected a folder to write the instance into, found a file."
        raise InstanceError([InputProblem(str(folder), None, None, message)])
    foreign = sorted(
        p.name for p in folder.iterdir() if not p.is_file() or p.name not in FILE_NAMES
    )
    if foreign:
        listed = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        message = (
            "expected a new or empty folder, or one holding only an instance "
            f"written before; found {listed}, so nothing was replaced."
        )
        raise InstanceError([InputProblem(str(folder), None, None, message)])
