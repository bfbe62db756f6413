"""``allocator explain``: why this user got this advisor and not another.

Computed from the instance and the written solution: the routing rule, the
goals the chosen advisor served, and for every other advisor of a matching
team the first hard rule that excludes them, or the goal on which they were
worse, with the figures.
"""

from __future__ import annotations

from typing import Any

from allocator.analysis.words import (
    N_,
    amount,
    pair_words,
    person,
    place,
    team_kind_words,
)
from allocator.domain import Instance, Previous, RoutingRule
from allocator.engine.evaluate import objective_terms
from allocator.engine.ledger import Ledger
from allocator.engine.problem import SCALE, Problem, build_problem, scaled_weight
from allocator.errors import SolutionError
from allocator.i18n import _, active

# The goals' names as explain shows them (summary.json's keys are the ids).
GOALS = {
    "unassigned": N_("unassigned"),
    "urgent_unassigned": N_("urgent_unassigned"),
    "reassignment": N_("reassignment"),
    "load_balance": N_("load_balance"),
    "travel": N_("travel"),
    "rotation": N_("rotation"),
    "non_local": N_("non_local"),
}


def explain_plan(
    instance: Instance, previous: Previous, user_id: str
) -> dict[str, Any]:
    """The explanation of one user's allocation in a solution, as data.

    ``previous`` is the solution as its reader gives it
    (``io.previous.read_previous``; ``io.explain.explain`` reads the folder):
    its previous_advisor column is what the solve used as each user's current
    advisor, its advisor column the allocation, its reason the solve's own.

    Raises:
        SolutionError: ``user_id`` is not in the instance.
    """
    ids = {u.id for u in instance.users}
    if user_id not in ids:
        raise SolutionError(
            _("user {user} is not in the instance.").format(user=user_id)
        )
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
        "advisor_named": person(problem, chosen) if chosen is not None else None,
        "current_advisor": user.current_advisor,
        "prefers_non_local": user.prefer_non_local,
        "chosen": figures(problem, state, u, chosen) if chosen is not None else None,
        "alternatives": [],
        # How the text names each advisor (name and id in Norwegian).
        "named": {},
    }
    for a in candidates(problem, u):
        if a == chosen:
            continue
        advisor = instance.advisors[a]
        breach = pair_words(problem.facts, user, kind, advisor, current_id)
        if breach is None and fixed is not None and fixed.advisor != advisor.id:
            breach = _("lock: {source} row {row} fixes the user to {advisor}").format(
                source=fixed.source, row=fixed.row, advisor=fixed.advisor
            )
        if breach is None:
            breach = load_breach(problem, state, u, a, weight)
        if breach is None:
            breach = household_breach(problem, allocation, u, a)
        entry: dict[str, Any] = {"advisor": advisor.id, "team": advisor.team}
        result["named"][advisor.id] = person(problem, a)
        if breach is not None:
            entry["excluded_by"] = breach
        else:
            entry["worse_on"] = worse_on(problem, state, u, a, chosen)
            entry["objective_change"] = objective_change(problem, allocation, u, a)
        result["alternatives"].append(entry)
    result["first_change"] = first_change(problem, allocation, u)
    return result


def first_change(problem: Problem, allocation: list[int | None], u: int) -> str:
    """The first thing a team leader could change for this user, in words.

    An unassigned user: what the wait's cause asks for (more FTE in the
    team, a higher limit, a host agreement or competence, a lock removed).
    A placed user: a fix lock, the leader's way to choose another advisor.
    """
    from allocator.analysis.reasons import wait_causes

    user = problem.instance.users[u]
    group = next(g for g in problem.groups if u in g.user_idcs)
    teams = sorted({problem.instance.advisors[a].team for a in group.eligible})
    if allocation[u] is not None:
        return _(
            "to give the user another advisor: type fix beside that advisor in "
            "allocation.xlsx's lock column (or add a fix lock to locks.csv) and "
            "solve again"
        )
    cause = wait_causes(problem, allocation)[u].cause
    if cause == "capacity":
        return _(
            "more FTE in team {teams}: every advisor there who may take the user "
            "is full"
        ).format(teams=", ".join(teams))
    if cause == "intake":
        return _(
            "a higher weekly intake (intake_per_fte in instance.toml) or another "
            "advisor with room in team {teams}"
        ).format(teams=", ".join(teams))
    if cause == "municipalities":
        return _(
            "let an advisor in team {teams} serve one more municipality "
            "(max_municipalities in advisors.csv)"
        ).format(teams=", ".join(teams))
    if cause == "lock":
        return _("remove the forbid lock that keeps the user from an advisor with room")
    if cause == "household":
        return _(
            "an advisor who may take every member of household {household}"
        ).format(household=user.household)
    if cause == "weights":
        return _("a fix lock to one of the advisors with room")
    return _(
        "an advisor in {team_phrase} who may serve {municipality}: a host "
        "agreement, or the competence the user needs added in advisors.csv"
    ).format(
        team_phrase=team_kind_words(group.kind, article_too=True),
        municipality=place(problem.instance, user.municipality),
    )


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
    return "; ".join(tests) if tests else _("catches the rest")


