"""An instance solved part by part: independent sub-instances on an executor.

A national instance is hundreds of offices that share nothing: no
municipality, team, advisor, household or lock ties one office's users to
another's. :func:`split_instance` finds those parts at the level of the
instance (as ``engine.decompose`` does at the level of the problem), each a
whole instance of its own; :func:`solve_parts` sends every part through the
ordinary pipeline (``run.solve_instance``) on an executor, a Dask cluster
or local processes, and merges the answers into one :class:`Solution`.

Why this gives the same answer as solving each part alone: a part is an
ordinary instance, solved with the same options and seed by the same code,
and the search's budget is sized from the part itself. Why the merged
objective is the whole instance's: every hard rule is per advisor, team or
household and every goal a sum over users, advisors or teams, so the
objective and the bound of the whole are the sums of the parts' (a global
rule, ``--max-moves``, cannot be split and is refused).

What stays in the main process is lean: each part's answer comes back as
its report rows, which are merged into the whole tables at once; no part's
model, problem or full solution is kept.
"""

from __future__ import annotations

import math
import pickle
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allocator.analysis.changes import change_counts, change_rows
from allocator.analysis.report import Report, kpis_of
from allocator.domain import Instance
from allocator.engine.cpsat.solver import GAP_TARGET, STOP_ORDER, Result
from allocator.i18n import active, set_language
from allocator.run import RunOptions, weekly_instance
from allocator.runs.executor import Executor
from allocator.solution import Solution

# assignments.csv's columns whose values repeat from user to user.
_REPEATED = (
    "municipality", "team", "advisor", "status", "previous_advisor", "rule",
    "reason", "since",
)  # fmt: skip
# From best to worst: the merged status is the worst of the parts'.
_STATUS_ORDER = ("optimal", "feasible", "greedy", "no_solution")


@dataclass(frozen=True)
class Part:
    """One independent part: a sub-instance and where its rows go in the whole.

    ``users``, ``advisors``, ``teams`` and ``municipalities`` are indices
    into the whole instance's tables, in the sub-instance's (input) order.
    """

    instance: Instance
    users: tuple[int, ...]
    advisors: tuple[int, ...]
    teams: tuple[int, ...]
    municipalities: tuple[int, ...]


class _Sets:
    """Disjoint sets over hashable keys; the first key seen is the root."""

    def __init__(self) -> None:
        self.parent: dict[object, object] = {}

    def find(self, key: object) -> object:
        parent = self.parent.setdefault(key, key)
        while parent != key:
            grand = self.parent[parent]
            self.parent[key] = grand
            key, parent = parent, grand
        return key

    def union(self, a: object, b: object) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def split_instance(instance: Instance) -> list[Part]:
    """The instance's independent parts, each a whole instance of its own.

    Two rows are in one part when one names the other: a team and the
    municipalities it serves (all of them when it names none), an advisor
    and their team, base and employer, a user and their municipality,
    current advisor and household, a lock's user and advisor, a host and
    its members. Parts are ordered by their first user; a part without
    users (a municipality nobody lives in) comes last. Deterministic: the
    same instance gives the same parts.
    """
    sets = _Sets()
    every = [("m", m.id) for m in instance.municipalities]
    for m in every:
        sets.find(m)
    for agreement in instance.host_agreements:
        for member in agreement.members:
            sets.union(("m", agreement.host), ("m", member))
    for item in instance.teams:
        for place in item.municipalities or [m for _, m in every]:
            sets.union(("t", item.id), ("m", place))
        sets.find(("t", item.id))
    for advisor in instance.advisors:
        sets.union(("a", advisor.id), ("t", advisor.team))
        sets.union(("a", advisor.id), ("m", advisor.base))
        if advisor.employer != "state":
            sets.union(("a", advisor.id), ("m", advisor.employer))
    known = {a.id for a in instance.advisors}
    for user in instance.users:
        sets.union(("u", user.id), ("m", user.municipality))
        if user.current_advisor in known:
            sets.union(("u", user.id), ("a", user.current_advisor))
        if user.household:
            sets.union(("u", user.id), ("h", user.household))
    for lock in instance.locks:
        if lock.advisor in known:
            sets.union(("u", lock.user), ("a", lock.advisor))
    order: dict[object, int] = {}
    for user in instance.users:
        order.setdefault(sets.find(("u", user.id)), len(order))
    tables: list[tuple[str, list[str]]] = [
        ("m", [m.id for m in instance.municipalities]),
        ("t", [t.id for t in instance.teams]),
        ("a", [a.id for a in instance.advisors]),
    ]
    for kind, keys in tables:
        for key in keys:
            order.setdefault(sets.find((kind, key)), len(order))
    members: list[dict[str, list[int]]] = [
        {"m": [], "t": [], "a": [], "u": []} for _ in order
    ]
    for kind, keys in [*tables, ("u", [u.id for u in instance.users])]:
        for i, key in enumerate(keys):
            members[order[sets.find((kind, key))]][kind].append(i)
    return [_part(instance, number, chosen) for number, chosen in enumerate(members)]


