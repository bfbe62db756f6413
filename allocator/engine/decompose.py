"""Independent parts of a problem, each solvable on its own.

Two groups of users are in one part when some advisor may take users of
both (their eligible advisors overlap), when they share a household (rule
8), or when their advisors are in one team (the balance goal, R16, takes
the highest utilisation per team). Nothing else ties users together: the
hard rules are per advisor (capacity, intake, municipalities) or per group,
and every goal is a sum over users, advisors or teams. So the objective is
the sum of the parts' objectives, and an allocation is optimal exactly when
each part's is. The one global rule, ``--max-moves`` (a limit on moves over
the whole office), keeps the problem whole.

Groups with no eligible advisor (they wait whatever happens) form no part;
their cost is a constant of the objective.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from allocator.engine.problem import Problem


@dataclass(frozen=True)
class Part:
    """One independent part: its groups and advisors, by the whole problem's indices.

    ``problem`` is the part as a problem of its own: the same instance,
    advisors and indices, only its groups (re-indexed from 0 in the order of
    ``groups``), its households and the teams of its advisors.
    """

    groups: tuple[int, ...]
    advisors: tuple[int, ...]
    problem: Problem

    @property
    def users(self) -> int:
        """Number of users in the part."""
        return sum(self.problem.groups[g].size for g in range(len(self.groups)))


class _UnionFind:
    """Disjoint sets over 0..n-1 with path halving; the root is the least index."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, x: int, y: int) -> None:
        rx, ry = self.find(x), self.find(y)
        if rx != ry:
            # The smaller root wins, so the sets do not depend on call order.
            if ry < rx:
                rx, ry = ry, rx
            self.parent[ry] = rx


def options(problem: Problem, g: int) -> tuple[int, ...]:
    """The advisors group ``g`` may get in the model (its current one when pinned)."""
    group = problem.groups[g]
    if g in problem.pinned and group.current is not None:
        return (group.current,)
    return group.eligible


def split(problem: Problem) -> list[Part]:
    """The problem's independent parts, ordered by their first group.

    Returns one part holding every group with an option when the problem
    has a global rule (``max_moves``); groups without any eligible advisor
    belong to no part. Deterministic: the same problem gives the same parts
    in the same order.
    """
    n_groups = len(problem.groups)
    n = n_groups + problem.num_advisors
    sets = _UnionFind(n)
    # Node g for group g, n_groups + a for advisor a.
    for g in range(n_groups):
        for a in options(problem, g):
            sets.union(g, n_groups + a)
    for members in problem.households:
        for g in members[1:]:
            sets.union(members[0], g)
    first_of_team: dict[int, int] = {}
    for a in range(problem.num_advisors):
        team = problem.team_of[a]
        if team in first_of_team:
            sets.union(first_of_team[team], n_groups + a)
        else:
            first_of_team[team] = n_groups + a
    placeable = [g for g in range(n_groups) if options(problem, g)]
    if problem.max_moves is not None:
        roots = dict.fromkeys(placeable, 0)
    else:
        roots = {g: sets.find(g) for g in placeable}
    by_root: dict[int, list[int]] = {}
    for g in placeable:
        by_root.setdefault(roots[g], []).append(g)
    parts = []
    for groups in by_root.values():
        advisors = sorted({a for g in groups for a in options(problem, g)})
        if problem.max_moves is not None:
            advisors = list(range(problem.num_advisors))
        else:
            # Advisors of the part's teams with nobody eligible still count
            # for their team's balance.
            teams = {problem.team_of[a] for a in advisors}
            advisors = [
                a for a in range(problem.num_advisors) if problem.team_of[a] in teams
            ]
        parts.append(
            Part(
                groups=tuple(groups),
                advisors=tuple(advisors),
                problem=restrict(problem, groups, advisors),
            )
        )
    return parts


def restrict(
    problem: Problem, groups: Sequence[int], advisors: Sequence[int]
) -> Problem:
    """The problem with only ``groups`` (re-indexed) and the teams of ``advisors``."""
    index = {g: i for i, g in enumerate(groups)}

    def inside(indices: frozenset[int]) -> frozenset[int]:
        return frozenset(index[g] for g in indices if g in index)

    # A household's members in this part; a member nobody can take belongs
    # to no part and needs no rule (it is never placed).
    households = [
        kept
        for members in problem.households
        if len(kept := [index[g] for g in members if g in index]) > 1
    ]
    return dataclasses.replace(
        problem,
        groups=[problem.groups[g] for g in groups],
        households=households,
        settled=inside(problem.settled),
        pinned=inside(problem.pinned),
        freed=inside(problem.freed),
        teams_in_scope=frozenset(problem.team_of[a] for a in advisors),
    )


def merge(
    size: int, parts: Sequence[Part], allocations: Sequence[Sequence[int | None]]
) -> list[int | None]:
    """One allocation of ``size`` users from the parts' allocations.

    Each part's allocation is per user of the whole instance; only the users
    of the part's groups are taken from it. Users in no part stay None.
    """
    result: list[int | None] = [None] * size
    for part, allocation in zip(parts, allocations, strict=True):
        for group in part.problem.groups:
            for u in group.user_idcs:
                result[u] = allocation[u]
    return result
