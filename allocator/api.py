"""The public verbs for Python users and notebooks: read, solve, check.

Each verb is one call into the rooms below; nothing here writes a file
unless asked (``Solution.write``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from allocator.compare import compare as compare
from allocator.domain import Instance, Lock
from allocator.run import RunOptions, solve_instance
from allocator.solution import Solution


def read_instance(path: str | Path, locks: Sequence[Lock] = ()) -> Instance:
    """Read an instance folder (FORMAT.md sections 1 to 4).

    Args:
        path: the folder holding instance.toml and the tables (CSV or xlsx).
        locks: extra fix/forbid locks, as ``--fix``/``--forbid`` give them.

    Returns:
        The validated :class:`~allocator.domain.Instance`.

    Raises:
        InstanceError: the input was rejected; ``.problems`` lists every
            problem with its file, row and column.
    """
    from allocator.io.read import read_instance as _read

    return _read(Path(path), extra_locks=locks)


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

    Returns:
        The solution; its ``assignments``, ``advisor_load``, ``team_load`` and
        ``municipality_load`` are DataFrames, ``summary`` a dict, and
        ``write(folder)`` writes the FORMAT.md section 5 folder.

    Raises:
        InstanceError, SolutionError: a ``previous`` that cannot be read.
    """
    options = RunOptions(
        time_limit=time_limit,
        seed=seed,
        workers=workers,
        portfolio=portfolio,
        deterministic_time=deterministic_time,
        solver=solver,
        previous=Path(previous) if previous is not None else None,
        rebalance=rebalance,
        max_moves=max_moves,
        on_progress=progress,
        stop=stop,
    )
    return solve_instance(instance, options)


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


def check(instance: Instance, solution_path: str | Path) -> list[str]:
    """Run the independent checker on a written solution folder.

    Returns one line per broken rule; an empty list means the solution obeys
    every rule (FORMAT.md sections 4 and 5). The checker shares no code with
    the model.
    """
    from allocator.checker import check_solution

    return check_solution(instance, Path(solution_path))
