"""Scenarios applied to the base, ready to compare (``scenario_variants``)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allocator.compare.locks import lock_place
from allocator.domain import Instance
from allocator.errors import DataWarning, InstanceError


@dataclass
class Variants:
    """Scenarios applied to a base, ready for ``compare_variants``.

    Attributes:
        variants: (scenario id, changed instance) pairs, in table order.
        sources: scenario id -> the scenario file it came from.
        descriptions: scenario id -> the scenario's ``description``.
        dropped: scenario id -> fix locks dropped because the scenario
            removed their advisor (records as ``drop_impossible_locks``).
    """

    variants: list[tuple[str, Instance]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _apply_despite_locks(
    instance: Instance, scenario: Any
) -> tuple[Instance, list[dict[str, Any]]]:
    """The scenario applied; fix locks it makes impossible are left to the caller.

    ``apply_scenario`` rejects a changed instance whose fix lock cannot
    hold. In a comparison such a lock is dropped for that structure
    instead (``drop_impossible_locks``), so when the scenario fails with
    the base's fix locks it is applied without them and they are put back
    (all but those naming an advisor the scenario removed, which are
    dropped here with a warning). Any other problem is raised as
    ``apply_scenario`` raised it.
    """
    from allocator.scenario import apply_scenario

    try:
        return apply_scenario(instance, scenario), []
    except InstanceError as error:
        fixes = [lock for lock in instance.locks if lock.kind == "fix"]
        if not fixes:
            raise
        rest = tuple(lock for lock in instance.locks if lock.kind != "fix")
        try:
            changed = apply_scenario(
                instance.model_copy(update={"locks": rest}), scenario
            )
        except InstanceError:
            raise error from None
    advisors = {advisor.id for advisor in changed.advisors}
    dropped = []
    for lock in fixes:
        if lock.advisor in advisors:
            continue
        reason = f"advisor {lock.advisor} is not in this structure."
        dropped.append(
            {
                "lock": lock_place(lock),
                "user": lock.user,
                "advisor": lock.advisor,
                "kind": lock.kind,
                "reason": reason,
            }
        )
        warnings.warn(
            f"under scenario {scenario.id}: the lock in {lock_place(lock)} (fix "
            f"user {lock.user} to advisor {lock.advisor}) cannot hold and is "
            f"dropped for this structure: {reason}",
            DataWarning,
            stacklevel=2,
        )
    kept = tuple(lock for lock in fixes if lock.advisor in advisors)
    return changed.model_copy(update={"locks": kept + changed.locks}), dropped


def scenario_variants(instance: Instance, scenarios: Sequence[Any]) -> Variants:
    """Apply each scenario to ``instance``; variants already made pass through.

    An item is a scenario file (path), a scenario already read
    (``read_scenario``), or an ``(id, Instance)`` pair made in code.
    Returns the variants with their sources, descriptions and the locks
    dropped on the way. Raises ``InstanceError`` naming the scenario file,
    entry and key (FORMAT 6); a fix lock the scenario makes impossible is
    no such error (it is dropped for that structure).
    """
    found = Variants()
    for item in scenarios:
        if isinstance(item, tuple) and len(item) == 2:
            sid, variant = str(item[0]), item[1]
            found.variants.append((sid, variant))
            if variant.description != instance.description:
                found.descriptions[sid] = variant.description
            continue
        from allocator.scenario import read_scenario

        scenario = read_scenario(Path(item)) if isinstance(item, (str, Path)) else item
        changed, dropped = _apply_despite_locks(instance, scenario)
        found.variants.append((scenario.id, changed))
        found.sources[scenario.id] = str(scenario.source)
        found.descriptions[scenario.id] = scenario.description
        if dropped:
            found.dropped[scenario.id] = dropped
    return found
