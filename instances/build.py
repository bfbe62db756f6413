"""Rebuild the shipped instances from fixed seeds: ``python instances/build.py``.

Staff tables, populations, coordinates and road distances follow the domain
brief (DOMAIN.md 1.1, 1.2, 1.3, 1.10); people, users and caseloads are
synthetic, drawn by ``allocator.generate``'s builders. Running this again
writes byte-identical files. instances/README.md says which figure comes from
where.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from random import Random
from typing import NamedTuple

# Run as a script from anywhere: make the package importable from the repo.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from allocator.checker import capacity, routed_rule
from allocator.domain import (
    Advisor,
    HostAgreement,
    Instance,
    Lock,
    RoutingRule,
    Team,
    User,
)
from allocator.generate import (
    COMPETENCES,
    INTRODUCTION_PROGRAMME,
    WEEK,
    Builder,
    apportion,
    casework_fte,
    municipality,
    policy_for,
    routing_for,
    symmetric,
    team,
    team_name,
    write_instance,
)

HERE = Path(__file__).resolve().parent


class Post(NamedTuple):
    """One position in a hand-made staff table."""

    team: str
    employer: str
    base: str
    fte: float = 1.0
    casework_share: float = 1.0
    competences: tuple[str, ...] | None = None
    available: bool = True


def staff(
    builder: Builder, teams: Sequence[Team], posts: Sequence[Post]
) -> list[Advisor]:
    """Advisors for a staff table, names synthetic, competences drawn if not given."""
    by_id = {t.id: t for t in teams}
    return [
        builder.advisor(
            by_id[p.team],
            employer=p.employer,
            base=p.base,
            fte=p.fte,
            casework_share=p.casework_share,
            competences=p.competences,
            available=p.available,
        )
        for p in posts
    ]


def members(advisors: Sequence[Advisor], team_id: str) -> list[Advisor]:
    return [a for a in advisors if a.team == team_id]


def road_distances(
    legs: Mapping[tuple[str, str], float],
) -> dict[tuple[str, str], float]:
    """All-pairs road km as sums of legs along the shortest road (a tree here)."""
    places = sorted({p for pair in legs for p in pair})
    km = {(a, b): 0.0 if a == b else float("inf") for a in places for b in places}
    for (a, b), leg in legs.items():
        km[(a, b)] = km[(b, a)] = leg
    for via in places:
        for a in places:
            for b in places:
                km[(a, b)] = min(km[(a, b)], km[(a, via)] + km[(via, b)])
    return {(a, b): d for (a, b), d in km.items() if a != b}


# --- Hallingdal ---------------------------------------------------------------

# Walk-in inquiries April, May, September, October 2017 (DOMAIN.md 1.1, S1).
WALK_INS = {
    "fla": (46, 50, 38, 23),
    "nes": (137, 137, 122, 97),
    "gol": (268, 363, 242, 156),
    "hemsedal": (57, 86, 50, 40),
    "al": (153, 160, 146, 150),
    "hol": (171, 210, 140, 134),
}
# Rv7 legs and Rv52 to Hemsedal (DOMAIN.md 1.10); NAV Hol sits at Geilo.
RV7_LEGS = {
    ("fla", "nes"): 33.0,
    ("nes", "gol"): 20.0,
    ("gol", "al"): 23.0,
    ("al", "hol"): 28.0,
    ("gol", "hemsedal"): 33.0,
}


def hallingdal() -> Instance:
    """NAV Hallingdal today (model A): 40 staff, 36.35 FTE, Gol hosting Hemsedal."""
    places = [
        municipality("fla", "Flå", 1074, 60.43, 9.46),
        municipality("nes", "Nes", 3357, 60.57, 9.11),
        municipality("gol", "Gol", 4584, 60.70, 8.95),
        municipality("hemsedal", "Hemsedal", 2442, 60.86, 8.56),
        municipality("al", "Ål", 4719, 60.63, 8.56),
        municipality("hol", "Hol", 4535, 60.53, 8.21),
    ]
    agreements = (HostAgreement(host="gol", members=("hemsedal",)),)
    # The shared debt service only has authority where its two counsellors'
    # employers do (Gol with Hemsedal, and Ål); elsewhere debt advice stays
    # with the local office's municipal staff, as in model A.
    debt_places = ("gol", "hemsedal", "al")
    routing = (
        RoutingRule(team_kind="assessment", status="new"),
        RoutingRule(
            team_kind="debt_counselling",
            needs_any=("debt_counselling",),
            municipality_in=debt_places,
        ),
        RoutingRule(team_kind="youth", age_max=29),
        RoutingRule(team_kind="follow_up"),
    )
    teams = [
        team("hal-assessment", "NAV Hallingdal mottak og kartlegging", "assessment"),
        team("hal-youth", "NAV Hallingdal Team ung", "youth"),
        team(
            "hal-debt",
            "NAV Hallingdal gjeldsrådgivning",
            "debt_counselling",
            debt_places,
        ),
        team("fla-follow_up", "NAV Flå oppfølging", "follow_up", ["fla"]),
        team("nes-follow_up", "NAV Nes oppfølging", "follow_up", ["nes"]),
        team(
            "gol-follow_up",
            "NAV Gol/Hemsedal oppfølging",
            "follow_up",
            ["gol", "hemsedal"],
        ),
        team("al-follow_up", "NAV Ål oppfølging", "follow_up", ["al"]),
        team("hol-follow_up", "NAV Hol oppfølging", "follow_up", ["hol"]),
    ]
    debt_work = ("debt_counselling", "social_assistance")
    local_debt = ("social_assistance", "debt_counselling", "qualification_programme")
    posts = [
        # Reception and assessment: one municipal post per office with
        # authority, plus three Ressursenheten posts (state, at Gol).
        Post("hal-assessment", "nes", "nes"),
        Post("hal-assessment", "gol", "gol"),
        Post("hal-assessment", "state", "gol"),
        Post("hal-assessment", "state", "gol"),
        Post("hal-assessment", "state", "gol"),
        Post("hal-assessment", "al", "al", 0.8),
        Post("hal-assessment", "hol", "hol", 0.8),
        # The joint youth team: Gol's youth worker and three Ressursenheten posts.
        Post("hal-youth", "gol", "gol"),
        Post("hal-youth", "state", "gol"),
        Post("hal-youth", "state", "gol"),
        Post("hal-youth", "state", "gol"),
        # Debt counselling: two persons at 50 %.
        Post("hal-debt", "gol", "gol", 0.5, competences=debt_work),
        Post("hal-debt", "al", "al", 0.5, competences=debt_work),
        # Flå: the coordinating leader (state, little casework) and the
        # professional lead for the municipal services.
        Post("fla-follow_up", "state", "fla", 1.0, 0.2, ("aap", "labour_market")),
        Post("fla-follow_up", "fla", "fla", 1.0, 0.9, local_debt),
        Post("nes-follow_up", "state", "nes"),
        Post("nes-follow_up", "state", "nes"),
        Post("nes-follow_up", "nes", "nes", 0.8, competences=local_debt),
        Post("nes-follow_up", "state", "nes", 0.8),
        Post("nes-follow_up", "nes", "nes", 0.5),
        # Gol/Hemsedal: every municipal post employed by Gol (host).
        Post("gol-follow_up", "gol", "gol"),
        Post("gol-follow_up", "gol", "gol"),
        Post("gol-follow_up", "gol", "gol"),
        Post("gol-follow_up", "state", "gol"),
        Post("gol-follow_up", "state", "gol"),
        Post("gol-follow_up", "state", "gol", available=False),
        Post("gol-follow_up", "state", "gol"),
        Post("gol-follow_up", "gol", "hemsedal"),
        Post("gol-follow_up", "state", "hemsedal"),
        # Ål and Hol: a 100 % leader, 50 % leading and 50 % casework.
        Post("al-follow_up", "state", "al", 1.0, 0.5),
        Post("al-follow_up", "al", "al"),
        Post("al-follow_up", "al", "al"),
        Post("al-follow_up", "al", "al", 0.5),
        Post("al-follow_up", "state", "al"),
        Post("hol-follow_up", "hol", "hol", 1.0, 0.5),
        Post("hol-follow_up", "hol", "hol"),
        Post("hol-follow_up", "hol", "hol", 0.65, competences=local_debt),
        Post("hol-follow_up", "state", "hol"),
        Post("hol-follow_up", "state", "hol"),
        Post("hol-follow_up", "state", "hol", 0.5),
    ]
    builder = Builder(Random(2017), host_agreements=agreements, routing=routing)
    advisors = staff(builder, teams, posts)

    # Users: about 3 % of the population in follow-up, spread half by
    # population and half by 2017 walk-in inquiries; a few percent new.
    population = {m.id: m.population or 0 for m in places}
    pop_total = sum(population.values())
    walk_total = sum(sum(v) for v in WALK_INS.values())
    mix = [
        0.5 * population[m] / pop_total + 0.5 * sum(WALK_INS[m]) / walk_total
        for m in population
    ]
    active = dict(zip(population, apportion(620, mix), strict=True))
    new = dict(zip(population, apportion(30, mix), strict=True))
    youth = {m: round(0.18 * n) for m, n in active.items()}
    debt = {"gol": 10, "hemsedal": 4, "al": 14}
    follow = {m: active[m] - youth[m] - debt.get(m, 0) for m in active}

    youth_order = ("gol", "hemsedal", "nes", "fla", "al", "hol")
    by_id = {t.id: t for t in teams}
    builder.caseload(
        by_id["hal-youth"],
        members(advisors, "hal-youth"),
        {m: youth[m] for m in youth_order},
    )
    # Each counsellor takes the users where their employer gives authority.
    gol_debt, al_debt = members(advisors, "hal-debt")
    debt_team = by_id["hal-debt"]
    builder.caseload(debt_team, [gol_debt], {m: debt[m] for m in ("gol", "hemsedal")})
    builder.caseload(debt_team, [al_debt], {"al": debt["al"]})
    for item in teams:
        if item.kind == "follow_up":
            counts = {m: follow[m] for m in item.municipalities}
            builder.caseload(item, members(advisors, item.id), counts)
    builder.new_users(by_id["hal-assessment"], members(advisors, "hal-assessment"), new)

    # Offices differ in staff per user; keep the busiest follow-up team
    # below 90 % so a good allocation stays within 60-95 %.
    per_kind = builder.cases_per_fte(
        teams, advisors, headroom=1.15, max_utilisation=0.9
    )
    users = builder.finish_users()
    return Instance(
        name="hallingdal",
        description=(
            "NAV Hallingdal today (model A): offices in Flå, Nes, Ål and Hol, "
            "Gol hosting Hemsedal, and the regional Ressursenheten; "
            "40 staff, 36.35 FTE"
        ),
        week=WEEK,
        policy=policy_for(per_kind),
        competences=COMPETENCES,
        host_agreements=agreements,
        routing=routing,
        municipalities=tuple(places),
        teams=tuple(teams),
        advisors=tuple(builder.finish_advisors(advisors, max_municipalities=2)),
        users=tuple(users),
        locks=tuple(hallingdal_locks(users, advisors)),
        travel=symmetric(road_distances(RV7_LEGS)),
    )


def hallingdal_locks(users: Sequence[User], advisors: Sequence[Advisor]) -> list[Lock]:
    """Manual decisions: keep a Hol user's advisor; a conflict of interest in Nes."""
    hol = {a.id for a in members(advisors, "hol-follow_up")}
    nes = [a.id for a in members(advisors, "nes-follow_up")]
    keep = next(u for u in users if u.current_advisor in hol and not u.household)
    other = next(u for u in users if u.current_advisor in nes[1:] and not u.household)
    return [
        Lock(user=keep.id, advisor=keep.current_advisor, kind="fix"),
        Lock(user=other.id, advisor=nes[0], kind="forbid"),
    ]


