"""The search's stopping rule, the better-of rule and the gap warning."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from allocator.domain import Instance
from allocator.engine.cpsat.builder import AllocationModel
from allocator.engine.cpsat.solver import (
    GAP_TARGET,
    Result,
    SolveParams,
    solve,
)
from allocator.engine.evaluate import objective
from allocator.engine.greedy import solve_greedy
from allocator.engine.problem import Problem, build_problem
from allocator.generate import Shape, generate, office_instance
from allocator.io.read import read_instance
from allocator.render.text import summary_table
from allocator.run import RunOptions, gap_warning, run_solve
from tests.helpers import advisor, instance, user


@pytest.fixture(scope="module")
def first_allocation(tmp_path_factory: pytest.TempPathFactory) -> Instance:
    """A generated first allocation: 300 open users, 10 advisors."""
    folder = tmp_path_factory.mktemp("shapes") / "first"
    generate(10, 300, 3, 2, folder, Shape(first_allocation=True))
    return read_instance(folder)


def greedy_is_optimal() -> Instance:
    """Nine users, three advisors of capacity 3 in their own municipality.

    Only unassigned users and travel cost anything; the greedy gives each
    advisor the three users next door (least loaded, then nearest), which
    is the unique optimum of 0.
    """
    places = ("nord", "sor", "vest")
    users = [user(f"u{i}", places[i % 3]) for i in range(9)]
    advisors = [advisor(f"a{i}", base=places[i], fte=0.75) for i in range(3)]
    return instance(
        users,
        advisors,
        weights={"unassigned": 1000, "travel": 1},
        max_municipalities_per_advisor=3,
    )


def test_greedy_optimal_and_no_time_writes_the_greedy(tmp_path: Path) -> None:
    inst = greedy_is_optimal()
    problem = build_problem(inst)
    greedy = solve_greedy(problem)
    proved = solve(problem, SolveParams(time_limit=10, workers=1))
    assert proved.status == "optimal"
    assert greedy.objective == proved.objective == 0.0
    # Almost no time: the search is stopped before it starts.
    stop = threading.Event()
    stop.set()
    result = solve(
        problem, SolveParams(time_limit=0.1, workers=1), greedy.allocation, stop=stop
    )
    # Stopped before CP-SAT loads the hint, the search may have nothing;
    # then the run writes the greedy (below). Otherwise, nothing worse.
    if result.status != "no_solution":
        assert objective(problem, result.allocation) == greedy.objective
    # And through the whole run, with the smallest time limit the CLI takes.
    outcome = run_solve(inst, RunOptions(out=tmp_path / "out", time_limit=0.1))
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["objective"] == greedy.objective
    assert outcome.solution.result.objective == greedy.objective


def test_search_worse_than_hint_writes_the_hint(
    first_allocation: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The better-of rule itself: the search is kept from the hint and cut short."""
    problem = build_problem(first_allocation)
    greedy = solve_greedy(problem)
    monkeypatch.setattr(AllocationModel, "hint", lambda self, allocation: None)
    params = SolveParams(
        time_limit=5,
        workers=1,
        deterministic_time=5,
        extra={"stop_after_first_solution": True},
    )
    result = solve(problem, params, hint=greedy.allocation)
    # The search's own first solution was worse than the greedy ...
    assert result.log and result.log[0][1] > greedy.objective
    # ... so the greedy allocation is written, with the search's bound.
    assert result.source == "hint"
    assert result.allocation == greedy.allocation
    assert result.objective == greedy.objective
    assert result.bound <= result.objective


def test_written_allocation_never_worse_than_greedy(
    first_allocation: Instance,
) -> None:
    problem = build_problem(first_allocation)
    greedy = solve_greedy(problem)
    for budget in (0.01, 0.05, 0.2):
        params = SolveParams(time_limit=30, deterministic_time=budget, workers=8)
        result = solve(problem, params, hint=greedy.allocation)
        assert objective(problem, result.allocation) <= greedy.objective
        assert result.objective == objective(problem, result.allocation)


def test_deterministic_budget_run_is_reproducible(tmp_path: Path) -> None:
    """Same input, seed and budget: the same files, byte for byte.

    A generated office's first allocation whose family team the search
    does not prove within a small budget (its parts are proved otherwise).
    """
    office = office_instance(12, shape=Shape(first_allocation=True))
    texts = []
    for run in range(2):
        folder = tmp_path / f"run{run}"
        options = RunOptions(out=folder, time_limit=60, deterministic_time=0.3)
        outcome = run_solve(office, options)
        result = outcome.solution.result
        # The test is about a budget-ended search, not a proof.
        assert result.stopped_by == "deterministic_time"
        assert result.reproducible
        texts.append((folder / "assignments.csv").read_text())
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["stopped_by"] == "deterministic_time"
        assert summary["reproducible"] is True
    assert texts[0] == texts[1]


def feasible_result(objective_value: float, bound: float) -> Result:
    return Result(
        status="feasible",
        objective=objective_value,
        bound=bound,
        wall_s=1.0,
        build_s=0.1,
        time_to_first_s=0.1,
        allocation=[],
    )


def test_gap_warning_above_one_percent() -> None:
    warning = gap_warning(feasible_result(100.0, 95.0), searched=True)
    assert warning is not None
    assert "5.0%" in warning and "more time" in warning
    assert gap_warning(feasible_result(100.0, 99.5), searched=True) is None
    # The greedy baseline claims no bound, so nothing to warn about.
    assert gap_warning(feasible_result(100.0, float("nan")), searched=False) is None
    fallback = gap_warning(feasible_result(100.0, float("nan")), searched=True)
    assert fallback is not None and "more time" in fallback


