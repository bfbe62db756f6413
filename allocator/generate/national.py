"""A generated national instance: many office-shaped offices side by side.

Norway has 356 municipalities served by about 250 NAV offices: most offices
serve one municipality, some a host group of a few (a host municipality
employing its neighbours' municipal staff). This shape draws that country
at the scale of NAV's welfare offices, 6,000 advisors and 250,000 users by
default, with every office drawn as :mod:`allocator.generate.office` draws
one: a host group with a host agreement, an assessment team, a youth team,
a family team, a debt-counselling team for the host group and follow-up
teams per sub-area, with households, locks and urgent users.

What differs from the office shape, because one instance has one policy and
one routing table:

- Every team lists its office's municipalities, so no team serves the
  whole country and offices share nothing: each office (with its host
  group) is an independent part that ``allocator solve --dask`` solves on
  its own.
- The debt-counselling rule's ``municipality_in`` lists every office's
  host group (or whole office) at once.
- Cases per FTE are sized once, from the national demand, so that every
  advisor's current caseload fits.
- Users per advisor follow the national totals (about 42 weighted users per
  post at the default size), and new users are 1.2 to 2.5 % of a week's
  caseload.

Municipality names, populations and positions are synthetic (drawn names
on a jittered grid over Norway's latitudes), not the real municipalities.
Everything is drawn from ``random.Random(seed)`` in a fixed order, so the
same seed gives byte-identical files.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

from allocator.domain import (
    Advisor,
    HostAgreement,
    Instance,
    Lock,
    Municipality,
    RoutingRule,
    Team,
    User,
)
from allocator.generate.builders import (
    Builder,
    follow_up_areas,
    municipality,
    policy_for,
    team,
)
from allocator.generate.catalogue import COMPETENCES, INTAKE_PER_FTE, WEEK
from allocator.generate.helpers import apportion, fold_id
from allocator.generate.office import OFFICE_SHARES, office_locks
from allocator.generate.region import Shape, shape_note, synthetic_names
from allocator.generate.write import write_instance

# The country at full size (DOMAIN.md 5): municipalities, offices, staff, users.
MUNICIPALITIES = 356
OFFICES = 250
ADVISORS = 6000
USERS = 250000
# Municipalities in the largest host group.
GROUP_MAX = 6
# A team larger than this is split into numbered teams over the same area.
TEAM_MAX = 20


@dataclass(frozen=True)
class NationalSize:
    """Counts of a national instance; 0 means the full size, or scaled by offices.

    With only ``offices`` given, the others scale with it (356/250
    municipalities, 24 advisors and 1,000 users per office), so a test can
    draw a tiny country of three offices.
    """

    offices: int = 0
    municipalities: int = 0
    advisors: int = 0
    users: int = 0

    def resolved(self) -> tuple[int, int, int, int]:
        """(offices, municipalities, advisors, users) with the defaults filled in."""
        offices = self.offices or OFFICES
        scale = offices / OFFICES
        return (
            offices,
            self.municipalities or max(offices, round(MUNICIPALITIES * scale)),
            self.advisors or round(ADVISORS * scale),
            self.users or round(USERS * scale),
        )


@dataclass(frozen=True)
class OfficePlan:
    """One office before its staff and users are drawn."""

    places: tuple[Municipality, ...]
    advisors: int
    users: int


def national_plan(rng: random.Random, size: NationalSize) -> list[OfficePlan]:
    """The offices: their municipalities (named and placed), advisors and users.

    Cheap (no users drawn), and the first thing drawn from ``rng``.
    Municipalities are dealt one per office, the rest to offices that grow
    into host groups of at most six. Advisors: a floor that staffs every
    team kind, the rest by population; users follow the advisors.

    Raises:
        ValueError: fewer municipalities than offices, more than six per
            office, or too few advisors to staff every office.
    """
    offices, n_places, n_advisors, n_users = size.resolved()
    if n_places < offices:
        raise ValueError("a national instance needs a municipality per office")
    if n_places > GROUP_MAX * offices:
        raise ValueError(f"at most {GROUP_MAX} municipalities per office")
    counts = [1] * offices
    for _ in range(n_places - offices):
        grown = [i for i, c in enumerate(counts) if 1 < c < GROUP_MAX]
        room = [i for i, c in enumerate(counts) if c < GROUP_MAX]
        # Half the extra municipalities join a group that is already there:
        # a few larger host groups, as in the valleys, beside many pairs.
        counts[rng.choice(grown if grown and rng.random() < 0.5 else room)] += 1
    floors = [_staff_floor(c) for c in counts]
    if n_advisors < sum(floors):
        raise ValueError(
            f"{offices} offices over {n_places} municipalities need at least "
            f"{sum(floors)} advisors"
        )
    names = synthetic_names(rng, n_places)
    columns = math.ceil(math.sqrt(offices / 2))
    rows = math.ceil(offices / columns)
    plans_places: list[tuple[Municipality, ...]] = []
    taken = 0
    for number, count in enumerate(counts):
        row, column = divmod(number, columns)
        # A jittered grid from Agder to Finnmark, narrow as the country is.
        lat = 58.3 + row * 11.0 / max(rows, 1) + rng.uniform(-0.1, 0.1)
        lon = 6.0 + column * 18.0 / max(columns, 1) + rng.uniform(-0.2, 0.2)
        places = []
        for label in names[taken : taken + count]:
            people = int(min(150000, max(250, rng.lognormvariate(8.6, 1.1))))
            places.append(municipality(fold_id(label), label, people, lat, lon))
            # A valley: the next municipality 15 to 35 km along the road.
            step = rng.uniform(15, 35) / 111
            angle = rng.uniform(-0.6, 0.6)
            lat = round(lat + step * math.sin(angle), 4)
            lon = round(lon + step * math.cos(angle) * 1.9, 4)
        taken += count
        plans_places.append(tuple(places))
    population = [sum(m.population or 1 for m in p) for p in plans_places]
    staff = [
        floor + extra
        for floor, extra in zip(
            floors, apportion(n_advisors - sum(floors), population), strict=True
        )
    ]
    users = apportion(n_users, [float(s) for s in staff])
    return [
        OfficePlan(places=p, advisors=a, users=u)
        for p, a, u in zip(plans_places, staff, users, strict=True)
    ]


def _staff_floor(places: int) -> int:
    """Fewest advisors that staff every team kind of an office over ``places``."""
    return 9 + 2 * places


def generate_national(
    seed: int, out: Path, shape: Shape | None = None, size: NationalSize | None = None
) -> Instance:
    """Write the national instance of ``seed`` to ``out`` and return it.

    Raises ValueError as :func:`national_plan`.
    """
    instance = national_instance(seed, out.name or "national", shape, size)
    write_instance(out, instance)
    return instance


@dataclass
class _Office:
    """One office while being drawn: its teams, staff and debt places."""

    ids: list[str]
    host: str
    hosted: list[str]
    teams: list[Team]
    staff: dict[str, list[Advisor]]
    debt_places: tuple[str, ...]


def national_instance(
    seed: int,
    name: str = "national",
    shape: Shape | None = None,
    size: NationalSize | None = None,
) -> Instance:
    """The national instance of ``seed`` (see the module docstring).

    Raises ValueError as :func:`national_plan`.
    """
    shape = shape or Shape()
    rng = random.Random(seed)
    plans = national_plan(rng, size or NationalSize())
    agreements: list[HostAgreement] = []
    hosts: list[tuple[str, list[str]]] = []
    for plan in plans:
        host, hosted = _host_group(rng, plan.places)
        hosts.append((host, hosted))
        if hosted:
            agreements.append(HostAgreement(host=host, members=tuple(sorted(hosted))))
    debt_places = [
        tuple([host, *hosted])
        if rng.random() < 0.7
        else tuple(m.id for m in plan.places)
        for plan, (host, hosted) in zip(plans, hosts, strict=True)
    ]
    routing = (
        RoutingRule(team_kind="assessment", status="new"),
        RoutingRule(
            team_kind="debt_counselling",
            needs_any=("debt_counselling",),
            municipality_in=tuple(m for places in debt_places for m in places),
        ),
        RoutingRule(team_kind="youth", age_max=29),
        RoutingRule(team_kind="family", children_min=1),
        RoutingRule(team_kind="follow_up"),
    )
    builder = Builder(
        rng, host_agreements=tuple(agreements), routing=routing, households=0.04
    )
    offices = [
        _draw_office(builder, plan, host, hosted, debt)
        for plan, (host, hosted), debt in zip(plans, hosts, debt_places, strict=True)
    ]
    teams = [t for o in offices for t in o.teams]
    all_staff = [a for o in offices for t in o.teams for a in o.staff[t.id]]
    per_kind = builder.cases_per_fte(
        teams, all_staff, headroom=rng.uniform(1.0, 1.2), max_utilisation=0.95
    )
    per_kind = {
        kind: float(max(1, math.floor(value * shape.capacity_factor + 1e-9)))
        for kind, value in per_kind.items()
    }
    users = builder.finish_users()
    advisors = builder.finish_advisors(all_staff, max_municipalities=2)
    locks = _locks(rng, offices, users, advisors)
    if shape.first_allocation:
        users = [
            u.model_copy(update={"current_advisor": None, "since": None}) for u in users
        ]
    places = tuple(m for plan in plans for m in plan.places)
    return Instance(
        name=name,
        description=(
            f"Generated national instance (seed {seed}): {len(places)} synthetic "
            f"municipalities in {len(plans)} offices, {len(agreements)} host "
            f"agreements; {len(advisors)} advisors in {len(teams)} teams, "
            f"{len(users)} users" + shape_note(shape)
        ),
        week=WEEK,
        policy=policy_for(per_kind).model_copy(
            update={"rotation_months": shape.rotation_months}
        ),
        competences=COMPETENCES,
        host_agreements=tuple(agreements),
        routing=routing,
        municipalities=places,
        teams=tuple(teams),
        advisors=tuple(advisors),
        users=tuple(users),
        locks=tuple(locks),
    )


def _host_group(
    rng: random.Random, places: tuple[Municipality, ...]
) -> tuple[str, list[str]]:
    """The office's host (the most populous) and the neighbours it hosts.

    As in the office shape, one to three neighbours, and in an office of
    three or more at least one municipality keeps its own staff.
    """
    ids = [m.id for m in places]
    if len(ids) == 1:
        return ids[0], []
    host_pos = max(range(len(ids)), key=lambda i: (places[i].population or 0, -i))
    neighbours = sorted(
        (i for i in range(len(ids)) if i != host_pos),
        key=lambda i: (abs(i - host_pos), i),
    )
    most = 1 if len(ids) == 2 else min(3, len(ids) - 2)
    return ids[host_pos], [ids[i] for i in neighbours[: rng.randint(1, most)]]


def _draw_office(
    builder: Builder,
    plan: OfficePlan,
    host: str,
    hosted: list[str],
    debt_places: tuple[str, ...],
) -> _Office:
    """One office's teams, staff and caseload, drawn as the office shape does."""
    rng = builder.rng
    places = plan.places
    ids = [m.id for m in places]
    population = {m.id: float(m.population or 1) for m in places}
    employers = [m for m in ids if m not in hosted]
    group = [host, *hosted]
    # Unlike the office shape, a host pair is never split, so that no
    # municipality is in two areas (its users would be drawn twice).
    areas = follow_up_areas(rng, ids, group, population, split_pairs=False)
    office = f"NAV {places[ids.index(host)].name}" + ("-regionen" if hosted else "")
    n_advisors, n_users = plan.advisors, plan.users
    new_total = round(n_users * rng.uniform(0.012, 0.025))
    debt_staff = 1 if n_advisors < 16 else (2 if len(debt_places) <= 3 else 3)
    # Assessment sized by this week's intake (8 a full post, with a margin).
    assessment = max(
        2, min(n_advisors // 4, math.ceil(new_total * 1.3 / INTAKE_PER_FTE))
    )
    youth = max(2, round(n_advisors * 0.17))
    family = max(2, round(n_advisors * 0.13))
    follow = max(2 * len(areas), n_advisors - assessment - youth - family - debt_staff)
    area_pop = [sum(population[m] for m in area) for area in areas]
    per_area = [2 + k for k in apportion(follow - 2 * len(areas), area_pop)]
    weights = [population[m] for m in employers]
    prefix = ids[ids.index(host)]

    def office_wide(
        kind: str, count: int, share: float
    ) -> list[tuple[Team, list[Advisor]]]:
        """Teams of ``kind`` over the whole office, staff from several employers."""
        drawn = []
        for _ in range(count):
            municipal = rng.random() < share
            employer = (
                rng.choices(employers, weights=weights)[0] if municipal else "state"
            )
            drawn.append(
                (employer, employer if municipal else rng.choice([host, *employers]))
            )
        # The host always employs someone, so every hosted municipality is covered.
        if all(e != host for e, _ in drawn):
            drawn[0] = (host, host)
        drawn.sort(key=lambda eb: ids.index(eb[1]))
        out = []
        splits = apportion(count, [1.0] * math.ceil(count / TEAM_MAX))
        start = 0
        for number, chunk in enumerate(splits, start=1):
            suffix = f"-{number}" if len(splits) > 1 else ""
            item = team(
                f"{prefix}-{kind}{suffix}",
                f"{office} {_LABELS[kind]}" + (f" {number}" if suffix else ""),
                kind,
                ids,
            )
            out.append(
                (
                    item,
                    [
                        builder.advisor(
                            item,
                            employer=employer,
                            base=base,
                            fte=1.0
                            if rng.random() < 0.8
                            else rng.choice((0.5, 0.6, 0.8)),
                            available=rng.random() > 0.03,
                        )
                        for employer, base in drawn[start : start + chunk]
                    ],
                )
            )
            start += chunk
        return out

    def employer_of(place: str) -> str:
        return host if place in hosted else place

    teams: list[Team] = []
    staff: dict[str, list[Advisor]] = {}
    wide = {
        "assessment": office_wide("assessment", assessment, 0.5),
        "youth": office_wide("youth", youth, 0.45),
        "family": office_wide("family", family, 0.45),
    }
    for kind in ("assessment", "youth", "family"):
        for item, crew in wide[kind]:
            teams.append(item)
            staff[item.id] = crew
    debt = team(
        f"{prefix}-debt", f"{office} gjeldsrådgivning", "debt_counselling", debt_places
    )
    debt_employers = sorted({employer_of(m) for m in debt_places}, key=ids.index)
    teams.append(debt)
    staff[debt.id] = builder.debt_counsellors(debt, debt_employers, debt_staff)
    follow_teams: list[tuple[Team, list[str]]] = []
    for number, (area, headcount) in enumerate(zip(areas, per_area, strict=True), 1):
        label = "/".join(places[ids.index(p)].name for p in area)
        splits = apportion(headcount, [1.0] * math.ceil(headcount / TEAM_MAX))
        for part, chunk in enumerate(splits, start=1):
            suffix = f"-{part}" if len(splits) > 1 else ""
            item = team(
                f"{prefix}-follow_up-{number}{suffix}",
                f"NAV {label} oppfølging" + (f" {part}" if suffix else ""),
                "follow_up",
                area,
            )
            members: list[Advisor] = []
            shares = apportion(chunk, [population[m] for m in area])
            for k, place in enumerate(area):
                members += builder.staff_team(
                    item,
                    max(1, shares[k]),
                    host=employer_of(place),
                    base=place,
                    municipal_share=0.5,
                    leader=k == 0,
                    unavailable=0.03,
                )
            teams.append(item)
            staff[item.id] = members
            follow_teams.append((item, area))

    # Active users by municipality, then by kind; the kinds' teams share
    # their municipality's users by headcount.
    active = n_users - new_total
    by_place = dict(zip(ids, apportion(active, list(population.values())), strict=True))
    for kind in ("youth", "family"):
        counts = {m: round(by_place[m] * OFFICE_SHARES[kind]) for m in ids}
        _spread(builder, wide[kind], counts)
    debt_counts = {
        m: round(by_place[m] * OFFICE_SHARES["debt_counselling"]) for m in debt_places
    }
    for advisor in staff[debt.id]:
        mine = [m for m in debt_places if employer_of(m) == advisor.employer]
        share_of = sum(1 for a in staff[debt.id] if a.employer == advisor.employer)
        builder.caseload(debt, [advisor], {m: debt_counts[m] // share_of for m in mine})
    taken = {
        m: round(by_place[m] * (OFFICE_SHARES["youth"] + OFFICE_SHARES["family"]))
        + debt_counts.get(m, 0)
        for m in ids
    }
    for area in areas:
        ours = [t for t, a in follow_teams if a is area]
        counts = {m: max(0, by_place[m] - taken[m]) for m in area}
        _spread(builder, [(t, staff[t.id]) for t in ours], counts)
    new_counts = dict(
        zip(ids, apportion(new_total, list(population.values())), strict=True)
    )
    _spread(builder, wide["assessment"], new_counts, new=True)
    return _Office(ids, host, hosted, teams, staff, debt_places)


_LABELS = {
    "assessment": "mottak og kartlegging",
    "youth": "Team ung",
    "family": "Team familie",
}


def _spread(
    builder: Builder,
    teams: list[tuple[Team, list[Advisor]]],
    counts: dict[str, int],
    *,
    new: bool = False,
) -> None:
    """Users per municipality shared among teams of one kind by headcount."""
    shares = {
        m: apportion(n, [float(len(members)) for _, members in teams])
        for m, n in counts.items()
    }
    for i, (item, members) in enumerate(teams):
        mine = {m: split[i] for m, split in shares.items()}
        if new:
            builder.new_users(item, members, mine)
        else:
            builder.caseload(item, members, mine)


def _locks(
    rng: random.Random,
    offices: list[_Office],
    users: list[User],
    advisors: list[Advisor],
) -> list[Lock]:
    """A few manual decisions per office, drawn as the office shape draws them."""
    office_of = {m: k for k, o in enumerate(offices) for m in o.ids}
    users_of: list[list[User]] = [[] for _ in offices]
    for user in users:
        users_of[office_of[user.municipality]].append(user)
    advisors_of: list[list[Advisor]] = [[] for _ in offices]
    team_office = {t.id: k for k, o in enumerate(offices) for t in o.teams}
    for advisor in advisors:
        advisors_of[team_office[advisor.team]].append(advisor)
    locks: list[Lock] = []
    for mine, theirs in zip(users_of, advisors_of, strict=True):
        locks += office_locks(rng, mine, theirs)
    return locks
