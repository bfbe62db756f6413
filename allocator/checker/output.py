"""Section 5: what a solve writes, checked file by file and column by column.
"""

from __future__ import annotations

import math

from allocator.checker.derived import routed_rule
from allocator.checker.files import Row, Table
from allocator.checker.format import (
    ADVISOR_LOAD,
    ASSIGNMENTS,
    COLUMNS,
    GAP_TOLERANCE,
    KPI_KEYS,
    MUNICIPALITY_LOAD,
    ROW_STATUSES,
    SOLVE_STATUSES,
    SUMMARY,
    SUMMARY_KEYS,
    TEAM_LOAD,
    TOLERANCE,
    TRAVEL_ROW_TOLERANCE,
    TRAVEL_TOTAL_KM,
    TRAVEL_TOTAL_RELATIVE,
)
from allocator.checker.solution import Solution
from allocator.domain import Advisor


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
