"""Tests of the independent solution checker (allocator.checker).

Solutions are written by a small helper in this module that computes every
output figure straight from the instance, so a good assignment gives a clean
folder; each case then breaks one rule (through the assignment, the instance
or an edit of a written file) and expects the line to name that rule.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from allocator.checker import check_solution, intake_limit
from allocator.domain import (
    Advisor,
    Competence,
    HostAgreement,
    Instance,
    Lock,
    Municipality,
    Policy,
    RoutingRule,
    Team,
    User,
)

FORMULA_ID = '=HYPERLINK("x")'
SHA = "0" * 64

# Road km between the four municipalities, one direction; the instance gets both.
KM = {
    ("gol", "hemsedal"): 35.0,
    ("gol", "hol"): 40.0,
    ("gol", "nes"): 20.0,
    ("hemsedal", "hol"): 60.0,
    ("hemsedal", "nes"): 50.0,
    ("hol", "nes"): 55.0,
}


def base_instance() -> Instance:
    """Ten users, six advisors, four teams; every rule is exercised once."""
    return Instance(
        name="tiny",
        policy=Policy(
            max_municipalities_per_advisor=2,
            cases_per_fte=10,
            intake_per_fte=2,
            cases_per_fte_by_kind={"assessment": 4},
        ),
        competences=(
            Competence(id="social_assistance", municipal_authority=True),
            Competence(id="debt_counselling"),
            Competence(id="housing"),
        ),
        host_agreements=(HostAgreement(host="gol", members=("hemsedal",)),),
        routing=(
            RoutingRule(team_kind="assessment", status="new"),
            RoutingRule(team_kind="youth", age_max=29),
            RoutingRule(team_kind="follow_up"),
        ),
        municipalities=tuple(
            Municipality(id=m, name=m.title(), row=i)
            for i, m in enumerate(("gol", "hemsedal", "hol", "nes"), start=2)
        ),
        teams=(
            Team(id="t_assess", kind="assessment", row=2),
            Team(id="t_youth", kind="youth", row=3),
            Team(id="t_follow", kind="follow_up", row=4),
            Team(id="t_hol", kind="follow_up", municipalities=("hol",), row=5),
        ),
        advisors=(
            _advisor("a1", "t_follow", "gol", "gol", ("social_assistance",), "Gol"),
            _advisor("a2", "t_follow", "state", "nes", ("debt_counselling",), "-Nes"),
            _advisor("a3", "t_youth", "hol", "hol", (), "Hol"),
            _advisor("a4", "t_assess", "state", "gol", (), "Gol"),
            _advisor("a5", "t_hol", "hol", "hol", (), "Hol"),
            _advisor("a6", "t_follow", "state", "gol", (), "Gol").model_copy(
                update={"fte": 0.5, "available": False}
            ),
        ),
        users=(
            _user("u1", "gol", 40, needs=("social_assistance",), current="a1"),
            _user("u2", "hemsedal", 50, needs=("social_assistance",)),
            _user("u3", "nes", 22),
            _user("u4", "gol", 35, status="new"),
            _user("u5", "hol", 60, current="a6"),
            _user(
                "u6",
                "nes",
                45,
                needs=("debt_counselling",),
                current="a2",
                household="h1",
                weight=2.5,
            ),
            _user("u7", "nes", 47, household="h1"),
            _user(FORMULA_ID, "gol", 70, current="a1", note="@home"),
            _user("u9", "hol", 33, current="gone"),
            _user("u10", "hol", 52),
        ),
        travel={**KM, **{(b, a): km for (a, b), km in KM.items()}},
        extra_columns={"users": ("note",), "advisors": ("office",)},
        input_sha256=SHA,
    )


def _advisor(
    advisor_id: str,
    team: str,
    employer: str,
    base: str,
    competences: tuple[str, ...],
    office: str,
) -> Advisor:
    return Advisor(
        id=advisor_id,
        team=team,
        employer=employer,
        base=base,
        fte=1.0,
        competences=competences,
        extra={"office": office},
    )


def _user(
    user_id: str,
    municipality: str,
    age: int,
    *,
    status: str = "active",
    needs: tuple[str, ...] = (),
    current: str | None = None,
    household: str | None = None,
    weight: float = 1.0,
    note: str = "",
) -> User:
    return User.model_validate(
        {
            "id": user_id,
            "municipality": municipality,
            "age": age,
            "status": status,
            "needs": needs,
            "current_advisor": current,
            "household": household,
            "weight": weight,
            "extra": {"note": note},
        }
    )


# The good assignment of base_instance(); u9's previous advisor left.
BASE: dict[str, str | None] = {
    "u1": "a1",
    "u2": "a1",
    "u3": "a3",
    "u4": "a4",
    "u5": "a6",
    "u6": "a2",
    "u7": "a2",
    FORMULA_ID: "a1",
    "u9": None,
    "u10": "a5",
}


# --- Writing a solution folder the simple way -------------------------------


def _text(cell: str) -> str:
    """Protect a text cell that a spreadsheet would run as a formula."""
    return "'" + cell if cell.startswith(("=", "+", "-", "@")) else cell


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_text(c) if isinstance(c, str) else c for c in row])


def write_solution(
    instance: Instance, assignment: dict[str, str | None], folder: Path
) -> Path:
    """Write the five output files for ``assignment`` (user id -> advisor id)."""
    folder.mkdir(parents=True, exist_ok=True)
    advisors = {a.id: a for a in instance.advisors}
    kinds = {t.id: t.kind for t in instance.teams}
    policy = instance.policy
    first_allocation = not any(u.current_advisor in advisors for u in instance.users)

    def km(a: str, b: str) -> float:
        return 0.0 if a == b else instance.travel.get((a, b), 0.0)

    def capacity(a: Advisor) -> float:
        per_fte = policy.cases_per_fte_by_kind.get(kinds[a.team], policy.cases_per_fte)
        return a.fte * a.casework_share * per_fte

    def limit(a: Advisor) -> str:
        x = a.fte * a.casework_share * policy.intake_per_fte
        if first_allocation or policy.intake_per_fte == 0:
            return ""
        return str(max(1, math.floor(x)) if x > 0 else 0)

    def stays(u: User, a: Advisor) -> bool:
        return u.current_advisor == a.id

    users_of: dict[str, list[User]] = {a.id: [] for a in instance.advisors}
    rows: list[list[object]] = []
    total_km = 0.0
    changed_count = 0
    for u in instance.users:
        advisor_id = assignment.get(u.id)
        previous = u.current_advisor or ""
        changed = bool(previous) and advisor_id != previous
        changed_count += changed
        rule = next(
            f"{i}:{r.team_kind}"
            for i, r in enumerate(instance.routing, start=1)
            if r.matches(u)
        )
        reason = "no advisor" if advisor_id is None else "moved" if changed else ""
        if advisor_id is None:
            team, travel = "", ""
        else:
            a = advisors[advisor_id]
            users_of[a.id].append(u)
            team, travel = a.team, f"{km(a.base, u.municipality):.1f}"
            total_km += km(a.base, u.municipality)
        rows.append(
            [
                u.id,
                u.municipality,
                team,
                advisor_id or "",
                "assigned" if advisor_id else "unassigned",
                previous,
                "true" if changed else "false",
                rule,
                travel,
                reason,
                u.extra.get("note", ""),
            ]
        )
    header = [
        "user",
        "municipality",
        "team",
        "advisor",
        "status",
        "previous_advisor",
        "changed",
        "rule",
        "travel_km",
        "reason",
        "note",
    ]
    _write_csv(folder / "assignments.csv", header, rows)

    load_rows: list[list[object]] = []
    utilisations = []
    for a in instance.advisors:
        mine = users_of[a.id]
        load, cap = sum(u.weight for u in mine), capacity(a)
        if cap > 0:
            utilisations.append(load / cap)
        load_rows.append(
            [
                a.id,
                a.team,
                a.fte,
                round(cap, 3),
                round(load, 3),
                round(load / cap, 4) if cap > 0 else "",
                len(mine),
                sum(1 for u in mine if not stays(u, a)),
                limit(a),
                ";".join(sorted({u.municipality for u in mine})),
                a.extra.get("office", ""),
            ]
        )
    _write_csv(
        folder / "advisor_load.csv",
        [
            "advisor",
            "team",
            "fte",
            "capacity",
            "load",
            "utilisation",
            "users",
            "new_users",
            "intake_limit",
            "municipalities",
            "office",
        ],
        load_rows,
    )

    team_rows: list[list[object]] = []
    for t in instance.teams:
        members = [a for a in instance.advisors if a.team == t.id]
        mine = [u for a in members for u in users_of[a.id]]
        team_rows.append(
            [
                t.id,
                t.kind,
                len(members),
                len(mine),
                sum(u.weight for u in mine),
                sum(capacity(a) for a in members),
            ]
        )
    _write_csv(
        folder / "team_load.csv",
        ["team", "kind", "advisors", "assigned", "load", "capacity"],
        team_rows,
    )

    muni_rows: list[list[object]] = []
    for m in instance.municipalities:
        residents = [u for u in instance.users if u.municipality == m.id]
        placed = [u for u in residents if assignment.get(u.id)]
        muni_rows.append(
            [
                m.id,
                len(residents),
                len(placed),
                len(residents) - len(placed),
                sum(u.weight for u in placed),
                len({assignment[u.id] for u in placed}),
            ]
        )
    _write_csv(
        folder / "municipality_load.csv",
        ["municipality", "users", "assigned", "unassigned", "load", "advisors"],
        muni_rows,
    )

    assigned = sum(1 for u in instance.users if assignment.get(u.id))
    # The objective the simple way (README goal table; rotation is off in the
    # base policy and has its own hand-worked test).
    weights = policy.weights
    peaks: dict[str, float] = {}
    for a in instance.advisors:
        if a.available and capacity(a) > 0:
            share = sum(u.weight for u in users_of[a.id]) / capacity(a)
            peaks[a.team] = max(peaks.get(a.team, 0.0), share)
    objective = weights.load_balance * sum(peaks.values())
    for u in instance.users:
        advisor_id = assignment.get(u.id)
        if advisor_id is None:
            objective += weights.unassigned * u.weight
            objective += weights.urgent_unassigned * u.urgent
        else:
            objective += weights.travel * km(advisors[advisor_id].base, u.municipality)
        if u.current_advisor in advisors and advisor_id != u.current_advisor:
            objective += weights.reassignment
    objective = round(objective, 2)
    summary = {
        "instance": instance.name,
        "status": "feasible",
        "objective": objective,
        "bound": round(objective * 0.9, 2),
        "gap": (objective - round(objective * 0.9, 2)) / objective
        if objective
        else 0.0,
        "wall_s": 0.2,
        "seed": 0,
        "input_sha256": instance.input_sha256,
        "policy": {"cases_per_fte": policy.cases_per_fte},
        "kpis": {
            "users": len(instance.users),
            "assigned": assigned,
            "unassigned": len(instance.users) - assigned,
            "urgent_unassigned": sum(
                1 for u in instance.users if u.urgent and not assignment.get(u.id)
            ),
            "reassignments": changed_count,
            "utilisation_max": round(max(utilisations, default=0.0), 4),
            "utilisation_min": round(min(utilisations, default=0.0), 4),
            "travel_km": round(total_km, 1),
        },
    }
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


# --- Editing written files --------------------------------------------------


def edit_cell(folder: Path, file: str, key: str, column: str, value: str) -> None:
    """Set one cell of the row whose first cell is ``key``."""
    path = folder / file
    with path.open(encoding="utf-8", newline="") as handle:
        records = list(csv.reader(handle))
    index = records[0].index(column)
    for record in records[1:]:
        if record[0] == key:
            record[index] = value
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(records)


def edit_rows(
    folder: Path, file: str, change: Callable[[list[list[str]]], None]
) -> None:
    """Apply ``change`` to the list of records (header first) of a CSV."""
    path = folder / file
    with path.open(encoding="utf-8", newline="") as handle:
        records = list(csv.reader(handle))
    change(records)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(records)


def edit_summary(folder: Path, change: Callable[[dict[str, object]], None]) -> None:
    """Apply ``change`` to the summary.json object."""
    path = folder / "summary.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def set_kpi(key: str, value: object) -> Callable[[dict[str, object]], None]:
    def change(data: dict[str, object]) -> None:
        kpis = data["kpis"]
        assert isinstance(kpis, dict)
        kpis[key] = value

    return change


def set_key(key: str, value: object) -> Callable[[dict[str, object]], None]:
    def change(data: dict[str, object]) -> None:
        data[key] = value

    return change


# --- Instance tweaks --------------------------------------------------------


def with_users(instance: Instance, **changes: dict[str, object]) -> Instance:
    """Change fields of users by id (``u1={"current_advisor": None}``)."""
    users = tuple(
        u.model_copy(update=changes[u.id]) if u.id in changes else u
        for u in instance.users
    )
    return instance.model_copy(update={"users": users})


def with_advisors(instance: Instance, **changes: dict[str, object]) -> Instance:
    """Change fields of advisors by id."""
    advisors = tuple(
        a.model_copy(update=changes[a.id]) if a.id in changes else a
        for a in instance.advisors
    )
    return instance.model_copy(update={"advisors": advisors})


def with_policy(instance: Instance, **changes: object) -> Instance:
    policy = instance.policy.model_copy(update=changes)
    return instance.model_copy(update={"policy": policy})


def first_allocation(instance: Instance) -> Instance:
    """Nobody has an effective current advisor; u9's advisor left."""
    users = tuple(
        u.model_copy(update={"current_advisor": "gone" if u.id == "u9" else None})
        for u in instance.users
    )
    return instance.model_copy(update={"users": users})


