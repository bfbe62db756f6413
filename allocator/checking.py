"""``allocator check``: a written solution folder judged by the independent
checker, with the previous plan (``--previous``) read by the reader
``solve --previous`` uses, so that the two cannot disagree on it. The
checker itself (``allocator/checker``) reads no input format but the
solution's own files.
"""

from __future__ import annotations

from pathlib import Path

from allocator.checker import check_solution as check_files
from allocator.domain import Instance, Previous
from allocator.errors import InstanceError
from allocator.io.previous import read_previous


def check_solution(
    instance: Instance, solution_dir: Path, previous_dir: Path | None = None
) -> list[str]:
    """Check a solve's files against the instance, as ``allocator check`` does.

    Parameters
    ----------
    instance
        The instance the solve read.
    solution_dir
        The folder the solve wrote (see ``allocator.checker.check_solution``).
    previous_dir
        The previous solution folder or edited allocation.xlsx the solve was
        given (``--previous``); each row's previous_advisor and since are
        checked against it. A plan that cannot be read is a violation.

    Returns
    -------
    list[str]
        One line per violation; empty when the solution obeys every rule.
    """
    plan = None if previous_dir is None else read_previous_plan(previous_dir)
    return check_files(instance, solution_dir, plan)


def read_previous_plan(path: Path) -> Previous | str:
    """A previous plan (a solution folder or an edited allocation.xlsx), read
    as ``solve --previous`` reads it; a string names why it cannot be."""
    try:
        return read_previous(path)
    except InstanceError as error:
        return "previous plan: " + "; ".join(str(p) for p in error.problems)
