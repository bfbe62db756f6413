"""``allocator explain``: why this user got this advisor and not another.

Computed from the instance and the written solution: the routing rule, the
goals the chosen advisor served, and for every other advisor of a matching
team the first hard rule that excludes them, or the goal on which they were
worse, with the figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from allocator.domain import Instance, RoutingRule
from allocator.engine.eligibility import first_breach
from allocator.engine.evaluate import objective_terms
from allocator.engine.ledger import Ledger
from allocator.engine.problem import Problem, build_problem, scaled_weight
from allocator.errors import SolutionError
from allocator.io.previous import read_previous


def explain(instance: Instance, solution: Path, user_id: str) -> dict[str, Any]:
    """The explanation of one user's allocation, as data (for --json)."""
    previous = read_previous(solution)
    ids = {u.id for u in instance.users}
    if user_id not in ids:
        raise SolutionError(f"user {user_id} is not in the instance.")
    # The solution's previous_advisor column is what the solve used as current.
    users = []
    for user in instance.users:
        current = previous.previous_advisor.get(user.id, "")
        users.append(user.model_copy(update={"current_advisor": current or None}))
    instance = instance.model_copy(update={"users": tuple(users)})
    problem = build_problem(instance, rebalance=True)
    index = {a.id: i for i, a in enumerate(instance.advisors)}
    allocation = [index.get(previous.advisor.get(u.id, "")) for u in instance.users]
    u = next(i for i, user in enumerate(instance.users) if user.id == user_id)
    data = explain_user(problem, allocation, u)
    # The solve's own reason (why the user waits or changed advisor), which
    # knows what this reconstruction cannot: e.g. a move that made room.
    data["reason"] = previous.reason.get(user_id, "")
    return data


def explain_user(
    problem: Problem, allocation: list[int | None], u: int
) -> dict[str, Any]:
    """Routing, the chosen advisor's merits and every alternative's verdict."""
    instance = problem.instance
    user = instance.users[u]
    rule_idx, kind = problem.routing[u]
    chosen = allocation[u]
    without = list(allocation)
    without[u] = None
    state = Ledger.of(problem, without)
    weight = scaled_weight(user.weight)
    current = problem.current[u]
    current_id = instance.advisors[current].id if current is not None else None
    fixed = next(
        (
            lock
            for lock in instance.locks
            if lock.user == user.id and lock.kind == "fix"
        ),
        None,
    )
    result: dict[str, Any] = {
        "user": user.id,
        "routing": {
            "rule": rule_idx + 1,
            "team_kind": kind,
            "tests": describe_rule(instance.routing[rule_idx]),
        },
        "advisor": instance.advisors[chosen].id if chosen is not None else None,
        "current_advisor": user.current_advisor,
        "prefers_non_local": user.prefer_non_local,
        "chosen": figures(problem, state, u, chosen) if chosen is not None else None,
        "alternatives": [],
    }
    for a in candidates(problem, u):
        if a == chosen:
            continue
        advisor = instance.advisors[a]
        breach = first_breach(problem.facts, user, kind, advisor, current_id)
        if breach is None and fixed is not None and fixed.advisor != advisor.id:
            breach = (
                f"lock: {fixed.source} row {fixed.row} fixes the user to "
                f"{fixed.advisor}"
            )
        if breach is None:
            breach = load_breach(problem, state, u, a, weight)
        if breach is None:
            breach = household_breach(problem, allocation, u, a)
        entry: dict[str, Any] = {"advisor": advisor.id, "team": advisor.team}
        if breach is not None:
            entry["excluded_by"] = breach
        else:
            entry["worse_on"] = worse_on(problem, state, u, a, chosen)
            entry["objective_change"] = objective_change(problem, allocation, u, a)
        result["alternatives"].append(entry)
    return result


def candidates(problem: Problem, u: int) -> list[int]:
    """Advisors of a team of the routed kind serving the user, and the current one."""
    user = problem.instance.users[u]
    found = set(problem.candidates(problem.routing[u][1], user.municipality))
    if problem.current[u] is not None:
        found.add(problem.current[u])  # type: ignore[arg-type]
    return sorted(found)


def describe_rule(rule: RoutingRule) -> str:
    """A routing rule's tests in words, e.g. 'age_max 29'."""
    tests = [
        f"{name} {value if not isinstance(value, tuple) else ', '.join(value)}"
        for name, value in rule.model_dump(exclude={"team_kind"}).items()
        if value is not None
    ]
    return "; ".join(tests) if tests else "catches the rest"


