"""Who may take whom: the README's allocation rules 1, 2, 3, 6 and forbid locks.

These rules depend only on the (user, advisor) pair, so the model enforces
them by never creating a variable for a pair that breaks one (pruning); the
same functions explain, afterwards, why a user could not be placed or why a
previous advisor was not kept. One function per rule, each returning None when
the rule holds and a short phrase naming the rule when it does not.
"""

from __future__ import annotations

from dataclasses import dataclass

from allocator.domain import Advisor, Instance, Team, User


@dataclass(frozen=True)
class Facts:
    """The instance's lookups the rules need, computed once."""

    instance: Instance
    teams: dict[str, Team]
    authority: dict[str, frozenset[str]]
    authority_competences: frozenset[str]
    # (user, advisor) pairs a forbid lock excludes (rule 7).
    forbidden: frozenset[tuple[str, str]]

    @classmethod
    def of(cls, instance: Instance) -> Facts:
        members: dict[str, set[str]] = {}
        for agreement in instance.host_agreements:
            members.setdefault(agreement.host, set()).update(agreement.members)
        authority = {}
        for advisor in instance.advisors:
            authority[advisor.id] = municipal_authority(advisor, members)
        return cls(
            instance=instance,
            teams={team.id: team for team in instance.teams},
            authority=authority,
            authority_competences=frozenset(
                c.id for c in instance.competences if c.municipal_authority
            ),
            forbidden=frozenset(
                (lock.user, lock.advisor)
                for lock in instance.locks
                if lock.kind == "forbid"
            ),
        )


def municipal_authority(
    advisor: Advisor, host_members: dict[str, set[str]]
) -> frozenset[str]:
    """Municipalities the advisor may decide for (R02).

    A municipal employee carries the employer's authority and, when the
    employer hosts an agreement, its members'. A state employee never has
    municipal authority.
    """
    if advisor.employer == "state":
        return frozenset()
    return frozenset({advisor.employer, *host_members.get(advisor.employer, ())})


def routed_kind(instance: Instance, user: User) -> tuple[int, str]:
    """Index (0-based) and team kind of the first routing rule matching the user."""
    for idx, rule in enumerate(instance.routing):
        if rule.matches(user):
            return idx, rule.team_kind
    # The reader rejects users no rule matches, so this cannot happen.
    raise AssertionError(f"user {user.id} matches no routing rule")


def article(word: str) -> str:
    """'an' before a vowel, else 'a' (team kinds are plain lower-case words)."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def team_phrase(kind: str) -> str:
    """'an assessment team', 'a youth team'."""
    return f"{article(kind)} {kind} team"


def team_kind_rule(
    facts: Facts, user: User, kind: str, advisor: Advisor, current: str | None
) -> str | None:
    """Rule 1a: the advisor's team has the routed kind, or keeps a current user."""
    team = facts.teams[advisor.team]
    if team.kind == kind:
        return None
    if facts.instance.policy.keep_current_team and advisor.id == current:
        return None
    return f"team {team.id} is {team_phrase(team.kind)}, the user is routed to {kind}"


def team_municipality_rule(facts: Facts, user: User, advisor: Advisor) -> str | None:
    """Rule 1b: the advisor's team serves the user's municipality."""
    team = facts.teams[advisor.team]
    if not team.municipalities or user.municipality in team.municipalities:
        return None
    return f"team {team.id} does not serve {user.municipality}"


def competence_rule(facts: Facts, user: User, advisor: Advisor) -> str | None:
    """Rule 2: the advisor has every competence the user needs."""
    missing = [need for need in user.needs if need not in advisor.competences]
    if not missing:
        return None
    return f"advisor {advisor.id} lacks competence {', '.join(missing)}"


def authority_rule(facts: Facts, user: User, advisor: Advisor) -> str | None:
    """Rule 3: municipal authority over the user's municipality when needed.

    The phrase gives the cause behind the rule (R02): a state employee never
    holds municipal authority; a municipal employee holds the employer's and,
    through a host agreement, its members'.
    """
    if not needs_authority(facts, user):
        return None
    if user.municipality in facts.authority[advisor.id]:
        return None
    needs = " and ".join(
        need for need in user.needs if need in facts.authority_competences
    )
    verb = "needs" if " and " not in needs else "need"
    wanted = f"{needs} {verb} it in {user.municipality}"
    if advisor.employer == "state":
        return (
            f"advisor {advisor.id} is a state employee, and state employees never "
            f"hold municipal authority; {wanted}"
        )
    held = sorted(facts.authority[advisor.id])
    hosted = len(held) > 1
    listed = " and ".join([", ".join(held[:-1]), held[-1]] if hosted else held)
    via = " (as host of an agreement)" if hosted else " only"
    return (
        f"advisor {advisor.id} is employed by {advisor.employer}, which holds "
        f"municipal authority in {listed}{via}; {wanted}"
    )


def availability_rule(
    facts: Facts, user: User, advisor: Advisor, current: str | None
) -> str | None:
    """Rule 6: an unavailable advisor keeps current users but takes no others."""
    if advisor.available or advisor.id == current:
        return None
    return f"advisor {advisor.id} is not available this week"


def forbid_rule(facts: Facts, user: User, advisor: Advisor) -> str | None:
    """Rule 7 (forbid half): a forbid lock excludes the pair."""
    if (user.id, advisor.id) not in facts.forbidden:
        return None
    return f"a forbid lock excludes advisor {advisor.id}"


def needs_authority(facts: Facts, user: User) -> bool:
    """Whether any of the user's needs is a municipal-authority competence."""
    return any(need in facts.authority_competences for need in user.needs)


def first_breach(
    facts: Facts,
    user: User,
    kind: str,
    advisor: Advisor,
    current: str | None,
) -> str | None:
    """The first pair rule the (user, advisor) pair breaks, or None if eligible."""
    return (
        team_kind_rule(facts, user, kind, advisor, current)
        or team_municipality_rule(facts, user, advisor)
        or competence_rule(facts, user, advisor)
        or authority_rule(facts, user, advisor)
        or availability_rule(facts, user, advisor, current)
        or forbid_rule(facts, user, advisor)
    )


def no_advisor_reason(facts: Facts, user: User, kind: str) -> str:
    """Why no advisor at all is eligible, as a team leader would say it.

    Filters the advisors of the routed kind rule by rule and names the rules
    that emptied the set, e.g. "no available advisor in a youth team has
    competence debt_counselling and authority in fla".
    """
    pool = [a for a in facts.instance.advisors if facts.teams[a.team].kind == kind]
    if not pool:
        return f"no {kind} team has any advisor"
    pool = [a for a in pool if team_municipality_rule(facts, user, a) is None]
    if not pool:
        return f"no {kind} team serves {user.municipality}"
    clauses: list[str] = []
    if user.needs:
        pool = [a for a in pool if competence_rule(facts, user, a) is None]
        clauses.append(f"competence {' and '.join(user.needs)}")
    if pool and needs_authority(facts, user):
        pool = [a for a in pool if authority_rule(facts, user, a) is None]
        clauses.append(f"authority in {user.municipality}")
    has = f" has {' and '.join(clauses)}" if clauses else ""
    if not pool:
        return f"no advisor in {team_phrase(kind)}{has}"
    pool = [a for a in pool if a.available]
    if not pool:
        return f"no available advisor in {team_phrase(kind)}{has}"
    # Everyone left is excluded by a forbid lock.
    return "every eligible advisor is excluded by a forbid lock"
