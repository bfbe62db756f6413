"""Read an instance folder (the README's input format) into a validated Instance.

Reading runs in three stages (STYLE.md 6.2). ``tables.py`` turns every file
into rows of strings. This module parses instance.toml and every row into
domain entities, noting each bad cell. Then one function per rule family checks
values and cross-references. Every problem found is raised together in one
``InstanceError``, so that a team leader can mend the files in one sitting
instead of meeting the problems one run at a time.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import hashlib
import json
import math
import re
import tomllib
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar

from allocator.domain import (
    Advisor,
    Competence,
    HostAgreement,
    Instance,
    Lock,
    LockKind,
    Municipality,
    Policy,
    RoutingRule,
    Status,
    Team,
    User,
    Weights,
    week_start,
)
from allocator.errors import DataWarning, InputProblem, InstanceError
from allocator.i18n import _
from allocator.io.names import plain_name_problem
from allocator.io.tables import (
    MAX_LISTED,
    SHEETS,
    CellError,
    Row,
    Table,
    cell_text,
    char_name,
    normalise_id,
    parse_bool,
    parse_csv,
    parse_date,
    parse_decimal,
    parse_id,
    parse_int,
    parse_list,
    parse_text,
    parse_workbook,
    stripped_from_id,
    visible,
)

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
_WEEK_RE = re.compile(r"\d{4}-W\d{2}")


class Distance(NamedTuple):
    """One row of travel.csv."""

    start: str
    end: str
    km: float
    row: int


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
        message = "expected an instance folder, found none."
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
    summary = _Summary("", None, None, f"... and {more} more problems")
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


# --- instance.toml ------------------------------------------------------------


@dataclass
class Config:
    """What instance.toml says, as far as it could be read."""

    name: str
    description: str = ""
    week: str | None = None
    # Optional: nb, nn or en for the words people read (docs/language.md).
    language: str | None = None
    workbook: str | None = None
    policy: Policy = field(default_factory=Policy)
    policy_raw: dict[str, object] = field(default_factory=dict)
    competences: list[Competence] = field(default_factory=list)
    # Ids of every [[competence]] with a readable id; None when instance.toml
    # could not be read, so that references to competences are not checked.
    competence_ids: set[str] | None = None
    host_agreements: list[HostAgreement] = field(default_factory=list)
    # None when a rule could not be read: routing checks would mislead.
    routing: list[RoutingRule] | None = None


_TOP_KEYS = (
    "name",
    "description",
    "week",
    "language",
    "workbook",
    "policy",
    "competence",
    "host_agreement",
    "routing",
)


def _read_config(folder: Path, problems: list[InputProblem], digest: Any) -> Config:
    """Parse instance.toml; on failure a Config that disables dependent checks."""
    doc = _load_toml(folder, problems, digest)
    if doc is None:
        return Config(name=folder.name)
    return read_config_doc(doc, problems, folder.name)


def read_config_doc(
    doc: Mapping[str, Any], problems: list[InputProblem], default_name: str
) -> Config:
    """instance.toml's content (a parsed TOML document) as a Config.

    Every bad key or value is added to ``problems``, named by its path
    (``policy.weights.travel``, ``routing[2].age_max``) in instance.toml.
    ``default_name`` is used when the document has no ``name``.
    """
    check = TomlChecker(problems)
    check.keys("", doc, _TOP_KEYS)
    policy, policy_raw = _read_policy(doc, check)
    competences, competence_ids = _read_competences(doc, check)
    return Config(
        name=_read_name(doc, check, default_name),
        description=check.text("description", doc.get("description", "")) or "",
        week=_read_week(doc, check),
        language=_read_language(doc, check),
        workbook=_read_workbook_name(doc, check),
        policy=policy,
        policy_raw=policy_raw,
        competences=competences,
        competence_ids=competence_ids,
        host_agreements=_read_host_agreements(doc, check),
        routing=_read_routing(doc, check),
    )


# instance.toml is a few KB; a larger file is not one (or is hostile).
MAX_TOML_BYTES = 1_000_000
# instance.toml nests at most an inline table in an array in a table; a
# deeper file is broken or hostile, and tomllib would recurse until Python
# gives up.
MAX_TOML_DEPTH = 16
# What can open or close a nesting level in TOML, and what hides brackets:
# strings (basic, literal, multi-line) and comments.
_TOML_TOKEN_RE = re.compile(r'"""|\'\'\'|"|\'|#|[\[\]{}]|\n')


def toml_nesting(text: str) -> tuple[int, int] | None:
    """The line where arrays and inline tables first nest deeper than
    ``MAX_TOML_DEPTH``, and that depth; None when they never do.

    A linear scan of brackets outside strings and comments, run before the
    parser so that a hostile file fails at once with its line named.
    """
    depth = 0
    line = 1
    closing: str | None = None  # the delimiter of the string we are in
    comment = False
    for match in _TOML_TOKEN_RE.finditer(text):
        token = match.group()
        if token == "\n":
            line += 1
            comment = False
            if closing in ('"', "'"):
                closing = None  # a one-line string cannot span lines
            continue
        if comment:
            continue
        if closing is not None:
            if token == closing and not _escaped(text, match.start(), closing):
                closing = None
            continue
        if token in ('"""', "'''", '"', "'"):
            closing = token
        elif token == "#":
            comment = True
        elif token in "[{":
            depth += 1
            if depth > MAX_TOML_DEPTH:
                return line, depth
        else:
            depth = max(0, depth - 1)
    return None


def _escaped(text: str, at: int, closing: str) -> bool:
    """Whether the quote at ``at`` is escaped by backslashes (basic strings)."""
    if closing.startswith("'"):
        return False
    slashes = 0
    while at - slashes - 1 >= 0 and text[at - slashes - 1] == "\\":
        slashes += 1
    return slashes % 2 == 1


class TomlProblem(ValueError):
    """TOML text that cannot be read; the message says why, in the form
    "expected ..., found ..."."""


