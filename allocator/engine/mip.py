"""A part's CP-SAT model solved as a MIP by HiGHS: the bound search of round two.

On office-wide teams whose advisors must each choose 2 of 5 to 8
municipalities, CP-SAT's LP bound sits 2 to 5 % below the optimum and its
search closes that only after 20 to 80 s. HiGHS's branch and bound, with
its cuts, proves the same parts in a few hundred nodes (measured on the
office shape's hard parts: solutions/BENCHMARKS.md). The allocation model
is linear throughout (every hard rule and goal is a linear constraint over
integer variables), so the CP-SAT model is handed over as it is: one column
per variable with its domain, one row per linear constraint, the same
objective. A model with any other kind of constraint is not converted.

Determinism: HiGHS runs on one thread and stops at a node limit (its
deterministic budget); the wall-clock limit is only the search's safety
cap, reported as such.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection
from dataclasses import dataclass

import highspy
import numpy as np

from allocator.engine.cpsat import AllocationModel
from allocator.engine.flow import quiet_highs

# CP-SAT's "no bound" ends of a domain.
_NO_BOUND = 2**62
# Status of a HiGHS run that ended by its own limits, not by proof.
_LIMITS = {
    highspy.HighsModelStatus.kSolutionLimit,
    highspy.HighsModelStatus.kIterationLimit,
    highspy.HighsModelStatus.kObjectiveBound,
}


@dataclass
class MipOutcome:
    """What HiGHS found on one part, in the model's own units (``to_objective``).

    ``values`` is a solution by CP-SAT variable index (None without one),
    whole numbers unless variables were relaxed;
    ``bound`` is HiGHS's proved lower bound; ``proved`` says the run ended by
    the gap target; ``timed_out`` that the wall clock cut it.
    """

    values: list[float] | None
    bound: float
    proved: bool
    timed_out: bool
    nodes: int


def convertible(model: AllocationModel) -> bool:
    """Whether every constraint of the model is a plain linear one."""
    return all(
        c.has_linear() and not list(c.enforcement_literal)
        for c in model.model.proto.constraints
    )


def _bound(value: int) -> float:
    if value <= -_NO_BOUND:
        return -highspy.kHighsInf
    if value >= _NO_BOUND:
        return highspy.kHighsInf
    return float(value)


def solve_mip(
    model: AllocationModel,
    *,
    nodes: int,
    time_limit: float,
    gap: float,
    stop: threading.Event | None = None,
    relax: Collection[int] = (),
) -> MipOutcome:
    """Solve the CP-SAT ``model`` with HiGHS's MIP solver.

    ``nodes`` caps the branch-and-bound nodes (the deterministic budget);
    ``time_limit`` is in seconds; ``gap`` is the relative gap that ends the
    search; setting ``stop`` (e.g. by Ctrl-C) ends it at HiGHS's next
    check. The variables in ``relax`` (CP-SAT indices) are continuous: the
    bound is then a bound of that relaxation, which holds for the model
    too, and the values are not rounded (no allocation). The caller must
    check :func:`convertible` first.
    """
    proto = model.model.proto
    highs = quiet_highs()
    highs.setOptionValue("mip_rel_gap", gap)
    highs.setOptionValue("mip_max_nodes", max(1, nodes))
    highs.setOptionValue("time_limit", max(0.01, time_limit))
    n = len(proto.variables)
    domains = [list(v.domain) for v in proto.variables]
    lower = np.array([_bound(d[0]) for d in domains])
    upper = np.array([_bound(d[-1]) for d in domains])
    cost = np.zeros(n)
    objective = proto.objective
    for var, coefficient in zip(objective.vars, objective.coeffs, strict=True):
        # A negative reference is the negation of variable -var-1.
        if var >= 0:
            cost[var] += coefficient
        else:
            cost[-var - 1] -= coefficient
    highs.addVars(n, lower, upper)
    columns = np.arange(n, dtype=np.int32)
    highs.changeColsCost(n, columns, cost)
    integrality = [highspy.HighsVarType.kInteger] * n
    for var in relax:
        integrality[var] = highspy.HighsVarType.kContinuous
    highs.changeColsIntegrality(n, columns, np.array(integrality))
    for constraint in proto.constraints:
        linear = constraint.linear
        domain = list(linear.domain)
        index = np.array(list(linear.vars), dtype=np.int32)
        values = np.array(list(linear.coeffs), dtype=float)
        highs.addRow(_bound(domain[0]), _bound(domain[-1]), len(index), index, values)
    if stop is not None:

        def interrupt(event: object) -> None:
            if stop.is_set():
                event.data_in.user_interrupt = True  # type: ignore[attr-defined]

        highs.cbMipInterrupt += interrupt
    highs.run()
    status = highs.getModelStatus()
    info = highs.getInfo()
    feasible = highspy.SolutionStatus.kSolutionStatusFeasible
    found: list[float] | None = None
    if info.primal_solution_status == feasible:
        columns_found = highs.getSolution().col_value
        found = list(columns_found) if relax else [round(x) for x in columns_found]
    scale = objective.scaling_factor or 1.0
    bound = info.mip_dual_bound
    bound = (bound + objective.offset) * scale if math.isfinite(bound) else -math.inf
    return MipOutcome(
        values=found,
        bound=bound,
        proved=status == highspy.HighsModelStatus.kOptimal,
        timed_out=status == highspy.HighsModelStatus.kTimeLimit,
        nodes=int(info.mip_node_count),
    )


__all__ = ["MipOutcome", "convertible", "solve_mip"]
