"""Capacity against demand, before solving: what `allocator validate` prints.

A team leader should see a shortage before asking the solver. Demand is the
weighted users routed to a team kind; capacity is what the advisors of that
kind can carry. Per municipality, the capacity shown is what the teams
serving it could give it if they gave it everything (shared, so it is an
upper bound), and for users who need municipal authority, only advisors
holding it count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from allocator.analysis.reasons import WaitCause, wait_causes
from allocator.analysis.words import N_, and_list, team_kind_words
from allocator.engine.eligibility import no_advisor_reason
from allocator.engine.problem import SCALE, Problem, household_splits
from allocator.i18n import _, active, fixed


def kind_balance(problem: Problem) -> dict[str, tuple[float, float]]:
    """Team kind -> (demand, capacity) in weighted users."""
    demand: dict[str, float] = defaultdict(float)
    supply: dict[str, float] = defaultdict(float)
    for u, user in enumerate(problem.instance.users):
        demand[problem.routing[u][1]] += user.weight
    for a, advisor in enumerate(problem.instance.advisors):
        kind = problem.facts.teams[advisor.team].kind
        supply[kind] += problem.capacity[a] / SCALE
    kinds = sorted(set(demand) | set(supply))
    return {kind: (demand[kind], supply[kind]) for kind in kinds}


def municipality_balance(
    problem: Problem,
) -> dict[tuple[str, str], tuple[float, float, int]]:
    """(kind, municipality) -> (demand, reachable capacity, users with no advisor)."""
    demand: dict[tuple[str, str], float] = defaultdict(float)
    stranded: dict[tuple[str, str], int] = defaultdict(int)
    reach: dict[tuple[str, str], set[int]] = defaultdict(set)
    for group in problem.groups:
        key = (group.kind, group.municipality)
        demand[key] += group.weight * group.size / SCALE
        reach[key].update(group.eligible)
        if not group.eligible:
            stranded[key] += group.size
    return {
        key: (
            demand[key],
            sum(problem.capacity[a] for a in reach[key]) / SCALE,
            stranded[key],
        )
        for key in sorted(demand)
    }


def capacity_overview(problem: Problem) -> str:
    """The text `allocator validate` prints."""
    instance = problem.instance
    lines = [
        f"instance {instance.name}: {len(instance.municipalities)} municipalities, "
        f"{len(instance.teams)} teams, {len(instance.advisors)} advisors "
        f"({sum(a.fte for a in instance.advisors):.2f} FTE), "
        f"{len(instance.users)} users "
        f"({sum(u.status == 'new' for u in instance.users)} new, "
        f"{sum(u.urgent for u in instance.users)} urgent), "
        f"{len(instance.locks)} locks.",
        "",
        f"  {'team kind':<20} {'demand':>9} {'capacity':>9}  status",
    ]
    for kind, (need, have) in kind_balance(problem).items():
        short = (need - have) / cases_per_fte(problem, kind)
        status = "ok" if have >= need else f"SHORT by {short:.2f} FTE"
        lines.append(f"  {kind:<20} {need:>9.1f} {have:>9.1f}  {status}")
    lines += ["", f"  {'team kind':<20} {'municipality':<16} {'demand':>8} "
              f"{'reachable':>9}  status"]  # fmt: skip
    for (kind, municipality), (need, have, stranded) in municipality_balance(
        problem
    ).items():
        if stranded:
            status = f"{stranded} user(s) with no eligible advisor"
        elif have < need:
            status = f"SHORT by {(need - have) / cases_per_fte(problem, kind):.2f} FTE"
        else:
            status = "ok"
        lines.append(
            f"  {kind:<20} {municipality:<16} {need:>8.1f} {have:>9.1f}  {status}"
        )
    lines += contradictions(problem)
    return "\n".join(lines)


# Most users named one by one in validate's list of users nobody may take.
MAX_LISTED = 20


def contradictions(problem: Problem) -> list[str]:
    """What validate names before a solve: users nobody may take, split households.

    Each user with no eligible advisor is listed with the rules that leave
    none (competence, authority, availability, a team for the municipality,
    locks); each household whose members can share no advisor is named with
    its members and their team kinds.
    """
    instance = problem.instance
    stranded = [
        (u, group.kind)
        for group in problem.groups
        if not group.eligible
        for u in group.user_idcs
    ]
    stranded.sort()
    lines: list[str] = []
    if stranded:
        label = instance.files.get("users", "users.csv")
        lines += ["", f"  {len(stranded)} user(s) with no eligible advisor:"]
        for u, kind in stranded[:MAX_LISTED]:
            user = instance.users[u]
            reason = no_advisor_reason(problem.facts, user, kind)
            lines.append(f"    {user.id} ({label} row {user.row}): {reason}")
        if len(stranded) > MAX_LISTED:
            lines.append(f"    ... and {len(stranded) - MAX_LISTED} more")
    splits = household_splits(problem)
    if splits:
        lines += ["", f"  {len(splits)} household(s) that no advisor can serve whole:"]
        lines += [f"    {split.describe()}" for split in splits]
    return lines


def cases_per_fte(problem: Problem, kind: str) -> float:
    """Weighted cases a full-time casework post carries in a team of this kind."""
    policy = problem.instance.policy
    return policy.cases_per_fte_by_kind.get(kind, policy.cases_per_fte)


@dataclass(frozen=True)
class Shortage:
    """Capacity missing for one team kind in one municipality."""

    kind: str
    municipality: str
    weight: float  # weighted users waiting because their advisors are full
    fte: float  # weight / cases_per_fte(kind)


def shortage_records(
    problem: Problem,
    allocation: Sequence[int | None],
    causes: Mapping[int, WaitCause] | None = None,
) -> list[Shortage]:
    """Capacity missing per (team kind, municipality), sorted by both.

    A user counts only when capacity is the cause of the wait (every advisor
    who may take them is full, ``wait_causes``); users held back by the
    intake or municipality limit, a lock, a household or no eligible advisor
    are not an FTE shortage. The one source of the ``short:`` lines, the
    leader's workbook and page, and comparison.csv's ``shortage_fte``.
    ``causes`` is ``wait_causes(problem, allocation)`` when the caller has it
    already (a solve needs it three times; a region's takes a while).
    """
    if causes is None:
        causes = wait_causes(problem, allocation)
    short: dict[tuple[str, str], float] = defaultdict(float)
    for u, cause in causes.items():
        if cause.cause == "capacity":
            user = problem.instance.users[u]
            short[problem.routing[u][1], user.municipality] += user.weight
    return [
        Shortage(kind, municipality, weight, weight / cases_per_fte(problem, kind))
        for (kind, municipality), weight in sorted(short.items())
    ]


def shortages(
    problem: Problem,
    allocation: Sequence[int | None],
    causes: Mapping[int, WaitCause] | None = None,
) -> list[str]:
    """What the unassigned users say is missing, each under its real cause.

    Only users whose eligible advisors are at capacity are capacity missing:
    they are given in FTE per team kind and municipality ("youth team: 2.50
    FTE short for users in hol and al (hol 1.50, al 1.00)"). Users blocked
    by the weekly intake limit or the municipality limit, users with no
    eligible advisor (competence, authority, availability, a forbid lock),
    households no advisor can serve whole, and users the policy weights left
    out are counted under that cause instead. ``causes``: as for
    ``shortage_records``.
    """
    if causes is None:
        causes = wait_causes(problem, allocation)
    short: dict[str, dict[str, float]] = defaultdict(dict)
    for record in shortage_records(problem, allocation, causes):
        short[record.kind][record.municipality] = record.weight
    other: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    plain: dict[str, int] = defaultdict(int)
    for u, cause in sorted(causes.items()):
        user = problem.instance.users[u]
        kind = problem.routing[u][1]
        if cause.cause == "capacity":
            continue  # in the records above
        if cause.cause in ("no_advisor", "household"):
            plain[cause.text] += 1
        else:
            phrase = team_kind_words(kind, article_too=True)
            other[_(CAUSE_LINES[cause.cause]).format(team=phrase)][
                user.municipality
            ] += 1
    lines = []
    for kind, places in sorted(short.items()):
        per_fte = cases_per_fte(problem, kind)
        ranked = sorted(places.items(), key=lambda item: (-item[1], item[0]))
        names = [name for name, _ in ranked]
        detail = ", ".join(f"{name} {fte(weight / per_fte)}" for name, weight in ranked)
        total = sum(places.values()) / per_fte
        lines.append(
            _("{kind} team: {total} FTE short for users in {places} ({detail})").format(
                kind=team_kind_words(kind), total=fte(total),
                places=joined(names), detail=detail,
            )
        )  # fmt: skip
    for text, where in sorted(other.items()):
        ranked = sorted(where.items(), key=lambda item: (-item[1], item[0]))
        detail = ", ".join(f"{name} {n}" for name, n in ranked)
        lines.append(
            _("{count} user(s): {text} ({detail})").format(
                count=sum(where.values()), text=text, detail=detail
            )
        )
    lines += [
        _("{count} user(s): {text}").format(count=count, text=text)
        for text, count in sorted(plain.items())
    ]
    return lines


def fte(value: float) -> str:
    """FTE with two decimals: ``2.50`` in English, ``2,50`` in Norwegian."""
    return f"{value:.2f}" if active() == "en" else fixed(value, 2)


# Causes other than capacity, as the short: line says them.
CAUSE_LINES = {
    "intake": N_(
        "every advisor in {team} who may take them is at the weekly intake "
        "limit, not at capacity"
    ),
    "municipalities": N_(
        "every advisor in {team} who may take them already serves its limit "
        "of municipalities"
    ),
    "weights": N_(
        "advisors in {team} had room, but the policy weights left them unassigned"
    ),
    "lock": N_(
        "a forbid lock excludes an advisor in {team} who had room; the others "
        "who may take them are full"
    ),
}


def joined(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c' (in the active language)."""
    return and_list(names)
