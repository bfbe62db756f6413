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
# What ended the search. "proof" and "deterministic_time" are reproducible
# (same input, seed and machine, same allocation); "gap_limit" (the second,
# wall-clock phase reached GAP_TARGET), "wall_clock" and "interrupted" are not.
StopReason = Literal[
    "proof", "deterministic_time", "gap_limit", "wall_clock", "interrupted", "none"
]
REPRODUCIBLE: frozenset[str] = frozenset({"proof", "deterministic_time"})
# Where the written allocation came from: the search's best, or the greedy
# hint when the search did not beat it (see solve: never worse than greedy).
Source = Literal["search", "hint"]

# A gap above this is reported as a warning, and is what the second phase
# of the default search works to close.
GAP_TARGET = 0.01
# A second phase shorter than this would spend its time on presolve alone.
MIN_SECOND_PHASE_S = 0.5
# The share of the time limit the first (reproducible) phase may take on the
# wall clock when a second phase may follow.
FIRST_PHASE_SHARE = 0.5

# Deterministic time units per wall-clock second granted by default. On the
# project's idle 2-core machine eight interleaved workers spend about 0.2 to
# 0.45 units a second, so the budget ends the first phase before its share
# of the wall clock and the answer is reproducible; under heavy load (a
# fraction of a core) they spend 0.02 to 0.1 a second and the share of the
# wall clock ends it instead (stopped_by says which).
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
    # DETERMINISTIC_PER_SECOND, followed by a wall-clock phase while the gap
    # is above GAP_TARGET (see solve). A budget given here has no second
    # phase. A search stopped by it (or by a proof) gives the same answer
    # on every run; one stopped by the wall clock may not.
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
    # What ended the search; reproducible when in REPRODUCIBLE.
    stopped_by: StopReason = "none"
    workers: int = 0
    source: Source = "search"
    # CP-SAT deterministic time spent, per phase (1 or 2 entries).
    deterministic: list[float] = field(default_factory=list)

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
    """Records each improving solution, forwards it, and stops at the gap target.

    ``bound_floor`` is the best bound proved by an earlier phase: the gap a
    second phase aims at is measured against the better of the two bounds.
    """

    def __init__(
        self,
        model: AllocationModel,
        start: float,
        callback: ProgressCallback | None,
        log: list[tuple[float, float, float]],
        *,
        bound_floor: float = float("-inf"),
        gap_target: float | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.start = start
        self.callback = callback
        self.log = log
        self.bound_floor = bound_floor
        self.gap_target = gap_target
        self.seen = 0

    def on_solution_callback(self) -> None:
        objective = self.model.to_objective(self.objective_value)
        bound = max(
            self.bound_floor, self.model.to_objective(self.best_objective_bound)
        )
        self.record(objective, bound)
        self.seen += 1
        # Never on a phase's first solution: that is the hint, loaded during
        # presolve, and CP-SAT 9.15 aborts (a failed check in postsolve) when
        # stopped at that moment. CP-SAT's own relative_gap_limit covers it.
        if (
            self.gap_target is not None
            and self.seen > 1
            and gap_of(objective, bound) <= self.gap_target
        ):
            self.stop_search()

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


def second_phase_workers(problem: Problem, params: SolveParams) -> int:
    """Workers of the wall-clock phase: CP-SAT's free portfolio.

    Its answer depends on thread timing anyway, so the free portfolio (with
    its large-neighbourhood search) is used rather than the interleaved one.
    On a weekly re-solve (few open users) two workers, one per core; when
    most users are open, eight as CP-SAT's own default portfolio.
    """
    if params.workers is not None:
        return max(2, params.workers)
    return 2 if auto_workers(problem) == 1 else 8


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
    """Build the model, search, and hand the groups' counts out to users.

    The stopping rule (README: the search): a first phase runs the
    interleaved (reproducible) search until proof, the deterministic budget
    or ``FIRST_PHASE_SHARE`` of the time limit. When it ends with a gap
    above ``GAP_TARGET`` and at least ``MIN_SECOND_PHASE_S`` of the time
    limit is left, and no budget was given explicitly, a second phase continues
    from its best solution on the wall clock, with CP-SAT's free
    portfolio, until the gap (against the better bound of both phases) is
    at most ``GAP_TARGET``, a proof, or the time limit. ``--portfolio``
    runs the free portfolio for the whole time.

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
    # Two phases by default: the reproducible one may use at most
    # FIRST_PHASE_SHARE of the wall clock, so a model too large for its
    # budget (a region) still gets the portfolio's time.
    two_phases = deterministic and params.deterministic_time is None
    first_limit = params.time_limit * (FIRST_PHASE_SHARE if two_phases else 1.0)
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
    remaining = params.time_limit - (time.perf_counter() - start)
    gap = gap_of(first.objective, first.bound) if first.values else 1.0
    if (
        two_phases
        and stopped_by in ("deterministic_time", "wall_clock")
        and gap > GAP_TARGET
        and remaining >= MIN_SECOND_PHASE_S
    ):
        if first.values is not None and (
            hint is None
            or evaluate_objective(problem, model.allocation(first.values))
            <= evaluate_objective(problem, hint)
        ):
            # The first phase's complete solution: CP-SAT starts from it.
            # (One worker does not always keep the hint as its incumbent, so
            # the first phase's best can be worse than the hint; then the
            # hint stays.)
            model.model.clear_hints()
            model.model.proto.solution_hint.vars.extend(list(range(len(first.values))))
            model.model.proto.solution_hint.values.extend(first.values)
        second = run_phase(
            model,
            configure(
                params,
                workers=second_phase_workers(problem, params),
                time_limit=remaining,
                budget=None,
                interleave=False,
                gap_target=GAP_TARGET,
            ),
            _Progress(
                model,
                start,
                progress,
                log,
                bound_floor=first.bound,
                gap_target=GAP_TARGET,
            ),
            stop,
        )
        phases.append(second)
        stopped_by = second_stop(second, first, stop)
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


def second_stop(
    phase: _Phase, first: _Phase, stop: threading.Event | None
) -> StopReason:
    """What ended the second (wall-clock) phase."""
    if phase.proven:
        return "proof"
    if stop is not None and stop.is_set():
        return "interrupted"
    objective = min(
        (p.objective for p in (first, phase) if p.values is not None),
        default=float("nan"),
    )
    bound = max(first.bound, phase.bound)
    if objective == objective and gap_of(objective, bound) <= GAP_TARGET:
        return "gap_limit"
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