def same(instance: Instance) -> Instance:
    return instance


def run(
    tmp_path: Path,
    tweak: Callable[[Instance], Instance] = same,
    changes: dict[str, str | None] | None = None,
) -> tuple[Instance, Path]:
    """Write the (changed) base assignment of the (tweaked) base instance."""
    instance = tweak(base_instance())
    folder = write_solution(instance, {**BASE, **(changes or {})}, tmp_path / "sol")
    return instance, folder


# --- The good solution ------------------------------------------------------


def test_good_solution_passes(tmp_path: Path) -> None:
    """The base assignment, written correctly, has no violation."""
    instance, folder = run(tmp_path)
    assert check_solution(instance, folder) == []


def test_objective_of_the_base_by_hand(tmp_path: Path) -> None:
    """u9 unassigned 1000; travel 35 (u2) + 55 (u3) + 40 (u5) = 130; team peaks
    t_follow 3.5/10 (a2; a6 is unavailable and not counted), t_youth 1/10,
    t_assess 1/4, t_hol 1/10: 0.8 x 100 = 80. Total 1210."""
    instance, folder = run(tmp_path)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["objective"] == 1210
    assert check_solution(instance, folder) == []
    edit_summary(folder, set_key("objective", 1260.0))
    edit_summary(folder, set_key("bound", 1200.0))
    edit_summary(folder, set_key("gap", 60 / 1260))
    assert check_solution(instance, folder) == [
        "summary.json: objective 1260 is not the sum of the goals for this "
        "allocation (1210.00, within 1.91)"
    ]


