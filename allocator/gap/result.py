"""The common result of every GAP solver, and checks on an assignment."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from allocator.gap.read import GapInstance


class GapStatus(str, Enum):
    """How far a solver got."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    NO_SOLUTION = "no_solution"


@dataclass(frozen=True)
class GapResult:
    """Outcome of one solve.

    ``assignment[j]`` is the agent of job ``j`` (empty when no solution).
    ``objective`` is None without a solution; ``bound`` is a proven lower bound
    on the optimum cost when the solver gives one.
    """

    solver: str
    status: GapStatus
    objective: int | None
    bound: float | None
    wall_s: float
    time_to_first_s: float | None
    assignment: list[int] = field(default_factory=list)


def cost_of(instance: GapInstance, assignment: list[int]) -> int:
    """Recompute the cost of an assignment from the instance data."""
    return sum(instance.costs[agent][job] for job, agent in enumerate(assignment))


def loads_of(instance: GapInstance, assignment: list[int]) -> list[int]:
    """Recompute the resource used by each agent."""
    loads = [0] * instance.num_agents
    for job, agent in enumerate(assignment):
        loads[agent] += instance.uses[agent][job]
    return loads


def is_feasible(instance: GapInstance, assignment: list[int]) -> bool:
    """True when every job has a valid agent and no capacity is exceeded."""
    if len(assignment) != instance.num_jobs:
        return False
    if any(not 0 <= agent < instance.num_agents for agent in assignment):
        return False
    loads = loads_of(instance, assignment)
    return all(
        load <= cap for load, cap in zip(loads, instance.capacities, strict=True)
    )
