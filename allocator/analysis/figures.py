"""The figures a comparison of structures reports (README format, section 7).

One function per figure, each computed from data on the same users: an
allocation (advisor index per user, ``None`` = unassigned) of a problem, or
the instance alone for the structural figures (coverage, forced moves). A
figure names the rule it measures (DOMAIN.md section 4) and the Hallingdal
risk factor it stands in for (DOMAIN.md section 5.1). N-1 lives in ``n1.py``.

Weights are weighted users; FTE converts a load back to posts through the
team kind's ``cases_per_fte`` (load / cases_per_fte). Nothing here reads or
writes files, and nothing formats text.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from allocator.analysis.capacity import Shortage, cases_per_fte
from allocator.analysis.report import exact_capacity
from allocator.domain import Advisor, Instance, User
from allocator.engine.eligibility import (
    Facts,
    authority_rule,
    availability_rule,
    competence_rule,
    routed_kind,
    team_kind_rule,
    team_municipality_rule,
)
from allocator.engine.problem import Problem, capacity, scaled_weight

Allocation = Sequence[int | None]


def _kind_of(problem: Problem, advisor: Advisor) -> str:
    return problem.facts.teams[advisor.team].kind


def _load_fte(problem: Problem, advisor: Advisor, weight: float) -> float:
    """A load carried by ``advisor`` in posts of the advisor's team kind."""
    return weight / cases_per_fte(problem, _kind_of(problem, advisor))


# --- Placement (R08, R16 hard part) -------------------------------------------


def unassigned_weight(problem: Problem, allocation: Allocation) -> float:
    """Sum of the weights of unassigned users (weighted users)."""
    users = problem.instance.users
    return sum(users[u].weight for u, a in enumerate(allocation) if a is None)


def shortages(problem: Problem, allocation: Allocation) -> list[Shortage]:
    """The FTE short by team kind and municipality (risk factors 1 and 3).

    FORMAT's comparison figure: FTE missing to place every *placeable* user,
    i.e. every unassigned user who had at least one eligible advisor, whatever
    held them back. The leader's ``short:`` lines and workbook count narrower,
    only users whose advisors were full (``capacity.shortage_records``).
    Users with no eligible advisor at all miss a competence, authority or a
    team, which no FTE of that kind cures, so they are left out. Sorted by
    kind, then municipality.
    """
    short: dict[tuple[str, str], float] = defaultdict(float)
    users = problem.instance.users
    for group in problem.groups:
        if not group.eligible:
            continue
        for u in group.user_idcs:
            if allocation[u] is None:
                short[group.kind, users[u].municipality] += users[u].weight
    return [
        Shortage(kind, municipality, weight, weight / cases_per_fte(problem, kind))
        for (kind, municipality), weight in sorted(short.items())
    ]


def shortage_fte(problem: Problem, allocation: Allocation) -> float:
    """FTE missing to place every placeable user: the sum of the shortages."""
    return sum(item.fte for item in shortages(problem, allocation))


# --- Load (R16, risk factor 3) ------------------------------------------------


def advisor_loads(problem: Problem, allocation: Allocation) -> list[float]:
    """Weighted users carried by each advisor, in input order."""
    load = [0.0] * problem.num_advisors
    for u, a in enumerate(allocation):
        if a is not None:
            load[a] += problem.instance.users[u].weight
    return load


@dataclass(frozen=True)
class Utilisation:
    """Load / capacity over the advisors with capacity, as fractions."""

    max: float | None
    min: float | None
    mean: float | None


def utilisation(problem: Problem, allocation: Allocation) -> Utilisation:
    """Utilisation per FTE (R16): max, min and mean of load / capacity.

    Capacity is the exact ``fte x casework_share x cases_per_fte(kind)``, so
    load / capacity is the load per casework FTE relative to the kind's norm.
    Advisors without capacity (casework share 0) are left out, and so is an
    unavailable advisor with no users: absent this week, the capacity is not
    there to use (rule 6), and counting it would pin the minimum at 0.
    ``None`` when no advisor counts.
    """
    load = advisor_loads(problem, allocation)
    ratios = []
    for a, advisor in enumerate(problem.instance.advisors):
        cap = exact_capacity(problem, advisor)
        if cap > 0 and (advisor.available or load[a] > 0):
            ratios.append(load[a] / cap)
    if not ratios:
        return Utilisation(None, None, None)
    return Utilisation(max(ratios), min(ratios), sum(ratios) / len(ratios))


# --- Travel (R21, risk factor 11) ---------------------------------------------


def travel_km(problem: Problem, allocation: Allocation) -> float:
    """Road km from each assigned user's advisor base to the user's municipality."""
    users = problem.instance.users
    return sum(
        problem.km(a, users[u].municipality)
        for u, a in enumerate(allocation)
        if a is not None
    )