def load_toml_text(text: str) -> dict[str, Any]:
    """Parse TOML text (instance.toml, a scenario file) safely.

    Nesting deeper than ``MAX_TOML_DEPTH`` is refused by a linear scan
    before parsing, and any failure of the parser is a ``TomlProblem``,
    never a RecursionError or another traceback.

    Raises
    ------
    TomlProblem
        With a message naming the line of too deep nesting or the syntax error.
    """
    deep = toml_nesting(text)
    if deep is not None:
        raise TomlProblem(
            f"expected valid TOML with values nested at most {MAX_TOML_DEPTH} deep, "
            f"found arrays or inline tables nested deeper at line {deep[0]}."
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise TomlProblem(f"expected valid TOML, found a syntax error: {err}.") from err
    except (RecursionError, ValueError, MemoryError) as err:
        # The nesting scan should have caught this; the parser's own limit
        # is the last line of defence, never a traceback.
        raise TomlProblem(
            "expected valid TOML, found text the parser cannot read "
            f"({type(err).__name__})."
        ) from err


def _load_toml(
    folder: Path, problems: list[InputProblem], digest: Any
) -> dict[str, Any] | None:
    """instance.toml as a dict, or None after noting why it cannot be read."""
    path = folder / TOML

    def fail(message: str) -> None:
        problems.append(InputProblem(TOML, None, None, message))

    if not path.is_file():
        fail("expected the file instance.toml in the instance folder, found none.")
        return None
    try:
        if path.stat().st_size > MAX_TOML_BYTES:
            fail(
                f"expected a TOML file of at most {MAX_TOML_BYTES} bytes, found "
                f"{path.stat().st_size} bytes."
            )
            return None
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except OSError as err:
        fail(f"expected a readable file, found an error ({err.strerror}).")
        return None
    except UnicodeDecodeError:
        fail("expected UTF-8 text, found other bytes.")
        return None
    try:
        doc = load_toml_text(text)
    except TomlProblem as err:
        fail(str(err))
        return None
    digest.update(data)
    return doc


def _show(value: object) -> str:
    """A TOML value as the file would write it, for messages (invisible
    characters shown as ``\\uXXXX``, long values cut)."""
    shown = visible(json.dumps(value, ensure_ascii=False, default=str))
    return shown if len(shown) <= 200 else shown[:197] + "..."


class TomlChecker:
    """Checks values from instance.toml, noting a problem for each bad one.

    Keys are named by their path, e.g. ``policy.weights.travel`` or
    ``routing[2].age_max`` (1-based, like the output's ``rule`` column).
    Each method returns the value, or None when it is missing or bad.
    """

    def __init__(self, problems: list[InputProblem]) -> None:
        self.problems = problems

    def problem(self, key: str, expected: str, value: object) -> None:
        found = "nothing" if value is None else _show(value)
        message = f"expected {expected}, found {found}."
        self.problems.append(InputProblem(TOML, None, key, message))

    def keys(
        self, where: str, table: Mapping[str, object], allowed: Sequence[str]
    ) -> None:
        """Note every key of ``table`` that is not in ``allowed``."""
        for key in table:
            if key not in allowed:
                path = f"{where}.{key}" if where else key
                message = (
                    f'expected one of {", ".join(allowed)}, found unknown key "{key}".'
                )
                self.problems.append(InputProblem(TOML, None, path, message))

    def table(self, key: str, value: object) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.problem(key, f"a table [{key}]", value)
        return None

    def tables(self, key: str, value: object) -> list[dict[str, Any]]:
        """An array of tables ([[key]]); an empty list when it is bad."""
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            return value
        self.problem(key, f"[[{key}]] entries (an array of tables)", value)
        return []

    def text(self, key: str, value: object) -> str | None:
        if isinstance(value, str):
            return value
        self.problem(key, "a string", value)
        return None

    def ident(self, key: str, value: object) -> str | None:
        """An id, NFC-normalised; format characters in it are an error."""
        if (
            isinstance(value, str)
            and value.strip()
            and ";" not in value
            and not stripped_from_id(value)
        ):
            return normalise_id(value).strip()
        self.problem(
            key, 'an id (a non-empty string without ";" or invisible characters)', value
        )
        return None

    def idents(self, key: str, value: object) -> tuple[str, ...] | None:
        if isinstance(value, list) and all(
            isinstance(v, str)
            and v.strip()
            and ";" not in v
            and not stripped_from_id(v)
            for v in value
        ):
            return tuple(normalise_id(v).strip() for v in value)
        self.problem(key, "a list of ids (without invisible characters)", value)
        return None

    def flag(self, key: str, value: object) -> bool | None:
        if isinstance(value, bool):
            return value
        self.problem(key, "true or false", value)
        return None

    def whole(
        self, key: str, value: object, minimum: int = 0, maximum: int = 10**6
    ) -> int | None:
        """A whole number in [minimum, maximum]."""
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and minimum <= value <= maximum
        ):
            return value
        self.problem(key, f"a whole number from {minimum} to {maximum}", value)
        return None

    def number(
        self, key: str, value: object, positive: bool = False, maximum: float = 1e6
    ) -> float | None:
        """A finite number, >= 0 (> 0 when ``positive``) and <= ``maximum``."""
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and (value > 0 if positive else value >= 0)
            and value <= maximum
        ):
            return float(value)
        low = "> 0" if positive else ">= 0"
        self.problem(key, f"a number {low} and at most {maximum:g}", value)
        return None

    def choice(self, key: str, value: object, options: Mapping[str, T]) -> T | None:
        if isinstance(value, str) and value in options:
            return options[value]
        self.problem(key, " or ".join(f'"{o}"' for o in options), value)
        return None


def _read_name(doc: Mapping[str, Any], check: TomlChecker, default: str) -> str:
    """The instance's name; the folder's name when instance.toml has none."""
    if "name" not in doc:
        return default
    name = check.ident("name", doc["name"])
    if name is None:
        return default
    # The name becomes the folder solutions/<name>/: a path must not pass.
    why = plain_name_problem(name)
    if why is not None:
        check.problem("name", f"a plain folder name ({why})", name)
        return default
    return name


def _read_language(doc: Mapping[str, Any], check: TomlChecker) -> str | None:
    """The optional language of the words people read: nb, nn or en."""
    if "language" not in doc:
        return None
    from allocator.i18n import LANGUAGES

    return check.choice("language", doc["language"], {k: k for k in LANGUAGES})


def _read_week(doc: Mapping[str, Any], check: TomlChecker) -> str | None:
    """The optional ISO week, e.g. 2026-W48."""
    if "week" not in doc:
        return None
    value = doc["week"]
    if isinstance(value, str) and _WEEK_RE.fullmatch(value):
        try:
            week_start(value)
        except ValueError:
            pass
        else:
            return value
    check.problem("week", 'an ISO week such as "2026-W48"', value)
    return None


def _read_workbook_name(doc: Mapping[str, Any], check: TomlChecker) -> str | None:
    if "workbook" not in doc:
        return None
    value = doc["workbook"]
    if isinstance(value, str) and value.strip() and Path(value).name == value:
        return value
    check.problem("workbook", "the file name of a workbook in the folder", value)
    return None


