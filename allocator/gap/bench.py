"""Run the GAP solvers over benchmark files and compare with best-known values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from allocator.gap.cpsat import solve_cpsat
from allocator.gap.greedy import solve_greedy
from allocator.gap.highs import solve_highs
from allocator.gap.read import BestKnown, read_gap_problems
from allocator.gap.result import GapResult

SOLVERS = ("cpsat", "highs", "greedy")


def benchmark_gap(
    paths: Iterable[str | Path],
    time_limits: Sequence[float],
    seeds: Sequence[int],
    workers: int = 2,
    best_known: dict[str, BestKnown] | None = None,
    solvers: Sequence[str] = SOLVERS,
) -> list[dict[str, Any]]:
    """One row per instance, solver, time limit and seed.

    The greedy has neither time limit nor seed, so it runs once per instance.
    ``gap_to_best_known`` is (objective - best known) / best known.
    """
    rows: list[dict[str, Any]] = []
    known = best_known or {}
    instances = [each for path in paths for each in read_gap_problems(path)]
    for instance in instances:
        target = known.get(instance.name)
        best = target[2] if target is not None else None
        if "greedy" in solvers:
            rows.append(_row(instance.name, solve_greedy(instance), None, None, best))
        for limit in time_limits:
            for seed in seeds:
                if "cpsat" in solvers:
                    result = solve_cpsat(instance, limit, seed, workers)
                    rows.append(_row(instance.name, result, limit, seed, best))
                if "highs" in solvers:
                    result = solve_highs(instance, limit, seed)
                    rows.append(_row(instance.name, result, limit, seed, best))
    return rows


def _row(
    name: str,
    result: GapResult,
    time_limit: float | None,
    seed: int | None,
    best_known: int | None,
) -> dict[str, Any]:
    """Flatten one result into a table row."""
    gap = None
    if result.objective is not None and best_known:
        gap = (result.objective - best_known) / best_known
    return {
        "instance": name,
        "solver": result.solver,
        "time_limit": time_limit,
        "seed": seed,
        "status": result.status.value,
        "objective": result.objective,
        "bound": result.bound,
        "best_known": best_known,
        "gap_to_best_known": gap,
        "time_to_first_s": result.time_to_first_s,
        "wall_s": result.wall_s,
    }
