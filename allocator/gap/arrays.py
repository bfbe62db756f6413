"""Numpy views of a GAP instance, shared by the heuristics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from allocator.gap.read import GapInstance

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class GapArrays:
    """Costs and uses as (m, n) int64 arrays, capacities as (m,)."""

    costs: IntArray
    uses: IntArray
    capacities: IntArray

    @classmethod
    def of(cls, instance: GapInstance) -> GapArrays:
        """Convert the tuples of an instance once."""
        return cls(
            costs=np.asarray(instance.costs, dtype=np.int64),
            uses=np.asarray(instance.uses, dtype=np.int64),
            capacities=np.asarray(instance.capacities, dtype=np.int64),
        )

    def loads(self, assignment: IntArray) -> IntArray:
        """Resource used by each agent under an assignment."""
        jobs = np.arange(assignment.size)
        return np.bincount(
            assignment,
            weights=self.uses[assignment, jobs],
            minlength=self.capacities.size,
        ).astype(np.int64)

    def cost(self, assignment: IntArray) -> int:
        """Total cost of an assignment."""
        return int(self.costs[assignment, np.arange(assignment.size)].sum())