def _part(instance: Instance, number: int, chosen: dict[str, list[int]]) -> Part:
    """The sub-instance of one part: its rows, locks, agreements and routing."""
    places = {instance.municipalities[i].id for i in chosen["m"]}
    users = [instance.users[i] for i in chosen["u"]]
    ids = {u.id for u in users}
    # Routing keeps every rule, so a user's rule number is the same in the
    # part as in the whole; a municipality test keeps the part's places.
    routing = tuple(
        rule
        if rule.municipality_in is None
        else rule.model_copy(
            update={
                "municipality_in": tuple(m for m in rule.municipality_in if m in places)
            }
        )
        for rule in instance.routing
    )
    sub = instance.model_copy(
        update={
            "name": f"{instance.name}-part-{number + 1:03d}",
            "routing": routing,
            "host_agreements": tuple(
                a for a in instance.host_agreements if a.host in places
            ),
            "municipalities": tuple(instance.municipalities[i] for i in chosen["m"]),
            "teams": tuple(instance.teams[i] for i in chosen["t"]),
            "advisors": tuple(instance.advisors[i] for i in chosen["a"]),
            "users": tuple(users),
            "locks": tuple(lock for lock in instance.locks if lock.user in ids),
            "travel": {
                pair: km
                for pair, km in instance.travel.items()
                if pair[0] in places and pair[1] in places
            },
        }
    )
    return Part(
        instance=sub,
        users=tuple(chosen["u"]),
        advisors=tuple(chosen["a"]),
        teams=tuple(chosen["t"]),
        municipalities=tuple(chosen["m"]),
    )


@dataclass(frozen=True)
class PartTask:
    """What a worker needs: the part, the search's options and the language.

    The part travels pickled (``packed``): a Dask LocalCluster's scheduler
    lives in this process and keeps what it was handed for a while after
    the task is done; as bytes a part costs about a tenth of its users as
    objects (measured: 250,000 users as objects were 1.5 KB each).
    """

    packed: bytes
    options: dict[str, Any]
    language: str

    @classmethod
    def of(cls, instance: Instance, options: dict[str, Any], language: str) -> PartTask:
        """The task of solving ``instance`` with ``options`` in ``language``."""
        return cls(pickle.dumps(instance, protocol=5), options, language)

    @property
    def instance(self) -> Instance:
        """The part as an instance (unpickled from this package's own bytes)."""
        part = pickle.loads(self.packed)
        assert isinstance(part, Instance)
        return part


def solve_part(task: PartTask) -> dict[str, Any]:
    """Solve one part as ``allocator solve`` would; return its report rows.

    A top-level function, so a process pool or a Dask worker can run it.
    Returns plain data: the four tables' rows (assignments with reasons and
    ``since``), the summary, and the allocation by advisor id.
    """
    from allocator.run import solve_instance

    # The reasons are worded in the caller's language.
    set_language(task.language)
    solution = solve_instance(task.instance, RunOptions(**task.options))
    report = solution.report
    return {
        "assignments": report.assignments,
        "advisor_load": report.advisor_load,
        "team_load": report.team_load,
        "municipality_load": report.municipality_load,
        "summary": report.summary,
    }


# Options of a solve that a part takes as they are.
PART_OPTIONS = (
    "time_limit",
    "seed",
    "workers",
    "portfolio",
    "deterministic_time",
    "solver",
    "rebalance",
)


def solve_parts(
    instance: Instance,
    options: RunOptions,
    executor: Executor,
    progress: Callable[[int, int], None] | None = None,
) -> Solution:
    """Solve ``instance`` part by part on ``executor``; one merged Solution.

    ``options.previous`` is applied to the whole instance first (its plan,
    its workbook's locks), then each part is solved with the other options.
    ``progress`` is told (parts done, parts) as each part comes back.

    Returns:
        A :class:`Solution` whose tables are the parts' rows in the input's
        order and whose summary holds the summed objective and bound, the
        total gap, ``parts``, ``parts_solved``, ``part_gap_max`` and
        ``reproducible`` (every part's search was). ``problem`` is None:
        each part's problem stayed on its worker.

    Raises:
        ValueError: ``options.max_moves`` (a limit over the whole instance).
        InstanceError: as :func:`allocator.run.solve_instance`, for the
            plan or for any part (a fix lock that cannot hold).
    """
    if options.max_moves is not None:
        raise ValueError(
            "--max-moves limits moves over the whole instance; it cannot be "
            "solved in parts"
        )
    start = time.perf_counter()
    whole, previous = weekly_instance(
        instance, options.previous, options.strict_previous
    )
    parts = split_instance(whole)
    settings = {key: getattr(options, key) for key in PART_OPTIONS}
    tasks = [PartTask.of(p.instance, settings, active()) for p in parts]
    merged = _Merged(whole, len(parts))
    if progress is not None:
        progress(0, len(parts))
    answers = executor.map_unordered(solve_part, tasks)
    for done, (index, answer) in enumerate(answers, start=1):
        merged.add(parts[index], answer)
        if progress is not None:
            progress(done, len(parts))
    return merged.solution(options, previous, time.perf_counter() - start, executor)


