"""Synthetic instances: realistic caseloads for tests, demos and scale runs.

Everything is drawn from one ``random.Random(seed)`` in a fixed order, so the
same seed writes byte-identical files. The shipped instances
(``instances/build.py``) and ``allocator generate`` use the same builders.

How a caseload is made realistic rather than random:

- Active users are spread over a team's advisors along a *staircase*: users
  sorted by municipality are cut into runs proportional to each advisor's
  casework FTE. Every advisor then holds a fair share and touches only one
  or two neighbouring municipalities, as real portfolios do.
- Each active user's needs are drawn from what their current advisor can
  serve (competence, and municipal authority over the user's municipality),
  and attributes are redrawn until routing sends the user to the advisor's
  team kind. The current allocation therefore obeys rules 1 to 3 and 5, and
  ``keep everyone where they are`` is always a feasible answer.
- Capacity per team kind is set from the demand actually drawn, with a
  headroom (about 10-20 % above demand), so a good allocation places
  everybody.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from allocator.domain import (
    Advisor,
    Competence,
    HostAgreement,
    Instance,
    Municipality,
    Policy,
    RoutingRule,
    Team,
    User,
    week_start,
)
from allocator.io.instance_files import COLUMNS as COLUMNS
from allocator.io.instance_files import travel_rows as travel_rows
from allocator.io.instance_files import write_instance_files

WEEK = "2026-W48"
INTAKE_PER_FTE = 8.0

# --- Catalogue ---------------------------------------------------------------

COMPETENCES: tuple[Competence, ...] = (
    Competence(
        id="social_assistance",
        name="Financial social assistance (Social Services Act s. 18-19)",
        municipal_authority=True,
    ),
    Competence(
        id="debt_counselling",
        name="Debt counselling (Social Services Act s. 17)",
        municipal_authority=True,
    ),
    Competence(
        id="qualification_programme",
        name="Qualification programme (KVP)",
        municipal_authority=True,
    ),
    Competence(id="aap", name="Work assessment allowance (AAP)"),
    Competence(id="sickness_absence", name="Sickness absence follow-up"),
    Competence(id="youth_guidance", name="Youth guidance"),
    Competence(id="family_services", name="Family services"),
    Competence(id="labour_market", name="Labour market and employer contact"),
)

INTRODUCTION_PROGRAMME = Competence(
    id="introduction_programme",
    name="Introduction programme for settled refugees",
    municipal_authority=True,
)

# Routing in a sensible order: new users are assessed first; a debt case goes
# to the specialists whatever the age; then age, then family situation.
ROUTING_ORDER: tuple[RoutingRule, ...] = (
    RoutingRule(team_kind="assessment", status="new"),
    RoutingRule(team_kind="debt_counselling", needs_any=("debt_counselling",)),
    RoutingRule(team_kind="youth", age_max=29),
    RoutingRule(team_kind="family", children_min=1),
    RoutingRule(team_kind="recruitment", needs_any=("labour_market",), children_max=0),
    RoutingRule(team_kind="follow_up"),
)

TEAM_LABELS = {
    "assessment": "kartlegging",
    "youth": "Team ung",
    "family": "Team familie",
    "follow_up": "oppfølging",
    "debt_counselling": "gjeldsrådgivning",
    "recruitment": "Team rekruttering",
}


def routing_for(kinds: Iterable[str]) -> tuple[RoutingRule, ...]:
    """The standard routing rules for the team kinds an instance has."""
    present = set(kinds)
    return tuple(rule for rule in ROUTING_ORDER if rule.team_kind in present)


# --- Drawing profiles ---------------------------------------------------------

# Advisors per team kind: competences everyone has, those municipal staff
# add, and optional ones with their odds for (municipal, state) staff.
ADVISOR_PROFILES: dict[
    str, tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, float, float], ...]]
] = {
    "assessment": (
        ("labour_market", "aap", "sickness_absence"),
        ("social_assistance",),
        (),
    ),
    "youth": (
        ("youth_guidance", "labour_market"),
        ("social_assistance",),
        (("qualification_programme", 0.5, 0.0), ("aap", 0.0, 0.4)),
    ),
    "family": (
        ("family_services",),
        ("social_assistance",),
        (
            ("labour_market", 0.5, 0.5),
            ("qualification_programme", 0.3, 0.0),
            ("aap", 0.0, 0.5),
        ),
    ),
    "recruitment": (
        ("labour_market",),
        (),
        (
            ("aap", 0.3, 0.3),
            ("sickness_absence", 0.3, 0.3),
            ("qualification_programme", 0.4, 0.0),
        ),
    ),
    "debt_counselling": (("debt_counselling", "social_assistance"), (), ()),
}
# Follow-up: two specialist areas; municipal staff hold social assistance
# plus one more.
STATE_SPECIALISMS = ["aap", "sickness_absence", "labour_market"]
MUNICIPAL_SECOND = (
    "qualification_programme",
    "labour_market",
    "aap",
    "introduction_programme",
)

# Needs a user of each kind typically has (weights for the main need). The
# key "new" is for users not yet assessed.
NEED_WEIGHTS: dict[str, dict[str, float]] = {
    "new": {
        "social_assistance": 3,
        "labour_market": 3,
        "aap": 2,
        "sickness_absence": 1,
    },
    "youth": {
        "youth_guidance": 5,
        "labour_market": 3,
        "social_assistance": 3,
        "qualification_programme": 1,
        "aap": 1,
    },
    "family": {
        "family_services": 5,
        "social_assistance": 3,
        "labour_market": 2,
        "aap": 1,
        "qualification_programme": 1,
    },
    "follow_up": {
        "aap": 3,
        "sickness_absence": 3,
        "social_assistance": 3,
        "labour_market": 2,
        "qualification_programme": 1,
        "introduction_programme": 1,
        "debt_counselling": 1,
    },
    "recruitment": {"labour_market": 3, "aap": 1, "sickness_absence": 1},
    "debt_counselling": {"debt_counselling": 1, "social_assistance": 1},
}
# Needs that define the kind: a user routed there always has them.
REQUIRED_NEEDS = {
    "recruitment": ("labour_market",),
    "debt_counselling": ("debt_counselling",),
}
# Youth have a long tail of young adults; the others span working life.
AGES = {
    "new": (18, 67, 32),
    "youth": (18, 29, 22),
    "family": (24, 58, 38),
    "follow_up": (20, 67, 46),
    "recruitment": (20, 62, 35),
    "debt_counselling": (20, 72, 42),
}
# Children in the household, as (values, cumulative percentages).
CHILDREN = {
    "new": ((0, 1, 2, 3), (60, 78, 92, 100)),
    "youth": ((0, 1, 2), (85, 95, 100)),
    "family": ((1, 2, 3, 4), (40, 75, 92, 100)),
    "follow_up": ((0, 1, 2, 3), (75, 87, 96, 100)),
    "recruitment": ((0, 1, 2), (80, 90, 100)),
    "debt_counselling": ((0, 1, 2, 3), (55, 75, 90, 100)),
}
# Caseload weight: most users 1, complex cases 1.5 or 2 (cumulative %).
USER_WEIGHTS = ((1.0, 1.5, 2.0), (80, 93, 100))
FTES = (0.5, 0.6, 0.7, 0.8)
LEADER_SHARES = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65)

FIRST_NAMES = (
    "Anne", "Kari", "Ingrid", "Marit", "Siri", "Åse", "Sølvi", "Guro", "Hilde",
    "Randi", "Tone", "Ragnhild", "Ingeborg", "Mari", "Nora", "Live", "Kjersti",
    "Bjørg", "Astrid", "Solveig", "Sigrid", "Gunnhild", "Tiril", "Mette",
    "Ola", "Per", "Knut", "Håkon", "Øystein", "Bjørn", "Lars", "Jon", "Tor",
    "Sindre", "Eirik", "Kjetil", "Halvor", "Trond", "Geir", "Sverre", "Øyvind",
    "Ståle", "Jørgen", "Ivar", "Aslak", "Torbjørn", "Vegard", "Arne", "Ådne",
)  # fmt: skip
LAST_NAMES = (
    "Haugen", "Bakken", "Lien", "Moen", "Strand", "Berg", "Hagen", "Dahl",
    "Nygård", "Sæther", "Rønning", "Løkken", "Bråten", "Haugland", "Kvåle",
    "Sørli", "Åsheim", "Fjellheim", "Grøndahl", "Brekke", "Tveit", "Myhre",
    "Solberg", "Holm", "Vik", "Eide", "Rud", "Flaten", "Øverby", "Nærland",
    "Lund", "Ødegård", "Bøe", "Tangen", "Kleven", "Lyngstad", "Mørk", "Hovde",
)  # fmt: skip
NAME_STEMS = (
    "Bjør", "Fjell", "Gran", "Hov", "Kvit", "Lyng", "Mo", "Ny", "Rå", "Sand",
    "Skog", "Stor", "Tved", "Vang", "Øy", "Ås", "Bø", "Eid", "Foss", "Gjø",
    "Haug", "Li", "Løv", "Myr", "Ner", "Ro", "Sol", "Tøn", "Ul", "Vå", "Ær",
    "Berg", "Krok", "Lund", "Nord", "Sør", "Vest", "Aust", "Hval", "Elve",
)  # fmt: skip
NAME_ENDINGS = (
    "dal", "vik", "nes", "berg", "stad", "ås", "øy", "rud", "sund", "fjord",
    "heim", "land", "li", "bø", "mark", "seter", "bygd", "fjell", "haug",
    "strand", "voll", "sjø", "å", "ren", "hamar",
)  # fmt: skip
NAME_PREFIXES = ("Øvre", "Nedre", "Nordre", "Søndre", "Vestre", "Østre")


# --- Small helpers ------------------------------------------------------------


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights``.

    Largest remainder, ties to the earlier index, so the split is
    deterministic; equal shares when every weight is zero.
    """
    if not weights:
        return []
    mass = sum(weights)
    shares = (
        [w / mass for w in weights] if mass > 0 else [1 / len(weights)] * len(weights)
    )
    exact = [total * s for s in shares]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: (counts[i] - exact[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def staircase(weights: Sequence[float], shares: Sequence[float]) -> list[int]:
    """Index of the share each item falls into, items cut in order.

    Items (users sorted by municipality) are laid end to end and cut where the
    cumulative shares (advisors' FTE) fall; an item goes to the share that
    holds its midpoint. Zero shares get nothing.
    """
    live = [i for i, share in enumerate(shares) if share > 0]
    if not live:
        raise ValueError("staircase needs at least one positive share")
    mass = sum(shares[i] for i in live)
    total = sum(weights)
    bounds: list[float] = []
    running = 0.0
    for i in live:
        running += shares[i]
        bounds.append(total * running / mass)
    out: list[int] = []
    step = 0
    done = 0.0
    for weight in weights:
        middle = done + weight / 2
        while step < len(live) - 1 and middle >= bounds[step]:
            step += 1
        out.append(live[step])
        done += weight
    return out


def fold_id(name: str) -> str:
    """An ascii-ish id from a Norwegian name: ``Øvre Ås`` -> ``ovre-as``."""
    table = str.maketrans({"æ": "ae", "ø": "o", "å": "a", " ": "-"})
    return name.lower().translate(table)


def casework_fte(advisor: Advisor) -> float:
    """Share of a full-time casework post: capacity is this x cases per FTE."""
    return advisor.fte * advisor.casework_share


def intake_limit(advisor: Advisor, per_fte: float = INTAKE_PER_FTE) -> int:
    """New users the advisor may take in a week (the README's table formats)."""
    if not advisor.available:
        return 0
    posts = casework_fte(advisor) * per_fte
    return max(1, math.floor(posts + 1e-9)) if posts > 0 else 0


# --- Builders -----------------------------------------------------------------


def municipality(
    id: str, name: str, population: int, lat: float, lon: float
) -> Municipality:
    """One municipality row."""
    return Municipality(id=id, name=name, population=population, lat=lat, lon=lon)


def team(id: str, name: str, kind: str, municipalities: Sequence[str] = ()) -> Team:
    """One team row; empty ``municipalities`` means it serves all."""
    return Team(id=id, name=name, kind=kind, municipalities=tuple(municipalities))


def team_name(office: str, kind: str, number: int = 0) -> str:
    """A Norwegian team name such as ``NAV Gol oppfølging 2``."""
    label = TEAM_LABELS.get(kind, kind)
    return f"{office} {label}" + (f" {number}" if number else "")


@dataclass(slots=True)
class UserDraft:
    """A user while being drawn; becomes a ``User`` once ids are given."""

    municipality: str
    age: int
    children: int
    needs: tuple[str, ...]
    status: str
    urgent: bool
    weight: float
    current_advisor: str | None
    since: dt.date | None
    household: str | None
    prefer_non_local: bool
    # The team kind routing sends the user to, and the advisor the
    # generator had in mind (the current one, or a planned one if new).
    kind: str = ""
    planned: str = ""


@dataclass
class Builder:
    """Draws one instance's advisors and users from a single random stream.

    The builder knows the competences, host agreements and routing of the
    instance, so it can tell which advisor may serve which need where, and
    which team kind a drawn user would be routed to.
    """

    rng: random.Random
    competences: Sequence[Competence] = COMPETENCES
    host_agreements: Sequence[HostAgreement] = ()
    routing: Sequence[RoutingRule] = ROUTING_ORDER
    week: str = WEEK
    prefer_non_local: float = 0.02
    urgent_new: float = 0.2
    urgent_active: float = 0.012
    households: float = 0.025
    intake_per_fte: float = INTAKE_PER_FTE
    drafts: list[UserDraft] = field(default_factory=list)
    _advisors: int = 0
    _households: int = 0
    _names: set[str] = field(default_factory=set)
    _memo: dict[tuple[str, str, str], tuple[list[str], list[float]]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        self.catalogue = {c.id: c for c in self.competences}
        self.members: dict[str, set[str]] = defaultdict(set)
        for agreement in self.host_agreements:
            self.members[agreement.host].update(agreement.members)
        start = week_start(self.week)
        assert start is not None
        self.start: dt.date = start

    # -- advisors --

    def authority(self, advisor: Advisor) -> frozenset[str]:
        """Municipalities the advisor holds municipal authority over."""
        if advisor.employer == "state":
            return frozenset()
        return frozenset({advisor.employer, *self.members[advisor.employer]})

    def can_serve(self, advisor: Advisor, competence: str, place: str) -> bool:
        """Whether the advisor meets this need for a user living in ``place``."""
        if competence not in advisor.competences:
            return False
        known = self.catalogue.get(competence)
        return not (known and known.municipal_authority) or place in self.authority(
            advisor
        )

    def person(self) -> str:
        """A synthetic staff name, unique within the instance when possible."""
        name = ""
        for _ in range(20):
            name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
            if name not in self._names:
                break
        self._names.add(name)
        return name

    def competences_for(self, kind: str, municipal: bool) -> tuple[str, ...]:
        """Typical competences of an advisor in a team of ``kind``.

        Most staff work in two specialist areas (S1 s. 4); municipal staff
        carry the Social Services Act work.
        """
        rng = self.rng
        if kind == "follow_up":
            if municipal:
                second = [c for c in MUNICIPAL_SECOND if c in self.catalogue]
                chosen = ["social_assistance", rng.choice(second)]
            else:
                chosen = rng.sample(STATE_SPECIALISMS, 2)
        else:
            always, municipal_only, optional = ADVISOR_PROFILES.get(
                kind, (("labour_market",), (), ())
            )
            chosen = [*always, *(municipal_only if municipal else ())]
            for competence, if_municipal, if_state in optional:
                odds = if_municipal if municipal else if_state
                if odds and rng.random() < odds:
                    chosen.append(competence)
        return tuple(c for c in self.catalogue if c in chosen)

    def advisor(
        self,
        team: Team,
        *,
        employer: str,
        base: str,
        fte: float = 1.0,
        casework_share: float = 1.0,
        competences: Sequence[str] | None = None,
        available: bool = True,
        name: str | None = None,
    ) -> Advisor:
        """A new advisor in ``team``; competences drawn for its kind if not given."""
        self._advisors += 1
        drawn = (
            tuple(competences)
            if competences is not None
            else self.competences_for(team.kind, employer != "state")
        )
        return Advisor(
            id=f"a{self._advisors:04d}",
            name=name or self.person(),
            team=team.id,
            employer=employer,
            base=base,
            fte=fte,
            casework_share=casework_share,
            competences=drawn,
            available=available,
        )

    def staff_team(
        self,
        team: Team,
        size: int,
        *,
        host: str,
        base: str,
        municipal_share: float = 0.5,
        leader: bool = True,
        unavailable: float = 0.0,
    ) -> list[Advisor]:
        """``size`` advisors for a team, drawn as a typical NAV team.

        Mostly full-time posts, some 50-80 %; a team of six or more has a
        leader doing part-time casework; at least one municipal employee
        (employed by ``host``) so Social Services Act cases can be served.
        """
        rng = self.rng
        municipal = [
            team.kind == "debt_counselling" or rng.random() < municipal_share
            for _ in range(size)
        ]
        if size and not any(municipal):
            municipal[-1] = True
        staff = []
        for i in range(size):
            fte = 1.0 if rng.random() < 0.8 else rng.choice(FTES)
            share = (
                rng.choice(LEADER_SHARES) if leader and i == 0 and size >= 6 else 1.0
            )
            away = rng.random() < unavailable
            staff.append(
                self.advisor(
                    team,
                    employer=host if municipal[i] else "state",
                    base=base,
                    fte=fte,
                    casework_share=share,
                    available=not away,
                )
            )
        return staff

    # -- users --

    def routed_kind(self, draft: UserDraft) -> str | None:
        """Team kind of the first routing rule the drafted user matches."""
        # RoutingRule.matches reads only attributes a draft has too; reusing
        # it keeps the generator's routing identical to the tool's.
        probe = cast(User, draft)
        for rule in self.routing:
            if rule.matches(probe):
                return rule.team_kind
        return None

    def draw_needs(
        self, key: str, kind: str, advisor: Advisor, place: str, first: float
    ) -> tuple[str, ...]:
        """Needs the advisor can serve: usually one main need, sometimes more."""
        rng = self.rng
        servable, odds = self._servable(key, advisor, place)
        needs = set(REQUIRED_NEEDS.get(kind, ()) if key != "new" else ())
        if servable and rng.random() < first:
            needs.add(rng.choices(servable, cum_weights=odds)[0])
        for competence in servable:
            if len(needs) >= 3:
                break
            if competence != "debt_counselling" and rng.random() < 0.12:
                needs.add(competence)
        return tuple(c for c in self.catalogue if c in needs)

    def _servable(
        self, key: str, advisor: Advisor, place: str
    ) -> tuple[list[str], list[float]]:
        """Needs of profile ``key`` the advisor meets in ``place``, with weights."""
        # Cached: tens of thousands of users share a few hundred advisors.
        memo = (key, advisor.id, place)
        if memo not in self._memo:
            table = NEED_WEIGHTS.get(key, {})
            servable = [c for c in table if self.can_serve(advisor, c, place)]
            # Cumulative weights: random.choices is cheaper with them.
            odds = list(itertools.accumulate(table[c] for c in servable))
            self._memo[memo] = (servable, odds)
        return self._memo[memo]

    def draw_user(
        self,
        kind: str,
        advisor: Advisor,
        place: str,
        weight: float,
        *,
        new: bool,
        require: Sequence[str] = (),
    ) -> UserDraft:
        """One user whom routing sends to ``kind`` and ``advisor`` can serve."""
        rng = self.rng
        key = "new" if new else kind
        low, high, mode = AGES.get(key, AGES["follow_up"])
        values, odds = CHILDREN.get(key, CHILDREN["follow_up"])
        for need in require:
            if not self.can_serve(advisor, need, place):
                raise ValueError(f"advisor {advisor.id} cannot serve {need} in {place}")
        for _ in range(60):
            needs = set(
                self.draw_needs(key, kind, advisor, place, 0.7 if new else 0.85)
            )
            needs.update(require)
            help_now = self.can_serve(advisor, "social_assistance", place)
            urgent = help_now and (
                rng.random() < (self.urgent_new if new else self.urgent_active)
            )
            if urgent:
                # Emergency help is financial social assistance.
                needs.add("social_assistance")
            draft = UserDraft(
                municipality=place,
                age=round(rng.triangular(low, high, mode)),
                children=rng.choices(values, cum_weights=odds)[0],
                needs=tuple(c for c in self.catalogue if c in needs),
                status="new" if new else "active",
                urgent=urgent,
                weight=weight,
                current_advisor=None if new else advisor.id,
                since=None
                if new
                else self.start - dt.timedelta(days=rng.randint(7, 1100)),
                household=None,
                prefer_non_local=rng.random() < self.prefer_non_local,
                kind=kind,
                planned=advisor.id,
            )
            if self.routed_kind(draft) == kind:
                return draft
        raise ValueError(
            f"cannot draw a user in {place} whom routing sends to {kind} "
            f"and advisor {advisor.id} can serve"
        )

    def _weights(self, count: int) -> list[float]:
        values, odds = USER_WEIGHTS
        return self.rng.choices(values, cum_weights=odds, k=count)

    def caseload(
        self,
        team: Team,
        advisors: Sequence[Advisor],
        counts: Mapping[str, int],
    ) -> list[UserDraft]:
        """Active users of ``team`` with their current advisors.

        ``counts`` gives users per municipality in staircase order; advisors
        are cut along it in the order given, so list local staff next to
        their municipality.
        """
        places = [m for m, n in counts.items() for _ in range(n)]
        weights = self._weights(len(places))
        if not places:
            return []
        cuts = staircase(weights, [casework_fte(a) for a in advisors])
        drafts = [
            self.draw_user(team.kind, advisors[i], place, weight, new=False)
            for place, weight, i in zip(places, weights, cuts, strict=True)
        ]
        self._form_households(drafts)
        self.drafts.extend(drafts)
        return drafts

    def new_users(
        self,
        team: Team,
        advisors: Sequence[Advisor],
        counts: Mapping[str, int],
        *,
        require: Sequence[str] = (),
    ) -> list[UserDraft]:
        """Users new this week, whom routing sends to ``team``'s kind.

        They have no current advisor. A planned advisor (staircase over
        weekly intake limits) is used to draw needs someone can meet. When a
        municipal planned advisor lacks authority where the user lives, a
        colleague who has it stands in, while the colleague's fair share of
        this week's users has room; otherwise the user gets needs the
        planned advisor can meet.
        """
        places = [m for m, n in counts.items() for _ in range(n)]
        weights = self._weights(len(places))
        if not places:
            return []
        limits = [float(intake_limit(a, self.intake_per_fte)) for a in advisors]
        if sum(limits) <= 0:
            limits = [casework_fte(a) for a in advisors]
        cuts = staircase(weights, limits)
        # Room for stand-in users: a fair share of the week plus a margin,
        # less what the staircase already gives each advisor.
        room = [1.15 * sum(weights) * limit / sum(limits) for limit in limits]
        for weight, i in zip(weights, cuts, strict=True):
            room[i] -= weight
        drafts = []
        for place, weight, i in zip(places, weights, cuts, strict=True):
            j = self._stand_in(advisors, i, place, [r >= weight for r in room])
            draft = self.draw_user(
                team.kind, advisors[j], place, weight, new=True, require=require
            )
            # Load counts against the staircase advisor, unless only the
            # stand-in can meet the user's needs: then capacity must be there.
            if all(self.can_serve(advisors[i], n, place) for n in draft.needs):
                j = i
            draft.planned = advisors[j].id
            room[j] -= weight
            room[i] += weight
            drafts.append(draft)
        self.drafts.extend(drafts)
        return drafts

    def _stand_in(
        self, advisors: Sequence[Advisor], i: int, place: str, room: Sequence[bool]
    ) -> int:
        """A colleague with room and authority where municipal ``i`` has none."""
        planned = advisors[i]
        if planned.employer == "state" or place in self.authority(planned):
            return i
        for j, advisor in enumerate(advisors):
            if room[j] and advisor.available and place in self.authority(advisor):
                return j
        return i

    def _form_households(self, drafts: list[UserDraft]) -> None:
        """Group some neighbours on one caseload into households of 2-3.

        Members share municipality and current advisor, and children counts
        (children live in the household); a group is kept only if routing
        still sends every member to the same kind.
        """
        rng = self.rng
        i = 0
        while i < len(drafts) - 1:
            if rng.random() >= self.households:
                i += 1
                continue
            size = 2 if rng.random() < 0.75 else 3
            group = drafts[i : i + size]
            same = all(
                d.municipality == group[0].municipality
                and d.current_advisor == group[0].current_advisor
                for d in group
            )
            if len(group) < 2 or not same:
                i += 1
                continue
            before = [d.children for d in group]
            for d in group:
                d.children = group[0].children
            if all(self.routed_kind(d) == d.kind for d in group):
                self._households += 1
                for d in group:
                    d.household = f"h{self._households:04d}"
                i += size
            else:
                for d, children in zip(group, before, strict=True):
                    d.children = children
                i += 1

    def finish_users(self) -> list[User]:
        """All drafted users, shuffled and numbered ``u00001``, ``u00002``..."""
        drafts = list(self.drafts)
        self.rng.shuffle(drafts)
        return [
            User(
                id=f"u{number:05d}",
                municipality=d.municipality,
                age=d.age,
                children=d.children,
                needs=d.needs,
                status="new" if d.status == "new" else "active",
                urgent=d.urgent,
                weight=d.weight,
                current_advisor=d.current_advisor,
                since=d.since,
                household=d.household,
                prefer_non_local=d.prefer_non_local,
            )
            for number, d in enumerate(drafts, start=1)
        ]

    # -- after the users --

    def served(self) -> dict[str, dict[str, float]]:
        """Advisor -> weighted users per municipality (current or planned)."""
        load: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for d in self.drafts:
            load[d.planned][d.municipality] += d.weight
        return load

    def finish_advisors(
        self,
        advisors: Sequence[Advisor],
        *,
        max_municipalities: int,
        rebase: bool = False,
    ) -> list[Advisor]:
        """Per-advisor municipality limits where a caseload needs more, and bases.

        An advisor whose current (or planned) users span more municipalities
        than the policy allows gets that span as a personal limit, as a small
        shared team covering a whole region would. With ``rebase`` the base
        becomes the municipality the advisor serves most.
        """
        served = self.served()
        out = []
        for advisor in advisors:
            places = served.get(advisor.id, {})
            update: dict[str, object] = {}
            if max_municipalities and len(places) > max_municipalities:
                update["max_municipalities"] = len(places)
            if rebase and places:
                update["base"] = max(places, key=lambda m: (places[m], m))
            out.append(advisor.model_copy(update=update) if update else advisor)
        return out

    def cases_per_fte(
        self,
        teams: Sequence[Team],
        advisors: Sequence[Advisor],
        *,
        headroom: float,
        max_utilisation: float = 0.95,
    ) -> dict[str, float]:
        """Cases per FTE for each team kind so capacity fits the drawn demand.

        Capacity is ``headroom`` times the kind's demand; no team is above
        ``max_utilisation`` and no advisor's current caseload above capacity.
        Whole numbers, as a policy would state them.
        """
        kind_of = {t.id: t.kind for t in teams}
        served = self.served()
        load = {a.id: sum(served.get(a.id, {}).values()) for a in advisors}
        # Only users who stay put must fit each advisor; new users' planned
        # advisors are a sketch the solver redistributes within the team.
        current: dict[str, float] = defaultdict(float)
        for d in self.drafts:
            if d.current_advisor:
                current[d.current_advisor] += d.weight
        team_load: dict[str, float] = defaultdict(float)
        team_fte: dict[str, float] = defaultdict(float)
        for a in advisors:
            # New users can only go to available advisors.
            if kind_of[a.team] != "assessment" or a.available:
                team_fte[a.team] += casework_fte(a)
            team_load[a.team] += load[a.id]
        out = {}
        for kind in dict.fromkeys(kind_of.values()):
            ids = [t for t, k in kind_of.items() if k == kind]
            demand = sum(team_load[t] for t in ids)
            supply = sum(team_fte[t] for t in ids)
            if supply <= 0:
                continue
            needed = [headroom * demand / supply]
            needed += [
                team_load[t] / team_fte[t] / max_utilisation
                for t in ids
                if team_fte[t] > 0
            ]
            needed += [
                current[a.id] / casework_fte(a)
                for a in advisors
                if kind_of[a.team] == kind and casework_fte(a) > 0
            ]
            out[kind] = float(max(1, math.ceil(max(needed) - 1e-9)))
        return out


def policy_for(
    per_kind: Mapping[str, float],
    *,
    default_kind: str = "follow_up",
    **settings: object,
) -> Policy:
    """A policy with ``cases_per_fte`` from ``default_kind`` and the rest by kind."""
    default = per_kind.get(default_kind, 60.0)
    by_kind = {k: v for k, v in per_kind.items() if k != default_kind}
    return Policy.model_validate(
        {"cases_per_fte": default, "cases_per_fte_by_kind": by_kind, **settings}
    )


# --- Writing ------------------------------------------------------------------


def write_instance(folder: Path, instance: Instance) -> None:
    """Write ``instance`` as the format's folder: instance.toml and the CSV tables.

    locks.csv and travel.csv are written only when the instance has locks or
    road distances; a stale copy from an earlier write is removed so the
    folder says exactly what ``instance`` says.
    """
    write_instance_files(folder, instance)


def symmetric(
    distances: Mapping[tuple[str, str], float],
) -> dict[tuple[str, str], float]:
    """Both directions of each road distance, as ``Instance.travel`` holds them."""
    out: dict[tuple[str, str], float] = {}
    for (a, b), km in distances.items():
        out[(a, b)] = km
        out[(b, a)] = km
    return out


# --- An arbitrary region ------------------------------------------------------

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
    instance = Instance(
        name=out.name or "generated",
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
    write_instance(out, instance)


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
