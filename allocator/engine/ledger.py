"""Each advisor's load, intake and municipalities: rules 4 and 5 by hand.

The model enforces capacity, intake and the municipality limit as
constraints; outside the model the same three rules are asked in three
places (the greedy baseline placing users, the reasons for an unassigned
user, ``explain``). They all use this one ledger and its one ``breach``
test, so the three can never disagree about what "full" means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from allocator.engine.problem import SCALE, Problem, scaled_weight


@dataclass(frozen=True)
class Breach:
    """Which of rules 4-5 stops an advisor taking one more user."""

    # Short label, for lists of advisors: "at capacity".
    label: str
    # The same with its figures: "capacity: carries 4 of 4, the user weighs 1".
    detail: str
    # Which limit: "capacity", "intake" or "municipalities".
    cause: str = "capacity"


class Ledger:
    """Per advisor: scaled load, new users, municipalities served."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        n = problem.num_advisors
        self.load = [0] * n
        self.intake = [0] * n
        self.municipalities: list[set[str]] = [set() for _ in range(n)]

    @classmethod
    def of(cls, problem: Problem, allocation: Sequence[int | None]) -> Ledger:
        """The ledger after a per-user allocation."""
        ledger = cls(problem)
        for u, a in enumerate(allocation):
            if a is not None:
                user = problem.instance.users[u]
                newcomer = problem.current[u] != a
                ledger.take(a, scaled_weight(user.weight), user.municipality, newcomer)
        return ledger

    def take(self, a: int, weight: int, municipality: str, newcomer: bool) -> None:
        self.load[a] += weight
        self.intake[a] += newcomer
        self.municipalities[a].add(municipality)

    def breach(
        self, a: int, weight: int, municipality: str, newcomer: bool
    ) -> Breach | None:
        """Rule 4 (capacity, intake) or 5 (municipalities) against one more user."""
        p = self.problem
        cap = p.capacity[a]
        if self.load[a] + weight > cap:
            return Breach(
                "at capacity",
                f"capacity: carries {self.load[a] / SCALE:g} of {cap / SCALE:g}, "
                f"the user weighs {weight / SCALE:g}",
            )
        limit = p.intake_limit[a]
        if newcomer and limit is not None and self.intake[a] >= limit:
            return Breach(
                "at the weekly intake limit",
                f"intake: already {self.intake[a]} new users of a weekly limit {limit}",
                "intake",
            )
        most = p.max_municipalities[a]
        served = self.municipalities[a]
        if most and municipality not in served and len(served) >= most:
            return Breach(
                f"at its limit of {most} "
                f"{'municipality' if most == 1 else 'municipalities'}",
                f"municipalities: already serves {', '.join(sorted(served))} "
                f"(limit {most})",
                "municipalities",
            )
        return None

    def breach_together(
        self, a: int, members: Sequence[tuple[int, str, bool]]
    ) -> Breach | None:
        """Rules 4-5 against several users at once (a household's members).

        ``members`` holds (scaled weight, municipality, newcomer) per user.
        """
        p = self.problem
        cap = p.capacity[a]
        weight = sum(w for w, _, _ in members)
        if self.load[a] + weight > cap:
            return Breach(
                "at capacity",
                f"capacity: carries {self.load[a] / SCALE:g} of {cap / SCALE:g}, "
                f"the members weigh {weight / SCALE:g}",
            )
        limit = p.intake_limit[a]
        newcomers = sum(new for _, _, new in members)
        if limit is not None and newcomers and self.intake[a] + newcomers > limit:
            return Breach(
                "at the weekly intake limit",
                f"intake: already {self.intake[a]} new users of a weekly limit "
                f"{limit}, the members add {newcomers}",
                "intake",
            )
        most = p.max_municipalities[a]
        served = self.municipalities[a] | {m for _, m, _ in members}
        if most and len(served) > most:
            return Breach(
                f"at its limit of {most} "
                f"{'municipality' if most == 1 else 'municipalities'}",
                f"municipalities: would serve {', '.join(sorted(served))} "
                f"(limit {most})",
                "municipalities",
            )
        return None

    def utilisation(self, a: int) -> float:
        cap = self.problem.capacity[a]
        return self.load[a] / cap if cap else math.inf
