"""A structure written as a scenario file (FORMAT.md section 6).

The changes follow the shipped Hallingdal and Nord-Gudbrandsdal scenarios
(models B to E): a host agreement per group of two or more; every municipal
employee employed by the host of the group of their *home* municipality;
the office teams of each changed group made one team per team kind serving
the group; the team options on top. Staff keep their base (where they sit),
so travel is measured from the same places in every structure.

A municipal employee's home is where they sit when that is in their
employer's group today (a Gol employee sitting in Hemsedal under today's
Gol-Hemsedal agreement is Hemsedal's staff should Hemsedal stand alone),
otherwise their employer. A state employee's home is where they sit.

Office teams (``space.office_teams``) serve municipalities of one group
today; they follow the grouping. A group that is the same set of
municipalities as one of today's groups keeps its teams untouched. In a
changed group, each office team contributes the part of its municipalities
in the group (advisors go with their home's group; one whose home is outside
the team's area stays with the part of the team's first municipality), and
the parts of one team kind are merged into one team: the team of the host's
today's office when there is one, else the first in teams.csv order, else a
new team ``<host>-<kind>``. Teams that serve several of today's groups or
everyone (shared services) stay as they are, unless their kind is shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from allocator.domain import Advisor, Instance, RoutingRule
from allocator.recommend.space import Structure, current_structure, office_teams

ROUTING_TESTS = (
    "status",
    "age_min",
    "age_max",
    "children_min",
    "children_max",
    "needs_any",
    "needs_all",
    "urgent",
    "municipality_in",
)


def home_of(advisor: Advisor, today: dict[str, str], places: set[str]) -> str:
    """The municipality whose staff the advisor counts as (see the module notes)."""
    if advisor.employer == "state":
        return advisor.base
    if advisor.base in places and today.get(advisor.base) == today.get(
        advisor.employer
    ):
        return advisor.base
    return advisor.employer


@dataclass
class Change:
    """What a structure changes in the instance, as data (and then as TOML)."""

    agreements: list[tuple[str, list[str]]]
    routing: list[dict[str, Any]] | None  # the whole routing when a kind is shared
    teams: list[dict[str, Any]]  # new or changed team rows, by id
    advisors: list[dict[str, Any]]  # by id: employer and/or team
    removed_teams: list[str]


def structure_change(instance: Instance, structure: Structure) -> Change:
    """The scenario changes that turn today's instance into ``structure``."""
    order = [m.id for m in instance.municipalities]
    places = set(order)
    names = {m.id: m.name or m.id for m in instance.municipalities}
    today_struct = current_structure(instance)
    today = today_struct.host_of()
    new = structure.host_of()
    home = {a.id: home_of(a, today, places) for a in instance.advisors}
    team_of = {a.id: a.team for a in instance.advisors}
    employer = {a.id: a.employer for a in instance.advisors}
    teams = {t.id: t for t in instance.teams}
    team_order = [t.id for t in instance.teams]
    for a in instance.advisors:
        if a.employer != "state":
            employer[a.id] = new.get(home[a.id], a.employer)

    def group_key(host_of: dict[str, str], m: str) -> frozenset[str]:
        return frozenset(x for x in order if host_of[x] == host_of[m])

    new_groups = {group_key(new, m) for m in order}
    offices = office_teams(instance)
    shared = set(structure.shared)
    # Rows of the team table after the change: id -> dict(name, kind, municipalities)
    rows: dict[str, dict[str, Any]] = {
        t.id: {"name": t.name, "kind": t.kind, "municipalities": list(t.municipalities)}
        for t in instance.teams
    }
    changed_rows: set[str] = set()
    new_rows: list[str] = []
    removed: list[str] = []
    used_ids = set(team_order)

    def fresh(base: str) -> str:
        candidate, n = base, 2
        while candidate in used_ids:
            candidate, n = f"{base}-{n}", n + 1
        used_ids.add(candidate)
        return candidate

    # Office teams of changed groups: parts per (new group host, kind).
    parts: dict[tuple[str, str], list[tuple[str, list[str], bool]]] = {}
    members_of: dict[tuple[str, str, str], list[str]] = {}
    for team in instance.teams:
        if team.id not in offices or team.kind in shared:
            continue
        if group_key(today, team.municipalities[0]) in new_groups:
            continue  # its group is unchanged: the team stays as it is
        first_host = new[team.municipalities[0]]
        hosts_here: dict[str, list[str]] = {}
        for m in team.municipalities:
            hosts_here.setdefault(new[m], []).append(m)
        for host, ms in hosts_here.items():
            parts.setdefault((host, team.kind), []).append(
                (team.id, ms, host == first_host)
            )
        for a in instance.advisors:
            if a.team != team.id:
                continue
            goes_to = new.get(home[a.id], first_host)
            if goes_to not in hosts_here:
                goes_to = first_host
            members_of.setdefault((team.id, goes_to, team.kind), []).append(a.id)
    for (host, kind), pieces in parts.items():
        area = sorted({m for _, ms, _ in pieces for m in ms}, key=order.index)
        advisors = [
            a for tid, _, _ in pieces for a in members_of.get((tid, host, kind), [])
        ]
        primary = [tid for tid, _, first in pieces if first]
        hosting = [tid for tid in primary if host in teams[tid].municipalities]
        if hosting:
            tid = hosting[0]
        elif primary:
            tid = sorted(primary, key=team_order.index)[0]
        elif advisors:
            tid = fresh(f"{host}-{kind}")
            new_rows.append(tid)
        else:
            continue
        label = "/".join(names[m] for m in area)
        rows[tid] = {
            "name": f"NAV {label} {kind}",
            "kind": kind,
            "municipalities": area,
        }
        changed_rows.add(tid)
        for advisor_id in advisors:
            team_of[advisor_id] = tid
    kept_parts = {tid for tid in team_of.values()}
    for pieces in parts.values():
        for tid, _, _ in pieces:
            if tid not in kept_parts and tid in teams and tid not in removed:
                removed.append(tid)
    # Shared team kinds: one team serving everyone.
    routing: list[dict[str, Any]] | None = None
    for kind in structure.shared:
        of_kind = [t for t in team_order if teams[t].kind == kind]
        if not of_kind:
            continue
        keep = of_kind[0]
        rows[keep] = {**rows[keep], "municipalities": []}
        changed_rows.add(keep)
        for a in instance.advisors:
            if team_of[a.id] in of_kind:
                team_of[a.id] = keep
        removed += [t for t in of_kind[1:] if t not in removed]
    if structure.shared:
        routing = [routing_row(r, drop=set(structure.shared)) for r in instance.routing]
    # Pooled state staff: one regional team per kind of office team.
    if structure.state_pooled:
        pooled: dict[str, str] = {}
        area_teams = {t for t in rows if t not in removed}
        for a in instance.advisors:
            tid = team_of[a.id]
            if a.employer != "state" or tid not in area_teams:
                continue
            if tid not in offices and tid not in new_rows:
                continue
            kind = rows[tid]["kind"]
            if kind in shared:
                continue
            if kind not in pooled:
                pooled[kind] = fresh(f"{instance.name}-state-{kind}")
                new_rows.append(pooled[kind])
                rows[pooled[kind]] = {
                    "name": f"NAV {instance.name} state {kind} (pooled)",
                    "kind": kind,
                    "municipalities": [],
                }
            team_of[a.id] = pooled[kind]
    agreements = []
    for host, members in structure.groups:
        others = [m for m in members if m != host]
        if others:
            agreements.append((host, others))
    team_rows = []
    for tid in new_rows:
        team_rows.append({"id": tid, **rows[tid]})
    for tid in team_order:
        if tid in changed_rows and tid not in removed:
            team_rows.append({"id": tid, **rows[tid]})
    advisor_rows = []
    for a in instance.advisors:
        entry: dict[str, Any] = {"id": a.id}
        if employer[a.id] != a.employer:
            entry["employer"] = employer[a.id]
        if team_of[a.id] != a.team:
            entry["team"] = team_of[a.id]
        if len(entry) > 1:
            advisor_rows.append(entry)
    return Change(agreements, routing, team_rows, advisor_rows, removed)


