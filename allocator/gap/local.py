"""Shift and ejection-chain local search on a feasible GAP assignment (numpy)."""

from __future__ import annotations

import time

import numpy as np

from allocator.gap.arrays import GapArrays, IntArray


def improve(
    arrays: GapArrays,
    assignment: IntArray,
    time_limit: float,
    passes: int | None = None,
) -> IntArray:
    """Apply improving shift and swap moves until none is left or time is up.

    A shift moves one job to another agent with room; a chain moves one job
    to another agent and one of that agent's jobs on (a swap when it goes back).
    Moves are taken best first for shifts and first job, best partner for
    chains, which is quick and deterministic. ``passes`` caps
    the rounds of (all shifts, one swap pass) for a result that does not
    depend on the machine's speed.
    """
    deadline = time.perf_counter() + time_limit
    current = assignment.copy()
    loads = arrays.loads(current)
    done = 0
    while time.perf_counter() < deadline and (passes is None or done < passes):
        done += 1
        shifted = _shift_all(arrays, current, loads, deadline)
        swapped = _chain_pass(arrays, current, loads, deadline)
        if not shifted and not swapped:
            break
    return current


def _shift_all(
    arrays: GapArrays, current: IntArray, loads: IntArray, deadline: float
) -> bool:
    """Best-improvement shifts until none improves; True if any was made."""
    jobs = np.arange(current.size)
    moved = False
    while time.perf_counter() < deadline:
        delta = arrays.costs - arrays.costs[current, jobs]
        fits = arrays.uses + loads[:, None] <= arrays.capacities[:, None]
        delta = np.where(fits, delta, 0)
        flat = int(np.argmin(delta))
        agent, job = divmod(flat, current.size)
        if delta[agent, job] >= 0:
            break
        old = current[job]
        loads[old] -= arrays.uses[old, job]
        loads[agent] += arrays.uses[agent, job]
        current[job] = agent
        moved = True
    return moved


def _chain_pass(
    arrays: GapArrays, current: IntArray, loads: IntArray, deadline: float
) -> bool:
    """One pass of two-step ejection chains; True if any was made.

    Job ``first`` moves from agent a to agent b, and a job ``second`` of b
    moves on to a third agent c (possibly a) so that b keeps within capacity.
    With c = a this is a swap. For each first job all seconds are tried at
    once; the best destination c of each second job is computed once per move.
    """
    n = arrays.costs.shape[1]
    jobs = np.arange(n)
    moved = False
    onward = _best_onward(arrays, current, loads)
    for first in range(n):
        if time.perf_counter() >= deadline:
            break
        a = int(current[first])
        b = current  # agent of each candidate second job
        # Step 1: first goes to b, the second job leaves b.
        step1 = arrays.costs[b, first] - arrays.costs[a, first]
        fits_b = (
            loads[b] + arrays.uses[b, first] - arrays.uses[b, jobs]
            <= arrays.capacities[b]
        )
        # Step 2: the second job goes back to a (room freed by first) ...
        back = arrays.costs[a, jobs] - arrays.costs[b, jobs]
        fits_a = (
            loads[a] - arrays.uses[a, first] + arrays.uses[a, jobs]
            <= arrays.capacities[a]
        )
        back = np.where(fits_a, back, np.inf)
        # ... or to its best other agent with room as things stand.
        step2 = np.minimum(back, onward[1])
        delta = np.where(fits_b & (b != a), step1 + step2, np.inf)
        second = int(np.argmin(delta))
        if not delta[second] < 0:
            continue
        other = int(current[second])
        target = a if back[second] <= onward[1][second] else int(onward[0][second])
        loads[a] -= arrays.uses[a, first]
        loads[other] += arrays.uses[other, first] - arrays.uses[other, second]
        loads[target] += arrays.uses[target, second]
        current[first], current[second] = other, target
        onward = _best_onward(arrays, current, loads)
        moved = True
    return moved


def _best_onward(
    arrays: GapArrays, current: IntArray, loads: IntArray
) -> tuple[IntArray, np.ndarray]:
    """For each job: the cheapest other agent with room now, and the cost change."""
    jobs = np.arange(current.size)
    fits = arrays.uses + loads[:, None] <= arrays.capacities[:, None]
    fits[current, jobs] = False
    change = np.where(fits, arrays.costs - arrays.costs[current, jobs], np.inf)
    target = np.argmin(change, axis=0)
    return target.astype(np.int64), change[target, jobs]