# Ranges the scaled integer model represents exactly: quantities become
# integers (weights of users x 1000, objective terms x 100) summed over up to
# millions of assignment variables, and every sum must stay within 64 bits.
# A limit well above any real office keeps that true (README "Limits").
MAX_CASES_PER_FTE = 10_000
MAX_POLICY_WEIGHT = 1_000_000
MAX_ROAD_FACTOR = 10
# load_balance weights the model represents exactly (see _read_weights).
LOAD_BALANCE_STEP = 10
# A road speed above this is a typo (km/h, for travel hours).
MAX_TRAVEL_SPEED_KMH = 300
MAX_ROTATION_MONTHS = 1_200
MAX_TIME_LIMIT_S = 7 * 24 * 3600
# CP-SAT's random seed is a 32-bit signed integer.
MAX_SEED = 2**31 - 1

# Each [policy] scalar with its reader; ranges follow the meaning of the key.
_POLICY_SCALARS: dict[str, Callable[[TomlChecker, str, object], object]] = {
    "max_municipalities_per_advisor": lambda c, k, v: c.whole(k, v, maximum=10_000),
    "cases_per_fte": lambda c, k, v: c.number(
        k, v, positive=True, maximum=MAX_CASES_PER_FTE
    ),
    "intake_per_fte": lambda c, k, v: c.number(k, v, maximum=MAX_CASES_PER_FTE),
    "rotation_months": lambda c, k, v: c.number(k, v, maximum=MAX_ROTATION_MONTHS),
    "keep_current_team": lambda c, k, v: c.flag(k, v),
    "road_factor": lambda c, k, v: c.number(
        k, v, positive=True, maximum=MAX_ROAD_FACTOR
    ),
    "travel_speed_kmh": lambda c, k, v: c.number(
        k, v, positive=True, maximum=MAX_TRAVEL_SPEED_KMH
    ),
    "time_limit_s": lambda c, k, v: c.number(
        k, v, positive=True, maximum=MAX_TIME_LIMIT_S
    ),
    "seed": lambda c, k, v: c.whole(k, v, maximum=MAX_SEED),
}
_POLICY_TABLES = ("weights", "cases_per_fte_by_kind")


def _read_policy(
    doc: Mapping[str, Any], check: TomlChecker
) -> tuple[Policy, dict[str, object]]:
    """[policy] with domain defaults for missing keys, and the table as read."""
    raw = check.table("policy", doc.get("policy", {}))
    if raw is None:
        return Policy(), {}
    check.keys("policy", raw, [*_POLICY_SCALARS, *_POLICY_TABLES])
    values: dict[str, object] = {}
    for key, read in _POLICY_SCALARS.items():
        if key in raw and (value := read(check, f"policy.{key}", raw[key])) is not None:
            values[key] = value
    values["weights"] = _read_weights(raw, check)
    values["cases_per_fte_by_kind"] = _read_cases_by_kind(raw, check)
    return Policy.model_validate(values), copy.deepcopy(raw)


def _read_weights(policy: Mapping[str, Any], check: TomlChecker) -> Weights:
    """[policy.weights]; each >= 0, since 0 switches a goal off."""
    raw = check.table("policy.weights", policy.get("weights", {}))
    if raw is None:
        return Weights()
    names = list(Weights.model_fields)
    check.keys("policy.weights", raw, names)
    values = {
        key: value
        for key in names
        if key in raw
        and (
            value := check.number(
                f"policy.weights.{key}", raw[key], maximum=MAX_POLICY_WEIGHT
            )
        )
        is not None
    }
    balance = values.get("load_balance")
    if balance is not None and balance % LOAD_BALANCE_STEP:
        # The model counts utilisation in per mille and the objective in
        # hundredths, so a team's peak costs weight/10 per point: any other
        # weight would be rounded in the model (below 5, to nothing).
        check.problem(
            "policy.weights.load_balance",
            f"0 or a multiple of {LOAD_BALANCE_STEP} (the model's resolution)",
            raw["load_balance"],
        )
        del values["load_balance"]
    return Weights.model_validate(values)


def _read_cases_by_kind(
    policy: Mapping[str, Any], check: TomlChecker
) -> dict[str, float]:
    """[policy.cases_per_fte_by_kind]: team kind -> cases per fte (> 0)."""
    where = "policy.cases_per_fte_by_kind"
    raw = check.table(where, policy.get("cases_per_fte_by_kind", {}))
    if raw is None:
        return {}
    return {
        kind: value
        for kind, number in raw.items()
        if (
            value := check.number(
                f"{where}.{kind}", number, positive=True, maximum=MAX_CASES_PER_FTE
            )
        )
        is not None
    }


def _read_competences(
    doc: Mapping[str, Any], check: TomlChecker
) -> tuple[list[Competence], set[str]]:
    """[[competence]] entries, and the ids of all with a readable id."""
    competences: list[Competence] = []
    first: dict[str, int] = {}
    for i, entry in enumerate(check.tables("competence", doc.get("competence", [])), 1):
        where = f"competence[{i}]"
        check.keys(where, entry, ("id", "name", "municipal_authority"))
        cid = check.ident(f"{where}.id", entry.get("id"))
        name = check.text(f"{where}.name", entry.get("name", ""))
        authority = check.flag(
            f"{where}.municipal_authority", entry.get("municipal_authority", False)
        )
        if cid is not None and cid in first:
            expected = f"a unique competence id (competence[{first[cid]}] has it)"
            check.problem(f"{where}.id", expected, cid)
            continue
        if cid is not None:
            first[cid] = i
        if cid is not None and name is not None and authority is not None:
            competences.append(
                Competence(id=cid, name=name, municipal_authority=authority)
            )
    return competences, set(first)


def _read_host_agreements(
    doc: Mapping[str, Any], check: TomlChecker
) -> list[HostAgreement]:
    """[[host_agreement]] entries (references are checked later)."""
    agreements: list[HostAgreement] = []
    entries = check.tables("host_agreement", doc.get("host_agreement", []))
    for i, entry in enumerate(entries, 1):
        where = f"host_agreement[{i}]"
        check.keys(where, entry, ("host", "members"))
        host = check.ident(f"{where}.host", entry.get("host"))
        members = check.idents(f"{where}.members", entry.get("members"))
        if host is not None and members is not None:
            agreements.append(HostAgreement(host=host, members=members))
    return agreements


