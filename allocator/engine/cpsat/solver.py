"""Solve a problem with CP-SAT and return the outcome as data."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ortools.sat.python import cp_model

from allocator.engine.cpsat import AllocationModel
from allocator.engine.problem import Problem

SolveStatus = Literal["optimal", "feasible", "no_solution"]
StopReason = Literal["proof", "deterministic_time", "wall_clock", "interrupted", "none"]

# Deterministic time units per wall-clock second granted by default. On the
# project's 2-core machine eight interleaved workers spend about 0.2 to 0.45
# units a second, so a budget of 0.1 per second ends the search well before
# the wall clock does, and the answer is reproducible.
DETERMINISTIC_PER_SECOND = 0.1
# Called on every improving solution with (elapsed s, objective, bound).
ProgressCallback = Callable[[float, float, float], None]


@dataclass(frozen=True)
class SolveParams:
    """How long and how to search; the defaults suit a weekly run."""

    time_limit: float = 10.0
    seed: int = 0
    # CP-SAT subsolvers, interleaved deterministically when more than one
    # (same input and seed, same answer). None chooses by the problem: see
    # auto_workers.
    workers: int | None = None
    # The free-running parallel portfolio: faster on very large instances,
    # but its answer under a time limit depends on thread timing.
    portfolio: bool = False
    # CP-SAT's deterministic time budget; None = time_limit x
    # DETERMINISTIC_PER_SECOND. A search stopped by it (or by a proof) gives
    # the same answer on every run; one stopped by the wall clock may not.
    deterministic_time: float | None = None

    @property
    def budget(self) -> float:
        if self.deterministic_time is not None:
            return self.deterministic_time
        return self.time_limit * DETERMINISTIC_PER_SECOND

    # Extra CP-SAT parameters by name (from a --params TOML file).
    extra: dict[str, object] = field(default_factory=dict)


@dataclass
class Result:
    """What a solve produced; infeasible or timed out is a status, not an error."""

    status: SolveStatus
    objective: float
    bound: float
    wall_s: float
    build_s: float
    time_to_first_s: float | None
    allocation: list[int | None]  # advisor index per user, None = unassigned
    solver: str = "cpsat"
    log: list[tuple[float, float, float]] = field(default_factory=list)
    # What ended the search; reproducible unless "wall_clock".
    stopped_by: StopReason = "none"
    workers: int = 0

    @property
    def gap(self) -> float:
        """(objective - bound) / objective, 0 when the objective is 0."""
        if self.status == "no_solution":
            return float("nan")
        if abs(self.objective) < 1e-9:
            return 0.0
        return max(0.0, (self.objective - self.bound) / abs(self.objective))


class _Progress(cp_model.CpSolverSolutionCallback):
    """Records each improving solution and forwards it to the caller."""

    def __init__(
        self, model: AllocationModel, start: float, callback: ProgressCallback | None
    ) -> None:
        super().__init__()
        self.model = model
        self.start = start
        self.callback = callback
        self.log: list[tuple[float, float, float]] = []

    def on_solution_callback(self) -> None:
        self.record(
            self.model.to_objective(self.objective_value),
            self.model.to_objective(self.best_objective_bound),
        )

    def record(self, objective: float, bound: float) -> None:
        entry = (time.perf_counter() - self.start, objective, bound)
        self.log.append(entry)
        if self.callback is not None:
            self.callback(*entry)


def auto_workers(problem: Problem) -> int:
    """One worker for a weekly re-solve, eight interleaved for a wide search.

    When most users are settled with their current advisor only the
    arrivals are open, and one worker proves that small model fastest (1 s
    against 3 s for lillestrom's week). When most users are open (a first
    allocation, a new structure) eight interleaved workers found far better
    allocations in the same time than one (hallingdal: 4,089 against 11,312).
    """
    settled = sum(problem.groups[g].size for g in problem.pinned)
    return 1 if 2 * settled >= len(problem.instance.users) else 8


def solve(
    problem: Problem,
    params: SolveParams,
    hint: list[int | None] | None = None,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> Result:
    """Build the model, solve it and hand the groups' counts out to users.

    ``stop``, when given, ends the search as soon as it is set (from any
    thread); the best allocation found so far is returned with
    ``stopped_by="interrupted"``. CP-SAT's own Ctrl-C handler is then off,
    so the caller decides what an interrupt means.
    """
    start = time.perf_counter()
    model = AllocationModel(problem)
    if hint is not None:
        model.hint(hint)
    build_s = time.perf_counter() - start
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = params.time_limit
    if not params.portfolio:
        solver.parameters.max_deterministic_time = params.budget
    solver.parameters.random_seed = params.seed
    workers = params.workers or auto_workers(problem)
    solver.parameters.num_workers = workers
    solver.parameters.interleave_search = workers > 1 and not params.portfolio
    # Level 2 puts the capacity and at-most-one structure into the LP,
    # which is what closes the gap on the shipped instances.
    solver.parameters.linearization_level = 2
    for name, value in params.extra.items():
        setattr(solver.parameters, name, value)
    recorder = _Progress(model, start, progress)
    if stop is not None:
        solver.parameters.catch_sigint_signal = False
        code = _solve_until(solver, model, recorder, stop)
    else:
        code = solver.solve(model.model, recorder)
    wall_s = time.perf_counter() - start
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError(f"invalid CP-SAT model: {model.model.validate()}")
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Result(
            status="no_solution",
            objective=float("nan"),
            bound=float("nan"),
            wall_s=wall_s,
            build_s=build_s,
            time_to_first_s=None,
            allocation=[None] * len(problem.instance.users),
            log=recorder.log,
            stopped_by="interrupted" if stop is not None and stop.is_set() else "none",
        )
    if code == cp_model.OPTIMAL:
        stopped_by: StopReason = "proof"
    elif stop is not None and stop.is_set():
        stopped_by = "interrupted"
    elif (
        not params.portfolio
        and solver.response_proto.deterministic_time >= params.budget - 1e-9
    ):
        stopped_by = "deterministic_time"
    else:
        stopped_by = "wall_clock"
    objective = model.to_objective(solver.objective_value)
    bound = model.to_objective(solver.best_objective_bound)
    return Result(
        status="optimal" if code == cp_model.OPTIMAL else "feasible",
        objective=objective,
        bound=min(bound, objective),
        wall_s=wall_s,
        build_s=build_s,
        time_to_first_s=recorder.log[0][0] if recorder.log else wall_s,
        allocation=model.allocation(solver),
        log=recorder.log,
        stopped_by=stopped_by,
        workers=workers,
    )


def _solve_until(
    solver: cp_model.CpSolver,
    model: AllocationModel,
    recorder: _Progress,
    stop: threading.Event,
) -> Any:
    """``solver.solve`` with a watcher that stops the search once ``stop`` is set."""
    done = threading.Event()

    def watch() -> None:
        # Repeated, because a stop before the search has started is lost.
        while not done.wait(0.05):
            if stop.is_set():
                solver.stop_search()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        return solver.solve(model.model, recorder)
    finally:
        done.set()
        watcher.join()
