"""Assembles variables, hard rules and soft goals into one CP-SAT model."""

from __future__ import annotations

from collections.abc import Sequence

from ortools.sat.python import cp_model

from ..problem import Problem
from .constraints import HARD_CONSTRAINTS
from .objectives import OBJ_SCALE, OBJECTIVE_TERMS
from .variables import Variables


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
        """Warm start from a per-user allocation (e.g. last week's or greedy)."""
        self.model.clear_hints()
        counts: dict[tuple[int, int], int] = {}
        group_of = self.group_of_user()
        for u, a in enumerate(allocation):
            if a is not None and (group_of[u], a) in self.variables.assign:
                counts[group_of[u], a] = counts.get((group_of[u], a), 0) + 1
        for key, var in self.variables.assign.items():
            self.model.add_hint(var, counts.get(key, 0))

    def group_of_user(self) -> list[int]:
        """Group index of every user."""
        group_of = [0] * len(self.problem.instance.users)
        for g, group in enumerate(self.problem.groups):
            for u in group.user_idcs:
                group_of[u] = g
        return group_of

    def allocation(self, solver: cp_model.CpSolver) -> list[int | None]:
        """Hands each group's counts out to its users, deterministically.

        Users of a group are interchangeable, so which of them stay with the
        current advisor is a matter of order only: the earliest users in the
        input stay, then the others go to advisors in input order, and the
        last ones are left unassigned.
        """
        result: list[int | None] = [None] * len(self.problem.instance.users)
        for g, group in enumerate(self.problem.groups):
            counts = {a: solver.value(var) for a, var in self.variables.by_group[g]}
            order = sorted(counts, key=lambda a: (a != group.current, a))
            users = iter(group.user_idcs)
            for a in order:
                for _ in range(counts[a]):
                    result[next(users)] = a
        return result
