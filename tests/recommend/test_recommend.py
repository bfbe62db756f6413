"""Recommend a structure (FORMAT.md section 8): space, screening, front, files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.cli import main
from allocator.io.read import read_instance
from allocator.recommend.scenario_file import changed_instance, scenario_text
from allocator.recommend.screen import dominates, pareto_indices, screen
from allocator.recommend.space import (
    Limits,
    enumerate_structures,
    host_structure_count,
    limits_from_doc,
    set_partitions,
)
from tests.shipped import shipped

REPO = Path(__file__).resolve().parents[2]

INSTANCE_TOML = """\
name = "two"
description = "two municipalities, a hand-built office"

[policy]
max_municipalities_per_advisor = 2
cases_per_fte = 10
intake_per_fte = 8
time_limit_s = 1

[[competence]]
id = "sa"
name = "Social assistance"
municipal_authority = true

[[routing]]
team_kind = "follow_up"
"""


def write_office(folder: Path, places: list[str], m2_base: str = "n2") -> Path:
    """A hand-built office: one follow-up team per municipality.

    n1: m1 (employed by n1, 1 FTE, sa) and s1 (state, 1 FTE, no competence);
    n2: m2 (employed by n2, 0.5 FTE, sa) sitting at ``m2_base``. Users: 3 in
    n1 and 8 in n2 needing sa, 2 in n2 needing nothing; weight 1 each; 10
    weighted users per FTE. Further municipalities get one municipal
    advisor each and no users.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "instance.toml").write_text(INSTANCE_TOML, encoding="utf-8")
    lat = {p: 60.0 + i * 0.1 for i, p in enumerate(places)}
    (folder / "municipalities.csv").write_text(
        "id,name,lat,lon\n"
        + "".join(f"{p},{p.upper()},{lat[p]},9.0\n" for p in places),
        encoding="utf-8",
    )
    (folder / "teams.csv").write_text(
        "id,name,kind,municipalities\n"
        + "".join(f"f-{p},Follow-up {p},follow_up,{p}\n" for p in places),
        encoding="utf-8",
    )
    rows = [
        "m1,M1,f-n1,n1,n1,1,1,sa",
        "s1,S1,f-n1,state,n1,1,1,",
        f"m2,M2,f-n2,n2,{m2_base},0.5,1,sa",
    ]
    rows += [f"m{p},M{p},f-{p},{p},{p},1,1,sa" for p in places[2:]]
    (folder / "advisors.csv").write_text(
        "id,name,team,employer,base,fte,casework_share,competences\n"
        + "".join(r + "\n" for r in rows),
        encoding="utf-8",
    )
    users = [f"u{i},n1,40,sa,active" for i in range(3)]
    users += [f"v{i},n2,40,sa,active" for i in range(8)]
    users += [f"w{i},n2,40,,active" for i in range(2)]
    (folder / "users.csv").write_text(
        "id,municipality,age,needs,status\n" + "".join(u + "\n" for u in users),
        encoding="utf-8",
    )
    travel = ["from,to,km"]
    for i, a in enumerate(places):
        for b in places[i + 1 :]:
            travel.append(f"{a},{b},35")
    (folder / "travel.csv").write_text("\n".join(travel) + "\n", encoding="utf-8")
    return folder


def by_groups(space, groups: str, pooled: bool = False):
    found = [
        s
        for s in space.structures
        if s.host_groups == groups and s.state_pooled == pooled
    ]
    assert len(found) == 1, groups
    return found[0]


# --- The space -------------------------------------------------------------------


def test_closed_form_counts() -> None:
    assert [host_structure_count(n) for n in range(1, 7)] == [1, 3, 10, 41, 196, 1057]
    assert host_structure_count(8) == 41393


