"""Independent check of a written solution against its instance (the test oracle).

The checker reads only the domain entities and the files a solve wrote. It
shares no code with the optimisation model (``problem.py``, ``cpsat/``) on
purpose: routing, authority, capacity, intake limit and travel are worked out
again here, in plain Python, from the format the README specifies, so that a
mistake in one is caught by the other. With ``check --previous`` the plan
is read by the reader ``solve --previous`` uses (``allocator.check`` reads
it and hands it in) and each user's current advisor and since date come
from the same weekly rule (``domain.plan_current``): what the plan says is
input, not model, and two readings of one hand-edited plan must not
disagree.

``check_solution`` returns one line per violation. Each line starts with the
rule it breaks: ``rule N (...)`` for the README's allocation rules, ``no user
dropped``, or the output file (and row) for the output section. Lines never
carry anything about a user except its id.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from allocator.domain import (
    Advisor,
    Instance,
    Previous,
    RoutingRule,
    Team,
    User,
    plan_current,
)

# Figures in the output files are rounded (capacity and load to 3 decimals,
# utilisation to 4), so they are compared with this tolerance, relative for
# large values and absolute for small ones.
TOLERANCE = 1e-3
# travel_km is written with one decimal place.
TRAVEL_ROW_TOLERANCE = 0.051
TRAVEL_TOTAL_KM = 0.1
TRAVEL_TOTAL_RELATIVE = 1e-6
# Loads are sums of decimal weights; allow float noise, not a real overload.
CAPACITY_SLACK = 1e-6
GAP_TOLERANCE = 1e-6
EARTH_RADIUS_KM = 6371.0
# A text cell starting with one of these would run as a spreadsheet formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

ASSIGNMENTS = "assignments.csv"
ADVISOR_LOAD = "advisor_load.csv"
TEAM_LOAD = "team_load.csv"
MUNICIPALITY_LOAD = "municipality_load.csv"
SUMMARY = "summary.json"

COLUMNS: dict[str, tuple[str, ...]] = {
    ASSIGNMENTS: (
        "user",
        "municipality",
        "team",
        "advisor",
        "status",
        "previous_advisor",
        "changed",
        "rule",
        "travel_km",
        "reason",
    ),
    ADVISOR_LOAD: (
        "advisor",
        "team",
        "fte",
        "capacity",
        "load",
        "utilisation",
        "users",
        "new_users",
        "intake_limit",
        "municipalities",
    ),
    TEAM_LOAD: ("team", "kind", "advisors", "assigned", "load", "capacity"),
    MUNICIPALITY_LOAD: (
        "municipality",
        "users",
        "assigned",
        "unassigned",
        "load",
        "advisors",
    ),
}
SUMMARY_KEYS = (
    "instance",
    "status",
    "objective",
    "bound",
    "gap",
    "wall_s",
    "seed",
    "input_sha256",
    "policy",
    "kpis",
)
KPI_KEYS = (
    "users",
    "assigned",
    "unassigned",
    "urgent_unassigned",
    "reassignments",
    "utilisation_max",
    "utilisation_min",
    "travel_km",
)
SOLVE_STATUSES = ("optimal", "feasible", "no_solution")
ROW_STATUSES = ("assigned", "unassigned")


# --- Derived quantities, worked out from the README's format -----------------


def rule_matches(rule: RoutingRule, user: User) -> bool:
    """Whether ``user`` passes every test that routing ``rule`` sets."""
    failed = (
        rule.status is not None and user.status != rule.status,
        rule.age_min is not None and user.age < rule.age_min,
        rule.age_max is not None and user.age > rule.age_max,
        rule.children_min is not None and user.children < rule.children_min,
        rule.children_max is not None and user.children > rule.children_max,
        rule.needs_any is not None and not set(rule.needs_any) & set(user.needs),
        rule.needs_all is not None and not set(rule.needs_all) <= set(user.needs),
        rule.urgent is not None and user.urgent != rule.urgent,
        rule.municipality_in is not None
        and user.municipality not in rule.municipality_in,
    )
    return not any(failed)


def routed_rule(instance: Instance, user: User) -> tuple[int, str] | None:
    """1-based index and team kind of the first routing rule ``user`` matches."""
    for index, rule in enumerate(instance.routing, start=1):
        if rule_matches(rule, user):
            return index, rule.team_kind
    return None


def team_kind(instance: Instance, advisor: Advisor) -> str | None:
    """Kind of the advisor's team; None when the team is unknown."""
    team = _find_team(instance, advisor.team)
    return None if team is None else team.kind


def capacity(instance: Instance, advisor: Advisor) -> float:
    """Weighted users the advisor can hold: fte x casework share x cases per fte."""
    policy = instance.policy
    kind = team_kind(instance, advisor)
    per_fte = policy.cases_per_fte_by_kind.get(kind or "", policy.cases_per_fte)
    return advisor.fte * advisor.casework_share * per_fte


def intake_limit(
    instance: Instance, advisor: Advisor, first_allocation: bool
) -> int | None:
    """New users the advisor may take this week; None means no limit.

    A first allocation (nobody has a current advisor) sets no limit, as does
    ``intake_per_fte == 0``. The small epsilon keeps float noise such as
    0.29 x 100 = 28.999... from rounding a whole number down.
    """
    per_fte = instance.policy.intake_per_fte
    if per_fte == 0 or first_allocation:
        return None
    posts = advisor.fte * advisor.casework_share * per_fte
    return max(1, math.floor(posts + 1e-9)) if posts > 0 else 0


def authority(instance: Instance, advisor: Advisor) -> frozenset[str]:
    """Municipalities the advisor has municipal authority over (R02)."""
    if advisor.employer == "state":
        return frozenset()
    members = {
        member
        for agreement in instance.host_agreements
        if agreement.host == advisor.employer
        for member in agreement.members
    }
    return frozenset({advisor.employer, *members})


def max_municipalities(instance: Instance, advisor: Advisor) -> int:
    """Most municipalities the advisor may serve; 0 means no limit."""
    if advisor.max_municipalities is not None:
        return advisor.max_municipalities
    return instance.policy.max_municipalities_per_advisor


def travel_km(instance: Instance, origin: str, destination: str) -> float:
    """Road km between two municipalities: travel table, else centres x factor."""
    if origin == destination:
        return 0.0
    for pair in ((origin, destination), (destination, origin)):
        if pair in instance.travel:
            return instance.travel[pair]
    centres = {m.id: (m.lat, m.lon) for m in instance.municipalities}
    lat1, lon1 = centres.get(origin, (None, None))
    lat2, lon2 = centres.get(destination, (None, None))
    if lat1 is None or lon1 is None or lat2 is None or lon2 is None:
        # The reader warns about a missing centre; the distance counts as 0.
        return 0.0
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    h = (
        math.sin(half_dphi) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    )
    straight = 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))
    return straight * instance.policy.road_factor


