"""Assembles variables, hard rules and soft goals into one CP-SAT model."""

from __future__ import annotations

from collections.abc import Sequence

from ortools.sat.python import cp_model

from allocator.engine.cpsat.constraints import HARD_CONSTRAINTS
from allocator.engine.cpsat.objectives import OBJ_SCALE, OBJECTIVE_TERMS, PER_MILLE
from allocator.engine.cpsat.variables import Variables
from allocator.engine.problem import Problem


class AllocationModel:
    """The CP-SAT model of one problem, and the way back to an allocation."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.model = cp_model.CpModel()
        self.variables = Variables(self.model, problem)
        for rule in HARD_CONSTRAINTS:
            rule(self.model, problem, self.variables)
        self.constant = 0
        coefficients: list[int] = []
        variables: list[cp_model.IntVar] = []
        for make_term in OBJECTIVE_TERMS.values():
            term = make_term(self.model, problem, self.variables)
            if term is None:
                continue
            self.constant += term.constant
            for coefficient, var in term.coefficients:
                coefficients.append(coefficient)
                variables.append(var)
        self.model.minimize(
            cp_model.LinearExpr.weighted_sum(variables, coefficients) + self.constant
        )

    @staticmethod
    def to_objective(value: float) -> float:
        """Model units back to objective units (weights x users, km, points)."""
        return value / OBJ_SCALE

    def hint(self, allocation: Sequence[int | None]) -> None:
        """Warm start from a per-user allocation (e.g. the greedy baseline).

        Every variable gets a value, helpers included: CP-SAT drops a hint it
        cannot complete, and then starts from nothing. The values go into
        the model in one block (one call per variable costs 0.1 s at 12,000
        variables).
        """
        self.model.clear_hints()
        v = self.variables
        problem = self.problem
        hints: dict[int, int] = {}

        def put(var: cp_model.IntVar, value: int) -> None:
            hints[var.index] = int(value)

        counts: dict[tuple[int, int], int] = {}
        group_of = self.group_of_user()
        for u, a in enumerate(allocation):
            if a is not None and (group_of[u], a) in v.assign:
                counts[group_of[u], a] = counts.get((group_of[u], a), 0) + 1
        for key, var in v.assign.items():
            put(var, counts.get(key, 0))
        placed = [0] * len(problem.groups)
        load = [0] * problem.num_advisors
        served: set[tuple[int, str]] = set()
        for (g, a), count in counts.items():
            group = problem.groups[g]
            placed[g] += count
            load[a] += count * group.weight
            served.add((a, group.municipality))
        for g, var in v.left.items():
            put(var, problem.groups[g].size - placed[g])
        for g, var in v.moved.items():
            group = problem.groups[g]
            stay = counts.get((g, group.current), 0) if group.current is not None else 0
            put(var, group.size - stay)
        for where, flag in v.serves.items():
            put(flag, where in served)
        for (h, a), var in v.household.items():
            members = problem.households[h]
            put(var, any(counts.get((g, a), 0) for g in members))
        teams = problem.balanced_teams()
        for t, var in v.peak.items():
            peak = max(-(-PER_MILLE * load[a] // problem.capacity[a]) for a in teams[t])
            put(var, min(PER_MILLE, peak))
        block = self.model.proto.solution_hint
        block.vars.extend(list(hints))
        block.values.extend(list(hints.values()))

    def group_of_user(self) -> list[int]:
        """Group index of every user."""
        group_of = [0] * len(self.problem.instance.users)
        for g, group in enumerate(self.problem.groups):
            for u in group.user_idcs:
                group_of[u] = g
        return group_of

    def allocation(self, values: Sequence[int]) -> list[int | None]:
        """Hands each group's counts out to its users, deterministically.

        Users of a group are interchangeable, so which of them stay with the
        current advisor is a matter of order only: the earliest users in the
        input stay, then the others go to advisors in input order, and the
        last ones are left unassigned. ``values`` is a CP-SAT solution, by
        variable index (``response.solution``).
        """
        result: list[int | None] = [None] * len(self.problem.instance.users)
        for g, group in enumerate(self.problem.groups):
            counts = {a: values[var.index] for a, var in self.variables.by_group[g]}
            order = sorted(counts, key=lambda a: (a != group.current, a))
            users = iter(group.user_idcs)
            for a in order:
                for _ in range(counts[a]):
                    result[next(users)] = a
        return result
