"""One solve from instance to written folder: the steps the CLI chains."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allocator.analysis.capacity import shortages
from allocator.analysis.changes import change_counts, change_rows
from allocator.analysis.reasons import explain_all
from allocator.analysis.report import Report, build_report
from allocator.domain import Instance, Lock
from allocator.engine.cpsat.solver import ProgressCallback, SolveParams, solve
from allocator.engine.greedy import solve_greedy
from allocator.engine.problem import build_problem
from allocator.io.previous import Previous, apply_previous, read_previous
from allocator.io.write import (
    check_target,
)
from allocator.render.text import ProgressLine
from allocator.solution import Solution


@dataclass
class RunOptions:
    """Everything a solve run can be asked for on the command line."""

    out: Path | None = None
    time_limit: float | None = None
    seed: int | None = None
    workers: int | None = None
    portfolio: bool = False
    deterministic_time: float | None = None
    solver: str = "cpsat"
    cli_locks: list[Lock] = field(default_factory=list)
    previous: Path | None = None
    rebalance: bool = False
    max_moves: int | None = None
    xlsx: bool = False
    progress: bool = False
    cpsat: dict[str, object] = field(default_factory=dict)
    # Called with (elapsed s, objective, bound) on every improving solution.
    on_progress: ProgressCallback | None = None


@dataclass
class Outcome:
    """A written solve: the folder and the solution in it."""

    folder: Path
    solution: Solution

    @property
    def report(self) -> Report:
        return self.solution.report

    @property
    def changes(self) -> list[dict[str, Any]]:
        return self.solution.changes


def run_solve(instance: Instance, options: RunOptions) -> Outcome:
    """Solve ``instance`` and write its solution folder (the CLI's ``solve``)."""
    folder = options.out if options.out is not None else default_run_folder(instance)
    check_target(folder)
    solution = solve_instance(instance, options)
    solution.write(folder, xlsx=options.xlsx)
    return Outcome(folder=folder, solution=solution)


def solve_instance(instance: Instance, options: RunOptions) -> Solution:
    """Solve ``instance`` and return the :class:`Solution`; writes nothing.

    ``options.out`` and ``options.xlsx`` are ignored here (see ``run_solve``).
    Raises ``InstanceError``/``SolutionError`` for a bad ``--previous``.
    """
    params = SolveParams(
        time_limit=options.time_limit
        if options.time_limit is not None
        else instance.policy.time_limit_s,
        seed=options.seed if options.seed is not None else instance.policy.seed,
        workers=options.workers,
        portfolio=options.portfolio,
        deterministic_time=options.deterministic_time,
        extra=options.cpsat,
    )
    start = time.perf_counter()
    previous: Previous | None = None
    if options.previous is not None:
        previous = read_previous(options.previous)
        instance = apply_previous(instance, previous)
    problem = build_problem(
        instance, rebalance=options.rebalance, max_moves=options.max_moves
    )
    greedy = solve_greedy(problem)
    if options.solver == "greedy":
        result = greedy
    else:
        line = ProgressLine() if options.progress else None
        result = solve(
            problem,
            params,
            hint=greedy.allocation,
            progress=progress_callback(line, options.on_progress),
        )
        if line:
            line.close()
        if result.status == "no_solution":
            # The baseline obeys every hard rule, so a leader always gets an
            # allocation, marked as the greedy one in summary.json.
            result = greedy
    result.wall_s = time.perf_counter() - start
    reasons = explain_all(problem, result.allocation)
    extra: dict[str, Any] = {
        "seed": params.seed,
        "time_limit_s": params.time_limit,
        "workers": result.workers,
        "portfolio": params.portfolio,
        "deterministic_time": None if params.portfolio else params.budget,
        # What ended the search: "proof" or "deterministic_time" give the
        # same answer on every run, "wall_clock" may not.
        "stopped_by": result.stopped_by,
        "rebalance": options.rebalance,
        "previous": str(options.previous) if options.previous else None,
        "greedy_objective": greedy.objective,
        "cli_locks": [
            {"user": lock.user, "advisor": lock.advisor, "kind": lock.kind}
            for lock in options.cli_locks
        ],
    }
    report = build_report(problem, result, reasons, extra)
    add_since(problem.reference_date, instance, report)
    changes = change_rows(instance, report.assignments, previous)
    report.summary["changes"] = change_counts(changes)
    report.summary["shortages"] = shortages(problem, result.allocation)
    return Solution(
        instance=instance,
        problem=problem,
        result=result,
        report=report,
        changes=changes,
    )


def progress_callback(
    line: ProgressLine | None, on_progress: ProgressCallback | None
) -> ProgressCallback | None:
    """The terminal line and the caller's callback, both fed each improvement."""
    callbacks = [c for c in (line.update if line else None, on_progress) if c]
    if not callbacks:
        return None

    def forward(elapsed: float, objective: float, bound: float) -> None:
        for callback in callbacks:
            callback(elapsed, objective, bound)

    return forward


def add_since(reference: dt.date, instance: Instance, report: Report) -> None:
    """An optional ``since`` column: when the user got this advisor.

    A user who keeps the advisor keeps the date; a new pairing starts at the
    week's Monday. Next week's run reads it back for rotation (R13).
    """
    for user, row in zip(instance.users, report.assignments, strict=True):
        if not row["advisor"]:
            row["since"] = None
        elif row["advisor"] == user.current_advisor:
            row["since"] = user.since.isoformat() if user.since else None
        else:
            row["since"] = reference.isoformat()


def default_run_folder(instance: Instance) -> Path:
    """solutions/<name>/run-<UTC timestamp>: a fresh folder per run."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return Path("solutions") / instance.name / f"run-{stamp}"