def _find_team(instance: Instance, team_id: str) -> Team | None:
    return next((t for t in instance.teams if t.id == team_id), None)


# --- Reading the solution files ---------------------------------------------


@dataclass(frozen=True)
class Row:
    """One data row of an output CSV, cells already unescaped."""

    number: int  # 1-based, header = row 1
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass(frozen=True)
class Table:
    """One output CSV as read."""

    name: str
    header: tuple[str, ...]
    rows: tuple[Row, ...]
    # (row, column) of text cells that start like a formula without the "'".
    unprotected: tuple[tuple[int, str], ...]
    # Rows whose cell count differs from the header's.
    ragged: tuple[int, ...]


def unescape(cell: str) -> str:
    """Drop the "'" the writer puts before a cell that would run as a formula,
    or before a cell that itself starts with "'" and one of those or "'"."""
    if len(cell) >= 2 and cell[0] == "'" and cell[1] in "".join(FORMULA_STARTS) + "'":
        return cell[1:]
    return cell


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# Section 5 columns that hold decimal numbers.
DECIMAL_COLUMNS = frozenset({"travel_km", "fte", "capacity", "load", "utilisation"})


def _point(cell: str) -> str:
    """A decimal comma as a point ("0,8" -> "0.8"); other text unchanged."""
    if cell.count(",") == 1 and "." not in cell and _is_number(cell.replace(",", ".")):
        return cell.replace(",", ".")
    return cell


def read_table(path: Path) -> Table | str:
    """Read an output CSV; a string names why it could not be read."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except FileNotFoundError:
        return f"{path.name}: missing"
    except (OSError, UnicodeDecodeError) as err:
        return f"{path.name}: cannot be read ({type(err).__name__})"
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    # A ";" file (users.csv was ";"-separated) writes decimal commas.
    decimal = DECIMAL_COLUMNS if delimiter == ";" else frozenset()
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as err:
        return f"{path.name}: cannot be read as CSV ({err})"
    if not records or not any(records[0]):
        return f"{path.name}: empty, expected a header row"
    header = tuple(unescape(name.strip()) for name in records[0])
    rows: list[Row] = []
    unprotected: list[tuple[int, str]] = []
    ragged: list[int] = []
    for number, record in enumerate(records[1:], start=2):
        if not record:
            continue  # a blank line
        if len(record) != len(header):
            ragged.append(number)
        record = [
            _point(raw) if column in decimal else raw
            for column, raw in zip(header, record, strict=False)
        ] + record[len(header) :]
        for column, raw in zip(header, record, strict=False):
            if raw.startswith(FORMULA_STARTS) and not _is_number(raw):
                unprotected.append((number, column))
        cells = {
            column: unescape(raw) for column, raw in zip(header, record, strict=False)
        }
        rows.append(Row(number, cells))
    return Table(path.name, header, tuple(rows), tuple(unprotected), tuple(ragged))


def read_summary(path: Path) -> dict[str, object] | str:
    """Read summary.json; a string names why it could not be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        return f"{path.name}: missing"
    except (OSError, UnicodeDecodeError) as err:
        return f"{path.name}: cannot be read ({type(err).__name__})"
    except json.JSONDecodeError as err:
        return f"{path.name}: not valid JSON (line {err.lineno}, column {err.colno})"
    if not isinstance(data, dict):
        return f"{path.name}: expected a JSON object"
    return data


# --- What the checker knows after reading -----------------------------------


@dataclass(frozen=True)
class LockSpec:
    """A lock from locks.csv or from the command line (summary.json cli_locks)."""

    user: str
    advisor: str
    kind: str
    origin: str


@dataclass
class Solution:
    """The instance, the written files and every figure derived from them."""

    instance: Instance
    tables: dict[str, Table]
    summary: dict[str, object] | None
    users: dict[str, User] = field(default_factory=dict)
    advisors: dict[str, Advisor] = field(default_factory=dict)
    # First assignments.csv row of each input user.
    rows: dict[str, Row] = field(default_factory=dict)
    # User id -> assigned advisor id (only advisors that exist).
    advisor_of: dict[str, str] = field(default_factory=dict)
    # User id -> effective current advisor (exists in advisors), or None.
    current: dict[str, str | None] = field(default_factory=dict)
    first_allocation: bool = True
    capacities: dict[str, float] = field(default_factory=dict)
    limits: dict[str, int | None] = field(default_factory=dict)
    # Advisor id -> its assigned users, in input order.
    users_of: dict[str, list[User]] = field(default_factory=dict)
    locks: list[LockSpec] = field(default_factory=list)
    # The previous plan given to ``check --previous``, read as ``solve
    # --previous`` reads it; None when no previous plan was given.
    previous_plan: Previous | None = None
    # User id -> (current advisor, since) that plan and users.csv give
    # (domain.plan_current, the rule the solve applies).
    planned: dict[str, tuple[str | None, dt.date | None]] = field(
        default_factory=dict
    )
    # changes.csv when the solve wrote one.
    changes: Table | None = None
    _travel: dict[tuple[str, str], float] = field(default_factory=dict)

    def assigned_pairs(self) -> Iterator[tuple[User, Advisor]]:
        """Assigned users with their advisor, in input order."""
        for user in self.instance.users:
            advisor_id = self.advisor_of.get(user.id)
            if advisor_id is not None:
                yield user, self.advisors[advisor_id]

    def user_rows(self) -> Iterator[tuple[User, Row]]:
        """Input users that have an assignments.csv row, with that row."""
        for user in self.instance.users:
            row = self.rows.get(user.id)
            if row is not None:
                yield user, row

    def load(self, advisor_id: str) -> float:
        return sum(user.weight for user in self.users_of[advisor_id])

    def new_users(self, advisor_id: str) -> int:
        """Users given to this advisor who did not have it (the weekly intake)."""
        return sum(
            1
            for user in self.users_of[advisor_id]
            if self.current[user.id] != advisor_id
        )

    def municipalities_of(self, advisor_id: str) -> set[str]:
        return {user.municipality for user in self.users_of[advisor_id]}

    def travel(self, user: User, advisor: Advisor) -> float:
        """Km from the advisor's base to the user's municipality (cached)."""
        key = (advisor.base, user.municipality)
        if key not in self._travel:
            self._travel[key] = travel_km(self.instance, *key)
        return self._travel[key]