def test_objective_with_casework_share_below_one(tmp_path: Path) -> None:
    """a2 at half casework: capacity 5, peak of t_follow 3.5/5 = 0.7, so the
    balance goal is (0.7 + 0.1 + 0.25 + 0.1) x 100 = 115: total 1245."""
    instance, folder = run(
        tmp_path, lambda i: with_advisors(i, a2={"casework_share": 0.5})
    )
    instance_after, _ = instance, folder
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["objective"] == 1245
    assert check_solution(instance_after, folder) == []


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        # Week 2026-W01 starts 2025-12-29. Twelve months are 365.25 days.
        (dt.date(2024, 12, 29), 1210.0),  # 365 days: not beyond
        (dt.date(2024, 12, 28), 1230.0),  # 366 days: beyond, rotation 20
    ],
)
def test_objective_rotation_at_the_threshold(
    tmp_path: Path, since: dt.date, expected: float
) -> None:
    """u1 kept with a1 since ``since``; rotation_months 12 costs 20 when due."""

    def tweak(i: Instance) -> Instance:
        i = with_policy(i, rotation_months=12)
        i = i.model_copy(update={"week": "2026-W01"})
        return with_users(i, u1={"since": since})

    instance, folder = run(tmp_path, tweak)
    edit_summary(folder, set_key("objective", expected))
    edit_summary(folder, set_key("bound", expected))
    edit_summary(folder, set_key("gap", 0.0))
    assert check_solution(instance, folder) == []
    edit_summary(folder, set_key("objective", expected + 20.0))
    edit_summary(folder, set_key("bound", 0.0))
    edit_summary(folder, set_key("gap", 1.0))
    assert len(check_solution(instance, folder)) == 1


