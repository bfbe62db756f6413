"""The objective recomputed in plain Python from a per-user allocation.

The model's value must equal this sum (tests assert it); it also prices the
greedy baseline and the objective breakdown in summary.json. Each term rounds
exactly as the model does (two decimals per coefficient, utilisation in per
mille) so the two agree to the cent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from allocator.engine.problem import SCALE, Problem, scaled_weight

Allocation = Sequence[int | None]


def cents(value: float) -> float:
    """Round to the model's resolution of 0.01 objective units."""
    return round(value * 100) / 100


def objective_terms(problem: Problem, allocation: Allocation) -> dict[str, float]:
    """Weighted value of every soft goal (0 for goals switched off)."""
    weights = problem.instance.policy.weights
    users = problem.instance.users
    advisors = problem.instance.advisors
    terms = dict.fromkeys(
        ("unassigned", "urgent_unassigned", "reassignment", "load_balance",
         "travel", "rotation", "non_local"),
        0.0,
    )  # fmt: skip
    rotation_due = rotation_flags(problem)
    # Users of the problem's groups: every user for a whole problem, the
    # part's own for a part of a decomposed one (allocator.engine.decompose).
    for u in sorted(u for group in problem.groups for u in group.user_idcs):
        user = users[u]
        a = allocation[u]
        current = problem.current[u]
        if a is None:
            terms["unassigned"] += cents(
                weights.unassigned * scaled_weight(user.weight) / SCALE
            )
            terms["urgent_unassigned"] += weights.urgent_unassigned * user.urgent
        else:
            terms["travel"] += cents(weights.travel * problem.km(a, user.municipality))
            if user.prefer_non_local and advisors[a].base == user.municipality:
                terms["non_local"] += weights.non_local
            if a == current and rotation_due[u]:
                terms["rotation"] += weights.rotation
        if current is not None and a != current:
            terms["reassignment"] += weights.reassignment
    if problem.instance.policy.rotation_months <= 0:
        terms["rotation"] = 0.0
    terms["load_balance"] = weights.load_balance * peaks(problem, allocation)
    return {name: round(value, 2) for name, value in terms.items()}


def objective(problem: Problem, allocation: Allocation) -> float:
    """The total the model minimises."""
    return round(sum(objective_terms(problem, allocation).values()), 2)


def rotation_flags(problem: Problem) -> list[bool]:
    """Per user: kept beyond rotation_months with the current advisor."""
    flags = [False] * len(problem.instance.users)
    for group in problem.groups:
        for u in group.user_idcs:
            flags[u] = group.rotation_due
    return flags


def peaks(problem: Problem, allocation: Allocation) -> float:
    """Sum over teams of the highest utilisation, as a fraction.

    Utilisation is taken in whole per mille, rounded up, exactly as the
    model's integer peak is.
    """
    load = [0] * problem.num_advisors
    for group in problem.groups:
        for u in group.user_idcs:
            a = allocation[u]
            if a is not None:
                load[a] += group.weight
    total = 0
    for members in problem.balanced_teams().values():
        total += max(math.ceil(1000 * load[a] / problem.capacity[a]) for a in members)
    return total / 1000
