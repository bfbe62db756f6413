"""Read an instance folder (the README's input format) into a validated Instance.

Reading runs in three stages (STYLE.md 6.2). ``tables/`` turns every file
into rows of strings (``input_tables.py`` finds and loads them). Then
``instance_toml.py`` parses instance.toml and ``rows.py`` every row into
domain entities, noting each bad cell. Then one function per rule family
checks values and cross-references (``checks.py``, with
``municipality_names.py`` and ``spreadsheet_ids.py``). Every problem found is
raised together in one ``InstanceError``, so that a team leader can mend the
files in one sitting instead of meeting the problems one run at a time;
suspicious but legal input gives a warning (``data_warnings.py``).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from allocator.domain import Instance, Lock
from allocator.errors import DataWarning, InputProblem, InstanceError
from allocator.i18n import _
from allocator.io.checks import RULES
from allocator.io.data_warnings import (
    _warn_departed_advisors,
    _warn_missing_coordinates,
)
from allocator.io.input_tables import _load_tables
from allocator.io.instance_columns import (
    CARRIED_TO,
    COLUMNS,
    MAX_PROBLEMS,
    TABLES,
    TOML,
    _unknown_columns,
    carried_names,
)
from allocator.io.instance_toml import Config, _read_config

# Names callers import from the reader, at home in its parts.
from allocator.io.instance_toml import TomlProblem as TomlProblem
from allocator.io.instance_toml import load_toml_text as load_toml_text
from allocator.io.instance_toml import read_config_doc as read_config_doc
from allocator.io.instance_toml import toml_nesting as toml_nesting
from allocator.io.municipality_names import _resolve_municipality_names, _resolve_names
from allocator.io.rows import Distance, Draft, _parse_tables
from allocator.io.spreadsheet_ids import (
    _normalised_lock,
    _prefer_zero_hints,
    _warn_invisible_characters,
    check_lost_leading_zeros,
)
from allocator.io.tables import Table


class _Summary(InputProblem):
    """The closing line when more problems were found than are listed."""

    def __str__(self) -> str:
        return self.message


# --- Public entry point -------------------------------------------------------


def read_instance(folder: Path, extra_locks: Sequence[Lock] = ()) -> Instance:
    """Read and validate the instance in ``folder``.

    Parameters
    ----------
    folder
        The instance folder: instance.toml and the CSV tables or a workbook.
    extra_locks
        Locks from the command line (``--fix`` / ``--forbid``), checked like
        the rows of locks.csv and appended after them.

    Returns
    -------
    Instance
        Every entity in input order, with files, extra columns, the input's
        SHA-256 and the [policy] table as read.

    Raises
    ------
    InstanceError
        Carrying every problem found (at most 50 listed), when any file breaks
        the README's format. Suspicious but legal input gives ``DataWarning`` instead.
    """
    folder = Path(folder)
    if not folder.is_dir():
        message = _("expected an instance folder, found none.")
        raise InstanceError([InputProblem(str(folder), None, None, message)])
    problems: list[InputProblem] = []
    digest = hashlib.sha256()
    config = _read_config(folder, problems, digest)
    tables = _load_tables(folder, config.workbook, problems, digest)
    return build_instance(config, tables, problems, extra_locks, digest.hexdigest())


def build_instance(
    config: Config,
    tables: dict[str, Table],
    problems: list[InputProblem],
    extra_locks: Sequence[Lock] = (),
    sha256: str = "",
    warn_unknown_columns: bool = True,
) -> Instance:
    """Parse ``tables`` against ``config``, run every check, build the Instance.

    The second half of ``read_instance``, shared with scenarios, which hand
    in tables and a config made in memory so that a changed instance passes
    exactly the checks a folder on disk would.

    Parameters
    ----------
    config
        From ``read_config_doc`` (or read from instance.toml).
    tables
        Table name -> its rows as strings, labelled for messages.
    problems
        Problems found so far (while loading); more are added.
    extra_locks
        Locks not in the locks table (``--fix`` / ``--forbid``).
    sha256
        The input's hash for summary.json.
    warn_unknown_columns
        False when the tables' unknown columns were warned about before.

    Raises
    ------
    InstanceError
        Carrying every problem found, ordered by file and row.
    """
    draft = _parse_tables(config, tables, problems, warn_unknown_columns)
    draft.locks.extend(_normalised_lock(lock) for lock in extra_locks)
    resolved = _resolve_municipality_names(draft) + _resolve_names(draft)
    for rule in RULES:
        problems.extend(rule(draft))
    problems = _prefer_zero_hints(problems, check_lost_leading_zeros(draft))
    if problems:
        raise InstanceError(_ordered(problems, draft))
    _warn_invisible_characters(draft)
    for note in resolved:
        warnings.warn(note, DataWarning, stacklevel=2)
    _warn_departed_advisors(draft)
    _warn_missing_coordinates(draft)
    _rename_carried(draft)
    return _build(draft, sha256)


def _ordered(problems: list[InputProblem], draft: Draft) -> list[InputProblem]:
    """Problems by file (in read order) and row, capped at MAX_PROBLEMS."""
    rank = {TOML: 0} | {draft.label(name): i for i, name in enumerate(TABLES, 1)}
    if draft.config.workbook:
        rank[draft.config.workbook] = 1
    ranked = sorted(
        problems, key=lambda p: (rank.get(p.file, len(rank) + 1), p.row or 0)
    )
    if len(ranked) <= MAX_PROBLEMS:
        return ranked
    more = len(ranked) - MAX_PROBLEMS
    summary = _Summary(
        "", None, None, _("... and {more} more problems").format(more=more)
    )
    return [*ranked[:MAX_PROBLEMS], summary]


def _build(draft: Draft, sha256: str) -> Instance:
    config = draft.config
    return Instance(
        name=config.name,
        description=config.description,
        week=config.week,
        language=config.language,
        policy=config.policy,
        competences=tuple(config.competences),
        host_agreements=tuple(config.host_agreements),
        routing=tuple(config.routing or ()),
        municipalities=tuple(draft.municipalities),
        teams=tuple(draft.teams),
        advisors=tuple(draft.advisors),
        users=tuple(draft.users),
        locks=tuple(draft.locks),
        travel=_travel_map(draft.distances),
        files={name: table.label for name, table in draft.tables.items()},
        extra_columns=_extra_columns(draft.tables),
        input_sha256=sha256,
        policy_raw=config.policy_raw,
        dialect=_dialect(draft.tables.get("users")),
    )


def _dialect(users: Table | None) -> Literal[",", ";"]:
    """The outputs follow users.csv: ";" when it was ";"-separated, else ","."""
    return ";" if users is not None and users.delimiter == ";" else ","


def _travel_map(distances: list[Distance]) -> dict[tuple[str, str], float]:
    """Road km keyed both ways, since travel.csv may give one direction only."""
    km: dict[tuple[str, str], float] = {}
    for distance in distances:
        km[distance.start, distance.end] = distance.km
        km[distance.end, distance.start] = distance.km
    return km


def _extra_columns(tables: Mapping[str, Table]) -> dict[str, tuple[str, ...]]:
    """Unknown columns, in file order, of the tables whose entities carry them.

    Names are as written out: see ``carried_names``.
    """
    return {
        name: tuple(carried_names(name, _unknown_columns(name, table)).values())
        for name, table in tables.items()
        if COLUMNS[name].carries_extra
    }


def _rename_carried(draft: Draft) -> None:
    """Carry renamed unknown columns under their new names (see carried_names)."""
    for name in CARRIED_TO:
        table = draft.tables.get(name)
        if table is None:
            continue
        names = carried_names(name, _unknown_columns(name, table))
        if all(old == new for old, new in names.items()):
            continue
        entities = getattr(draft, name)
        setattr(
            draft,
            name,
            [
                e.model_copy(
                    update={"extra": {names.get(k, k): v for k, v in e.extra.items()}}
                )
                for e in entities
            ],
        )
