"""Small helpers: whole numbers apportioned by weight, the staircase of a
caseload over advisors, ids folded from names, and an advisor's casework.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from allocator.domain import Advisor
from allocator.generate.catalogue import INTAKE_PER_FTE


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
