"""Weigh every structure: enumerate, screen, solve the survivors, find the front.

The solved figures come from ``compare.compare_variants`` on the structures'
written scenario files (read back with ``compare.scenario_variants``), so a
row of recommendation.csv is what ``allocator compare`` reports for the same
file and settings: a first allocation, exact N-1.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from allocator.domain import Instance
from allocator.recommend.scenario_file import changed_instance, home_of, scenario_text
from allocator.recommend.screen import (
    SCREENED,
    dominates,
    pareto_indices,
    screen,
    screened_vector,
)
from allocator.recommend.space import (
    Limits,
    Structure,
    current_structure,
    enumerate_structures,
    name_safe_ids,
)

if TYPE_CHECKING:
    from allocator.runs.executor import Executor

# recommendation.csv, in this order (FORMAT.md section 8), then extras.
COLUMNS = [
    "structure",
    "description",
    "is_current",
    "on_front",
    "host_groups",
    "shared_teams",
    "unassigned_weight",
    "single_points",
    "uncovered",
    "coverage_min",
    "n1_worst_weight",
    "n1_mean_weight",
    "travel_hours",
    "leakage_fte",
    "freed_fte",
    "forced_moves",
    # Extras (optional columns): where the row came from and how it was solved.
    "source",
    "within_limits",
    "dominated_by",
    "leakage_most_fte",
    "leakage_most_municipality",
    "users_changing_advisor",
    "staff_changing_employer",
    "unassigned_floor",
    "travel_floor_hours",
    "leakage_floor_fte",
    "status",
    "gap",
    "stopped_by",
    "n1_exact",
]
# The figures of the front, all minimised together (FORMAT.md section 8).
FRONT = [
    "unassigned_weight",
    "single_points+uncovered",
    "n1_mean_weight",
    "travel_hours",
    "leakage_fte",
]
DEFAULT_TOP = 8
DEFAULT_TIME_LIMIT = 5.0


def front_vector(row: dict[str, Any]) -> list[float]:
    """The five front figures of a solved row, to minimise."""
    return [
        float(row["unassigned_weight"] or 0.0),
        float((row["single_points"] or 0) + (row["uncovered"] or 0)),
        float(row["n1_mean_weight"] or 0.0),
        float(row["travel_hours"] or 0.0),
        float(row["leakage_fte"] or 0.0),
    ]


def mark_front(rows: list[dict[str, Any]]) -> None:
    """Set ``on_front`` and ``dominated_by`` on solved rows, in place.

    A row within the limits is on the front when no other row within the
    limits is at least as good on every front figure and better on one. A
    dominated row names one row that dominates it (the first in table
    order). Rows outside the limits are never on the front.
    """
    eligible = [r for r in rows if r["within_limits"]]
    vectors = {id(r): front_vector(r) for r in rows}
    for row in rows:
        beaters = [
            other["structure"]
            for other in eligible
            if other is not row and dominates(vectors[id(other)], vectors[id(row)])
        ]
        row["on_front"] = bool(row["within_limits"]) and not beaters
        row["dominated_by"] = beaters[0] if beaters else ""


@dataclass
class Recommendation:
    """What a recommendation found; ``write`` puts it on disk (FORMAT.md 8)."""

    rows: list[dict[str, Any]]
    settings: dict[str, Any]
    limits: Limits
    structures_enumerated: int
    structures_ruled_out: int
    structures_screened: int
    structures_screened_out: int
    survivors_not_solved: int
    scenario_texts: dict[str, str]
    changes: dict[str, dict[str, Any]]
    leakage_by_home: dict[str, dict[str, float]]
    instance_name: str
    names: dict[str, str] = field(default_factory=dict)

    def frame(self) -> Any:
        """recommendation.csv as a DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=COLUMNS)

    def front(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["on_front"]]

    def document(self) -> dict[str, Any]:
        """recommendation.json."""
        return {
            "instance": self.instance_name,
            "settings": self.settings,
            "limits": self.limits.document(),
            "structures_enumerated": self.structures_enumerated,
            "structures_ruled_out_by_limits": self.structures_ruled_out,
            "structures_screened": self.structures_screened,
            "structures_screened_out": self.structures_screened_out,
            "survivors_not_solved": self.survivors_not_solved,
            "front_figures": FRONT,
            "front": [r["structure"] for r in self.front()],
            "rows": self.rows,
            "changes": self.changes,
            "leakage_by_home": self.leakage_by_home,
        }


