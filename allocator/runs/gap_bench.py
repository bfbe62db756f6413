"""One GAP benchmark run for ``allocator bench --format gap``.

The GAP files are solved as a pure assignment problem by the GAP engine
(``allocator.gap``); best-known values come from the ``data.csv`` found in
the file's folder or a parent folder (the layout of instances/gap/).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from allocator.runs.bench import Job


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
    """Solve one GAP file with one solver and return its table row."""
    from allocator.gap import (
        read_gap,
        read_gap_problems,
        solve_cpsat,
        solve_greedy,
        solve_highs,
    )
    from allocator.runs.bench import peak_rss_mb

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
