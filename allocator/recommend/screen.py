"""Screening: exact figures that follow from a structure alone (no solve).

For each structure, from the changed instance as a first allocation
(nobody keeps a current advisor):

- ``coverage_min``, ``single_points``, ``uncovered``, ``forced_moves``: the
  comparison's own structural figures (``analysis.figures``), exactly the
  values ``compare`` reports for the structure.
- ``unassigned_floor``: total weight minus the most weight that can be
  placed, a max-flow over users -> eligible advisors -> capacity (rules 1, 2,
  3, 4's capacity, 6 and forbid locks hold; the municipality limit, fix
  locks and households are relaxed). No allocation leaves less weight
  unassigned, so it is a lower bound on ``unassigned_weight``.
- ``travel_floor_hours``: hours if every placeable user got the nearest
  eligible advisor (capacity relaxed); no allocation that places every
  placeable user travels less.
- ``leakage_floor_fte``: the FTE of municipal staff spent on other
  municipalities' users if every placeable user got the least-leaking
  eligible advisor (capacity relaxed), by the comparison's definition of
  leakage (by employer); a lower bound for allocations that place every
  placeable user.

Each takes milliseconds; ``pareto_indices`` keeps the structures that no
other beats on every screened figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from allocator.domain import Instance

# Screened figures and whether larger is better.
SCREENED = {
    "unassigned_floor": False,
    "single_points": False,
    "uncovered": False,
    "coverage_min": True,
    "travel_floor_hours": False,
    "leakage_floor_fte": False,
}


def flow_bound(problem: Any) -> float:
    """The most weight (weighted users) any allocation of ``problem`` can place.

    Max-flow: source -> each group of interchangeable users (its total
    scaled weight) -> each eligible advisor -> sink (the advisor's scaled
    capacity). Relaxes rule 5, households and fix locks, so it bounds from
    above what the solver can place.
    """
    from ortools.graph.python import max_flow

    from allocator.engine.problem import SCALE

    flow = max_flow.SimpleMaxFlow()
    groups = [g for g in problem.groups if g.eligible]
    source, sink = 0, 1
    first_advisor = 2 + len(groups)
    total = 0
    for i, group in enumerate(groups):
        supply = group.size * group.weight
        total += supply
        flow.add_arc_with_capacity(source, 2 + i, supply)
        for a in group.eligible:
            flow.add_arc_with_capacity(2 + i, first_advisor + a, supply)
    for a, cap in enumerate(problem.capacity):
        if cap > 0:
            flow.add_arc_with_capacity(first_advisor + a, sink, cap)
    if not groups:
        return 0.0
    status = flow.solve(source, sink)
    if status != flow.OPTIMAL:  # cannot happen on a finite network
        raise RuntimeError(f"max-flow ended with status {status}")
    return flow.optimal_flow() / SCALE


def screen(instance: Instance) -> dict[str, Any]:
    """The screened figures of the structure ``instance`` expresses.

    ``instance`` is the structure with the users' current advisors as read
    (``forced_moves`` needs them); the bounds are for a first allocation.
    Weights in weighted users, travel in hours at ``travel_speed_kmh``, FTE
    through the team kind's ``cases_per_fte``.
    """
    from allocator.analysis.capacity import cases_per_fte
    from allocator.analysis.figures import structure_figures
    from allocator.compare import first_allocation
    from allocator.engine.problem import build_problem

    structural = structure_figures(instance)
    problem = build_problem(first_allocation(instance))
    users = instance.users
    advisors = instance.advisors
    total = sum(u.weight for u in users)
    placed = flow_bound(problem)
    travel_km = 0.0
    leakage = 0.0
    kinds = {t.id: t.kind for t in instance.teams}
    for group in problem.groups:
        if not group.eligible:
            continue
        municipality = group.municipality
        weight = users[group.user_idcs[0]].weight
        travel_km += group.size * min(
            problem.km(a, municipality) for a in group.eligible
        )
        costs = []
        for a in group.eligible:
            employer = advisors[a].employer
            if employer == "state" or employer == municipality:
                costs.append(0.0)
            else:
                costs.append(weight / cases_per_fte(problem, kinds[advisors[a].team]))
        leakage += group.size * min(costs)
    return {
        "coverage_min": structural["coverage_min"],
        "single_points": structural["single_points"],
        "uncovered": structural["uncovered"],
        "forced_moves": structural["forced_moves"],
        "unassigned_floor": max(0.0, round(total - placed, 6)),
        "travel_floor_hours": travel_km / instance.policy.travel_speed_kmh,
        "leakage_floor_fte": leakage,
    }


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether ``a`` is as good as ``b`` everywhere and better once (minimised)."""
    return all(x <= y + 1e-9 for x, y in zip(a, b, strict=True)) and any(
        x < y - 1e-9 for x, y in zip(a, b, strict=True)
    )


def pareto_indices(vectors: Sequence[Sequence[float]]) -> list[int]:
    """Indices of the vectors no other vector dominates (all figures minimised).

    Equal vectors are all kept. Sorting by the sum first means a vector can
    only be dominated by one before it, which keeps this fast enough for
    tens of thousands of structures.
    """
    order = sorted(range(len(vectors)), key=lambda i: (sum(vectors[i]), i))
    kept: list[int] = []
    for i in order:
        if not any(dominates(vectors[j], vectors[i]) for j in kept):
            kept.append(i)
    return sorted(kept)


def screened_vector(figures: dict[str, Any]) -> list[float]:
    """The screened figures as one vector to minimise (coverage_min negated)."""
    vector = []
    for name, larger_better in SCREENED.items():
        value = figures[name]
        value = float(value) if value is not None else 0.0
        vector.append(-value if larger_better else value)
    return vector