def _lock_specs(
    instance: Instance, summary: dict[str, object] | None
) -> list[LockSpec]:
    """Locks from the instance and from summary.json cli_locks, each pair once."""
    specs = [
        LockSpec(
            lock.user,
            lock.advisor,
            lock.kind,
            f"{lock.source} row {lock.row}" if lock.row else lock.source,
        )
        for lock in instance.locks
    ]
    cli_locks = summary.get("cli_locks") if summary else None
    if isinstance(cli_locks, list):
        for index, entry in enumerate(cli_locks):
            if isinstance(entry, dict) and all(
                isinstance(entry.get(key), str) for key in ("user", "advisor", "kind")
            ):
                specs.append(
                    LockSpec(
                        entry["user"],
                        entry["advisor"],
                        entry["kind"],
                        f"summary.json cli_locks[{index}]",
                    )
                )
    unique: dict[tuple[str, str, str], LockSpec] = {}
    for spec in specs:
        unique.setdefault((spec.user, spec.advisor, spec.kind), spec)
    return list(unique.values())


def build_solution(
    instance: Instance,
    tables: dict[str, Table],
    summary: dict[str, object] | None,
    previous_plan: Previous | None = None,
) -> Solution:
    """Work out assignment, effective current advisors, loads and limits.

    With ``previous_plan`` (``check --previous``) a row's previous_advisor
    and since must be what that plan and users.csv give by the weekly rule
    (``domain.plan_current``; checked by
    ``assignments_previous_advisor`` and ``assignments_since``), so the rules
    that depend on it do not rest on the solution's word alone.
    """
    sol = Solution(instance, tables, summary, previous_plan=previous_plan)
    sol.users = {user.id: user for user in instance.users}
    sol.advisors = {advisor.id: advisor for advisor in instance.advisors}
    if previous_plan is not None:
        known = set(sol.advisors)
        sol.planned = {
            user.id: plan_current(user, previous_plan, known)
            for user in instance.users
        }
    for row in tables[ASSIGNMENTS].rows:
        user_id = row.get("user")
        if user_id in sol.users and user_id not in sol.rows:
            sol.rows[user_id] = row
    for user in instance.users:
        found = sol.rows.get(user.id)
        # The row's previous_advisor is what the solve used (it must agree
        # with users.csv, checked separately); an id no longer among the
        # advisors means that advisor left and the user is placed anew.
        previous = found.get("previous_advisor") if found else user.current_advisor
        sol.current[user.id] = previous if previous in sol.advisors else None
        advisor_id = found.get("advisor") if found else ""
        if advisor_id in sol.advisors:
            sol.advisor_of[user.id] = advisor_id
    sol.first_allocation = not any(sol.current.values())
    for advisor in instance.advisors:
        sol.capacities[advisor.id] = capacity(instance, advisor)
        sol.limits[advisor.id] = intake_limit(instance, advisor, sol.first_allocation)
        sol.users_of[advisor.id] = []
    for user, advisor in sol.assigned_pairs():
        sol.users_of[advisor.id].append(user)
    sol.locks = _lock_specs(instance, summary)
    return sol


# --- Section 4: the rules every allocation obeys ----------------------------


def rule_1_team(sol: Solution) -> list[str]:
    """The team's kind is the routed kind (or the user stays) and it serves them."""
    problems = []
    keep_team = sol.instance.policy.keep_current_team
    for user, advisor in sol.assigned_pairs():
        team = _find_team(sol.instance, advisor.team)
        if team is None:
            problems.append(
                f"rule 1 (team): user {user.id} -> advisor {advisor.id} "
                f"whose team {advisor.team} does not exist"
            )
            continue
        routed = routed_rule(sol.instance, user)
        stays = sol.current[user.id] == advisor.id
        if routed is None:
            problems.append(f"rule 1 (team): user {user.id} matches no routing rule")
        elif team.kind != routed[1] and not (keep_team and stays):
            problems.append(
                f"rule 1 (team): user {user.id} -> advisor {advisor.id} in team "
                f"{team.id} of kind {team.kind}, not the user's routed kind"
            )
        if team.municipalities and user.municipality not in team.municipalities:
            problems.append(
                f"rule 1 (team): user {user.id} -> advisor {advisor.id} in team "
                f"{team.id}, which does not serve the user's municipality"
            )
    return problems


def rule_2_competence(sol: Solution) -> list[str]:
    """The advisor has every competence the user needs."""
    problems = []
    for user, advisor in sol.assigned_pairs():
        missing = [need for need in user.needs if need not in advisor.competences]
        if missing:
            problems.append(
                f"rule 2 (competence): user {user.id} -> advisor {advisor.id} "
                f"lacks {', '.join(missing)}"
            )
    return problems


def rule_3_authority(sol: Solution) -> list[str]:
    """Municipal authority over the user's municipality when a need requires it."""
    problems = []
    authority_needs = {c.id for c in sol.instance.competences if c.municipal_authority}
    for user, advisor in sol.assigned_pairs():
        if not authority_needs & set(user.needs):
            continue
        if user.municipality not in authority(sol.instance, advisor):
            problems.append(
                f"rule 3 (municipal authority): user {user.id} -> advisor "
                f"{advisor.id} (employer {advisor.employer}) has no municipal "
                "authority over the user's municipality"
            )
    return problems


def rule_4_capacity(sol: Solution) -> list[str]:
    """Assigned weight stays within capacity; new users within the intake limit."""
    problems = []
    for advisor in sol.instance.advisors:
        load, cap = sol.load(advisor.id), sol.capacities[advisor.id]
        if load > cap + CAPACITY_SLACK:
            problems.append(
                f"rule 4 (capacity): advisor {advisor.id} has load {load:g}, "
                f"capacity {cap:g}"
            )
        limit, new = sol.limits[advisor.id], sol.new_users(advisor.id)
        if limit is not None and new > limit:
            problems.append(
                f"rule 4 (intake): advisor {advisor.id} takes {new} new users, "
                f"weekly intake limit {limit}"
            )
    return problems


def rule_5_municipalities(sol: Solution) -> list[str]:
    """An advisor serves users from at most max_municipalities municipalities."""
    problems = []
    for advisor in sol.instance.advisors:
        most = max_municipalities(sol.instance, advisor)
        served = sol.municipalities_of(advisor.id)
        if most and len(served) > most:
            problems.append(
                f"rule 5 (municipalities): advisor {advisor.id} serves "
                f"{len(served)} municipalities ({';'.join(sorted(served))}), "
                f"at most {most}"
            )
    return problems