def test_formula_id_round_trip(tmp_path: Path) -> None:
    """A formula-like user id is written with a leading ' and read back intact."""
    instance, folder = run(tmp_path)
    text = (folder / "assignments.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text
    assert "'@home" in text
    assert check_solution(instance, folder) == []


def test_unescaped_formula_cell_is_flagged(tmp_path: Path) -> None:
    """A formula-like cell written without the ' is a violation."""
    instance, folder = run(tmp_path)
    edit_cell(folder, "assignments.csv", "'" + FORMULA_ID, "user", FORMULA_ID)
    problems = check_solution(instance, folder)
    assert problems == [
        "assignments.csv row 9: user cell starts like a formula without a leading '"
    ]


# --- Section 4: the rules ---------------------------------------------------


def _keep_team(on: bool, current: str) -> Callable[[Instance], Instance]:
    def tweak(instance: Instance) -> Instance:
        instance = with_users(instance, u3={"current_advisor": current})
        return with_policy(instance, keep_current_team=on)

    return tweak


def _locks(*locks: tuple[str, str, str]) -> Callable[[Instance], Instance]:
    def tweak(instance: Instance) -> Instance:
        made = tuple(
            Lock.model_validate({"user": u, "advisor": a, "kind": k, "row": i})
            for i, (u, a, k) in enumerate(locks, start=2)
        )
        return instance.model_copy(update={"locks": made})

    return tweak


def _hosts(*agreements: HostAgreement) -> Callable[[Instance], Instance]:
    def tweak(instance: Instance) -> Instance:
        return instance.model_copy(update={"host_agreements": agreements})

    return tweak


def _then(*tweaks: Callable[[Instance], Instance]) -> Callable[[Instance], Instance]:
    def tweak(instance: Instance) -> Instance:
        for step in tweaks:
            instance = step(instance)
        return instance

    return tweak


RULE_CASES = [
    # (id, instance tweak, assignment changes, expected rule prefix or None)
    ("1-routed-kind", same, {}, None),
    ("1-wrong-kind", same, {"u10": "a3"}, "rule 1 "),
    ("1-team-serves-municipality", same, {"u5": "a5"}, None),
    ("1-team-not-serving-municipality", same, {FORMULA_ID: "a5"}, "rule 1 "),
    # u3 is routed to youth but stays with follow_up advisor a2.
    ("1-keep-current-team-on", _keep_team(True, "a2"), {"u3": "a2"}, None),
    ("1-keep-current-team-off", _keep_team(False, "a2"), {"u3": "a2"}, "rule 1 "),
    # keep_current_team covers only the current advisor, not its team.
    ("1-keep-team-other-advisor", _keep_team(True, "a1"), {"u3": "a2"}, "rule 1 "),
    (
        "2-has-competence",
        lambda i: with_users(i, u7={"needs": ("debt_counselling",)}),
        {},
        None,
    ),
    (
        "2-lacks-competence",
        lambda i: with_users(i, u7={"needs": ("housing",)}),
        {},
        "rule 2 ",
    ),
    # u2 lives in hemsedal; a1 is employed by gol, its host.
    ("3-host-employee-serves-member", same, {}, None),
    (
        "3-other-municipality-employee",
        _hosts(HostAgreement(host="hol", members=("hemsedal",))),
        {},
        "rule 3 ",
    ),
    (
        "3-municipal-employee-own-municipality",
        lambda i: with_advisors(
            with_users(i, u7={"needs": ("social_assistance",)}),
            a2={
                "employer": "nes",
                "competences": ("debt_counselling", "social_assistance"),
            },
        ),
        {},
        None,
    ),
    (
        "3-state-employee",
        lambda i: with_advisors(
            with_users(i, u7={"needs": ("social_assistance",)}),
            a2={"competences": ("debt_counselling", "social_assistance")},
        ),
        {},
        "rule 3 ",
    ),
    # a2 has capacity 10; u6 (weight 9) and u7 fill it exactly.
    ("4-capacity-exact-fit", lambda i: with_users(i, u6={"weight": 9.0}), {}, None),
    ("4-capacity-exceeded", lambda i: with_users(i, u6={"weight": 9.5}), {}, "rule 4 "),
    # u1 loses its current advisor, so a1 takes two new users (u1, u2).
    (
        "4-intake-within-limit",
        lambda i: with_users(i, u1={"current_advisor": None}),
        {},
        None,
    ),
    (
        "4-intake-exceeded",
        lambda i: with_policy(
            with_users(i, u1={"current_advisor": None}), intake_per_fte=1
        ),
        {},
        "rule 4 ",
    ),
    # Nobody has a current advisor: a first allocation sets no intake limit.
    (
        "4-first-allocation-no-limit",
        _then(first_allocation, lambda i: with_policy(i, intake_per_fte=1)),
        {"u5": "a5"},
        None,
    ),
    (
        "4-one-current-advisor-sets-limit",
        _then(
            first_allocation,
            lambda i: with_users(i, u6={"current_advisor": "a2"}),
            lambda i: with_policy(i, intake_per_fte=1),
        ),
        {"u5": "a5"},
        "rule 4 ",
    ),
    (
        "5-advisor-override-no-limit",
        lambda i: with_advisors(
            with_policy(i, max_municipalities_per_advisor=1),
            a1={"max_municipalities": 0},
        ),
        {},
        None,
    ),
    (
        "5-policy-limit",
        lambda i: with_policy(i, max_municipalities_per_advisor=1),
        {},
        "rule 5 ",
    ),
    (
        "5-advisor-limit",
        lambda i: with_advisors(i, a1={"max_municipalities": 1}),
        {},
        "rule 5 ",
    ),
    # a6 is unavailable; u5 stays with it.
    ("6-unavailable-keeps-current", same, {}, None),
    ("6-unavailable-takes-new", same, {"u10": "a6"}, "rule 6 "),
    ("7-fix-holds", _locks(("u1", "a1", "fix")), {}, None),
    ("7-fix-broken", _locks(("u2", "a2", "fix")), {}, "rule 7 "),
    ("7-fix-unassigned", _locks(("u9", "a1", "fix")), {}, "rule 7 "),
    ("7-forbid-respected", _locks(("u1", "a2", "forbid")), {}, None),
    ("7-forbid-broken", _locks(("u1", "a1", "forbid")), {}, "rule 7 "),
    # u9 joins u6 and u7's household but is unassigned: only assigned count.
    (
        "8-unassigned-member",
        lambda i: with_users(i, u9={"household": "h1"}),
        {},
        None,
    ),
    (
        "8-split-household",
        lambda i: with_users(i, u10={"household": "h1"}),
        {},
        "rule 8 ",
    ),
]


@pytest.mark.parametrize(
    ("tweak", "changes", "expected"),
    [case[1:] for case in RULE_CASES],
    ids=[case[0] for case in RULE_CASES],
)
def test_section_4_rule(
    tmp_path: Path,
    tweak: Callable[[Instance], Instance],
    changes: dict[str, str | None],
    expected: str | None,
) -> None:
    """Each rule accepts its good case and names itself on the broken one."""
    instance, folder = run(tmp_path, tweak, changes)
    problems = check_solution(instance, folder)
    if expected is None:
        assert problems == []
    else:
        # The files are written correctly, so only the broken rule shows.
        assert problems
        assert all(line.startswith(expected) for line in problems), problems


def test_violation_names_user_and_advisor(tmp_path: Path) -> None:
    """A competence violation names the user, the advisor and what it lacks."""
    instance, folder = run(
        tmp_path, lambda i: with_users(i, u7={"needs": ("housing",)})
    )
    assert check_solution(instance, folder) == [
        "rule 2 (competence): user u7 -> advisor a2 lacks housing"
    ]


def test_household_line_names_only_user_ids(tmp_path: Path) -> None:
    """The household line names members by id and never the household id."""
    instance, folder = run(tmp_path, lambda i: with_users(i, u10={"household": "h1"}))
    (line,) = check_solution(instance, folder)
    assert line.startswith("rule 8 (household)")
    assert "u10 -> a5" in line
    assert "h1" not in line


@pytest.mark.parametrize(
    ("kind", "expected"), [("fix", []), ("forbid", ["rule 7 "])], ids=["fix", "forbid"]
)
def test_cli_locks_apply_like_locks_csv(
    tmp_path: Path, kind: str, expected: list[str]
) -> None:
    """summary.json cli_locks are checked exactly like locks.csv rows."""
    instance, folder = run(tmp_path)
    lock = {"user": "u1", "advisor": "a1", "kind": kind}
    edit_summary(folder, set_key("cli_locks", [lock]))
    problems = check_solution(instance, folder)
    assert [line[:7] for line in problems] == expected


def test_dropped_user(tmp_path: Path) -> None:
    """A user with no row in assignments.csv is reported as dropped."""
    instance, folder = run(tmp_path)
    edit_rows(folder, "assignments.csv", lambda rs: rs.pop(3))
    problems = check_solution(instance, folder)
    assert "no user dropped: user u3 has no row in assignments.csv" in problems


def test_travel_from_coordinates(tmp_path: Path) -> None:
    """Without a travel table, km = haversine x road_factor (1 degree = 111.19 km)."""
    instance = base_instance().model_copy(
        update={
            "travel": {},
            "municipalities": (
                Municipality(id="gol", lat=0.0, lon=10.0),
                Municipality(id="hemsedal", lat=0.0, lon=11.0),
                Municipality(id="hol"),
                Municipality(id="nes"),
            ),
        }
    )
    folder = write_solution(instance, BASE, tmp_path / "sol")
    # The objective counts the true km: 1000 + 155.67 + 80 (see the base).
    edit_summary(folder, set_key("objective", 1235.67))
    edit_summary(folder, set_key("bound", 1200.0))
    edit_summary(folder, set_key("gap", 35.67 / 1235.67))
    # The helper writes 0.0 for every pair; u2 (hemsedal) -> a1 (gol) is
    # 6371 x pi / 180 x 1.4 = 155.67 km. Pairs with hol or nes have no centre: 0.
    assert check_solution(instance, folder) == [
        "assignments.csv row 3: travel_km '0.0' for user u2, expected 155.7"
    ]
    # With the cell right, a total of 0.0 matches neither reading of the total.
    edit_cell(folder, "assignments.csv", "u2", "travel_km", "155.7")
    assert check_solution(instance, folder) == [
        "summary.json: kpis.travel_km is 0.0, expected 155.673"
    ]
    edit_summary(folder, set_kpi("travel_km", 155.7))
    assert check_solution(instance, folder) == []


# --- Section 5: the written files -------------------------------------------


def _swap(first: int, second: int) -> Callable[[list[list[str]]], None]:
    def change(records: list[list[str]]) -> None:
        records[first], records[second] = records[second], records[first]

    return change


def _drop_column(name: str) -> Callable[[list[list[str]]], None]:
    def change(records: list[list[str]]) -> None:
        index = records[0].index(name)
        for record in records:
            del record[index]

    return change


def _swap_columns(first: int, second: int) -> Callable[[list[list[str]]], None]:
    def change(records: list[list[str]]) -> None:
        for record in records:
            record[first], record[second] = record[second], record[first]

    return change


def _cell(file: str, key: str, column: str, value: str) -> Callable[[Path], None]:
    return lambda folder: edit_cell(folder, file, key, column, value)


def _rows(
    file: str, change: Callable[[list[list[str]]], None]
) -> Callable[[Path], None]:
    return lambda folder: edit_rows(folder, file, change)


def _summary(change: Callable[[dict[str, object]], None]) -> Callable[[Path], None]:
    return lambda folder: edit_summary(folder, change)


def _delete(file: str) -> Callable[[Path], None]:
    return lambda folder: (folder / file).unlink()


def _no_change(folder: Path) -> None:
    return None


A = "assignments.csv"
L = "advisor_load.csv"
T = "team_load.csv"
M = "municipality_load.csv"
S = "summary.json"

FILE_CASES = [
    # (id, assignment changes, edit of the written files, expected prefix or None)
    ("a-travel-rounded", {}, _cell(A, "u2", "travel_km", "35.05"), None),
    (
        "a-travel-wrong",
        {},
        _cell(A, "u2", "travel_km", "30.0"),
        "assignments.csv row 3",
    ),
    (
        "a-travel-unassigned",
        {},
        _cell(A, "u9", "travel_km", "0.0"),
        "assignments.csv row 10",
    ),
    ("a-order", {}, _rows(A, _swap(1, 2)), "assignments.csv row 2: user u2 out of"),
    (
        "a-duplicate",
        {},
        _rows(A, lambda rs: rs.append(rs[1])),
        "assignments.csv row 12",
    ),
    (
        "a-unknown-user",
        {},
        _rows(A, lambda rs: rs.append(["u99", *rs[1][1:]])),
        "assignments.csv row 12: unknown user u99",
    ),
    (
        "a-municipality",
        {},
        _cell(A, "u1", "municipality", "hol"),
        "assignments.csv row 2",
    ),
    ("a-team", {}, _cell(A, "u1", "team", "t_hol"), "assignments.csv row 2"),
    (
        "a-team-unassigned",
        {},
        _cell(A, "u9", "team", "t_hol"),
        "assignments.csv row 10",
    ),
    (
        "a-unknown-advisor",
        {},
        _cell(A, "u1", "advisor", "a99"),
        "assignments.csv row 2",
    ),
    (
        "a-status-illegal",
        {},
        _cell(A, "u1", "status", "placed"),
        "assignments.csv row 2",
    ),
    (
        "a-status-wrong",
        {},
        _cell(A, "u1", "status", "unassigned"),
        "assignments.csv row 2",
    ),
    (
        "a-previous-advisor",
        {},
        _cell(A, "u1", "previous_advisor", "a2"),
        "assignments.csv row 2: previous_advisor",
    ),
    ("a-changed-true", {}, _cell(A, "u1", "changed", "true"), "assignments.csv row 2"),
    (
        "a-changed-false",
        {},
        _cell(A, "u9", "changed", "false"),
        "assignments.csv row 10",
    ),
    (
        "a-changed-illegal",
        {},
        _cell(A, "u1", "changed", "yes"),
        "assignments.csv row 2",
    ),
    ("a-reason-unassigned", {}, _cell(A, "u9", "reason", ""), "assignments.csv row 10"),
    ("a-reason-changed-ok", {"u5": "a5"}, _no_change, None),
    (
        "a-reason-changed",
        {"u5": "a5"},
        _cell(A, "u5", "reason", ""),
        "assignments.csv row 6",
    ),
    (
        "a-reason-not-wanted",
        {},
        _cell(A, "u1", "reason", "kept"),
        "assignments.csv row 2",
    ),
    (
        "a-rule",
        {},
        _cell(A, "u3", "rule", "3:follow_up"),
        "assignments.csv row 4: rule",
    ),
    (
        "a-extra-value",
        {},
        _cell(A, "'" + FORMULA_ID, "note", "home"),
        "assignments.csv row 9: column note",
    ),
    ("a-extra-missing", {}, _rows(A, _drop_column("note")), "assignments.csv: missing"),
    ("a-column-order", {}, _rows(A, _swap_columns(2, 3)), "assignments.csv: columns"),
    ("l-load-rounded", {}, _cell(L, "a2", "load", "3.5004"), None),
    ("l-load", {}, _cell(L, "a2", "load", "4.5"), "advisor_load.csv row 3: load"),
    ("l-capacity", {}, _cell(L, "a4", "capacity", "10"), "advisor_load.csv row 5"),
    (
        "l-utilisation",
        {},
        _cell(L, "a1", "utilisation", "0.5"),
        "advisor_load.csv row 2",
    ),
    ("l-fte", {}, _cell(L, "a6", "fte", "1.0"), "advisor_load.csv row 7: fte"),
    ("l-team", {}, _cell(L, "a1", "team", "t_hol"), "advisor_load.csv row 2: team"),
    ("l-users", {}, _cell(L, "a1", "users", "2"), "advisor_load.csv row 2: users"),
    ("l-new-users", {}, _cell(L, "a1", "new_users", "0"), "advisor_load.csv row 2"),
    (
        "l-intake-limit",
        {},
        _cell(L, "a1", "intake_limit", ""),
        "advisor_load.csv row 2",
    ),
    (
        "l-municipalities-order",
        {},
        _cell(L, "a1", "municipalities", "hemsedal;gol"),
        None,
    ),
    (
        "l-municipalities",
        {},
        _cell(L, "a1", "municipalities", "gol"),
        "advisor_load.csv row 2",
    ),
    (
        "l-extra",
        {},
        _cell(L, "a2", "office", "Nes"),
        "advisor_load.csv row 3: column office",
    ),
    (
        "l-missing-row",
        {},
        _rows(L, lambda rs: rs.pop(3)),
        "advisor_load.csv: no row for",
    ),
    ("l-order", {}, _rows(L, _swap(1, 2)), "advisor_load.csv row 2: advisor a2 out of"),
    ("t-assigned", {}, _cell(T, "t_follow", "assigned", "4"), "team_load.csv row 4"),
    ("t-capacity", {}, _cell(T, "t_follow", "capacity", "30"), "team_load.csv row 4"),
    ("t-kind", {}, _cell(T, "t_hol", "kind", "youth"), "team_load.csv row 5: kind"),
    ("t-advisors", {}, _cell(T, "t_follow", "advisors", "2"), "team_load.csv row 4"),
    ("t-missing-row", {}, _rows(T, lambda rs: rs.pop(1)), "team_load.csv: no row for"),
    ("m-advisors", {}, _cell(M, "nes", "advisors", "1"), "municipality_load.csv row 5"),
    (
        "m-unassigned",
        {},
        _cell(M, "hol", "unassigned", "0"),
        "municipality_load.csv row 4",
    ),
    ("m-load", {}, _cell(M, "nes", "load", "3"), "municipality_load.csv row 5: load"),
    ("m-users", {}, _cell(M, "gol", "users", "2"), "municipality_load.csv row 2"),
    ("m-missing-row", {}, _rows(M, lambda rs: rs.pop(1)), "municipality_load.csv: no"),
    (
        "s-missing-key",
        {},
        _summary(lambda d: d.pop("seed")),
        "summary.json: missing key",
    ),
    ("s-status", {}, _summary(set_key("status", "done")), "summary.json: status"),
    ("s-status-optimal", {}, _summary(set_key("status", "optimal")), None),
    ("s-gap", {}, _summary(set_key("gap", 0.2)), "summary.json: gap"),
    (
        "s-gap-zero-objective",
        {},
        _summary(lambda d: d.update(objective=0, bound=0, gap=0)),
        # gap 0 is right for objective 0; the objective itself is not.
        "summary.json: objective 0 is not the sum of the goals",
    ),
    (
        "s-bound-above-objective",
        {},
        _summary(lambda d: d.update(bound=1300.0, gap=(1210 - 1300) / 1210)),
        "summary.json: bound",
    ),
    # The greedy baseline proves no bound: bound and gap null together.
    ("s-no-bound", {}, _summary(lambda d: d.update(bound=None, gap=None)), None),
    ("s-bound-null-only", {}, _summary(set_key("bound", None)), "summary.json: bound"),
    ("s-objective-null", {}, _summary(set_key("objective", None)), "summary.json"),
    ("s-seed", {}, _summary(set_key("seed", 1.5)), "summary.json: seed"),
    (
        "s-sha",
        {},
        _summary(set_key("input_sha256", "abc")),
        "summary.json: input_sha256",
    ),
    (
        "s-reassignments",
        {},
        _summary(set_kpi("reassignments", 0)),
        "summary.json: kpis",
    ),
    (
        "s-assigned",
        {},
        _summary(set_kpi("assigned", 10)),
        "summary.json: kpis.assigned",
    ),
    ("s-urgent", {}, _summary(set_kpi("urgent_unassigned", 1)), "summary.json: kpis"),
    (
        "s-utilisation-max",
        {},
        _summary(set_kpi("utilisation_max", 0.9)),
        "summary.json",
    ),
    (
        "s-utilisation-min",
        {},
        _summary(set_kpi("utilisation_min", 0.0)),
        "summary.json",
    ),
    # Travel total: u2 35 + u3 55 + u5 40 = 130 km; 0.1 km slack.
    ("s-travel-close", {}, _summary(set_kpi("travel_km", 130.09)), None),
    ("s-travel-wrong", {}, _summary(set_kpi("travel_km", 130.5)), "summary.json: kpis"),
    ("s-missing-kpi", {}, _summary(lambda d: d["kpis"].pop("users")), "summary.json"),
    (
        "s-cli-locks",
        {},
        _summary(set_key("cli_locks", [{"user": "u1"}])),
        "summary.json",
    ),
    ("f-no-team-load", {}, _delete(T), "team_load.csv: missing"),
    ("f-no-advisor-load", {}, _delete(L), "advisor_load.csv: missing"),
    ("f-no-municipality-load", {}, _delete(M), "municipality_load.csv: missing"),
    ("f-no-summary", {}, _delete(S), "summary.json: missing"),
    (
        "f-summary-not-json",
        {},
        lambda f: (f / S).write_text("{kpis", encoding="utf-8"),
        "summary.json: not valid JSON",
    ),
    (
        "f-assignments-not-utf8",
        {},
        lambda f: (f / A).write_bytes(b"user\n\xff\xfe\n"),
        "assignments.csv: cannot be read",
    ),
]


@pytest.mark.parametrize(
    ("changes", "edit", "expected"),
    [case[1:] for case in FILE_CASES],
    ids=[case[0] for case in FILE_CASES],
)
def test_section_5_files(
    tmp_path: Path,
    changes: dict[str, str | None],
    edit: Callable[[Path], None],
    expected: str | None,
) -> None:
    """Each output item accepts the right value and flags a wrong one."""
    instance, folder = run(tmp_path, changes=changes)
    edit(folder)
    problems = check_solution(instance, folder)
    if expected is None:
        assert problems == []
    else:
        assert any(line.startswith(expected) for line in problems), problems


def test_missing_assignments_is_reported(tmp_path: Path) -> None:
    """Without assignments.csv the checker reports it instead of raising."""
    instance, folder = run(tmp_path)
    (folder / "assignments.csv").unlink()
    assert check_solution(instance, folder) == ["assignments.csv: missing"]


def test_empty_folder(tmp_path: Path) -> None:
    """A folder with no files yields one line per missing file."""
    problems = check_solution(base_instance(), tmp_path)
    assert len(problems) == 5
    assert all(line.endswith(": missing") for line in problems)


def test_utilisation_empty_for_zero_capacity(tmp_path: Path) -> None:
    """An advisor with casework share 0 has empty utilisation and no kpi share."""
    extra = Advisor(
        id="a7",
        team="t_assess",
        employer="state",
        base="gol",
        fte=1.0,
        casework_share=0.0,
        extra={"office": "Gol"},
    )
    instance = base_instance()
    instance = instance.model_copy(update={"advisors": (*instance.advisors, extra)})
    folder = write_solution(instance, BASE, tmp_path / "sol")
    assert check_solution(instance, folder) == []
    edit_cell(folder, "advisor_load.csv", "a7", "utilisation", "0.0")
    assert check_solution(instance, folder) == [
        "advisor_load.csv row 8: utilisation must be empty when capacity is 0"
    ]


@pytest.mark.parametrize(
    ("fte", "share", "per_fte", "first", "expected"),
    [
        (1.0, 1.0, 8, False, 8),
        (0.5, 0.7, 8, False, 2),  # 2.8 rounds down
        (0.1, 1.0, 8, False, 1),  # 0.8 is positive: at least 1
        (0.29, 1.0, 100, False, 29),  # 28.999... is 29, not 28
        (1.0, 0.0, 8, False, 0),  # no casework: no intake
        (1.0, 1.0, 0, False, None),  # intake_per_fte 0: no limit
        (1.0, 1.0, 8, True, None),  # first allocation: no limit
    ],
)
def test_intake_limit(
    fte: float, share: float, per_fte: float, first: bool, expected: int | None
) -> None:
    """The weekly intake limit rounds down, at least 1 when positive."""
    instance = with_policy(base_instance(), intake_per_fte=per_fte)
    advisor = instance.advisors[0].model_copy(
        update={"fte": fte, "casework_share": share}
    )
    assert intake_limit(instance, advisor, first) == expected


def test_semicolon_delimited_files_are_read(tmp_path: Path) -> None:
    """Output CSVs re-saved with ';' (Norwegian Excel) are still read."""
    instance, folder = run(tmp_path)
    for name in ("team_load.csv", "municipality_load.csv"):
        path = folder / name
        with path.open(encoding="utf-8", newline="") as handle:
            records = list(csv.reader(handle))
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, delimiter=";").writerows(records)
    assert check_solution(instance, folder) == []


