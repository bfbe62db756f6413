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
from collections.abc import Sequence

from allocator.engine.eligibility import no_advisor_reason
from allocator.engine.problem import SCALE, Problem


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
    return "\n".join(lines)


def cases_per_fte(problem: Problem, kind: str) -> float:
    """Weighted cases a full-time casework post carries in a team of this kind."""
    policy = problem.instance.policy
    return policy.cases_per_fte_by_kind.get(kind, policy.cases_per_fte)


def shortages(problem: Problem, allocation: Sequence[int | None]) -> list[str]:
    """What the unassigned users say is missing, in FTE where capacity is short.

    Users who had eligible advisors but found them full are capacity missing
    in their team kind, broken down by municipality ("youth team: 2.50 FTE
    short for users in hol and al (hol 1.50, al 1.00)"); users with no
    eligible advisor at all miss a competence, authority or a team, and are
    counted under that reason.
    """
    short: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    missing: dict[str, int] = defaultdict(int)
    for group in problem.groups:
        for u in group.user_idcs:
            if allocation[u] is not None:
                continue
            user = problem.instance.users[u]
            if group.eligible:
                short[group.kind][user.municipality] += user.weight
            else:
                missing[no_advisor_reason(problem.facts, user, group.kind)] += 1
    lines = []
    for kind, places in sorted(short.items()):
        per_fte = cases_per_fte(problem, kind)
        ranked = sorted(places.items(), key=lambda item: (-item[1], item[0]))
        names = [name for name, _ in ranked]
        where = " and ".join(
            [", ".join(names[:-1]), names[-1]] if len(names) > 1 else names
        )
        detail = ", ".join(f"{name} {weight / per_fte:.2f}" for name, weight in ranked)
        total = sum(places.values()) / per_fte
        lines.append(
            f"{kind} team: {total:.2f} FTE short for users in {where} ({detail})"
        )
    lines += [f"{count} user(s): {reason}" for reason, count in sorted(missing.items())]
    return lines