# --- Nord-Gudbrandsdal --------------------------------------------------------

NG_COMPETENCES = tuple(
    c for c in COMPETENCES if c.id not in ("debt_counselling", "family_services")
)


def nord_gudbrandsdal() -> Instance:
    """Six offices after the regional model: no host agreement, Dovre per S4."""
    places = [
        municipality("dovre", "Dovre", 2742, 62.07, 9.12),
        municipality("lesja", "Lesja", 2100, 62.12, 8.86),
        municipality("sel", "Sel", 5900, 61.77, 9.54),
        municipality("vaga", "Vågå", 3700, 61.88, 9.10),
        municipality("skjak", "Skjåk", 2250, 61.88, 8.27),
        municipality("lom", "Lom", 2350, 61.84, 8.57),
    ]
    names = {m.id: m.name for m in places}
    # First-time applicants for social assistance see the social worker
    # directly (Dovre's measure 8); other new users meet reception.
    routing = (
        RoutingRule(
            team_kind="follow_up", status="new", needs_any=("social_assistance",)
        ),
        RoutingRule(team_kind="assessment", status="new"),
        RoutingRule(team_kind="youth", age_max=29, municipality_in=("sel",)),
        RoutingRule(team_kind="follow_up"),
    )
    teams = []
    for m in names:
        teams.append(
            team(f"{m}-assessment", f"NAV {names[m]} mottak", "assessment", [m])
        )
        teams.append(
            team(
                f"{m}-follow_up",
                team_name(f"NAV {names[m]}", "follow_up"),
                "follow_up",
                [m],
            )
        )
        if m == "sel":
            teams.append(team("sel-youth", "NAV Sel Team ung", "youth", ["sel"]))
    front = ("aap", "labour_market")
    social = ("social_assistance", "qualification_programme")
    posts = [
        # Dovre (S4): 5.4 positions, 3 municipal and 2.4 state.
        Post("dovre-assessment", "dovre", "dovre", competences=front),
        Post(
            "dovre-follow_up",
            "state",
            "dovre",
            1.0,
            0.65,
            ("aap", "sickness_absence", "youth_guidance", "labour_market"),
        ),
        Post("dovre-follow_up", "dovre", "dovre", competences=social),
        Post(
            "dovre-follow_up",
            "dovre",
            "dovre",
            competences=("qualification_programme", "labour_market"),
        ),
        Post(
            "dovre-follow_up", "state", "dovre", competences=("aap", "sickness_absence")
        ),
        Post(
            "dovre-follow_up",
            "state",
            "dovre",
            0.4,
            competences=("aap", "labour_market"),
        ),
        # Lesja: the largest municipal effort of the six.
        Post("lesja-assessment", "lesja", "lesja", 0.8, competences=front),
        Post(
            "lesja-follow_up",
            "lesja",
            "lesja",
            1.0,
            0.6,
            ("social_assistance", "labour_market"),
        ),
        Post("lesja-follow_up", "lesja", "lesja", competences=social),
        Post(
            "lesja-follow_up",
            "lesja",
            "lesja",
            0.8,
            competences=("social_assistance", "youth_guidance"),
        ),
        Post(
            "lesja-follow_up", "state", "lesja", competences=("aap", "sickness_absence")
        ),
        # Sel (Otta): the largest office, with a youth team.
        Post("sel-assessment", "sel", "sel", competences=front),
        Post(
            "sel-assessment",
            "state",
            "sel",
            competences=(*front, "sickness_absence"),
        ),
        Post(
            "sel-youth",
            "sel",
            "sel",
            competences=(
                "social_assistance",
                "qualification_programme",
                "youth_guidance",
            ),
        ),
        Post(
            "sel-youth",
            "state",
            "sel",
            competences=("aap", "youth_guidance", "labour_market"),
        ),
        Post("sel-follow_up", "state", "sel", 1.0, 0.5, ("aap", "labour_market")),
        Post("sel-follow_up", "sel", "sel", competences=social),
        Post(
            "sel-follow_up",
            "sel",
            "sel",
            competences=("social_assistance", "labour_market"),
        ),
        Post("sel-follow_up", "sel", "sel", 0.6, competences=social),
        Post("sel-follow_up", "state", "sel", competences=("aap", "sickness_absence")),
        Post(
            "sel-follow_up",
            "state",
            "sel",
            competences=("sickness_absence", "labour_market"),
        ),
        Post(
            "sel-follow_up", "state", "sel", 0.8, competences=("aap", "labour_market")
        ),
        # Vågå.
        Post("vaga-assessment", "state", "vaga", competences=front),
        Post(
            "vaga-follow_up",
            "vaga",
            "vaga",
            1.0,
            0.6,
            ("social_assistance", "labour_market"),
        ),
        Post("vaga-follow_up", "vaga", "vaga", competences=social),
        Post(
            "vaga-follow_up",
            "vaga",
            "vaga",
            0.8,
            competences=("social_assistance", "youth_guidance"),
        ),
        Post(
            "vaga-follow_up", "state", "vaga", competences=("aap", "sickness_absence")
        ),
        Post(
            "vaga-follow_up",
            "state",
            "vaga",
            competences=("sickness_absence", "labour_market"),
        ),
        # Skjåk.
        Post("skjak-assessment", "skjak", "skjak", 0.8, competences=front),
        Post("skjak-follow_up", "state", "skjak", 1.0, 0.6, ("aap", "labour_market")),
        Post("skjak-follow_up", "skjak", "skjak", competences=social),
        Post(
            "skjak-follow_up", "state", "skjak", competences=("aap", "sickness_absence")
        ),
        # Lom.
        Post("lom-assessment", "state", "lom", 0.6, competences=front),
        Post(
            "lom-follow_up",
            "lom",
            "lom",
            1.0,
            0.6,
            ("social_assistance", "labour_market"),
        ),
        Post("lom-follow_up", "lom", "lom", competences=social),
        Post(
            "lom-follow_up",
            "lom",
            "lom",
            0.5,
            competences=("social_assistance", "youth_guidance"),
        ),
        Post("lom-follow_up", "state", "lom", competences=("aap", "sickness_absence")),
    ]
    builder = Builder(Random(2014), competences=NG_COMPETENCES, routing=routing)
    advisors = staff(builder, teams, posts)
    by_id = {t.id: t for t in teams}
    # About 3 % of the population in follow-up; Dovre, with its high
    # social-assistance numbers (S4), somewhat more.
    share = {"dovre": 0.035}
    population = {p.id: p.population or 0 for p in places}
    for m, people in population.items():
        n = round(people * share.get(m, 0.03))
        young = round(0.25 * n) if m == "sel" else 0
        if young:
            builder.caseload(
                by_id["sel-youth"], members(advisors, "sel-youth"), {m: young}
            )
        follow = by_id[f"{m}-follow_up"]
        builder.caseload(follow, members(advisors, follow.id), {m: n - young})
    # New this week: about 0.12 % of the population, a third of them
    # first-time applicants for social assistance.
    for m, people in population.items():
        fresh = round(people * 0.0012)
        applicants = round(0.35 * fresh)
        follow = by_id[f"{m}-follow_up"]
        workers = [
            a
            for a in members(advisors, follow.id)
            if "social_assistance" in a.competences
        ]
        builder.new_users(
            follow, workers, {m: applicants}, require=("social_assistance",)
        )
        reception = by_id[f"{m}-assessment"]
        builder.new_users(
            reception, members(advisors, reception.id), {m: fresh - applicants}
        )
    per_kind = builder.cases_per_fte(teams, advisors, headroom=1.15)
    return Instance(
        name="nord-gudbrandsdal",
        description=(
            "Nord-Gudbrandsdal after the regional model: six municipalities, six "
            "offices, no host agreement; Dovre staffed as in 2013"
        ),
        week=WEEK,
        policy=policy_for(per_kind, road_factor=1.4),
        competences=NG_COMPETENCES,
        routing=routing,
        municipalities=tuple(places),
        teams=tuple(teams),
        advisors=tuple(builder.finish_advisors(advisors, max_municipalities=2)),
        users=tuple(builder.finish_users()),
    )


