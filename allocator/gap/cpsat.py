"""Solve a GAP with CP-SAT: a good start, the full model, then LNS.

1. Start: the LP relaxation (HiGHS) steers a regret greedy, and the classic
   cost and use criteria give more candidates; the best after shift and
   ejection-chain local search becomes the hint.
2. The full model with that hint (skipped above FULL_MODEL_MAX_PAIRS pairs).
   Small instances are proven optimal here.
3. What time remains goes to LNS around CP-SAT (``allocator.gap.lns``), with
   LP reduced-cost fixing. The bound reported is the best of the full model's
   bound and the rounded-up LP value.

Reproducibility: the LNS and, on small instances, the full model are
deterministic for a seed; what a time-limited run returns still depends on how
far it got, so runs that stop on the clock can differ between machines or
under load. A hint that is not feasible is ignored.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from allocator.gap.arrays import GapArrays, IntArray
from allocator.gap.greedy import desirabilities, regret_greedy
from allocator.gap.highs import LpRelaxation, reduced_costs
from allocator.gap.lns import run_lns
from allocator.gap.local import improve
from allocator.gap.model import build_model, read_assignment
from allocator.gap.read import GapInstance
from allocator.gap.result import GapResult, GapStatus, is_feasible

# Above this many x variables the full model is too slow to help: skip it.
FULL_MODEL_MAX_PAIRS = 20_000
# Share of the time limit the full model gets before LNS takes over: most of
# it on small instances, which it usually proves, little on the others, where
# LNS improves faster (measured on the D and E sets with n <= 200).
SMALL_PAIRS = 1_000
FULL_MODEL_SHARE_SMALL = 0.6
FULL_MODEL_SHARE = 0.1


@dataclass
class _Best:
    """Incumbent, proven bound and the time of the first solution."""

    assignment: IntArray | None = None
    cost: int | None = None
    bound: float | None = None
    first_s: float | None = None

    def offer(self, assignment: IntArray, cost: int, elapsed: float) -> None:
        """Keep the assignment if it is the cheapest so far."""
        if self.first_s is None:
            self.first_s = elapsed
        if self.cost is None or cost < self.cost:
            self.assignment, self.cost = assignment.copy(), cost

    def raise_bound(self, bound: float | None) -> None:
        """Keep the strongest lower bound."""
        if bound is not None and (self.bound is None or bound > self.bound):
            self.bound = bound

    @property
    def proven(self) -> bool:
        """True when the incumbent meets the bound."""
        return (
            self.cost is not None
            and self.bound is not None
            and self.cost <= math.ceil(self.bound - 1e-6)
        )


def solve_cpsat(
    instance: GapInstance,
    time_limit: float,
    seed: int = 0,
    workers: int = 2,
    hint: list[int] | None = None,
) -> GapResult:
    """Minimise cost within ``time_limit`` seconds on ``workers`` threads."""
    start = time.perf_counter()
    deadline = start + time_limit
    arrays = GapArrays.of(instance)
    best = _Best()
    lp = reduced_costs(arrays, time_limit=0.25 * time_limit)
    if lp is not None:
        # Costs are integers, so the LP value rounds up to a valid bound.
        best.raise_bound(math.ceil(lp.value - 1e-6))
    if hint is not None and is_feasible(instance, hint):
        given = np.asarray(hint, dtype=np.int64)
        best.offer(given, arrays.cost(given), time.perf_counter() - start)
    _heuristic_start(arrays, best, lp, start, deadline)
    m, n = arrays.costs.shape
    if m * n <= FULL_MODEL_MAX_PAIRS or best.assignment is None:
        share = FULL_MODEL_SHARE_SMALL if m * n <= SMALL_PAIRS else FULL_MODEL_SHARE
        if best.assignment is None:
            share = 1.0
        full_deadline = time.perf_counter() + share * (deadline - time.perf_counter())
        _full_model(arrays, best, start, full_deadline, seed, workers)
    if best.assignment is not None and not best.proven:
        reduced = (lp.reduced, lp.value) if lp is not None else None
        state = run_lns(
            arrays, best.assignment, deadline, seed, workers, reduced=reduced
        )
        best.offer(state.assignment, state.cost, time.perf_counter() - start)
        if state.proven:
            best.raise_bound(state.cost)
    return _result(best, time.perf_counter() - start)


def _heuristic_start(
    arrays: GapArrays,
    best: _Best,
    lp: LpRelaxation | None,
    start: float,
    deadline: float,
) -> None:
    """Greedy candidates (LP-guided first), each polished by local search."""
    criteria: list[np.ndarray] = []
    if lp is not None:
        # Reduced costs rank agents as the LP does; -x follows its rounding.
        criteria += [lp.reduced, -lp.x + 1e-6 * lp.reduced]
    criteria += desirabilities(arrays)
    budget = 0.05 * (deadline - time.perf_counter())
    for desirability in criteria:
        found = regret_greedy(arrays, np.asarray(desirability, dtype=np.float64))
        if found is None:
            continue
        polished = improve(arrays, found, budget / len(criteria))
        best.offer(polished, arrays.cost(polished), time.perf_counter() - start)


def _full_model(
    arrays: GapArrays,
    best: _Best,
    start: float,
    deadline: float,
    seed: int,
    workers: int,
) -> None:
    """The whole GAP in CP-SAT, hinted with the incumbent."""
    m, n = arrays.costs.shape
    sub = build_model(
        arrays,
        np.arange(m, dtype=np.int64),
        np.arange(n, dtype=np.int64),
        hint=best.assignment,
    )
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    if m * n <= SMALL_PAIRS:
        # Measured on gap1-gap12: one worker with the stronger linear
        # relaxation proves as fast as two (the second only runs LNS and
        # feasibility jumps there), and one worker is deterministic.
        solver.parameters.num_workers = 1
        solver.parameters.linearization_level = 2
    solver.parameters.random_seed = seed
    solver.parameters.max_time_in_seconds = max(deadline - time.perf_counter(), 0.01)
    status = solver.solve(sub.model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        base = best.assignment
        if base is None:
            base = np.zeros(n, dtype=np.int64)
        found = read_assignment(solver, sub, base)
        best.offer(found, arrays.cost(found), time.perf_counter() - start)
    if status == cp_model.OPTIMAL:
        best.raise_bound(solver.objective_value)
    elif status == cp_model.FEASIBLE:
        best.raise_bound(solver.best_objective_bound)


def _result(best: _Best, wall: float) -> GapResult:
    """Pack the incumbent as a GapResult."""
    if best.assignment is None or best.cost is None:
        return GapResult("cpsat", GapStatus.NO_SOLUTION, None, best.bound, wall, None)
    status = GapStatus.OPTIMAL if best.proven else GapStatus.FEASIBLE
    return GapResult(
        solver="cpsat",
        status=status,
        objective=best.cost,
        bound=best.bound,
        wall_s=wall,
        time_to_first_s=best.first_s,
        assignment=[int(agent) for agent in best.assignment],
    )
