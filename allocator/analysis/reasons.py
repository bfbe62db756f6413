"""Readable reasons: why a user is unassigned, why a user changed advisor.

Computed from the problem and the final allocation, never canned: each
reason names the rule (or goal) and the figure behind it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from allocator.engine.eligibility import first_breach, no_advisor_reason
from allocator.engine.ledger import Ledger
from allocator.engine.problem import SCALE, Problem, scaled_weight

MAX_NAMED = 4  # advisors named in one reason before "and N more"


def explain_all(problem: Problem, allocation: Sequence[int | None]) -> list[str]:
    """One reason per user: empty unless unassigned or changed."""
    ledger = Ledger.of(problem, allocation)
    held = current_loads(problem)
    reasons = []
    group_of = {u: g for g, grp in enumerate(problem.groups) for u in grp.user_idcs}
    for u, user in enumerate(problem.instance.users):
        g = group_of[u]
        parts = []
        if allocation[u] is None:
            parts.append(unassigned_reason(problem, ledger, g, u))
        if user.current_advisor and allocation[u] != problem.current[u]:
            parts.append(change_reason(problem, held, g, u, allocation[u]))
        reasons.append("; ".join(p for p in parts if p))
    return reasons


def current_loads(problem: Problem) -> list[int]:
    """Scaled weight of the users whose current advisor each advisor is."""
    loads = [0] * problem.num_advisors
    for u, current in enumerate(problem.current):
        if current is not None:
            loads[current] += scaled_weight(problem.instance.users[u].weight)
    return loads


def blocking_rule(problem: Problem, ledger: Ledger, g: int, a: int) -> str | None:
    """Which of rules 4-5 keeps advisor a from taking one more of group g."""
    group = problem.groups[g]
    breach = ledger.breach(a, group.weight, group.municipality, group.current != a)
    return breach.label if breach else None


def unassigned_reason(problem: Problem, ledger: Ledger, g: int, u: int) -> str:
    """Why user u got no advisor: no eligible advisor, or all of them full."""
    group = problem.groups[g]
    user = problem.instance.users[u]
    if not group.eligible:
        return no_advisor_reason(problem.facts, user, group.kind)
    by_rule: dict[str, list[str]] = defaultdict(list)
    for a in group.eligible:
        rule = blocking_rule(problem, ledger, g, a) or "free"
        by_rule[rule].append(problem.instance.advisors[a].id)
    if "free" not in by_rule:
        if len(group.eligible) == 1:
            (rule, (only,)) = next(iter(by_rule.items()))
            return f"the only eligible advisor, {only}, is {rule}"
        parts = [f"{named(ids)} {rule}" for rule, ids in by_rule.items()]
        count = len(group.eligible)
        return f"all {count} eligible advisors are full: {'; '.join(parts)}"
    if user.household is not None:
        return (
            f"household {user.household} must share one advisor and no eligible "
            "advisor has room for all its members"
        )
    return (
        f"eligible advisor(s) {named(by_rule['free'])} had room, but placing the "
        "user would cost more than leaving them unassigned under the policy weights"
    )


def change_reason(
    problem: Problem, held: list[int], g: int, u: int, new: int | None
) -> str:
    """Why user u no longer has the previous advisor."""
    instance = problem.instance
    user = instance.users[u]
    previous = problem.current[u]
    group = problem.groups[g]
    if previous is None:
        return f"previous advisor {user.current_advisor} left"
    advisor = instance.advisors[previous]
    if group.fixed is not None and group.fixed != previous:
        return f"fix lock to advisor {instance.advisors[group.fixed].id}"
    if previous not in group.eligible:
        breach = first_breach(problem.facts, user, group.kind, advisor, advisor.id)
        return f"previous advisor no longer allowed: {breach}"
    if group.rerouted:
        rule = problem.routing[u][0] + 1
        return (
            f"routing now names a {group.kind} team (rule {rule}); advisor "
            f"{advisor.id} is in team {advisor.team} "
            f"({problem.facts.teams[advisor.team].kind})"
        )
    if group.rotation_due:
        months = instance.policy.rotation_months
        return f"rotation: with advisor {advisor.id} for more than {months:g} months"
    if held[previous] > problem.capacity[previous]:
        return (
            f"advisor {advisor.id}'s current caseload "
            f"{held[previous] / SCALE:g} exceeds capacity "
            f"{problem.capacity[previous] / SCALE:g}"
        )
    goal = "to balance load" if new is not None else "to make room"
    return f"moved {goal} under the policy weights"


def named(ids: list[str]) -> str:
    """A short list of advisor ids: 'a1, a2 and 3 more'."""
    shown = ", ".join(ids[:MAX_NAMED])
    if len(ids) > MAX_NAMED:
        shown += f" and {len(ids) - MAX_NAMED} more"
    return shown
