"""The comparison's work as plain tasks, and the cache of their results.

A task (one solve of a structure and seed, or N-1 for some of its
advisors) is plain, picklable data; the workers (``solve_task``,
``n1_task``) return plain records, stored by ``task_key`` in the ``Cache``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from allocator.domain import Instance
from allocator.errors import InstanceError, SolutionError

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
    # A structure is solved whole, never in parts: its problem is here.
    assert solution.problem is not None
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
