"""The plain GAP MIP in HiGHS: a reference column, and the LP relaxation."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt

from allocator.gap.arrays import GapArrays
from allocator.gap.read import GapInstance
from allocator.gap.result import GapResult, GapStatus

FloatArray = npt.NDArray[np.float64]


def _quiet_highs() -> highspy.Highs:
    """A Highs object, without the banner it prints on stdout when created.

    The banner is written by the C++ library straight to file descriptor 1, so
    it is silenced there; the benchmark tables stay clean.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            highs = highspy.Highs()
            highs.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return highs


def _build(arrays: GapArrays, integer: bool) -> highspy.Highs:
    """Binary x[i, j] (column i*n + j), one agent per job, capacity per agent.

    Rows 0..n-1 are the assignment equalities, rows n..n+m-1 the capacities.
    The matrix is passed column-wise in one call, which is fast for 128k columns.
    """
    m, n = arrays.costs.shape
    lp = highspy.HighsLp()
    lp.num_col_ = m * n
    lp.num_row_ = n + m
    lp.col_cost_ = arrays.costs.reshape(-1).astype(np.float64)
    lp.col_lower_ = np.zeros(m * n)
    lp.col_upper_ = np.ones(m * n)
    lp.row_lower_ = np.concatenate([np.ones(n), np.full(m, -highspy.kHighsInf)])
    lp.row_upper_ = np.concatenate([np.ones(n), arrays.capacities.astype(np.float64)])
    agents, jobs = np.divmod(np.arange(m * n), n)
    index = np.empty(2 * m * n, dtype=np.int32)
    index[0::2] = jobs
    index[1::2] = n + agents
    value = np.empty(2 * m * n)
    value[0::2] = 1.0
    value[1::2] = arrays.uses.reshape(-1)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, 2 * m * n + 1, 2, dtype=np.int32)
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * (m * n)
    highs = _quiet_highs()
    highs.setOptionValue("threads", 1)
    highs.passModel(lp)
    return highs


@dataclass(frozen=True)
class LpRelaxation:
    """Optimal LP relaxation: value, x (m, n), agent prices >= 0, reduced costs.

    ``prices[i]`` is minus the capacity dual of agent i, so the reduced cost of
    giving job j to agent i is ``costs[i, j] + prices[i] * uses[i, j]`` minus the
    job's own dual.
    """

    value: float
    x: FloatArray
    prices: FloatArray
    reduced: FloatArray


def solve_lp(arrays: GapArrays, time_limit: float) -> LpRelaxation | None:
    """Solve the LP relaxation with dual simplex; None if not optimal in time."""
    m, n = arrays.costs.shape
    highs = _build(arrays, integer=False)
    highs.setOptionValue("time_limit", float(max(time_limit, 0.01)))
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    solution = highs.getSolution()
    x = np.asarray(solution.col_value).reshape(m, n)
    duals = np.asarray(solution.row_dual)
    prices = np.maximum(-duals[n:], 0.0)
    reduced = np.asarray(solution.col_dual).reshape(m, n)
    value = float(highs.getInfo().objective_function_value)
    return LpRelaxation(value, x, prices, reduced)


def reduced_costs(arrays: GapArrays, time_limit: float) -> LpRelaxation | None:
    """The LP relaxation, for its bound, its x and its reduced costs."""
    return solve_lp(arrays, time_limit)


def solve_highs(instance: GapInstance, time_limit: float, seed: int) -> GapResult:
    """The plain MIP in HiGHS (one thread), stopped at the time limit."""
    start = time.perf_counter()
    arrays = GapArrays.of(instance)
    m, n = arrays.costs.shape
    highs = _build(arrays, integer=True)
    highs.setOptionValue("time_limit", float(time_limit))
    highs.setOptionValue("random_seed", int(seed))
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", 0.99)  # integer costs: closing to <1 proves
    first: list[float] = []

    def on_improving(*_: object) -> None:
        """Note when the first feasible solution arrives."""
        if not first:
            first.append(time.perf_counter() - start)

    highs.cbMipImprovingSolution.subscribe(on_improving)
    highs.run()
    wall = time.perf_counter() - start
    info = highs.getInfo()
    bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
    if info.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        return GapResult("highs", GapStatus.NO_SOLUTION, None, bound, wall, None)
    x = np.asarray(highs.getSolution().col_value).reshape(m, n)
    assignment = [int(agent) for agent in np.argmax(x, axis=0)]
    optimal = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return GapResult(
        solver="highs",
        status=GapStatus.OPTIMAL if optimal else GapStatus.FEASIBLE,
        objective=int(arrays.costs[np.argmax(x, axis=0), np.arange(n)].sum()),
        bound=bound,
        wall_s=wall,
        time_to_first_s=first[0] if first else None,
        assignment=assignment,
    )
