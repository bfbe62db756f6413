"""The index-based view of an instance that the model and the baseline use.

Users who are interchangeable (same municipality, routing rule, needs,
weight, flags and current advisor, no lock and no household) form one
*group*; the model decides how many of a group each advisor takes, not which
ones, so a caseload of 40,000 users costs variables per group, not per user.
Users with a lock or a household are groups of one.

Quantities are integers scaled by ``SCALE`` so the CP-SAT model stays exact:
a user of weight 1.5 weighs 1500, a capacity of 37.5 is 37500.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from allocator.domain import Advisor, Instance, Lock, User, week_start
from allocator.engine.eligibility import Facts, first_breach, routed_kind
from allocator.errors import InputProblem, InstanceError

SCALE = 1000


def scaled_weight(weight: float) -> int:
    """A user's weight in model units, rounded up.

    Weights round up and capacities down, so a load the model accepts never
    exceeds the true capacity, whatever decimals the input has.
    """
    return math.ceil(weight * SCALE - 1e-6)


EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Group:
    """Interchangeable users, in input order."""

    user_idcs: tuple[int, ...]
    municipality: str
    rule_idx: int
    kind: str
    weight: int  # scaled, per user
    urgent: bool
    prefer_non_local: bool
    current: int | None  # effective current advisor (index)
    rotation_due: bool
    # Routing names another kind than the current advisor's team's.
    rerouted: bool
    fixed: int | None  # advisor index a fix lock names
    eligible: tuple[int, ...]  # advisor indices, in input order

    @property
    def size(self) -> int:
        return len(self.user_idcs)


@dataclass
class Problem:
    """Everything the model needs, by index; built once, then read-only."""

    instance: Instance
    facts: Facts
    groups: list[Group]
    capacity: list[int]  # scaled weighted users per advisor
    intake_limit: list[int | None]
    max_municipalities: list[int]  # 0 = no limit
    team_of: list[int]  # advisor -> team index
    travel: dict[tuple[str, str], float]  # (base, municipality) -> km
    households: list[list[int]]  # group indices sharing a household
    reference_date: dt.date
    intake_applied: bool
    routing: list[tuple[int, str]] = field(default_factory=list)  # per user
    current: list[int | None] = field(default_factory=list)  # per user
    # Groups whose current advisor can keep them all (see settled_groups).
    settled: frozenset[int] = frozenset()
    # Groups held with their current advisor (minimal churn): the settled
    # ones, unless rebalancing.
    pinned: frozenset[int] = frozenset()
    # With --rebalance: at most this many voluntary moves (None = no limit).
    # Placement before stability sets it too (see allocator.engine.placement).
    max_moves: int | None = None
    # Settled groups released so that users who would otherwise wait can be
    # placed (placement before stability); empty unless that happened.
    freed: frozenset[int] = frozenset()
    # The teams this problem balances (None = all): a part of a decomposed
    # problem (allocator.engine.decompose) holds only its own teams.
    teams_in_scope: frozenset[int] | None = None
    _candidates: dict[tuple[str, str], tuple[int, ...]] = field(
        default_factory=dict, repr=False
    )

    @property
    def num_advisors(self) -> int:
        return len(self.instance.advisors)

    def candidates(self, kind: str, municipality: str) -> tuple[int, ...]:
        """Advisors in a team of this kind serving this municipality (rule 1).

        Cached: pruning checks the other pair rules only on these, which keeps
        building the problem fast with a thousand advisors.
        """
        key = (kind, municipality)
        if key not in self._candidates:
            self._candidates[key] = tuple(
                i
                for i, advisor in enumerate(self.instance.advisors)
                if (team := self.facts.teams[advisor.team]).kind == kind
                and (not team.municipalities or municipality in team.municipalities)
            )
        return self._candidates[key]

    def balanced_teams(self) -> dict[int, list[int]]:
        """Team index -> its available advisors with capacity (R16's scope)."""
        members: dict[int, list[int]] = {}
        scope = self.teams_in_scope
        for a, advisor in enumerate(self.instance.advisors):
            if scope is not None and self.team_of[a] not in scope:
                continue
            if advisor.available and self.capacity[a] > 0:
                members.setdefault(self.team_of[a], []).append(a)
        return members

    @cached_property
    def current_municipalities(self) -> list[set[str]]:
        """Per advisor: municipalities of the users it is the current advisor of."""
        served: list[set[str]] = [set() for _ in range(self.num_advisors)]
        for u, current in enumerate(self.current):
            if current is not None:
                served[current].add(self.instance.users[u].municipality)
        return served

    def current_id(self, u: int) -> str | None:
        """Id of user u's effective current advisor (None if none or left)."""
        current = self.current[u]
        return self.instance.advisors[current].id if current is not None else None

    def km(self, advisor_idx: int, municipality: str) -> float:
        base = self.instance.advisors[advisor_idx].base
        return self.travel[(base, municipality)]


def build_problem(
    instance: Instance,
    today: dt.date | None = None,
    *,
    rebalance: bool = False,
    max_moves: int | None = None,
) -> Problem:
    """Index the instance, prune ineligible pairs and group users.

    By default a user keeps a current advisor who may keep them (minimal
    churn); ``rebalance`` lets the model move users when that improves the
    objective, at most ``max_moves`` of them.

    Raises InstanceError when a fix lock cannot hold (the README's allocation rules).
    """
    facts = Facts.of(instance)
    advisor_idx = {a.id: i for i, a in enumerate(instance.advisors)}
    team_idx = {t.id: i for i, t in enumerate(instance.teams)}
    reference = week_start(instance.week) or today or dt.date.today()
    routing = [routed_kind(instance, user) for user in instance.users]
    current = [advisor_idx.get(u.current_advisor or "") for u in instance.users]
    intake_applied = any(c is not None for c in current)
    fixed = {lock.user: lock for lock in instance.locks if lock.kind == "fix"}
    problem = Problem(
        instance=instance,
        facts=facts,
        groups=[],
        capacity=[capacity(instance, facts, a) for a in instance.advisors],
        intake_limit=[
            intake_limit(instance, a) if intake_applied else None
            for a in instance.advisors
        ],
        max_municipalities=[
            a.max_municipalities
            if a.max_municipalities is not None
            else instance.policy.max_municipalities_per_advisor
            for a in instance.advisors
        ],
        team_of=[team_idx[a.team] for a in instance.advisors],
        travel=travel_table(instance),
        households=[],
        reference_date=reference,
        intake_applied=intake_applied,
        routing=routing,
        current=current,
    )
    problem.groups = make_groups(problem, fixed, advisor_idx)
    problem.households = household_groups(problem)
    check_fix_locks(problem, fixed, advisor_idx)
    problem.settled = settled_groups(problem)
    if rebalance:
        problem.max_moves = max_moves
    else:
        problem.pinned = problem.settled
    return problem


def voluntary(group: Group) -> bool:
    """Whether moving this group's users is a choice, not forced by a rule.

    Forced: the current advisor may no longer keep them (left, rules 1-3,
    a lock). Asked for: rotation is due (R13), or routing now names another
    team kind than the current advisor's (an assessed user is due for a
    follow-up team; keep_current_team only allows staying). Anything else is
    a choice.
    """
    return (
        group.current is not None
        and group.current in group.eligible
        and not group.rotation_due
        and not group.rerouted
    )


def united_households(problem: Problem) -> set[str]:
    """Households whose members all have one current advisor who may keep them."""
    members: dict[str, list[Group]] = defaultdict(list)
    for group in problem.groups:
        household = problem.instance.users[group.user_idcs[0]].household
        if household is not None:
            members[household].append(group)
    return {
        household
        for household, groups in members.items()
        if len({g.current for g in groups}) == 1
        and all(voluntary(g) and g.fixed is None for g in groups)
    }


def settled_groups(problem: Problem) -> frozenset[int]:
    """Groups that may stay with their current advisor this week (R12, R33).

    An advisor keeps all such users when they still fit together with the
    users fixed to them (capacity and municipalities); when they do not,
    e.g. after a cut in FTE, none of that advisor's users is settled and the
    model chooses who moves, each move paying the reassignment weight.
    Household members are left free so the household rule can always hold.
    """
    by_advisor: dict[int, list[int]] = defaultdict(list)
    fixed_to: dict[int, list[int]] = defaultdict(list)
    united = united_households(problem)
    for g, group in enumerate(problem.groups):
        household = problem.instance.users[group.user_idcs[0]].household
        if group.fixed is not None:
            fixed_to[group.fixed].append(g)
        elif voluntary(group) and (household is None or household in united):
            assert group.current is not None
            by_advisor[group.current].append(g)
    pinned: set[int] = set()
    for a, groups in by_advisor.items():
        together = groups + fixed_to[a]
        weight = sum(
            problem.groups[g].weight * problem.groups[g].size for g in together
        )
        municipalities = {problem.groups[g].municipality for g in together}
        cap = problem.max_municipalities[a]
        if weight <= problem.capacity[a] and (not cap or len(municipalities) <= cap):
            pinned.update(groups)
    return frozenset(pinned)


def capacity(instance: Instance, facts: Facts, advisor: Advisor) -> int:
    """Rule 4 capacity, scaled: fte x casework_share x cases_per_fte(kind)."""
    kind = facts.teams[advisor.team].kind
    per_fte = instance.policy.cases_per_fte_by_kind.get(
        kind, instance.policy.cases_per_fte
    )
    # Round down at the last decimal so a rounding error never overloads.
    return math.floor(advisor.fte * advisor.casework_share * per_fte * SCALE + 1e-6)


def intake_limit(instance: Instance, advisor: Advisor) -> int | None:
    """Rule 4 weekly intake: rounded down, at least 1 when positive."""
    per_fte = instance.policy.intake_per_fte
    if per_fte == 0:
        return None
    raw = advisor.fte * advisor.casework_share * per_fte
    return max(1, math.floor(raw + 1e-9)) if raw > 0 else 0


def travel_table(instance: Instance) -> dict[tuple[str, str], float]:
    """Road km from every advisor base to every municipality (R21)."""
    centres = {m.id: m for m in instance.municipalities}
    bases = sorted({a.base for a in instance.advisors})
    table = {}
    for base in bases:
        for municipality in centres:
            table[(base, municipality)] = road_km(instance, centres, base, municipality)
    return table


def road_km(instance: Instance, centres: dict, origin: str, destination: str) -> float:
    """travel.csv when it has the pair, else great circle x road_factor."""
    if origin == destination:
        return 0.0
    if (origin, destination) in instance.travel:
        return instance.travel[(origin, destination)]
    a, b = centres[origin], centres[destination]
    if None in (a.lat, a.lon, b.lat, b.lon):
        return 0.0
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    straight = 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))
    return straight * instance.policy.road_factor


