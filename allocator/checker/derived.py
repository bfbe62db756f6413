"""Derived quantities, worked out again from the README's format: routing,
team kind, capacity, intake limit, authority and travel.
"""

from __future__ import annotations

import math

from allocator.checker.format import EARTH_RADIUS_KM
from allocator.domain import Advisor, Instance, RoutingRule, Team, User


def rule_matches(rule: RoutingRule, user: User) -> bool:
    """Whether ``user`` passes every test that routing ``rule`` sets."""
    failed = (
        rule.status is not None and user.status != rule.status,
        rule.age_min is not None and user.age < rule.age_min,
        rule.age_max is not None and user.age > rule.age_max,
        rule.children_min is not None and user.children < rule.children_min,
        rule.children_max is not None and user.children > rule.children_max,
        rule.needs_any is not None and not set(rule.needs_any) & set(user.needs),
        rule.needs_all is not None and not set(rule.needs_all) <= set(user.needs),
        rule.urgent is not None and user.urgent != rule.urgent,
        rule.municipality_in is not None
        and user.municipality not in rule.municipality_in,
    )
    return not any(failed)


def routed_rule(instance: Instance, user: User) -> tuple[int, str] | None:
    """1-based index and team kind of the first routing rule ``user`` matches."""
    for index, rule in enumerate(instance.routing, start=1):
        if rule_matches(rule, user):
            return index, rule.team_kind
    return None


def team_kind(instance: Instance, advisor: Advisor) -> str | None:
    """Kind of the advisor's team; None when the team is unknown."""
    team = _find_team(instance, advisor.team)
    return None if team is None else team.kind


def capacity(instance: Instance, advisor: Advisor) -> float:
    """Weighted users the advisor can hold: fte x casework share x cases per fte."""
    policy = instance.policy
    kind = team_kind(instance, advisor)
    per_fte = policy.cases_per_fte_by_kind.get(kind or "", policy.cases_per_fte)
    return advisor.fte * advisor.casework_share * per_fte


def intake_limit(
    instance: Instance, advisor: Advisor, first_allocation: bool
) -> int | None:
    """New users the advisor may take this week; None means no limit.

    A first allocation (nobody has a current advisor) sets no limit, as does
    ``intake_per_fte == 0``. The small epsilon keeps float noise such as
    0.29 x 100 = 28.999... from rounding a whole number down.
    """
    per_fte = instance.policy.intake_per_fte
    if per_fte == 0 or first_allocation:
        return None
    posts = advisor.fte * advisor.casework_share * per_fte
    return max(1, math.floor(posts + 1e-9)) if posts > 0 else 0


def authority(instance: Instance, advisor: Advisor) -> frozenset[str]:
    """Municipalities the advisor has municipal authority over (R02)."""
    if advisor.employer == "state":
        return frozenset()
    members = {
        member
        for agreement in instance.host_agreements
        if agreement.host == advisor.employer
        for member in agreement.members
    }
    return frozenset({advisor.employer, *members})


def max_municipalities(instance: Instance, advisor: Advisor) -> int:
    """Most municipalities the advisor may serve; 0 means no limit."""
    if advisor.max_municipalities is not None:
        return advisor.max_municipalities
    return instance.policy.max_municipalities_per_advisor


def travel_km(instance: Instance, origin: str, destination: str) -> float:
    """Road km between two municipalities: travel table, else centres x factor."""
    if origin == destination:
        return 0.0
    for pair in ((origin, destination), (destination, origin)):
        if pair in instance.travel:
            return instance.travel[pair]
    centres = {m.id: (m.lat, m.lon) for m in instance.municipalities}
    lat1, lon1 = centres.get(origin, (None, None))
    lat2, lon2 = centres.get(destination, (None, None))
    if lat1 is None or lon1 is None or lat2 is None or lon2 is None:
        # The reader warns about a missing centre; the distance counts as 0.
        return 0.0
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    h = (
        math.sin(half_dphi) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    )
    straight = 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))
    return straight * instance.policy.road_factor


def _find_team(instance: Instance, team_id: str) -> Team | None:
    return next((t for t in instance.teams if t.id == team_id), None)
