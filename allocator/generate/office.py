"""A generated office shaped like the seed documents' offices (DOMAIN.md 5).

The region shape of :mod:`allocator.generate.region` makes many small offices with
every team kind per office. Real NAV offices that are being reorganised look
different, and are much harder for the search: one office over a valley of
4 to 8 municipalities, a host municipality that employs the municipal staff
of some of its neighbours (a host agreement), an office-wide assessment
team, a youth team and a family team whose municipal staff come from
several employers (so municipal authority splits them), follow-up teams per
sub-area (some sub-areas two municipalities, one employer's staff lacking
authority over the other), a debt-counselling team for the host group, 30
to 80 advisors of whom some are state and some municipal employees, and 400
to 1,500 users with households, locks and urgent users.

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
from allocator.generate.catalogue import COMPETENCES, WEEK
from allocator.generate.helpers import apportion, fold_id
from allocator.generate.region import Shape, shape_note, synthetic_names
from allocator.generate.write import write_instance

# Share of the active caseload per team kind (follow-up takes the rest).
OFFICE_SHARES = {"youth": 0.2, "family": 0.16, "debt_counselling": 0.05}


@dataclass(frozen=True)
class OfficeSize:
    """Advisors and users of a generated office; drawn from the seed when 0."""

    advisors: int = 0
    users: int = 0
    municipalities: int = 0


def draw_size(rng: random.Random, size: OfficeSize) -> tuple[int, int, int]:
    """(municipalities, advisors, users) within the office shape's ranges.

    Users per advisor follow the seed documents' offices (about 12 to 20
    weighted users per post across all teams).
    """
    places = size.municipalities or rng.randint(4, 8)
    advisors = size.advisors or rng.randint(30, 80)
    users = size.users or min(1500, max(400, round(advisors * rng.uniform(12, 20))))
    return places, advisors, users


def generate_office(
    seed: int, out: Path, shape: Shape | None = None, size: OfficeSize | None = None
) -> Instance:
    """Write one office-shaped instance to ``out`` and return it.

    Raises ValueError when the given counts cannot make such an office
    (fewer than 2 municipalities or 12 advisors).
    """
    instance = office_instance(seed, out.name or "office", shape, size)
    write_instance(out, instance)
    return instance


def office_instance(
    seed: int,
    name: str = "office",
    shape: Shape | None = None,
    size: OfficeSize | None = None,
) -> Instance:
    """The office-shaped instance of ``seed`` (see the module docstring)."""
    shape = shape or Shape()
    rng = random.Random(seed)
    n_places, n_advisors, n_users = draw_size(rng, size or OfficeSize())
    if n_places < 2 or n_advisors < 12:
        raise ValueError("an office needs at least 2 municipalities and 12 advisors")
    names = synthetic_names(rng, n_places)
    # A valley: municipalities along a road, 15 to 35 km apart.
    places = []
    lat, lon = 60.4 + rng.uniform(-0.3, 0.3), 8.4 + rng.uniform(-0.6, 0.6)
    for label in names:
        people = int(min(25000, max(700, rng.lognormvariate(8.1, 0.7))))
        places.append(municipality(fold_id(label), label, people, lat, lon))
        step = rng.uniform(15, 35) / 111
        angle = rng.uniform(-0.6, 0.6)
        lat = round(lat + step * math.sin(angle), 4)
        lon = round(lon + step * math.cos(angle) * 1.9, 4)
    ids = [m.id for m in places]
    population = {m.id: float(m.population or 1) for m in places}
    # The host: the most populous; it hosts one to three neighbours.
    host_pos = max(range(n_places), key=lambda i: (population[ids[i]], -i))
    neighbours = sorted(
        (i for i in range(n_places) if i != host_pos),
        key=lambda i: (abs(i - host_pos), i),
    )
    hosted = [
        ids[i] for i in neighbours[: rng.randint(1, max(1, min(3, n_places - 2)))]
    ]
    host = ids[host_pos]
    agreements = (HostAgreement(host=host, members=tuple(sorted(hosted))),)
    employers = [m for m in ids if m not in hosted]

    def employer_of(place: str) -> str:
        return host if place in hosted else place

    # Sub-areas for follow-up: the host group (split in two teams when it
    # is large), other municipalities alone or, when small, in pairs.
    group = [host, *hosted]
    areas = follow_up_areas(rng, ids, group, population, split_pairs=True)
    debt_places = tuple(group) if rng.random() < 0.7 else tuple(ids)
    routing = (
        RoutingRule(team_kind="assessment", status="new"),
        RoutingRule(
            team_kind="debt_counselling",
            needs_any=("debt_counselling",),
            municipality_in=debt_places,
        ),
        RoutingRule(team_kind="youth", age_max=29),
        RoutingRule(team_kind="family", children_min=1),
        RoutingRule(team_kind="follow_up"),
    )
    office = f"NAV {places[host_pos].name}-regionen"
    teams = [
        team("assessment", f"{office} mottak og kartlegging", "assessment"),
        team("youth", f"{office} Team ung", "youth"),
        team("family", f"{office} Team familie", "family"),
        team("debt", f"{office} gjeldsrådgivning", "debt_counselling", debt_places),
    ]
    for number, area in enumerate(areas, start=1):
        label = "/".join(next(m.name for m in places if m.id == p) for p in area)
        teams.append(
            team(f"follow_up-{number}", f"NAV {label} oppfølging", "follow_up", area)
        )
    builder = Builder(
        rng,
        host_agreements=agreements,
        routing=routing,
        households=0.04,
    )
    # Posts per team: assessment by intake, the rest by caseload share.
    new_total = round(n_users * rng.uniform(0.03, 0.07))
    debt_staff = 2 if len(debt_places) <= 3 else 3
    assessment = max(3, min(n_advisors // 6, math.ceil(new_total / 6)))
    youth = max(3, round(n_advisors * 0.17))
    family = max(3, round(n_advisors * 0.13))
    follow = max(len(areas) * 2, n_advisors - assessment - youth - family - debt_staff)
    area_pop = [sum(population[m] for m in area) for area in areas]
    per_area = [2 + k for k in apportion(follow - 2 * len(areas), area_pop)]
    staff: dict[str, list[Advisor]] = {}
    weights = [population[m] for m in employers]

    def office_wide(item: Team, count: int, municipal_share: float) -> list[Advisor]:
        """Staff of an office-wide team from several employers, in valley order."""
        drawn = []
        for _ in range(count):
            employer = (
                rng.choices(employers, weights=weights)[0]
                if rng.random() < municipal_share
                else "state"
            )
            base = employer if employer != "state" else rng.choice([host, *employers])
            drawn.append((employer, base))
        # Each municipal employer present at least once where authority is
        # needed: the host always, so every hosted municipality is covered.
        if all(e != host for e, _ in drawn):
            drawn[0] = (host, host)
        drawn.sort(key=lambda eb: ids.index(eb[1]))
        return [
            builder.advisor(
                item,
                employer=employer,
                base=base,
                fte=1.0 if rng.random() < 0.8 else rng.choice((0.5, 0.6, 0.8)),
                available=rng.random() > 0.03,
            )
            for employer, base in drawn
        ]

    by_id = {t.id: t for t in teams}
    staff["assessment"] = office_wide(by_id["assessment"], assessment, 0.5)
    staff["youth"] = office_wide(by_id["youth"], youth, 0.45)
    staff["family"] = office_wide(by_id["family"], family, 0.45)
    debt_employers = sorted({employer_of(m) for m in debt_places}, key=ids.index)
    staff["debt"] = builder.debt_counsellors(by_id["debt"], debt_employers, debt_staff)
    for item, headcount, area in zip(teams[4:], per_area, areas, strict=True):
        members: list[Advisor] = []
        for k, place in enumerate(area):
            share = apportion(headcount, [population[m] for m in area])[k]
            members += builder.staff_team(
                item,
                max(1, share),
                host=employer_of(place),
                base=place,
                municipal_share=0.5,
                leader=k == 0,
                unavailable=0.03,
            )
        staff[item.id] = members

    # Active users: about 3 % of the population in follow-up, scaled to the
    # drawn total; split by kind, then by municipality.
    active = n_users - new_total
    by_place = dict(zip(ids, apportion(active, list(population.values())), strict=True))
    kind_share = {k: v for k, v in OFFICE_SHARES.items()}
    for kind, team_id in (("youth", "youth"), ("family", "family")):
        counts = {m: round(by_place[m] * kind_share[kind]) for m in ids}
        builder.caseload(by_id[team_id], staff[team_id], counts)
    debt_counts = {
        m: round(by_place[m] * kind_share["debt_counselling"]) for m in debt_places
    }
    for advisor in staff["debt"]:
        mine = [m for m in debt_places if employer_of(m) == advisor.employer]
        share_of = sum(1 for a in staff["debt"] if a.employer == advisor.employer)
        counts = {m: debt_counts[m] // share_of for m in mine}
        builder.caseload(by_id["debt"], [advisor], counts)
    taken = {
        m: round(by_place[m] * (kind_share["youth"] + kind_share["family"]))
        + (debt_counts.get(m, 0))
        for m in ids
    }
    for item, area in zip(teams[4:], areas, strict=True):
        counts = {m: max(0, by_place[m] - taken[m]) for m in area}
        builder.caseload(item, staff[item.id], counts)
    new_counts = dict(
        zip(ids, apportion(new_total, list(population.values())), strict=True)
    )
    builder.new_users(by_id["assessment"], staff["assessment"], new_counts)

    all_staff = [a for t in teams for a in staff[t.id]]
    per_kind = builder.cases_per_fte(
        teams, all_staff, headroom=rng.uniform(1.0, 1.2), max_utilisation=0.95
    )
    per_kind = {
        kind: float(max(1, math.floor(value * shape.capacity_factor + 1e-9)))
        for kind, value in per_kind.items()
    }
    users = builder.finish_users()
    advisors = builder.finish_advisors(all_staff, max_municipalities=2)
    locks = office_locks(rng, users, advisors)
    if shape.first_allocation:
        users = [
            u.model_copy(update={"current_advisor": None, "since": None}) for u in users
        ]
    return Instance(
        name=name,
        description=(
            f"Generated office (seed {seed}): {n_places} municipalities, {host} "
            f"hosting {', '.join(sorted(hosted))}; {len(advisors)} advisors in "
            f"{len(teams)} teams, {len(users)} users" + shape_note(shape)
        ),
        week=WEEK,
        policy=policy_for(per_kind).model_copy(
            update={"rotation_months": shape.rotation_months}
        ),
        competences=COMPETENCES,
        host_agreements=agreements,
        routing=routing,
        municipalities=tuple(places),
        teams=tuple(teams),
        advisors=tuple(advisors),
        users=tuple(users),
        locks=tuple(locks),
    )


def office_locks(
    rng: random.Random, users: list[User], advisors: list[Advisor]
) -> list[Lock]:
    """A few manual decisions: users kept with their advisor, conflicts of interest.

    A fix lock keeps an active user with their current advisor (so it can
    always hold); a forbid lock names another advisor of the same team.
    """
    by_id = {a.id: a for a in advisors}
    candidates = [
        u
        for u in users
        if u.current_advisor is not None
        and u.household is None
        and by_id[u.current_advisor].available
    ]
    locks: list[Lock] = []
    if not candidates:
        return locks
    chosen = rng.sample(candidates, min(len(candidates), rng.randint(2, 6)))
    per_advisor: dict[str, int] = {}
    for user in chosen[: len(chosen) // 2]:
        assert user.current_advisor is not None
        if per_advisor.get(user.current_advisor, 0) >= 1:
            continue
        per_advisor[user.current_advisor] = 1
        locks.append(Lock(user=user.id, advisor=user.current_advisor, kind="fix"))
    for user in chosen[len(chosen) // 2 :]:
        current = by_id[user.current_advisor or ""]
        others = [a for a in advisors if a.team == current.team and a.id != current.id]
        if others:
            locks.append(
                Lock(user=user.id, advisor=rng.choice(others).id, kind="forbid")
            )
    return locks