def pick(
    survivors: Sequence[int], figures: Sequence[dict[str, Any]], top: int
) -> list[int]:
    """At most ``top`` survivors, spread over the screened figures.

    Round robin over the figures: each turn takes the best survivor not yet
    taken on the next figure (ties by enumeration order), so the ends of
    the screened front are solved before its middle.
    """
    if len(survivors) <= top:
        return list(survivors)
    names = list(SCREENED)
    ranked = []
    for name in names:
        sign = -1.0 if SCREENED[name] else 1.0
        ranked.append(
            sorted(survivors, key=lambda i: (sign * float(figures[i][name] or 0.0), i))
        )
    chosen: list[int] = []
    turn = 0
    while len(chosen) < top:
        for i in ranked[turn % len(names)]:
            if i not in chosen:
                chosen.append(i)
                break
        turn += 1
    return sorted(chosen)


def parse_assignments(text: str) -> dict[str, str | None]:
    """user -> advisor (None when unassigned) from assignments.csv text."""
    found: dict[str, str | None] = {}
    for row in csv.DictReader(io.StringIO(text)):
        found[row["user"]] = row["advisor"] or None
    return found


def leakage_by_home(
    base: Instance, structure: Instance, allocation: dict[str, str | None]
) -> dict[str, float]:
    """FTE of each municipality's own staff spent on other municipalities' users.

    A municipal employee's municipality is their *home* (where they sit, as
    ``scenario_file.home_of`` says), not their employer: under one host for
    all, every municipal employee is the host's, yet Lesja's objection is
    about the staff who sit in Lesja. Every municipality appears.
    """
    from allocator.recommend.space import current_structure as today_of

    today = today_of(base).host_of()
    places = {m.id for m in base.municipalities}
    home = {a.id: home_of(a, today, places) for a in base.advisors}
    advisors = {a.id: a for a in structure.advisors}
    kinds = {t.id: t.kind for t in structure.teams}
    policy = structure.policy
    leak = {m.id: 0.0 for m in base.municipalities}
    for user in structure.users:
        advisor_id = allocation.get(user.id)
        if advisor_id is None:
            continue
        advisor = advisors[advisor_id]
        if advisor.employer == "state" or home[advisor_id] == user.municipality:
            continue
        per_fte = policy.cases_per_fte_by_kind.get(
            kinds[advisor.team], policy.cases_per_fte
        )
        leak[home[advisor_id]] = leak.get(home[advisor_id], 0.0) + user.weight / per_fte
    return {m: round(v, 6) for m, v in leak.items()}


def change_summary(
    base: Instance, structure: Instance, allocation: dict[str, str | None]
) -> dict[str, Any]:
    """What moving from today to this structure changes, as data.

    Host agreements, staff whose employer changes (id, from, to), staff
    whose team changes, and how many users would have another advisor than
    today's (the structure's first allocation against users.csv's
    current_advisor; users without a current advisor are not counted).
    """
    before = {a.id: a for a in base.advisors}
    employer = []
    team = []
    for a in structure.advisors:
        old = before.get(a.id)
        if old is None:
            continue
        if old.employer != a.employer:
            employer.append(
                {
                    "advisor": a.id,
                    "name": a.name,
                    "from": old.employer,
                    "to": a.employer,
                }
            )
        if old.team != a.team:
            team.append({"advisor": a.id, "from": old.team, "to": a.team})
    changing = sum(
        1
        for u in base.users
        if u.current_advisor is not None and allocation.get(u.id) != u.current_advisor
    )
    with_current = sum(1 for u in base.users if u.current_advisor is not None)
    return {
        "host_agreements": [
            {"host": h.host, "members": list(h.members)}
            for h in structure.host_agreements
        ],
        "employer_changes": employer,
        "team_changes": team,
        "users_changing_advisor": changing,
        "users_with_current_advisor": with_current,
    }