_ROUTING_KEYS = (
    "team_kind",
    "status",
    "age_min",
    "age_max",
    "children_min",
    "children_max",
    "needs_any",
    "needs_all",
    "urgent",
    "municipality_in",
)


def _read_routing(
    doc: Mapping[str, Any], check: TomlChecker
) -> list[RoutingRule] | None:
    """[[routing]] rules in order; None when one is bad or there are none."""
    entries = check.tables("routing", doc.get("routing", []))
    if not entries:
        if isinstance(doc.get("routing", []), list):
            check.problem("routing", "at least one [[routing]] rule", None)
        return None
    before = len(check.problems)
    rules = [_read_rule(f"routing[{i}]", e, check) for i, e in enumerate(entries, 1)]
    if len(check.problems) > before:
        return None
    return rules


def _read_rule(where: str, entry: Mapping[str, Any], check: TomlChecker) -> RoutingRule:
    """One routing rule; bad tests are noted and left out."""
    check.keys(where, entry, _ROUTING_KEYS)
    readers: dict[str, Callable[[str, object], object]] = {
        "team_kind": check.ident,
        "status": lambda k, v: check.choice(k, v, _STATUSES),
        "age_min": check.whole,
        "age_max": check.whole,
        "children_min": check.whole,
        "children_max": check.whole,
        "needs_any": check.idents,
        "needs_all": check.idents,
        "urgent": check.flag,
        "municipality_in": check.idents,
    }
    values: dict[str, object] = {}
    for key, read in readers.items():
        # team_kind is required, so its absence is read (and reported) too.
        if key in entry or key == "team_kind":
            value = read(f"{where}.{key}", entry.get(key))
            if value is not None:
                values[key] = value
    values.setdefault("team_kind", "")
    return RoutingRule.model_validate(values)


# --- Tables -------------------------------------------------------------------


def _find_file(folder: Path, name: str) -> Path | None:
    """``folder/name``, matching the name case-insensitively (Users.csv)."""
    exact = folder / name
    if exact.is_file():
        return exact
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name.lower() == name.lower():
            return path
    return None


def _load_tables(
    folder: Path, workbook: str | None, problems: list[InputProblem], digest: Any
) -> dict[str, Table]:
    """Every table present, from CSV files or from the workbook's sheets."""
    if workbook is not None:
        return _load_workbook(folder, workbook, problems, digest)
    return _load_csv_tables(folder, problems, digest)


def _load_csv_tables(
    folder: Path, problems: list[InputProblem], digest: Any
) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for name in TABLES:
        path = _find_file(folder, f"{name}.csv")
        if path is None:
            if name in REQUIRED_TABLES:
                problems.append(_missing_file(f"{name}.csv"))
            continue
        table = _read_csv_file(path, problems, digest)
        if table is not None:
            tables[name] = table
    return tables


def _missing_file(label: str) -> InputProblem:
    message = f"expected the file {label} in the instance folder, found none."
    return InputProblem(label, None, None, message)


def _read_csv_file(
    path: Path, problems: list[InputProblem], digest: Any
) -> Table | None:
    try:
        data = path.read_bytes()
    except OSError as err:
        message = f"expected a readable file, found an error ({err.strerror})."
        problems.append(InputProblem(path.name, None, None, message))
        return None
    digest.update(data)
    try:
        name = path.name.lower().removesuffix(".csv")
        required = COLUMNS[name].required if name in COLUMNS else ()
        table = parse_csv(path.name, data, required)
    except InstanceError as err:
        problems.extend(err.problems)
        return None
    problems.extend(table.problems)
    return table


def _load_workbook(
    folder: Path, workbook: str, problems: list[InputProblem], digest: Any
) -> dict[str, Table]:
    path = _find_file(folder, workbook)
    if path is None:
        message = f'expected the workbook "{workbook}" in the folder, found none.'
        problems.append(InputProblem(TOML, None, "workbook", message))
        return {}
    try:
        data = path.read_bytes()
        required = {name: columns.required for name, columns in COLUMNS.items()}
        sheets = parse_workbook(path.name, data, required)
    except OSError as err:
        message = f"expected a readable file, found an error ({err.strerror})."
        problems.append(InputProblem(path.name, None, None, message))
        return {}
    except InstanceError as err:
        problems.extend(err.problems)
        return {}
    digest.update(data)
    tables: dict[str, Table] = {}
    for name in TABLES:
        if name in sheets:
            tables[name] = sheets[name]
            problems.extend(sheets[name].problems)
        elif name in REQUIRED_TABLES:
            message = f'expected a sheet named "{name}", found none.'
            problems.append(InputProblem(path.name, None, None, message))
    return tables


def _check_columns(
    name: str, table: Table, problems: list[InputProblem], warn: bool = True
) -> bool:
    """Note missing required columns and warn about unknown ones.

    Returns whether every required column is present.
    """
    columns = COLUMNS[name]
    missing = [c for c in columns.required if c not in table.header]
    for column in missing:
        message = f'expected a column named "{column}", found none.'
        problems.append(InputProblem(table.label, table.header_row, column, message))
    unknown = _unknown_columns(name, table)
    if unknown and warn:
        fate = "kept and carried to the output" if columns.carries_extra else "ignored"
        listed = ", ".join(f'"{visible(c)}"' for c in unknown[:MAX_LISTED])
        if len(unknown) > MAX_LISTED:
            listed += f" and {len(unknown) - MAX_LISTED} more"
        renamed = [
            f'"{old}" is also a column of {CARRIED_TO[name][0]}, so it is written '
            f'as "{new}"'
            for old, new in carried_names(name, unknown).items()
            if old != new and columns.carries_extra
        ]
        also = f"; {'; '.join(renamed)}" if renamed else ""
        warnings.warn(
            f"{table.label}: unknown columns {listed} are {fate}{also}.",
            DataWarning,
            stacklevel=4,
        )
    return not missing


# --- Rows into entities -------------------------------------------------------


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
                message = f"expected {err.expected}; {PRIVATE}"
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
                raise CellError(" or ".join(f'"{o}"' for o in options), text)
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
                form = (
                    "; the two are written differently but are the same id once "
                    "invisible characters are removed and both are in one Unicode "
                    "form (NFC)"
                )
            message = (
                f'expected a unique id, found "{visible(key)}" again '
                f"(first in row {first[key]}{form})."
            )
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


# --- Checks, one function per rule family --------------------------------------

Check = Callable[[Draft], list[InputProblem]]

