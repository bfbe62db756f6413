"""Placement before stability: the weekly move rule.

By default a user whose current advisor may keep them stays (minimal churn,
``Problem.pinned``). When capacity is tight that can leave a user waiting
who could be placed if a settled user moved to another advisor with room
(for example the only advisor with a competence is full of users anyone
could take). Such a move is allowed by default when the policy's
``unassigned`` and ``reassignment`` weights say placing the waiting user is
worth it; moves for balance or travel alone still need ``--rebalance``, and a
week where nobody waits moves nobody.

The rule is solved in up to three steps, each an ordinary CP-SAT solve:

1. the week as pinned (minimal churn). If nobody waits for want of room
   (every unassigned user has no eligible advisor, or the run rebalances),
   this is the answer;
2. otherwise the settled users of the team kinds where someone waits are
   freed, and only placement and stability count: the unassigned,
   urgent_unassigned and reassignment goals (reassignment raised by 0.01 so
   that a tie keeps the user). The settled users this moves are exactly the
   moves those weights justify;
3. the full objective, with the users step 2 moved and the other settled
   users of their advisors free, but at most as many moves as step 2 made
   (so the balance and travel goals may choose *which* of an advisor's
   users makes room, never add a move); everyone else settled stays pinned.

A freed user may move but is never left without an advisor (that would only
change who waits). Each step is a solve with the run's own limits (time limit
and deterministic budget), so a week where someone waits for room may take
up to three times as long as one where nobody does, and stays reproducible.

Step 2's allocation is feasible in step 3 and step 1's in both, so the
objective never gets worse than the pinned week's.
"""

from __future__ import annotations

import dataclasses
import threading

from allocator.engine.cpsat.solver import (
    STOP_ORDER,
    ProgressCallback,
    Result,
    SolveParams,
)
from allocator.engine.problem import Problem
from allocator.engine.search import solve

# Goals that play no part in deciding whether a move is worth a placement.
SIDE_GOALS = ("load_balance", "travel", "rotation", "non_local")
# Added to the reassignment weight in step 2 (the model's resolution), so a
# move that only ties with leaving a user unassigned is not made.
TIE_BREAK = 0.01


def waiting_kinds(problem: Problem, allocation: list[int | None]) -> set[str]:
    """Team kinds with an unassigned user who has an eligible advisor."""
    return {
        group.kind
        for group in problem.groups
        if group.eligible and any(allocation[u] is None for u in group.user_idcs)
    }


def movable_groups(problem: Problem, kinds: set[str]) -> frozenset[int]:
    """Pinned groups of those team kinds: the users step 2 may move."""
    return frozenset(g for g in problem.pinned if problem.groups[g].kind in kinds)


def placement_problem(problem: Problem, free: frozenset[int]) -> Problem:
    """Step 2's problem: ``free`` unpinned, only placement and moves weighed."""
    weights = problem.instance.policy.weights
    update: dict[str, float] = dict.fromkeys(SIDE_GOALS, 0.0)
    update["reassignment"] = weights.reassignment + TIE_BREAK
    policy = problem.instance.policy.model_copy(
        update={"weights": weights.model_copy(update=update)}
    )
    instance = problem.instance.model_copy(update={"policy": policy})
    return dataclasses.replace(
        problem,
        instance=instance,
        pinned=problem.pinned - free,
        max_moves=None,
        freed=free,
    )


def moved_groups(
    problem: Problem, free: frozenset[int], allocation: list[int | None]
) -> tuple[frozenset[int], int]:
    """The freed groups whose users left their current advisor, and how many did."""
    moved: set[int] = set()
    count = 0
    for g in free:
        group = problem.groups[g]
        gone = sum(allocation[u] != group.current for u in group.user_idcs)
        if gone:
            moved.add(g)
            count += gone
    return frozenset(moved), count


def neighbours(
    problem: Problem, free: frozenset[int], moved: frozenset[int]
) -> frozenset[int]:
    """Freed groups sharing a current advisor with a moved one.

    Step 3 may swap which of an advisor's users makes room (e.g. the one
    whose move also saves travel); freeing only these keeps it small.
    """
    advisors = {problem.groups[g].current for g in moved}
    return frozenset(g for g in free if problem.groups[g].current in advisors)


def solve_placing_first(
    problem: Problem,
    params: SolveParams,
    hint: list[int | None] | None = None,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> tuple[Problem, Result]:
    """Solve under the weekly move rule; returns the problem solved last and its result.

    The returned problem has ``freed`` set to the settled groups allowed to
    move (empty when none moved), so reasons can say why they moved. With
    ``--rebalance`` (nothing pinned) this is a single ordinary solve.

    ``stop`` (an interrupt) ends the step under way and skips the rest: the
    result is then the best full-objective allocation found so far, marked
    ``stopped_by="interrupted"`` (step 2's allocation, weighed on placement
    alone, is never returned).
    """
    first = solve(problem, params, hint=hint, progress=progress, stop=stop)
    if first.status == "no_solution" or not problem.pinned:
        return problem, first
    if interrupted(stop):
        # The steps after this one are skipped: say so even if it was proven.
        return problem, dataclasses.replace(first, stopped_by="interrupted")
    free = movable_groups(problem, waiting_kinds(problem, first.allocation))
    if not free:
        return problem, first
    placing = solve(
        placement_problem(problem, free),
        # Step 2's allocation is never written (only which users it
        # moves counts), so its ties need no settling.
        dataclasses.replace(params, settle_ties=False),
        hint=first.allocation,
        stop=stop,
    )
    if placing.status == "no_solution" or interrupted(stop):
        return problem, with_stops(first, placing)
    moved, count = moved_groups(problem, free, placing.allocation)
    if not moved:
        return problem, with_stops(first, placing)
    near = neighbours(problem, free, moved)
    final_problem = dataclasses.replace(
        problem, pinned=problem.pinned - near, max_moves=count, freed=near
    )
    final = solve(
        final_problem,
        params,
        hint=placing.allocation,
        progress=progress,
        stop=stop,
    )
    if final.status == "no_solution" or final.objective > first.objective + 1e-6:
        return problem, with_stops(first, placing, final)
    return final_problem, with_stops(final, first, placing)


def interrupted(stop: threading.Event | None) -> bool:
    """Whether an interrupt asked the run to stop."""
    return stop is not None and stop.is_set()


def with_stops(result: Result, *others: Result) -> Result:
    """``result`` with the least reproducible stop reason of all the solves."""
    reasons = [r.stopped_by for r in (result, *others)]
    worst = next((s for s in STOP_ORDER if s in reasons), result.stopped_by)
    return dataclasses.replace(result, stopped_by=worst)