def test_gap_warning_in_summary_and_terminal(tmp_path: Path) -> None:
    # A budget far too small for this office leaves a large gap.
    office = office_instance(12, shape=Shape(first_allocation=True))
    options = RunOptions(out=tmp_path / "out", time_limit=60, deterministic_time=0.01)
    outcome = run_solve(office, options)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["gap"] > GAP_TARGET
    assert "more time" in summary["gap_warning"]
    assert "more time" in summary_table(outcome.report.summary)
    # And none when the search proves its answer.
    proved = run_solve(greedy_is_optimal(), RunOptions(out=tmp_path / "proved"))
    assert proved.report.summary["gap_warning"] is None
    assert "warning" not in summary_table(proved.report.summary)


def test_shapes_change_only_what_they_name(tmp_path: Path) -> None:
    generate(10, 300, 3, 4, tmp_path / "plain")
    generate(
        10,
        300,
        3,
        4,
        tmp_path / "shaped",
        Shape(first_allocation=True, rotation_months=12, capacity_factor=0.8),
    )
    plain = read_instance(tmp_path / "plain")
    shaped = read_instance(tmp_path / "shaped")
    assert [u.id for u in plain.users] == [u.id for u in shaped.users]
    assert sum(u.current_advisor is not None for u in plain.users) > 200
    assert all(u.current_advisor is None and u.since is None for u in shaped.users)
    assert plain.policy.rotation_months == 0
    assert shaped.policy.rotation_months == 12
    for kind, per_fte in plain.policy.cases_per_fte_by_kind.items():
        assert shaped.policy.cases_per_fte_by_kind[kind] == max(
            1, int(per_fte * 0.8 + 1e-9)
        )
    # Rotation after 12 months: most of a caseload drawn over 3 years is due.
    generate(10, 300, 3, 4, tmp_path / "rotation", Shape(rotation_months=12))
    problem = build_problem(read_instance(tmp_path / "rotation"))
    due = sum(g.size for g in problem.groups if g.rotation_due)
    assert due > 0.5 * sum(u.current_advisor is not None for u in plain.users)


def test_generate_rejects_impossible_shapes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="capacity factor"):
        generate(10, 300, 3, 4, tmp_path / "x", Shape(capacity_factor=0))


def test_greedy_hint_is_complete_and_kept(first_allocation: Instance) -> None:
    """CP-SAT accepts the hint as its first solution (complete and feasible)."""
    problem = build_problem(first_allocation)
    greedy = solve_greedy(problem)
    model = AllocationModel(problem)
    model.hint(greedy.allocation)
    hinted = {
        index for index in model.model.proto.solution_hint.vars
    }  # every variable has a value
    assert hinted == set(range(len(model.model.proto.variables)))
    params = SolveParams(time_limit=30, deterministic_time=0.05, workers=8)
    result = solve(problem, params, hint=greedy.allocation)
    # The first solution CP-SAT reports is the hint, at the greedy's value.
    assert result.log[0][1] == pytest.approx(greedy.objective)


def test_search_without_solution_writes_greedy_and_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A search that found nothing: the greedy is written, with a warning."""
    import allocator.run as run_module

    def nothing(problem: Problem, *given: object) -> tuple[Problem, Result]:
        return problem, Result(
            status="no_solution",
            objective=float("nan"),
            bound=float("nan"),
            wall_s=0.1,
            build_s=0.0,
            time_to_first_s=None,
            allocation=[None] * len(problem.instance.users),
            stopped_by="wall_clock",
            workers=8,
        )

    monkeypatch.setattr(run_module, "search", nothing)
    inst = greedy_is_optimal()
    outcome = run_solve(inst, RunOptions(out=tmp_path / "out", time_limit=1))
    summary = outcome.report.summary
    assert summary["solver"] == "greedy"
    assert summary["stopped_by"] == "wall_clock"
    assert summary["reproducible"] is False
    assert summary["kpis"]["assigned"] == 9
    assert "no solution" in summary["gap_warning"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compact_greedy_obeys_every_rule(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compact first solution is a hint CP-SAT keeps: it breaks no rule."""
    import allocator.engine.greedy as greedy_module
    import allocator.run as run_module
    from allocator.checker import check_solution

    folder = tmp_path / "first"
    generate(10 + seed, 300, 4, seed, folder, Shape(first_allocation=True))
    inst = read_instance(folder)
    compact = greedy_module.solve_greedy(build_problem(inst), compact=True)

    def compact_of(problem: Problem) -> Result:
        return greedy_module.solve_greedy(problem, compact=True)

    monkeypatch.setattr(run_module, "solve_greedy", compact_of)

    outcome = run_solve(inst, RunOptions(out=tmp_path / "g", solver="greedy"))
    assert outcome.solution.result.allocation == compact.allocation
    assert check_solution(inst, outcome.folder) == []


def test_first_solution_is_the_better_start(first_allocation: Instance) -> None:
    from allocator.engine.greedy import first_solution

    problem = build_problem(first_allocation)
    baseline = solve_greedy(problem)
    start = first_solution(problem, baseline)
    assert start.objective <= baseline.objective
    assert start.objective == objective(problem, start.allocation)
    # On this first allocation the compact variant is the better one.
    assert start.objective < baseline.objective
