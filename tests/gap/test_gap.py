"""Tests of the GAP benchmark part: reader, the three solvers, the runner."""

import time
from pathlib import Path

import numpy as np
import pytest
from ortools.sat.python import cp_model

from allocator.gap import (
    GapStatus,
    read_best_known,
    read_gap,
    solve_cpsat,
    solve_greedy,
    solve_highs,
)
from allocator.gap.arrays import GapArrays
from allocator.gap.greedy import best_greedy
from allocator.gap.highs import reduced_costs
from allocator.gap.lns import run_lns
from allocator.gap.model import build_model, read_assignment
from allocator.gap.read import parse_gap
from allocator.gap.result import cost_of, is_feasible, loads_of
from allocator.runs.bench import Job, run_job

DATA = Path(__file__).parents[1] / "data" / "gap"
GAP1_0 = DATA / "cattrysse1994" / "gap1-0"
GAP1_1 = DATA / "cattrysse1994" / "gap1-1"


def test_read_gap_small_file() -> None:
    """The reader gets m, n, the first costs and the capacities of gap1-0."""
    instance = read_gap(GAP1_0)
    assert instance.name == "cattrysse1994/gap1-0"
    assert (instance.num_agents, instance.num_jobs) == (5, 15)
    assert instance.costs[0][:4] == (17, 21, 22, 18)
    assert instance.uses[0][:4] == (8, 15, 14, 23)
    assert instance.capacities == (36, 34, 38, 27, 33)


def test_parse_gap_accepts_wrapped_rows() -> None:
    """Rows may wrap: only the order of the numbers matters."""
    instance = parse_gap("2 3\n1 2\n3 4 5 6\n1 1 1\n1 1\n1\n2 2", "tiny")
    assert instance.costs == ((1, 2, 3), (4, 5, 6))
    assert instance.capacities == (2, 2)


def test_parse_gap_rejects_wrong_count() -> None:
    """A file with too few numbers for its header is an error."""
    with pytest.raises(ValueError, match="expected"):
        parse_gap("2 3\n1 2 3", "short")


def test_read_best_known() -> None:
    """The best-known table is keyed by folder/file and holds minimisation values."""
    table = read_best_known(DATA / "data.csv")
    assert table["cattrysse1994/gap1-0"] == (261, 261, 261)
    assert set(table) == {
        "cattrysse1994/gap1-0",
        "cattrysse1994/gap1-1",
        "cattrysse1994/gap2-0",
    }


@pytest.mark.parametrize(("path", "optimum"), [(GAP1_0, 261), (GAP1_1, 269)])
def test_cpsat_proves_known_optimum(path: Path, optimum: int) -> None:
    """CP-SAT finds and proves the published optimum of two gap1 problems."""
    result = solve_cpsat(read_gap(path), time_limit=5.0, seed=0, workers=2)
    assert result.status is GapStatus.OPTIMAL
    assert result.objective == optimum
    assert result.bound is not None
    assert result.bound <= optimum


@pytest.mark.parametrize(("path", "optimum"), [(GAP1_0, 261), (GAP1_1, 269)])
def test_highs_finds_same_optimum(path: Path, optimum: int) -> None:
    """The HiGHS reference MIP reaches the same optimum."""
    result = solve_highs(read_gap(path), time_limit=5.0, seed=0)
    assert result.status is GapStatus.OPTIMAL
    assert result.objective == optimum


def test_greedy_is_feasible_and_not_below_optimum() -> None:
    """The greedy's assignment respects capacities and costs at least the optimum."""
    instance = read_gap(GAP1_0)
    result = solve_greedy(instance)
    assert result.status is GapStatus.FEASIBLE
    loads = loads_of(instance, result.assignment)
    assert all(
        load <= cap for load, cap in zip(loads, instance.capacities, strict=True)
    )
    assert result.objective is not None
    assert result.objective >= 261


@pytest.mark.parametrize("solver", ["cpsat", "highs", "greedy"])
def test_reported_objective_is_recomputed_cost(solver: str) -> None:
    """Each solver's objective equals the cost recomputed from its assignment."""
    instance = read_gap(DATA / "cattrysse1994" / "gap2-0")
    if solver == "cpsat":
        result = solve_cpsat(instance, time_limit=5.0, seed=1, workers=2)
    elif solver == "highs":
        result = solve_highs(instance, time_limit=5.0, seed=1)
    else:
        result = solve_greedy(instance)
    assert is_feasible(instance, result.assignment)
    assert cost_of(instance, result.assignment) == result.objective
    # The same sum written out here, apart from the package's cost_of: the
    # cost of each job at the agent it was given (costs are agent first).
    assert result.assignment is not None
    by_hand = sum(
        instance.costs[agent][job] for job, agent in enumerate(result.assignment)
    )
    assert by_hand == result.objective


def test_benchmark_rows_carry_gap_to_best_known() -> None:
    """The runner gives one row per solver with the relative gap to best known."""
    rows = [
        run_job(
            Job(
                path=str(GAP1_0), solver=solver, time_limit=2.0, seed=0,
                workers=2, out="", format="gap",
            )
        )
        for solver in ("cpsat", "highs", "greedy")
    ]  # fmt: skip
    by_solver = {row["solver"]: row for row in rows}
    assert set(by_solver) == {"cpsat", "highs", "greedy"}
    assert by_solver["cpsat"]["gap_to_best_known"] == 0.0
    assert by_solver["cpsat"]["best_known"] == 261
    assert by_solver["greedy"]["time_limit"] is None


def test_lns_keeps_feasibility_and_never_worsens() -> None:
    """LNS (both neighbourhoods) ends feasible and no worse than its start."""
    instance = read_gap(DATA / "cattrysse1994" / "gap2-0")
    arrays = GapArrays.of(instance)
    start = best_greedy(arrays)
    assert start is not None
    lp = reduced_costs(arrays, time_limit=5.0)
    assert lp is not None
    state = run_lns(
        arrays,
        start,
        time.perf_counter() + 0.5,
        seed=0,
        workers=2,
        reduced=(lp.reduced, lp.value),
    )
    assert state.rounds > 0
    assert is_feasible(instance, [int(a) for a in state.assignment])
    assert state.cost == arrays.cost(state.assignment) <= arrays.cost(start)


def test_sub_model_respects_remaining_room() -> None:
    """A sub-model with reduced limits cannot place a job on an agent without room."""
    instance = parse_gap("2 2\n1 1\n5 5\n3 3\n3 3\n6 6", "room")
    arrays = GapArrays.of(instance)
    agents = np.arange(2, dtype=np.int64)
    jobs = np.arange(2, dtype=np.int64)
    limits = np.asarray([3, 6], dtype=np.int64)  # agent 0 has room for one job
    sub = build_model(arrays, agents, jobs, limits=limits)
    solver = cp_model.CpSolver()
    assert solver.solve(sub.model) == cp_model.OPTIMAL
    found = read_assignment(solver, sub, np.zeros(2, dtype=np.int64))
    assert sorted(found.tolist()) == [0, 1]
    assert solver.objective_value == 6