# --- Lillestrøm ---------------------------------------------------------------

# Advisors and teams per kind: 24 teams of 7-8 staff plus a team leader.
LILLESTROM_TEAMS = {
    "assessment": (50, 6),
    "youth": (34, 4),
    "family": (33, 4),
    "recruitment": (25, 3),
    "follow_up": (58, 7),
}
LILLESTROM_ACTIVE = {
    "youth": 0.2,
    "family": 0.2,
    "recruitment": 0.15,
    "follow_up": 0.45,
}


def lillestrom() -> Instance:
    """NAV Lillestrøm: one municipality, about 200 advisors in 24 teams."""
    place = municipality("lillestrom", "Lillestrøm", 85000, 59.96, 11.05)
    catalogue = (
        *(c for c in COMPETENCES if c.id != "debt_counselling"),
        INTRODUCTION_PROGRAMME,
    )
    builder = Builder(
        Random(2020),
        competences=catalogue,
        routing=routing_for(LILLESTROM_TEAMS),
        prefer_non_local=0.0,  # one municipality: every advisor is local
        # A few acute cases a week per 30,000 residents (S3), not 1 %.
        urgent_new=0.08,
        urgent_active=0.002,
    )
    teams: list[Team] = []
    advisors: list[Advisor] = []
    groups: dict[str, list[Team]] = defaultdict(list)
    for kind, (headcount, count) in LILLESTROM_TEAMS.items():
        for number, size in enumerate(apportion(headcount, [1.0] * count), start=1):
            item = team(
                f"lillestrom-{kind}-{number}",
                team_name("NAV Lillestrøm", kind, number),
                kind,
                [place.id],
            )
            teams.append(item)
            groups[kind].append(item)
            advisors += builder.staff_team(
                item, size, host=place.id, base=place.id, unavailable=0.02
            )
    fte = {t.id: sum(casework_fte(a) for a in members(advisors, t.id)) for t in teams}
    shares = list(LILLESTROM_ACTIVE.values())
    for kind, amount in zip(LILLESTROM_ACTIVE, apportion(8000, shares), strict=True):
        group = groups[kind]
        for item, n in zip(
            group, apportion(amount, [fte[t.id] for t in group]), strict=True
        ):
            builder.caseload(item, members(advisors, item.id), {place.id: n})
    group = groups["assessment"]
    for item, n in zip(group, apportion(300, [fte[t.id] for t in group]), strict=True):
        builder.new_users(item, members(advisors, item.id), {place.id: n})
    per_kind = builder.cases_per_fte(teams, advisors, headroom=1.12)
    return Instance(
        name="lillestrom",
        description=(
            "NAV Lillestrøm (Skedsmo, Fet and Sørum merged): one municipality, "
            "24 teams built around the user's situation"
        ),
        week=WEEK,
        policy=policy_for(per_kind, time_limit_s=60),
        competences=catalogue,
        routing=builder.routing,
        municipalities=(place,),
        teams=tuple(teams),
        advisors=tuple(builder.finish_advisors(advisors, max_municipalities=2)),
        users=tuple(builder.finish_users()),
    )