def rule_6_availability(sol: Solution) -> list[str]:
    """An unavailable advisor keeps only the users who stay with it."""
    return [
        f"rule 6 (availability): unavailable advisor {advisor.id} takes user "
        f"{user.id}, who is not staying with it"
        for user, advisor in sol.assigned_pairs()
        if not advisor.available and sol.current[user.id] != advisor.id
    ]


def rule_7_locks(sol: Solution) -> list[str]:
    """Fix locks hold and forbid pairs never occur."""
    problems = []
    for lock in sol.locks:
        given = sol.advisor_of.get(lock.user)
        where = f"rule 7 (locks): {lock.kind} lock from {lock.origin}"
        if lock.kind == "fix":
            if lock.user not in sol.users or lock.advisor not in sol.advisors:
                problems.append(f"{where} names an unknown user or advisor")
            elif given != lock.advisor:
                now = f"advisor {given}" if given else "no advisor"
                problems.append(
                    f"{where}: user {lock.user} -> advisor {lock.advisor} "
                    f"does not hold (user has {now})"
                )
        elif lock.kind == "forbid":
            if given == lock.advisor:
                problems.append(
                    f"{where}: user {lock.user} is assigned forbidden advisor "
                    f"{lock.advisor}"
                )
        else:
            problems.append(f"{where}: kind is not fix or forbid")
    return problems


def rule_8_household(sol: Solution) -> list[str]:
    """Assigned members of one household share one advisor."""
    households: dict[str, list[tuple[str, str]]] = {}
    for user, advisor in sol.assigned_pairs():
        if user.household:
            households.setdefault(user.household, []).append((user.id, advisor.id))
    problems = []
    # The household id is user data; the line names only the members' ids.
    for members in households.values():
        if len({advisor_id for _, advisor_id in members}) > 1:
            pairs = ", ".join(f"{u} -> {a}" for u, a in members)
            problems.append(
                f"rule 8 (household): members of one household have "
                f"different advisors: {pairs}"
            )
    return problems


def no_user_dropped(sol: Solution) -> list[str]:
    """Every input user is listed in assignments.csv, placed or not."""
    return [
        f"no user dropped: user {user.id} has no row in {ASSIGNMENTS}"
        for user in sol.instance.users
        if user.id not in sol.rows
    ]


# --- Section 5: what a solve writes -----------------------------------------


def _close(written: float, expected: float, tolerance: float = TOLERANCE) -> bool:
    return abs(written - expected) <= tolerance * max(1.0, abs(expected))


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _header(table: Table, extra: tuple[str, ...]) -> list[str]:
    """Required columns first in the documented order; extra columns present."""
    required = COLUMNS[table.name]
    problems = []
    missing = [c for c in (*required, *extra) if c not in table.header]
    if missing:
        problems.append(f"{table.name}: missing column(s) {', '.join(missing)}")
    elif table.header[: len(required)] != required:
        problems.append(f"{table.name}: columns must start with {','.join(required)}")
    problems += [
        f"{table.name} row {number}: cell count differs from the header"
        for number in table.ragged
    ]
    return problems


def _one_row_each(
    table: Table, column: str, expected: list[str], what: str, ordered: bool
) -> tuple[list[str], dict[str, Row]]:
    """Unknown and repeated keys, out-of-order rows; the first row per key."""
    problems = []
    first: dict[str, Row] = {}
    known = set(expected)
    for row in table.rows:
        key = row.get(column)
        if key not in known:
            problems.append(f"{table.name} row {row.number}: unknown {what} {key}")
        elif key in first:
            problems.append(
                f"{table.name} row {row.number}: {what} {key} appears again "
                f"(first at row {first[key].number})"
            )
        else:
            first[key] = row
    if ordered:
        written = list(first)
        wanted = [key for key in expected if key in first]
        for got, want in zip(written, wanted, strict=True):
            if got != want:
                problems.append(
                    f"{table.name} row {first[got].number}: {what} {got} out of "
                    f"input order (expected {what} {want})"
                )
                break
    return problems, first


def _check_count(table: Table, row: Row, column: str, expected: int) -> list[str]:
    value = _number(row.get(column))
    if value is None or value != expected:
        return [
            f"{table.name} row {row.number}: {column} is {row.get(column)!r}, "
            f"expected {expected}"
        ]
    return []


def _check_figure(table: Table, row: Row, column: str, expected: float) -> list[str]:
    value = _number(row.get(column))
    if value is None or not _close(value, expected):
        return [
            f"{table.name} row {row.number}: {column} is {row.get(column)!r}, "
            f"expected {expected:.6g}"
        ]
    return []


def formula_cells_escaped(sol: Solution) -> list[str]:
    """Text cells that would run as a formula carry a leading "'"."""
    return [
        f"{table.name} row {number}: {column} cell starts like a formula "
        "without a leading '"
        for table in sol.tables.values()
        for number, column in table.unprotected
    ]


def assignments_layout(sol: Solution) -> list[str]:
    """Header with the extra user columns; one row per input user, input order."""
    table = sol.tables[ASSIGNMENTS]
    extra = sol.instance.extra_columns.get("users", ())
    problems = _header(table, extra)
    order, _ = _one_row_each(
        table, "user", [u.id for u in sol.instance.users], "user", ordered=True
    )
    return problems + order


def assignments_municipality(sol: Solution) -> list[str]:
    """The municipality column is the user's municipality."""
    return [
        f"{ASSIGNMENTS} row {row.number}: municipality differs from users.csv "
        f"for user {user.id}"
        for user, row in sol.user_rows()
        if row.get("municipality") != user.municipality
    ]


def assignments_advisor_and_team(sol: Solution) -> list[str]:
    """The advisor exists and the team is its team (empty when unassigned)."""
    problems = []
    for user, row in sol.user_rows():
        advisor_id, team = row.get("advisor"), row.get("team")
        where = f"{ASSIGNMENTS} row {row.number}: user {user.id}"
        if not advisor_id:
            if team:
                problems.append(f"{where} is unassigned but has team {team}")
        elif advisor_id not in sol.advisors:
            problems.append(f"{where} has unknown advisor {advisor_id}")
        elif team != sol.advisors[advisor_id].team:
            problems.append(
                f"{where} has team {team!r}, but advisor {advisor_id} is in "
                f"team {sol.advisors[advisor_id].team}"
            )
    return problems