def test_partitions_are_the_bell_numbers() -> None:
    assert [
        sum(1 for _ in set_partitions(list("abcdefg")[:n])) for n in range(1, 7)
    ] == [
        1,
        2,
        5,
        15,
        52,
        203,
    ]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_enumeration_matches_closed_form(tmp_path: Path, n: int) -> None:
    places = ["n1", "n2", "n3", "n4", "n5", "n6"][: max(n, 2)]
    instance = read_instance(write_office(tmp_path / "office", places))
    if n == 1:
        # One municipality: a hand count, the structure itself.
        assert sum(1 for _ in set_partitions(["n1"])) == 1
        return
    space = enumerate_structures(instance, Limits(team_options=False))
    assert space.enumerated == host_structure_count(n)
    assert len(space.structures) == host_structure_count(n)
    names = {s.host_groups for s in space.structures}
    assert len(names) == host_structure_count(n)


def test_team_options_multiply_the_space(tmp_path: Path) -> None:
    instance = read_instance(write_office(tmp_path / "office", ["n1", "n2", "n3"]))
    space = enumerate_structures(instance)
    # s1 is a state employee in an office team: pooling is an option for
    # every host structure; no kind is shareable (follow_up is the catch-all).
    assert space.enumerated == 2 * 10


def _kept(tmp_path: Path, doc: dict) -> set[str]:
    instance = read_instance(write_office(tmp_path / "office", ["n1", "n2", "n3"]))
    limits = limits_from_doc({**doc, "team_options": False}, instance)
    space = enumerate_structures(instance, limits)
    today = space.current.host_groups
    assert space.enumerated == 10
    kept = {s.host_groups for s in space.structures[1:]}
    assert space.ruled_out_by_limits == 10 - 1 - len(kept)
    assert today == "n1; n2; n3"
    return kept


def test_limits_apart_by_hand(tmp_path: Path) -> None:
    # n1 and n2 apart: {n1,n3}{n2} (2 hosts), {n1}{n2,n3} (2 hosts), and
    # today's all-alone, which is not counted among the kept others.
    assert _kept(tmp_path, {"apart": [["n1", "n2"]]}) == {
        "n1: n1 n3; n2",
        "n3: n1 n3; n2",
        "n1; n2: n2 n3",
        "n1; n3: n2 n3",
    }


def test_limits_together_by_hand(tmp_path: Path) -> None:
    # n1 with n2: {n1,n2}{n3} with 2 hosts, {n1,n2,n3} with 3 hosts.
    assert _kept(tmp_path, {"together": [["n1", "n2"]]}) == {
        "n1: n1 n2; n3",
        "n2: n1 n2; n3",
        "n1: n1 n2 n3",
        "n2: n1 n2 n3",
        "n3: n1 n2 n3",
    }


def test_limits_largest_group_hosts_and_names_by_hand(tmp_path: Path) -> None:
    assert _kept(tmp_path, {"largest_group": 1}) == set()
    pairs = _kept(tmp_path, {"largest_group": 2})
    assert len(pairs) == 6  # three pairs, two hosts each
    assert _kept(tmp_path, {"largest_group": 2, "hosts": ["n1"]}) == {
        "n1: n1 n2; n3",
        "n1: n1 n3; n2",
    }
    assert _kept(
        tmp_path, {"largest_group": 2, "hosts": ["n1"], "ruled_out": ["n1-n2_n3"]}
    ) == {
        "n1: n1 n3; n2",
    }


def test_limits_distance_by_hand(tmp_path: Path) -> None:
    # Every pair is 35 km apart: a limit of 30 keeps no group of two or more.
    assert _kept(tmp_path, {"max_distance_km": 30}) == set()
    assert len(_kept(tmp_path, {"max_distance_km": 35})) == 9


