"""Soft goals, one function each, in objective units x ``OBJ_SCALE``.

Each term returns None when its weight is 0, so a switched-off goal adds
nothing to the model. Every term is a sum of (coefficient, variable) pairs
plus a constant; the assembler adds the enabled ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from allocator.engine.cpsat.variables import Variables
from allocator.engine.problem import SCALE, Problem

# One objective unit is weight x natural unit (a user, a km, a percentage
# point); the model keeps two decimals.
OBJ_SCALE = 100
# Utilisation is modelled in per mille so balance is exact to 0.1 point.
PER_MILLE = 1000


@dataclass
class Term:
    """A linear objective term: constant + sum of coefficient x variable."""

    constant: int = 0
    coefficients: list[tuple[int, cp_model.IntVar]] = field(default_factory=list)

    def add(self, coefficient: float, var: cp_model.IntVar) -> None:
        scaled = round(coefficient)
        if scaled:
            self.coefficients.append((scaled, var))


TermFunction = Callable[[cp_model.CpModel, Problem, Variables], Term | None]


def unassigned(model: cp_model.CpModel, problem: Problem, v: Variables) -> Term | None:
    """Soft (R08): weight per weighted user left unassigned."""
    weight = problem.instance.policy.weights.unassigned
    if weight == 0:
        return None
    term = Term()
    for g, group in enumerate(problem.groups):
        per_user = weight * group.weight / SCALE * OBJ_SCALE
        if g in v.left:
            term.add(per_user, v.left[g])
        else:
            term.constant += round(per_user * group.size)
    return term


def urgent_unassigned(
    model: cp_model.CpModel, problem: Problem, v: Variables
) -> Term | None:
    """Soft (R08): weight per urgent user left unassigned, on top of the above."""
    weight = problem.instance.policy.weights.urgent_unassigned
    if weight == 0:
        return None
    term = Term()
    for g, group in enumerate(problem.groups):
        if not group.urgent:
            continue
        if g in v.left:
            term.add(weight * OBJ_SCALE, v.left[g])
        else:
            term.constant += round(weight * OBJ_SCALE * group.size)
    return term


def reassignments(
    model: cp_model.CpModel, problem: Problem, v: Variables
) -> Term | None:
    """Soft (R12): weight per user moved away from (or losing) a current advisor."""
    weight = problem.instance.policy.weights.reassignment
    if weight == 0:
        return None
    term = Term()
    for g, group in enumerate(problem.groups):
        if group.current is None:
            continue
        stay = v.assign.get((g, group.current))
        if stay is None:
            term.constant += round(weight * OBJ_SCALE * group.size)
            continue
        # moved >= size - stay, its own non-negative variable (see left).
        moved = model.new_int_var(0, group.size, f"moved[{g}]")
        v.moved[g] = moved
        model.add(moved + stay >= group.size)
        term.add(weight * OBJ_SCALE, moved)
    return term


def rotation(model: cp_model.CpModel, problem: Problem, v: Variables) -> Term | None:
    """Soft (R13): weight per user kept beyond rotation_months."""
    weight = problem.instance.policy.weights.rotation
    if weight == 0 or problem.instance.policy.rotation_months <= 0:
        return None
    term = Term()
    for g, group in enumerate(problem.groups):
        if (
            group.rotation_due
            and group.current is not None
            and (g, group.current) in v.assign
        ):
            term.add(weight * OBJ_SCALE, v.assign[g, group.current])
    return term


def travel(model: cp_model.CpModel, problem: Problem, v: Variables) -> Term | None:
    """Soft (R21): weight per km from the advisor's base to the user's home."""
    weight = problem.instance.policy.weights.travel
    if weight == 0:
        return None
    term = Term()
    for (g, a), var in v.assign.items():
        term.add(
            weight * problem.km(a, problem.groups[g].municipality) * OBJ_SCALE, var
        )
    return term


def non_local(model: cp_model.CpModel, problem: Problem, v: Variables) -> Term | None:
    """Soft (R24): weight per prefer_non_local user given a local advisor."""
    weight = problem.instance.policy.weights.non_local
    if weight == 0:
        return None
    term = Term()
    advisors = problem.instance.advisors
    for (g, a), var in v.assign.items():
        group = problem.groups[g]
        if group.prefer_non_local and advisors[a].base == group.municipality:
            term.add(weight * OBJ_SCALE, var)
    return term


def load_balance(
    model: cp_model.CpModel, problem: Problem, v: Variables
) -> Term | None:
    """Soft (R16): per team, the highest utilisation among its advisors.

    Utilisation is load / capacity, so it is per FTE of casework: a half-time
    advisor at 50 % carries half the load of a full-time one at 50 %. Only
    available advisors with capacity count (an absent advisor cannot be
    balanced). Lowering each team's peak spreads the load; a peak is a
    fraction between 0 and 1 whatever the team's size or the instance, so
    figures compare across runs. Unlike a max-minus-min spread, whose linear
    relaxation is always 0, a peak is bounded below by the team's average
    utilisation, so the solver can prove its answers. A team's whole peak
    costs at most the weight (100 by default, a tenth of one unassigned
    user), so balancing never leaves a user unassigned.
    """
    weight = problem.instance.policy.weights.load_balance
    if weight == 0:
        return None
    term = Term()
    for t, advisors in problem.balanced_teams().items():
        peak = model.new_int_var(0, PER_MILLE, f"utilisation_peak[{t}]")
        v.peak[t] = peak
        for a in advisors:
            load = sum(problem.groups[g].weight * var for g, var in v.by_advisor[a])
            # load / capacity <= peak / 1000, kept linear by multiplying out.
            model.add(PER_MILLE * load <= peak * problem.capacity[a])
        term.add(weight * OBJ_SCALE / PER_MILLE, peak)
    return term


# The index of soft goals, by the policy weight that switches each.
OBJECTIVE_TERMS: dict[str, TermFunction] = {
    "unassigned": unassigned,
    "urgent_unassigned": urgent_unassigned,
    "reassignment": reassignments,
    "load_balance": load_balance,
    "travel": travel,
    "rotation": rotation,
    "non_local": non_local,
}
