"""Domain entities: the instance as read from its files, before any solving.

These are plain, validated data. They hold what the files say and nothing
derived: capacity, authority and eligibility are worked out in ``problem.py``
for the model and, independently, in ``checker/`` for the check, so that a
mistake in one is caught by the other.

Every entity read from a table keeps ``row`` (1-based, header = row 1) so that
later stages (conflicting locks, a user nobody can take) can point back at the
line of the input file.

Last week's plan (``Previous``) and the weekly rule that reads it
(``plan_current``) are here too: ``solve --previous`` (through
``io/previous.py``) and ``check --previous`` apply the one rule, and neither
the checker nor the analysis has to reach into the readers for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["new", "active"]
LockKind = Literal["fix", "forbid"]


class Entity(BaseModel):
    """Base for all entities: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Competence(Entity):
    id: str
    name: str = ""
    # Needs municipal authority over the user's municipality (R02).
    municipal_authority: bool = False


class HostAgreement(Entity):
    """A host municipality acting for its members (Kommuneloven s. 28, R02)."""

    host: str
    members: tuple[str, ...]


class RoutingRule(Entity):
    """One routing rule; all tests that are set must hold (R10, R11)."""

    team_kind: str
    status: Status | None = None
    age_min: int | None = None
    age_max: int | None = None
    children_min: int | None = None
    children_max: int | None = None
    needs_any: tuple[str, ...] | None = None
    needs_all: tuple[str, ...] | None = None
    urgent: bool | None = None
    municipality_in: tuple[str, ...] | None = None

    def matches(self, user: User) -> bool:
        """Whether every test this rule sets holds for ``user``."""
        checks = (
            self.status is None or user.status == self.status,
            self.age_min is None or user.age >= self.age_min,
            self.age_max is None or user.age <= self.age_max,
            self.children_min is None or user.children >= self.children_min,
            self.children_max is None or user.children <= self.children_max,
            self.needs_any is None or bool(set(self.needs_any) & set(user.needs)),
            self.needs_all is None or set(self.needs_all) <= set(user.needs),
            self.urgent is None or user.urgent == self.urgent,
            self.municipality_in is None or user.municipality in self.municipality_in,
        )
        return all(checks)


class Weights(Entity):
    """Weights of the soft goals; 0 switches a goal off."""

    unassigned: float = 1000
    urgent_unassigned: float = 100000
    reassignment: float = 50
    load_balance: float = 100
    travel: float = 1
    rotation: float = 20
    non_local: float = 10


class Policy(Entity):
    max_municipalities_per_advisor: int = 2
    cases_per_fte: float = 60
    intake_per_fte: float = 8
    rotation_months: float = 0
    keep_current_team: bool = True
    road_factor: float = 1.4
    # Average road speed of an advisor's trips, for travel hours (R21, risk
    # factor 11); optional in instance.toml.
    travel_speed_kmh: float = 70
    time_limit_s: float = 10
    seed: int = 0
    cases_per_fte_by_kind: dict[str, float] = Field(default_factory=dict)
    weights: Weights = Field(default_factory=Weights)


class Municipality(Entity):
    id: str
    name: str = ""
    population: int | None = None
    lat: float | None = None
    lon: float | None = None
    # Optional official municipality number (e.g. 3330 for Hol), which
    # users.csv and the others may give instead of the id.
    number: str = ""
    row: int = 0
    extra: dict[str, str] = Field(default_factory=dict)


class Team(Entity):
    id: str
    name: str = ""
    kind: str
    # Empty = the team serves every municipality.
    municipalities: tuple[str, ...] = ()
    row: int = 0
    extra: dict[str, str] = Field(default_factory=dict)


class Advisor(Entity):
    id: str
    name: str = ""
    team: str
    # "state" or a municipality id.
    employer: str
    base: str
    fte: float
    casework_share: float = 1.0
    competences: tuple[str, ...] = ()
    max_municipalities: int | None = None
    available: bool = True
    row: int = 0
    extra: dict[str, str] = Field(default_factory=dict)


class User(Entity):
    id: str
    municipality: str
    age: int
    children: int = 0
    needs: tuple[str, ...] = ()
    status: Status
    urgent: bool = False
    weight: float = 1.0
    current_advisor: str | None = None
    since: dt.date | None = None
    household: str | None = None
    prefer_non_local: bool = False
    row: int = 0
    extra: dict[str, str] = Field(default_factory=dict)