# Messages about users.csv name the row and column but never repeat the
# cell: a user's details stay out of terminals and logs (only ids appear).
PRIVATE = "the value is not shown (user data)."


def _problem(
    draft: Draft, table: str, row: int, column: str, expected: str, found: object
) -> InputProblem:
    """A problem in a table cell: what was expected and what was found."""
    shown = cell_text(found) if isinstance(found, float | int) else f'"{found}"'
    message = f"expected {expected}, found {shown}."
    if table == "users" and column != "id":
        message = f"expected {expected}; {PRIVATE}"
    return InputProblem(draft.label(table), row, column, message)


def _unknown(draft: Draft, table: str, values: Collection[str]) -> list[str]:
    """The values that are not ids of ``table`` (none when it is unreadable)."""
    known = draft.ids.get(table)
    if known is None:
        return []
    return [value for value in values if value not in known]


def _source(table: str, draft: Draft) -> str:
    if table == COMPETENCES:
        return "[[competence]] in instance.toml"
    return draft.label(table)


def _reference_problem(
    draft: Draft,
    where: tuple[str, int | None, str],
    what: str,
    table: str,
    values: Collection[str],
) -> list[InputProblem]:
    """A problem when any of ``values`` is not an id of ``table``.

    A users.csv cell is never repeated (user data) and gets no suggestion,
    which would hint at its value; elsewhere the unknown ids are quoted with
    a "did you mean" for ids of municipalities, teams, advisors and
    competences.
    """
    unknown = _unknown(draft, table, values)
    if not unknown:
        return []
    source = _source(table, draft)
    if where[0] == draft.label("users"):
        count = (
            f"{len(unknown)} of the {len(values)} values in the cell are not among them"
            if len(values) > 1
            else "the value is not one of them"
        )
        hint = ""
        if table == "municipalities":
            # Ids of municipalities.csv, never the cell's value (user data).
            close = sorted(
                {c for v in unknown for c in _closest_municipalities(draft, v)}
            )
            if close:
                # English, as the sentence it ends (input messages are English).
                hint = f" (did you mean {' or '.join(close)}?)"
        message = f"expected {what} from {source}; {count}{hint}. {_private_note()}"
        return [InputProblem(*where, message)]
    listed = ", ".join(
        f'"{value}"{_did_you_mean(draft, table, value)}' for value in unknown
    )
    found = f"unknown {listed}" if len(values) > 1 or len(unknown) > 1 else listed
    message = f"expected {what} from {source}, found {found}."
    return [InputProblem(*where, message)]


def _private_note() -> str:
    """The users.csv promise, as a sentence: 'The value is not shown (user data).'"""
    return PRIVATE[:1].upper() + PRIVATE[1:]


# Tables whose ids get a "did you mean" (never users: their ids are user data).
_SUGGESTED = frozenset({"municipalities", "teams", "advisors", COMPETENCES})


# --- Municipalities as people type them ----------------------------------------
# Columns naming municipalities: table -> (column, whether it holds a list).
_MUNICIPALITY_COLUMNS = {
    "users": (("municipality", False),),
    "advisors": (("base", False), ("employer", False)),
    "teams": (("municipalities", True),),
}


def _municipality_spellings(draft: Draft) -> dict[str, str]:
    """Name (casefolded, NFC) or municipality number -> id, where unambiguous."""
    found: dict[str, set[str]] = {}
    for m in draft.municipalities:
        for key in (m.name, m.number, m.id):
            if key:
                found.setdefault(normalise_id(key).strip().casefold(), set()).add(m.id)
    return {key: next(iter(ids)) for key, ids in found.items() if len(ids) == 1}


def _resolve_municipality_names(draft: Draft) -> list[str]:
    """Municipalities given by name (any case) or number become their ids.

    Rule (issue 18, docs/language.md): a value that is not an id of
    municipalities.csv but is, after NFC and case folding, exactly one
    municipality's id, name or ``number`` is replaced by that id, with a
    warning naming the file, row, column and the id chosen (never the value
    of a users.csv cell). Anything else is left for the reference check,
    which suggests the closest ids.
    """
    known = draft.ids.get("municipalities")
    if not known:
        return []
    spellings = _municipality_spellings(draft)
    notes: list[str] = []

    def resolve(value: str, where: str) -> str:
        if value in known or value == "state":
            return value
        chosen = spellings.get(normalise_id(value).strip().casefold())
        if chosen is None:
            return value
        notes.append(
            _("{where}: read as municipality id {id}.").format(where=where, id=chosen)
        )
        return chosen

    for table, columns in _MUNICIPALITY_COLUMNS.items():
        label = draft.label(table)
        entities = getattr(draft, table)
        for i, entity in enumerate(entities):
            update: dict[str, Any] = {}
            for column, is_list in columns:
                where = f"{label}, row {entity.row}, column {column}"
                value = getattr(entity, column)
                new: str | tuple[str, ...] = (
                    tuple(resolve(v, where) for v in value)
                    if is_list
                    else resolve(value, where)
                )
                if new != value:
                    update[column] = new
            if update:
                entities[i] = entity.model_copy(update=update)
    return notes


def _by_exact_name(entities: Sequence[Any]) -> dict[str, str]:
    """Name (casefolded, NFC) -> id, for names that only one entity has."""
    found: dict[str, set[str]] = {}
    for entity in entities:
        if entity.name:
            key = normalise_id(entity.name).strip().casefold()
            found.setdefault(key, set()).add(entity.id)
    return {key: next(iter(ids)) for key, ids in found.items() if len(ids) == 1}


def _resolve_names(draft: Draft) -> list[str]:
    """A team (advisors.csv ``team``) or an advisor (locks.csv ``advisor``)
    given by its exact name, where no other has that name, becomes its id.

    The same rule as for municipalities (any case, NFC), with a warning
    naming the id chosen; an id always wins over a name.
    """
    notes: list[str] = []
    teams, advisors = draft.ids.get("teams"), draft.ids.get("advisors")
    if teams:
        names = _by_exact_name(draft.teams)
        label = draft.label("advisors")
        for i, advisor in enumerate(draft.advisors):
            chosen = names.get(normalise_id(advisor.team).strip().casefold())
            if advisor.team not in teams and chosen is not None:
                notes.append(
                    _("{where}: read as team id {id}.").format(
                        where=f"{label}, row {advisor.row}, column team", id=chosen
                    )
                )
                draft.advisors[i] = advisor.model_copy(update={"team": chosen})
    if advisors:
        names = _by_exact_name(draft.advisors)
        label = draft.label("locks")
        for i, lock in enumerate(draft.locks):
            chosen = names.get(normalise_id(lock.advisor).strip().casefold())
            if lock.source == label and lock.advisor not in advisors and chosen:
                notes.append(
                    _("{where}: read as advisor id {id}.").format(
                        where=f"{label}, row {lock.row}, column advisor", id=chosen
                    )
                )
                draft.locks[i] = lock.model_copy(update={"advisor": chosen})
    return notes


