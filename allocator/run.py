"""One solve from instance to written folder: the steps the CLI chains."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from allocator.analysis.capacity import shortages
from allocator.analysis.changes import change_counts, change_rows
from allocator.analysis.leader import leader_facts
from allocator.analysis.reasons import explain_all, wait_causes
from allocator.analysis.report import Report, build_report
from allocator.domain import Instance, Lock
from allocator.engine.cpsat.solver import GAP_TARGET, Result, SolveParams
from allocator.engine.greedy import first_solution, solve_greedy
from allocator.engine.limits import (
    DETERMINISTIC_MAX,
    DETERMINISTIC_MIN,
    SEED_MAX,
    SEED_MIN,
    TIME_LIMIT_MAX,
    TIME_LIMIT_MIN,
    WORKERS_MAX,
)
from allocator.engine.placement import solve_placing_first
from allocator.engine.problem import Problem, build_problem
from allocator.errors import InputProblem, InstanceError
from allocator.io.allocation_xlsx import with_workbook_locks
from allocator.io.names import is_plain_name
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
    # Refuse a previous plan that lacks users who are not new (rows deleted).
    strict_previous: bool = False
    rebalance: bool = False
    max_moves: int | None = None
    xlsx: bool = True
    progress: bool = False
    cpsat: dict[str, object] = field(default_factory=dict)
    # Ctrl-C during the search stops it and keeps the best allocation so far
    # (the command line's solve); only in the main thread, where signals go.
    interruptible: bool = False
    # Told, once, that an interrupt stopped the search (the CLI prints it).
    on_interrupt: Callable[[], None] | None = None
    # Told when the search has its first allocation (the CLI prints a line).
    on_searching: Callable[[float], None] | None = None
    # Told (elapsed s, objective, bound) on every improving solution.
    on_progress: Callable[[float, float, float], None] | None = None
    # Set from any thread, ends the search keeping the best allocation so
    # far (stopped_by "interrupted"), as the first Ctrl-C does.
    stop: threading.Event | None = None


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
    Raises ``InstanceError``/``SolutionError`` for a bad ``--previous`` or a
    policy seed or time limit CP-SAT cannot take, ``ValueError`` for such an
    option, and ``KeyboardInterrupt`` when the run was interrupted before
    the search or twice (see :func:`interruptible_search`).
    """
    params = search_params(instance, options)
    start = time.perf_counter()
    instance, previous = weekly_instance(
        instance, options.previous, options.strict_previous
    )
    problem = build_problem(
        instance, rebalance=options.rebalance, max_moves=options.max_moves
    )
    greedy = solve_greedy(problem)
    if options.solver == "greedy":
        result = greedy
    else:
        # The weekly move rule: a settled user moves only to place a
        # waiting one (see allocator.engine.placement). The hint is the
        # better of the baseline and the compact greedy.
        hint = first_solution(problem, greedy).allocation
        problem, result = search(problem, params, hint, options)
        if result.status == "no_solution":
            # The baseline obeys every hard rule, so a leader always gets an
            # allocation, marked as the greedy one in summary.json; what
            # ended the search is still the search's.
            result = dataclasses.replace(
                greedy,
                stopped_by=result.stopped_by,
                workers=result.workers,
                deterministic=result.deterministic,
            )
    result.wall_s = time.perf_counter() - start
    reasons = explain_all(problem, result.allocation)
    extra: dict[str, Any] = {
        "seed": params.seed,
        "time_limit_s": params.time_limit,
        "workers": result.workers,
        "portfolio": params.portfolio,
        # The search's deterministic-time budget, sized from the problem
        # (None for --portfolio, which runs on the clock).
        "deterministic_time": None if params.portfolio else result.budget,
        # What ended the search: "proof" or "deterministic_time" give the
        # same answer on every run; "gap_limit", "wall_clock" may not.
        "stopped_by": result.stopped_by,
        "reproducible": result.reproducible,
        # Every part proved and its ties settled by the documented
        # tie-break: the same allocation for every seed.
        "canonical": result.canonical,
        "deterministic_time_spent": [round(d, 3) for d in result.deterministic],
        # "hint" when the greedy baseline was better than the search's best.
        "allocation_from": result.source,
        "gap_warning": gap_warning(result, searched=options.solver != "greedy"),
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
    # Why each unassigned user waits: worked out once for both.
    causes = wait_causes(problem, result.allocation)
    report.summary["shortages"] = shortages(problem, result.allocation, causes)
    report.summary["leader"] = leader_facts(problem, result.allocation, causes)
    if previous is not None and previous.note:
        report.summary["previous_read"] = previous.note
    return Solution(
        instance=instance,
        problem=problem,
        result=result,
        report=report,
        changes=changes,
    )


def weekly_instance(
    instance: Instance, previous_path: Path | None, strict: bool = False
) -> tuple[Instance, Previous | None]:
    """The instance with last week's plan applied, as the search sees it.

    Reads the plan (a solution folder or an edited allocation.xlsx), makes
    its advisors the current ones (``io.previous.plan_current``) and adds
    the locks typed into the workbook; without a plan, the instance as is.

    Raises:
        InstanceError: the plan cannot be read, its locks do not fit this
            week, or (``strict``) it lacks users who are not new.
    """
    if previous_path is None:
        return instance, None
    previous = read_previous(previous_path)
    instance = apply_previous(instance, previous, strict)
    return with_workbook_locks(instance, previous), previous


def gap_warning(result: Result, searched: bool) -> str | None:
    """A warning when the figures may be far from the best possible.

    Above GAP_TARGET (1 %) the objective may be that far from optimal, so
    comparisons between runs reflect the search as much as the structure.
    ``searched`` is False for ``--solver greedy``, which claims no bound.
    """
    if not searched:
        return None
    if not math.isfinite(result.bound) or not math.isfinite(result.gap):
        return (
            "the search found no solution in time and proved no bound: this is "
            "the greedy baseline; more time (--time-limit) would help"
        )
    if result.gap > GAP_TARGET:
        how = (
            "a larger --time-limit, whose work budget grows with it, or "
            "--deterministic-time"
            if result.stopped_by == "deterministic_time"
            else "--time-limit"
        )
        return (
            f"the gap is {result.gap:.1%}: the allocation may be up to that far "
            f"from the best possible; more time ({how}) would help"
        )
    return None


def search_params(instance: Instance, options: RunOptions) -> SolveParams:
    """The search's limits, from the options or else the policy, checked.

    CP-SAT takes a 32-bit seed and finite limits; a value it cannot take is
    an error here rather than a traceback from inside the solver. The
    command line checks its options before this (usage errors); the policy's
    values come from the reader and are checked again because a wrong one
    costs a whole run.

    Raises:
        ValueError: an option out of range (``--seed 2147483648``).
        InstanceError: a policy value out of range, named by its key.
    """
    policy = instance.policy
    time_limit = options.time_limit
    seed = options.seed
    for option, value, low, high in (
        ("--time-limit", time_limit, TIME_LIMIT_MIN, TIME_LIMIT_MAX),
        ("--seed", seed, SEED_MIN, SEED_MAX),
        ("--workers", options.workers, 1, WORKERS_MAX),
        ("--deterministic-time", options.deterministic_time,
         DETERMINISTIC_MIN, DETERMINISTIC_MAX),
    ):  # fmt: skip
        if value is not None and not _within(value, low, high):
            raise ValueError(
                f"{option} must be from {_number(low)} to {_number(high)}, "
                f"found {value}"
            )
    problems = []
    if time_limit is None:
        time_limit = policy.time_limit_s
        if not _within(time_limit, TIME_LIMIT_MIN, TIME_LIMIT_MAX):
            problems.append(
                _policy_problem("time_limit_s", TIME_LIMIT_MIN, TIME_LIMIT_MAX)
            )
    if seed is None:
        seed = policy.seed
        if not _within(seed, SEED_MIN, SEED_MAX):
            problems.append(_policy_problem("seed", SEED_MIN, SEED_MAX))
    if problems:
        raise InstanceError(problems)
    return SolveParams(
        time_limit=float(time_limit),
        seed=int(seed),
        workers=options.workers,
        portfolio=options.portfolio,
        deterministic_time=options.deterministic_time,
        extra=options.cpsat,
    )


def _within(value: float, low: float, high: float) -> bool:
    return math.isfinite(value) and low <= value <= high


def _policy_problem(key: str, low: float, high: float) -> InputProblem:
    return InputProblem(
        "instance.toml",
        None,
        f"policy.{key}",
        f"must be from {_number(low)} to {_number(high)}, the range CP-SAT takes.",
    )


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,g}"