def rotation_due(problem: Problem, user: User) -> bool:
    """R13: the user has been with the current advisor beyond rotation_months."""
    months = problem.instance.policy.rotation_months
    if months <= 0 or user.since is None:
        return False
    tenure_days = (problem.reference_date - user.since).days
    return tenure_days > months * 365.25 / 12


def make_groups(
    problem: Problem,
    fixed: dict[str, Lock],
    advisor_idx: dict[str, int],
) -> list[Group]:
    """Group interchangeable users; locked and household users stand alone."""
    instance = problem.instance
    forbidden_users = {user for user, _ in problem.facts.forbidden}
    buckets: dict[tuple, list[int]] = defaultdict(list)
    for idx, user in enumerate(instance.users):
        alone = (
            user.household is not None or user.id in fixed or user.id in forbidden_users
        )
        key = (
            ("alone", idx)
            if alone
            else (
                user.municipality,
                problem.routing[idx][0],
                tuple(sorted(user.needs)),
                user.weight,
                user.urgent,
                user.prefer_non_local,
                problem.current[idx],
                rotation_due(problem, user),
            )
        )
        buckets[key].append(idx)
    groups = []
    for user_idcs in buckets.values():
        groups.append(make_group(problem, tuple(user_idcs), fixed, advisor_idx))
    return groups


