"""CP-SAT model of a (sub-)GAP: the given agents share the given jobs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from allocator.gap.arrays import GapArrays, IntArray

BoolArray = npt.NDArray[np.bool_]


@dataclass
class SubModel:
    """A CP-SAT model plus the (agent, job, variable) triples it was built from."""

    model: cp_model.CpModel
    pairs: list[tuple[int, int, cp_model.IntVar]]


def build_model(
    arrays: GapArrays,
    agents: IntArray,
    jobs: IntArray,
    allowed: BoolArray | None = None,
    hint: IntArray | None = None,
    limits: IntArray | None = None,
) -> SubModel:
    """Boolean x[i, j] for each allowed pair, one agent per job, capacities.

    ``allowed`` (shape (m, n)) drops pairs that cannot be in an improving
    solution (reduced-cost fixing); a job always keeps its hinted agent, so the
    hint stays a solution of the model. ``limits`` (shape (m,)) replaces the
    capacities when the agents keep other, fixed jobs (their remaining room).
    """
    if limits is None:
        limits = arrays.capacities
    model = cp_model.CpModel()
    pairs: list[tuple[int, int, cp_model.IntVar]] = []
    per_agent: dict[int, list[tuple[int, cp_model.IntVar]]] = {
        int(i): [] for i in agents
    }
    for j in jobs:
        job = int(j)
        row: list[cp_model.IntVar] = []
        for a in agents:
            agent = int(a)
            keep = allowed is None or bool(allowed[agent, job])
            if not keep and (hint is None or hint[job] != agent):
                continue
            if arrays.uses[agent, job] > limits[agent]:
                continue
            var = model.new_bool_var(f"x{agent}_{job}")
            row.append(var)
            per_agent[agent].append((job, var))
            pairs.append((agent, job, var))
        model.add_exactly_one(row)
    for agent, members in per_agent.items():
        if members:
            model.add(
                cp_model.LinearExpr.weighted_sum(
                    [var for _, var in members],
                    [int(arrays.uses[agent, job]) for job, _ in members],
                )
                <= int(limits[agent])
            )
    model.minimize(
        cp_model.LinearExpr.weighted_sum(
            [var for _, _, var in pairs],
            [int(arrays.costs[agent, job]) for agent, job, _ in pairs],
        )
    )
    if hint is not None:
        for agent, job, var in pairs:
            model.add_hint(var, bool(hint[job] == agent))
    return SubModel(model, pairs)


def read_assignment(
    solver: cp_model.CpSolver, sub: SubModel, into: IntArray
) -> IntArray:
    """Copy the solver's chosen agent of each job of the sub-model into a copy."""
    result = into.copy()
    for agent, job, var in sub.pairs:
        if solver.boolean_value(var):
            result[job] = agent
    return result
