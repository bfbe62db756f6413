"""Regret greedy for the GAP: the simple baseline and the first hint for CP-SAT."""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from allocator.gap.arrays import GapArrays, IntArray
from allocator.gap.read import GapInstance
from allocator.gap.result import GapResult, GapStatus

FloatArray = npt.NDArray[np.float64]


def regret_greedy(arrays: GapArrays, desirability: FloatArray) -> IntArray | None:
    """Place jobs one by one, the job with the largest regret first.

    The regret of a job is the gap between its best and second best agent that
    still has room (lower desirability is better); a job with a single agent
    left has infinite regret, so it is placed before that agent fills up.
    Each placed job goes to its best agent. Returns None when some job no longer
    fits anywhere.
    """
    n = arrays.costs.shape[1]
    remaining = arrays.capacities.copy()
    score = np.where(arrays.uses <= remaining[:, None], desirability, np.inf)
    assignment = np.full(n, -1, dtype=np.int64)
    open_jobs = np.ones(n, dtype=bool)
    best, regret = _best_and_regret(score)
    for _ in range(n):
        candidates = np.where(open_jobs, regret, -np.inf)
        job = int(np.argmax(candidates))
        agent = int(best[job])
        if not np.isfinite(score[agent, job]):
            return None
        assignment[job] = agent
        open_jobs[job] = False
        remaining[agent] -= arrays.uses[agent, job]
        # Only the agent that took the job lost room: refresh its row, then the
        # top two of the jobs whose column changed.
        newly_full = (arrays.uses[agent] > remaining[agent]) & np.isfinite(score[agent])
        score[agent, newly_full] = np.inf
        changed = np.flatnonzero(newly_full & open_jobs)
        if changed.size:
            best[changed], regret[changed] = _best_and_regret(score[:, changed])
    return assignment


def _best_and_regret(score: FloatArray) -> tuple[IntArray, FloatArray]:
    """Best agent and regret (second minus best) of each column."""
    if score.shape[0] == 1:
        return np.zeros(score.shape[1], dtype=np.int64), np.full(score.shape[1], np.inf)
    best = np.argmin(score, axis=0)
    two = np.partition(score, 1, axis=0)[:2]
    with np.errstate(invalid="ignore"):
        regret = two[1] - two[0]
    # A job with no agent left must come first so that the failure shows at once.
    regret = np.where(np.isfinite(two[0]), regret, np.inf)
    return best.astype(np.int64), regret


def desirabilities(arrays: GapArrays) -> list[FloatArray]:
    """The usual criteria: cost, relative use, and cost times relative use."""
    relative_use = arrays.uses / arrays.capacities[:, None]
    costs = arrays.costs.astype(np.float64)
    return [
        costs,
        relative_use,
        costs * relative_use,
        costs + costs.mean() * relative_use,
    ]


def best_greedy(arrays: GapArrays) -> IntArray | None:
    """Cheapest feasible assignment over the regret criteria, or None."""
    best: IntArray | None = None
    for desirability in desirabilities(arrays):
        found = regret_greedy(arrays, desirability)
        if found is not None and (
            best is None or arrays.cost(found) < arrays.cost(best)
        ):
            best = found
    return best


def solve_greedy(instance: GapInstance) -> GapResult:
    """Baseline: the best of the regret greedies, no improvement step."""
    start = time.perf_counter()
    arrays = GapArrays.of(instance)
    found = best_greedy(arrays)
    wall = time.perf_counter() - start
    if found is None:
        return GapResult("greedy", GapStatus.NO_SOLUTION, None, None, wall, None)
    return GapResult(
        solver="greedy",
        status=GapStatus.FEASIBLE,
        objective=arrays.cost(found),
        bound=None,
        wall_s=wall,
        time_to_first_s=wall,
        assignment=[int(agent) for agent in found],
    )