# --- Report -------------------------------------------------------------------


def report(instance: Instance) -> str:
    """Counts, FTE and capacity against demand per team kind, for the README."""
    kind_of = {t.id: t.kind for t in instance.teams}
    advisors = instance.advisors
    users = instance.users
    lines = [
        f"{instance.name}: {len(instance.municipalities)} municipalities, "
        f"{len(instance.teams)} teams, {len(advisors)} advisors "
        f"({sum(a.fte for a in advisors):.2f} FTE; "
        f"{sum(a.employer == 'state' for a in advisors)} state, "
        f"{sum(a.employer != 'state' for a in advisors)} municipal), "
        f"{len(users)} users ({sum(u.status == 'new' for u in users)} new, "
        f"{sum(u.urgent for u in users)} urgent, "
        f"{sum(u.household is not None for u in users)} in households, "
        f"{sum(u.prefer_non_local for u in users)} prefer non-local), "
        f"{len(instance.locks)} locks",
        f"  {'kind':<18}{'advisors':>9}{'FTE':>8}{'cases/FTE':>10}"
        f"{'capacity':>10}{'demand':>9}{'cap/dem':>9}",
    ]
    demand: dict[str, float] = defaultdict(float)
    for user in users:
        routed = routed_rule(instance, user)
        demand[routed[1] if routed else "?"] += user.weight
    for kind in dict.fromkeys(kind_of.values()):
        staff = [a for a in advisors if kind_of[a.team] == kind]
        supply = sum(capacity(instance, a) for a in staff)
        per_fte = instance.policy.cases_per_fte_by_kind.get(
            kind, instance.policy.cases_per_fte
        )
        lines.append(
            f"  {kind:<18}{len(staff):>9}{sum(a.fte for a in staff):>8.2f}"
            f"{per_fte:>10g}{supply:>10.1f}{demand[kind]:>9.1f}"
            f"{supply / demand[kind] if demand[kind] else float('inf'):>9.2f}"
        )
    return "\n".join(lines)