class Lock(Entity):
    user: str
    advisor: str
    kind: LockKind
    row: int = 0
    # Where the lock came from: "locks.csv" or "--fix" / "--forbid".
    source: str = "locks.csv"


class Instance(Entity):
    """Everything one allocation run reads, in input order."""

    name: str
    description: str = ""
    week: str | None = None
    # instance.toml's optional language key: nb, nn or en (docs/language.md).
    language: str | None = None
    policy: Policy = Field(default_factory=Policy)
    competences: tuple[Competence, ...] = ()
    host_agreements: tuple[HostAgreement, ...] = ()
    routing: tuple[RoutingRule, ...]
    municipalities: tuple[Municipality, ...]
    teams: tuple[Team, ...]
    advisors: tuple[Advisor, ...]
    users: tuple[User, ...]
    locks: tuple[Lock, ...] = ()
    # Road km keyed by (from, to), both directions present after reading.
    travel: dict[tuple[str, str], float] = Field(default_factory=dict)
    # Table name -> the file it was read from, for messages
    # (e.g. "users" -> "users.csv" or "caseload.xlsx[users]").
    files: dict[str, str] = Field(default_factory=dict)
    # Extra columns per table, in file order, carried to the output.
    extra_columns: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # SHA-256 over the input files' bytes, for summary.json.
    input_sha256: str = ""
    # Raw [policy] table as read, for summary.json.
    policy_raw: dict[str, object] = Field(default_factory=dict)
    # The CSV dialect of users.csv, which every CSV output follows: "," (UTF-8,
    # decimal point, LF) or ";" (Norwegian Excel: decimal comma, BOM, CRLF).
    dialect: Literal[",", ";"] = ","


def week_start(week: str | None) -> dt.date | None:
    """Monday of an ISO week such as ``2026-W48``; None when not given."""
    if not week:
        return None
    year, _, number = week.partition("-W")
    return dt.date.fromisocalendar(int(year), int(number), 1)


# --- Last week's plan ------------------------------------------------------------


@dataclass(frozen=True)
class Previous:
    """What a previous solution folder says, per user id, in its order."""

    folder: Path
    advisor: dict[str, str]  # user -> advisor ("" when unassigned)
    team: dict[str, str]
    since: dict[str, dt.date]
    # What that solve used as each user's current advisor.
    previous_advisor: dict[str, str]
    # The solve's reason (why unassigned or changed; "" otherwise).
    reason: dict[str, str] = field(default_factory=dict)
    # Locks typed into an edited allocation.xlsx (allocation_xlsx.py).
    locks: tuple[Lock, ...] = ()
    # What was read, for the terminal; empty for a solution folder.
    note: str = ""


def plan_current(
    user: User, previous: Previous, advisors: set[str]
) -> tuple[str | None, dt.date | None]:
    """The user's current advisor and since date this week (the weekly rule).

    Args:
        user: the user as users.csv gives it (``current_advisor``, ``since``).
        previous: last week's plan.
        advisors: the ids in this week's advisors.csv.

    Returns:
        (advisor id or None, since or None). The id may name an advisor who
        left (not in ``advisors``); the user is then placed anew.

    The rule, in order:

    1. Not in the plan: users.csv's advisor and since.
    2. The plan placed the user with P, and users.csv names P or none:
       P, with users.csv's since when it names P, else the plan's.
    3. The plan placed the user with P, users.csv names another C: P and the
       plan's since when P is still in advisors.csv (the plan is newer than
       an export that has not caught up); else C and users.csv's since.
    4. The plan left the user waiting, and users.csv still names the advisor
       the plan says they had (its previous_advisor): no advisor; the plan
       decided so last week.
    5. Otherwise (the plan left the user waiting, users.csv names another
       advisor or none): users.csv's, a newer decision than the plan.
    """
    current = user.current_advisor or None
    if user.id not in previous.advisor:
        return current, user.since
    planned = previous.advisor[user.id]
    plan_since = previous.since.get(user.id)
    if planned:
        if current == planned:
            return planned, user.since or plan_since
        if current is None or planned in advisors:
            return planned, plan_since
        return current, user.since
    lost = previous.previous_advisor.get(user.id, "")
    if current is not None and current == lost:
        return None, None
    return current, user.since