def assignments_status(sol: Solution) -> list[str]:
    """status is assigned exactly when the advisor is non-empty."""
    problems = []
    for user, row in sol.user_rows():
        status = row.get("status")
        expected = "assigned" if row.get("advisor") else "unassigned"
        if status not in ROW_STATUSES:
            problems.append(
                f"{ASSIGNMENTS} row {row.number}: status {status!r} is not "
                f"assigned or unassigned (user {user.id})"
            )
        elif status != expected:
            problems.append(
                f"{ASSIGNMENTS} row {row.number}: status is {status} but user "
                f"{user.id} is {expected}"
            )
    return problems


def assignments_previous_advisor(sol: Solution) -> list[str]:
    """previous_advisor comes from the inputs.

    It is users.csv's current_advisor when that is given. With a previous plan
    (``check --previous``) it is what the weekly rule gives from users.csv and
    that plan (``domain.plan_current``, the function the solve uses):
    the plan's advisor over a users.csv that has not caught up, users.csv's
    where the plan has none, nobody where the plan took the advisor away.
    """
    problems = []
    for user, row in sol.user_rows():
        written = row.get("previous_advisor")
        if sol.previous_plan is not None:
            expected = sol.planned.get(user.id, (None, None))[0] or ""
            if written != expected:
                problems.append(
                    f"{ASSIGNMENTS} row {row.number}: previous_advisor "
                    f"{written!r} for user {user.id}, expected "
                    f"{expected or 'none'!r} from users.csv and the previous plan"
                )
        elif user.current_advisor and written != user.current_advisor:
            problems.append(
                f"{ASSIGNMENTS} row {row.number}: previous_advisor "
                f"{written!r} differs from users.csv current_advisor "
                f"{user.current_advisor} for user {user.id}"
            )
    return problems


def assignments_changed(sol: Solution) -> list[str]:
    """changed is true exactly when a previous advisor was replaced or dropped."""
    problems = []
    for user, row in sol.user_rows():
        previous, advisor_id = row.get("previous_advisor"), row.get("advisor")
        expected = bool(previous) and advisor_id != previous
        written = row.get("changed")
        if written not in ("true", "false"):
            problems.append(
                f"{ASSIGNMENTS} row {row.number}: changed {written!r} is not "
                f"true or false (user {user.id})"
            )
        elif (written == "true") != expected:
            now = f"advisor {advisor_id}" if advisor_id else "no advisor"
            before = f"previous advisor {previous}" if previous else "no previous"
            problems.append(
                f"{ASSIGNMENTS} row {row.number}: changed is {written} but user "
                f"{user.id} had {before} and now has {now}"
            )
    return problems


def assignments_reason(sol: Solution) -> list[str]:
    """Unassigned and changed rows give a reason; other rows leave it empty."""
    problems = []
    for user, row in sol.user_rows():
        previous, advisor_id = row.get("previous_advisor"), row.get("advisor")
        needs_reason = not advisor_id or (bool(previous) and advisor_id != previous)
        has_reason = bool(row.get("reason").strip())
        if needs_reason and not has_reason:
            problems.append(
                f"{ASSIGNMENTS} row {row.number}: user {user.id} is unassigned "
                "or changed but has no reason"
            )
        elif has_reason and not needs_reason:
            problems.append(
                f"{ASSIGNMENTS} row {row.number}: user {user.id} is neither "
                "unassigned nor changed, so reason must be empty"
            )
    return problems


def assignments_rule(sol: Solution) -> list[str]:
    """rule is index:kind of the first routing rule the user matches."""
    problems = []
    for user, row in sol.user_rows():
        routed = routed_rule(sol.instance, user)
        expected = f"{routed[0]}:{routed[1]}" if routed else ""
        if row.get("rule") != expected:
            problems.append(
                f"{ASSIGNMENTS} row {row.number}: rule {row.get('rule')!r} for "
                f"user {user.id}, expected {expected!r}"
            )
    return problems


def assignments_travel(sol: Solution) -> list[str]:
    """travel_km is the advisor's base to the user's municipality; empty if none."""
    problems = []
    for user, row in sol.user_rows():
        written = row.get("travel_km")
        where = f"{ASSIGNMENTS} row {row.number}: travel_km"
        advisor_id = row.get("advisor")
        if not advisor_id:
            if written:
                problems.append(f"{where} must be empty for unassigned user {user.id}")
            continue
        if advisor_id not in sol.advisors:
            continue  # reported as an unknown advisor
        expected = sol.travel(user, sol.advisors[advisor_id])
        value = _number(written)
        if value is None or abs(value - expected) > TRAVEL_ROW_TOLERANCE:
            problems.append(
                f"{where} {written!r} for user {user.id}, expected {expected:.1f}"
            )
    return problems


def assignments_extra_columns(sol: Solution) -> list[str]:
    """Extra users.csv columns are carried with their values."""
    table = sol.tables[ASSIGNMENTS]
    columns = [
        c for c in sol.instance.extra_columns.get("users", ()) if c in table.header
    ]
    # The values are user data: the line names the column, never the value.
    return [
        f"{ASSIGNMENTS} row {row.number}: column {column} not carried for "
        f"user {user.id}"
        for user, row in sol.user_rows()
        for column in columns
        if row.get(column) != user.extra.get(column, "")
    ]


def advisor_load(sol: Solution) -> list[str]:
    """One row per input advisor, in input order, with correct figures."""
    table = sol.tables.get(ADVISOR_LOAD)
    if table is None:
        return []
    extra = sol.instance.extra_columns.get("advisors", ())
    problems = _header(table, extra)
    order, first = _one_row_each(
        table,
        "advisor",
        [a.id for a in sol.instance.advisors],
        "advisor",
        ordered=True,
    )
    problems += order
    for advisor in sol.instance.advisors:
        row = first.get(advisor.id)
        if row is None:
            problems.append(f"{table.name}: no row for advisor {advisor.id}")
            continue
        problems += _advisor_load_row(sol, table, row, advisor, extra)
    return problems


def _advisor_load_row(
    sol: Solution, table: Table, row: Row, advisor: Advisor, extra: tuple[str, ...]
) -> list[str]:
    where = f"{table.name} row {row.number}"
    cap, load = sol.capacities[advisor.id], sol.load(advisor.id)
    problems = []
    if row.get("team") != advisor.team:
        problems.append(f"{where}: team {row.get('team')!r}, expected {advisor.team}")
    problems += _check_figure(table, row, "fte", advisor.fte)
    problems += _check_figure(table, row, "capacity", cap)
    problems += _check_figure(table, row, "load", load)
    if cap > 0:
        problems += _check_figure(table, row, "utilisation", load / cap)
    elif row.get("utilisation"):
        problems.append(f"{where}: utilisation must be empty when capacity is 0")
    problems += _check_count(table, row, "users", len(sol.users_of[advisor.id]))
    problems += _check_count(table, row, "new_users", sol.new_users(advisor.id))
    limit = sol.limits[advisor.id]
    if limit is None:
        if row.get("intake_limit"):
            problems.append(f"{where}: intake_limit must be empty (no limit)")
    else:
        problems += _check_count(table, row, "intake_limit", limit)
    written = {m for m in row.get("municipalities").split(";") if m}
    if written != sol.municipalities_of(advisor.id):
        served = ";".join(sorted(sol.municipalities_of(advisor.id)))
        problems.append(
            f"{where}: municipalities {row.get('municipalities')!r}, "
            f"expected {served!r}"
        )
    problems += [
        f"{where}: column {column} not carried for advisor {advisor.id}"
        for column in extra
        if column in table.header and row.get(column) != advisor.extra.get(column, "")
    ]
    return problems