def search(
    problem: Problem,
    params: SolveParams,
    hint: list[int | None],
    options: RunOptions,
) -> tuple[Problem, Result]:
    """The CP-SAT search with the progress line, interruptible when asked.

    Runs the weekly move rule (``solve_placing_first``), so it returns the
    problem solved last (its ``freed`` groups explain moves) with the result.
    """
    line = ProgressLine() if options.progress else None
    notify = options.on_searching
    told = False

    def progress(elapsed: float, objective: float, bound: float) -> None:
        nonlocal told
        if line is not None:
            line.update(elapsed, objective, bound)
        if notify is not None and not told:
            told = True
            notify(elapsed)
        if options.on_progress is not None:
            options.on_progress(elapsed, objective, bound)

    wanted = line is not None or notify is not None or options.on_progress is not None
    try:
        if options.interruptible and (
            threading.current_thread() is threading.main_thread()
        ):
            box: list[Problem] = [problem]

            def run(stop: threading.Event) -> Result:
                box[0], result = solve_placing_first(
                    problem,
                    params,
                    hint=hint,
                    progress=progress if wanted else None,
                    stop=stop,
                )
                return result

            result = interruptible_search(run, options.on_interrupt)
            return box[0], result
        return solve_placing_first(
            problem,
            params,
            hint=hint,
            progress=progress if wanted else None,
            stop=options.stop,
        )
    finally:
        if line:
            line.close()


