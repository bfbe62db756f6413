"""--rebalance --max-moves N: at most N voluntary moves, N = 0 as no rebalance."""

from __future__ import annotations

import pytest

import allocator
from tests.helpers import advisor, instance, user


def crowded() -> allocator.Instance:
    """a1 holds four users at full capacity (4), a2 in the same team none.

    Weights: unassigned 1000 (everyone is placed), load_balance 100 per team
    peak, reassignment 1 per move. Staying
    costs a peak of 4/4: 100. Each move lowers a1's load by one.
    """
    users = [user(f"u{i}", current_advisor="a1") for i in range(1, 5)]
    return instance(
        users,
        [advisor("a1"), advisor("a2")],
        weights={"unassigned": 1000, "load_balance": 100, "reassignment": 1},
    )


@pytest.mark.parametrize(
    ("rebalance", "max_moves", "moves", "objective"),
    [
        (False, None, 0, 100.0),  # minimal churn: peak 4/4
        (True, None, 2, 52.0),  # two moves: peak 2/4 = 50, plus 2 x 1
        (True, 1, 1, 76.0),  # capped at one: peak 3/4 = 75, plus 1
        (True, 0, 0, 100.0),  # capped at none: the same as no rebalance
    ],
)
def test_max_moves_caps_voluntary_moves(
    rebalance: bool, max_moves: int | None, moves: int, objective: float
) -> None:
    solution = allocator.solve(
        crowded(), rebalance=rebalance, max_moves=max_moves, workers=1, time_limit=10
    )
    assert solution.status == "optimal"
    assert solution.summary["kpis"]["reassignments"] == moves
    assert solution.summary["objective"] == pytest.approx(objective)
