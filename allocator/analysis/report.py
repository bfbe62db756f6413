"""What a solve reports: the README's output tables and summary, as data.

Rows are lists of dicts with Python values; ``write.py`` formats and writes
them. Figures are recomputed here from the per-user allocation, not read from
the solver, so the reports describe exactly what is handed out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from allocator.domain import Advisor, Instance
from allocator.engine.cpsat.solver import Result
from allocator.engine.problem import Problem
from allocator.i18n import active

Row = dict[str, Any]


@dataclass
class Report:
    """Everything a solve writes."""

    assignments: list[Row]
    advisor_load: list[Row]
    team_load: list[Row]
    municipality_load: list[Row]
    summary: dict[str, Any]


def build_report(
    problem: Problem,
    result: Result,
    reasons: Sequence[str],
    extra_summary: dict[str, Any] | None = None,
) -> Report:
    """All section 5 outputs for one result."""
    assignments = assignment_rows(problem, result.allocation, reasons)
    advisor_load = advisor_rows(problem, result.allocation)
    report = Report(
        assignments=assignments,
        advisor_load=advisor_load,
        team_load=team_rows(problem, advisor_load),
        municipality_load=municipality_rows(problem, result.allocation),
        summary={},
    )
    report.summary = summary(problem, result, report, extra_summary or {})
    return report


def assignment_rows(
    problem: Problem, allocation: Sequence[int | None], reasons: Sequence[str]
) -> list[Row]:
    """assignments.csv: one row per input user, in input order."""
    instance = problem.instance
    rows = []
    for u, user in enumerate(instance.users):
        a = allocation[u]
        advisor = instance.advisors[a] if a is not None else None
        rule_idx, kind = problem.routing[u]
        previous = user.current_advisor or ""
        row: Row = {
            "user": user.id,
            "municipality": user.municipality,
            "team": advisor.team if advisor else "",
            "advisor": advisor.id if advisor else "",
            "status": "assigned" if advisor else "unassigned",
            "previous_advisor": previous,
            "changed": bool(previous) and (advisor is None or advisor.id != previous),
            "rule": f"{rule_idx + 1}:{kind}",
            "travel_km": round(problem.km(a, user.municipality), 1)
            if a is not None
            else None,
            "reason": reasons[u],
        }
        for column in instance.extra_columns.get("users", ()):
            row[column] = user.extra.get(column, "")
        rows.append(row)
    return rows


def advisor_rows(problem: Problem, allocation: Sequence[int | None]) -> list[Row]:
    """advisor_load.csv: one row per input advisor, idle ones included."""
    instance = problem.instance
    load = [0.0] * problem.num_advisors
    users = [0] * problem.num_advisors
    newcomers = [0] * problem.num_advisors
    municipalities: list[set[str]] = [set() for _ in range(problem.num_advisors)]
    for u, a in enumerate(allocation):
        if a is None:
            continue
        user = instance.users[u]
        load[a] += user.weight
        users[a] += 1
        newcomers[a] += problem.current[u] != a
        municipalities[a].add(user.municipality)
    rows = []
    for a, advisor in enumerate(instance.advisors):
        # The exact figures of the README's format; the model's scaled integers are
        # only ever on the safe side of them.
        capacity = exact_capacity(problem, advisor)
        row: Row = {
            "advisor": advisor.id,
            "team": advisor.team,
            "fte": advisor.fte,
            "capacity": round(capacity, 6),
            "load": round(load[a], 6),
            "utilisation": round(load[a] / capacity, 4) if capacity else None,
            "users": users[a],
            "new_users": newcomers[a],
            "intake_limit": problem.intake_limit[a],
            "municipalities": sorted(municipalities[a]),
        }
        for column in instance.extra_columns.get("advisors", ()):
            row[column] = advisor.extra.get(column, "")
        rows.append(row)
    return rows


def exact_capacity(problem: Problem, advisor: Advisor) -> float:
    """fte x casework_share x cases_per_fte(kind), unrounded."""
    policy = problem.instance.policy
    kind = problem.facts.teams[advisor.team].kind
    per_fte = policy.cases_per_fte_by_kind.get(kind, policy.cases_per_fte)
    return advisor.fte * advisor.casework_share * per_fte


def team_rows(problem: Problem, advisor_load: list[Row]) -> list[Row]:
    """team_load.csv: one row per team, summed from the advisor rows."""
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in advisor_load:
        team = totals[row["team"]]
        team["advisors"] += 1
        team["assigned"] += row["users"]
        team["load"] += row["load"]
        team["capacity"] += row["capacity"]
    return [
        {
            "team": team.id,
            "kind": team.kind,
            "advisors": int(totals[team.id]["advisors"]),
            "assigned": int(totals[team.id]["assigned"]),
            "load": round(totals[team.id]["load"], 3),
            "capacity": round(totals[team.id]["capacity"], 3),
        }
        for team in problem.instance.teams
    ]


def municipality_rows(problem: Problem, allocation: Sequence[int | None]) -> list[Row]:
    """municipality_load.csv: demand and how much of it is placed."""
    instance = problem.instance
    stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    advisors: dict[str, set[int]] = defaultdict(set)
    for u, user in enumerate(instance.users):
        entry = stats[user.municipality]
        entry["users"] += 1
        a = allocation[u]
        if a is None:
            entry["unassigned"] += 1
            continue
        entry["assigned"] += 1
        entry["load"] += user.weight
        advisors[user.municipality].add(a)
    return [
        {
            "municipality": m.id,
            "users": int(stats[m.id]["users"]),
            "assigned": int(stats[m.id]["assigned"]),
            "unassigned": int(stats[m.id]["unassigned"]),
            "load": round(stats[m.id]["load"], 3),
            "advisors": len(advisors[m.id]),
        }
        for m in instance.municipalities
    ]


def kpis(problem: Problem, report: Report) -> dict[str, Any]:
    """The headline figures of summary.json."""
    return kpis_of(problem.instance, report)


def kpis_of(instance: Instance, report: Report) -> dict[str, Any]:
    """The headline figures of summary.json, from the instance and the rows.

    Needs no problem, so a solve in parts reports the whole from its merged
    rows.
    """
    rows = report.assignments
    urgent = {u.id for u in instance.users if u.urgent}
    utilisation = [
        row["load"] / row["capacity"] for row in report.advisor_load if row["capacity"]
    ]
    return {
        "users": len(rows),
        "assigned": sum(row["status"] == "assigned" for row in rows),
        "unassigned": sum(row["status"] == "unassigned" for row in rows),
        "urgent_unassigned": sum(
            row["status"] == "unassigned" and row["user"] in urgent for row in rows
        ),
        "reassignments": sum(bool(row["changed"]) for row in rows),
        "utilisation_max": round(max(utilisation, default=0.0), 4),
        "utilisation_min": round(min(utilisation, default=0.0), 4),
        "travel_km": round(sum(row["travel_km"] or 0.0 for row in rows), 1),
    }


def summary(
    problem: Problem, result: Result, report: Report, extra: dict[str, Any]
) -> dict[str, Any]:
    """summary.json: status, objective, bound, gap, KPIs and what was run."""
    instance = problem.instance
    solved = result.status != "no_solution"
    objective = round(result.objective, 2) if solved else None
    # The greedy baseline proves no bound.
    bound = round(result.bound, 2) if solved and math.isfinite(result.bound) else None
    gap = None
    if objective is not None and bound is not None:
        # From the rounded figures, so the file agrees with itself.
        gap = (objective - bound) / objective if objective > 0 else 0.0
    return {
        "instance": instance.name,
        # The language of the words people read (reasons, report.html), so
        # that `allocator report` rebuilds the page in it (docs/language.md).
        "language": active(),
        "status": result.status,
        "objective": objective,
        "bound": bound,
        "gap": gap,
        "wall_s": round(result.wall_s, 3),
        "seed": extra.pop("seed", instance.policy.seed),
        "input_sha256": instance.input_sha256,
        "policy": instance.policy_raw or instance.policy.model_dump(),
        "kpis": kpis(problem, report),
        "solver": result.solver,
        "build_s": round(result.build_s, 3),
        "time_to_first_s": round(result.time_to_first_s, 3)
        if result.time_to_first_s is not None
        else None,
        "intake_limit_applied": problem.intake_applied,
        "reference_date": problem.reference_date.isoformat(),
        "groups": len(problem.groups),
        **extra,
    }
