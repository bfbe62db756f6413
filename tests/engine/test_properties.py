"""Seeded random small instances: the solver's answers hold up to checking."""

from __future__ import annotations

import pytest

from allocator.checker import check_solution
from allocator.engine.evaluate import objective
from allocator.engine.problem import build_problem
from allocator.generate import generate
from allocator.io.read import read_instance
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


@pytest.mark.parametrize("seed", range(8))
def test_random_instance_with_absence_locks_and_rotation(seed, tmp_path):
    """Absent advisors, forbid and fix locks and rotation: still no violation."""
    import random

    from allocator.domain import Lock

    folder = tmp_path / f"random-{seed}"
    generate(
        advisors=10 + seed,
        users=80 + 10 * seed,
        municipalities=3,
        seed=seed,
        out=folder,
    )
    instance = read_instance(folder)
    rng = random.Random(seed)
    away = {a.id for a in rng.sample(list(instance.advisors), 2)}
    advisors = tuple(
        a.model_copy(update={"available": a.id not in away}) for a in instance.advisors
    )
    active = [u for u in instance.users if u.current_advisor and not u.household]
    forbid = [
        Lock(user=u.id, advisor=u.current_advisor or "", kind="forbid", row=i + 2)
        for i, u in enumerate(rng.sample(active, 3))
    ]
    keep = next(u for u in active if u.id not in {lock.user for lock in forbid})
    fix = Lock(user=keep.id, advisor=keep.current_advisor or "", kind="fix", row=5)
    weights = instance.policy.weights.model_copy(update={"rotation": 60})
    policy = instance.policy.model_copy(
        update={"rotation_months": 12, "weights": weights}
    )
    instance = instance.model_copy(
        update={"advisors": advisors, "locks": (*forbid, fix), "policy": policy}
    )
    for rebalance in (False, True):
        outcome = run_solve(
            instance,
            RunOptions(
                out=tmp_path / f"sol{rebalance}", time_limit=5, rebalance=rebalance
            ),
        )
        assert check_solution(instance, outcome.folder) == []
        rows = {row["user"]: row for row in outcome.report.assignments}
        assert rows[keep.id]["advisor"] == keep.current_advisor
        for lock in forbid:
            assert rows[lock.user]["advisor"] != lock.advisor
            assert rows[lock.user]["changed"] and rows[lock.user]["reason"]
