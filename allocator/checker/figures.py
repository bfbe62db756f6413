"""Figures the solve derives, worked out again: the objective, each user's
since date and changes.csv.
"""

from __future__ import annotations

import datetime as dt

from allocator.checker.files import Row
from allocator.checker.format import ASSIGNMENTS, SUMMARY
from allocator.checker.output import _json_number
from allocator.checker.solution import Solution
from allocator.domain import User

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
