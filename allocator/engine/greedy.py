"""The greedy baseline: what a team leader does by hand.

Locked users first, then everyone keeps a current advisor who may keep them,
then the rest, urgent users first, each to the least-loaded eligible advisor
with room. It obeys every hard rule, so it is also the model's first hint.
"""

from __future__ import annotations

import time

from allocator.engine.cpsat.solver import Result
from allocator.engine.evaluate import objective
from allocator.engine.ledger import Ledger
from allocator.engine.problem import Problem, voluntary


def solve_greedy(problem: Problem, *, compact: bool = False) -> Result:
    """Place users one by one; never breaks a hard rule.

    ``compact`` is the variant used as a better first solution: among the
    open users, those with the fewest eligible advisors go first, and an
    advisor already serving the user's municipality is preferred, so the
    municipality limit (rule 5) does not run out early. Without it, the
    least-loaded rule spreads a first allocation over every advisor and
    leaves users unassigned whom an advisor could still take.
    """
    start = time.perf_counter()
    allocation: list[int | None] = [None] * len(problem.instance.users)
    ledger = Ledger(problem)
    household_advisor: dict[str, int] = {}
    placements = [(g, u) for g, grp in enumerate(problem.groups) for u in grp.user_idcs]

    def priority(item: tuple[int, int]) -> tuple[int, ...]:
        g, u = item
        group = problem.groups[g]
        if group.fixed is not None:
            return (0, u)
        if voluntary(group):
            return (1, u)
        if compact:
            return (2 if group.urgent else 3, len(group.eligible), u)
        return (2 if group.urgent else 3, u)

    def least_loaded(g: int, options: list[int]) -> int | None:
        """The eligible advisor with room and the lowest utilisation, then km."""
        group = problem.groups[g]
        fitting = [
            a
            for a in options
            if ledger.breach(a, group.weight, group.municipality, a != group.current)
            is None
        ]
        if compact:
            return min(
                fitting,
                key=lambda a: (
                    group.municipality not in ledger.municipalities[a],
                    ledger.utilisation(a),
                    problem.km(a, group.municipality),
                    a,
                ),
                default=None,
            )
        return min(
            fitting,
            key=lambda a: (ledger.utilisation(a), problem.km(a, group.municipality), a),
            default=None,
        )

    for g, u in sorted(placements, key=priority):
        group = problem.groups[g]
        user = problem.instance.users[u]
        if user.household in household_advisor:
            # Rule 8: the household's advisor or nobody.
            shared = household_advisor[user.household]
            chosen = least_loaded(g, [shared]) if shared in group.eligible else None
        elif voluntary(group):
            # Keep the current advisor; if they are full, anyone eligible.
            assert group.current is not None
            chosen = least_loaded(g, [group.current])
            if chosen is None:
                chosen = least_loaded(g, list(group.eligible))
        else:
            chosen = least_loaded(g, list(group.eligible))
        if chosen is None:
            continue
        allocation[u] = chosen
        ledger.take(chosen, group.weight, group.municipality, chosen != group.current)
        if user.household is not None:
            household_advisor.setdefault(user.household, chosen)
    value = objective(problem, allocation)
    wall = time.perf_counter() - start
    return Result(
        status="feasible",
        objective=value,
        bound=float("nan"),
        wall_s=wall,
        build_s=0.0,
        time_to_first_s=wall,
        allocation=allocation,
        solver="greedy",
    )


def first_solution(problem: Problem, baseline: Result) -> Result:
    """The better of the baseline and the compact greedy: the search's hint.

    Only when most users are open (a first allocation, a new structure):
    there the compact variant placed far more users on generated offices
    (hallingdal with no current advisors: 3 unassigned against 29). On a
    weekly re-solve the baseline is kept and nothing extra is computed.
    Ties keep the baseline.
    """
    settled = sum(problem.groups[g].size for g in problem.pinned)
    if 2 * settled >= len(problem.instance.users):
        return baseline
    compact = solve_greedy(problem, compact=True)
    return compact if compact.objective < baseline.objective else baseline
