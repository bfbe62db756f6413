"""The catalogue every generated instance shares: the week, the competences,
the routing rules and the team kinds' names.
"""

from __future__ import annotations

from collections.abc import Iterable

from allocator.domain import Competence, RoutingRule

WEEK = "2026-W48"
INTAKE_PER_FTE = 8.0


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