@pytest.mark.parametrize(
    ("total", "ok"),
    [(200.1, True), (200.0, True), (199.85, False)],
    ids=["exact-sum", "sum-of-cells", "neither"],
)
def test_travel_total_readings(tmp_path: Path, total: float, ok: bool) -> None:
    """The travel total may sum exact km or the rounded cells, nothing else."""
    instance = base_instance()
    km = {**instance.travel, ("gol", "hemsedal"): 35.04, ("hemsedal", "gol"): 35.04}
    moved = {"municipality": "hemsedal"}
    instance = with_users(
        instance.model_copy(update={"travel": km}), u1=moved, **{FORMULA_ID: moved}
    )
    folder = write_solution(instance, BASE, tmp_path / "sol")
    # Three users at 35.04 km, plus u3 55 and u5 40: exact 200.12 km, while
    # the cells (35.0 each) add up to 200.0 km, 0.12 km apart.
    edit_summary(folder, set_kpi("travel_km", total))
    problems = check_solution(instance, folder)
    assert (problems == []) is ok, problems


# --- changes.csv and since --------------------------------------------------

CHANGE_HEADER = "user,kind,from,to,from_team,to_team,team_change,locked,reason\n"


def test_changes_file_lists_every_changed_user(tmp_path: Path) -> None:
    """u9's advisor left (changed=true): it must be listed, as unassigned."""
    instance, folder = run(tmp_path)
    (folder / "changes.csv").write_text(
        CHANGE_HEADER + "u9,unassigned,gone,,,,false,false,previous advisor left\n",
        encoding="utf-8",
    )
    assert check_solution(instance, folder) == []
    (folder / "changes.csv").write_text(CHANGE_HEADER, encoding="utf-8")
    assert check_solution(instance, folder) == [
        "changes.csv: user u9 changed advisor (assignments.csv row 10) but is not "
        "listed"
    ]


