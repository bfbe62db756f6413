"""Large neighbourhood search: free some jobs, re-solve them with CP-SAT.

The sub-problems are small GAPs that one CP-SAT worker often solves to
optimality in a few milliseconds, which beats the plain model on large
instances where its own search stalls. Two sub-problems on disjoint agents run
at once, one per core (a group too large to pair runs alone on all workers,
with CP-SAT's deterministic interleaved search). Two kinds of neighbourhood
take turns at random:

- agent groups: all jobs of a few agents are freed; they may go to any agent
  of the group's area (the group plus half of the other agents, whose fixed
  jobs keep their room). The group size grows while sub-problems are proven
  optimal and shrinks when not.
- spread: the agents are split in two halves at random and a share of all
  jobs is freed, preferring jobs the LP relaxation would place elsewhere, so
  that one move can pass jobs round many agents. The share adapts the same
  way.

Reproducibility: every sub-problem stops on a deterministic time limit and the
polish after a move is a fixed number of passes, so a seed gives the same
sequence of moves on any machine; only the number of rounds done before the
wall-clock deadline varies with speed and load.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from time import perf_counter as now

import numpy as np
from ortools.sat.python import cp_model

from allocator.gap.arrays import GapArrays, IntArray
from allocator.gap.local import improve
from allocator.gap.model import BoolArray, build_model, read_assignment

# Work limit of one sub-problem in CP-SAT's deterministic time (measured:
# 0.005 to 0.02 all did about as well; 0.01 is 30-100 ms of wall time).
SUB_DETERMINISTIC_TIME = 0.01
# Share of groups grown by relatedness rather than at random.
RELATED_SHARE = 0.5
# Freed jobs targeted at the start; adapted by the sub-problems' outcome.
START_JOBS = 30
# Share of rounds with the spread neighbourhood (measured on d20100 and
# e20100 at 10 s: 0.5 beat 0, 0.7 and 1.0).
SPREAD_SHARE = 0.5
# Head start, in random draws in [0, 1), of the jobs whose current agent has a
# positive LP reduced cost over their best (0.5 beat 0 and 2 on the same).
LP_BIAS = 0.5


@dataclass
class LnsState:
    """The incumbent and the adaptive neighbourhood size."""

    assignment: IntArray
    cost: int
    agents_freed: int
    job_share: float = 0.3
    rounds: int = 0
    proven: bool = False


def run_lns(
    arrays: GapArrays,
    start: IntArray,
    deadline: float,
    seed: int,
    workers: int,
    reduced: tuple[np.ndarray, float] | None = None,
) -> LnsState:
    """Improve ``start`` until the deadline; returns the final state.

    ``reduced`` is (LP reduced costs (m, n), LP value): a pair whose reduced
    cost exceeds incumbent minus LP value cannot appear in a better solution
    and is left out of the sub-problems.
    """
    m, n = arrays.costs.shape
    rng = np.random.default_rng(seed)
    freed = int(np.clip(round(START_JOBS * m / n), 2, m))
    state = LnsState(start.copy(), arrays.cost(start), freed)
    with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        while time.perf_counter() < deadline:
            allowed = _allowed(arrays, state.cost, reduced)
            spread = m >= 2 * workers and rng.random() < SPREAD_SHARE
            if spread:  # one half of the agents per worker
                count = max(workers, 1)
                order = rng.permutation(m)
                groups = [np.sort(order[k::count]) for k in range(count)]
                areas = groups
                pick = _spread_jobs(state, reduced, rng)
                freed_jobs = [
                    np.flatnonzero(pick & np.isin(state.assignment, g)) for g in groups
                ]
            else:
                # Disjoint groups run side by side while they fit; a group as
                # large as half the agents or more runs alone.
                count = max(1, min(workers, m // state.agents_freed))
                groups = _pick_groups(arrays, state, rng, count)
                areas = _areas(m, groups, rng)
                freed_jobs = [
                    np.flatnonzero(np.isin(state.assignment, g)) for g in groups
                ]
            seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=len(groups))]
            futures = [
                pool.submit(
                    _solve_sub,
                    arrays,
                    state.assignment,
                    a,
                    j,
                    allowed,
                    s,
                    deadline,
                    max(1, workers // count),
                )
                for a, j, s in zip(areas, freed_jobs, seeds, strict=True)
            ]
            outcomes = [f.result() for f in futures]
            _apply(arrays, state, outcomes, m, deadline, spread)
            whole = not spread and len(groups) == 1 and groups[0].size == m
            if whole and outcomes[0][1]:
                state.proven = True  # the sub-problem was the whole problem
                break
    return state


def _spread_jobs(
    state: LnsState, reduced: tuple[np.ndarray, float] | None, rng: np.random.Generator
) -> BoolArray:
    """A share of all jobs, preferring jobs the LP would place elsewhere."""
    n = state.assignment.size
    score = rng.random(n)
    if reduced is not None and LP_BIAS > 0:
        costs = reduced[0]
        regret = costs[state.assignment, np.arange(n)] - costs.min(axis=0)
        score += LP_BIAS * (regret > 1e-6)
    count = round(state.job_share * n)
    pick = np.zeros(n, dtype=bool)
    pick[np.argsort(-score, kind="stable")[:count]] = True
    return pick


def _allowed(
    arrays: GapArrays, incumbent: int, reduced: tuple[np.ndarray, float] | None
) -> BoolArray | None:
    """Pairs that may still be in a solution no worse than the incumbent."""
    if reduced is None:
        return None
    costs, value = reduced
    return np.asarray(costs <= incumbent - value + 1e-6)


def _pick_groups(
    arrays: GapArrays, state: LnsState, rng: np.random.Generator, count: int
) -> list[IntArray]:
    """Disjoint groups of agents: a random first agent plus related ones.

    An agent is related to a group when the group's jobs are cheap on it, so
    that moving them there is possible; half the time the rest are random,
    which keeps the search from circling the same agents.
    """
    m, n = arrays.costs.shape
    size = min(state.agents_freed, m // count)
    free = np.ones(m, dtype=bool)
    groups: list[IntArray] = []
    jobs = np.arange(n)
    current_cost = arrays.costs[state.assignment, jobs]
    for _ in range(count):
        first = int(rng.choice(np.flatnonzero(free)))
        group = [first]
        free[first] = False
        related = rng.random() < RELATED_SHARE
        while len(group) < size:
            options = np.flatnonzero(free)
            if related:
                members = np.isin(state.assignment, group)
                gain = np.maximum(
                    current_cost[members][None, :]
                    - arrays.costs[np.ix_(options, np.flatnonzero(members))],
                    0,
                ).sum(axis=1)
                noise = rng.random(options.size) * (gain.max() + 1) * 0.3
                pick = int(options[np.argmax(gain + noise)])
            else:
                pick = int(rng.choice(options))
            group.append(pick)
            free[pick] = False
        groups.append(np.asarray(sorted(group), dtype=np.int64))
    return groups


def _areas(
    num_agents: int, groups: list[IntArray], rng: np.random.Generator
) -> list[IntArray]:
    """Split the agents outside the groups among them, at random."""
    taken = np.concatenate(groups)
    outside = rng.permutation(np.setdiff1d(np.arange(num_agents), taken))
    return [
        np.sort(np.concatenate([g, outside[k :: len(groups)]]))
        for k, g in enumerate(groups)
    ]


def _solve_sub(
    arrays: GapArrays,
    assignment: IntArray,
    agents: IntArray,
    jobs: IntArray,
    allowed: BoolArray | None,
    seed: int,
    deadline: float,
    threads: int,
) -> tuple[IntArray | None, bool]:
    """Re-solve ``jobs`` among ``agents``; (new assignment, optimal).

    Jobs of ``agents`` that are not freed stay and use up part of the room.
    """
    fixed = np.ones(assignment.size, dtype=bool)
    fixed[jobs] = False
    kept = arrays.uses[assignment, np.arange(assignment.size)] * fixed
    limits = arrays.capacities - np.bincount(
        assignment, weights=kept, minlength=arrays.capacities.size
    ).astype(np.int64)
    sub = build_model(arrays, agents, jobs, allowed, hint=assignment, limits=limits)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = threads
    solver.parameters.random_seed = seed
    solver.parameters.max_deterministic_time = SUB_DETERMINISTIC_TIME
    # Deterministic with several workers too.
    solver.parameters.interleave_search = threads > 1
    # The wall limit only guards the overall deadline.
    solver.parameters.max_time_in_seconds = max(deadline - time.perf_counter(), 0.01)
    status = solver.solve(sub.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False
    return read_assignment(solver, sub, assignment), status == cp_model.OPTIMAL


def _apply(
    arrays: GapArrays,
    state: LnsState,
    outcomes: list[tuple[IntArray | None, bool]],
    num_agents: int,
    deadline: float,
    spread: bool = False,
) -> None:
    """Merge the sub-solutions (disjoint agents) and adapt the group size.

    Equal-cost sub-solutions are accepted too: moving along a plateau lets the
    next neighbourhoods see other job mixes.
    """
    state.rounds += 1
    merged = state.assignment.copy()
    for found, _ in outcomes:
        if found is None:
            continue
        changed = found != state.assignment
        merged[changed] = found[changed]
    if (merged != state.assignment).any():
        # The new job mix may open shift or swap moves with the other agents.
        merged = improve(arrays, merged, max(deadline - now(), 0.0), passes=1)
    cost = arrays.cost(merged)
    if cost <= state.cost:
        state.assignment, state.cost = merged, cost
    if spread:
        factor = 1.1 if all(optimal for _, optimal in outcomes) else 1 / 1.1
        state.job_share = float(np.clip(state.job_share * factor, 0.05, 1.0))
    elif all(optimal for _, optimal in outcomes):
        state.agents_freed = min(state.agents_freed + 1, num_agents)
    elif state.agents_freed > 2:
        state.agents_freed -= 1