def given_structure(instance: Instance, changed: Instance) -> Structure:
    """The host groups a given scenario's changed instance states."""
    return current_structure(changed)


Progress = Callable[[str, int, int], None]
# Structures per screening task: enough to pay for sending the instance.
SCREEN_CHUNK = 100


def screen_chunk(task: tuple[Instance, tuple[Structure, ...]]) -> list[dict[str, Any]]:
    """Worker: the screened figures of some structures of one instance."""
    instance, structures = task
    return [screen(changed_instance(instance, s)) for s in structures]


def screen_all(
    instance: Instance,
    structures: Sequence[Structure],
    executor: Executor,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Screen every structure, in chunks on the executor; in structure order."""
    chunks = [
        (instance, tuple(structures[i : i + SCREEN_CHUNK]))
        for i in range(0, len(structures), SCREEN_CHUNK)
    ]
    parts: dict[int, list[dict[str, Any]]] = {}
    done = 0
    for index, part in executor.map_unordered(screen_chunk, chunks):
        parts[index] = part
        done += len(part)
        if progress is not None:
            progress("screen", done, len(structures))
    return [f for index in range(len(chunks)) for f in parts[index]]


def recommend_structures(
    instance: Instance,
    limits: Limits | None = None,
    *,
    top: int = DEFAULT_TOP,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    seed: int = 0,
    given: Sequence[Path] = (),
    executor: Executor | None = None,
    cache: Path | None = None,
    staging: Path | None = None,
    progress: Progress | None = None,
) -> Recommendation:
    """Enumerate, screen, solve and mark the front; writes nothing but ``staging``.

    Args:
        instance: the office as today (``read_instance``).
        limits: what may be recommended (``read_limits``); default none.
        top: most enumerated structures solved in full besides today's.
        time_limit: seconds per solve, as ``compare --time-limit``.
        seed: the CP-SAT seed of every solve.
        given: scenario files solved as well (the instance's own models),
            each a row with source ``given``.
        executor: a ``LocalExecutor`` (default) or ``DaskExecutor``.
        cache: compare's cache folder of results by hash.
        staging: folder where the scenario files are written and read back
            (a temporary folder when None).
        progress: called as ``(stage, done, total)``.

    Raises:
        InstanceError: a given scenario that does not apply.
    """
    import tempfile

    from allocator.compare import BASE, compare_variants, scenario_variants

    limits = limits or Limits()
    start = time.perf_counter()
    order = [m.id for m in instance.municipalities]
    short = name_safe_ids(order)
    names = {m.id: m.name or m.id for m in instance.municipalities}
    space = enumerate_structures(instance, limits)
    structures = space.structures
    own_executor = executor is None
    if executor is None:
        from allocator.runs.executor import LocalExecutor

        executor = LocalExecutor()
    try:
        figures = screen_all(instance, structures, executor, progress)
    except BaseException:
        if own_executor:
            executor.close()
        raise
    vectors = [screened_vector(f) for f in figures]
    survivors = [i for i in pareto_indices(vectors) if i != 0]
    screened_out = len(structures) - 1 - len(survivors)
    chosen = pick(survivors, figures, top)
    screen_s = time.perf_counter() - start
    own_staging = staging is None
    folder = Path(tempfile.mkdtemp(prefix="recommend-")) if staging is None else staging
    folder.mkdir(parents=True, exist_ok=True)
    texts: dict[str, str] = {}
    paths: list[Path] = []
    meta: dict[str, dict[str, Any]] = {}
    current = structures[0]
    current_name = current.name(short)
    texts[current_name] = scenario_text(
        instance,
        current,
        current_name,
        current.description(names) + " (today)",
        notes=["Today's structure: no changes."],
    )
    meta[current_name] = {
        "structure": current,
        "source": "today",
        "figures": figures[0],
    }
    for i in chosen:
        s = structures[i]
        name = s.name(short)
        texts[name] = scenario_text(instance, s, name, s.description(names))
        meta[name] = {"structure": s, "source": "enumerated", "figures": figures[i]}
        path = folder / f"{name}.toml"
        path.write_text(texts[name], encoding="utf-8")
        paths.append(path)
    found = scenario_variants(instance, paths)
    given_found = scenario_variants(instance, list(given))
    variants, sources, dropped = found.variants, found.sources, found.dropped
    taken = set(meta)
    for (sid, changed), path in zip(given_found.variants, given, strict=True):
        if sid in taken:
            continue
        taken.add(sid)
        variants.append((sid, changed))
        sources[sid] = given_found.sources[sid]
        if sid in given_found.dropped:
            dropped[sid] = given_found.dropped[sid]
        texts[sid] = Path(path).read_text(encoding="utf-8-sig")
        meta[sid] = {
            "structure": given_structure(instance, changed),
            "source": "given",
            "figures": screen(changed),
        }
    try:
        comparison = compare_variants(
            instance,
            variants,
            [seed],
            time_limit,
            False,
            executor,
            cache=cache,
            sources=sources,
            dropped_locks=dropped,
        )
    finally:
        if own_executor:
            executor.close()
    if own_staging:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    rows: list[dict[str, Any]] = []
    changes: dict[str, dict[str, Any]] = {}
    leaks: dict[str, dict[str, float]] = {}
    for crow in comparison.rows:
        sid = current_name if crow["scenario"] == BASE else crow["scenario"]
        info = meta[sid]
        shape: Structure = info["structure"]
        struct_instance = comparison.structures[crow["scenario"]]
        files = comparison.solutions[crow["scenario"], seed]
        allocation = parse_assignments(files["assignments.csv"])
        leak = leakage_by_home(instance, struct_instance, allocation)
        change = change_summary(instance, struct_instance, allocation)
        leaks[sid] = leak
        changes[sid] = change
        worst_place = (
            max(leak, key=lambda m: (leak[m], -order.index(m))) if leak else ""
        )
        within = limits.max_leakage_fte is None or max(leak.values(), default=0.0) <= (
            limits.max_leakage_fte + 1e-9
        )
        if info["source"] == "given":
            description = struct_instance.description
        else:
            description = shape.description(names) + (
                " (today)" if info["source"] == "today" else ""
            )
        screened = info["figures"]
        rows.append(
            {
                "structure": sid,
                "description": description,
                "is_current": info["source"] == "today",
                "on_front": False,
                "host_groups": shape.host_groups,
                "shared_teams": shape.shared_teams
                if info["source"] != "given"
                else "as the file says",
                **{
                    k: crow[k]
                    for k in (
                        "unassigned_weight",
                        "single_points",
                        "uncovered",
                        "coverage_min",
                        "n1_worst_weight",
                        "n1_mean_weight",
                        "travel_hours",
                        "leakage_fte",
                        "freed_fte",
                        "forced_moves",
                        "status",
                        "gap",
                        "stopped_by",
                        "n1_exact",
                    )
                },
                "source": info["source"],
                "within_limits": within,
                "dominated_by": "",
                "leakage_most_fte": leak.get(worst_place, 0.0),
                "leakage_most_municipality": worst_place,
                "users_changing_advisor": change["users_changing_advisor"],
                "staff_changing_employer": len(change["employer_changes"]),
                "unassigned_floor": screened["unassigned_floor"],
                "travel_floor_hours": round(screened["travel_floor_hours"], 6),
                "leakage_floor_fte": round(screened["leakage_floor_fte"], 6),
            }
        )
    mark_front(rows)
    settings = {
        "top": top,
        "time_limit_s": time_limit,
        "seed": seed,
        "first_allocation": True,
        "given_scenarios": [str(p) for p in given],
        "screened_figures": list(SCREENED),
        "screen_wall_s": round(screen_s, 3),
        "compare": {
            k: comparison.settings[k]
            for k in ("executor", "n1_time_limit_s", "cached_tasks", "wall_s")
        },
        "wall_s": round(time.perf_counter() - start, 3),
    }
    return Recommendation(
        rows=rows,
        settings=settings,
        limits=limits,
        structures_enumerated=space.enumerated,
        structures_ruled_out=space.ruled_out_by_limits,
        structures_screened=len(structures),
        structures_screened_out=screened_out,
        survivors_not_solved=len(survivors) - len(chosen),
        scenario_texts=texts,
        changes=changes,
        leakage_by_home=leaks,
        instance_name=instance.name,
        names=names,
    )