def make_group(
    problem: Problem,
    user_idcs: tuple[int, ...],
    fixed: dict[str, Lock],
    advisor_idx: dict[str, int],
) -> Group:
    """One group with its eligible advisors (rules 1, 2, 3, 6, forbid, fix)."""
    instance = problem.instance
    first = user_idcs[0]
    user = instance.users[first]
    rule_idx, kind = problem.routing[first]
    current_idx = problem.current[first]
    current_id = instance.advisors[current_idx].id if current_idx is not None else None
    candidates = set(problem.candidates(kind, user.municipality))
    if current_idx is not None:
        candidates.add(current_idx)
    eligible = tuple(
        i
        for i in sorted(candidates)
        if first_breach(problem.facts, user, kind, instance.advisors[i], current_id)
        is None
    )
    lock = fixed.get(user.id)
    fixed_idx = advisor_idx[lock.advisor] if lock is not None else None
    if fixed_idx is not None:
        eligible = tuple(i for i in eligible if i == fixed_idx)
    return Group(
        user_idcs=user_idcs,
        municipality=user.municipality,
        rule_idx=rule_idx,
        kind=kind,
        weight=scaled_weight(user.weight),
        urgent=user.urgent,
        prefer_non_local=user.prefer_non_local,
        current=current_idx,
        rotation_due=rotation_due(problem, user),
        rerouted=current_idx is not None
        and problem.facts.teams[instance.advisors[current_idx].team].kind != kind,
        fixed=fixed_idx,
        eligible=eligible,
    )