def test_bad_limits_file_is_located(tmp_path: Path) -> None:
    office = write_office(tmp_path / "office", ["n1", "n2"])
    bad = tmp_path / "limits.toml"
    bad.write_text(
        'largest_group = "two"\napart = [["n1", "nowhere"]]\n', encoding="utf-8"
    )
    result = CliRunner().invoke(
        main,
        ["recommend", str(office), "--limits", str(bad), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "limits.toml" in result.output
    assert "largest_group" in result.output and "nowhere" in result.output
    assert not (tmp_path / "o").exists()
    bad.write_text("largest_group = \n", encoding="utf-8")
    result = CliRunner().invoke(main, ["recommend", str(office), "--limits", str(bad)])
    assert result.exit_code == 1 and "not valid TOML" in result.output


# --- Screening ---------------------------------------------------------------------


def test_screened_figures_today(tmp_path: Path) -> None:
    instance = read_instance(
        write_office(tmp_path / "office", ["n1", "n2"], m2_base="n1")
    )
    space = enumerate_structures(instance)
    figures = screen(changed_instance(instance, space.current))
    # (n1, sa): m1; (n2, sa): m2. One each.
    assert figures["coverage_min"] == 1
    assert figures["single_points"] == 2
    assert figures["uncovered"] == 0
    assert figures["forced_moves"] == 0
    # n2's 10 users can only go to m2 (capacity 5): 13 - (3 + 5) = 5.
    assert figures["unassigned_floor"] == pytest.approx(5.0)
    # m2 sits in n1: each of n2's 10 users is 35 km away, 350 km at 70 km/h.
    assert figures["travel_floor_hours"] == pytest.approx(5.0)
    assert figures["leakage_floor_fte"] == pytest.approx(0.0)


def test_screened_figures_one_host(tmp_path: Path) -> None:
    instance = read_instance(
        write_office(tmp_path / "office", ["n1", "n2"], m2_base="n1")
    )
    space = enumerate_structures(instance)
    host_n1 = screen(changed_instance(instance, by_groups(space, "n1: n1 n2")))
    assert (
        host_n1["coverage_min"],
        host_n1["single_points"],
        host_n1["uncovered"],
    ) == (2, 0, 0)
    assert host_n1["unassigned_floor"] == pytest.approx(0.0)
    # Everyone sits in n1: n2's 10 users are 35 km away.
    assert host_n1["travel_floor_hours"] == pytest.approx(5.0)
    # n2's 8 sa users can only be served by n1's employees: 8 / 10 FTE; its
    # 2 others can go to the state employee s1.
    assert host_n1["leakage_floor_fte"] == pytest.approx(0.8)
    host_n2 = screen(changed_instance(instance, by_groups(space, "n2: n1 n2")))
    # n1's 3 sa users now need an n2 employee (m1 and m2 are both n2's).
    assert host_n2["leakage_floor_fte"] == pytest.approx(0.3)


def test_uncovered_pair(tmp_path: Path) -> None:
    office = write_office(tmp_path / "office", ["n1", "n2"])
    text = (office / "advisors.csv").read_text(encoding="utf-8")
    (office / "advisors.csv").write_text(
        text.replace("m2,M2,f-n2,n2,n2,0.5,1,sa", "m2,M2,f-n2,n2,n2,0.5,1,"),
        encoding="utf-8",
    )
    instance = read_instance(office)
    figures = screen(instance)
    assert (
        figures["coverage_min"],
        figures["single_points"],
        figures["uncovered"],
    ) == (0, 1, 1)
    # n2's 8 sa users have nobody: the flow places 3 + 2 of 13.
    assert figures["unassigned_floor"] == pytest.approx(8.0)


def test_dominance_and_pareto() -> None:
    assert dominates([1, 2], [1, 3])
    assert not dominates([1, 2], [1, 2])
    assert not dominates([0, 3], [1, 2])
    vectors = [[1, 2], [2, 1], [2, 2], [1, 2], [0, 5]]
    assert pareto_indices(vectors) == [0, 1, 3, 4]


# --- Scenario files ----------------------------------------------------------------


def _shape(instance):
    return (
        sorted((h.host, tuple(sorted(h.members))) for h in instance.host_agreements),
        sorted((t.id, t.kind, tuple(t.municipalities)) for t in instance.teams),
        sorted((a.id, a.team, a.employer) for a in instance.advisors),
        [r.model_dump(exclude={"row"}) for r in instance.routing],
    )


@pytest.mark.parametrize("step", [97, 389])
def test_written_file_is_the_structure_screened(tmp_path: Path, step: int) -> None:
    """changed_instance (screening) equals apply_scenario of the written file."""
    from allocator.scenario import apply_scenario, read_scenario

    instance = shipped("hallingdal")
    space = enumerate_structures(instance)
    picks = space.structures[::step] + [s for s in space.structures if s.shared]
    for s in picks:
        path = tmp_path / "s.toml"
        path.write_text(scenario_text(instance, s, "s", "x"), encoding="utf-8")
        assert _shape(apply_scenario(instance, read_scenario(path))) == _shape(
            changed_instance(instance, s)
        ), s.host_groups


def test_hallingdal_models_as_structures() -> None:
    """B, C and D's host groups are enumerated structures of hallingdal."""
    instance = shipped("hallingdal")
    space = enumerate_structures(instance)
    groups = {s.host_groups for s in space.structures}
    assert space.current.host_groups == "fla; nes; gol: gol hemsedal; al; hol"
    assert "fla; nes; gol: gol hemsedal; al: al hol" in groups  # B
    assert "gol: fla nes gol hemsedal; al; hol" in groups  # C
    assert "nes: fla nes; gol: gol hemsedal; al; hol" in groups  # D
    assert "gol: fla nes gol hemsedal al hol" in groups  # E's groups
    assert space.enumerated == 2 * 1057 + 2 * 6  # pooled; shared debt for one host


# --- The whole run ---------------------------------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    from allocator.recommend.output import write_recommendation
    from allocator.recommend.weigh import recommend_structures
    from allocator.runs.executor import InlineExecutor

    root = tmp_path_factory.mktemp("rec")
    office = write_office(root / "office", ["n1", "n2"], m2_base="n1")
    instance = read_instance(office)
    rec = recommend_structures(
        instance, Limits(), top=10, time_limit=2, executor=InlineExecutor()
    )
    out = root / "out"
    write_recommendation(rec, out)
    return instance, rec, out


def test_every_structure_solved_and_counted(run) -> None:
    _, rec, out = run
    # 3 host structures x (pooled or not); no shareable kind.
    assert rec.structures_enumerated == 6
    assert len(rec.rows) + rec.structures_screened_out + rec.survivors_not_solved == 6
    document = json.loads((out / "recommendation.json").read_text(encoding="utf-8"))
    assert document["structures_enumerated"] == 6
    assert document["structures_screened_out"] == rec.structures_screened_out
    assert document["front"] == [r["structure"] for r in rec.rows if r["on_front"]]
    header = (out / "recommendation.csv").read_text(encoding="utf-8").splitlines()[0]
    for column in (
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
    ):
        assert column in header.split(",")
    assert sum(r["is_current"] for r in rec.rows) == 1
    page = (out / "recommendation.html").read_text(encoding="utf-8")
    assert (
        "today" in page
        and "<script" not in page
        and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )


def test_no_front_member_is_dominated(run) -> None:
    from allocator.recommend.weigh import front_vector

    _, rec, _ = run
    front = [r for r in rec.rows if r["on_front"]]
    assert front
    for member in front:
        for other in rec.rows:
            assert not dominates(front_vector(other), front_vector(member))
    for row in rec.rows:
        if not row["on_front"]:
            beater = next(r for r in rec.rows if r["structure"] == row["dominated_by"])
            assert dominates(front_vector(beater), front_vector(row))


def test_every_scenario_file_is_accepted_by_compare(run) -> None:
    """Each written file applies; comparing a front one reproduces its row."""
    from allocator.compare import compare_variants, scenario_variants
    from allocator.runs.executor import InlineExecutor

    instance, rec, out = run
    files = sorted((out / "scenarios").glob("*.toml"))
    assert {f.stem for f in files} == {r["structure"] for r in rec.rows}
    variants = scenario_variants(instance, files).variants
    assert len(variants) == len(files)
    front = next(r for r in rec.rows if r["on_front"] and not r["is_current"])
    variant = [v for v in variants if v[0] == front["structure"]]
    comparison = compare_variants(instance, variant, [0], 2, executor=InlineExecutor())
    row = next(r for r in comparison.rows if r["scenario"] == front["structure"])
    for key in (
        "single_points",
        "uncovered",
        "coverage_min",
        "forced_moves",
        "unassigned_weight",
        "n1_mean_weight",
        "n1_worst_weight",
    ):
        assert row[key] == front[key], key
    for key in ("travel_hours", "leakage_fte", "freed_fte"):
        assert math.isclose(row[key], front[key], abs_tol=1e-6), key


def test_python_api_returns_the_table(tmp_path: Path) -> None:
    import allocator

    instance = read_instance(write_office(tmp_path / "office", ["n1", "n2"]))
    frame = allocator.recommend(
        instance,
        limits={"largest_group": 1, "team_options": False},
        top=0,
        time_limit=1,
    )
    # Only today's structure is left: the limits rule out every merger.
    assert list(frame["structure"]) == ["n1_n2"]
    assert bool(frame["on_front"].iloc[0]) and bool(frame["is_current"].iloc[0])


@pytest.mark.parametrize("name", ["hallingdal", "nord-gudbrandsdal"])
def test_recorded_scenario_files_apply(name: str) -> None:
    """Every scenario file of the recorded runs is read as compare reads it."""
    from allocator.compare import scenario_variants

    folder = REPO / "solutions" / name / "recommend"
    files = sorted((folder / "scenarios").glob("*.toml"))
    if not files:
        pytest.skip("no recorded recommendation")
    instance = read_instance(REPO / "instances" / name)
    variants = scenario_variants(instance, files).variants
    assert [v[0] for v in variants] == [f.stem for f in files]
    rows = (folder / "recommendation.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) - 1 == len(files)


def _row(name: str, *figures: float, within: bool = True) -> dict:
    keys = [
        "unassigned_weight",
        "single_points",
        "n1_mean_weight",
        "travel_hours",
        "leakage_fte",
    ]
    return {
        "structure": name,
        "uncovered": 0,
        "within_limits": within,
        **dict(zip(keys, figures, strict=True)),
    }


def test_front_marks_and_leakage_limit() -> None:
    from allocator.recommend.weigh import mark_front

    rows = [
        _row("today", 0, 12, 9.0, 46.0, 2.0),
        _row("merge", 0, 4, 5.0, 46.0, 4.0),
        _row("worse", 1, 4, 5.0, 46.0, 4.0),
        _row("best-but-leaky", 0, 0, 1.0, 40.0, 1.0, within=False),
    ]
    mark_front(rows)
    assert [r["on_front"] for r in rows] == [True, True, False, False]
    assert rows[2]["dominated_by"] == "merge"
    # A row outside the limits beats nobody and is never on the front.
    assert rows[0]["dominated_by"] == "" and rows[3]["dominated_by"] == ""


def test_pick_spreads_over_the_screened_figures() -> None:
    from allocator.recommend.weigh import pick

    figures = [
        {
            "unassigned_floor": 0,
            "single_points": 9,
            "uncovered": 0,
            "coverage_min": 1,
            "travel_floor_hours": 1.0,
            "leakage_floor_fte": 0.0,
        },
        {
            "unassigned_floor": 5,
            "single_points": 0,
            "uncovered": 0,
            "coverage_min": 3,
            "travel_floor_hours": 2.0,
            "leakage_floor_fte": 5.0,
        },
        {
            "unassigned_floor": 1,
            "single_points": 5,
            "uncovered": 0,
            "coverage_min": 2,
            "travel_floor_hours": 0.5,
            "leakage_floor_fte": 2.0,
        },
        {
            "unassigned_floor": 2,
            "single_points": 4,
            "uncovered": 0,
            "coverage_min": 2,
            "travel_floor_hours": 3.0,
            "leakage_floor_fte": 3.0,
        },
    ]
    # Turns: unassigned (0), single points (1), uncovered (tie: 2), ...
    assert pick([0, 1, 2, 3], figures, 2) == [0, 1]
    assert pick([0, 1, 2, 3], figures, 3) == [0, 1, 2]
    assert pick([1, 3], figures, 5) == [1, 3]