# --- Hallingdal one week later ------------------------------------------------


def arrivals_like(
    users: Sequence[User], count: int, rng: Random, prefix: str
) -> list[User]:
    """New users shaped like last week's new ones (so routable and placeable).

    The first arrival is urgent.
    """
    templates = [u for u in users if u.status == "new" and u.household is None]
    arrivals = []
    for k in range(count):
        template = rng.choice(templates)
        arrivals.append(
            template.model_copy(
                update={
                    "id": f"{prefix}{k + 1:04d}",
                    "age": max(18, template.age + rng.randint(-6, 6)),
                    "urgent": k == 0,
                    "current_advisor": None,
                    "since": None,
                }
            )
        )
    return arrivals


def without_current(users: Sequence[User]) -> list[User]:
    """The leader's plain export: no current_advisor or since columns filled."""
    return [
        u.model_copy(update={"current_advisor": None, "since": None}) for u in users
    ]


def lillestrom_week2(week1: Instance) -> Instance:
    """Lillestrøm a week later: 100 new users, nobody left, no advisor away.

    The weekly re-solve benchmark: with ``--previous`` only the arrivals
    need placing, and nobody should move.
    """
    rng = Random(2050)
    arrivals = arrivals_like(week1.users, 100, rng, "u9")
    return week1.model_copy(
        update={
            "name": "lillestrom-week2",
            "description": "NAV Lillestrøm one week later: 100 new users",
            "week": "2026-W49",
            "users": tuple(without_current(week1.users) + arrivals),
        }
    )


