"""Solving and measuring every structure: ``compare_variants``.

The tasks (``compare.tasks``) go to an executor, their records become
the rows and details of a :class:`~allocator.comparison.Comparison`.
"""

from __future__ import annotations

import hashlib
import math
import platform
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from allocator.compare.locks import (
    check_ids,
    drop_impossible_locks,
    structure_rejected,
    without_locks,
)
from allocator.compare.tasks import (
    BASE_DESCRIPTION,
    N1_CHUNK,
    WALL_CLOCK_FACTOR,
    Cache,
    N1Task,
    SolveTask,
    content_sha256,
    first_allocation,
    n1_task,
    solve_task,
    solve_threads,
    task_key,
)
from allocator.comparison import BASE, Comparison
from allocator.domain import Instance
from allocator.errors import DataWarning
from allocator.io.comparison import COLUMNS

if TYPE_CHECKING:
    from allocator.runs.executor import Executor


# Called with (structures done, structures, work done, work total).
Progress = Callable[[int, int, float, float], None]


def versions(executor: Executor | None = None) -> dict[str, str]:
    """Versions of the packages that shape a comparison's figures."""
    from importlib.metadata import PackageNotFoundError, version

    from allocator.version import __version__

    found = {"allocator": __version__, "python": platform.python_version()}
    names = ["ortools", "pydantic", "pandas"]
    if executor is not None and "dask" in executor.description:
        names += ["dask", "distributed"]
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _file_sha256(path: str | Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _clean(value: Any) -> Any:
    """Floats rounded to 6 decimals (no binary noise in files); NaN as None."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    return value


def compare_variants(
    base: Instance,
    variants: Sequence[tuple[str, Instance]],
    seeds: Sequence[int] = (0,),
    time_limit: float | None = None,
    from_current: bool = False,
    executor: Executor | None = None,
    *,
    workers: int | None = None,
    deterministic_time: float | None = None,
    n1_time_limit: float = 60.0,
    cache: Path | None = None,
    progress: Progress | None = None,
    sources: Mapping[str, str] | None = None,
    descriptions: Mapping[str, str] | None = None,
    dropped_locks: Mapping[str, list[dict[str, Any]]] | None = None,
) -> Comparison:
    """Solve ``base`` and every variant with every seed; measure each.

    Args:
        base: the instance as today (its users are every structure's users).
        variants: (scenario id, changed instance) pairs, in table order.
        seeds: CP-SAT seeds, the same for every structure.
        time_limit: seconds per solve; default each structure's policy.
            Each solve stops as ``allocator solve`` does (see
            ``WALL_CLOCK_FACTOR``); ``stopped_by`` tells whether a row repeats.
        from_current: solve as a weekly run (users keep their advisor where
            the structure allows) instead of a first allocation.
        executor: where tasks run; default a ``LocalExecutor``.
        workers: CP-SAT workers per solve (default: as ``solve`` chooses).
        deterministic_time: CP-SAT's reproducible budget per solve; when
            given, every solve stops there and the rows repeat exactly.
        n1_time_limit: seconds per exact N-1 re-placement.
        cache: folder of results by hash; a rerun reads unchanged tasks back.
        progress: called as work completes.
        sources: scenario id -> the scenario file, for input hashes.
        descriptions: scenario id -> the scenario's description (the
            ``description`` column; ``base`` is "today's structure").
        dropped_locks: scenario id -> locks already dropped while the
            scenario was applied (``scenario_variants``), counted with the
            rest.

    Returns:
        The :class:`Comparison`; nothing is written. A fix lock a structure
        makes impossible is dropped for it with a ``DataWarning`` and
        counted in ``locks_dropped`` (``drop_impossible_locks``).

    Raises:
        InstanceError: a scenario id that cannot be a folder name, twice, or
            two ids that would share a folder; a structure the model rejects
            for a reason other than a lock.
        ValueError: no seeds, or a variant whose users differ from the base's.
    """
    from allocator.analysis.figures import structure_figures
    from allocator.analysis.n1 import Absence, n1_summary
    from allocator.runs.executor import LocalExecutor

    sources = dict(sources or {})
    check_ids([scenario for scenario, _ in variants], sources)
    if not seeds:
        raise ValueError("a comparison needs at least one seed")
    for scenario, variant in variants:
        if variant.users != base.users:
            raise ValueError(f"scenario {scenario} changes the users")
    structures = {BASE: base, **dict(variants)}
    own_executor = executor is None
    runner: Executor = executor if executor is not None else LocalExecutor()
    store = Cache(cache)
    start = time.perf_counter()
    try:
        # Each structure as solved: a first allocation (unless from_current)
        # without the locks it makes impossible, written as an instance
        # folder and read back, so DIR/<structure>/instance is exactly what
        # was solved and `allocator check` passes on it.
        from allocator.io.comparison import as_written

        solved: dict[str, Instance] = {}
        dropped: dict[str, list[dict[str, Any]]] = {}
        for sid, inst in structures.items():
            blanked = inst if from_current else first_allocation(inst)
            blanked, dropped[sid] = drop_impossible_locks(sid, blanked, sources)
            dropped[sid] = list((dropped_locks or {}).get(sid, [])) + dropped[sid]
            solved[sid] = as_written(blanked)
            structures[sid] = without_locks(inst, dropped[sid])
        limits = {
            sid: time_limit if time_limit is not None else inst.policy.time_limit_s
            for sid, inst in structures.items()
        }
        chunks = {
            sid: [
                tuple(range(i, min(i + N1_CHUNK, len(inst.advisors))))
                for i in range(0, len(inst.advisors), N1_CHUNK)
            ]
            for sid, inst in structures.items()
        }
        # Work units for the progress bar: a solve counts its time limit,
        # an N-1 chunk a quarter of it (they are mostly quick passes).
        total = sum(
            len(seeds) * limits[s] * (1 + len(chunks[s]) / 4) for s in structures
        )
        done_work = 0.0
        left: dict[str, int] = {
            s: len(seeds) * (1 + len(chunks[s])) for s in structures
        }

        def advance(sid: str, units: float) -> None:
            nonlocal done_work
            done_work += units
            left[sid] -= 1
            if progress is not None:
                finished = sum(count == 0 for count in left.values())
                progress(finished, len(structures), done_work, total)

        if progress is not None:
            progress(0, len(structures), 0.0, total)
        tasks: list[tuple[str, SolveTask]] = []
        records: dict[tuple[str, int], dict[str, Any]] = {}
        for sid in structures:
            for seed in seeds:
                budget = deterministic_time
                wall = limits[sid] * (
                    WALL_CLOCK_FACTOR if deterministic_time is not None else 1.0
                )
                task = SolveTask(sid, seed, solved[sid], wall, workers, budget)
                key = "solve-" + task_key(
                    "solve",
                    instance=content_sha256(task.instance),
                    seed=seed,
                    time_limit=task.time_limit,
                    workers=workers,
                    deterministic_time=budget,
                )
                hit = store.get(key)
                if hit is not None:
                    records[sid, seed] = hit
                    advance(sid, limits[sid])
                else:
                    tasks.append((key, task))
        threads = workers or max(
            (solve_threads(t.instance, from_current) for _, t in tasks), default=1
        )
        for i, record in runner.map_unordered(
            solve_task, [t for _, t in tasks], threads=threads
        ):
            key, task = tasks[i]
            if "problems" in record:
                raise structure_rejected(task.scenario, record["problems"], sources)
            store.put(key, record)
            records[task.scenario, task.seed] = record
            advance(task.scenario, limits[task.scenario])
        n1_jobs: list[tuple[str, N1Task]] = []
        n1_parts: dict[tuple[str, int], list[dict[str, Any]]] = {k: [] for k in records}
        for (sid, seed), record in records.items():
            allocation = tuple(record["allocation"])
            for chunk in chunks[sid]:
                job = N1Task(sid, seed, solved[sid], allocation, chunk, n1_time_limit)
                key = "n1-" + task_key(
                    "n1",
                    instance=content_sha256(job.instance),
                    allocation=list(allocation),
                    advisors=list(chunk),
                    time_limit=n1_time_limit,
                )
                hit = store.get(key)
                if hit is not None:
                    n1_parts[sid, seed] += hit
                    advance(sid, limits[sid] / 4)
                else:
                    n1_jobs.append((key, job))
        for i, part in runner.map_unordered(n1_task, [j for _, j in n1_jobs]):
            key, job = n1_jobs[i]
            store.put(key, part)
            n1_parts[job.scenario, job.seed] += part
            advance(job.scenario, limits[job.scenario] / 4)
    finally:
        if own_executor:
            runner.close()
    described = {
        sid: BASE_DESCRIPTION if sid == BASE else (descriptions or {}).get(sid, "")
        for sid in structures
    }
    rows: list[dict[str, Any]] = []
    details: dict[str, Any] = {}
    solutions: dict[tuple[str, int], dict[str, str]] = {}
    for sid, instance in structures.items():
        structural = structure_figures(instance)
        if from_current and structural["forced_moves"]:
            # A weekly run places them anew; said once, never a refusal.
            named = "the base" if sid == BASE else f"scenario {sid}"
            warnings.warn(
                f"under {named}: {structural['forced_moves']} user(s) can no longer "
                "stay with their current advisor and are placed anew (forced_moves).",
                DataWarning,
                stacklevel=2,
            )
        details[sid] = {
            "description": described[sid],
            "locks_dropped": dropped[sid],
            "coverage": structural["details"]["coverage"],
            "seeds": {},
        }
        order = {a.id: i for i, a in enumerate(instance.advisors)}
        for seed in seeds:
            record = records[sid, seed]
            summary = record["summary"]
            figures = dict(record["figures"])
            part = sorted(n1_parts[sid, seed], key=lambda d: order[d["advisor"]])
            absences = [
                Absence(d["advisor"], d["users"], d["weight"], d["exact"]) for d in part
            ]
            worst, worst_advisor, mean, exact = n1_summary(absences)
            row = {
                "scenario": sid,
                "seed": seed,
                "description": described[sid],
                "locks_dropped": len(dropped[sid]),
                "status": summary["status"],
                "gap": summary["gap"],
                **{k: v for k, v in figures.items() if k != "details"},
                **{k: v for k, v in structural.items() if k != "details"},
                "n1_worst_weight": worst,
                "n1_worst_advisor": worst_advisor,
                "n1_mean_weight": mean,
                "objective": summary["objective"],
                "wall_s": summary["wall_s"],
                "stopped_by": summary.get("stopped_by"),
                "n1_exact": exact,
            }
            rows.append({column: _clean(row.get(column)) for column in COLUMNS})
            details[sid]["seeds"][str(seed)] = {
                **figures["details"],
                "n1_by_advisor": {d["advisor"]: d["weight"] for d in part},
                "n1_inexact": [d["advisor"] for d in part if not d["exact"]],
            }
            solutions[sid, seed] = record["files"]
    inputs: dict[str, Any] = {}
    for sid, instance in structures.items():
        entry: dict[str, Any] = {"content_sha256": content_sha256(instance)}
        if sid == BASE:
            entry["name"] = instance.name
            entry["input_sha256"] = instance.input_sha256
        elif sid in sources:
            entry["file"] = str(sources[sid])
            entry["file_sha256"] = _file_sha256(sources[sid])
        inputs[sid] = entry
    settings = {
        "seeds": list(seeds),
        "time_limit_s": time_limit,
        "time_limit_by_structure": limits,
        # With a deterministic_time every solve stops at it (the wall clock
        # only at the factor); without, as solve's own stopping rule.
        "deterministic_budget_by_structure": {
            sid: deterministic_time for sid in limits
        },
        "wall_clock_factor": WALL_CLOCK_FACTOR
        if deterministic_time is not None
        else 1.0,
        "from_current": from_current,
        "workers": workers,
        "deterministic_time": deterministic_time,
        "n1_time_limit_s": n1_time_limit,
        "executor": runner.description,
        "cached_tasks": store.hits,
        "wall_s": round(time.perf_counter() - start, 3),
    }
    return Comparison(
        rows=rows,
        details=details,
        settings=settings,
        versions=versions(runner),
        inputs=inputs,
        structures=solved,
        solutions=solutions,
        current_advisors={
            user.id: user.current_advisor
            for user in base.users
            if user.current_advisor is not None
        },
    )
