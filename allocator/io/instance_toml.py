"""instance.toml read and checked: the policy, competences, host agreements and
routing, every bad key or value noted as a problem.
"""

from __future__ import annotations

import copy
import json
import math
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allocator.domain import (
    Competence,
    HostAgreement,
    Policy,
    RoutingRule,
    Weights,
    week_start,
)
from allocator.errors import InputProblem
from allocator.i18n import _
from allocator.io.instance_columns import _STATUSES, TOML, T
from allocator.io.names import plain_name_problem
from allocator.io.tables import normalise_id, stripped_from_id, visible

_WEEK_RE = re.compile(r"\d{4}-W\d{2}")


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
            _(
                "expected valid TOML with values nested at most {most} deep, "
                "found arrays or inline tables nested deeper at line {line}."
            ).format(most=MAX_TOML_DEPTH, line=deep[0])
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise TomlProblem(
            _("expected valid TOML, found a syntax error: {error}.").format(error=err)
        ) from err
    except (RecursionError, ValueError, MemoryError) as err:
        # The nesting scan should have caught this; the parser's own limit
        # is the last line of defence, never a traceback.
        raise TomlProblem(
            _(
                "expected valid TOML, found text the parser cannot read ({error})."
            ).format(error=type(err).__name__)
        ) from err


def _load_toml(
    folder: Path, problems: list[InputProblem], digest: Any
) -> dict[str, Any] | None:
    """instance.toml as a dict, or None after noting why it cannot be read."""
    path = folder / TOML

    def fail(message: str) -> None:
        problems.append(InputProblem(TOML, None, None, message))

    if not path.is_file():
        fail(
            _("expected the file {file} in the instance folder, found none.").format(
                file=TOML
            )
        )
        return None
    try:
        if path.stat().st_size > MAX_TOML_BYTES:
            fail(
                _(
                    "expected a TOML file of at most {most} bytes, found {size} bytes."
                ).format(most=MAX_TOML_BYTES, size=path.stat().st_size)
            )
            return None
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except OSError as err:
        fail(
            _("expected a readable file, found an error ({error}).").format(
                error=err.strerror
            )
        )
        return None
    except UnicodeDecodeError:
        fail(_("expected UTF-8 text, found other bytes."))
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
        found = _("nothing") if value is None else _show(value)
        message = _("expected {expected}, found {found}.").format(
            expected=expected, found=found
        )
        self.problems.append(InputProblem(TOML, None, key, message))

    def keys(
        self, where: str, table: Mapping[str, object], allowed: Sequence[str]
    ) -> None:
        """Note every key of ``table`` that is not in ``allowed``."""
        for key in table:
            if key not in allowed:
                path = f"{where}.{key}" if where else key
                message = _(
                    'expected one of {keys}, found unknown key "{key}".'
                ).format(keys=", ".join(allowed), key=key)
                self.problems.append(InputProblem(TOML, None, path, message))

    def table(self, key: str, value: object) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.problem(key, _("a table [{key}]").format(key=key), value)
        return None

    def tables(self, key: str, value: object) -> list[dict[str, Any]]:
        """An array of tables ([[key]]); an empty list when it is bad."""
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            return value
        self.problem(
            key, _("[[{key}]] entries (an array of tables)").format(key=key), value
        )
        return []

    def text(self, key: str, value: object) -> str | None:
        if isinstance(value, str):
            return value
        self.problem(key, _("a string"), value)
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
            key,
            _('an id (a non-empty string without ";" or invisible characters)'),
            value,
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
        self.problem(key, _("a list of ids (without invisible characters)"), value)
        return None

    def flag(self, key: str, value: object) -> bool | None:
        if isinstance(value, bool):
            return value
        self.problem(key, _("true or false"), value)
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
        expected = _("a whole number from {least} to {most}").format(
            least=minimum, most=maximum
        )
        self.problem(key, expected, value)
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
        expected = _("a number {low} and at most {most}").format(
            low=low, most=f"{maximum:g}"
        )
        self.problem(key, expected, value)
        return None

    def choice(self, key: str, value: object, options: Mapping[str, T]) -> T | None:
        if isinstance(value, str) and value in options:
            return options[value]
        self.problem(key, _(" or ").join(f'"{o}"' for o in options), value)
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
        check.problem("name", _("a plain folder name ({why})").format(why=why), name)
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
    check.problem("week", _('an ISO week such as "2026-W48"'), value)
    return None


def _read_workbook_name(doc: Mapping[str, Any], check: TomlChecker) -> str | None:
    if "workbook" not in doc:
        return None
    value = doc["workbook"]
    if isinstance(value, str) and value.strip() and Path(value).name == value:
        return value
    check.problem("workbook", _("the file name of a workbook in the folder"), value)
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
            _("0 or a multiple of {step} (the model's resolution)").format(
                step=LOAD_BALANCE_STEP
            ),
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
            expected = _("a unique competence id (competence[{index}] has it)").format(
                index=first[cid]
            )
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
            check.problem("routing", _("at least one [[routing]] rule"), None)
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
