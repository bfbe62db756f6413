"""The README's hard allocation rules, one function each.

Rules 1, 2, 3, 6 and the forbid half of rule 7 depend only on the pair and are
enforced by pruning in ``problem.py`` (no variable exists for a pair that
breaks them); the functions here enforce the rules that tie pairs together.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable

from ortools.sat.python import cp_model

from allocator.engine.cpsat.variables import Variables
from allocator.engine.problem import Problem

Rule = Callable[[cp_model.CpModel, Problem, Variables], None]


def assign_each_user_at_most_once(
    model: cp_model.CpModel, problem: Problem, variables: Variables
) -> None:
    """Hard: every user of a group is assigned at most once; ``left`` counts the rest.

    ``left >= size - assigned`` rather than an equality: the goals push
    ``left`` down to the true count, and an equality would let presolve put
    ``size - assigned`` into the objective, a huge constant minus many terms
    that the LP cannot bound precisely.
    """
    for g, group in enumerate(problem.groups):
        # Pinned groups: keep_stable_users fixes the count and ``left`` is 0
        # by its domain; two constraints each would only slow the build.
        if g in variables.left and g not in problem.pinned:
            model.add(variables.assigned(g) <= group.size)
            model.add(variables.assigned(g) + variables.left[g] >= group.size)


def hold_fix_locks(
    model: cp_model.CpModel, problem: Problem, variables: Variables
) -> None:
    """Hard (rule 7): a fixed user gets exactly the locked advisor."""
    for g, group in enumerate(problem.groups):
        if group.fixed is not None:
            model.add(variables.assign[g, group.fixed] == 1)
            model.add(variables.left[g] == 0)


def respect_capacity(
    model: cp_model.CpModel, problem: Problem, variables: Variables
) -> None:
    """Hard (rule 4, R16): assigned weight stays within the advisor's capacity.

    The limit is stated as the most load the advisor's users can make up
    (``usable_capacity``), the same rule in a form whose relaxation is tighter.
    """
    for a, pairs in enumerate(variables.by_advisor):
        most = sum(problem.groups[g].weight * problem.groups[g].size for g, _ in pairs)
        if most > problem.capacity[a]:
            load = sum(problem.groups[g].weight * var for g, var in pairs)
            model.add(load <= usable_capacity(problem, a, pairs))


def usable_capacity(
    problem: Problem, a: int, pairs: list[tuple[int, cp_model.IntVar]]
) -> int:
    """The advisor's capacity rounded down to a multiple of its users' weights' gcd.

    Every load the advisor can carry is such a multiple, so this is the same
    rule (rule 4); the linear relaxation, which cannot round, gets a bound as
    tight as the integers allow (a 16,800 capacity for users of weight 1,000
    and 1,500 holds at most 16,500: the LP saw 300 more, a user's worth of
    the unassigned goal).
    """
    step = 0
    for g, _ in pairs:
        step = math.gcd(step, problem.groups[g].weight)
    capacity = problem.capacity[a]
    return capacity - capacity % step if step else capacity


def respect_intake_limit(
    model: cp_model.CpModel, problem: Problem, variables: Variables
) -> None:
    """Hard (rule 4): new users per advisor stay within the weekly intake."""
    for a, pairs in enumerate(variables.by_advisor):
        limit = problem.intake_limit[a]
        if limit is None:
            continue
        newcomers = [
            (problem.groups[g].size, var)
            for g, var in pairs
            if problem.groups[g].current != a
        ]
        if sum(size for size, _ in newcomers) > limit:
            model.add(sum(var for _, var in newcomers) <= limit)


def limit_municipalities(
    model: cp_model.CpModel, problem: Problem, variables: Variables
) -> None:
    """Hard (rule 5, R01): an advisor serves at most K municipalities."""
    for a, pairs in enumerate(variables.by_advisor):
        cap = problem.max_municipalities[a]
        by_municipality: dict[str, list[tuple[int, cp_model.IntVar]]] = defaultdict(
            list
        )
        for g, var in pairs:
            by_municipality[problem.groups[g].municipality].append((g, var))
        if cap == 0 or len(by_municipality) <= cap:
            continue
        serves = []
        for municipality, members in by_municipality.items():
            flag = model.new_bool_var(f"serves[{a},{municipality}]")
            variables.serves[a, municipality] = flag
            for g, var in members:
                model.add(var <= problem.groups[g].size * flag)
            # The same link on the load, capped by the capacity: a much
            # tighter LP when a municipality could fill the advisor (the
            # bound then counts whole municipalities, not slivers of them).
            most = sum(
                problem.groups[g].weight * problem.groups[g].size for g, _ in members
            )
            reach = min(most, usable_capacity(problem, a, pairs))
            if reach < most:
                load = sum(problem.groups[g].weight * var for g, var in members)
                model.add(load <= reach * flag)
            serves.append(flag)
        model.add(sum(serves) <= cap)


def keep_households_together(
    model: cp_model.CpModel, problem: Problem, variables: Variables
) -> None:
    """Hard (rule 8): assigned members of a household share one advisor."""
    for h, members in enumerate(problem.households):
        # The pairs that have variables: a pinned member has only its
        # current advisor, so a settled household costs one choice, not one
        # per eligible advisor.
        advisors = sorted({a for g in members for a, _ in variables.by_group[g]})
        choice = {a: model.new_bool_var(f"household[{h},{a}]") for a in advisors}
        for a, var in choice.items():
            variables.household[h, a] = var
        model.add(sum(choice.values()) <= 1)
        for g in members:
            for a, var in variables.by_group[g]:
                model.add(var <= choice[a])


def keep_stable_users(
    model: cp_model.CpModel, problem: Problem, variables: Variables
) -> None:
    """Hard (minimal churn, R12): pinned users stay with their current advisor."""
    for g in problem.pinned:
        group = problem.groups[g]
        assert group.current is not None
        model.add(variables.assign[g, group.current] == group.size)


def keep_freed_users_placed(
    model: cp_model.CpModel, problem: Problem, variables: Variables
) -> None:
    """Hard (placement before stability): a settled user freed to make room
    for a waiting one may move, but is never left without an advisor.

    Dropping an active user so that another is placed is no move; it only
    changes who waits.
    """
    for g in problem.freed:
        model.add(variables.assigned(g) == problem.groups[g].size)


def limit_moves(
    model: cp_model.CpModel, problem: Problem, variables: Variables
) -> None:
    """Hard (--max-moves): at most N users moved by choice when rebalancing."""
    if problem.max_moves is None:
        return
    moves = []
    # Only settled users count: moves forced by an overfull advisor are not
    # a choice and must never make the limit infeasible.
    for g in problem.settled:
        group = problem.groups[g]
        assert group.current is not None
        moves.append(group.size - variables.assign[g, group.current])
    model.add(sum(moves) <= problem.max_moves)


# The index of hard rules, applied in this order.
HARD_CONSTRAINTS: tuple[Rule, ...] = (
    assign_each_user_at_most_once,
    hold_fix_locks,
    respect_capacity,
    respect_intake_limit,
    limit_municipalities,
    keep_households_together,
    keep_stable_users,
    keep_freed_users_placed,
    limit_moves,
)
