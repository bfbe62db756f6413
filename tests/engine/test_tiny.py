"""instances/tiny: the optimum its README works out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator.checker import check_solution
from allocator.engine.evaluate import objective_terms
from allocator.engine.problem import build_problem
from allocator.run import RunOptions, run_solve
from tests.shipped import shipped

TINY = Path(__file__).parents[2] / "instances" / "tiny"


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny") / "solution"
    return run_solve(shipped("tiny"), RunOptions(out=out, workers=1))


def test_tiny_optimum_is_1240(outcome):
    """1000 (u4 unplaceable) + 30 km (u2) + 200 (two team peaks of 100 %) + 10."""
    summary = outcome.report.summary
    assert summary["status"] == "optimal"
    assert summary["objective"] == pytest.approx(1240.0)
    assert summary["bound"] == pytest.approx(1240.0)


def test_tiny_allocation_is_the_documented_one(outcome):
    """a1: u1, u2; a2: u3, u7; a3: u5, u6; u4 unassigned."""
    advisors = {row["user"]: row["advisor"] for row in outcome.report.assignments}
    assert advisors == {
        "u1": "a1", "u2": "a1", "u3": "a2", "u4": "",
        "u5": "a3", "u6": "a3", "u7": "a2",
    }  # fmt: skip


def test_tiny_terms_match_readme(outcome):
    """The plain-Python breakdown gives each term the README's figure."""
    inst = shipped("tiny")
    problem = build_problem(inst)
    index = {a.id: i for i, a in enumerate(inst.advisors)}
    allocation = [index.get(row["advisor"]) for row in outcome.report.assignments]
    terms = objective_terms(problem, allocation)
    assert terms == {
        "unassigned": 1000.0, "urgent_unassigned": 0.0, "reassignment": 0.0,
        "load_balance": 200.0, "travel": 30.0, "rotation": 0.0, "non_local": 10.0,
    }  # fmt: skip


def test_tiny_unassigned_reason_names_rule(outcome):
    """u4's reason names the competence and the missing authority in sor."""
    row = next(r for r in outcome.report.assignments if r["user"] == "u4")
    assert row["reason"] == (
        "no advisor in a follow_up team has competence social_assistance "
        "and authority in sor"
    )


def test_tiny_passes_the_checker(outcome):
    """The independent checker finds no violation."""
    assert check_solution(shipped("tiny"), outcome.folder) == []
