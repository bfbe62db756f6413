"""A strong first allocation from the transportation relaxation.

Most of the objective is who gets placed, and placing the most weight
subject to capacity and eligibility is a transportation problem. This
module solves it exactly as a linear programme (HiGHS), with every goal the
model has except the municipality limit, households and integrality:

    minimise   sum_g cost_left(g) left[g] + sum_(g,a) cost(g, a) x[g, a]
               + load_balance * sum_t peak[t]
    subject to sum_a x[g, a] + left[g] = size(g)           (each user once)
               sum_g weight(g) x[g, a] <= capacity(a)      (rule 4)
               sum_g weight(g) x[g, a] <= peak[t] capacity(a)   (R16, a in t)
               sum_(g new to a) x[g, a] <= intake(a)         (rule 4)

Its value bounds the model from below only when no municipality limit
binds, so it is used as a start, not as a bound. The municipality limit
(rule 5) is then repaired by keeping, for each advisor, the municipalities
that carry the most of its LP load, and solving the LP again with only
those; the result is rounded down and completed user by user through the
ledger (every hard rule checked there, households kept together), and
whatever is left is placed as the compact greedy would.
"""

from __future__ import annotations

import math
import os
import sys
from collections import defaultdict
from collections.abc import Sequence

import highspy
import numpy as np

from allocator.engine.ledger import Ledger
from allocator.engine.problem import SCALE, Problem

Allocation = list[int | None]