def _closest_municipalities(draft: Draft, value: str) -> list[str]:
    """Up to three municipality ids whose id or name is closest to ``value``."""
    spellings = _municipality_spellings(draft)
    typed = normalise_id(value).strip().casefold()
    close = difflib.get_close_matches(typed, list(spellings), n=6, cutoff=0.6)
    return list(dict.fromkeys(spellings[c] for c in close))[:3]


def _did_you_mean(draft: Draft, table: str, value: str) -> str:
    """' (did you mean "gol"?)' for the closest known id, or ''.

    The same id in another case wins; otherwise difflib's closest match
    above a similarity of 0.6.
    """
    known = draft.ids.get(table)
    if table not in _SUGGESTED or not known:
        return ""
    folded = {key.casefold(): key for key in known}
    match = folded.get(value.strip().casefold())
    if match is None:
        close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
        match = close[0] if close else None
    return f' (did you mean "{match}"?)' if match is not None else ""


class Bound(NamedTuple):
    """A range a number column must lie in."""

    column: str
    expected: str
    holds: Callable[[float], bool]


# Upper limits keep every quantity inside what the scaled integer model
# represents exactly (user weights x 1000, objective terms x 100, summed in
# 64 bits), far above any real office; see the README's limits.
MAX_USER_WEIGHT = 1000
# The model keeps user weights to three decimals; a smaller weight would
# silently count as 0.001.
MIN_USER_WEIGHT = 0.001
MAX_KM = 10_000
MAX_POPULATION = 100_000_000

# The README's table formats: ranges, per table.
BOUNDS: dict[str, tuple[Bound, ...]] = {
    "municipalities": (
        Bound(
            "population",
            f"a whole number from 0 to {MAX_POPULATION}",
            lambda v: 0 <= v <= MAX_POPULATION,
        ),
        Bound("lat", "degrees between -90 and 90", lambda v: -90 <= v <= 90),
        Bound("lon", "degrees between -180 and 180", lambda v: -180 <= v <= 180),
    ),
    "advisors": (
        Bound("fte", "a decimal in (0, 1]", lambda v: 0 < v <= 1),
        Bound("casework_share", "a decimal in [0, 1]", lambda v: 0 <= v <= 1),
        Bound(
            "max_municipalities",
            "a whole number from 0 to 10000",
            lambda v: 0 <= v <= 10_000,
        ),
    ),
    "users": (
        Bound("age", "a whole number from 0 to 150", lambda v: 0 <= v <= 150),
        Bound("children", "a whole number from 0 to 100", lambda v: 0 <= v <= 100),
        Bound(
            "weight",
            f"a decimal from {MIN_USER_WEIGHT} to {MAX_USER_WEIGHT}",
            lambda v: MIN_USER_WEIGHT <= v <= MAX_USER_WEIGHT,
        ),
    ),
}


def check_value_ranges(draft: Draft) -> list[InputProblem]:
    """Numbers lie in their ranges (fte in (0, 1], weight > 0, ...)."""
    problems: list[InputProblem] = []
    for table, bounds in BOUNDS.items():
        for entity in getattr(draft, table):
            for bound in bounds:
                value = getattr(entity, bound.column)
                if value is not None and not bound.holds(value):
                    problems.append(
                        _problem(
                            draft,
                            table,
                            entity.row,
                            bound.column,
                            bound.expected,
                            value,
                        )
                    )
    return problems


def check_coordinates(draft: Draft) -> list[InputProblem]:
    """A municipality's centre has both lat and lon, or neither."""
    label = draft.label("municipalities")
    return [
        InputProblem(
            label,
            m.row,
            "lon" if m.lon is None else "lat",
            "expected both lat and lon or neither, found only one.",
        )
        for m in draft.municipalities
        if (m.lat is None) != (m.lon is None)
    ]


class Reference(NamedTuple):
    """A column holding ids (one, or a list) of another table."""

    column: str
    expected: str
    table: str
    # Values that are not references, e.g. the employer "state".
    allowed: frozenset[str] = frozenset()


REFERENCES: dict[str, tuple[Reference, ...]] = {
    "teams": (Reference("municipalities", "municipality ids", "municipalities"),),
    "advisors": (
        Reference("team", "a team id", "teams"),
        Reference(
            "employer",
            '"state" or a municipality id',
            "municipalities",
            frozenset({"state"}),
        ),
        Reference("base", "a municipality id", "municipalities"),
        Reference("competences", "competence ids", COMPETENCES),
    ),
    # current_advisor is no reference: an unknown id means the advisor left.
    "users": (
        Reference("municipality", "a municipality id", "municipalities"),
        Reference("needs", "competence ids", COMPETENCES),
    ),
}


def check_references(draft: Draft) -> list[InputProblem]:
    """Teams, advisors and users name ids that exist."""
    problems: list[InputProblem] = []
    for table, references in REFERENCES.items():
        label = draft.label(table)
        for entity in getattr(draft, table):
            for ref in references:
                value = getattr(entity, ref.column)
                values = [value] if isinstance(value, str) else list(value)
                values = [v for v in values if v not in ref.allowed]
                where = (label, entity.row, ref.column)
                problems += _reference_problem(
                    draft, where, ref.expected, ref.table, values
                )
    return problems


def check_host_agreements(draft: Draft) -> list[InputProblem]:
    """A host agreement's host and members are municipalities."""
    problems: list[InputProblem] = []
    for i, agreement in enumerate(draft.config.host_agreements, 1):
        for key, what, values in (
            ("host", "a municipality id", [agreement.host]),
            ("members", "municipality ids", agreement.members),
        ):
            where = (TOML, None, f"host_agreement[{i}].{key}")
            problems += _reference_problem(draft, where, what, "municipalities", values)
    return problems


