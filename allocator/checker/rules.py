"""Section 4: the rules every allocation obeys, one function each.
"""

from __future__ import annotations

from allocator.checker.derived import (
    _find_team,
    authority,
    max_municipalities,
    routed_rule,
)
from allocator.checker.format import ASSIGNMENTS, CAPACITY_SLACK
from allocator.checker.solution import Solution


def rule_1_team(sol: Solution) -> list[str]:
    """The team's kind is the routed kind (or the user stays) and it serves them."""
    problems = []
    keep_team = sol.instance.policy.keep_current_team
    for user, advisor in sol.assigned_pairs():
        team = _find_team(sol.instance, advisor.team)
        if team is None:
            problems.append(
                f"rule 1 (team): user {user.id} -> advisor {advisor.id} "
                f"whose team {advisor.team} does not exist"
            )
            continue
        routed = routed_rule(sol.instance, user)
        stays = sol.current[user.id] == advisor.id
        if routed is None:
            problems.append(f"rule 1 (team): user {user.id} matches no routing rule")
        elif team.kind != routed[1] and not (keep_team and stays):
            problems.append(
                f"rule 1 (team): user {user.id} -> advisor {advisor.id} in team "
                f"{team.id} of kind {team.kind}, not the user's routed kind"
            )
        if team.municipalities and user.municipality not in team.municipalities:
            problems.append(
                f"rule 1 (team): user {user.id} -> advisor {advisor.id} in team "
                f"{team.id}, which does not serve the user's municipality"
            )
    return problems


def rule_2_competence(sol: Solution) -> list[str]:
    """The advisor has every competence the user needs."""
    problems = []
    for user, advisor in sol.assigned_pairs():
        missing = [need for need in user.needs if need not in advisor.competences]
        if missing:
            problems.append(
                f"rule 2 (competence): user {user.id} -> advisor {advisor.id} "
                f"lacks {', '.join(missing)}"
            )
    return problems


def rule_3_authority(sol: Solution) -> list[str]:
    """Municipal authority over the user's municipality when a need requires it."""
    problems = []
    authority_needs = {c.id for c in sol.instance.competences if c.municipal_authority}
    for user, advisor in sol.assigned_pairs():
        if not authority_needs & set(user.needs):
            continue
        if user.municipality not in authority(sol.instance, advisor):
            problems.append(
                f"rule 3 (municipal authority): user {user.id} -> advisor "
                f"{advisor.id} (employer {advisor.employer}) has no municipal "
                "authority over the user's municipality"
            )
    return problems


def rule_4_capacity(sol: Solution) -> list[str]:
    """Assigned weight stays within capacity; new users within the intake limit."""
    problems = []
    for advisor in sol.instance.advisors:
        load, cap = sol.load(advisor.id), sol.capacities[advisor.id]
        if load > cap + CAPACITY_SLACK:
            problems.append(
                f"rule 4 (capacity): advisor {advisor.id} has load {load:g}, "
                f"capacity {cap:g}"
            )
        limit, new = sol.limits[advisor.id], sol.new_users(advisor.id)
        if limit is not None and new > limit:
            problems.append(
                f"rule 4 (intake): advisor {advisor.id} takes {new} new users, "
                f"weekly intake limit {limit}"
            )
    return problems


def rule_5_municipalities(sol: Solution) -> list[str]:
    """An advisor serves users from at most max_municipalities municipalities."""
    problems = []
    for advisor in sol.instance.advisors:
        most = max_municipalities(sol.instance, advisor)
        served = sol.municipalities_of(advisor.id)
        if most and len(served) > most:
            problems.append(
                f"rule 5 (municipalities): advisor {advisor.id} serves "
                f"{len(served)} municipalities ({';'.join(sorted(served))}), "
                f"at most {most}"
            )
    return problems


def rule_6_availability(sol: Solution) -> list[str]:
    """An unavailable advisor keeps only the users who stay with it."""
    return [
        f"rule 6 (availability): unavailable advisor {advisor.id} takes user "
        f"{user.id}, who is not staying with it"
        for user, advisor in sol.assigned_pairs()
        if not advisor.available and sol.current[user.id] != advisor.id
    ]


def rule_7_locks(sol: Solution) -> list[str]:
    """Fix locks hold and forbid pairs never occur."""
    problems = []
    for lock in sol.locks:
        given = sol.advisor_of.get(lock.user)
        where = f"rule 7 (locks): {lock.kind} lock from {lock.origin}"
        if lock.kind == "fix":
            if lock.user not in sol.users or lock.advisor not in sol.advisors:
                problems.append(f"{where} names an unknown user or advisor")
            elif given != lock.advisor:
                now = f"advisor {given}" if given else "no advisor"
                problems.append(
                    f"{where}: user {lock.user} -> advisor {lock.advisor} "
                    f"does not hold (user has {now})"
                )
        elif lock.kind == "forbid":
            if given == lock.advisor:
                problems.append(
                    f"{where}: user {lock.user} is assigned forbidden advisor "
                    f"{lock.advisor}"
                )
        else:
            problems.append(f"{where}: kind is not fix or forbid")
    return problems


def rule_8_household(sol: Solution) -> list[str]:
    """Assigned members of one household share one advisor."""
    households: dict[str, list[tuple[str, str]]] = {}
    for user, advisor in sol.assigned_pairs():
        if user.household:
            households.setdefault(user.household, []).append((user.id, advisor.id))
    problems = []
    # The household id is user data; the line names only the members' ids.
    for members in households.values():
        if len({advisor_id for _, advisor_id in members}) > 1:
            pairs = ", ".join(f"{u} -> {a}" for u, a in members)
            problems.append(
                f"rule 8 (household): members of one household have "
                f"different advisors: {pairs}"
            )
    return problems


def no_user_dropped(sol: Solution) -> list[str]:
    """Every input user is listed in assignments.csv, placed or not."""
    return [
        f"no user dropped: user {user.id} has no row in {ASSIGNMENTS}"
        for user in sol.instance.users
        if user.id not in sol.rows
    ]