def household_groups(problem: Problem) -> list[list[int]]:
    """Group indices per household with two or more members."""
    by_household: dict[str, list[int]] = defaultdict(list)
    for g_idx, group in enumerate(problem.groups):
        household = problem.instance.users[group.user_idcs[0]].household
        if household is not None:
            by_household[household].append(g_idx)
    return [members for members in by_household.values() if len(members) > 1]


def check_fix_locks(
    problem: Problem,
    fixed: dict[str, Lock],
    advisor_idx: dict[str, int],
) -> None:
    """Reject fix locks that cannot hold with rules 1 to 6 or each other."""
    instance = problem.instance
    user_idx = {u.id: i for i, u in enumerate(instance.users)}
    problems: list[InputProblem] = []
    per_advisor: dict[int, list[Lock]] = defaultdict(list)
    for lock in fixed.values():
        u = user_idx[lock.user]
        user = instance.users[u]
        a = advisor_idx[lock.advisor]
        current = problem.current[u]
        current_id = instance.advisors[current].id if current is not None else None
        breach = first_breach(
            problem.facts,
            user,
            problem.routing[u][1],
            instance.advisors[a],
            current_id,
        )
        if breach is not None:
            problems.append(
                lock_problem(
                    lock,
                    f"fix lock of user {lock.user} to advisor {lock.advisor} "
                    f"cannot hold: {breach}.",
                )
            )
        per_advisor[a].append(lock)
    problems += household_lock_conflicts(problem, fixed, user_idx)
    for a, locks in per_advisor.items():
        problems += advisor_lock_overload(problem, a, locks, user_idx)
    if problems:
        raise InstanceError(problems)


def lock_problem(lock: Lock, message: str) -> InputProblem:
    """An input problem located at a lock's file and row.

    A lock from the command line is named as it was typed
    (``--fix u5=a3``), so the message says which of several options failed.
    """
    if lock.source.startswith("--"):
        return InputProblem(lock_where(lock), None, None, message)
    return InputProblem(lock.source, lock.row, "advisor", message)


def lock_where(lock: Lock) -> str:
    """Where a lock was written: 'locks.csv row 3' or '--fix u5=a3'."""
    if lock.source.startswith("--"):
        return f"{lock.source} {lock.user}={lock.advisor}"
    return f"{lock.source} row {lock.row}"


def household_lock_conflicts(
    problem: Problem, fixed: dict[str, Lock], user_idx: dict[str, int]
) -> list[InputProblem]:
    """Rule 8 versus rule 7: one household fixed to two advisors."""
    first_lock: dict[str, Lock] = {}
    problems = []
    for lock in fixed.values():
        household = problem.instance.users[user_idx[lock.user]].household
        if household is None:
            continue
        other = first_lock.setdefault(household, lock)
        if other.advisor != lock.advisor:
            problems.append(
                lock_problem(
                    lock,
                    f"fix lock conflicts with {lock_where(other)}: users "
                    f"{other.user} and {lock.user} share household {household} but "
                    f"are fixed to advisors {other.advisor} and {lock.advisor}.",
                )
            )
    return problems


