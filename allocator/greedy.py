"""The greedy baseline: what a team leader does by hand.

Locked users first, then everyone keeps a current advisor who may keep them,
then the rest, urgent users first, each to the least-loaded eligible advisor
with room. It obeys every hard rule, so it is also the model's first hint.
"""

from __future__ import annotations

import math
import time

from .evaluate import objective
from .problem import Problem, voluntary
from .solve import Result


class Ledger:
    """Load, intake and municipalities per advisor while placing users."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        n = problem.num_advisors
        self.load = [0] * n
        self.intake = [0] * n
        self.municipalities: list[set[str]] = [set() for _ in range(n)]

    def fits(self, a: int, weight: int, municipality: str, newcomer: bool) -> bool:
        p = self.problem
        if self.load[a] + weight > p.capacity[a]:
            return False
        limit = p.intake_limit[a]
        if newcomer and limit is not None and self.intake[a] >= limit:
            return False
        cap = p.max_municipalities[a]
        served = self.municipalities[a]
        return not (cap and municipality not in served and len(served) >= cap)

    def take(self, a: int, weight: int, municipality: str, newcomer: bool) -> None:
        self.load[a] += weight
        self.intake[a] += newcomer
        self.municipalities[a].add(municipality)

    def utilisation(self, a: int) -> float:
        cap = self.problem.capacity[a]
        return self.load[a] / cap if cap else math.inf


def solve_greedy(problem: Problem) -> Result:
    """Place users one by one; never breaks a hard rule."""
    start = time.perf_counter()
    allocation: list[int | None] = [None] * len(problem.instance.users)
    ledger = Ledger(problem)
    household_advisor: dict[str, int] = {}
    placements = [(g, u) for g, grp in enumerate(problem.groups) for u in grp.user_idcs]

    def priority(item: tuple[int, int]) -> tuple[int, int]:
        g, u = item
        group = problem.groups[g]
        if group.fixed is not None:
            return (0, u)
        if voluntary(group):
            return (1, u)
        return (2 if group.urgent else 3, u)

    for g, u in sorted(placements, key=priority):
        group = problem.groups[g]
        user = problem.instance.users[u]
        options = list(group.eligible)
        if user.household in household_advisor:
            options = [a for a in options if a == household_advisor[user.household]]
        elif voluntary(group):
            options = [group.current]  # type: ignore[list-item]
        best = None
        for a in options:
            newcomer = a != group.current
            if not ledger.fits(a, group.weight, group.municipality, newcomer):
                continue
            key = (ledger.utilisation(a), problem.km(a, group.municipality), a)
            if best is None or key < best[0]:
                best = (key, a)
        if best is None and group.current in group.eligible:
            # A current advisor who is full cannot keep the user; try the rest.
            for a in group.eligible:
                if a != group.current and ledger.fits(
                    a, group.weight, group.municipality, True
                ):
                    key = (ledger.utilisation(a), problem.km(a, group.municipality), a)
                    if best is None or key < best[0]:
                        best = (key, a)
        if best is None:
            continue
        a = best[1]
        allocation[u] = a
        ledger.take(a, group.weight, group.municipality, a != group.current)
        if user.household is not None:
            household_advisor.setdefault(user.household, a)
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
