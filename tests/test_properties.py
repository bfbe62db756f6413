"""Seeded random small instances: the solver's answers hold up to checking."""

from __future__ import annotations

import pytest

from allocator.checker import check_solution
from allocator.evaluate import objective
from allocator.generate import generate
from allocator.problem import build_problem
from allocator.read import read_instance
from allocator.run import RunOptions, run_solve

SEEDS = range(12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("rebalance", [False, True])
def test_random_instance(seed, rebalance, tmp_path):
    """Checker passes, objective >= bound, plain-Python objective == solver's."""
    folder = tmp_path / f"random-{seed}"
    generate(
        advisors=8 + seed, users=60 + 10 * seed, municipalities=3, seed=seed, out=folder
    )
    instance = read_instance(folder)
    outcome = run_solve(
        instance,
        RunOptions(out=tmp_path / "sol", time_limit=5, seed=seed, rebalance=rebalance),
    )
    summary = outcome.report.summary
    assert summary["status"] in ("optimal", "feasible")
    assert summary["objective"] >= summary["bound"] - 1e-6
    assert check_solution(instance, outcome.folder) == []
    problem = build_problem(instance, rebalance=rebalance)
    index = {a.id: i for i, a in enumerate(instance.advisors)}
    allocation = [index.get(row["advisor"]) for row in outcome.report.assignments]
    assert objective(problem, allocation) == pytest.approx(
        summary["objective"], abs=0.02
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_greedy_obeys_every_rule(seed, tmp_path):
    """The baseline never breaks a hard rule either."""
    folder = tmp_path / f"random-{seed}"
    generate(
        advisors=8 + seed, users=60 + 10 * seed, municipalities=4, seed=seed, out=folder
    )
    instance = read_instance(folder)
    outcome = run_solve(instance, RunOptions(out=tmp_path / "g", solver="greedy"))
    assert check_solution(instance, outcome.folder) == []
