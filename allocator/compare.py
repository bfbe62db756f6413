"""Compare team structures on the same users (README format, section 7).

``base`` and each variant (a scenario applied to the base) are solved with
the same seeds and settings, then measured with the same figures
(``analysis.figures``, ``analysis.n1``). By default each structure is solved
as a first allocation: nobody keeps a current advisor, so each shows its
own best allocation, and ``forced_moves`` tells what moving to it would
cost. ``from_current`` solves each as a weekly run instead.

The work is a list of plain tasks (one solve per structure and seed, then
the N-1 re-placements in chunks of advisors) run by an executor
(``runs.executor``): a local process pool or a Dask cluster. Workers get
instances and ids and return plain records. With a cache folder, a task
whose inputs, seed and settings are unchanged is read back by its hash
instead of being run again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import platform
import time
import unicodedata
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from allocator.comparison import BASE as BASE
from allocator.comparison import Comparison as Comparison
from allocator.domain import Instance, Lock
from allocator.errors import DataWarning, InputProblem, InstanceError, SolutionError
from allocator.io.comparison import COLUMNS as COLUMNS

if TYPE_CHECKING:
    import pandas as pd

    from allocator.runs.executor import Executor

# The base's description in every table (FORMAT.md section 7).
BASE_DESCRIPTION = "today's structure"
# Advisors per N-1 task: small enough to spread over workers, large enough
# that building the problem in the worker is paid rarely.
N1_CHUNK = 25
# Bumped when a figure's definition changes, so cached results are redone.
FIGURES_VERSION = 2
# By default each structure is solved as ``allocator solve`` does: a
# reproducible first phase, then, only while the gap is above 1 %, a free
# search until the time limit (README "How the search stops"). A structure's
# figures are then close to its optimum rather than to wherever a fixed
# budget happened to stop (on first allocations a budget alone left gaps of
# 50-90 %). The row's stopped_by says whether it is reproducible. With an
# explicit deterministic_time every solve stops at that budget instead, and
# the wall clock only at this multiple of the time limit, as a safety net.
WALL_CLOCK_FACTOR = 3.0


@dataclass(frozen=True)
class SolveTask:
    """One structure and seed to solve (plain data, picklable)."""

    scenario: str
    seed: int
    instance: Instance  # as solved: blanked for a first allocation
    time_limit: float
    workers: int | None
    deterministic_time: float | None


@dataclass(frozen=True)
class N1Task:
    """N-1 for some advisors of one solved structure and seed."""

    scenario: str
    seed: int
    instance: Instance
    allocation: tuple[str | None, ...]  # advisor id per user
    advisors: tuple[int, ...]
    time_limit: float


def solve_task(task: SolveTask) -> dict[str, Any]:
    """Worker: solve one structure and seed; returns a plain record.

    The record holds the summary, the allocation as advisor ids, the
    allocation figures and the solution folder's files as text.
    """
    from allocator.analysis.figures import solution_figures
    from allocator.run import RunOptions, solve_instance

    try:
        solution = solve_instance(
            task.instance,
            RunOptions(
                time_limit=task.time_limit,
                seed=task.seed,
                workers=task.workers,
                deterministic_time=task.deterministic_time,
            ),
        )
    except InstanceError as error:
        # The error's problems do not survive pickling; send them as data.
        return {"problems": [dataclasses.asdict(p) for p in error.problems]}
    advisors = task.instance.advisors
    allocation = [
        advisors[a].id if a is not None else None for a in solution.result.allocation
    ]
    files = solution.files()
    return {
        "summary": solution.summary,
        "allocation": allocation,
        "figures": solution_figures(solution.problem, solution.result.allocation),
        "files": {name: text for name, text in files.items() if isinstance(text, str)},
    }


def n1_task(task: N1Task) -> list[dict[str, Any]]:
    """Worker: N-1 weights of some advisors; one plain dict per advisor."""
    from allocator.analysis.n1 import absences
    from allocator.engine.problem import build_problem

    problem = build_problem(task.instance)
    index = {advisor.id: a for a, advisor in enumerate(task.instance.advisors)}
    allocation = [index[a] if a is not None else None for a in task.allocation]
    return [
        {
            "advisor": item.advisor,
            "users": item.users,
            "weight": item.weight,
            "exact": item.exact,
        }
        for item in absences(problem, allocation, task.advisors, task.time_limit)
    ]


def solve_threads(instance: Instance, from_current: bool) -> int:
    """CP-SAT workers ``solve`` will choose for this structure (auto_workers).

    Eight for a first allocation, where nobody is settled; for a weekly run
    it depends on how many users stay, so the problem is built to ask.
    """
    from allocator.engine.cpsat.solver import auto_workers
    from allocator.engine.problem import build_problem

    if not from_current:
        return 8
    return auto_workers(build_problem(instance))


def first_allocation(instance: Instance) -> Instance:
    """The instance with nobody keeping a current advisor (and no tenure)."""
    users = tuple(
        user.model_copy(update={"current_advisor": None, "since": None})
        for user in instance.users
    )
    return instance.model_copy(update={"users": users})


def content_sha256(instance: Instance) -> str:
    """SHA-256 of what an instance says (not where it was read from)."""
    text = instance.model_dump_json(exclude={"files"})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def task_key(kind: str, **inputs: Any) -> str:
    """The hash a cached result is stored under: inputs, seed, settings, versions."""
    from allocator.version import __version__

    payload = {"kind": kind, "allocator": __version__, "figures": FIGURES_VERSION}
    payload |= inputs
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Cache:
    """Task results as JSON files named by hash, under ``folder``."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.hits = 0

    def get(self, key: str) -> Any | None:
        if self.folder is None:
            return None
        path = self.folder / f"{key}.json"
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # absent or half-written: run the task again
        self.hits += 1
        return value

    def put(self, key: str, value: Any) -> None:
        """Store a result whole (a hidden file renamed into place).

        Raises:
            SolutionError: the cache cannot be written (a full disk, a
                read-only share); no half-written file is left.
        """
        if self.folder is None:
            return
        staging = self.folder / f".{key}.{os.getpid()}.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            staging.write_text(json.dumps(value), encoding="utf-8")
            staging.replace(self.folder / f"{key}.json")
        except OSError as error:
            with contextlib.suppress(OSError):
                staging.unlink(missing_ok=True)
            reason = (error.strerror or type(error).__name__).lower()
            raise SolutionError(
                f"cannot write to {self.folder.parent}: {reason}; nothing was "
                "written (results already stored in its .cache are kept for a "
                "rerun)."
            ) from error