def team_load(sol: Solution) -> list[str]:
    """One row per team with its kind, advisors, assigned users, load, capacity."""
    table = sol.tables.get(TEAM_LOAD)
    if table is None:
        return []
    problems = _header(table, ())
    order, first = _one_row_each(
        table, "team", [t.id for t in sol.instance.teams], "team", ordered=False
    )
    problems += order
    for team in sol.instance.teams:
        row = first.get(team.id)
        if row is None:
            problems.append(f"{table.name}: no row for team {team.id}")
            continue
        members = [a.id for a in sol.instance.advisors if a.team == team.id]
        if row.get("kind") != team.kind:
            problems.append(
                f"{table.name} row {row.number}: kind {row.get('kind')!r}, "
                f"expected {team.kind}"
            )
        problems += _check_count(table, row, "advisors", len(members))
        assigned = sum(len(sol.users_of[a]) for a in members)
        problems += _check_count(table, row, "assigned", assigned)
        problems += _check_figure(table, row, "load", sum(sol.load(a) for a in members))
        problems += _check_figure(
            table, row, "capacity", sum(sol.capacities[a] for a in members)
        )
    return problems


def municipality_load(sol: Solution) -> list[str]:
    """One row per municipality with users, assigned, unassigned, load, advisors."""
    table = sol.tables.get(MUNICIPALITY_LOAD)
    if table is None:
        return []
    problems = _header(table, ())
    order, first = _one_row_each(
        table,
        "municipality",
        [m.id for m in sol.instance.municipalities],
        "municipality",
        ordered=False,
    )
    problems += order
    for municipality in sol.instance.municipalities:
        row = first.get(municipality.id)
        if row is None:
            problems.append(f"{table.name}: no row for municipality {municipality.id}")
            continue
        residents = [u for u in sol.instance.users if u.municipality == municipality.id]
        placed = [u for u in residents if u.id in sol.advisor_of]
        serving = {sol.advisor_of[u.id] for u in placed}
        problems += _check_count(table, row, "users", len(residents))
        problems += _check_count(table, row, "assigned", len(placed))
        problems += _check_count(table, row, "unassigned", len(residents) - len(placed))
        problems += _check_figure(table, row, "load", sum(u.weight for u in placed))
        problems += _check_count(table, row, "advisors", len(serving))
    return problems