class _Merged:
    """The whole instance's tables, filled in as the parts come back."""

    def __init__(self, instance: Instance, parts: int) -> None:
        self.instance = instance
        self.parts = parts
        self.assignments: list[Any] = [None] * len(instance.users)
        self.advisor_load: list[Any] = [None] * len(instance.advisors)
        self.team_load: list[Any] = [None] * len(instance.teams)
        self.municipality_load: list[Any] = [None] * len(instance.municipalities)
        self.summaries: list[dict[str, Any]] = []
        self.advisor_index = {a.id: i for i, a in enumerate(instance.advisors)}

    def add(self, part: Part, answer: dict[str, Any]) -> None:
        # A part's rows arrive with a string object per cell; the ids and
        # words repeat over 250,000 users, so one copy each is kept.
        for row in answer["assignments"]:
            for column in _REPEATED:
                value = row.get(column)
                if isinstance(value, str):
                    row[column] = sys.intern(value)
        for key, indices in (
            ("assignments", part.users),
            ("advisor_load", part.advisors),
            ("team_load", part.teams),
            ("municipality_load", part.municipalities),
        ):
            table = getattr(self, key)
            for i, row in zip(indices, answer[key], strict=True):
                table[i] = row
        summary = answer["summary"]
        # The part's own copy of the policy: the whole has it.
        summary.pop("policy", None)
        summary["first_user"] = part.users[0] if part.users else sys.maxsize
        self.summaries.append(summary)

    def solution(
        self,
        options: RunOptions,
        previous: Any,
        wall_s: float,
        executor: Executor,
    ) -> Solution:
        parts = sorted(self.summaries, key=lambda s: s["first_user"])
        solved = [s for s in parts if s["status"] != "no_solution"]
        status = max(
            (s["status"] for s in parts),
            key=_STATUS_ORDER.index,
            default="optimal",
        )
        objective = sum(s["objective"] or 0.0 for s in solved)
        bounds = [s["bound"] for s in solved]
        bound = sum(bounds) if bounds and None not in bounds else None
        allocation = [
            self.advisor_index[row["advisor"]] if row["advisor"] else None
            for row in self.assignments
        ]
        reasons = Counter(s.get("stopped_by", "none") for s in parts)
        reproducible = all(s.get("reproducible") for s in parts)
        stopped_by = _stopped_by(reasons)
        result = Result(
            status=status,  # type: ignore[arg-type]
            objective=objective,
            bound=bound if bound is not None else -math.inf,
            wall_s=wall_s,
            build_s=sum(s.get("build_s") or 0.0 for s in parts),
            time_to_first_s=None,
            allocation=allocation,
            solver=parts[0]["solver"] if parts else options.solver,
            stopped_by=stopped_by,  # type: ignore[arg-type]
            # The parts' searches ran in other processes: progress.csv gets
            # the merged end (one row), not an empty table.
            log=[(wall_s, objective, bound if bound is not None else math.nan)],
        )
        report = Report(
            assignments=self.assignments,
            advisor_load=self.advisor_load,
            team_load=self.team_load,
            municipality_load=self.municipality_load,
            summary={},
        )
        changes = change_rows(self.instance, self.assignments, previous)
        report.summary = self._summary(
            parts, result, report, options, reproducible, reasons, executor
        )
        report.summary["changes"] = change_counts(changes)
        if previous is not None and previous.note:
            report.summary["previous_read"] = previous.note
        return Solution(
            instance=self.instance,
            problem=None,
            result=result,
            report=report,
            changes=changes,
        )

    def _summary(
        self,
        parts: list[dict[str, Any]],
        result: Result,
        report: Report,
        options: RunOptions,
        reproducible: bool,
        reasons: Counter[str],
        executor: Executor,
    ) -> dict[str, Any]:
        instance = self.instance
        objective = round(result.objective, 2) if parts else 0.0
        bound = round(result.bound, 2) if math.isfinite(result.bound) else None
        gap = None
        if bound is not None:
            # From the rounded figures, as every solve's summary.json.
            gap = (objective - bound) / objective if objective > 0 else 0.0
        gaps = [s["gap"] for s in parts if s.get("gap") is not None]
        first = parts[0] if parts else {}
        return {
            "instance": instance.name,
            "language": active(),
            "status": result.status,
            "objective": objective,
            "bound": bound,
            "gap": gap,
            "wall_s": round(result.wall_s, 3),
            "seed": first.get("seed", options.seed),
            "input_sha256": instance.input_sha256,
            "policy": instance.policy_raw or instance.policy.model_dump(),
            "kpis": kpis_of(instance, report),
            "solver": result.solver,
            "build_s": round(result.build_s, 3),
            "time_to_first_s": None,
            "intake_limit_applied": any(s.get("intake_limit_applied") for s in parts),
            "reference_date": first.get("reference_date"),
            "groups": sum(s.get("groups") or 0 for s in parts),
            "time_limit_s": first.get("time_limit_s"),
            "workers": first.get("workers"),
            "portfolio": options.portfolio,
            "stopped_by": result.stopped_by,
            "reproducible": reproducible,
            "canonical": all(s.get("canonical") for s in parts),
            "gap_warning": _gap_warning(gap),
            "rebalance": options.rebalance,
            "previous": str(options.previous) if options.previous else None,
            "greedy_objective": round(
                sum(s.get("greedy_objective") or 0.0 for s in parts), 2
            ),
            "cli_locks": [
                {"user": lock.user, "advisor": lock.advisor, "kind": lock.kind}
                for lock in options.cli_locks
            ],
            "deterministic_time": None
            if any(s.get("deterministic_time") is None for s in parts)
            else round(sum(s["deterministic_time"] for s in parts), 3),
            "deterministic_time_spent": [
                round(
                    sum(sum(s.get("deterministic_time_spent") or []) for s in parts), 3
                )
            ],
            # As a single solve says it: "search" when any part's search
            # bettered its start, "hint" only when none did.
            "allocation_from": (
                "search"
                if any(s.get("allocation_from") == "search" for s in parts)
                else "hint"
            )
            if parts
            else None,
            "shortages": [line for s in parts for line in s.get("shortages", [])],
            "leader": self._leader(parts),
            # How the parts went: the solve in parts (docs/national.md).
            "parts": len(parts),
            "parts_solved": sum(s["status"] != "no_solution" for s in parts),
            "parts_reproducible": sum(bool(s.get("reproducible")) for s in parts),
            "part_gap_max": max(gaps, default=None),
            "parts_stopped_by": dict(sorted(reasons.items())),
            "part_wall_s_max": max(
                (s.get("wall_s") or 0.0 for s in parts), default=0.0
            ),
            "part_wall_s_sum": round(sum(s.get("wall_s") or 0.0 for s in parts), 3),
            "executor": executor.description,
        }

    def _leader(self, parts: list[dict[str, Any]]) -> dict[str, Any]:
        """summary.json's ``leader`` key of the whole, from the parts' keys."""
        instance = self.instance
        user_order = {u.id: i for i, u in enumerate(instance.users)}
        leaders = [s["leader"] for s in parts if s.get("leader")]
        names: dict[str, dict[str, str]] = {
            "advisors": {a.id: a.name for a in instance.advisors if a.name},
            "teams": {t.id: t.name for t in instance.teams if t.name},
            "municipalities": {m.id: m.name for m in instance.municipalities if m.name},
        }
        base: dict[str, float] = {m.id: 0.0 for m in instance.municipalities}
        limits: dict[str, Any] = {}
        for leader in leaders:
            base.update(leader.get("base_capacity", {}))
            limits.update(leader.get("municipality_limits", {}))
        advisor_order = self.advisor_index
        return {
            "week": instance.week,
            "names": names,
            "urgent_unassigned": sorted(
                (u for leader in leaders for u in leader.get("urgent_unassigned", [])),
                key=user_order.__getitem__,
            ),
            "shortage_fte": sorted(
                (r for leader in leaders for r in leader.get("shortage_fte", [])),
                key=lambda r: (r["kind"], -r["weight"], r["municipality"]),
            ),
            "base_capacity": base,
            "municipality_limits": dict(
                sorted(limits.items(), key=lambda item: advisor_order[item[0]])
            ),
        }


def _stopped_by(reasons: Counter[str]) -> str:
    """What ended the parts' searches, in one word: the worst of their ends.

    The order is the search's own (``STOP_ORDER``), so one part cut by the clock
    makes the whole say ``wall_clock`` and, with it, not reproducible.
    """
    for reason in STOP_ORDER:
        if reasons.get(reason):
            return reason
    return next(iter(sorted(reasons)), "none")


def _gap_warning(gap: float | None) -> str | None:
    """The whole's gap warning, worded as a single solve words it."""
    if gap is None or gap <= GAP_TARGET:
        return None
    return (
        f"the gap is {gap:.1%}: the allocation may be up to that far from the "
        "best possible; more time (--time-limit) would help"
    )