def routing_row(rule: RoutingRule, drop: set[str]) -> dict[str, Any]:
    """A routing rule as a TOML table; ``municipality_in`` dropped for shared kinds."""
    row: dict[str, Any] = {"team_kind": rule.team_kind}
    for test in ROUTING_TESTS:
        value = getattr(rule, test)
        if value is None or (test == "municipality_in" and rule.team_kind in drop):
            continue
        row[test] = list(value) if isinstance(value, tuple) else value
    return row


# --- TOML text -------------------------------------------------------------------


def toml_value(value: Any) -> str:
    """A TOML literal for a string, number, boolean, list or flat mapping."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = (
            value.replace("\\", "\\\\")
            .replace('"', '\\"')
            .replace("\n", "\\n")
            .replace("\t", "\\t")
        )
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(f"no TOML form for {value!r}")


def scenario_text(
    instance: Instance,
    structure: Structure,
    name: str,
    description: str,
    notes: Sequence[str] = (),
) -> str:
    """The structure as a scenario file for ``instance`` (FORMAT.md section 6).

    Today's structure gives a file with no changes. Every other structure
    replaces the host agreements (and the routing when a kind is shared).
    """
    lines = [f"# {line}" for line in notes]
    lines += [
        f"name = {toml_value(name)}",
        f"description = {toml_value(description)}",
        "",
    ]
    if structure == current_structure(instance):
        return "\n".join(lines)
    change = structure_change(instance, structure)
    replace = ["host_agreement"] + (["routing"] if change.routing is not None else [])
    lines += [f"replace = {toml_value(replace)}", ""]
    for host, members in change.agreements:
        lines += [
            "[[host_agreement]]",
            f"host = {toml_value(host)}",
            f"members = {toml_value(members)}",
            "",
        ]
    for rule in change.routing or []:
        lines.append("[[routing]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in rule.items()]
        lines.append("")
    for row in change.teams:
        lines.append("[[teams]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in row.items()]
        lines.append("")
    for row in change.advisors:
        lines.append("[[advisors]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in row.items()]
        lines.append("")
    for tid in change.removed_teams:
        lines += ["[[remove]]", 'table = "teams"', f"id = {toml_value(tid)}", ""]
    return "\n".join(lines)


def changed_instance(instance: Instance, structure: Structure) -> Instance:
    """The instance under ``structure``, built directly from ``structure_change``.

    The same changes the scenario file states, applied without writing and
    re-reading it (screening weighs thousands of structures); a test checks
    that it equals ``apply_scenario`` of the written file. Not validated
    again: the changes only re-employ staff within the office, move them
    between teams that exist, and widen team areas.
    """
    from allocator.domain import HostAgreement, Team

    if structure == current_structure(instance):
        return instance
    change = structure_change(instance, structure)
    rows = {row["id"]: row for row in change.teams}
    teams = []
    for team in instance.teams:
        if team.id in change.removed_teams:
            continue
        row = rows.pop(team.id, None)
        if row is not None:
            team = team.model_copy(
                update={
                    "name": row["name"],
                    "kind": row["kind"],
                    "municipalities": tuple(row["municipalities"]),
                }
            )
        teams.append(team)
    for row in change.teams:
        if row["id"] in rows:  # a new team: after the table's own rows
            teams.append(
                Team(
                    id=row["id"],
                    name=row["name"],
                    kind=row["kind"],
                    municipalities=tuple(row["municipalities"]),
                )
            )
    moved = {row["id"]: row for row in change.advisors}
    advisors = tuple(
        a.model_copy(update={k: v for k, v in moved[a.id].items() if k != "id"})
        if a.id in moved
        else a
        for a in instance.advisors
    )
    update: dict[str, Any] = {
        "host_agreements": tuple(
            HostAgreement(host=h, members=tuple(ms)) for h, ms in change.agreements
        ),
        "teams": tuple(teams),
        "advisors": advisors,
    }
    if change.routing is not None:
        update["routing"] = tuple(RoutingRule(**rule) for rule in change.routing)
    return instance.model_copy(update=update)