def _json_number(value: object) -> float | None:
    """A JSON number (not a boolean), as float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def summary_keys(sol: Solution) -> list[str]:
    """Every required key and kpi is present."""
    if sol.summary is None:
        return []
    problems = [
        f"{SUMMARY}: missing key {k}" for k in SUMMARY_KEYS if k not in sol.summary
    ]
    kpis = sol.summary.get("kpis")
    if "kpis" in sol.summary and not isinstance(kpis, dict):
        problems.append(f"{SUMMARY}: kpis must be an object")
    elif isinstance(kpis, dict):
        problems += [f"{SUMMARY}: missing kpi {k}" for k in KPI_KEYS if k not in kpis]
    if "policy" in sol.summary and not isinstance(sol.summary["policy"], dict):
        problems.append(f"{SUMMARY}: policy must be an object")
    return problems


def summary_status(sol: Solution) -> list[str]:
    """status is optimal, feasible or no_solution."""
    if sol.summary is None or "status" not in sol.summary:
        return []
    status = sol.summary["status"]
    if status not in SOLVE_STATUSES:
        return [
            f"{SUMMARY}: status {status!r} is not one of {', '.join(SOLVE_STATUSES)}"
        ]
    return []


def summary_objective(sol: Solution) -> list[str]:
    """bound <= objective; gap = (objective - bound) / objective (0 if objective 0).

    A solver that proves no bound (the greedy baseline) writes bound and gap
    as null together; that is accepted, a null on one side only is not.
    """
    if sol.summary is None:
        return []
    no_bound = sol.summary.get("bound", 0) is None and sol.summary.get("gap", 0) is None
    keys = ("objective",) if no_bound else ("objective", "bound", "gap")
    values = {k: _json_number(sol.summary.get(k)) for k in keys}
    problems = [
        f"{SUMMARY}: {k} must be a number"
        for k, v in values.items()
        if v is None and k in sol.summary
    ]
    objective, bound, gap = (values.get(k) for k in ("objective", "bound", "gap"))
    if objective is None or bound is None:
        return problems
    if bound > objective + GAP_TOLERANCE:
        problems.append(f"{SUMMARY}: bound {bound:g} exceeds objective {objective:g}")
    if gap is not None and objective >= 0:
        expected = (objective - bound) / objective if objective > 0 else 0.0
        if abs(gap - expected) > GAP_TOLERANCE:
            problems.append(f"{SUMMARY}: gap {gap:g}, expected {expected:g}")
    return problems


def summary_run(sol: Solution) -> list[str]:
    """seed is an integer, wall_s a number, input_sha256 that of the input."""
    if sol.summary is None:
        return []
    problems = []
    seed = sol.summary.get("seed")
    if "seed" in sol.summary and (isinstance(seed, bool) or not isinstance(seed, int)):
        problems.append(f"{SUMMARY}: seed {seed!r} is not an integer")
    if "wall_s" in sol.summary and _json_number(sol.summary["wall_s"]) is None:
        problems.append(f"{SUMMARY}: wall_s must be a number")
    expected = sol.instance.input_sha256
    written = sol.summary.get("input_sha256")
    if expected and "input_sha256" in sol.summary and written != expected:
        problems.append(f"{SUMMARY}: input_sha256 differs from the input's")
    return problems


def summary_cli_locks(sol: Solution) -> list[str]:
    """cli_locks, when given, is a list of {user, advisor, kind} objects."""
    if sol.summary is None or "cli_locks" not in sol.summary:
        return []
    cli_locks = sol.summary["cli_locks"]
    if not isinstance(cli_locks, list):
        return [f"{SUMMARY}: cli_locks must be a list"]
    return [
        f"{SUMMARY}: cli_locks[{index}] must be an object with text user, "
        "advisor and kind"
        for index, entry in enumerate(cli_locks)
        if not isinstance(entry, dict)
        or not all(isinstance(entry.get(k), str) for k in ("user", "advisor", "kind"))
    ]


def _expected_kpis(sol: Solution) -> dict[str, float]:
    """The kpis recomputed from assignments.csv and the instance."""
    rows = list(sol.user_rows())
    unassigned = [user for user, row in rows if not row.get("advisor")]
    utilisations = [
        sol.load(a.id) / sol.capacities[a.id]
        for a in sol.instance.advisors
        if sol.capacities[a.id] > 0
    ]
    return {
        "users": len(sol.instance.users),
        "assigned": len(rows) - len(unassigned),
        "unassigned": len(unassigned),
        "urgent_unassigned": sum(1 for user in unassigned if user.urgent),
        "reassignments": sum(1 for _, row in rows if row.get("changed") == "true"),
        "utilisation_max": max(utilisations, default=0.0),
        "utilisation_min": min(utilisations, default=0.0),
        "travel_km": sum(sol.travel(u, a) for u, a in sol.assigned_pairs()),
    }


def _travel_total_agrees(sol: Solution, value: float, exact: float) -> bool:
    """The total matches the exact km or the sum of the rounded travel_km cells.

    Both are fair readings of "the total": summing the exact distances, or
    summing the column as written (each cell is checked on its own). With many
    users the two drift apart by more than the total's tolerance, so either
    is accepted.
    """
    written = sum(
        _number(row.get("travel_km")) or 0.0
        for user, row in sol.user_rows()
        if user.id in sol.advisor_of
    )
    for total in (exact, written):
        if abs(value - total) <= TRAVEL_TOTAL_KM + TRAVEL_TOTAL_RELATIVE * abs(total):
            return True
    return False


def summary_kpis(sol: Solution) -> list[str]:
    """The kpis agree with assignments.csv."""
    kpis = sol.summary.get("kpis") if sol.summary else None
    if not isinstance(kpis, dict):
        return []
    problems = []
    for key, expected in _expected_kpis(sol).items():
        if key not in kpis:
            continue  # reported as a missing kpi
        value = _json_number(kpis[key])
        if key == "travel_km":
            right = value is not None and _travel_total_agrees(sol, value, expected)
        elif key.startswith("utilisation"):
            right = value is not None and _close(value, expected)
        else:
            right = value == expected
        if not right:
            problems.append(
                f"{SUMMARY}: kpis.{key} is {kpis[key]!r}, expected {expected:g}"
            )
    return problems


# --- Figures the solve derives: objective, since, changes.csv ---------------

CHANGES = "changes.csv"
CHANGE_KINDS = ("moved", "unassigned", "arrived", "left")
# The model counts weights in thousandths (rounded up) and utilisation in
# whole per mille (rounded up), and rounds each coefficient to the cent; the
# checker computes exactly, so totals may differ by these resolutions.
WEIGHT_RESOLUTION = 1e-3
UTILISATION_RESOLUTION = 1e-3
CENT = 0.01


def reference_date(sol: Solution) -> dt.date | None:
    """The Monday of the instance's ``week`` (README: Rotation), else summary's.

    Without a week the solve used the day it ran, which only summary.json's
    ``reference_date`` records.
    """
    week = sol.instance.week
    if week:
        year, _, number = week.partition("-W")
        return dt.date.fromisocalendar(int(year), int(number), 1)
    written = sol.summary.get("reference_date") if sol.summary else None
    if isinstance(written, str):
        try:
            return dt.date.fromisoformat(written)
        except ValueError:
            return None
    return None


def kept_beyond_rotation(sol: Solution, user: User, today: dt.date) -> bool:
    """R13: with the current advisor for more than ``rotation_months``.

    A month is a twelfth of a year of 365.25 days.
    """
    months = sol.instance.policy.rotation_months
    since = _since_of(sol, user)
    if months <= 0 or since is None:
        return False
    return (today - since).days > months * 365.25 / 12


def _since_of(sol: Solution, user: User) -> dt.date | None:
    """When the user got the current advisor: with a previous plan, the weekly
    rule's date (``domain.plan_current``); else users.csv's."""
    if sol.previous_plan is not None:
        return sol.planned.get(user.id, (None, user.since))[1]
    return user.since


def team_peaks(sol: Solution) -> float:
    """Sum over teams of the highest utilisation among available advisors.

    README "What the optimiser minimises", load_balance: only advisors that
    are available and have capacity count; a team without one adds nothing.
    """
    peaks: dict[str, float] = {}
    for advisor in sol.instance.advisors:
        cap = sol.capacities[advisor.id]
        if advisor.available and cap > 0:
            share = sol.load(advisor.id) / cap
            peaks[advisor.team] = max(peaks.get(advisor.team, 0.0), share)
    return sum(peaks.values())


def expected_objective(sol: Solution) -> tuple[float, float]:
    """The objective from the README's goal table, and its rounding tolerance.

    Each goal is its weight times its quantity, over the users as written in
    assignments.csv; the current advisor is the row's previous_advisor (an
    advisor who left counts as none).
    """
    weights = sol.instance.policy.weights
    today = reference_date(sol)
    total = 0.0
    tolerance = CENT
    for user, _row in sol.user_rows():
        advisor_id = sol.advisor_of.get(user.id)
        current = sol.current[user.id]
        if advisor_id is None:
            total += weights.unassigned * user.weight
            total += weights.urgent_unassigned * user.urgent
            tolerance += weights.unassigned * WEIGHT_RESOLUTION + CENT
        else:
            advisor = sol.advisors[advisor_id]
            total += weights.travel * sol.travel(user, advisor)
            tolerance += CENT
            if user.prefer_non_local and advisor.base == user.municipality:
                total += weights.non_local
            if (
                advisor_id == current
                and today is not None
                and kept_beyond_rotation(sol, user, today)
            ):
                total += weights.rotation
        if current is not None and advisor_id != current:
            total += weights.reassignment
    teams = {a.team for a in sol.instance.advisors}
    total += weights.load_balance * team_peaks(sol)
    tolerance += weights.load_balance * UTILISATION_RESOLUTION * 2 * len(teams)
    return total, tolerance


def summary_objective_value(sol: Solution) -> list[str]:
    """The objective is the README's sum of goals for the written allocation."""
    if sol.summary is None:
        return []
    written = _json_number(sol.summary.get("objective"))
    if written is None:
        return []
    expected, tolerance = expected_objective(sol)
    if abs(written - expected) > tolerance:
        return [
            f"{SUMMARY}: objective {written:g} is not the sum of the goals for this "
            f"allocation ({expected:.2f}, within {tolerance:.2f})"
        ]
    return []


