"""The public verbs for Python users, notebooks and the command line.

Each verb is one call into the rooms below; nothing here writes a file
unless asked (``Solution.write``, ``Comparison.write``) or named for it
(``write_instance``, ``generate``, ``report``). The command line calls
these and nothing else, so a notebook and ``allocator solve`` cannot
disagree about what a solve is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from allocator.compare import compare as compare
from allocator.compare import compare_structures as compare_structures
from allocator.domain import Instance, Lock
from allocator.engine import limits as limits

# Loaded here, before the root binds the verb ``generate`` below: a first
# import of the module inside the verb would rebind ``allocator.generate``
# to the module.
from allocator.generate import Shape
from allocator.generate import generate as _generate_region
from allocator.run import RunOptions, search_params, solve_instance
from allocator.runs.executor import Executor
from allocator.runs.executor import make_executor as make_executor
from allocator.solution import Solution


def read_instance(
    path: str | Path,
    locks: Sequence[Lock] = (),
    *,
    scenario: str | Path | None = None,
) -> Instance:
    """Read an instance folder (FORMAT.md sections 1 to 4).

    Args:
        path: the folder holding instance.toml and the tables (CSV or xlsx).
        locks: extra fix/forbid locks, as ``--fix``/``--forbid`` give them.
        scenario: a scenario file, or the id of one in ``path/scenarios/``,
            applied after reading (``--scenario``; FORMAT.md section 6).

    Returns:
        The validated :class:`~allocator.domain.Instance`.

    Raises:
        InstanceError: the input was rejected; ``.problems`` lists every
            problem with its file, row and column.
    """
    from allocator.io.read import read_instance as _read

    instance = _read(Path(path), extra_locks=locks)
    if scenario is None:
        return instance
    from allocator.scenario import apply_scenario, find_scenario

    return apply_scenario(instance, find_scenario(Path(path), scenario))


def solve(
    instance: Instance,
    *,
    time_limit: float | None = None,
    seed: int | None = None,
    previous: str | Path | None = None,
    workers: int | None = None,
    rebalance: bool = False,
    max_moves: int | None = None,
    solver: str = "cpsat",
    deterministic_time: float | None = None,
    portfolio: bool = False,
    progress: Callable[[float, float, float], None] | None = None,
    stop: threading.Event | None = None,
    strict_previous: bool = False,
    locks: Sequence[Lock] = (),
    interruptible: bool = False,
    on_interrupt: Callable[[], None] | None = None,
    progress_line: bool = False,
) -> Solution:
    """Allocate every user of ``instance``; returns a :class:`Solution`.

    Args:
        instance: from :func:`read_instance` (or a scenario of one).
        time_limit: seconds of wall time; default the policy's ``time_limit_s``.
        seed: the search's random seed; default the policy's ``seed``.
        previous: last week's solution folder or allocation file, for a
            weekly run with minimal churn.
        workers: CP-SAT workers; default chosen by the problem.
        rebalance: allow moves for balance and travel (``--rebalance``).
        max_moves: at most this many moves with ``rebalance``.
        solver: ``"cpsat"`` or ``"greedy"`` (the baseline).
        deterministic_time: the reproducible budget; default from the model.
        portfolio: free parallel search (faster, not reproducible).
        progress: called on every improving solution with (elapsed seconds,
            objective, bound); from the search's threads, so keep it short.
        stop: set it (from any thread) to end the search: the best
            allocation so far is returned, ``stopped_by="interrupted"``.
        strict_previous: refuse a ``previous`` plan that lacks users who
            are not new (rows deleted) instead of warning.
        locks: the extra locks ``read_instance`` was given, recorded in
            summary.json (``cli_locks``).
        interruptible: Ctrl-C (SIGINT, main thread only) stops the search
            and keeps the best allocation so far; a second Ctrl-C, or one
            before the search, raises ``KeyboardInterrupt``.
        on_interrupt: called once when a Ctrl-C stopped the search.
        progress_line: draw a live line on stderr during the search
            (elapsed, objective, bound, gap), as ``allocator solve`` does
            on a terminal.

    Returns:
        The solution; its ``assignments``, ``advisor_load``, ``team_load`` and
        ``municipality_load`` are DataFrames, ``summary`` a dict, and
        ``write(folder)`` writes the FORMAT.md section 5 folder.

    Raises:
        InstanceError, SolutionError: a ``previous`` that cannot be read.
    """
    options = _run_options(
        time_limit=time_limit,
        seed=seed,
        workers=workers,
        portfolio=portfolio,
        deterministic_time=deterministic_time,
        solver=solver,
        previous=previous,
        rebalance=rebalance,
        strict_previous=strict_previous,
        locks=locks,
        max_moves=max_moves,
        on_progress=progress,
        stop=stop,
        interruptible=interruptible,
        on_interrupt=on_interrupt,
        progress=progress_line,
    )
    return solve_instance(instance, options)


def _run_options(
    *,
    time_limit: float | None,
    seed: int | None,
    workers: int | None,
    portfolio: bool,
    deterministic_time: float | None,
    solver: str,
    previous: str | Path | None,
    rebalance: bool,
    strict_previous: bool,
    locks: Sequence[Lock],
    **more: Any,
) -> RunOptions:
    """The one place a solve's arguments become :class:`RunOptions`.

    :func:`solve` and :func:`solve_in_parts` take the same search options;
    ``more`` holds what only one of them has (``max_moves``, the progress
    and interrupt hooks).
    """
    return RunOptions(
        time_limit=time_limit,
        seed=seed,
        workers=workers,
        portfolio=portfolio,
        deterministic_time=deterministic_time,
        solver=solver,
        previous=Path(previous) if previous is not None else None,
        rebalance=rebalance,
        strict_previous=strict_previous,
        cli_locks=list(locks),
        **more,
    )


def solve_in_parts(
    instance: Instance,
    *,
    dask: str | None = None,
    parallel: int | None = None,
    executor: Executor | None = None,
    time_limit: float | None = None,
    seed: int | None = None,
    previous: str | Path | None = None,
    workers: int | None = None,
    rebalance: bool = False,
    solver: str = "cpsat",
    deterministic_time: float | None = None,
    portfolio: bool = False,
    strict_previous: bool = False,
    locks: Sequence[Lock] = (),
    progress: Callable[[int, int], None] | None = None,
) -> Solution:
    """Solve ``instance`` part by part on a cluster (``allocator solve --dask``).

    The instance is split into independent parts (offices that share no
    municipality, team, advisor, household or lock); each part is solved
    exactly as :func:`solve` solves it alone, with the same options and
    seed, on ``executor`` or else on the executor ``dask`` and ``parallel``
    name (:func:`make_executor`: a scheduler address, ``"local"`` for a
    Dask LocalCluster of ``parallel`` workers, or None for local
    processes); the answers are merged into one solution.

    The other arguments are :func:`solve`'s, given to every part.

    Args:
        dask: where the parts run when no ``executor`` is given: a
            scheduler address, ``"local"``, or None for local processes
            (the executor is then started here and closed before returning).
        parallel: parts at once (``--dask local``: Dask workers).
        executor: an executor to use as is (left open).
        progress: called with (parts done, parts) as each part comes back.

    Returns:
        One :class:`Solution` over the whole instance (``problem`` is None).
        Its summary's objective and bound are the sums of the parts', the
        gap that of the whole; ``parts``, ``parts_solved``,
        ``parts_reproducible``, ``part_gap_max`` and ``reproducible`` (every
        part's search) say how the parts went.

    Raises:
        InstanceError: a ``previous`` that cannot be read, or a part's
            input rejected (a fix lock that cannot hold).
        ValueError: an option out of range.
        OSError, TimeoutError: the Dask scheduler cannot be reached.
    """
    from allocator.runs.parts import solve_parts

    options = _run_options(
        time_limit=time_limit,
        seed=seed,
        workers=workers,
        portfolio=portfolio,
        deterministic_time=deterministic_time,
        solver=solver,
        previous=previous,
        rebalance=rebalance,
        strict_previous=strict_previous,
        locks=locks,
    )
    # Checked here, before any part is sent: a bad seed fails once.
    search_params(instance, options)
    own = executor is None
    chosen = executor if executor is not None else make_executor(dask, parallel)
    try:
        return solve_parts(instance, options, chosen, progress)
    finally:
        if own:
            chosen.close()


def solution_folder(instance: Instance, out: str | Path | None = None) -> Path:
    """The folder a solve of ``instance`` writes, checked before the search.

    ``out``, or else a new ``solutions/<name>/run-<UTC time>``. Checking it
    first means a folder that cannot take a solution costs no search.

    Raises:
        SolutionError: ``out`` exists and is not an earlier solution folder
            or an empty folder.
    """
    from allocator.io.write import check_target
    from allocator.run import default_run_folder

    folder = Path(out) if out is not None else default_run_folder(instance)
    check_target(folder)
    return folder


def table_rows(path: str | Path) -> dict[str, list[Any]]:
    """A solution's CSV file as ``{"columns": [...], "rows": [[...], ...]}``.

    Read with the input's own reader, so a file in either dialect (``,`` or
    Norwegian Excel's ``;`` with BOM, CRLF and decimal commas) is split as
    written; cells are text. The page's tables use it.

    Raises:
        InstanceError: the file cannot be read as CSV.
    """
    from allocator.io.solution_files import table_rows as read_rows

    return read_rows(Path(path))


def validate(instance: Instance, *, previous: str | Path | None = None) -> Instance:
    """Every check :func:`solve` makes before its search, without searching.

    Args:
        instance: from :func:`read_instance` (with its locks).
        previous: last week's solution folder or allocation file.

    Returns:
        The instance as the search would see it (the plan's current
        advisors, the workbook's locks).

    Raises:
        InstanceError: a ``previous`` that cannot be read or does not fit,
            or a fix lock that cannot hold; every problem located.
    """
    from allocator.engine.problem import build_problem
    from allocator.run import weekly_instance

    prepared, _ = weekly_instance(
        instance, Path(previous) if previous is not None else None
    )
    build_problem(prepared)
    return prepared


def capacity_overview(instance: Instance, *, previous: str | Path | None = None) -> str:
    """What ``allocator validate`` prints: capacity against demand, and why.

    Makes every check :func:`validate` makes, then names each team's
    demand and capacity, each user no advisor may take (with the rule) and
    each household no single advisor may serve.

    Raises:
        InstanceError: as :func:`validate`.
    """
    from allocator.analysis.capacity import capacity_overview as overview
    from allocator.engine.problem import build_problem
    from allocator.run import weekly_instance

    prepared, _ = weekly_instance(
        instance, Path(previous) if previous is not None else None
    )
    return overview(build_problem(prepared))


def check(
    instance: Instance,
    solution_path: str | Path,
    previous: str | Path | None = None,
) -> list[str]:
    """Run the independent checker on a written solution folder.

    Returns one line per broken rule; an empty list means the solution obeys
    every rule (FORMAT.md sections 4 and 5). The checker shares no code with
    the model. With ``previous`` (the plan the solve was given), each
    user's ``previous_advisor`` and ``since`` are checked against it.
    """
    from allocator.checking import check_solution

    return check_solution(
        instance,
        Path(solution_path),
        Path(previous) if previous is not None else None,
    )


def explain(instance: Instance, solution: str | Path, user: str) -> dict[str, Any]:
    """Why ``user`` got their advisor in the solution folder, and not another.

    The id is compared as every id is (NFC, no format characters), so an id
    typed on a Mac finds the user a Windows export named.

    Returns:
        The explanation as JSON-ready data: the routing rule, the goals the
        chosen advisor served, and for every other advisor of a matching
        team the rule or goal that ruled them out, with the figures.
        :func:`explain_text` words it.

    Raises:
        SolutionError: the user is not in the instance, or the folder
            cannot be read.
    """
    from allocator.io.explain import explain as explain_user
    from allocator.io.tables import normalise_id

    return explain_user(instance, Path(solution), normalise_id(user))


def explain_text(explanation: dict[str, Any]) -> str:
    """:func:`explain`'s data as lines a team leader reads (active language)."""
    from allocator.analysis.explain import explain_text as words

    return words(explanation)


def write_instance(instance: Instance, out: str | Path) -> Path:
    """Write ``instance`` as an ordinary instance folder (``allocator scenario``).

    Raises:
        SolutionError: ``out`` cannot be written, or holds other files.
    """
    from allocator.io.instance_files import write_instance as write

    folder = Path(out)
    write(instance, folder)
    return folder


def report(solution: str | Path) -> Path:
    """Rebuild ``solution/report.html`` from the solution folder's files.

    The page is the one the solve wrote, byte for byte. Returns its path.

    Raises:
        SolutionError: the folder's files cannot be read or written.
    """
    from allocator.io.solution_files import (
        read_solution_files,
        solution_tables,
        write_report,
    )
    from allocator.render.html import report_page

    folder = Path(solution)
    page = report_page(solution_tables(read_solution_files(folder)))
    return write_report(folder, "report.html", page)


def comparison_folder(instance: Instance) -> Path:
    """A new comparison folder: solutions/<name>/compare, or the first free
    compare-N beside it."""
    from allocator.io.comparison import new_comparison_folder

    return new_comparison_folder(Path("solutions") / instance.name)


def generate(
    out: str | Path,
    *,
    shape: str = "region",
    advisors: int | None = None,
    users: int | None = None,
    municipalities: int | None = None,
    seed: int = 0,
    first_allocation: bool = False,
    rotation_months: float = 0.0,
    capacity_factor: float = 1.0,
    offices: int | None = None,
) -> Path:
    """Write a synthetic instance folder to ``out``; returns its path.

    Args:
        shape: ``"region"`` (many small offices; ``advisors`` and ``users``
            required, ``municipalities`` default 10), ``"office"`` (one
            office over a valley; counts drawn from the seed unless given)
            or ``"national"`` (``offices`` office-shaped offices, default
            250 over 356 synthetic municipalities with 6,000 advisors and
            250,000 users; with ``offices`` alone the other counts scale).
        offices: offices of a national instance.
        seed: the same seed gives the same files.
        first_allocation: nobody has a current advisor.
        rotation_months: the policy's rotation period.
        capacity_factor: scales cases per FTE; below 1 the office is short.

    Raises:
        ValueError: counts that cannot make such an instance.
    """
    from allocator.generate import OfficeSize, generate_office

    folder = Path(out)
    drawn = Shape(
        first_allocation=first_allocation,
        rotation_months=rotation_months,
        capacity_factor=capacity_factor,
    )
    if offices is not None and shape != "national":
        raise ValueError("--offices is for --shape national")
    if shape == "national":
        from allocator.generate.national import NationalSize, generate_national

        counts = NationalSize(
            offices=offices or 0,
            municipalities=municipalities or 0,
            advisors=advisors or 0,
            users=users or 0,
        )
        generate_national(seed, folder, drawn, counts)
    elif shape == "office":
        size = OfficeSize(
            advisors=advisors or 0, users=users or 0, municipalities=municipalities or 0
        )
        generate_office(seed, folder, drawn, size)
    elif advisors is None or users is None:
        raise ValueError("--advisors and --users are required for --shape region")
    else:
        _generate_region(
            advisors=advisors,
            users=users,
            municipalities=municipalities or 10,
            seed=seed,
            out=folder,
            shape=drawn,
        )
    return folder


def bench_params(path: str | Path) -> dict[str, object]:
    """Extra CP-SAT parameters from a TOML file (``bench --params``), checked.

    Read with the instance reader's loader (hostile nesting is refused) and
    checked once, before any run, so a misspelt key does not fail every run.

    Raises:
        ValueError: the file cannot be read, or names a parameter CP-SAT
            does not have or a value it does not take; the message names
            the file.
    """
    from allocator.engine.cpsat.params import check_params
    from allocator.io.read import TomlProblem, load_toml_text

    try:
        params = load_toml_text(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, TomlProblem) as error:
        raise ValueError(f"{path}: {error}") from error
    bad = check_params(params)
    if bad:
        raise ValueError(f"{path}: " + "; ".join(bad))
    return params


def bench_folder(out: str | Path | None = None) -> Path:
    """The benchmark's folder, checked before any run.

    ``out``, or else a new ``solutions/bench/run-<UTC time>`` (never the
    shipped tables beside it), as ``solve`` picks a new run folder.

    Raises:
        SolutionError: ``out`` is not new, empty, or an earlier bench folder.
    """
    import datetime as dt

    from allocator.runs.bench import check_bench_out

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = (
        Path(out) if out is not None else Path("solutions") / "bench" / f"run-{stamp}"
    )
    check_bench_out(folder)
    return folder


@dataclass
class Bench:
    """A benchmark's rows (one per instance, setting, seed and solver)."""

    rows: list[dict[str, Any]]
    folder: Path
    meta: dict[str, Any]

    @property
    def table(self) -> str:
        """The fixed-width table with averages, counts and every error."""
        from allocator.runs.bench import table

        return table(self.rows)

    @property
    def failed(self) -> bool:
        """There were runs and every one ended in an error."""
        from allocator.runs.bench import all_failed

        return all_failed(self.rows)

    def write(self) -> Path:
        """results.csv, table.txt and meta.json in the folder; returns results.csv."""
        from allocator.runs.bench import write_results

        write_results(self.rows, self.folder, self.meta)
        return self.folder / "results.csv"


def bench(
    instances: Sequence[str | Path],
    folder: str | Path,
    *,
    time_limits: Sequence[float] = (10.0,),
    seeds: Sequence[int] = (0,),
    workers: int | None = None,
    parallel: int = 1,
    params: dict[str, object] | None = None,
    input_format: str = "allocator",
    solvers: Sequence[str] = ("cpsat", "greedy"),
    argv: Sequence[str] = (),
) -> Bench:
    """Run every instance under every setting (``allocator bench``).

    Args:
        instances: instance folders, or GAP files with ``input_format="gap"``.
        folder: where the runs' solutions go (:func:`bench_folder`).
        time_limits: seconds per run; every run is one of each.
        seeds: CP-SAT seeds; every run is one of each.
        workers: CP-SAT workers per run.
        parallel: runs at the same time.
        params: extra CP-SAT parameters (:func:`bench_params`).
        solvers: ``cpsat``, ``greedy`` (and ``highs`` for GAP).
        argv: the command that asked, recorded in meta.json.

    Returns:
        The rows; a run that failed is a row with its error, never a raise.
        ``write()`` writes the tables.
    """
    from allocator.runs.bench import machine_meta, make_jobs, run_jobs

    target = Path(folder)
    jobs = make_jobs(
        [Path(p) for p in instances],
        list(time_limits),
        list(seeds),
        workers,
        target,
        input_format,
        tuple(solvers),
        dict(params or {}),
    )
    rows = run_jobs(jobs, parallel)
    meta = machine_meta(
        list(argv), list(seeds), time_limits=list(time_limits), workers=workers,
        parallel=parallel, params=dict(params or {}), format=input_format,
    )  # fmt: skip
    return Bench(rows=rows, folder=target, meta=meta)
