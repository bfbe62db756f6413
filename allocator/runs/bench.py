"""``allocator bench``: many instances x many settings, one reproducible table.

Every run happens in a fresh process, so its peak memory (ru_maxrss) is its
own, and runs go in parallel up to ``--parallel``. The table and
``results.csv`` carry one row per (instance, solver, time limit, seed); the
greedy baseline runs beside every optimiser row. ``meta.json`` records the
command, versions, machine and seeds so a table can be reproduced.
"""

from __future__ import annotations

import csv
import json
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

RESULT_COLUMNS = [
    "instance", "solver", "time_limit", "seed", "status", "objective", "bound",
    "gap", "best_known", "gap_to_best_known", "time_to_first_s", "wall_s",
    "peak_rss_mb", "assigned", "unassigned", "utilisation_spread", "travel_km",
]  # fmt: skip


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
    return {
        "instance": instance.name,
        "solver": job.solver,
        "time_limit": job.time_limit,
        "seed": job.seed,
        "status": summary["status"],
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


def run_job(job: Job) -> dict[str, Any]:
    """Dispatch by input format; a failing run becomes a row, not a crash."""
    try:
        if job.format == "gap":
            from allocator.runs.gap_bench import run_gap_job

            return run_gap_job(job)
        return run_allocator_job(job)
    except Exception as error:  # a benchmark reports failures in its table
        return {
            "instance": Path(job.path).name,
            "solver": job.solver,
            "time_limit": job.time_limit,
            "seed": job.seed,
            "status": f"error: {type(error).__name__}: {error}",
        }


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
    per instance.
    """
    jobs = []
    for path in sorted(paths, key=str):
        for solver in solvers:
            limits = time_limits if solver != "greedy" else time_limits[:1]
            seed_list = seeds if solver != "greedy" else seeds[:1]
            for limit in limits:
                for seed in seed_list:
                    name = f"{path.name}-{solver}-t{limit:g}-s{seed}"
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
                        )
                    )
    return jobs


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


def table(rows: list[dict[str, Any]]) -> str:
    """The fixed-width table with averages and counts."""
    header = (
        f"{'instance':<24} {'solver':<7} {'limit':>6} {'seed':>4} {'status':<11} "
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
            f"{str(row['status'])[:11]:<11} {fmt(row.get('objective'), ',.2f'):>13} "
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
    return "\n".join(lines)


def averages(rows: list[dict[str, Any]]) -> list[str]:
    """Per solver: mean objective, gap, gap to best known, time; status counts."""
    lines = []
    for solver in sorted({row["solver"] for row in rows}):
        mine = [row for row in rows if row["solver"] == solver]

        def mean(key: str, mine: list[dict[str, Any]] = mine) -> float | None:
            values = [
                r[key] for r in mine
                if isinstance(r.get(key), (int, float)) and not math.isnan(r[key])
            ]  # fmt: skip
            return sum(values) / len(values) if values else None

        counts = {
            status: sum(row["status"] == status for row in mine)
            for status in ("optimal", "feasible", "no_solution")
        }
        errors = len(mine) - sum(counts.values())
        lines.append(
            f"{solver:<7} runs {len(mine)}: optimal {counts['optimal']}, feasible "
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
            writer.writerow(
                {k: "" if row.get(k) is None else row.get(k) for k in RESULT_COLUMNS}
            )
    (out / "table.txt").write_text(table(rows) + "\n", encoding="utf-8")
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


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
