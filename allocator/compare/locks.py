"""Fix locks a structure makes impossible, and scenario ids as folder names.

A lock that cannot hold under a structure is dropped for that structure
with a warning, never a reason to refuse the comparison.
"""

from __future__ import annotations

import dataclasses
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from allocator.comparison import BASE
from allocator.domain import Instance, Lock
from allocator.errors import DataWarning, InputProblem, InstanceError


def structure_rejected(
    scenario: str, problems: list[dict[str, Any]], sources: Mapping[str, str]
) -> InstanceError:
    """A structure the solve rejected (a fix lock that cannot hold under it)."""
    named = "the base instance" if scenario == BASE else f"scenario {scenario}"
    if scenario in sources:
        named += f" ({sources[scenario]})"
    return InstanceError(
        [
            InputProblem(
                p["file"], p["row"], p["column"], f"under {named}: {p['message']}"
            )
            for p in problems
        ]
    )


def lock_place(lock: Lock) -> str:
    """Where a lock was written: 'locks.csv row 3' or '--fix u5=a3'."""
    if lock.source.startswith("--"):
        return f"{lock.source} {lock.user}={lock.advisor}"
    return f"{lock.source} row {lock.row}"


def _names_lock(problem: InputProblem, lock: Lock) -> bool:
    """Whether a problem of ``build_problem`` is located at ``lock``."""
    if lock.source.startswith("--"):
        return problem.file == lock_place(lock)
    return problem.file == lock.source and problem.row == lock.row


def drop_impossible_locks(
    scenario: str, instance: Instance, sources: Mapping[str, str]
) -> tuple[Instance, list[dict[str, Any]]]:
    """The structure without the fix locks it makes impossible, and those locks.

    A structure may take a locked advisor's availability, competence,
    authority or team away (and a first allocation takes away the current
    advisor who alone made a lock to an unavailable advisor possible). Such
    a lock cannot hold under the structure, so it is dropped for that
    structure alone, with a ``DataWarning`` naming the lock, never a reason
    to refuse the comparison. Rules 1 to 8 decide (the model's own check,
    ``build_problem``), so a lock that breaks none is kept.

    Returns:
        The instance to solve and one record per dropped lock: ``lock``
        (where it was written), ``user``, ``advisor``, ``kind`` and
        ``reason``.

    Raises:
        InstanceError: the structure is rejected for a reason no lock
            explains (named "under scenario ...").
    """
    from allocator.engine.problem import build_problem

    dropped: list[dict[str, Any]] = []
    named = "the base" if scenario == BASE else f"scenario {scenario}"
    while any(lock.kind == "fix" for lock in instance.locks):
        try:
            build_problem(instance)
        except InstanceError as error:
            culprits: dict[int, str] = {}
            for problem in error.problems:
                for i, lock in enumerate(instance.locks):
                    if lock.kind == "fix" and _names_lock(problem, lock):
                        culprits.setdefault(i, problem.message)
            if not culprits:
                problems = [dataclasses.asdict(p) for p in error.problems]
                raise structure_rejected(scenario, problems, sources) from None
            for i, reason in culprits.items():
                lock = instance.locks[i]
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
                    f"under {named}: the lock in {lock_place(lock)} ({lock.kind} "
                    f"user {lock.user} to advisor {lock.advisor}) cannot hold and "
                    f"is dropped for this structure: {reason}",
                    DataWarning,
                    stacklevel=2,
                )
            kept = tuple(
                lock for i, lock in enumerate(instance.locks) if i not in culprits
            )
            instance = instance.model_copy(update={"locks": kept})
        else:
            break
    return instance, dropped


def without_locks(instance: Instance, dropped: Sequence[Mapping[str, Any]]) -> Instance:
    """``instance`` without the locks ``drop_impossible_locks`` dropped."""
    gone = {(d["lock"], d["user"], d["advisor"], d["kind"]) for d in dropped}
    kept = tuple(
        lock
        for lock in instance.locks
        if (lock_place(lock), lock.user, lock.advisor, lock.kind) not in gone
    )
    return instance.model_copy(update={"locks": kept})


def check_ids(ids: Sequence[str], sources: Mapping[str, str]) -> None:
    """Scenario ids name folders: letters of any script, digits, - and _.

    Unique, not ``base``, and no two ids may share a folder where a file
    system ignores case or Unicode form (``scenario.folder_key``): such a
    pair is an error naming both.
    """
    from allocator.scenario import folder_key, scenario_id_problem

    problems = []
    seen: dict[str, str] = {BASE: BASE}
    for scenario in ids:
        where = sources.get(scenario, scenario)
        lacking = scenario_id_problem(unicodedata.normalize("NFC", scenario))
        key = folder_key(scenario)
        if lacking is not None:
            problems.append(
                InputProblem(
                    where,
                    None,
                    "name",
                    f"scenario id {scenario!r} must be {lacking} (it becomes a "
                    "folder name).",
                )
            )
        elif key == BASE:
            problems.append(
                InputProblem(
                    where,
                    None,
                    "name",
                    "scenario id 'base' is taken by the base instance.",
                )
            )
        elif key in seen:
            other = seen[key]
            both = (
                f"scenario id {scenario!r} appears twice in this comparison."
                if other == scenario
                else f"scenario ids {other!r} ({sources.get(other, other)}) and "
                f"{scenario!r} ({where}) would share one folder (case and "
                "accents as a file system compares them); rename one."
            )
            problems.append(InputProblem(where, None, "name", both))
        seen.setdefault(key, scenario)
    if problems:
        raise InstanceError(problems)