def load_breach(
    problem: Problem, state: Ledger, u: int, a: int, weight: int
) -> str | None:
    """Rules 4 and 5 against the solution's other users, with figures."""
    user = problem.instance.users[u]
    breach = state.breach(a, weight, user.municipality, problem.current[u] != a)
    if breach is None:
        return None
    if breach.cause == "capacity":
        message = _("capacity: carries {load} of {capacity}, the user weighs {weight}")
        return message.format(
            load=amount(state.load[a] / SCALE),
            capacity=amount(problem.capacity[a] / SCALE),
            weight=amount(weight / SCALE),
        )
    if breach.cause == "intake":
        return _("intake: already {intake} new users of a weekly limit {limit}").format(
            intake=state.intake[a], limit=problem.intake_limit[a]
        )
    return _("municipalities: already serves {served} (limit {most})").format(
        served=", ".join(sorted(state.municipalities[a])),
        most=problem.max_municipalities[a],
    )


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
                return _("household: member {member} has advisor {advisor}").format(
                    member=other.id, advisor=person(problem, b)
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
        return [_("the user is unassigned; this advisor had room (see the reason)")]
    mine = figures(problem, state, u, chosen)
    worse = []
    if mine["continuity"] and not theirs["continuity"]:
        worse.append(_("continuity: the chosen advisor is the current one"))
    if theirs["travel_km"] > mine["travel_km"]:
        worse.append(
            _("travel: {theirs} km vs {mine} km").format(
                theirs=amount(theirs["travel_km"]), mine=amount(mine["travel_km"])
            )
        )
    if mine["non_local_preference_met"] and not theirs["non_local_preference_met"]:
        worse.append(_("preference: the user prefers a non-local advisor"))
    ua, uc = theirs["utilisation_after"], mine["utilisation_after"]
    if ua is not None and uc is not None and ua > uc:
        worse.append(
            _("load: utilisation would be {theirs} vs {mine}").format(
                theirs=share(ua), mine=share(uc)
            )
        )
    if not worse:
        worse.append(_("tie: equal on every goal; the model's order decided"))
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


def signed(value: float) -> str:
    """A change with its sign: ``+1.7`` in English, ``+1,7`` in Norwegian."""
    if active() == "en":
        return f"{value:+g}"
    return ("+" if value >= 0 else "-") + amount(abs(value))


def share(value: float) -> str:
    """A utilisation as a percentage: ``94%`` in English, ``94 %`` in nb."""
    from allocator.i18n import percent

    return f"{value:.0%}" if active() == "en" else percent(value)


def explain_text(data: dict[str, Any]) -> str:
    """The explanation as lines a team leader can read (active language)."""
    routing = data["routing"]
    lines = [
        _("user {user}: routing rule {rule} ({tests}) -> {kind} team").format(
            user=data["user"], rule=routing["rule"], tests=routing["tests"],
            kind=team_kind_words(routing["team_kind"]),
        ),
    ]  # fmt: skip
    if data["advisor"] is None:
        lines.append("  " + _("unassigned"))
    else:
        chosen = data["chosen"]
        served = [
            _("continuity (current advisor)") if chosen["continuity"] else None,
            _("travel {km} km").format(km=amount(chosen["travel_km"])),
            _("utilisation {share}").format(share=share(chosen["utilisation_after"]))
            if chosen["utilisation_after"] is not None
            else None,
            _("non-local preference met")
            if data["prefers_non_local"] and not chosen["local"]
            else None,
        ]
        lines.append(
            "  "
            + _("advisor {advisor}: {served}").format(
                advisor=data.get("advisor_named") or data["advisor"],
                served=", ".join(s for s in served if s),
            )
        )
    if data.get("reason"):
        lines.append("  " + _("reason: {reason}").format(reason=data["reason"]))
    for alt in data["alternatives"]:
        who = data.get("named", {}).get(alt["advisor"]) or alt["advisor"]
        if "excluded_by" in alt:
            lines.append(
                "  "
                + _("not {advisor}: {why}").format(advisor=who, why=alt["excluded_by"])
            )
        else:
            change = alt["objective_change"]
            terms = ", ".join(
                f"{_(GOALS.get(name, name))} {signed(value)}"
                for name, value in change.items()
                if name != "total"
            )
            message = _("not {advisor}: worse on {goals} (objective {total}: {terms})")
            lines.append(
                "  "
                + message.format(
                    advisor=who, goals="; ".join(alt["worse_on"]),
                    total=signed(change["total"]), terms=terms or _("no change"),
                )
            )  # fmt: skip
    if data.get("first_change"):
        change_line = _("first thing to change: {change}")
        lines.append("  " + change_line.format(change=data["first_change"]))
    return "\n".join(lines)
