"""Builders: municipalities, teams, and the Builder that staffs teams and
draws caseloads; the policy sized from the demand drawn.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from allocator.domain import (
    Advisor,
    Competence,
    HostAgreement,
    Municipality,
    Policy,
    RoutingRule,
    Team,
    User,
    week_start,
)
from allocator.generate.catalogue import (
    COMPETENCES,
    INTAKE_PER_FTE,
    ROUTING_ORDER,
    TEAM_LABELS,
    WEEK,
)
from allocator.generate.helpers import casework_fte, intake_limit, staircase
from allocator.generate.profiles import (
    ADVISOR_PROFILES,
    AGES,
    CHILDREN,
    FIRST_NAMES,
    FTES,
    LAST_NAMES,
    LEADER_SHARES,
    MUNICIPAL_SECOND,
    NEED_WEIGHTS,
    REQUIRED_NEEDS,
    STATE_SPECIALISMS,
    USER_WEIGHTS,
)


def municipality(
    id: str, name: str, population: int, lat: float, lon: float
) -> Municipality:
    """One municipality row."""
    return Municipality(id=id, name=name, population=population, lat=lat, lon=lon)


def team(id: str, name: str, kind: str, municipalities: Sequence[str] = ()) -> Team:
    """One team row; empty ``municipalities`` means it serves all."""
    return Team(id=id, name=name, kind=kind, municipalities=tuple(municipalities))


def follow_up_areas(
    rng: random.Random,
    ids: Sequence[str],
    group: Sequence[str],
    population: Mapping[str, float],
    *,
    split_pairs: bool,
) -> list[list[str]]:
    """An office's follow-up sub-areas, as lists of municipality ids.

    The host ``group`` is one area, or two when its population is over
    9,000; the other municipalities are areas alone or, when two in a row
    are small (under 6,000 together), in pairs at a chance of 0.6. The
    office shape also splits a host group of two (``split_pairs``), which
    puts the host in both areas; the national shape does not, so that no
    municipality is in two areas there. Draws from ``rng`` in a fixed order.
    """
    areas: list[list[str]] = []
    smallest = 2 if split_pairs else 3
    half = len(group) // 2 + 1
    if sum(population[m] for m in group) > 9000 and len(group) >= smallest:
        areas += [list(group[:half]), list(group[half:]) or list(group)]
    else:
        areas.append(list(group))
    rest = [m for m in ids if m not in group]
    while rest:
        first = rest.pop(0)
        if (
            rest
            and population[first] + population[rest[0]] < 6000
            and rng.random() < 0.6
        ):
            areas.append([first, rest.pop(0)])
        else:
            areas.append([first])
    return areas


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

    def debt_counsellors(
        self, team: Team, employers: Sequence[str], count: int
    ) -> list[Advisor]:
        """``count`` advisors for a debt-counselling ``team``.

        Employers (each also the advisor's base) are taken in turn from
        ``employers``; each one's FTE is drawn from 0.5, 0.8 and 1.0.
        """
        return [
            self.advisor(
                team,
                employer=employers[i % len(employers)],
                base=employers[i % len(employers)],
                fte=self.rng.choice((0.5, 0.8, 1.0)),
                competences=("debt_counselling", "social_assistance"),
            )
            for i in range(count)
        ]

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
