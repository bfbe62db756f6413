"""The reader's checks of values and cross-references, one function per rule
family; each takes the Draft and returns the problems it finds.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import NamedTuple

from allocator.domain import Lock, User
from allocator.errors import InputProblem
from allocator.i18n import N_, _
from allocator.io.instance_columns import _OTHER_KIND, COMPETENCES, PRIVATE, TOML
from allocator.io.municipality_names import _closest_municipalities, _did_you_mean
from allocator.io.rows import Distance, Draft
from allocator.io.tables import cell_text

Check = Callable[[Draft], list[InputProblem]]


def _problem(
    draft: Draft, table: str, row: int, column: str, expected: str, found: object
) -> InputProblem:
    """A problem in a table cell: what was expected and what was found."""
    shown = cell_text(found) if isinstance(found, float | int) else f'"{found}"'
    message = _("expected {expected}, found {found}.").format(
        expected=expected, found=shown
    )
    if table == "users" and column != "id":
        message = _("expected {expected}; {private}").format(
            expected=expected, private=_(PRIVATE)
        )
    return InputProblem(draft.label(table), row, column, message)


def _unknown(draft: Draft, table: str, values: Collection[str]) -> list[str]:
    """The values that are not ids of ``table`` (none when it is unreadable)."""
    known = draft.ids.get(table)
    if known is None:
        return []
    return [value for value in values if value not in known]


def _source(table: str, draft: Draft) -> str:
    if table == COMPETENCES:
        return _("[[competence]] in instance.toml")
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
            _("{unknown} of the {values} values in the cell are not among them").format(
                unknown=len(unknown), values=len(values)
            )
            if len(values) > 1
            else _("the value is not one of them")
        )
        hint = ""
        if table == "municipalities":
            # Ids of municipalities.csv, never the cell's value (user data).
            close = sorted(
                {c for v in unknown for c in _closest_municipalities(draft, v)}
            )
            if close:
                hint = _(" (did you mean {ids}?)").format(ids=_(" or ").join(close))
        message = _("expected {what} from {source}; {count}{hint}. {private}").format(
            what=_(what), source=source, count=count, hint=hint, private=_private_note()
        )
        return [InputProblem(*where, message)]
    listed = ", ".join(
        f'"{value}"{_did_you_mean(draft, table, value)}' for value in unknown
    )
    if len(values) > 1 or len(unknown) > 1:
        listed = _("unknown {ids}").format(ids=listed)
    message = _("expected {what} from {source}, found {found}.").format(
        what=_(what), source=source, found=listed
    )
    return [InputProblem(*where, message)]


def _private_note() -> str:
    """The users.csv promise, as a sentence: 'The value is not shown (user data).'"""
    private = _(PRIVATE)
    return private[:1].upper() + private[1:]


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
# The figures a bound's (translated) text names.
_LIMITS = {
    "population": MAX_POPULATION,
    "least_weight": MIN_USER_WEIGHT,
    "most_weight": MAX_USER_WEIGHT,
}

# The README's table formats: ranges, per table.
BOUNDS: dict[str, tuple[Bound, ...]] = {
    "municipalities": (
        Bound(
            "population",
            N_("a whole number from 0 to {population}"),
            lambda v: 0 <= v <= MAX_POPULATION,
        ),
        Bound("lat", N_("degrees between -90 and 90"), lambda v: -90 <= v <= 90),
        Bound("lon", N_("degrees between -180 and 180"), lambda v: -180 <= v <= 180),
    ),
    "advisors": (
        Bound("fte", N_("a decimal in (0, 1]"), lambda v: 0 < v <= 1),
        Bound("casework_share", N_("a decimal in [0, 1]"), lambda v: 0 <= v <= 1),
        Bound(
            "max_municipalities",
            N_("a whole number from 0 to 10000"),
            lambda v: 0 <= v <= 10_000,
        ),
    ),
    "users": (
        Bound("age", N_("a whole number from 0 to 150"), lambda v: 0 <= v <= 150),
        Bound(
            "children", N_("a whole number from 0 to 100"), lambda v: 0 <= v <= 100
        ),
        Bound(
            "weight",
            N_("a decimal from {least_weight} to {most_weight}"),
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
                            _(bound.expected).format(**_LIMITS),
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
            _("expected both lat and lon or neither, found only one."),
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
    "teams": (Reference("municipalities", N_("municipality ids"), "municipalities"),),
    "advisors": (
        Reference("team", N_("a team id"), "teams"),
        Reference(
            "employer",
            N_('"state" or a municipality id'),
            "municipalities",
            frozenset({"state"}),
        ),
        Reference("base", N_("a municipality id"), "municipalities"),
        Reference("competences", N_("competence ids"), COMPETENCES),
    ),
    # current_advisor is no reference: an unknown id means the advisor left.
    "users": (
        Reference("municipality", N_("a municipality id"), "municipalities"),
        Reference("needs", N_("competence ids"), COMPETENCES),
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
            ("host", N_("a municipality id"), [agreement.host]),
            ("members", N_("municipality ids"), agreement.members),
        ):
            where = (TOML, None, f"host_agreement[{i}].{key}")
            problems += _reference_problem(draft, where, what, "municipalities", values)
    return problems


def check_routing_references(draft: Draft) -> list[InputProblem]:
    """Routing tests name known competences and municipalities."""
    problems: list[InputProblem] = []
    for i, rule in enumerate(draft.config.routing or (), 1):
        for key, table, what in (
            ("needs_any", COMPETENCES, N_("competence ids")),
            ("needs_all", COMPETENCES, N_("competence ids")),
            ("municipality_in", "municipalities", N_("municipality ids")),
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
    return _("row {row}").format(row=row) if row is not None else file


def check_lock_references(draft: Draft) -> list[InputProblem]:
    """A lock names a known user and a known advisor."""
    problems: list[InputProblem] = []
    for lock in draft.locks:
        here = _lock_place(draft, lock)
        problems += _reference_problem(
            draft, (*here, "user"), N_("a user id"), "users", [lock.user]
        )
        problems += _reference_problem(
            draft, (*here, "advisor"), N_("an advisor id"), "advisors", [lock.advisor]
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
            message = _(
                "expected a fix or a forbid lock for user {user} and "
                "advisor {advisor}, found both (the other in {where})."
            ).format(
                user=lock.user, advisor=lock.advisor, where=_lock_where(draft, other)
            )
            problems.append(InputProblem(*_lock_place(draft, lock), "kind", message))
        first.setdefault((*pair, lock.kind), lock)
        if lock.kind != "fix":
            continue
        earlier = fixed.setdefault(lock.user, lock)
        if earlier.advisor != lock.advisor:
            message = _(
                "expected one advisor fixed for user {user}, found "
                "{advisor} here and {other} in {where}."
            ).format(
                user=lock.user,
                advisor=lock.advisor,
                other=earlier.advisor,
                where=_lock_where(draft, earlier),
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
            message = _(
                "expected the users of one household fixed to one advisor, found "
                "user {user} fixed to {advisor} and user {other} "
                "to {other_advisor} ({where})."
            ).format(
                user=lock.user,
                advisor=lock.advisor,
                other=earlier.user,
                other_advisor=earlier.advisor,
                where=_lock_where(draft, earlier),
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
                N_("a municipality id"),
                "municipalities",
                [value],
            )
        if not 0 <= d.km <= MAX_KM:
            expected = _("km from 0 to {most}").format(most=MAX_KM)
            problems.append(_problem(draft, "travel", d.row, "km", expected, d.km))
        elif d.start == d.end and d.km != 0:
            problems.append(
                _problem(
                    draft,
                    "travel",
                    d.row,
                    "km",
                    _("0 km within one municipality"),
                    d.km,
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
                    _("{km} km as in row {row}").format(
                        km=cell_text(earlier.km), row=earlier.row
                    ),
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
            _(
                "expected a [[routing]] rule in instance.toml that matches user "
                "{user}, found none (a last rule without tests catches the rest)."
            ).format(user=user.id),
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
        message = _(
            'expected a team of kind "{kind}" in {file} for the '
            "{count} user(s) this rule routes, found none."
        ).format(kind=kind, file=draft.label("teams"), count=count)
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