def check_routing_references(draft: Draft) -> list[InputProblem]:
    """Routing tests name known competences and municipalities."""
    problems: list[InputProblem] = []
    for i, rule in enumerate(draft.config.routing or (), 1):
        for key, table, what in (
            ("needs_any", COMPETENCES, "competence ids"),
            ("needs_all", COMPETENCES, "competence ids"),
            ("municipality_in", "municipalities", "municipality ids"),
        ):
            where = (TOML, None, f"routing[{i}].{key}")
            values = getattr(rule, key) or ()
            problems += _reference_problem(draft, where, what, table, values)
    return problems


def _lock_place(draft: Draft, lock: Lock) -> tuple[str, int | None]:
    """Where a lock was written: a row of the locks table, or a CLI option.

    A command-line lock is named as typed (``--fix u5=a3``): with several
    options the message must say which one failed.
    """
    if lock.source == draft.label("locks"):
        return lock.source, lock.row
    return f"{lock.source} {lock.user}={lock.advisor}", None


def _lock_where(draft: Draft, lock: Lock) -> str:
    file, row = _lock_place(draft, lock)
    return f"row {row}" if row is not None else file


def check_lock_references(draft: Draft) -> list[InputProblem]:
    """A lock names a known user and a known advisor."""
    problems: list[InputProblem] = []
    for lock in draft.locks:
        here = _lock_place(draft, lock)
        problems += _reference_problem(
            draft, (*here, "user"), "a user id", "users", [lock.user]
        )
        problems += _reference_problem(
            draft, (*here, "advisor"), "an advisor id", "advisors", [lock.advisor]
        )
    return problems


def check_lock_conflicts(draft: Draft) -> list[InputProblem]:
    """No pair is both fixed and forbidden; a user is fixed to one advisor."""
    problems: list[InputProblem] = []
    first: dict[tuple[str, str, str], Lock] = {}
    fixed: dict[str, Lock] = {}
    for lock in draft.locks:
        pair = (lock.user, lock.advisor)
        other = first.get((*pair, _OTHER_KIND[lock.kind]))
        if other is not None and (*pair, lock.kind) not in first:
            message = (
                f"expected a fix or a forbid lock for user {lock.user} and "
                f"advisor {lock.advisor}, found both (the other in "
                f"{_lock_where(draft, other)})."
            )
            problems.append(InputProblem(*_lock_place(draft, lock), "kind", message))
        first.setdefault((*pair, lock.kind), lock)
        if lock.kind != "fix":
            continue
        earlier = fixed.setdefault(lock.user, lock)
        if earlier.advisor != lock.advisor:
            message = (
                f"expected one advisor fixed for user {lock.user}, found "
                f"{lock.advisor} here and {earlier.advisor} in "
                f"{_lock_where(draft, earlier)}."
            )
            problems.append(InputProblem(*_lock_place(draft, lock), "advisor", message))
    return problems


def check_household_locks(draft: Draft) -> list[InputProblem]:
    """Fix locks do not split a household (rule 8: one advisor per household)."""
    households = {u.id: u.household for u in draft.users if u.household}
    problems: list[InputProblem] = []
    first: dict[str, Lock] = {}
    for lock in draft.locks:
        household = households.get(lock.user)
        if lock.kind != "fix" or household is None:
            continue
        earlier = first.setdefault(household, lock)
        if earlier.advisor != lock.advisor:
            message = (
                "expected the users of one household fixed to one advisor, found "
                f"user {lock.user} fixed to {lock.advisor} and user {earlier.user} "
                f"to {earlier.advisor} ({_lock_where(draft, earlier)})."
            )
            problems.append(InputProblem(*_lock_place(draft, lock), "advisor", message))
    return problems


def check_travel(draft: Draft) -> list[InputProblem]:
    """Known municipalities, km >= 0, 0 within one, one km per pair."""
    label = draft.label("travel")
    problems: list[InputProblem] = []
    seen: dict[frozenset[str], Distance] = {}
    for d in draft.distances:
        for column, value in (("from", d.start), ("to", d.end)):
            problems += _reference_problem(
                draft,
                (label, d.row, column),
                "a municipality id",
                "municipalities",
                [value],
            )
        if not 0 <= d.km <= MAX_KM:
            expected = f"km from 0 to {MAX_KM}"
            problems.append(_problem(draft, "travel", d.row, "km", expected, d.km))
        elif d.start == d.end and d.km != 0:
            problems.append(
                _problem(
                    draft, "travel", d.row, "km", "0 km within one municipality", d.km
                )
            )
        earlier = seen.setdefault(frozenset((d.start, d.end)), d)
        if earlier.km != d.km:
            problems.append(
                _problem(
                    draft,
                    "travel",
                    d.row,
                    "km",
                    f"{cell_text(earlier.km)} km as in row {earlier.row}",
                    d.km,
                )
            )
    return problems


def _routed_rule(draft: Draft, user: User) -> int | None:
    """0-based index of the first routing rule that matches ``user``."""
    rules = draft.config.routing or []
    return next((i for i, rule in enumerate(rules) if rule.matches(user)), None)


def check_users_routed(draft: Draft) -> list[InputProblem]:
    """Every user matches some routing rule."""
    if draft.config.routing is None:
        return []
    label = draft.label("users")
    return [
        InputProblem(
            label,
            user.row,
            None,
            f"expected a [[routing]] rule in instance.toml that matches user "
            f"{user.id}, found none (a last rule without tests catches the rest).",
        )
        for user in draft.users
        if _routed_rule(draft, user) is None
    ]


def check_routed_kinds_have_teams(draft: Draft) -> list[InputProblem]:
    """Every team kind some user is routed to has a team."""
    if draft.config.routing is None or "teams" not in draft.complete:
        return []
    kinds = {team.kind for team in draft.teams}
    routed: dict[int, int] = {}
    for user in draft.users:
        index = _routed_rule(draft, user)
        if index is not None:
            routed[index] = routed.get(index, 0) + 1
    problems: list[InputProblem] = []
    reported: set[str] = set()
    for index, count in sorted(routed.items()):
        kind = draft.config.routing[index].team_kind
        if kind in kinds or kind in reported:
            continue
        reported.add(kind)
        message = (
            f'expected a team of kind "{kind}" in {draft.label("teams")} for the '
            f"{count} user(s) this rule routes, found none."
        )
        problems.append(
            InputProblem(TOML, None, f"routing[{index + 1}].team_kind", message)
        )
    return problems


# The checks in the order they run; each returns the problems it finds.
RULES: tuple[Check, ...] = (
    check_value_ranges,
    check_coordinates,
    check_references,
    check_host_agreements,
    check_routing_references,
    check_lock_references,
    check_lock_conflicts,
    check_household_locks,
    check_travel,
    check_users_routed,
    check_routed_kinds_have_teams,
)


