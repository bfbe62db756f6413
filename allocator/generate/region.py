"""An arbitrary region: municipalities around office centres, offices with
teams of every kind, and the caseload spread over them.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from allocator.domain import Advisor, HostAgreement, Instance, Municipality, Team
from allocator.generate.builders import (
    Builder,
    municipality,
    policy_for,
    team,
    team_name,
)
from allocator.generate.catalogue import COMPETENCES, INTAKE_PER_FTE, WEEK, routing_for
from allocator.generate.helpers import apportion, casework_fte, fold_id, intake_limit
from allocator.generate.profiles import NAME_ENDINGS, NAME_PREFIXES, NAME_STEMS
from allocator.generate.write import write_instance

KIND_SHARES = {
    "youth": 0.22,
    "family": 0.18,
    "debt_counselling": 0.08,
    "follow_up": 0.52,
}


@dataclass(frozen=True)
class Office:
    """A NAV office: its municipalities, the first being the host or the only one."""

    id: str
    name: str
    municipalities: tuple[str, ...]

    @property
    def host(self) -> str:
        return self.municipalities[0]


def synthetic_names(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct Norwegian-looking municipality names with distinct ids."""
    names: list[str] = []
    ids: set[str] = set()
    misses = 0
    while len(names) < count:
        name = rng.choice(NAME_STEMS) + rng.choice(NAME_ENDINGS)
        if rng.random() < 0.12:
            name = f"{rng.choice(NAME_PREFIXES)} {name}"
        if fold_id(name) in ids and misses > 50:
            # Crowded name space (very many municipalities): number it.
            name = f"{name} {len(names) + 1}"
        if fold_id(name) in ids:
            misses += 1
            continue
        misses = 0
        ids.add(fold_id(name))
        names.append(name)
    return names


def synthetic_region(
    rng: random.Random, count: int, offices: int
) -> tuple[list[Municipality], list[Office]]:
    """Municipalities around office centres in inland southern Norway.

    Office centres sit on a jittered grid; members lie within about 15 km of
    their centre. The most populous member of an office is its host.
    """
    sizes = apportion(count, [1.0] * offices)
    rng.shuffle(sizes)
    names = synthetic_names(rng, count)
    columns = math.ceil(math.sqrt(offices * 1.6))
    rows = math.ceil(offices / columns)
    step_lat = min(0.35, 4.5 / max(rows, 1))
    step_lon = min(0.7, 5.0 / max(columns, 1))
    municipalities: list[Municipality] = []
    result: list[Office] = []
    taken = 0
    for number, size in enumerate(sizes):
        row, column = divmod(number, columns)
        lat0 = 59.6 + row * step_lat + rng.uniform(-0.08, 0.08)
        lon0 = 8.0 + column * step_lon + rng.uniform(-0.15, 0.15)
        members = []
        for name in names[taken : taken + size]:
            population = int(min(60000, max(600, rng.lognormvariate(8.4, 0.8))))
            members.append(
                municipality(
                    fold_id(name),
                    name,
                    population,
                    round(lat0 + rng.uniform(-0.12, 0.12), 4),
                    round(lon0 + rng.uniform(-0.25, 0.25), 4),
                )
            )
        taken += size
        members.sort(key=lambda m: -(m.population or 0))
        municipalities += members
        ids = tuple(m.id for m in members)
        label = members[0].name if size == 1 else f"{members[0].name}-regionen"
        if size == 2:
            label = f"{members[0].name}/{members[1].name}"
        result.append(Office(id=ids[0], name=f"NAV {label}", municipalities=ids))
    return municipalities, result