def hallingdal_week2(week1: Instance) -> Instance:
    """Hallingdal a week later: leavers, about 40 arrivals, two advisors away.

    Two thirds of last week's new users have been assessed and are now
    active, so routing sends them on from the assessment team.

    The users table is the leader's plain caseload export, without
    current_advisor and since: ``--previous`` (last week's solution) supplies
    them. One more manual decision: an arriving urgent user is fixed to an
    assessment advisor in their own municipality.
    """
    rng = Random(2049)
    users = list(week1.users)
    # About 2 % of users leave (not household members, not locked).
    locked = {lock.user for lock in week1.locks}
    candidates = [u for u in users if u.household is None and u.id not in locked]
    leavers = {u.id for u in rng.sample(candidates, 14)}
    # Two thirds of last week's new users have been assessed: now active.
    new_ids = [u.id for u in users if u.status == "new"]
    assessed = set(new_ids[: len(new_ids) * 2 // 3])
    stay = [
        u.model_copy(
            update={
                "current_advisor": None,
                "since": None,
                "status": "active" if u.id in assessed else u.status,
            }
        )
        for u in users
        if u.id not in leavers
    ]
    arrivals = arrivals_like(users, 40, rng, "u2")
    advisors = list(week1.advisors)
    away = {
        members(advisors, "hol-follow_up")[1].id,
        members(advisors, "hal-youth")[0].id,
    }
    advisors = [
        a.model_copy(update={"available": False}) if a.id in away else a
        for a in advisors
    ]
    urgent = arrivals[0]
    assessment = [
        a
        for a in advisors
        if a.team.endswith("assessment")
        and a.base == urgent.municipality
        and a.available
    ] or [a for a in advisors if a.team.endswith("assessment") and a.available]
    locks = [*week1.locks, Lock(user=urgent.id, advisor=assessment[0].id, kind="fix")]
    return week1.model_copy(
        update={
            "name": "hallingdal-week2",
            "description": "NAV Hallingdal one week later: 14 users left, 40 "
            "arrived, 20 assessed, two advisors away, one new fix lock",
            "week": "2026-W49",
            "users": tuple(stay + arrivals),
            "advisors": tuple(advisors),
            "locks": tuple(locks),
        }
    )


def main() -> None:
    for build in (hallingdal, nord_gudbrandsdal, lillestrom):
        instance = build()
        write_instance(HERE / instance.name, instance)
        print(report(instance))
        next_week = {"hallingdal": hallingdal_week2, "lillestrom": lillestrom_week2}
        if instance.name in next_week:
            week2 = next_week[instance.name](instance)
            write_instance(HERE / week2.name, week2)
            print(report(week2))


if __name__ == "__main__":
    main()
