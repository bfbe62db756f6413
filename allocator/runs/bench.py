"""``allocator bench``: many instances x many settings, one reproducible table.

Every run happens in a fresh process, so its peak memory (ru_maxrss) is its
own, and runs go in parallel up to ``--parallel``. The table and
``results.csv`` carry one row per (instance, solver, time limit, seed); the
greedy baseline runs beside every optimiser row. ``meta.json`` records the
command, versions, machine and seeds so a table can be reproduced.
"""

from __future__ import annotations

import csv
import math
import multiprocessing
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from allocator.io.write import neutralise, strict_json

RESULT_COLUMNS = [
    "instance", "solver", "time_limit", "seed", "status", "objective", "bound",
    "gap", "best_known", "gap_to_best_known", "time_to_first_s", "wall_s",
    "peak_rss_mb", "assigned", "unassigned", "utilisation_spread", "travel_km",
    "written", "message",
]  # fmt: skip
# Statuses of a run whose figures are the solver's own and enter its averages.
SOLVED = ("optimal", "feasible")
# A bench folder holds these; --out must be new, empty, or an earlier one.
BENCH_FILES = ("results.csv", "meta.json")


@dataclass(frozen=True)
class Job:
    """One run: which instance, how, and where its solution goes."""

    path: str
    solver: str
    time_limit: float
    seed: int
    workers: int | None
    out: str
    format: str = "allocator"
    params: tuple[tuple[str, Any], ...] = ()
    # The k-th problem of an OR-Library file that holds several (gap1).
    problem: int | None = None


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_allocator_job(job: Job) -> dict[str, Any]:
    """Solve one allocator instance and report its row (runs in a child)."""
    from allocator.io.read import read_instance
    from allocator.run import RunOptions, run_solve

    start = time.perf_counter()
    instance = read_instance(Path(job.path))
    outcome = run_solve(
        instance,
        RunOptions(
            out=Path(job.out),
            time_limit=job.time_limit,
            seed=job.seed,
            workers=job.workers,
            solver=job.solver,
            cpsat=dict(job.params),
        ),
    )
    summary = outcome.report.summary
    kpis = summary["kpis"]
    # CP-SAT found nothing and the greedy baseline was written in its place:
    # a "no solution" run for CP-SAT, whose figures are the greedy's.
    fallback = job.solver != "greedy" and summary.get("solver") == "greedy"
    return {
        "instance": instance.name,
        "solver": job.solver,
        "time_limit": job.time_limit,
        "seed": job.seed,
        "status": "no_solution" if fallback else summary["status"],
        "written": summary.get("solver", job.solver),
        "objective": summary["objective"],
        "bound": summary["bound"],
        "gap": summary["gap"],
        "best_known": None,
        "gap_to_best_known": None,
        "time_to_first_s": summary["time_to_first_s"],
        # Whole run: reading, building, solving and writing.
        "wall_s": round(time.perf_counter() - start, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "assigned": kpis["assigned"],
        "unassigned": kpis["unassigned"],
        "utilisation_spread": round(
            kpis["utilisation_max"] - kpis["utilisation_min"], 4
        ),
        "travel_km": kpis["travel_km"],
    }


def best_known_for(path: Path, problem: int | None = None) -> int | None:
    """The best-known value of a GAP file from the nearest data.csv above it.

    The k-th problem of an OR-Library file ``gap1`` is looked up as the
    split file ``gap1-k`` would be.
    """
    from allocator.gap import read_best_known

    for folder in path.resolve().parents:
        table = folder / "data.csv"
        if table.is_file():
            key = path.resolve().relative_to(folder).as_posix()
            if problem is not None:
                key = f"{key}-{problem}"
            entry = read_best_known(table).get(key)
            return entry[2] if entry is not None else None
    return None


def run_gap_job(job: Job) -> dict[str, Any]:
    """Solve one GAP file with one solver and report its row (runs in a child).

    The GAP files are solved as a pure assignment problem by the GAP engine
    (``allocator.gap``); best-known values come from the ``data.csv`` found
    in the file's folder or a parent folder (the layout of instances/gap/).
    """
    from allocator.gap import (
        read_gap,
        read_gap_problems,
        solve_cpsat,
        solve_greedy,
        solve_highs,
    )

    start = time.perf_counter()
    path = Path(job.path)
    if job.problem is None:
        instance = read_gap(path)
    else:
        instance = read_gap_problems(path)[job.problem]
    if job.solver == "cpsat":
        result = solve_cpsat(instance, job.time_limit, job.seed, job.workers or 2)
    elif job.solver == "highs":
        result = solve_highs(instance, job.time_limit, job.seed)
    else:
        result = solve_greedy(instance)
    best = best_known_for(path, job.problem)
    objective = result.objective
    return {
        "instance": instance.name,
        "solver": job.solver,
        "time_limit": job.time_limit if job.solver != "greedy" else None,
        "seed": job.seed if job.solver != "greedy" else None,
        "status": result.status.value,
        "objective": objective,
        "bound": result.bound,
        "gap": (objective - result.bound) / objective
        if objective and result.bound is not None
        else (0.0 if objective == 0 else None),
        "best_known": best,
        "gap_to_best_known": (objective - best) / best
        if objective is not None and best
        else None,
        "time_to_first_s": result.time_to_first_s,
        "wall_s": round(time.perf_counter() - start, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


# One worker per --format: the one runner of every benchmark run.
WORKERS: dict[str, Callable[[Job], dict[str, Any]]] = {
    "allocator": run_allocator_job,
    "gap": run_gap_job,
}


def run_job(job: Job) -> dict[str, Any]:
    """Dispatch by input format; a failing run becomes a row, not a crash.

    The row's ``status`` is ``error`` and its ``message`` says why in full,
    with a hint when the path is of the other ``--format``.
    """
    try:
        return WORKERS[job.format](job)
    except Exception as error:  # a benchmark reports failures in its table
        name = Path(job.path).name
        return {
            "instance": name if job.problem is None else f"{name}-{job.problem}",
            "solver": job.solver,
            "time_limit": job.time_limit,
            "seed": job.seed,
            "status": "error",
            "message": error_message(error, Path(job.path), job.format),
        }


def error_message(error: Exception, path: Path, fmt: str) -> str:
    """A failed run's cause in one line, and what to do when it is plain."""
    from allocator.errors import AllocatorError

    text = str(error) if isinstance(error, AllocatorError) else (
        f"{type(error).__name__}: {error}"
    )  # fmt: skip
    text = " ".join(text.split())
    if fmt == "allocator" and path.is_file():
        return (
            f"{path} is a file, not an instance folder; for OR-Library or "
            f"Yagiura GAP files use --format gap ({text})"
        )
    if fmt == "allocator" and path.is_dir() and not (path / "instance.toml").exists():
        return (
            f"{path} has no instance.toml, so it is not an instance folder; for "
            f"a folder of GAP files use --format gap with the files ({text})"
        )
    if fmt == "gap" and path.is_dir():
        hint = (
            "an instance folder: leave out --format gap"
            if (path / "instance.toml").exists()
            else f"a folder: name its GAP files ({path}/*)"
        )
        return f"{path} is {hint} ({text})"
    return text


def make_jobs(
    paths: Sequence[Path],
    time_limits: Sequence[float],
    seeds: Sequence[int],
    workers: int | None,
    out: Path,
    fmt: str,
    solvers: Sequence[str],
    params: dict[str, Any],
) -> list[Job]:
    """Every instance x solver x time limit x seed, in a fixed order.

    The greedy baseline does not depend on time or seed, so it runs once
    per instance. A GAP file that holds several problems (OR-Library's
    gap1 ... gap12) gives one instance per problem.
    """
    jobs = []
    for path in sorted(paths, key=str):
        problems: list[int | None] = [None]
        if fmt == "gap":
            problems = gap_problems(path)
        for problem in problems:
            label = path.name if problem is None else f"{path.name}-{problem}"
            for solver in solvers:
                limits = time_limits if solver != "greedy" else time_limits[:1]
                seed_list = seeds if solver != "greedy" else seeds[:1]
                for limit in limits:
                    for seed in seed_list:
                        name = f"{label}-{solver}-t{limit:g}-s{seed}"
                        jobs.append(
                            Job(
                                path=str(path),
                                solver=solver,
                                time_limit=limit,
                                seed=seed,
                                workers=workers,
                                out=str(out / "solutions" / name),
                                format=fmt,
                                params=tuple(sorted(params.items())),
                                problem=problem,
                            )
                        )
    return jobs


def gap_problems(path: Path) -> list[int | None]:
    """[None] for a one-problem GAP file, [0, ..., P-1] for an OR-Library one.

    A file that cannot be read stays one job, whose run reports why.
    """
    from allocator.gap.read import read_gap_problems

    try:
        problems = read_gap_problems(path)
    except (OSError, ValueError, UnicodeDecodeError):
        return [None]
    return [None] if len(problems) == 1 else list(range(len(problems)))


def check_bench_out(out: Path) -> None:
    """Refuse a --out that is not new, empty, or an earlier bench folder.

    A bench writes results.csv, table.txt, meta.json and solutions/ into
    ``out``; pointing it at an instance folder or a home directory must fail
    before any run, as ``solve --out`` does, and so must a place that cannot
    be written.

    Raises:
        SolutionError: with the reason.
    """
    from allocator.errors import SolutionError
    from allocator.io.folder import check_writable

    if out.exists() and not out.is_dir():
        raise SolutionError(f"--out {out} exists and is not a folder.")
    if (
        out.is_dir()
        and any(out.iterdir())
        and not any((out / name).is_file() for name in BENCH_FILES)
    ):
        raise SolutionError(
            f"--out {out} exists and is not a bench folder (no results.csv); "
            "choose a new or empty folder."
        )
    check_writable(out / "results.csv")


def all_failed(rows: list[dict[str, Any]]) -> bool:
    """True when there were runs and every one of them ended in an error."""
    return bool(rows) and all(row["status"] == "error" for row in rows)


def run_jobs(
    jobs: list[Job],
    parallel: int,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the jobs, ``parallel`` at a time, in child processes.

    Allocator runs get a fresh process each, so each run's peak memory is its
    own. GAP runs are small and many (60 OR-Library problems), so they share
    long-lived processes and start-up is paid once per process.
    """
    context = multiprocessing.get_context("spawn")
    rows: list[dict[str, Any]] = []
    fresh = 1 if any(job.format == "allocator" for job in jobs) else None
    with context.Pool(processes=max(1, parallel), maxtasksperchild=fresh) as pool:
        for row in pool.imap(run_job, jobs):
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


def fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def status_text(row: dict[str, Any]) -> str:
    """The status as the table shows it: a fallback run says what was written."""
    status = str(row["status"])
    if status == "no_solution" and row.get("written") == "greedy":
        return "no solution (greedy written)"
    return status.replace("_", " ") if status == "no_solution" else status


def table(rows: list[dict[str, Any]]) -> str:
    """The fixed-width table with averages, counts and every error in full."""
    width = max([11] + [len(status_text(row)) for row in rows])
    header = (
        f"{'instance':<24} {'solver':<7} {'limit':>6} {'seed':>4} "
        f"{'status':<{width}} "
        f"{'objective':>13} {'bound':>13} {'gap':>7} {'to best':>8} "
        f"{'first s':>8} {'wall s':>8} {'MB':>7}"
    )
    # Allocator runs also show what the optimiser gains over the baseline.
    outcomes = any("unassigned" in row for row in rows)
    if outcomes:
        header += f" {'unassigned':>10} {'travel km':>11} {'spread':>7}"
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{str(row['instance'])[-24:]:<24} {row['solver']:<7} "
            f"{fmt(row.get('time_limit'), 'g'):>6} {fmt(row.get('seed'), 'd'):>4} "
            f"{status_text(row):<{width}} {fmt(row.get('objective'), ',.2f'):>13} "
            f"{fmt(row.get('bound'), ',.2f'):>13} {fmt(row.get('gap'), '.2%'):>7} "
            f"{fmt(row.get('gap_to_best_known'), '.2%'):>8} "
            f"{fmt(row.get('time_to_first_s'), '.2f'):>8} "
            f"{fmt(row.get('wall_s'), '.2f'):>8} "
            f"{fmt(row.get('peak_rss_mb'), '.0f'):>7}"
            + (
                f" {fmt(row.get('unassigned'), 'd'):>10} "
                f"{fmt(row.get('travel_km'), ',.1f'):>11} "
                f"{fmt(row.get('utilisation_spread'), '.2f'):>7}"
                if outcomes
                else ""
            )
        )
    lines.append("-" * len(header))
    lines += averages(rows)
    failed = [row for row in rows if row["status"] == "error"]
    if failed:
        lines.append(f"errors ({len(failed)} of {len(rows)} runs):")
        lines += [
            f"  {row['instance']} {row['solver']}: {row.get('message', '')}"
            for row in failed
        ]
    return "\n".join(lines)


def averages(rows: list[dict[str, Any]]) -> list[str]:
    """Per solver: mean objective, gap, gap to best known, time; status counts.

    The means are over the solver's own solutions (optimal or feasible); a
    run where CP-SAT found nothing and the greedy was written is counted as
    "no solution" and kept out of them.
    """
    lines = []
    for solver in sorted({row["solver"] for row in rows}):
        runs = [row for row in rows if row["solver"] == solver]
        mine = [row for row in runs if row["status"] in SOLVED]

        def mean(key: str, mine: list[dict[str, Any]] = mine) -> float | None:
            values = [
                r[key] for r in mine
                if isinstance(r.get(key), (int, float)) and not math.isnan(r[key])
            ]  # fmt: skip
            return sum(values) / len(values) if values else None

        counts = {
            status: sum(row["status"] == status for row in runs)
            for status in ("optimal", "feasible", "no_solution")
        }
        errors = len(runs) - sum(counts.values())
        lines.append(
            f"{solver:<7} runs {len(runs)}: optimal {counts['optimal']}, feasible "
            f"{counts['feasible']}, no solution {counts['no_solution']}, errors "
            f"{errors}; avg objective {fmt(mean('objective'), ',.2f')}, avg gap "
            f"{fmt(mean('gap'), '.2%')}, avg gap to best known "
            f"{fmt(mean('gap_to_best_known'), '.2%')}, avg wall "
            f"{fmt(mean('wall_s'), '.2f')} s"
        )
    return lines


def write_results(rows: list[dict[str, Any]], out: Path, meta: dict[str, Any]) -> None:
    """results.csv, table.txt and meta.json in the bench folder."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=RESULT_COLUMNS, extrasaction="ignore"
        )
        writer.writeheader()
        for row in rows:
            writer.writerow({k: result_cell(row.get(k)) for k in RESULT_COLUMNS})
    (out / "table.txt").write_text(table(rows) + "\n", encoding="utf-8")
    (out / "meta.json").write_text(strict_json(meta), encoding="utf-8")


def result_cell(value: Any) -> Any:
    """A results.csv cell: empty for None, text a spreadsheet will not run."""
    if value is None:
        return ""
    return neutralise(value) if isinstance(value, str) else value


def machine_meta(
    argv: Sequence[str], seeds: Sequence[int], **extra: Any
) -> dict[str, Any]:
    """What a reader needs to reproduce a table."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for package in ("allocator", "ortools", "highspy", "numpy", "openpyxl"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "command": " ".join(["allocator", *argv]),
        "seeds": list(seeds),
        "versions": versions,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python_executable": os.path.basename(sys.executable),
        **extra,
    }