def _office_plan(
    advisors: int, new_users: float, *, minimum: int = 5
) -> dict[str, int]:
    """Advisors per team kind in one office.

    Assessment is sized by this week's new users (each full post takes 8 a
    week, plus a margin), but at most a third of the office, so that with
    very many users per advisor the caseload is not left to a handful; the
    rest by the share of caseload each kind has.
    """
    assessment = math.ceil(new_users * 1.3 / (INTAKE_PER_FTE * 0.93))
    cap = min(advisors - (minimum - 1), max(1, advisors // 3))
    assessment = min(max(1, assessment), cap)
    rest = apportion(advisors - assessment - 4, list(KIND_SHARES.values()))
    plan = {"assessment": assessment}
    for kind, extra in zip(KIND_SHARES, rest, strict=True):
        plan[kind] = 1 + extra
    return plan


@dataclass(frozen=True)
class Shape:
    """Variants of a generated instance that stress the search differently.

    ``first_allocation``: nobody has a current advisor (a first allocation
    of a whole caseload, or a new structure being tried): every user is
    open and many are interchangeable. ``rotation_months``: the policy's
    rotation period (R13); since dates span 1 week to 3 years, so 12 puts
    about two thirds of the caseload due for rotation. ``capacity_factor``
    scales every kind's cases per FTE (rounded down): below 1 the office is
    short of capacity and some advisors' current caseloads no longer fit.
    """

    first_allocation: bool = False
    rotation_months: float = 0
    capacity_factor: float = 1.0


def generate(
    advisors: int,
    users: int,
    municipalities: int,
    seed: int,
    out: Path,
    shape: Shape | None = None,
) -> None:
    """Write a synthetic region with exactly these counts to folder ``out``.

    The instance is :func:`region_instance`'s, named after the folder.

    Raises ValueError for counts or shape values that cannot make an office.
    """
    instance = region_instance(
        advisors, users, municipalities, seed, shape, name=out.name or "generated"
    )
    write_instance(out, instance)


def region_instance(
    advisors: int,
    users: int,
    municipalities: int,
    seed: int,
    shape: Shape | None = None,
    name: str = "generated",
) -> Instance:
    """A synthetic region with exactly these counts, in memory.

    Municipalities are grouped into offices (about two each, fewer offices
    when staff is short, at least five advisors per office); offices with
    several municipalities have a host agreement. Each office has teams of
    every kind serving its municipalities. ``shape`` (see :class:`Shape`)
    changes current advisors, rotation and capacity after the draw, so the
    same seed gives the same office in every shape.

    Raises ValueError for counts or shape values that cannot make an office.
    """
    shape = shape or Shape()
    if advisors < 5:
        raise ValueError("need at least 5 advisors: one per team kind")
    if municipalities < 1 or users < 0:
        raise ValueError("need at least one municipality and no negative users")
    if shape.capacity_factor <= 0 or shape.rotation_months < 0:
        raise ValueError("capacity factor must be above 0, rotation months >= 0")
    rng = random.Random(seed)
    count = min(
        max(1, round(municipalities / rng.uniform(1.6, 2.2))),
        max(1, advisors // 8),
        municipalities,
    )
    places, offices = synthetic_region(rng, municipalities, count)
    population = {m.id: float(m.population or 1) for m in places}
    agreements = tuple(
        HostAgreement(host=o.host, members=o.municipalities[1:])
        for o in offices
        if len(o.municipalities) > 1
    )
    builder = Builder(
        rng,
        host_agreements=agreements,
        routing=routing_for(["assessment", *KIND_SHARES]),
    )
    new_total = round(users * rng.uniform(0.03, 0.06))
    office_pop = [sum(population[m] for m in o.municipalities) for o in offices]
    per_office = [5 + n for n in apportion(advisors - 5 * len(offices), office_pop)]
    teams: list[Team] = []
    staff: dict[str, list[Advisor]] = {}
    pop_total = sum(office_pop)
    for office, size, pop in zip(offices, per_office, office_pop, strict=True):
        plan = _office_plan(size, new_total * pop / pop_total)
        for kind, headcount in plan.items():
            splits = apportion(headcount, [1.0] * math.ceil(headcount / 10))
            for number, team_size in enumerate(splits, start=1):
                suffix = f"-{number}" if len(splits) > 1 else ""
                item = team(
                    f"{office.id}-{kind}{suffix}",
                    team_name(office.name, kind, number if len(splits) > 1 else 0),
                    kind,
                    office.municipalities,
                )
                teams.append(item)
                staff[item.id] = builder.staff_team(
                    item,
                    team_size,
                    host=office.host,
                    base=office.host,
                    unavailable=0.02,
                )
    _fill_region(builder, teams, staff, population, users - new_total, new_total)
    all_staff = [a for t in teams for a in staff[t.id]]
    per_kind = builder.cases_per_fte(teams, all_staff, headroom=1.15)
    per_kind = {
        kind: float(max(1, math.floor(value * shape.capacity_factor + 1e-9)))
        for kind, value in per_kind.items()
    }
    finished = builder.finish_users()
    if shape.first_allocation:
        finished = [
            u.model_copy(update={"current_advisor": None, "since": None})
            for u in finished
        ]
    return Instance(
        name=name,
        description=(
            f"Synthetic region: {municipalities} municipalities in {len(offices)} "
            f"offices, {advisors} advisors, {users} users (seed {seed})"
            + shape_note(shape)
        ),
        week=WEEK,
        policy=policy_for(per_kind).model_copy(
            update={"rotation_months": shape.rotation_months}
        ),
        competences=COMPETENCES,
        host_agreements=agreements,
        routing=builder.routing,
        municipalities=tuple(places),
        teams=tuple(teams),
        advisors=tuple(
            builder.finish_advisors(all_staff, max_municipalities=2, rebase=True)
        ),
        users=tuple(finished),
    )


def shape_note(shape: Shape) -> str:
    """The shape options in words, for the instance's description."""
    notes = []
    if shape.first_allocation:
        notes.append("first allocation")
    if shape.rotation_months:
        notes.append(f"rotation after {shape.rotation_months:g} months")
    if shape.capacity_factor != 1.0:
        notes.append(f"capacity x {shape.capacity_factor:g}")
    return f"; {', '.join(notes)}" if notes else ""


def _fill_region(
    builder: Builder,
    teams: Sequence[Team],
    staff: Mapping[str, Sequence[Advisor]],
    population: Mapping[str, float],
    active: int,
    new: int,
) -> None:
    """Active users per kind spread over teams by casework FTE; new users by intake."""
    by_kind: dict[str, list[Team]] = defaultdict(list)
    for item in teams:
        by_kind[item.kind].append(item)
    for kind, amount in zip(
        KIND_SHARES, apportion(active, list(KIND_SHARES.values())), strict=True
    ):
        group = by_kind[kind]
        fte = [sum(casework_fte(a) for a in staff[t.id]) for t in group]
        for item, share in zip(group, apportion(amount, fte), strict=True):
            weights = [population[m] for m in item.municipalities]
            counts = dict(
                zip(item.municipalities, apportion(share, weights), strict=True)
            )
            builder.caseload(item, staff[item.id], counts)
    group = by_kind["assessment"]
    intake = [sum(intake_limit(a) for a in staff[t.id]) for t in group]
    for item, share in zip(group, apportion(new, intake), strict=True):
        weights = [population[m] for m in item.municipalities]
        counts = dict(zip(item.municipalities, apportion(share, weights), strict=True))
        builder.new_users(item, staff[item.id], counts)
