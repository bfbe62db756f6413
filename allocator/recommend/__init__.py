"""Recommend a structure: weigh every host grouping of an office's municipalities.

``space`` enumerates the structures (host groups and team options) within
the limits, ``screen`` computes the figures that follow from a structure
alone, ``weigh`` solves the survivors with the comparison's code and marks
the exact front, ``output`` writes FORMAT.md section 8.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from allocator.domain import Instance

if TYPE_CHECKING:
    from allocator.recommend.weigh import Recommendation


def recommend(
    instance: Instance,
    limits: str | Path | dict[str, Any] | None = None,
    *,
    top: int | None = None,
    time_limit: float | None = None,
    seed: int = 0,
    scenarios: Sequence[str | Path] = (),
    out: str | Path | None = None,
    executor: Any = None,
) -> Any:
    """Weigh the structures of ``instance``; recommendation.csv as a DataFrame.

    :func:`weigh_structures` with its rows as a DataFrame; the arguments
    are the same.

    Returns:
        One row per structure solved; ``on_front`` marks the front.

    Raises:
        InstanceError: a limits file or dict with an unknown key, a wrong
            value or an unknown municipality (file and key named).
    """
    return weigh_structures(
        instance,
        limits,
        top=top,
        time_limit=time_limit,
        seed=seed,
        scenarios=scenarios,
        out=out,
        executor=executor,
    ).frame()


def recommendation_text(recommendation: Recommendation) -> str:
    """The front (and today's row) as a plain text table for the terminal."""
    from allocator.recommend.output import front_table

    return front_table(recommendation)


def weigh_structures(
    instance: Instance,
    limits: str | Path | dict[str, Any] | None = None,
    *,
    top: int | None = None,
    time_limit: float | None = None,
    seed: int = 0,
    scenarios: Sequence[str | Path] = (),
    out: str | Path | None = None,
    executor: Any = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Recommendation:
    """Weigh the structures of ``instance`` (``allocator recommend``).

    Args:
        instance: the office as today (``read_instance``).
        limits: a limits TOML file, a dict of the same keys, or None.
        top: most enumerated structures solved in full (default 12).
        time_limit: seconds per solve (default 5).
        seed: CP-SAT seed.
        scenarios: scenario files solved as well, each a row with source
            ``given`` (e.g. the instance's own ``scenarios/*.toml``).
        out: when given, write FORMAT.md section 8 there.
        executor: a ``LocalExecutor`` (default) or ``DaskExecutor``.
        progress: called as (stage, done, total) while the work goes on.

    Returns:
        The recommendation: ``rows`` (one per structure solved; ``on_front``
        marks the front), ``frame()``; :func:`recommendation_text` words
        the front for a terminal.

    Raises:
        InstanceError: a limits file or dict with an unknown key, a wrong
            value or an unknown municipality (file and key named).
    """
    from allocator.recommend.space import limits_from_doc, read_limits
    from allocator.recommend.weigh import (
        DEFAULT_TIME_LIMIT,
        DEFAULT_TOP,
        recommend_structures,
    )

    if isinstance(limits, dict):
        read = limits_from_doc(limits, instance)
    else:
        read = read_limits(limits, instance)
    given_files = [Path(p) for p in scenarios]
    target = Path(out) if out is not None else None
    if target is not None:
        from allocator.recommend.output import check_target

        check_target(target)
    rec = recommend_structures(
        instance,
        read,
        top=top if top is not None else DEFAULT_TOP,
        time_limit=time_limit if time_limit is not None else DEFAULT_TIME_LIMIT,
        seed=seed,
        given=given_files,
        executor=executor,
        cache=target / ".cache" if target is not None else None,
        progress=progress,
    )
    if target is not None:
        from allocator.recommend.output import write_recommendation

        write_recommendation(rec, target)
    return rec