# --- Warnings -----------------------------------------------------------------

# Most user ids listed in one warning.
_MAX_LISTED = 10


def _listing(ids: list[str]) -> str:
    shown = ", ".join(ids[:_MAX_LISTED])
    if len(ids) > _MAX_LISTED:
        shown += f" and {len(ids) - _MAX_LISTED} more"
    return shown


def _warn_departed_advisors(draft: Draft) -> None:
    """A current_advisor not in advisors.csv has left; the users are placed anew.

    One warning for all such users, naming users and rows but never the
    cell (user data), and saying what was expected.
    """
    advisors = draft.ids.get("advisors") or {}
    left = [
        user
        for user in draft.users
        if user.current_advisor is not None and user.current_advisor not in advisors
    ]
    if not left:
        return
    named = _listing([f"{u.id} (row {u.row})" for u in left])
    warnings.warn(
        f"{draft.label('users')}, column current_advisor: expected an advisor id "
        f"from {draft.label('advisors')}, found another value for "
        f"{len(left)} user(s): {named}. {_private_note()} An advisor who is "
        "not in that file has left, so these users are placed anew.",
        DataWarning,
        stacklevel=3,
    )


def _warn_missing_coordinates(draft: Draft) -> None:
    """Distances that neither travel.csv nor coordinates give count as 0 km."""
    located = {
        m.id for m in draft.municipalities if m.lat is not None and m.lon is not None
    }
    given = {(d.start, d.end) for d in draft.distances}
    given |= {(end, start) for start, end in given}
    bases = {a.base for a in draft.advisors}
    homes = {u.municipality for u in draft.users}
    lacking = sorted(
        {
            place
            for base in bases
            for home in homes
            if base != home and (base, home) not in given
            for place in (base, home)
            if place not in located
        }
    )
    if lacking:
        warnings.warn(
            f"{draft.label('municipalities')}: municipalities {', '.join(lacking)} "
            "have no lat/lon and travel has no distance for some of their pairs; "
            "those distances count as 0 km.",
            DataWarning,
            stacklevel=3,
        )


# --- Ids and references as spreadsheets change them ------------------------------


def _normalised_lock(lock: Lock) -> Lock:
    """A lock from the command line with its ids compared like the files' ids."""
    return lock.model_copy(
        update={"user": normalise_id(lock.user), "advisor": normalise_id(lock.advisor)}
    )


class ZeroHint(InputProblem):
    """A reference that matches a known id once Excel's dropped zeros are back."""


def _without_zeros(ids: Collection[str]) -> dict[str, list[str]]:
    """Digit-only ids keyed by their digits without leading zeros."""
    keyed: dict[str, list[str]] = {}
    for known in ids:
        if known.isascii() and known.isdigit():
            keyed.setdefault(known.lstrip("0"), []).append(known)
    return keyed


def _reference_cells(
    draft: Draft,
) -> list[tuple[tuple[str, int | None, str], str, str, str]]:
    """Every reference to an id of another table, as (where, value, table, what).

    current_advisor is among them: an id missing from advisors.csv means the
    advisor left, but not when it is an advisor's id that lost its zeros.
    """
    cells = []
    for table, references in REFERENCES.items():
        label = draft.label(table)
        for entity in getattr(draft, table):
            for ref in references:
                value = getattr(entity, ref.column)
                for item in [value] if isinstance(value, str) else value:
                    if item not in ref.allowed:
                        where = (label, entity.row, ref.column)
                        cells.append((where, item, ref.table, ref.expected))
    for user in draft.users:
        if user.current_advisor is not None:
            where = (draft.label("users"), user.row, "current_advisor")
            cells.append((where, user.current_advisor, "advisors", "an advisor id"))
    for lock in draft.locks:
        place = _lock_place(draft, lock)
        cells.append(((*place, "user"), lock.user, "users", "a user id"))
        cells.append(((*place, "advisor"), lock.advisor, "advisors", "an advisor id"))
    for distance in draft.distances:
        for column, value in (("from", distance.start), ("to", distance.end)):
            where = (draft.label("travel"), distance.row, column)
            cells.append((where, value, "municipalities", "a municipality id"))
    return cells


def check_lost_leading_zeros(draft: Draft) -> list[InputProblem]:
    """A reference that is unknown but equals a known id up to leading zeros.

    Excel reads an id such as ``0103`` as the number 103 and writes it back
    without its zero; the reference is then not "unknown" (nor, for
    current_advisor, an advisor who left) but mangled: say so and how to
    fix it, whichever side lost the zeros.
    """
    keyed = {
        table: _without_zeros(ids)
        for table, ids in draft.ids.items()
        if ids is not None
    }
    problems: list[InputProblem] = []
    for where, value, table, what in _reference_cells(draft):
        known = draft.ids.get(table)
        if known is None or value in known or not (value.isascii() and value.isdigit()):
            continue
        matches = [m for m in keyed[table].get(value.lstrip("0"), []) if m != value]
        if not matches:
            continue
        match = matches[0]
        source = _source(table, draft)
        hidden = where[0] == draft.label("users") and where[2] != "current_advisor"
        found = "an id" if hidden else value
        message = (
            f"expected {what} from {source}, found {found} that is not there, but "
            f"{match} is: Excel drops the leading zeros of ids that look like numbers. "
            "Format the column as Text in Excel (or write the ids in full) and "
            "export again."
        )
        problems.append(ZeroHint(*where, message))
    return problems


def _prefer_zero_hints(
    problems: list[InputProblem], hints: list[InputProblem]
) -> list[InputProblem]:
    """The problems, with a cell's zero hint replacing its "unknown id" message."""
    hinted = {(p.file, p.row, p.column) for p in hints}
    kept = [p for p in problems if (p.file, p.row, p.column) not in hinted]
    return kept + hints


def _warn_invisible_characters(draft: Draft) -> None:
    """One warning per file and column whose ids lost invisible characters."""
    grouped: dict[tuple[str, str | None], list[InputProblem]] = {}
    for note in draft.notes:
        grouped.setdefault((note.file, note.column), []).append(note)
    for (file, column), notes in grouped.items():
        rows = _listing([str(n.row) for n in notes])
        names = ", ".join(dict.fromkeys(n.message for n in notes))
        warnings.warn(
            f"{file}, column {column}: removed the invisible character(s) {names} "
            f"from the ids in row(s) {rows}; the ids are compared without them.",
            DataWarning,
            stacklevel=3,
        )