def interruptible_search(
    run: Callable[[threading.Event], Result],
    on_interrupt: Callable[[], None] | None = None,
) -> Result:
    """Run a search in a worker thread; Ctrl-C (SIGINT) decides how it ends.

    - The first Ctrl-C during the search stops it: the result is the best
      allocation found so far, with ``stopped_by="interrupted"``.
    - A first Ctrl-C while the model is still being built, or a second
      Ctrl-C at any time, raises ``KeyboardInterrupt`` once the search has
      stopped: the caller writes nothing.

    Must be called from the main thread (Python delivers signals there);
    the earlier SIGINT handler is restored before returning, so a Ctrl-C
    while the result is written aborts the write (write_folder leaves the
    folder as it was).
    """
    stop = threading.Event()
    # Set by the worker as its last step. Waiting on an Event, not on
    # Thread.join: a join that an exception interrupts may take a running
    # thread for ended, and the process would then exit under CP-SAT's feet.
    finished = threading.Event()
    box: dict[str, Any] = {}
    presses: list[float] = []

    def work() -> None:
        try:
            box["result"] = run(stop)
        except BaseException as error:  # handed to the main thread
            box["error"] = error
        finally:
            finished.set()

    def on_sigint(_signum: int, _frame: FrameType | None) -> None:
        presses.append(time.perf_counter())
        stop.set()
        if len(presses) == 2:
            raise KeyboardInterrupt
        if len(presses) == 1 and on_interrupt is not None:
            on_interrupt()
        # A third press changes nothing: the abort is already under way.

    worker = threading.Thread(target=work, name="cp-sat search", daemon=True)
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        started = time.perf_counter()
        worker.start()
        try:
            while not finished.wait(0.1):
                pass
        except KeyboardInterrupt:
            # The second Ctrl-C: let the search stop, then abort unwritten.
            stop.set()
            finished.wait()
            raise
    finally:
        signal.signal(signal.SIGINT, previous)
    if "error" in box:
        raise box["error"]
    result: Result = box["result"]
    if presses and presses[0] - started < result.build_s:
        # Interrupted while the model was being built: no search, no write.
        raise KeyboardInterrupt
    return result


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
    """solutions/<name>/run-<UTC timestamp>: a fresh folder per run.

    The reader accepts only a plain name; a name built in code that is not
    one (a path, a leading dot) is reduced to its safe characters, so the
    folder always stays under solutions/.
    """
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = instance.name
    if not is_plain_name(name):
        name = re.sub(r"[^\w\-]+", "_", name).strip("._") or "instance"
    return Path("solutions") / name / f"run-{stamp}"