def advisor_lock_overload(
    problem: Problem, a: int, locks: list[Lock], user_idx: dict[str, int]
) -> list[InputProblem]:
    """Rules 4 and 5: the fix locks on one advisor must fit together."""
    users = [problem.instance.users[user_idx[lock.user]] for lock in locks]
    advisor = problem.instance.advisors[a]
    rows = ", ".join(lock_where(lock) for lock in locks)
    weight = sum(scaled_weight(u.weight) for u in users)
    problems = []
    if weight > problem.capacity[a]:
        problems.append(
            lock_problem(
                locks[-1],
                f"fix locks ({rows}) give advisor {advisor.id} "
                f"{weight / SCALE:g} weighted users, above its capacity "
                f"{problem.capacity[a] / SCALE:g}.",
            )
        )
    limit = problem.intake_limit[a]
    newcomers = [lock for lock in locks if problem.current[user_idx[lock.user]] != a]
    if limit is not None and len(newcomers) > limit:
        problems.append(
            lock_problem(
                newcomers[-1],
                f"fix locks ({rows}) give advisor {advisor.id} "
                f"{len(newcomers)} new users, above its weekly intake limit {limit}.",
            )
        )
    municipalities = {u.municipality for u in users}
    cap = problem.max_municipalities[a]
    if cap and len(municipalities) > cap:
        problems.append(
            lock_problem(
                locks[-1],
                f"fix locks ({rows}) give advisor {advisor.id} users from "
                f"{len(municipalities)} municipalities, above its limit {cap}.",
            )
        )
    return problems


@dataclass(frozen=True)
class HouseholdSplit:
    """A household no single advisor may serve whole (rule 8 against 1-3, 6, 7).

    ``kinds`` maps each routed team kind to its members, in input order; one
    kind means the members' other pair rules (municipality, competence,
    authority, availability, locks) leave no advisor in common.
    """

    household: str
    members: tuple[str, ...]
    kinds: dict[str, tuple[str, ...]]

    def describe(self) -> str:
        """One sentence naming the household, members and kinds."""
        if len(self.kinds) > 1:
            routed = " and ".join(
                f"{kind} ({', '.join(users)})" for kind, users in self.kinds.items()
            )
            return (
                f"household {self.household}: members are routed to {routed}; "
                f"no advisor can serve {'both' if len(self.kinds) == 2 else 'all'}"
            )
        return (
            f"household {self.household}: no advisor is eligible for every member "
            f"({', '.join(self.members)}), so its members cannot share one advisor"
        )


def household_splits(problem: Problem) -> list[HouseholdSplit]:
    """Households whose members have no eligible advisor in common.

    Only assigned members must share an advisor, so such a household can be
    placed in part at most; the members left out wait for this reason, not
    for lack of room. Members with no eligible advisor at all are left out of
    the test (they wait for their own reason).
    """
    members: dict[str, list[Group]] = defaultdict(list)
    for group in problem.groups:
        household = problem.instance.users[group.user_idcs[0]].household
        if household is not None:
            members[household].append(group)
    splits = []
    for household, groups in members.items():
        placeable = [g for g in groups if g.eligible]
        if len(placeable) < 2:
            continue
        common = set(placeable[0].eligible).intersection(
            *(g.eligible for g in placeable[1:])
        )
        if common:
            continue
        kinds: dict[str, list[str]] = {}
        for g in groups:
            kinds.setdefault(g.kind, []).append(
                problem.instance.users[g.user_idcs[0]].id
            )
        splits.append(
            HouseholdSplit(
                household=household,
                members=tuple(
                    problem.instance.users[g.user_idcs[0]].id for g in groups
                ),
                kinds={kind: tuple(users) for kind, users in kinds.items()},
            )
        )
    return splits
