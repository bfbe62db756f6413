"""The weekly run: placement before stability, --previous, changes and reasons."""

from __future__ import annotations

from pathlib import Path

from allocator.api import check, solve
from allocator.domain import Instance
from allocator.solution import Solution
from tests.helpers import advisor, instance, user

AAP = ("aap",)


def tight_week(*, waiting: bool, travel: float = 2.0) -> Instance:
    """A follow-up team of two half-time advisors (capacity 2 each).

    a1 (base nord, the only one with competence aap) holds s1 (nord) and s2
    (sor); a2 (base sor) is empty. With ``waiting``, w (nord, needs aap,
    no advisor yet) can only go to a1. Moving s2 to a2 saves 30 km of
    travel (worth 60 at travel weight 2, more than a move's 50).
    """
    users = [
        user("s1", "nord", current_advisor="a1"),
        user("s2", "sor", current_advisor="a1"),
    ]
    if waiting:
        users.append(user("w", "nord", needs=AAP))
    return instance(
        users,
        [
            advisor("a1", fte=0.5, base="nord", competences=AAP),
            advisor("a2", fte=0.5, base="sor"),
        ],
        weights={"unassigned": 1000, "reassignment": 50, "travel": travel},
    )


def placed(solution: Solution) -> dict[str, str]:
    return {row["user"]: row["advisor"] for row in solution.report.assignments}


def checked(inst: Instance, solution: Solution, tmp_path: Path) -> None:
    folder = tmp_path / "solution"
    solution.write(folder)
    assert check(inst, folder) == []


def test_a_move_that_places_a_waiting_user_is_made(tmp_path):
    """s2 moves to a2 so that w gets a1, the only advisor with aap."""
    inst = tight_week(waiting=True)
    solution = solve(inst, workers=1)
    assert placed(solution) == {"s1": "a1", "s2": "a2", "w": "a1"}
    # One move (50); travel 0 for all three. Pinned, it would be 1000 + 60.
    assert solution.summary["objective"] == 50.0
    assert solution.summary["kpis"]["reassignments"] == 1
    reason = {r["user"]: r["reason"] for r in solution.report.assignments}["s2"]
    assert reason.startswith("moved to make room: advisor a1 took w,")
    checked(inst, solution, tmp_path)


def test_no_move_for_travel_alone_without_rebalance(tmp_path):
    """Nobody waits: s2 stays although moving would save 60 of travel."""
    inst = tight_week(waiting=False)
    solution = solve(inst, workers=1)
    assert placed(solution) == {"s1": "a1", "s2": "a1"}
    assert solution.summary["objective"] == 60.0
    assert solution.summary["kpis"]["reassignments"] == 0
    checked(inst, solution, tmp_path)


def test_rebalance_moves_for_travel(tmp_path):
    """With --rebalance the same travel saving is worth a move."""
    inst = tight_week(waiting=False)
    solution = solve(inst, workers=1, rebalance=True)
    assert placed(solution) == {"s1": "a1", "s2": "a2"}
    assert solution.summary["objective"] == 50.0


def test_a_move_worth_less_than_its_cost_is_not_made():
    """With reassignment 2000 above unassigned 1000, w waits and nobody moves."""
    base = tight_week(waiting=True)
    weights = base.policy.weights.model_copy(update={"reassignment": 2000})
    inst = base.model_copy(
        update={"policy": base.policy.model_copy(update={"weights": weights})}
    )
    solution = solve(inst, workers=1)
    assert placed(solution) == {"s1": "a1", "s2": "a1", "w": ""}
    assert solution.summary["objective"] == 1060.0
    reason = {r["user"]: r["reason"] for r in solution.report.assignments}["w"]
    assert reason == "the only eligible advisor, a1, is at capacity"


def test_only_the_needed_move_is_made():
    """Two settled users could move; one move places w, so only one moves.

    s2 (sor) is the one: moving it to a2 (based in sor) also saves travel,
    so of the equally needed moves the full objective picks it.
    """
    solution = solve(tight_week(waiting=True, travel=1.0), workers=1)
    assert placed(solution) == {"s1": "a1", "s2": "a2", "w": "a1"}
    assert solution.summary["objective"] == 50.0