# Called with (structures done, structures, work done, work total).
Progress = Callable[[int, int, float, float], None]


def structure_rejected(
    scenario: str, problems: list[dict[str, Any]], sources: Mapping[str, str]
) -> InstanceError:
    """A structure the solve rejected (a fix lock that cannot hold under it)."""
    named = "the base instance" if scenario == BASE else f"scenario {scenario}"
    if scenario in sources:
        named += f" ({sources[scenario]})"
    return InstanceError(
        [
            InputProblem(
                p["file"], p["row"], p["column"], f"under {named}: {p['message']}"
            )
            for p in problems
        ]
    )


def lock_place(lock: Lock) -> str:
    """Where a lock was written: 'locks.csv row 3' or '--fix u5=a3'."""
    if lock.source.startswith("--"):
        return f"{lock.source} {lock.user}={lock.advisor}"
    return f"{lock.source} row {lock.row}"


def _names_lock(problem: InputProblem, lock: Lock) -> bool:
    """Whether a problem of ``build_problem`` is located at ``lock``."""
    if lock.source.startswith("--"):
        return problem.file == lock_place(lock)
    return problem.file == lock.source and problem.row == lock.row


def drop_impossible_locks(
    scenario: str, instance: Instance, sources: Mapping[str, str]
) -> tuple[Instance, list[dict[str, Any]]]:
    """The structure without the fix locks it makes impossible, and those locks.

    A structure may take a locked advisor's availability, competence,
    authority or team away (and a first allocation takes away the current
    advisor who alone made a lock to an unavailable advisor possible). Such
    a lock cannot hold under the structure, so it is dropped for that
    structure alone, with a ``DataWarning`` naming the lock, never a reason
    to refuse the comparison. Rules 1 to 8 decide (the model's own check,
    ``build_problem``), so a lock that breaks none is kept.

    Returns:
        The instance to solve and one record per dropped lock: ``lock``
        (where it was written), ``user``, ``advisor``, ``kind`` and
        ``reason``.

    Raises:
        InstanceError: the structure is rejected for a reason no lock
            explains (named "under scenario ...").
    """
    from allocator.engine.problem import build_problem

    dropped: list[dict[str, Any]] = []
    named = "the base" if scenario == BASE else f"scenario {scenario}"
    while any(lock.kind == "fix" for lock in instance.locks):
        try:
            build_problem(instance)
        except InstanceError as error:
            culprits: dict[int, str] = {}
            for problem in error.problems:
                for i, lock in enumerate(instance.locks):
                    if lock.kind == "fix" and _names_lock(problem, lock):
                        culprits.setdefault(i, problem.message)
            if not culprits:
                problems = [dataclasses.asdict(p) for p in error.problems]
                raise structure_rejected(scenario, problems, sources) from None
            for i, reason in culprits.items():
                lock = instance.locks[i]
                dropped.append(
                    {
                        "lock": lock_place(lock),
                        "user": lock.user,
                        "advisor": lock.advisor,
                        "kind": lock.kind,
                        "reason": reason,
                    }
                )
                warnings.warn(
                    f"under {named}: the lock in {lock_place(lock)} ({lock.kind} "
                    f"user {lock.user} to advisor {lock.advisor}) cannot hold and "
                    f"is dropped for this structure: {reason}",
                    DataWarning,
                    stacklevel=2,
                )
            kept = tuple(
                lock for i, lock in enumerate(instance.locks) if i not in culprits
            )
            instance = instance.model_copy(update={"locks": kept})
        else:
            break
    return instance, dropped