def test_changes_file_never_moves_a_user_to_the_same_advisor(tmp_path: Path) -> None:
    instance, folder = run(tmp_path)
    (folder / "changes.csv").write_text(
        CHANGE_HEADER
        + "u9,unassigned,gone,,,,false,false,previous advisor left\n"
        + "u1,moved,a1,a1,t_follow,t_follow,false,false,x\n",
        encoding="utf-8",
    )
    assert check_solution(instance, folder) == [
        "changes.csv row 3: user u1 moved from a1 to the same advisor"
    ]


def test_since_of_a_new_pairing_is_the_weeks_monday(tmp_path: Path) -> None:
    """Week 2026-W10 starts 2026-03-02: u2 (no current advisor) pairs anew."""

    def tweak(i: Instance) -> Instance:
        return i.model_copy(update={"week": "2026-W10"})

    instance, folder = run(tmp_path, tweak)

    def add_since(records: list[list[str]]) -> None:
        records[0].append("since")
        for record in records[1:]:
            kept = record[3] and record[3] == record[5]
            record.append("" if not record[3] or kept else "2026-03-02")

    edit_rows(folder, "assignments.csv", add_since)
    assert check_solution(instance, folder) == []
    edit_cell(folder, "assignments.csv", "u2", "since", "2026-03-09")
    assert check_solution(instance, folder) == [
        "assignments.csv row 3: since '2026-03-09' for user u2, expected '2026-03-02'"
    ]
