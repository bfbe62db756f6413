"""Solve a problem with CP-SAT and return the outcome as data."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from ortools.sat.python import cp_model

from allocator.engine.cpsat import AllocationModel
from allocator.engine.evaluate import objective as evaluate_objective
from allocator.engine.problem import Problem

SolveStatus = Literal["optimal", "feasible", "no_solution"]
# What ended the search. "proof", "deterministic_time" and "gap_limit" (the
# deterministic search reached its gap target, allocator.engine.search) are
# reproducible (same input and seed, same allocation); "wall_clock" (the
# time limit cut in) and "interrupted" are not.
StopReason = Literal[
    "proof", "deterministic_time", "gap_limit", "wall_clock", "interrupted", "none"
]
REPRODUCIBLE: frozenset[str] = frozenset({"proof", "deterministic_time", "gap_limit"})
# Worst first: how several searches' ends fold into one (the search's
# parts, a solve in parts): the worst of them.
STOP_ORDER: tuple[StopReason, ...] = (
    "interrupted", "wall_clock", "deterministic_time", "gap_limit", "proof", "none"
)  # fmt: skip
# Where the written allocation came from: the search's best, or the greedy
# hint when the search did not beat it (see solve: never worse than greedy).
Source = Literal["search", "hint"]

# A gap above this is reported as a warning.
GAP_TARGET = 0.01

# The whole-model search's deterministic budget per second of the time
# limit when none is given (the default search, allocator.engine.search,
# sizes its own from the problem instead).
DETERMINISTIC_PER_SECOND = 0.1
# Called on every improving solution with (elapsed s, objective, bound).
ProgressCallback = Callable[[float, float, float], None]


@dataclass(frozen=True)
class SolveParams:
    """How long and how to search; the defaults suit a weekly run."""

    time_limit: float = 10.0
    seed: int = 0
    # CP-SAT subsolvers of the interleaved round (and of the whole-model
    # search), deterministic when more than one (same input and seed, same
    # answer). None: 8 in the default search, auto_workers in the whole one.
    workers: int | None = None
    # The free-running parallel portfolio: faster on very large instances,
    # but its answer under a time limit depends on thread timing.
    portfolio: bool = False
    # CP-SAT's deterministic time budget for the whole search; None = sized
    # from the time limit (allocator.engine.search.budget_for). A search
    # stopped by it (or by a proof) gives the same answer on every run; one
    # stopped by the wall clock may not.
    deterministic_time: float | None = None
    # Settle ties among equal optima by the documented tie-break
    # (engine/search.py, settle_ties). Off only for a solve whose
    # allocation is never written (the weekly move rule's second step).
    settle_ties: bool = True

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
    # What ended the search; reproducible when in REPRODUCIBLE.
    stopped_by: StopReason = "none"
    workers: int = 0
    source: Source = "search"
    # CP-SAT deterministic time spent (one entry per search).
    deterministic: list[float] = field(default_factory=list)
    # The deterministic-time budget the search was given (None: the clock).
    budget: float | None = None
    # Every part's allocation is the documented one among its optima
    # (engine/search.py, settle_ties): the same for every seed.
    canonical: bool = False

    @property
    def reproducible(self) -> bool:
        """Whether the same input, seed and machine give the same allocation."""
        return self.stopped_by in REPRODUCIBLE

    @property
    def gap(self) -> float:
        """(objective - bound) / objective, 0 when the objective is 0."""
        if self.status == "no_solution":
            return float("nan")
        if abs(self.objective) < 1e-9:
            return 0.0
        return max(0.0, (self.objective - self.bound) / abs(self.objective))


class _Progress(cp_model.CpSolverSolutionCallback):
    """Records each improving solution and forwards it to the progress line."""

    def __init__(
        self,
        model: AllocationModel,
        start: float,
        callback: ProgressCallback | None,
        log: list[tuple[float, float, float]],
    ) -> None:
        super().__init__()
        self.model = model
        self.start = start
        self.callback = callback
        self.log = log

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


def gap_of(objective: float, bound: float) -> float:
    """(objective - bound) / objective, 0 when the objective is 0."""
    if abs(objective) < 1e-9:
        return 0.0
    return max(0.0, (objective - bound) / abs(objective))


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


def configure(
    params: SolveParams,
    *,
    workers: int,
    time_limit: float,
    budget: float | None,
    interleave: bool,
    gap_target: float | None = None,
) -> cp_model.CpSolver:
    """A CP-SAT solver with the project's parameters (README: the search).

    ``budget`` caps deterministic time (None: only the wall clock);
    ``interleave`` makes several workers deterministic.
    """
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = max(0.01, time_limit)
    if budget is not None:
        p.max_deterministic_time = budget
    if gap_target is not None:
        p.relative_gap_limit = gap_target
    p.random_seed = params.seed
    p.num_workers = workers
    p.interleave_search = interleave and workers > 1
    # Level 2 puts the capacity and at-most-one structure into the LP,
    # which is what closes the gap on the shipped instances.
    p.linearization_level = 2
    for name, value in params.extra.items():
        setattr(p, name, value)
    return solver


@contextmanager
def interruptible(
    solver: cp_model.CpSolver, stop: threading.Event | None
) -> Iterator[None]:
    """Stops ``solver`` as soon as ``stop`` is set (e.g. by Ctrl-C).

    CP-SAT's own Ctrl-C handler is then off, so the caller decides what an
    interrupt means.
    """
    if stop is None:
        yield
        return
    solver.parameters.catch_sigint_signal = False
    done = threading.Event()

    def watch() -> None:
        # Repeated, because a stop before the search has started is lost.
        while not done.wait(0.05):
            if stop.is_set():
                solver.stop_search()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


@dataclass
class _Phase:
    """One CP-SAT call: its status, figures and complete solution."""

    code: cp_model.CpSolverStatus
    objective: float
    bound: float
    deterministic: float
    values: list[int] | None

    @property
    def proven(self) -> bool:
        """Optimal with bound = objective; CP-SAT also says OPTIMAL at a gap limit."""
        return (
            self.code == cp_model.OPTIMAL
            and self.values is not None
            and self.objective - self.bound < 5e-3
        )


def run_phase(
    model: AllocationModel,
    solver: cp_model.CpSolver,
    recorder: _Progress,
    stop: threading.Event | None,
) -> _Phase:
    """Solve once; raise only for an invalid model."""
    with interruptible(solver, stop):
        code = solver.solve(model.model, recorder)
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError(f"invalid CP-SAT model: {model.model.validate()}")
    response = solver.response_proto
    found = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return _Phase(
        code=code,
        objective=model.to_objective(solver.objective_value) if found else float("nan"),
        bound=model.to_objective(solver.best_objective_bound)
        if found
        else float("-inf"),
        deterministic=response.deterministic_time,
        values=list(response.solution) if found else None,
    )


def solve(
    problem: Problem,
    params: SolveParams,
    hint: Sequence[int | None] | None = None,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> Result:
    """The whole problem as one CP-SAT model: ``--portfolio``, and the reference.

    The default search (``allocator.engine.search``) solves the problem's
    parts instead; this one model is what ``--portfolio`` runs (CP-SAT's
    free parallel portfolio on the wall clock, not reproducible under a time
    limit) and what the tests compare the parts with. Without
    ``params.portfolio`` the workers are interleaved and the search ends by
    proof, by ``params.budget`` or by the time limit.

    The written allocation is never worse than ``hint`` on the tool's own
    objective (``evaluate.objective``): when the search did not beat it,
    the hint is returned with the search's bound (``source == "hint"``).
    Setting ``stop`` ends the search early with the best found so far.
    """
    start = time.perf_counter()
    model = AllocationModel(problem)
    if hint is not None:
        model.hint(hint)
    build_s = time.perf_counter() - start
    workers = params.workers or auto_workers(problem)
    log: list[tuple[float, float, float]] = []
    deterministic = not params.portfolio
    first_limit = params.time_limit
    first = run_phase(
        model,
        configure(
            params,
            workers=workers,
            time_limit=first_limit - build_s,
            budget=params.budget if deterministic else None,
            interleave=deterministic,
        ),
        _Progress(model, start, progress, log),
        stop,
    )
    phases = [first]
    stopped_by = first_stop(first, params, stop)
    wall_s = time.perf_counter() - start
    return best_of(model, phases, hint, log, stopped_by, wall_s, build_s, workers)


def first_stop(
    phase: _Phase, params: SolveParams, stop: threading.Event | None
) -> StopReason:
    """What ended the first phase."""
    if phase.proven:
        return "proof"
    if phase.code == cp_model.INFEASIBLE:
        return "proof"
    if stop is not None and stop.is_set():
        return "interrupted"
    if not params.portfolio and phase.deterministic >= params.budget - 1e-9:
        return "deterministic_time"
    return "wall_clock"


def best_of(
    model: AllocationModel,
    phases: list[_Phase],
    hint: Sequence[int | None] | None,
    log: list[tuple[float, float, float]],
    stopped_by: StopReason,
    wall_s: float,
    build_s: float,
    workers: int,
) -> Result:
    """The better of the search's best and the hint, on evaluate's objective.

    The search's best is the phase with the lowest model objective (a second
    phase starts from the first's solution, so it is rarely worse). The
    bound is the best any phase proved; the status is optimal when the
    chosen allocation meets it.
    """
    problem = model.problem
    bound = max(p.bound for p in phases)
    deterministic = [p.deterministic for p in phases]
    found = [p for p in phases if p.values is not None]
    if not found:
        # A search without a solution is reported as such; the caller
        # falls back to the greedy baseline.
        return Result(
            status="no_solution",
            objective=float("nan"),
            bound=float("nan"),
            wall_s=wall_s,
            build_s=build_s,
            time_to_first_s=None,
            allocation=[None] * len(problem.instance.users),
            log=log,
            stopped_by=stopped_by,
            workers=workers,
            deterministic=deterministic,
        )
    best = min(found, key=lambda p: p.objective)
    assert best.values is not None
    allocation: list[int | None] = model.allocation(best.values)
    value = evaluate_objective(problem, allocation)
    source: Source = "search"
    if hint is not None:
        hinted = evaluate_objective(problem, hint)
        # Ties go to the search: its value is the model's own.
        if hinted < value:
            allocation, value, source = list(hint), hinted, "hint"
    bound = min(bound, value)
    return Result(
        status="optimal" if value - bound < 5e-3 else "feasible",
        objective=value,
        bound=bound,
        wall_s=wall_s,
        build_s=build_s,
        time_to_first_s=log[0][0] if log else wall_s,
        allocation=allocation,
        log=log,
        stopped_by=stopped_by,
        workers=workers,
        source=source,
        deterministic=deterministic,
    )