def without_locks(instance: Instance, dropped: Sequence[Mapping[str, Any]]) -> Instance:
    """``instance`` without the locks ``drop_impossible_locks`` dropped."""
    gone = {(d["lock"], d["user"], d["advisor"], d["kind"]) for d in dropped}
    kept = tuple(
        lock
        for lock in instance.locks
        if (lock_place(lock), lock.user, lock.advisor, lock.kind) not in gone
    )
    return instance.model_copy(update={"locks": kept})


def check_ids(ids: Sequence[str], sources: Mapping[str, str]) -> None:
    """Scenario ids name folders: letters of any script, digits, - and _.

    Unique, not ``base``, and no two ids may share a folder where a file
    system ignores case or Unicode form (``scenario.folder_key``): such a
    pair is an error naming both.
    """
    from allocator.scenario import folder_key, scenario_id_problem

    problems = []
    seen: dict[str, str] = {BASE: BASE}
    for scenario in ids:
        where = sources.get(scenario, scenario)
        lacking = scenario_id_problem(unicodedata.normalize("NFC", scenario))
        key = folder_key(scenario)
        if lacking is not None:
            problems.append(
                InputProblem(
                    where,
                    None,
                    "name",
                    f"scenario id {scenario!r} must be {lacking} (it becomes a "
                    "folder name).",
                )
            )
        elif key == BASE:
            problems.append(
                InputProblem(
                    where,
                    None,
                    "name",
                    "scenario id 'base' is taken by the base instance.",
                )
            )
        elif key in seen:
            other = seen[key]
            both = (
                f"scenario id {scenario!r} appears twice in this comparison."
                if other == scenario
                else f"scenario ids {other!r} ({sources.get(other, other)}) and "
                f"{scenario!r} ({where}) would share one folder (case and "
                "accents as a file system compares them); rename one."
            )
            problems.append(InputProblem(where, None, "name", both))
        seen.setdefault(key, scenario)
    if problems:
        raise InstanceError(problems)


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