def assignments_since(sol: Solution) -> list[str]:
    """since: kept from the inputs for a user who stays, the week's Monday for a
    new pairing, empty for an unassigned user (README: Output)."""
    if ASSIGNMENTS not in sol.tables or "since" not in sol.tables[ASSIGNMENTS].header:
        return []
    today = reference_date(sol)
    problems = []
    for user, row in sol.user_rows():
        written = row.get("since")
        advisor_id = sol.advisor_of.get(user.id)
        if advisor_id is None:
            expected: str | None = ""
        elif advisor_id == row.get("previous_advisor"):
            kept = _since_of(sol, user)
            # Without users.csv's since or the previous plan (check
            # --previous) the date's source is not at hand: not judged.
            known = user.since is not None or sol.previous_plan is not None
            expected = (kept.isoformat() if kept else "") if known else None
        else:
            expected = today.isoformat() if today else None
        if expected is not None and written != expected:
            problems.append(
                f"{ASSIGNMENTS} row {row.number}: since {written!r} for user "
                f"{user.id}, expected {expected!r}"
            )
    return problems


def changes_rows(sol: Solution) -> list[str]:
    """changes.csv lists exactly the users whose advisor changed, truthfully.

    Every row with changed=true appears as moved (to another advisor) or
    unassigned (lost the advisor), from its previous_advisor to its advisor;
    no row moves a user to the advisor they already had. With a previous plan,
    users in it but not this week are ``left`` and users new to it may be
    ``arrived``.
    """
    table = sol.changes
    if table is None:
        return []
    problems = []
    listed: dict[str, Row] = {}
    for row in table.rows:
        user_id, kind = row.get("user"), row.get("kind")
        if kind not in CHANGE_KINDS:
            problems.append(
                f"{CHANGES} row {row.number}: kind {kind!r} is not one of "
                f"{', '.join(CHANGE_KINDS)}"
            )
            continue
        if user_id in listed:
            problems.append(f"{CHANGES} row {row.number}: user {user_id} listed twice")
        listed[user_id] = row
        source, target = row.get("from"), row.get("to")
        if source and source == target:
            problems.append(
                f"{CHANGES} row {row.number}: user {user_id} moved from {source} "
                "to the same advisor"
            )
        if kind == "left":
            if user_id in sol.users:
                problems.append(
                    f"{CHANGES} row {row.number}: user {user_id} left but is in "
                    "this week's users"
                )
            continue
        found = sol.rows.get(user_id)
        if found is None:
            problems.append(
                f"{CHANGES} row {row.number}: user {user_id} is not in {ASSIGNMENTS}"
            )
            continue
        if target != found.get("advisor") or (
            source and source != found.get("previous_advisor")
        ):
            problems.append(
                f"{CHANGES} row {row.number}: user {user_id} from {source!r} to "
                f"{target!r}, but {ASSIGNMENTS} says {found.get('previous_advisor')!r}"
                f" to {found.get('advisor')!r}"
            )
        expected_kind = {"moved": bool(target), "unassigned": not target}.get(kind)
        if expected_kind is False:
            problems.append(
                f"{CHANGES} row {row.number}: kind {kind} but the user's advisor "
                f"is {target!r}"
            )
    for user, row in sol.user_rows():
        if row.get("changed") == "true" and user.id not in listed:
            problems.append(
                f"{CHANGES}: user {user.id} changed advisor ({ASSIGNMENTS} row "
                f"{row.number}) but is not listed"
            )
    return problems


# The index of the rules, in the order the README's format lists them.
SECTION_4_RULES: tuple[Callable[[Solution], list[str]], ...] = (
    rule_1_team,
    rule_2_competence,
    rule_3_authority,
    rule_4_capacity,
    rule_5_municipalities,
    rule_6_availability,
    rule_7_locks,
    rule_8_household,
    no_user_dropped,
)
SECTION_5_CHECKS: tuple[Callable[[Solution], list[str]], ...] = (
    formula_cells_escaped,
    assignments_layout,
    assignments_municipality,
    assignments_advisor_and_team,
    assignments_status,
    assignments_previous_advisor,
    assignments_changed,
    assignments_reason,
    assignments_rule,
    assignments_travel,
    assignments_extra_columns,
    advisor_load,
    team_load,
    municipality_load,
    summary_keys,
    summary_status,
    summary_objective,
    summary_run,
    summary_cli_locks,
    summary_kpis,
    summary_objective_value,
    assignments_since,
    changes_rows,
)


def check_solution(
    instance: Instance,
    solution_dir: Path,
    previous_plan: Previous | str | None = None,
) -> list[str]:
    """Check a solve's files against the instance: the README's rules and output.

    Parameters
    ----------
    instance
        The instance the solve read.
    solution_dir
        The folder holding assignments.csv, advisor_load.csv, team_load.csv,
        municipality_load.csv and summary.json (and changes.csv, when written).
    previous_plan
        The previous plan the solve was given (``--previous``), read as the
        solve reads it (``allocator.check.check_solution`` reads it from a
        path), so that each row's previous_advisor is checked against it
        instead of taken on trust; a string says why it could not be read,
        and is reported as a violation.

    Returns
    -------
    list[str]
        One line per violation, each starting with the rule it breaks; empty
        when the solution obeys every rule. Missing or unreadable files are
        violations, never exceptions.
    """
    problems: list[str] = []
    tables: dict[str, Table] = {}
    for name in COLUMNS:
        table = read_table(solution_dir / name)
        if isinstance(table, str):
            problems.append(table)
        else:
            tables[name] = table
    read = read_summary(solution_dir / SUMMARY)
    if isinstance(read, str):
        problems.append(read)
    summary = None if isinstance(read, str) else read
    plan: Previous | None = None
    if isinstance(previous_plan, str):
        problems.append(previous_plan)
    else:
        plan = previous_plan
    if ASSIGNMENTS not in tables:
        return problems  # without the assignment nothing else can be judged
    sol = build_solution(instance, tables, summary, plan)
    if (solution_dir / CHANGES).exists():
        changes = read_table(solution_dir / CHANGES)
        if isinstance(changes, str):
            problems.append(changes)
        else:
            sol.changes = changes
    for check in (*SECTION_4_RULES, *SECTION_5_CHECKS):
        problems += check(sol)
    return problems
