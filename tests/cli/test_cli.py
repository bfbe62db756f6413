"""The command line end to end: exit codes, messages, files written or not."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from allocator.cli import main
from tests.shipped import copy_of

TINY = Path(__file__).parents[2] / "instances" / "tiny"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def tiny(tmp_path) -> Path:
    """A writable copy of instances/tiny."""
    folder = tmp_path / "tiny"
    copy_of("tiny", folder)
    return folder


@pytest.mark.parametrize("command", ["solve", "validate", "check", "explain"])
def test_every_command_has_help_with_an_example(command):
    """--help works and shows an example."""
    code, out, _ = run(command, "--help")
    assert code == 0 and "Example" in out


def test_solve_then_check(tiny, tmp_path):
    """solve writes every section 5 file and check finds no violation."""
    out = tmp_path / "sol"
    code, stdout, _ = run("solve", tiny, "--out", out, "--workers", "1")
    assert code == 0 and "optimal" in stdout
    for name in ("assignments.csv", "advisor_load.csv", "team_load.csv",
                 "municipality_load.csv", "summary.json", "changes.csv"):  # fmt: skip
        assert (out / name).is_file(), name
    code, stdout, _ = run("check", tiny, out)
    assert code == 0 and "obeys every rule" in stdout


def test_check_reports_a_broken_solution(tiny, tmp_path):
    """A solution edited to break capacity fails the check with exit 1."""
    out = tmp_path / "sol"
    run("solve", tiny, "--out", out, "--workers", "1")
    text = (
        (out / "assignments.csv")
        .read_text()
        .replace("u5,sor,t-follow,a3", "u5,sor,t-assess,a1")
    )
    (out / "assignments.csv").write_text(text)
    code, stdout, _ = run("check", tiny, out)
    assert code == 1
    # u5 moved into an assessment advisor's list breaks both the team rule
    # and a1's capacity of 2.
    assert "rule 1 (team): user u5 -> advisor a1" in stdout
    assert "rule 4 (capacity): advisor a1 has load 3, capacity 2" in stdout


def test_bad_input_exits_1_names_place_and_writes_nothing(tiny, tmp_path):
    """A broken age cell: exit 1, file/row/column named, no traceback, no files."""
    users = tiny / "users.csv"
    users.write_text(users.read_text().replace("u3,nord,52", "u3,nord,femti"))
    out = tmp_path / "never"
    code, stdout, stderr = run("solve", tiny, "--out", out)
    assert code == 1
    assert "users.csv, row 4, column age" in stderr
    assert "Traceback" not in stdout + stderr
    assert not out.exists()


def test_same_seed_gives_identical_assignments(tiny, tmp_path):
    """Two solves with one seed write byte-identical assignments.csv."""
    run("solve", tiny, "--out", tmp_path / "a", "--seed", "3")
    run("solve", tiny, "--out", tmp_path / "b", "--seed", "3")
    first = (tmp_path / "a" / "assignments.csv").read_bytes()
    assert first == (tmp_path / "b" / "assignments.csv").read_bytes()


def test_same_seed_gives_identical_assignments_with_ties(tmp_path):
    """An instance with many equally good allocations (identical advisors and
    users): two solves with one seed still write byte-identical files."""
    from allocator.generate import generate

    folder = tmp_path / "ties"
    generate(advisors=12, users=300, municipalities=2, seed=4, out=folder)
    for name in ("a", "b"):
        code, _, stderr = run("solve", folder, "--out", tmp_path / name, "--seed", "3")
        assert code == 0, stderr
    for name in ("assignments.csv", "advisor_load.csv", "changes.csv"):
        first = (tmp_path / "a" / name).read_bytes()
        assert first == (tmp_path / "b" / name).read_bytes(), name


def test_unchanged_week_moves_nobody(tiny, tmp_path):
    """Re-solving the same week from its own solution moves nobody."""
    run("solve", tiny, "--out", tmp_path / "w1", "--workers", "1")
    code, stdout, _ = run(
        "solve", tiny, "--previous", tmp_path / "w1", "--out", tmp_path / "w2"
    )
    assert code == 0
    summary = json.loads((tmp_path / "w2" / "summary.json").read_text())
    assert summary["kpis"]["reassignments"] == 0
    assert summary["changes"]["moved"] == 0
    assert "0 moved" in stdout
    assert run("check", tiny, tmp_path / "w2", "--previous", tmp_path / "w1")[0] == 0


def test_fix_lock_moves_user_and_is_reported(tiny, tmp_path):
    """--fix u7=a3 after week 1 moves u7 and marks the change as locked."""
    run("solve", tiny, "--out", tmp_path / "w1", "--workers", "1")
    code, _, stderr = run(
        "solve", tiny, "--previous", tmp_path / "w1", "--out", tmp_path / "w2",
        "--fix", "u7=a3",
    )  # fmt: skip
    assert code == 0, stderr
    with open(tmp_path / "w2" / "changes.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    moved = next(row for row in rows if row["user"] == "u7")
    assert (moved["from"], moved["to"], moved["locked"]) == ("a2", "a3", "true")
    assert "fix lock" in moved["reason"]
    assert run("check", tiny, tmp_path / "w2", "--previous", tmp_path / "w1")[0] == 0


def test_fix_lock_breaking_competence_is_rejected(tiny, tmp_path):
    """--fix u4=a3 (no social_assistance competence) exits 1."""
    code, _, stderr = run("solve", tiny, "--out", tmp_path / "x", "--fix", "u4=a3")
    assert code == 1
    assert "--fix" in stderr and "lacks competence social_assistance" in stderr
    assert not (tmp_path / "x").exists()


def test_fix_lock_breaking_authority_is_rejected(tiny, tmp_path):
    """--fix u4=a2 (nord's employee for a social-assistance user in sor) exits 1."""
    code, _, stderr = run("solve", tiny, "--out", tmp_path / "x", "--fix", "u4=a2")
    assert code == 1
    assert (
        "  --fix u4=a2: fix lock of user u4 to advisor a2 cannot hold: advisor a2 "
        "is employed by nord, which holds municipal authority in nord only; "
        "social_assistance needs it in sor.\n"
    ) in stderr
    assert not (tmp_path / "x").exists()


def test_conflicting_household_locks_name_both_rows(tiny, tmp_path):
    """Two members of one household fixed to two advisors: both locks named."""
    users = tiny / "users.csv"
    text = users.read_text()
    text = text.replace(
        "u5,sor,60,0,,active,false,1,,,,", "u5,sor,60,0,,active,false,1,,,h1,"
    )
    text = text.replace(
        "u6,sor,33,2,,active,false,1,,,,", "u6,sor,33,2,,active,false,1,,,h1,"
    )
    users.write_text(text)
    (tiny / "locks.csv").write_text("user,advisor,kind\nu5,a3,fix\nu6,a2,fix\n")
    code, _, stderr = run("solve", tiny, "--out", tmp_path / "x")
    assert code == 1
    assert "locks.csv, row 3" in stderr and "row 2" in stderr


def test_explain_names_rule_and_figures(tiny, tmp_path):
    """explain gives the excluding rule or the goal figures for each advisor."""
    run("solve", tiny, "--out", tmp_path / "s", "--workers", "1")
    code, stdout, _ = run("explain", tiny, tmp_path / "s", "u6")
    assert code == 0
    assert "routing rule 2" in stdout
    assert "not a2: worse on travel: 30 km vs 0 km" in stdout
    assert "(objective +20: travel +30, non_local -10)" in stdout
    code, stdout, _ = run("explain", tiny, tmp_path / "s", "u3", "--json")
    data = json.loads(stdout)
    assert data["alternatives"] == [
        {"advisor": "a3", "team": "t-follow",
         "excluded_by": "advisor a3 lacks competence social_assistance"}
    ]  # fmt: skip


def test_formula_like_id_is_text_in_xlsx_and_csv(tiny, tmp_path):
    """A user named =HYPERLINK("x") is a text cell in xlsx and quoted in CSV."""
    users = tiny / "users.csv"
    users.write_text(users.read_text().replace("\nu1,", '\n"=HYPERLINK(""x"")",'))
    code, _, stderr = run("solve", tiny, "--out", tmp_path / "s", "--xlsx")
    assert code == 0, stderr
    sheet = load_workbook(tmp_path / "s" / "allocation.xlsx")["assignments"]
    assert sheet["A2"].value == '=HYPERLINK("x")'
    assert sheet["A2"].data_type == "s"
    text = (tmp_path / "s" / "assignments.csv").read_text()
    assert '"\'=HYPERLINK(""x"")"' in text
    assert run("check", tiny, tmp_path / "s")[0] == 0


def test_validate_shows_capacity_against_demand(tiny):
    """validate prints demand and capacity per team kind."""
    code, stdout, _ = run("validate", tiny)
    assert code == 0
    rows = [line.split() for line in stdout.splitlines()]
    assert ["assessment", "2.0", "2.0", "ok"] in rows
    assert ["follow_up", "6.0", "6.0", "ok"] in rows


def test_youth_shortage_is_reported_in_fte_per_municipality(tiny, tmp_path):
    """Six young users and one youth advisor: validate and solve name the gap."""
    teams = tiny / "teams.csv"
    teams.write_text(teams.read_text() + "t-youth,Youth,youth,\n")
    advisors = tiny / "advisors.csv"
    advisors.write_text(
        advisors.read_text() + "a4,Advisor Four,t-youth,state,nord,0.5,1,,,true\n"
    )
    toml = tiny / "instance.toml"
    toml.write_text(
        toml.read_text().replace(
            '[[routing]]\nteam_kind = "follow_up"',
            '[[routing]]\nteam_kind = "youth"\nage_max = 29\n\n[[routing]]\nteam_kind = "follow_up"',
        )
    )
    users = tiny / "users.csv"
    young = [
        f"y{i},{'sor' if i < 4 else 'nord'},22,0,,active,false,1,,,,false"
        for i in range(6)
    ]
    users.write_text(users.read_text() + "\n".join(young) + "\n")
    code, stdout, _ = run("validate", tiny)
    assert code == 0
    # Demand 6 against capacity 0.5 FTE x 4 = 2: 4 weighted users = 1.00 FTE.
    assert "youth" in stdout and "SHORT by 1.00 FTE" in stdout
    code, stdout, _ = run("solve", tiny, "--out", tmp_path / "s")
    assert code == 0
    # a4 (based in nord, capacity 2) takes the two nord users; the four sor
    # users wait: 4 weighted users / 4 cases per FTE = 1.00 FTE, all in sor.
    assert "youth team: 1.00 FTE short for users in sor (sor 1.00)" in stdout


def test_out_folder_that_is_not_a_solution_is_refused(tiny, tmp_path):
    """--out pointing at the instance folder exits 1 and leaves it untouched."""
    before = sorted(p.name for p in tiny.iterdir())
    code, _, stderr = run("solve", tiny, "--out", tiny)
    assert code == 1 and "not a solution folder" in stderr
    assert sorted(p.name for p in tiny.iterdir()) == before


def test_out_folder_with_an_earlier_solution_is_replaced(tiny, tmp_path):
    """Solving twice into one folder replaces the earlier solution."""
    assert run("solve", tiny, "--out", tmp_path / "s")[0] == 0
    assert run("solve", tiny, "--out", tmp_path / "s", "--fix", "u6=a2")[0] == 0
    assert "u6,sor,t-follow,a2" in (tmp_path / "s" / "assignments.csv").read_text()