@dataclass
class Variants:
    """Scenarios applied to a base, ready for ``compare_variants``.

    Attributes:
        variants: (scenario id, changed instance) pairs, in table order.
        sources: scenario id -> the scenario file it came from.
        descriptions: scenario id -> the scenario's ``description``.
        dropped: scenario id -> fix locks dropped because the scenario
            removed their advisor (records as ``drop_impossible_locks``).
    """

    variants: list[tuple[str, Instance]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _apply_despite_locks(
    instance: Instance, scenario: Any
) -> tuple[Instance, list[dict[str, Any]]]:
    """The scenario applied; fix locks it makes impossible are left to the caller.

    ``apply_scenario`` rejects a changed instance whose fix lock cannot
    hold. In a comparison such a lock is dropped for that structure
    instead (``drop_impossible_locks``), so when the scenario fails with
    the base's fix locks it is applied without them and they are put back
    (all but those naming an advisor the scenario removed, which are
    dropped here with a warning). Any other problem is raised as
    ``apply_scenario`` raised it.
    """
    from allocator.scenario import apply_scenario

    try:
        return apply_scenario(instance, scenario), []
    except InstanceError as error:
        fixes = [lock for lock in instance.locks if lock.kind == "fix"]
        if not fixes:
            raise
        rest = tuple(lock for lock in instance.locks if lock.kind != "fix")
        try:
            changed = apply_scenario(
                instance.model_copy(update={"locks": rest}), scenario
            )
        except InstanceError:
            raise error from None
    advisors = {advisor.id for advisor in changed.advisors}
    dropped = []
    for lock in fixes:
        if lock.advisor in advisors:
            continue
        reason = f"advisor {lock.advisor} is not in this structure."
        dropped.append(
            {
                "lock": lock_place(lock),
                "user": lock.user,
                "advisor": lock.advisor,
                "kind": lock.kind,
                "reason": reason,
            }
        )
        warnings.warn(
            f"under scenario {scenario.id}: the lock in {lock_place(lock)} (fix "
            f"user {lock.user} to advisor {lock.advisor}) cannot hold and is "
            f"dropped for this structure: {reason}",
            DataWarning,
            stacklevel=2,
        )
    kept = tuple(lock for lock in fixes if lock.advisor in advisors)
    return changed.model_copy(update={"locks": kept + changed.locks}), dropped


def scenario_variants(instance: Instance, scenarios: Sequence[Any]) -> Variants:
    """Apply each scenario to ``instance``; variants already made pass through.

    An item is a scenario file (path), a scenario already read
    (``read_scenario``), or an ``(id, Instance)`` pair made in code.
    Returns the variants with their sources, descriptions and the locks
    dropped on the way. Raises ``InstanceError`` naming the scenario file,
    entry and key (FORMAT 6); a fix lock the scenario makes impossible is
    no such error (it is dropped for that structure).
    """
    found = Variants()
    for item in scenarios:
        if isinstance(item, tuple) and len(item) == 2:
            sid, variant = str(item[0]), item[1]
            found.variants.append((sid, variant))
            if variant.description != instance.description:
                found.descriptions[sid] = variant.description
            continue
        from allocator.scenario import read_scenario

        scenario = read_scenario(Path(item)) if isinstance(item, (str, Path)) else item
        changed, dropped = _apply_despite_locks(instance, scenario)
        found.variants.append((scenario.id, changed))
        found.sources[scenario.id] = str(scenario.source)
        found.descriptions[scenario.id] = scenario.description
        if dropped:
            found.dropped[scenario.id] = dropped
    return found


def compare(
    instance: Instance,
    scenarios: Sequence[Any] = (),
    *,
    seeds: int | Sequence[int] = 1,
    time_limit: float | None = None,
    from_current: bool = False,
    workers: int | None = None,
    executor: Executor | str | None = None,
    out: str | Path | None = None,
    replace: bool = False,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Compare ``base`` and each scenario on the same users; one row per seed.

    Args:
        instance: the base instance (``read_instance``).
        scenarios: scenario files (paths), scenarios already read, or
            ``(id, Instance)`` variants made in code.
        seeds: a number N (seeds 0 to N-1) or the seeds themselves.
        time_limit: seconds per solve (default: the policy's).
        from_current: solve as a weekly run rather than a first allocation.
        workers: CP-SAT workers per solve.
        executor: a ``LocalExecutor`` (default) or ``DaskExecutor``, or
            ``"inline"``: every solve in this process, one after another.
        out: when given, write the section 7 folder there (and keep the
            cache of results under it, so a rerun skips unchanged work).
        replace: ``out`` may hold an earlier comparison, which is replaced
            (else that is refused, before any work).
        progress: called as work completes (structures done, structures,
            work done, work in all).

    Returns:
        A DataFrame with the comparison.csv columns (README format, section
        7): counts, weights in weighted users, FTE in posts, travel in km and
        hours, utilisation as fractions.

    Raises:
        InstanceError: a scenario that cannot apply (its file, entry, key).
        SolutionError: ``out`` holds an earlier comparison (without
            ``replace``), another folder, or cannot be written.
    """
    if executor == "inline":
        from allocator.runs.executor import InlineExecutor

        executor = InlineExecutor()
    elif isinstance(executor, str):
        raise ValueError(f"executor must be an Executor or 'inline', not {executor!r}")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    found = scenario_variants(instance, scenarios)
    folder = Path(out) if out is not None else None
    if folder is not None:
        from allocator.io.comparison import check_comparison_target

        check_comparison_target(folder, replace)
    comparison = compare_variants(
        instance,
        found.variants,
        seed_list,
        time_limit,
        from_current,
        executor,
        workers=workers,
        cache=folder / ".cache" if folder is not None else None,
        sources=found.sources,
        descriptions=found.descriptions,
        dropped_locks=found.dropped,
        progress=progress,
    )
    if folder is not None:
        from allocator.io.comparison import write_comparison

        write_comparison(comparison, folder, replace)
    return comparison.frame()
