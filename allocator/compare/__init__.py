"""Compare team structures on the same users (README format, section 7).

``base`` and each variant (a scenario applied to the base) are solved with
the same seeds and settings, then measured with the same figures
(``analysis.figures``, ``analysis.n1``). By default each structure is solved
as a first allocation: nobody keeps a current advisor, so each shows its
own best allocation, and ``forced_moves`` tells what moving to it would
cost. ``from_current`` solves each as a weekly run instead.

The work is a list of plain tasks (one solve per structure and seed, then
the N-1 re-placements in chunks of advisors) run by an executor
(``runs.executor``): a local process pool or a Dask cluster. Workers get
instances and ids and return plain records. With a cache folder, a task
whose inputs, seed and settings are unchanged is read back by its hash
instead of being run again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from allocator.compare.locks import check_ids as check_ids
from allocator.compare.locks import drop_impossible_locks as drop_impossible_locks
from allocator.compare.locks import lock_place as lock_place
from allocator.compare.locks import structure_rejected as structure_rejected
from allocator.compare.locks import without_locks as without_locks
from allocator.compare.scenarios import Variants as Variants
from allocator.compare.scenarios import scenario_variants as scenario_variants
from allocator.compare.structures import Progress as Progress
from allocator.compare.structures import compare_variants as compare_variants
from allocator.compare.structures import versions as versions
from allocator.compare.tasks import BASE_DESCRIPTION as BASE_DESCRIPTION
from allocator.compare.tasks import FIGURES_VERSION as FIGURES_VERSION
from allocator.compare.tasks import N1_CHUNK as N1_CHUNK
from allocator.compare.tasks import WALL_CLOCK_FACTOR as WALL_CLOCK_FACTOR
from allocator.compare.tasks import Cache as Cache
from allocator.compare.tasks import N1Task as N1Task
from allocator.compare.tasks import SolveTask as SolveTask
from allocator.compare.tasks import content_sha256 as content_sha256
from allocator.compare.tasks import first_allocation as first_allocation
from allocator.compare.tasks import n1_task as n1_task
from allocator.compare.tasks import solve_task as solve_task
from allocator.compare.tasks import solve_threads as solve_threads
from allocator.compare.tasks import task_key as task_key
from allocator.comparison import BASE as BASE
from allocator.comparison import Comparison as Comparison
from allocator.domain import Instance
from allocator.io.comparison import COLUMNS as COLUMNS

if TYPE_CHECKING:
    import pandas as pd

    from allocator.runs.executor import Executor


def compare(
    instance: Instance,
    scenarios: Sequence[Any] = (),
    *,
    seeds: int | Sequence[int] = 1,
    time_limit: float | None = None,
    from_current: bool = False,
    workers: int | None = None,
    executor: Executor | str | None = None,
    out: str | Path | None = None,
    replace: bool = False,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Compare ``base`` and each scenario on the same users; one row per seed.

    :func:`compare_structures` with its rows as a DataFrame; the arguments
    are the same.

    Returns:
        A DataFrame with the comparison.csv columns (README format, section
        7): counts, weights in weighted users, FTE in posts, travel in km and
        hours, utilisation as fractions.

    Raises:
        InstanceError: a scenario that cannot apply (its file, entry, key).
        SolutionError: ``out`` holds an earlier comparison (without
            ``replace``), another folder, or cannot be written.
    """
    return compare_structures(
        instance,
        scenarios,
        seeds=seeds,
        time_limit=time_limit,
        from_current=from_current,
        workers=workers,
        executor=executor,
        out=out,
        replace=replace,
        progress=progress,
    ).frame()


def compare_structures(
    instance: Instance,
    scenarios: Sequence[Any] = (),
    *,
    seeds: int | Sequence[int] = 1,
    time_limit: float | None = None,
    from_current: bool = False,
    workers: int | None = None,
    executor: Executor | str | None = None,
    out: str | Path | None = None,
    replace: bool = False,
    progress: Progress | None = None,
) -> Comparison:
    """Compare ``base`` and each scenario on the same users (``allocator compare``).

    Args:
        instance: the base instance (``read_instance``).
        scenarios: scenario files (paths), scenarios already read, or
            ``(id, Instance)`` variants made in code.
        seeds: a number N (seeds 0 to N-1) or the seeds themselves.
        time_limit: seconds per solve (default: the policy's).
        from_current: solve as a weekly run rather than a first allocation.
        workers: CP-SAT workers per solve.
        executor: a ``LocalExecutor`` (default) or ``DaskExecutor``, or
            ``"inline"``: every solve in this process, one after another.
        out: when given, write the section 7 folder there (and keep the
            cache of results under it, so a rerun skips unchanged work).
        replace: ``out`` may hold an earlier comparison, which is replaced
            (else that is refused, before any work).
        progress: called as work completes (structures done, structures,
            work done, work in all).

    Returns:
        The :class:`~allocator.comparison.Comparison`: ``rows``, ``details``,
        ``frame()`` (comparison.csv as a DataFrame) and ``write(folder)``.

    Raises:
        InstanceError: a scenario that cannot apply (its file, entry, key).
        SolutionError: ``out`` holds an earlier comparison (without
            ``replace``), another folder, or cannot be written.
    """
    if executor == "inline":
        from allocator.runs.executor import InlineExecutor

        executor = InlineExecutor()
    elif isinstance(executor, str):
        raise ValueError(f"executor must be an Executor or 'inline', not {executor!r}")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    found = scenario_variants(instance, scenarios)
    folder = Path(out) if out is not None else None
    if folder is not None:
        from allocator.io.comparison import check_comparison_target

        check_comparison_target(folder, replace)
    comparison = compare_variants(
        instance,
        found.variants,
        seed_list,
        time_limit,
        from_current,
        executor,
        workers=workers,
        cache=folder / ".cache" if folder is not None else None,
        sources=found.sources,
        descriptions=found.descriptions,
        dropped_locks=found.dropped,
        progress=progress,
    )
    if folder is not None:
        from allocator.io.comparison import write_comparison

        write_comparison(comparison, folder, replace)
    return comparison
