"""Shift and swap local search on a feasible GAP assignment (numpy, in place)."""

from __future__ import annotations

import time

import numpy as np

from allocator.gap.arrays import GapArrays, IntArray


def improve(arrays: GapArrays, assignment: IntArray, time_limit: float) -> IntArray:
    """Apply improving shift and swap moves until none is left or time is up.

    A shift moves one job to another agent with room; a swap exchanges the
    agents of two jobs. Moves are taken best first for shifts and first job,
    best partner for swaps, which is quick and deterministic.
    """
    deadline = time.perf_counter() + time_limit
    current = assignment.copy()
    loads = arrays.loads(current)
    while time.perf_counter() < deadline:
        shifted = _shift_all(arrays, current, loads, deadline)
        swapped = _swap_pass(arrays, current, loads, deadline)
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


def _swap_pass(
    arrays: GapArrays, current: IntArray, loads: IntArray, deadline: float
) -> bool:
    """One pass over the jobs, each swapped with its best partner if that helps."""
    jobs = np.arange(current.size)
    moved = False
    for first in range(current.size):
        if time.perf_counter() >= deadline:
            break
        a = current[first]
        b = current  # agent of each candidate partner
        delta = (
            arrays.costs[b, first]
            + arrays.costs[a, jobs]
            - arrays.costs[a, first]
            - arrays.costs[b, jobs]
        )
        room_a = loads[a] - arrays.uses[a, first] + arrays.uses[a, jobs]
        room_b = loads[b] - arrays.uses[b, jobs] + arrays.uses[b, first]
        ok = (
            (b != a)
            & (room_a <= arrays.capacities[a])
            & (room_b <= arrays.capacities[b])
        )
        delta = np.where(ok, delta, 0)
        second = int(np.argmin(delta))
        if delta[second] >= 0:
            continue
        other = int(current[second])
        loads[a] += arrays.uses[a, second] - arrays.uses[a, first]
        loads[other] += arrays.uses[other, first] - arrays.uses[other, second]
        current[first], current[second] = other, a
        moved = True
    return moved
