"""Generalized assignment problem (GAP) benchmark: the caseload model's core.

Readers for the OR-Library / Yagiura files and three solvers (CP-SAT with LNS,
HiGHS MIP as a reference, a regret greedy as a baseline). They are measured
against best-known values by the one benchmark runner,
``allocator bench --format gap`` (``allocator.runs.bench``).
"""

from allocator.gap.cpsat import solve_cpsat
from allocator.gap.greedy import solve_greedy
from allocator.gap.highs import solve_highs
from allocator.gap.read import (
    GapInstance,
    read_best_known,
    read_gap,
    read_gap_problems,
)
from allocator.gap.result import GapResult, GapStatus

__all__ = [
    "GapInstance",
    "GapResult",
    "GapStatus",
    "read_best_known",
    "read_gap",
    "read_gap_problems",
    "solve_cpsat",
    "solve_greedy",
    "solve_highs",
]
