"""Figures a team leader reads beside the tables: names, shortages, the week.

The solution folder's CSV files carry ids only. The workbook and the HTML
report show names beside ids, shortages per team kind and municipality in
FTE, and the capacity sitting in each municipality; these figures go into
summary.json (under ``leader``) so that ``allocator report`` can rebuild the
report from the folder alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from allocator.analysis.capacity import shortage_records
from allocator.analysis.reasons import WaitCause
from allocator.analysis.report import exact_capacity
from allocator.engine.problem import Problem


def leader_facts(
    problem: Problem,
    allocation: Sequence[int | None],
    causes: Mapping[int, WaitCause] | None = None,
) -> dict[str, Any]:
    """The ``leader`` key of summary.json.

    ``causes`` is ``wait_causes(problem, allocation)`` when the caller has it.

    Returns a dict with:
        week: the instance's ISO week or None.
        names: ``{"advisors"|"teams"|"municipalities": {id: name}}``, names
            as written in the input (only non-empty ones).
        urgent_unassigned: ids of urgent users left unassigned, input order.
        shortage_fte: ``[{"kind", "municipality", "weight", "fte"}]``, the
            weight of unassigned users who had eligible advisors (all full),
            and that weight in FTE of the kind's ``cases_per_fte``; sorted by
            kind, then largest first.
        base_capacity: ``{municipality: capacity}`` in weighted users, the
            capacity of advisors based there (FORMAT.md section 3).
        municipality_limits: ``{advisor: limit}`` for advisors whose own
            max_municipalities differs from the policy's (0 = no limit).
    """
    instance = problem.instance
    names = {
        "advisors": {a.id: a.name for a in instance.advisors if a.name},
        "teams": {t.id: t.name for t in instance.teams if t.name},
        "municipalities": {m.id: m.name for m in instance.municipalities if m.name},
    }
    urgent = [
        user.id
        for u, user in enumerate(instance.users)
        if user.urgent and allocation[u] is None
    ]
    base: dict[str, float] = {m.id: 0.0 for m in instance.municipalities}
    for advisor in instance.advisors:
        base[advisor.base] = base.get(advisor.base, 0.0) + exact_capacity(
            problem, advisor
        )
    return {
        "week": instance.week,
        "names": names,
        "urgent_unassigned": urgent,
        "shortage_fte": [
            {
                "kind": r.kind,
                "municipality": r.municipality,
                "weight": round(r.weight, 3),
                "fte": round(r.fte, 3),
            }
            for r in sorted(
                shortage_records(problem, allocation, causes),
                key=lambda r: (r.kind, -r.weight, r.municipality),
            )
        ],
        "base_capacity": {m: round(c, 3) for m, c in base.items()},
        "municipality_limits": {
            a.id: a.max_municipalities
            for a in instance.advisors
            if a.max_municipalities is not None
            and a.max_municipalities != instance.policy.max_municipalities_per_advisor
        },
    }
