"""N-1: each advisor absent in turn, the weight nobody else can take (R15).

The single-absence question a leader asks when someone is sick (risk
factor 2, "Sårbarhet ved sjukdom, ferie og vakanse"). For each advisor in
turn, that advisor is absent and only their users are placed again among
the others; everyone else keeps their advisor and every rule holds. The
weight that cannot be placed is that advisor's N-1 weight.

It is computed exactly, for every advisor, not by sampling. A quick pass
first places the users one household or user at a time with the one ledger
of rules 4-5 (``engine.ledger``); when it places them all, nothing is left
and no search can do better, so the figure is exact. Otherwise a small
CP-SAT model maximises the weight placed (``engine.cpsat.replace``) and
proves it. A user fixed by a lock to the absent advisor cannot be placed
elsewhere (rule 7 names no one else), so that weight counts as left.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from allocator.engine.cpsat.replace import replace_users
from allocator.engine.ledger import Ledger
from allocator.engine.problem import Problem, scaled_weight

Allocation = Sequence[int | None]


@dataclass(frozen=True)
class Absence:
    """One advisor absent: their users, and the weight nobody else can take."""

    advisor: str
    users: int
    weight: float  # weighted users left unplaced
    # True when proved least (by the quick pass placing all, or by CP-SAT).
    exact: bool


def absences(
    problem: Problem,
    allocation: Allocation,
    advisors: Iterable[int] | None = None,
    time_limit: float = 60.0,
) -> list[Absence]:
    """The N-1 weight of each advisor (all of them, in input order, by default).

    Args:
        problem: the solved structure's problem, as built for the solve.
        allocation: advisor index per user from that solve.
        advisors: advisor indices to take out, one at a time.
        time_limit: seconds per CP-SAT re-placement.
    """
    chosen = range(problem.num_advisors) if advisors is None else advisors
    ledger = Ledger.of(problem, allocation)
    group_of = {u: g for g, group in enumerate(problem.groups) for u in group.user_idcs}
    carried: dict[int, list[int]] = defaultdict(list)
    for u, a in enumerate(allocation):
        if a is not None:
            carried[a].append(u)
    return [
        absence(problem, ledger, group_of, a, carried[a], time_limit) for a in chosen
    ]


def absence(
    problem: Problem,
    ledger: Ledger,
    group_of: dict[int, int],
    a: int,
    users: list[int],
    time_limit: float,
) -> Absence:
    """Advisor ``a`` absent: the least weight of ``users`` left unplaced."""
    advisor_id = problem.instance.advisors[a].id
    if not users:
        return Absence(advisor_id, 0, 0.0, exact=True)
    if quick_pass(problem, _clone(ledger), group_of, a, users):
        return Absence(advisor_id, len(users), 0.0, exact=True)
    replacement = replace_users(problem, ledger, a, users, time_limit)
    left = 0.0
    remaining = dict(replacement.placed)
    for u in users:
        g = group_of[u]
        if remaining.get(g, 0) > 0:
            remaining[g] -= 1
        else:
            left += problem.instance.users[u].weight
    return Absence(advisor_id, len(users), left, exact=replacement.optimal)


def quick_pass(
    problem: Problem, ledger: Ledger, group_of: dict[int, int], a: int, users: list[int]
) -> bool:
    """Whether a greedy pass places every one of ``users`` without ``a``.

    Households move as one (rule 8); each unit goes to the eligible
    advisor with the most room left that no rule of 4-5 stops. Success is
    a proof that nothing is left; failure proves nothing.
    """
    instance = problem.instance
    units: dict[str, list[int]] = defaultdict(list)
    for u in users:
        units[instance.users[u].household or f"\0{u}"].append(u)
    order = sorted(
        units.values(),
        key=lambda unit: -sum(instance.users[u].weight for u in unit),
    )
    for unit in order:
        options = set.intersection(
            *(set(problem.groups[group_of[u]].eligible) for u in unit)
        ) - {a}
        best = None
        for b in sorted(options, key=lambda b: ledger.load[b] - problem.capacity[b]):
            if _fits(problem, ledger, b, unit):
                best = b
                break
        if best is None:
            return False
        for u in unit:
            user = instance.users[u]
            newcomer = problem.current[u] != best
            ledger.take(best, scaled_weight(user.weight), user.municipality, newcomer)
    return True


def _clone(ledger: Ledger) -> Ledger:
    """A copy of the ledger's figures; the problem is shared, not copied."""
    twin = Ledger(ledger.problem)
    twin.load = list(ledger.load)
    twin.intake = list(ledger.intake)
    twin.municipalities = [set(places) for places in ledger.municipalities]
    return twin


def _fits(problem: Problem, ledger: Ledger, b: int, unit: list[int]) -> bool:
    """Rules 4-5 for a whole household at once on advisor ``b``."""
    if len(unit) == 1:
        user = problem.instance.users[unit[0]]
        newcomer = problem.current[unit[0]] != b
        weight = scaled_weight(user.weight)
        return ledger.breach(b, weight, user.municipality, newcomer) is None
    trial = Ledger(problem)
    trial.load[b] = ledger.load[b]
    trial.intake[b] = ledger.intake[b]
    trial.municipalities[b] = set(ledger.municipalities[b])
    for u in unit:
        user = problem.instance.users[u]
        weight = scaled_weight(user.weight)
        newcomer = problem.current[u] != b
        if trial.breach(b, weight, user.municipality, newcomer) is not None:
            return False
        trial.take(b, weight, user.municipality, newcomer)
    return True


def n1_summary(items: Sequence[Absence]) -> tuple[float, str | None, float, bool]:
    """(worst weight, worst advisor, mean weight over all advisors, all exact).

    The worst advisor is the first in input order among equals; ``None``
    when the instance has no advisors.
    """
    if not items:
        return 0.0, None, 0.0, True
    worst = max(items, key=lambda item: item.weight)
    mean = sum(item.weight for item in items) / len(items)
    return worst.weight, worst.advisor, mean, all(item.exact for item in items)
