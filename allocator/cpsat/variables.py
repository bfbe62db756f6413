"""Decision variables, created only for eligible (group, advisor) pairs."""

from __future__ import annotations

from ortools.sat.python import cp_model

from ..problem import Problem


class Variables:
    """``assign[g, a]``: how many users of group g advisor a takes.

    A Boolean for a group of one, an integer in [0, size] otherwise. Helper
    variables used by a single rule or goal are made by that rule or goal.
    """

    def __init__(self, model: cp_model.CpModel, problem: Problem) -> None:
        self.assign: dict[tuple[int, int], cp_model.IntVar] = {}
        self.by_group: list[list[tuple[int, cp_model.IntVar]]] = []
        self.by_advisor: list[list[tuple[int, cp_model.IntVar]]] = [
            [] for _ in range(problem.num_advisors)
        ]
        for g, group in enumerate(problem.groups):
            pairs = []
            for a in group.eligible:
                name = f"assign[{g},{problem.instance.advisors[a].id}]"
                var = (
                    model.new_bool_var(name)
                    if group.size == 1
                    else model.new_int_var(0, group.size, name)
                )
                self.assign[g, a] = var
                pairs.append((a, var))
                self.by_advisor[a].append((g, var))
            self.by_group.append(pairs)

    def assigned(self, g: int) -> cp_model.LinearExprT:
        """Number of group g's users who get an advisor."""
        return sum(var for _, var in self.by_group[g])