def load_breach(
    problem: Problem, state: Ledger, u: int, a: int, weight: int
) -> str | None:
    """Rules 4 and 5 against the solution's other users, with figures."""
    user = problem.instance.users[u]
    breach = state.breach(a, weight, user.municipality, problem.current[u] != a)
    return breach.detail if breach else None


def household_breach(
    problem: Problem, allocation: list[int | None], u: int, a: int
) -> str | None:
    """Rule 8: another member of the household has another advisor."""
    user = problem.instance.users[u]
    if user.household is None:
        return None
    for v, other in enumerate(problem.instance.users):
        if v != u and other.household == user.household:
            b = allocation[v]
            if b is not None and b != a:
                return (
                    f"household: member {other.id} has advisor "
                    f"{problem.instance.advisors[b].id}"
                )
    return None


def figures(problem: Problem, state: Ledger, u: int, a: int) -> dict[str, Any]:
    """What taking user u would mean for advisor a: the goals' figures."""
    user = problem.instance.users[u]
    advisor = problem.instance.advisors[a]
    cap = problem.capacity[a]
    load_after = state.load[a] + scaled_weight(user.weight)
    return {
        "continuity": problem.current[u] == a,
        "travel_km": round(problem.km(a, user.municipality), 1),
        "utilisation_after": round(load_after / cap, 3) if cap else None,
        "local": advisor.base == user.municipality,
        "non_local_preference_met": not user.prefer_non_local
        or advisor.base != user.municipality,
    }


def worse_on(
    problem: Problem, state: Ledger, u: int, a: int, chosen: int | None
) -> list[str]:
    """Goals on which advisor a does worse than the chosen one, with figures."""
    theirs = figures(problem, state, u, a)
    if chosen is None:
        return ["the user is unassigned; this advisor had room (see the reason)"]
    mine = figures(problem, state, u, chosen)
    worse = []
    if mine["continuity"] and not theirs["continuity"]:
        worse.append("continuity: the chosen advisor is the current one")
    if theirs["travel_km"] > mine["travel_km"]:
        worse.append(f"travel: {theirs['travel_km']:g} km vs {mine['travel_km']:g} km")
    if mine["non_local_preference_met"] and not theirs["non_local_preference_met"]:
        worse.append("preference: the user prefers a non-local advisor")
    ua, uc = theirs["utilisation_after"], mine["utilisation_after"]
    if ua is not None and uc is not None and ua > uc:
        worse.append(f"load: utilisation would be {ua:.0%} vs {uc:.0%}")
    if not worse:
        worse.append("tie: equal on every goal; the model's order decided")
    return worse


def objective_change(
    problem: Problem, allocation: list[int | None], u: int, a: int
) -> dict[str, float]:
    """How each goal would change if user u went to advisor a instead.

    Only goals that change are listed; positive is worse. The total is what
    the optimiser weighed when it preferred the chosen advisor.
    """
    before = objective_terms(problem, allocation)
    moved = list(allocation)
    moved[u] = a
    after = objective_terms(problem, moved)
    change = {
        name: round(after[name] - before[name], 2)
        for name in before
        if abs(after[name] - before[name]) > 1e-9
    }
    change["total"] = round(sum(change.values()), 2)
    return change


def explain_text(data: dict[str, Any]) -> str:
    """The explanation as lines a team leader can read."""
    routing = data["routing"]
    lines = [
        f"user {data['user']}: routing rule {routing['rule']} ({routing['tests']}) "
        f"-> {routing['team_kind']} team",
    ]
    if data["advisor"] is None:
        lines.append("  unassigned")
    else:
        chosen = data["chosen"]
        served = [
            "continuity (current advisor)" if chosen["continuity"] else None,
            f"travel {chosen['travel_km']:g} km",
            f"utilisation {chosen['utilisation_after']:.0%}"
            if chosen["utilisation_after"] is not None
            else None,
            "non-local preference met"
            if data["prefers_non_local"] and not chosen["local"]
            else None,
        ]
        lines.append(
            f"  advisor {data['advisor']}: " + ", ".join(s for s in served if s)
        )
    if data.get("reason"):
        lines.append(f"  reason: {data['reason']}")
    for alt in data["alternatives"]:
        if "excluded_by" in alt:
            lines.append(f"  not {alt['advisor']}: {alt['excluded_by']}")
        else:
            change = alt["objective_change"]
            terms = ", ".join(
                f"{name} {value:+g}"
                for name, value in change.items()
                if name != "total"
            )
            lines.append(
                f"  not {alt['advisor']}: worse on "
                + "; ".join(alt["worse_on"])
                + f" (objective {change['total']:+g}: {terms or 'no change'})"
            )
    return "\n".join(lines)