def quiet_highs() -> highspy.Highs:
    """A quiet HiGHS object (its banner goes straight to file descriptor 1)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            highs = highspy.Highs()
            highs.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("random_seed", 0)
    return highs


def pair_cost(problem: Problem, g: int, a: int) -> float:
    """Objective units for one user of group g with advisor a (R12, R13, R21, R24)."""
    weights = problem.instance.policy.weights
    group = problem.groups[g]
    cost = weights.travel * problem.km(a, group.municipality)
    if (
        group.prefer_non_local
        and problem.instance.advisors[a].base == group.municipality
    ):
        cost += weights.non_local
    if group.current is not None and a != group.current:
        cost += weights.reassignment
    if (
        group.rotation_due
        and a == group.current
        and problem.instance.policy.rotation_months > 0
    ):
        cost += weights.rotation
    return cost


def left_cost(problem: Problem, g: int) -> float:
    """Objective units for one user of group g left waiting (R08, R12)."""
    weights = problem.instance.policy.weights
    group = problem.groups[g]
    cost = weights.unassigned * group.weight / SCALE
    cost += weights.urgent_unassigned * group.urgent
    if group.current is not None:
        cost += weights.reassignment
    return cost


def transportation(
    problem: Problem, allowed: dict[int, set[str]] | None = None
) -> dict[tuple[int, int], float] | None:
    """The LP's x[g, a] (users of g given to a), or None when HiGHS fails.

    ``allowed`` restricts advisors to some municipalities (the repair of
    rule 5); pinned groups keep their current advisor.
    """
    pairs: list[tuple[int, int]] = []
    for g, group in enumerate(problem.groups):
        options = (
            (group.current,)
            if g in problem.pinned and group.current is not None
            else group.eligible
        )
        for a in options:
            if (
                allowed is not None
                and a in allowed
                and group.municipality not in allowed[a]
            ):
                continue
            pairs.append((g, a))
    n_groups = len(problem.groups)
    teams = problem.balanced_teams()
    team_list = sorted(teams)
    weight_lb = problem.instance.policy.weights.load_balance
    n_cols = len(pairs) + n_groups + len(team_list)
    cost = np.zeros(n_cols)
    upper = np.zeros(n_cols)
    for k, (g, a) in enumerate(pairs):
        cost[k] = pair_cost(problem, g, a)
        upper[k] = problem.groups[g].size
    for g, group in enumerate(problem.groups):
        k = len(pairs) + g
        cost[k] = left_cost(problem, g)
        fixed = g in problem.pinned or g in problem.freed
        upper[k] = 0 if fixed else group.size
    for i, _t in enumerate(team_list):
        k = len(pairs) + n_groups + i
        cost[k] = weight_lb
        upper[k] = 1.0
    # Rows: groups (equality), capacity per advisor, balance per balanced
    # advisor, intake per advisor with a limit.
    rows: dict[tuple[str, int], int] = {}
    lower_r: list[float] = []
    upper_r: list[float] = []

    def row(key: tuple[str, int], low: float, high: float) -> int:
        rows[key] = len(lower_r)
        lower_r.append(low)
        upper_r.append(high)
        return rows[key]

    for g, group in enumerate(problem.groups):
        row(("group", g), group.size, group.size)
    for a in range(problem.num_advisors):
        row(("capacity", a), -highspy.kHighsInf, problem.capacity[a])
    team_of_col = {t: len(pairs) + n_groups + i for i, t in enumerate(team_list)}
    for t in team_list:
        for a in teams[t]:
            row(("balance", a), -highspy.kHighsInf, 0.0)
    for a in range(problem.num_advisors):
        if problem.intake_limit[a] is not None:
            row(("intake", a), -highspy.kHighsInf, float(problem.intake_limit[a] or 0))
    columns: list[list[tuple[int, float]]] = [[] for _ in range(n_cols)]
    for k, (g, a) in enumerate(pairs):
        group = problem.groups[g]
        columns[k].append((rows["group", g], 1.0))
        columns[k].append((rows["capacity", a], float(group.weight)))
        if ("balance", a) in rows:
            columns[k].append((rows["balance", a], float(group.weight)))
        if ("intake", a) in rows and group.current != a:
            columns[k].append((rows["intake", a], 1.0))
    for g in range(n_groups):
        columns[len(pairs) + g].append((rows["group", g], 1.0))
    for t in team_list:
        for a in teams[t]:
            columns[team_of_col[t]].append(
                (rows["balance", a], -float(problem.capacity[a]))
            )
    start = [0]
    index: list[int] = []
    value: list[float] = []
    for column in columns:
        for r, v in sorted(column):
            index.append(r)
            value.append(v)
        start.append(len(index))
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = len(lower_r)
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = upper
    lp.row_lower_ = np.asarray(lower_r, dtype=np.float64)
    lp.row_upper_ = np.asarray(upper_r, dtype=np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.asarray(start, dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.asarray(value, dtype=np.float64)
    highs = quiet_highs()
    highs.passModel(lp)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    x = highs.getSolution().col_value
    return {pair: float(x[k]) for k, pair in enumerate(pairs) if x[k] > 1e-7}


def kept_municipalities(
    problem: Problem, x: dict[tuple[int, int], float]
) -> dict[int, set[str]]:
    """Per advisor over its limit in the LP: the municipalities with most LP load.

    Rule 5's repair; ties go to the municipality first in the input.
    """
    load: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for (g, a), amount in x.items():
        group = problem.groups[g]
        load[a][group.municipality] += amount * group.weight
    order = {m.id: i for i, m in enumerate(problem.instance.municipalities)}
    allowed: dict[int, set[str]] = {}
    for a, by_place in load.items():
        most = problem.max_municipalities[a]
        if most and len(by_place) > most:
            ranked = sorted(by_place, key=lambda m: (-by_place[m], order.get(m, 0)))
            allowed[a] = set(ranked[:most])
    return allowed


def round_and_fill(problem: Problem, x: dict[tuple[int, int], float]) -> Allocation:
    """An allocation from LP values: whole users first, then the rest greedily.

    Every placement goes through the ledger, so every hard rule holds; a
    household's members go to one advisor (the first member's) or wait.
    """
    users = problem.instance.users
    allocation: Allocation = [None] * len(users)
    ledger = Ledger(problem)
    household_of: dict[int, str] = {}
    for g, group in enumerate(problem.groups):
        household = users[group.user_idcs[0]].household
        if household is not None:
            household_of[g] = household
    household_advisor: dict[str, int] = {}
    by_group: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for (g, a), amount in x.items():
        by_group[g].append((amount, a))
    fixed_first = sorted(
        range(len(problem.groups)),
        key=lambda g: (
            problem.groups[g].fixed is None,
            g not in problem.pinned,
            -left_cost(problem, g) / max(problem.groups[g].weight, 1),
            g,
        ),
    )
    open_users: dict[int, list[int]] = {
        g: list(problem.groups[g].user_idcs) for g in range(len(problem.groups))
    }

    def place(g: int, a: int) -> bool:
        group = problem.groups[g]
        household = household_of.get(g)
        if household is not None and household_advisor.get(household, a) != a:
            return False
        if ledger.breach(a, group.weight, group.municipality, a != group.current):
            return False
        u = open_users[g].pop(0)
        allocation[u] = a
        ledger.take(a, group.weight, group.municipality, a != group.current)
        if household is not None:
            household_advisor[household] = a
        return True

    for g in fixed_first:
        for amount, a in sorted(by_group[g], key=lambda item: (-item[0], item[1])):
            for _ in range(math.floor(amount + 1e-6)):
                if not open_users[g] or not place(g, a):
                    break
    # What rounding left: urgent and heavy users first, those with the
    # fewest options first, each to an advisor already serving their
    # municipality when possible, then the least loaded.
    rest = sorted(
        (g for g in fixed_first if open_users[g]),
        key=lambda g: (
            -left_cost(problem, g) / max(problem.groups[g].weight, 1),
            len(problem.groups[g].eligible),
            g,
        ),
    )
    for g in rest:
        group = problem.groups[g]
        options = (
            [group.current]
            if g in problem.pinned and group.current is not None
            else list(group.eligible)
        )
        lp_order = {a: -amount for amount, a in by_group[g]}
        while open_users[g]:
            fitting = [
                a
                for a in options
                if not ledger.breach(
                    a, group.weight, group.municipality, a != group.current
                )
                and household_advisor.get(household_of.get(g, ""), a) == a
            ]
            if not fitting:
                break
            best = min(
                fitting,
                key=lambda a: (
                    group.municipality not in ledger.municipalities[a],
                    lp_order.get(a, 0.0),
                    ledger.utilisation(a),
                    problem.km(a, group.municipality),
                    a,
                ),
            )
            place(g, best)
    return allocation


def flow_start(problem: Problem) -> Allocation | None:
    """The transportation relaxation's allocation, repaired to obey every rule.

    Returns None when the LP cannot be solved (the caller keeps its greedy
    start). Deterministic: HiGHS runs single-threaded with a fixed seed.
    """
    x = transportation(problem)
    if x is None:
        return None
    allowed = kept_municipalities(problem, x)
    if allowed:
        repaired = transportation(problem, allowed)
        if repaired is not None:
            x = repaired
    return round_and_fill(problem, x)


def placed_weight(problem: Problem, allocation: Sequence[int | None]) -> int:
    """Scaled weight of the users an allocation places (for tests and tables)."""
    return sum(
        group.weight
        for group in problem.groups
        for u in group.user_idcs
        if allocation[u] is not None
    )
