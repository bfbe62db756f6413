"""allocation.xlsx: the leader's workbook, and an edited one read back by --previous."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from allocator.cli import main
from tests.shipped import copy_of

INSTANCES = Path(__file__).parents[2] / "instances"
SHEETS = [
    "summary",
    "assignments",
    "advisor load",
    "team load",
    "municipality load",
    "unassigned",
    "changes",
]


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def header(sheet) -> list[str]:
    return [cell.value for cell in sheet[1]]


def column(sheet, name: str) -> list:
    index = header(sheet).index(name)
    return [row[index] for row in sheet.iter_rows(min_row=2, values_only=True)]


@pytest.fixture(scope="module")
def hallingdal(tmp_path_factory) -> Path:
    """hallingdal week 2 solved from week 1 (there are changes and dates)."""
    base = tmp_path_factory.mktemp("xlsx")
    week1 = base / "week1"
    code, _, err = run("solve", INSTANCES / "hallingdal", "--out", week1, "--quiet")
    assert code == 0, err
    week2 = base / "week2"
    code, _, err = run(
        "solve", INSTANCES / "hallingdal-week2", "--previous", week1, "--out", week2,
        "--quiet",
    )  # fmt: skip
    assert code == 0, err
    return week2


def test_workbook_is_written_by_default_and_no_xlsx_skips_it(tmp_path):
    code, _, _ = run("solve", INSTANCES / "tiny", "--out", tmp_path / "a", "--quiet")
    assert code == 0 and (tmp_path / "a" / "allocation.xlsx").is_file()
    code, _, _ = run(
        "solve", INSTANCES / "tiny", "--out", tmp_path / "b", "--quiet", "--no-xlsx"
    )
    assert code == 0 and not (tmp_path / "b" / "allocation.xlsx").exists()
    code, _, _ = run(
        "solve", INSTANCES / "tiny", "--out", tmp_path / "c", "--quiet", "--xlsx"
    )
    assert code == 0 and (tmp_path / "c" / "allocation.xlsx").is_file()


def test_summary_sheet_first_with_the_week_and_figures(hallingdal):
    book = load_workbook(hallingdal / "allocation.xlsx")
    assert book.sheetnames == SHEETS
    summary = json.loads((hallingdal / "summary.json").read_text(encoding="utf-8"))
    sheet = book["summary"]
    figures = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert figures["week"] == summary["leader"]["week"]
    assert figures["status"] == summary["status"]
    assert figures["placed"] == summary["kpis"]["assigned"]
    assert figures["unassigned"] == summary["kpis"]["unassigned"]
    assert figures["of them urgent"] == summary["kpis"]["urgent_unassigned"]
    assert figures["moved from their advisor"] == summary["kpis"]["reassignments"]
    assert isinstance(figures["reference date"], dt.datetime)
    gap_row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "gap")
    assert gap_row[1].number_format.endswith("%")
    kinds = [row[0] for row in sheet.iter_rows(values_only=True)]
    assert "shortages" in kinds


def test_names_beside_ids_dates_percent_numbers_filters(hallingdal):
    book = load_workbook(hallingdal / "allocation.xlsx")
    sheet = book["assignments"]
    cols = header(sheet)
    assert cols.index("advisor name") == cols.index("advisor") + 1
    assert cols.index("team name") == cols.index("team") + 1
    assert "lock" in cols
    advisors = column(sheet, "advisor")
    names = column(sheet, "advisor name")
    assert ("a0001", "Ingeborg Øverby") in set(zip(advisors, names, strict=True))
    since = [v for v in column(sheet, "since") if v is not None]
    assert since and all(isinstance(v, dt.datetime) for v in since)
    km = [v for v in column(sheet, "travel_km") if v is not None]
    assert km and all(isinstance(v, int | float) for v in km)
    load = book["advisor load"]
    index = header(load).index("utilisation")
    cell = load.cell(row=2, column=index + 1)
    assert isinstance(cell.value, int | float) and cell.number_format == "0%"
    for name in SHEETS[1:]:
        assert book[name].freeze_panes == "A2", name
        assert book[name].auto_filter.ref.startswith("A1:"), name
        widths = [d.width for d in book[name].column_dimensions.values()]
        assert widths and all(4 <= w <= 60 for w in widths), name


def test_unassigned_sheet_lists_each_unassigned_user_with_a_reason(tmp_path):
    out = tmp_path / "out"
    code, _, _ = run("solve", INSTANCES / "lillestrom", "--out", out, "--quiet",
                     "--time-limit", "3")  # fmt: skip
    assert code == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    sheet = load_workbook(out / "allocation.xlsx")["unassigned"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == summary["kpis"]["unassigned"]
    assert all(row[header(sheet).index("reason")] for row in rows)


def test_names_with_formulas_or_markup_stay_text(tmp_path):
    folder = tmp_path / "tiny"
    copy_of("tiny", folder)
    teams = folder / "teams.csv"
    teams.write_text(
        teams.read_text(encoding="utf-8").replace(
            "Follow-up", '"=HYPERLINK(""http://x"")<b>bold</b>"'
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, _, err = run("solve", folder, "--out", out, "--quiet")
    assert code == 0, err
    sheet = load_workbook(out / "allocation.xlsx")["assignments"]
    names = set(column(sheet, "team name"))
    assert '=HYPERLINK("http://x")<b>bold</b>' in names
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate


# --- An edited allocation.xlsx read back by --previous -------------------------


def write_instance(folder: Path) -> Path:
    """One municipality, one follow-up team of three advisors with room."""
    folder.mkdir()
    (folder / "instance.toml").write_text(
        'name = "edit"\nweek = "2026-W49"\n[policy]\ncases_per_fte = 10\n'
        "intake_per_fte = 0\n"
        '[[routing]]\nteam_kind = "follow_up"\n',
        encoding="utf-8",
    )
    (folder / "municipalities.csv").write_text("id,name\nnord,Nordbygd\n")
    (folder / "teams.csv").write_text("id,name,kind\nt,Team,follow_up\n")
    (folder / "advisors.csv").write_text(
        "id,name,team,employer,base,fte\n"
        "a1,Anne,t,state,nord,1\na2,Bjørn,t,state,nord,1\na3,Cato,t,state,nord,1\n",
        encoding="utf-8",
    )
    users = "".join(f"u{i},nord,40,active\n" for i in range(1, 10))
    (folder / "users.csv").write_text("id,municipality,age,status\n" + users)
    return folder


def edit_workbook(source: Path, target: Path, edits: dict[str, dict]) -> dict[str, str]:
    """Type into the assignments sheet as a leader would; returns the plan."""
    book = load_workbook(source)
    sheet = book["assignments"]
    cols = header(sheet)
    plan = {}
    for row in sheet.iter_rows(min_row=2):
        user = row[cols.index("user")].value
        for name, value in edits.get(user, {}).items():
            row[cols.index(name)].value = value
        plan[user] = row[cols.index("advisor")].value
    book.save(target)
    return plan


def assignments(folder: Path) -> dict[str, str]:
    lines = (folder / "assignments.csv").read_text(encoding="utf-8").splitlines()
    cols = lines[0].split(",")
    rows = [dict(zip(cols, line.split(","), strict=False)) for line in lines[1:]]
    return {r["user"]: r["advisor"] for r in rows}


def test_edited_workbook_gives_its_locks_and_its_plan(tmp_path):
    folder = write_instance(tmp_path / "edit")
    week1 = tmp_path / "week1"
    code, _, err = run("solve", folder, "--out", week1, "--quiet")
    assert code == 0, err
    first = assignments(week1)
    # u1: fix to its advisor; u2: forbid its advisor; u3: moved by hand.
    other = next(a for a in ("a1", "a2", "a3") if a != first["u3"])
    edited = tmp_path / "allocation.xlsx"
    plan = edit_workbook(
        week1 / "allocation.xlsx",
        edited,
        {"u1": {"lock": "fix"}, "u2": {"lock": " Forbid "}, "u3": {"advisor": other}},
    )
    week2 = tmp_path / "week2"
    code, _, err = run("solve", folder, "--previous", edited, "--out", week2)
    assert code == 0, err
    assert "1 fix, 1 forbid" in err and "9 users read" in err
    summary = json.loads((week2 / "summary.json").read_text(encoding="utf-8"))
    assert summary["cli_locks"] == []
    assert "1 fix, 1 forbid" in summary["previous_read"]
    second = assignments(week2)
    lines = (week2 / "assignments.csv").read_text(encoding="utf-8").splitlines()
    previous = {line.split(",")[0]: line.split(",")[5] for line in lines[1:]}
    # The plan is this week's current advisors, the hand move included.
    assert previous == plan and previous["u3"] == other
    assert second["u1"] == first["u1"]
    assert second["u2"] != first["u2"] and second["u2"]
    assert second["u3"] == other
    # Only the forbidden pair forced a move.
    moved = [u for u in second if second[u] != plan[u]]
    assert moved == ["u2"]
    changes = (week2 / "changes.csv").read_text(encoding="utf-8")
    assert "u2" in changes and "u1" not in changes.split("\n", 1)[1]


def test_a_mistyped_lock_is_rejected_with_its_row(tmp_path):
    folder = write_instance(tmp_path / "edit")
    week1 = tmp_path / "week1"
    assert run("solve", folder, "--out", week1, "--quiet")[0] == 0
    edited = tmp_path / "allocation.xlsx"
    edit_workbook(week1 / "allocation.xlsx", edited, {"u4": {"lock": "fxi"}})
    code, _, err = run("solve", folder, "--previous", edited, "--out", tmp_path / "w2")
    assert code == 1
    assert "allocation.xlsx[assignments], row 5, column lock" in err, err
    assert not (tmp_path / "w2").exists()


def test_a_lock_on_an_unknown_advisor_is_rejected(tmp_path):
    folder = write_instance(tmp_path / "edit")
    week1 = tmp_path / "week1"
    assert run("solve", folder, "--out", week1, "--quiet")[0] == 0
    edited = tmp_path / "allocation.xlsx"
    edit_workbook(
        week1 / "allocation.xlsx", edited, {"u4": {"lock": "fix", "advisor": "a9"}}
    )
    code, _, err = run("solve", folder, "--previous", edited, "--out", tmp_path / "w2")
    assert code == 1 and "a9" in err and "row 5" in err, err


def test_an_unknown_advisor_typed_in_the_plan_is_warned_about(tmp_path):
    folder = write_instance(tmp_path / "edit")
    week1 = tmp_path / "week1"
    assert run("solve", folder, "--out", week1, "--quiet")[0] == 0
    edited = tmp_path / "allocation.xlsx"
    edit_workbook(week1 / "allocation.xlsx", edited, {"u4": {"advisor": "a99"}})
    code, _, err = run("solve", folder, "--previous", edited, "--out", tmp_path / "w2")
    assert code == 0
    assert "names a99 (user u4), who is not in advisors.csv" in err, err