def travel_hours(problem: Problem, allocation: Allocation) -> float:
    """``travel_km`` at ``policy.travel_speed_kmh`` (default 70 km/h)."""
    return travel_km(problem, allocation) / problem.instance.policy.travel_speed_kmh


# --- Municipalities per advisor (R01) -----------------------------------------


def municipalities_per_advisor(
    problem: Problem, allocation: Allocation
) -> tuple[int | None, float | None]:
    """(max, mean) municipalities served, over advisors with users (R01)."""
    served: dict[int, set[str]] = defaultdict(set)
    for u, a in enumerate(allocation):
        if a is not None:
            served[a].add(problem.instance.users[u].municipality)
    counts = [len(places) for places in served.values()]
    if not counts:
        return None, None
    return max(counts), sum(counts) / len(counts)


# --- Leakage (R25) and freed capacity (R37, risk factors 1, 13, 14) -----------


def leakage_by_employer(problem: Problem, allocation: Allocation) -> dict[str, float]:
    """FTE of each municipality's own employees spent on other municipalities' users.

    R25: a municipal employee of m serving a user who lives elsewhere (a host
    agreement's member, or any municipality when the rules allow it) is m's
    resource spent outside m. State employees are not counted. Every
    municipal employer appears, with 0 when nothing leaks, in input order of
    the advisors.
    """
    leak: dict[str, float] = {}
    for advisor in problem.instance.advisors:
        if advisor.employer != "state":
            leak.setdefault(advisor.employer, 0.0)
    advisors = problem.instance.advisors
    for u, a in enumerate(allocation):
        if a is None:
            continue
        advisor, user = advisors[a], problem.instance.users[u]
        if advisor.employer != "state" and user.municipality != advisor.employer:
            leak[advisor.employer] += _load_fte(problem, advisor, user.weight)
    return leak


def leakage_fte(problem: Problem, allocation: Allocation) -> float:
    """The sum of ``leakage_by_employer`` (R25)."""
    return sum(leakage_by_employer(problem, allocation).values())


def freed_fte(problem: Problem, allocation: Allocation) -> float:
    """Capacity not used, in FTE (R37): posts free for shared tasks.

    Over the available advisors: ``fte x casework_share - load /
    cases_per_fte(kind)``. An advisor marked unavailable (absent this week)
    frees nothing, since the post is not there to be used.
    """
    load = advisor_loads(problem, allocation)
    free = 0.0
    for a, advisor in enumerate(problem.instance.advisors):
        if advisor.available:
            free += advisor.fte * advisor.casework_share
            free -= _load_fte(problem, advisor, load[a])
    return free


# --- Coverage (R15, R27; risk factors 2, 4, 5) --------------------------------


def qualified(
    facts: Facts, advisor: Advisor, municipality: str, competence: str
) -> bool:
    """Whether ``advisor`` is qualified for a (municipality, competence) pair.

    Available, holds the competence, holds municipal authority over the
    municipality when the competence needs it (rule 3), and sits in a team
    that serves the municipality (rule 1, the team's ``municipalities``).
    """
    if not advisor.available or competence not in advisor.competences:
        return False
    team = facts.teams[advisor.team]
    if team.municipalities and municipality not in team.municipalities:
        return False
    if competence in facts.authority_competences:
        return municipality in facts.authority[advisor.id]
    return True


def coverage(instance: Instance) -> dict[tuple[str, str], int]:
    """Qualified advisors per (municipality, needed competence) pair.

    A pair is every competence in the ``needs`` of some user of that
    municipality (README format, section 7). Ordered by municipality as
    the instance lists them, then by competence id.
    """
    facts = Facts.of(instance)
    order = {m.id: i for i, m in enumerate(instance.municipalities)}
    pairs = sorted(
        {(u.municipality, need) for u in instance.users for need in u.needs},
        key=lambda pair: (order.get(pair[0], len(order)), pair),
    )
    return {
        (m, c): sum(qualified(facts, advisor, m, c) for advisor in instance.advisors)
        for m, c in pairs
    }


def coverage_min(pairs: dict[tuple[str, str], int]) -> int | None:
    """The least number of qualified advisors over all pairs; None without pairs."""
    return min(pairs.values(), default=None)


def single_points(pairs: dict[tuple[str, str], int]) -> int:
    """Pairs with exactly one qualified advisor: one absence leaves them bare."""
    return sum(count == 1 for count in pairs.values())


def uncovered(pairs: dict[tuple[str, str], int]) -> int:
    """Pairs with no qualified advisor at all."""
    return sum(count == 0 for count in pairs.values())


# --- Forced moves (rules 1 to 6) ----------------------------------------------


