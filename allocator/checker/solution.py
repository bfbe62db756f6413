"""What the checker knows after reading: the instance, the solution's
tables, each user's row and current advisor, and the locks to honour.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from allocator.checker.derived import capacity, intake_limit, travel_km
from allocator.checker.files import Row, Table
from allocator.checker.format import ASSIGNMENTS
from allocator.domain import Advisor, Instance, Previous, User, plan_current


@dataclass(frozen=True)
class LockSpec:
    """A lock from locks.csv or from the command line (summary.json cli_locks)."""

    user: str
    advisor: str
    kind: str
    origin: str


@dataclass
class Solution:
    """The instance, the written files and every figure derived from them."""

    instance: Instance
    tables: dict[str, Table]
    summary: dict[str, object] | None
    users: dict[str, User] = field(default_factory=dict)
    advisors: dict[str, Advisor] = field(default_factory=dict)
    # First assignments.csv row of each input user.
    rows: dict[str, Row] = field(default_factory=dict)
    # User id -> assigned advisor id (only advisors that exist).
    advisor_of: dict[str, str] = field(default_factory=dict)
    # User id -> effective current advisor (exists in advisors), or None.
    current: dict[str, str | None] = field(default_factory=dict)
    first_allocation: bool = True
    capacities: dict[str, float] = field(default_factory=dict)
    limits: dict[str, int | None] = field(default_factory=dict)
    # Advisor id -> its assigned users, in input order.
    users_of: dict[str, list[User]] = field(default_factory=dict)
    locks: list[LockSpec] = field(default_factory=list)
    # The previous plan given to ``check --previous``, read as ``solve
    # --previous`` reads it; None when no previous plan was given.
    previous_plan: Previous | None = None
    # User id -> (current advisor, since) that plan and users.csv give
    # (domain.plan_current, the rule the solve applies).
    planned: dict[str, tuple[str | None, dt.date | None]] = field(
        default_factory=dict
    )
    # changes.csv when the solve wrote one.
    changes: Table | None = None
    _travel: dict[tuple[str, str], float] = field(default_factory=dict)

    def assigned_pairs(self) -> Iterator[tuple[User, Advisor]]:
        """Assigned users with their advisor, in input order."""
        for user in self.instance.users:
            advisor_id = self.advisor_of.get(user.id)
            if advisor_id is not None:
                yield user, self.advisors[advisor_id]

    def user_rows(self) -> Iterator[tuple[User, Row]]:
        """Input users that have an assignments.csv row, with that row."""
        for user in self.instance.users:
            row = self.rows.get(user.id)
            if row is not None:
                yield user, row

    def load(self, advisor_id: str) -> float:
        return sum(user.weight for user in self.users_of[advisor_id])

    def new_users(self, advisor_id: str) -> int:
        """Users given to this advisor who did not have it (the weekly intake)."""
        return sum(
            1
            for user in self.users_of[advisor_id]
            if self.current[user.id] != advisor_id
        )

    def municipalities_of(self, advisor_id: str) -> set[str]:
        return {user.municipality for user in self.users_of[advisor_id]}

    def travel(self, user: User, advisor: Advisor) -> float:
        """Km from the advisor's base to the user's municipality (cached)."""
        key = (advisor.base, user.municipality)
        if key not in self._travel:
            self._travel[key] = travel_km(self.instance, *key)
        return self._travel[key]


def _lock_specs(
    instance: Instance, summary: dict[str, object] | None
) -> list[LockSpec]:
    """Locks from the instance and from summary.json cli_locks, each pair once."""
    specs = [
        LockSpec(
            lock.user,
            lock.advisor,
            lock.kind,
            f"{lock.source} row {lock.row}" if lock.row else lock.source,
        )
        for lock in instance.locks
    ]
    cli_locks = summary.get("cli_locks") if summary else None
    if isinstance(cli_locks, list):
        for index, entry in enumerate(cli_locks):
            if isinstance(entry, dict) and all(
                isinstance(entry.get(key), str) for key in ("user", "advisor", "kind")
            ):
                specs.append(
                    LockSpec(
                        entry["user"],
                        entry["advisor"],
                        entry["kind"],
                        f"summary.json cli_locks[{index}]",
                    )
                )
    unique: dict[tuple[str, str, str], LockSpec] = {}
    for spec in specs:
        unique.setdefault((spec.user, spec.advisor, spec.kind), spec)
    return list(unique.values())


def build_solution(
    instance: Instance,
    tables: dict[str, Table],
    summary: dict[str, object] | None,
    previous_plan: Previous | None = None,
) -> Solution:
    """Work out assignment, effective current advisors, loads and limits.

    With ``previous_plan`` (``check --previous``) a row's previous_advisor
    and since must be what that plan and users.csv give by the weekly rule
    (``domain.plan_current``; checked by
    ``assignments_previous_advisor`` and ``assignments_since``), so the rules
    that depend on it do not rest on the solution's word alone.
    """
    sol = Solution(instance, tables, summary, previous_plan=previous_plan)
    sol.users = {user.id: user for user in instance.users}
    sol.advisors = {advisor.id: advisor for advisor in instance.advisors}
    if previous_plan is not None:
        known = set(sol.advisors)
        sol.planned = {
            user.id: plan_current(user, previous_plan, known)
            for user in instance.users
        }
    for row in tables[ASSIGNMENTS].rows:
        user_id = row.get("user")
        if user_id in sol.users and user_id not in sol.rows:
            sol.rows[user_id] = row
    for user in instance.users:
        found = sol.rows.get(user.id)
        # The row's previous_advisor is what the solve used (it must agree
        # with users.csv, checked separately); an id no longer among the
        # advisors means that advisor left and the user is placed anew.
        previous = found.get("previous_advisor") if found else user.current_advisor
        sol.current[user.id] = previous if previous in sol.advisors else None
        advisor_id = found.get("advisor") if found else ""
        if advisor_id in sol.advisors:
            sol.advisor_of[user.id] = advisor_id
    sol.first_allocation = not any(sol.current.values())
    for advisor in instance.advisors:
        sol.capacities[advisor.id] = capacity(instance, advisor)
        sol.limits[advisor.id] = intake_limit(instance, advisor, sol.first_allocation)
        sol.users_of[advisor.id] = []
    for user, advisor in sol.assigned_pairs():
        sol.users_of[advisor.id].append(user)
    sol.locks = _lock_specs(instance, summary)
    return sol
