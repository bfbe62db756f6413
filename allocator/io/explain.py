"""``allocator explain`` on a written solution folder: the folder read, the
explanation worked out by ``analysis/explain.py`` from what it says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from allocator.analysis.explain import explain_plan
from allocator.domain import Instance
from allocator.io.previous import read_previous


def explain(instance: Instance, solution: Path, user_id: str) -> dict[str, Any]:
    """The explanation of one user's allocation, as data (for --json).

    ``solution`` is a solution folder (its assignments.csv) or an edited
    allocation.xlsx, read as ``--previous`` reads it.

    Raises:
        InstanceError: the solution cannot be read (see ``read_previous``).
        SolutionError: ``user_id`` is not in the instance.
    """
    return explain_plan(instance, read_previous(solution), user_id)