def _pair_allows(facts: Facts, user: User, advisor: Advisor) -> bool:
    """Rules 1, 2, 3 and 6 for a user staying with ``advisor`` (their current)."""
    _, kind = routed_kind(facts.instance, user)
    return (
        team_kind_rule(facts, user, kind, advisor, advisor.id) is None
        and team_municipality_rule(facts, user, advisor) is None
        and competence_rule(facts, user, advisor) is None
        and authority_rule(facts, user, advisor) is None
        and availability_rule(facts, user, advisor, advisor.id) is None
    )


def most_kept(
    weights_by_municipality: dict[str, list[int]], room: int, most: int
) -> int:
    """Most users one advisor can keep within capacity and the municipality limit.

    Rules 4 and 5 exactly: try every set of ``most`` municipalities (all of
    them when ``most`` is 0 or not binding) and keep the lightest users
    first, which keeps the most users that fit in ``room`` (scaled weights).
    """
    places = sorted(weights_by_municipality)
    size = len(places) if most == 0 else min(most, len(places))
    best = 0
    for chosen in itertools.combinations(places, size):
        weights = sorted(w for m in chosen for w in weights_by_municipality[m])
        kept, total = 0, 0
        for weight in weights:
            if total + weight > room:
                break
            total += weight
            kept += 1
        best = max(best, kept)
    return best


def forced_moves(instance: Instance) -> int:
    """Users whose current advisor may no longer keep them under this structure.

    A user is forced to move when the current advisor has left the
    instance, or when staying breaks rule 1 (team kind, unless
    ``keep_current_team``; the team's municipalities), 2 (competences), 3
    (municipal authority) or 6 (an unavailable advisor keeps current
    users, so never by itself). Rules 4 and 5 bind an advisor's users
    together: when they no longer fit the capacity or the municipality
    limit, the fewest users who must leave are counted (``most_kept``).
    Locks and households (rules 7, 8) are decisions, not structure, and
    are not counted.
    """
    facts = Facts.of(instance)
    advisors = {advisor.id: advisor for advisor in instance.advisors}
    staying: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    forced = 0
    for user in instance.users:
        if user.current_advisor is None:
            continue
        advisor = advisors.get(user.current_advisor)
        if advisor is None or not _pair_allows(facts, user, advisor):
            forced += 1
            continue
        staying[advisor.id][user.municipality].append(scaled_weight(user.weight))
    policy = instance.policy
    for advisor_id, by_municipality in staying.items():
        advisor = advisors[advisor_id]
        most = (
            advisor.max_municipalities
            if advisor.max_municipalities is not None
            else policy.max_municipalities_per_advisor
        )
        room = capacity(instance, facts, advisor)
        total = sum(len(ws) for ws in by_municipality.values())
        forced += total - most_kept(by_municipality, room, most)
    return forced


# --- Everything one solved structure reports ----------------------------------


def solution_figures(problem: Problem, allocation: Allocation) -> dict[str, Any]:
    """The allocation-dependent figures of a comparison row, plus details.

    Returns plain data: the comparison.csv figures by column name, and
    ``shortages`` (records) and ``leakage_by_employer`` for comparison.json.
    """
    spread = utilisation(problem, allocation)
    most, mean = municipalities_per_advisor(problem, allocation)
    leak = leakage_by_employer(problem, allocation)
    lacking = shortages(problem, allocation)
    urgent = [u.urgent for u in problem.instance.users]
    return {
        "users": len(allocation),
        "assigned": sum(a is not None for a in allocation),
        "unassigned": sum(a is None for a in allocation),
        "urgent_unassigned": sum(
            a is None and urgent[u] for u, a in enumerate(allocation)
        ),
        "unassigned_weight": unassigned_weight(problem, allocation),
        "shortage_fte": sum(item.fte for item in lacking),
        "utilisation_max": spread.max,
        "utilisation_min": spread.min,
        "utilisation_mean": spread.mean,
        "travel_km": travel_km(problem, allocation),
        "travel_hours": travel_hours(problem, allocation),
        "municipalities_per_advisor_max": most,
        "municipalities_per_advisor_mean": mean,
        "leakage_fte": sum(leak.values()),
        "freed_fte": freed_fte(problem, allocation),
        "details": {
            "shortages": [
                {
                    "kind": item.kind,
                    "municipality": item.municipality,
                    "weight": item.weight,
                    "fte": item.fte,
                }
                for item in lacking
            ],
            "leakage_by_employer": leak,
        },
    }


def structure_figures(instance: Instance) -> dict[str, Any]:
    """The seed-independent figures of a structure: forced moves and coverage.

    ``instance`` is the structure with the users' current advisors as read
    (before a first allocation blanks them).
    """
    pairs = coverage(instance)
    return {
        "forced_moves": forced_moves(instance),
        "coverage_min": coverage_min(pairs),
        "single_points": single_points(pairs),
        "uncovered": uncovered(pairs),
        "details": {
            "coverage": [
                {"municipality": m, "competence": c, "qualified": count}
                for (m, c), count in pairs.items()
            ],
        },
    }
