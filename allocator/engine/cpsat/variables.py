"""Decision variables, created only for eligible (group, advisor) pairs."""

from __future__ import annotations

from ortools.sat.python import cp_model

from allocator.engine.problem import Problem


class Variables:
    """``assign[g, a]``: how many users of group g advisor a takes.

    A Boolean for a group of one, an integer in [0, size] otherwise. A
    group held with its current advisor (minimal churn) gets only that
    pair. ``left[g]`` counts the group's users left unassigned, so goals
    are sums of non-negative terms and even plain propagation bounds them
    at zero. Helper variables used by one rule or goal are made there.
    """

    def __init__(self, model: cp_model.CpModel, problem: Problem) -> None:
        self.assign: dict[tuple[int, int], cp_model.IntVar] = {}
        self.left: dict[int, cp_model.IntVar] = {}
        # Helpers the rules and goals make, kept here so a hint can set them:
        # serves[a, municipality], household[h, a], moved[g], peak[team].
        self.serves: dict[tuple[int, str], cp_model.IntVar] = {}
        self.household: dict[tuple[int, int], cp_model.IntVar] = {}
        self.moved: dict[int, cp_model.IntVar] = {}
        self.peak: dict[int, cp_model.IntVar] = {}
        self.by_group: list[list[tuple[int, cp_model.IntVar]]] = []
        self.by_advisor: list[list[tuple[int, cp_model.IntVar]]] = [
            [] for _ in range(problem.num_advisors)
        ]
        for g, group in enumerate(problem.groups):
            options = (
                (group.current,)
                if g in problem.pinned and group.current is not None
                else group.eligible
            )
            pairs = []
            for a in options:
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
            if pairs:
                # A pinned group is all with its current advisor: none left.
                most = 0 if g in problem.pinned else group.size
                self.left[g] = model.new_int_var(0, most, f"left[{g}]")

    def assigned(self, g: int) -> cp_model.LinearExpr:
        """Number of group g's users who get an advisor."""
        return cp_model.LinearExpr.sum([var for _, var in self.by_group[g]])
