"""Re-place one absent advisor's users, exactly: the N-1 question (R15).

Everyone else keeps their advisor; only the absent advisor's users are
placed again among the others, under every rule: the pair rules through
each group's eligible advisors (rules 1, 2, 3, 6, 7), the capacity and
weekly intake left over (rule 4), the municipalities an advisor may still
add (rule 5) and one advisor per household (rule 8). The model maximises
the weight placed, so the weight left is the least any re-placement leaves.
A small model: the absent advisor's users, grouped as the problem groups
them, against the advisors eligible for them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from allocator.engine.ledger import Ledger
from allocator.engine.problem import Problem


@dataclass(frozen=True)
class Replacement:
    """How many of each group's users found an advisor, and whether proved."""

    placed: dict[int, int]  # group index -> users placed again
    optimal: bool


def replace_users(
    problem: Problem,
    ledger: Ledger,
    absent: int,
    users: Sequence[int],
    time_limit: float = 60.0,
) -> Replacement:
    """Place ``users`` (all the absent advisor's) among the other advisors.

    Args:
        problem: the solved structure's problem (its groups and limits).
        ledger: load, intake and municipalities of every advisor in the
            solved allocation; the absent advisor's own entry is ignored.
        absent: index of the absent advisor.
        users: indices of the users the absent advisor carried.
        time_limit: seconds; ``optimal`` is False if the search stopped
            before proving the most weight placed.

    Returns:
        Users placed per group (the users of one group are interchangeable).
    """
    group_of = _group_index(problem, users)
    count: dict[int, int] = defaultdict(int)
    for u in users:
        count[group_of[u]] += 1
    model = cp_model.CpModel()
    take: dict[tuple[int, int], cp_model.IntVar] = {}
    new_places: dict[tuple[int, str], cp_model.IntVar] = {}
    for g, n in count.items():
        group = problem.groups[g]
        for b in group.eligible:
            if b == absent:
                continue
            served = ledger.municipalities[b]
            most = problem.max_municipalities[b]
            if most and group.municipality not in served and len(served) >= most:
                continue  # rule 5: no room for another municipality
            var = model.new_int_var(0, n, f"take[{g},{b}]")
            take[g, b] = var
            if most and group.municipality not in served:
                key = (b, group.municipality)
                if key not in new_places:
                    new_places[key] = model.new_bool_var(f"adds[{b},{key[1]}]")
                model.add(var <= n * new_places[key])
    by_advisor: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    by_group: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for (g, b), var in take.items():
        by_advisor[b].append((g, var))
        by_group[g].append(var)
    for g, options in by_group.items():
        model.add(sum(options) <= count[g])
    for b, pairs in by_advisor.items():
        room = problem.capacity[b] - ledger.load[b]
        model.add(sum(problem.groups[g].weight * var for g, var in pairs) <= room)
        limit = problem.intake_limit[b]
        if limit is not None:
            newcomers = [var for g, var in pairs if problem.groups[g].current != b]
            model.add(sum(newcomers) <= max(0, limit - ledger.intake[b]))
        most = problem.max_municipalities[b]
        if most:
            adds = [var for (a, _), var in new_places.items() if a == b]
            model.add(sum(adds) <= most - len(ledger.municipalities[b]))
    _households_together(model, problem, count, take)
    model.maximize(sum(problem.groups[g].weight * var for (g, _), var in take.items()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = time_limit
    code = solver.solve(model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # Placing nobody is always feasible, so this is only a time-out
        # before the first solution: nothing proved, nothing placed.
        return Replacement({g: 0 for g in count}, optimal=False)
    placed = {g: 0 for g in count}
    for (g, _), var in take.items():
        placed[g] += solver.value(var)
    return Replacement(placed, optimal=code == cp_model.OPTIMAL)


def _group_index(problem: Problem, users: Sequence[int]) -> dict[int, int]:
    wanted = set(users)
    found = {}
    for g, group in enumerate(problem.groups):
        for u in group.user_idcs:
            if u in wanted:
                found[u] = g
    return found


def _households_together(
    model: cp_model.CpModel,
    problem: Problem,
    count: dict[int, int],
    take: dict[tuple[int, int], cp_model.IntVar],
) -> None:
    """Rule 8: the re-placed members of a household share one advisor."""
    for members in problem.households:
        present = [g for g in members if g in count]
        if len(present) < 2:
            continue
        advisors = sorted({b for (g, b) in take if g in present})
        choice = {b: model.new_bool_var(f"household[{b}]") for b in advisors}
        model.add(sum(choice.values()) <= 1)
        for g in present:
            for b in advisors:
                if (g, b) in take:
                    model.add(take[g, b] <= choice[b])
