"""End to end: every shipped instance solves and passes the checker."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import openpyxl
import pytest

from allocator.checker import check_solution
from allocator.io.read import read_instance
from allocator.run import RunOptions, run_solve

INSTANCES = Path(__file__).parent.parent / "instances"

# (instance, time limit s): short limits keep the suite fast; quality
# figures belong in solutions/BENCHMARKS.md, not here.
# The larger ones are `slow`: `pytest -m "not slow"` keeps only tiny.
SHIPPED = [
    ("tiny", 5),
    pytest.param("hallingdal", 10, marks=pytest.mark.slow),
    pytest.param("nord-gudbrandsdal", 10, marks=pytest.mark.slow),
    pytest.param("lillestrom", 15, marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("name", "limit"), SHIPPED)
def test_shipped_instance_solves_and_checks(name, limit, tmp_path):
    """A solve writes every file, and the checker finds no violation."""
    instance = read_instance(INSTANCES / name)
    outcome = run_solve(instance, RunOptions(out=tmp_path / name, time_limit=limit))
    summary = outcome.report.summary
    assert summary["status"] in ("optimal", "feasible")
    assert summary["objective"] >= summary["bound"] - 1e-6
    assert summary["kpis"]["users"] == len(instance.users)
    assert check_solution(instance, outcome.folder) == []


@pytest.mark.slow
def test_hallingdal_places_everyone_and_proves_optimality(tmp_path):
    """Hallingdal's weekly run places all 650 users and proves the optimum."""
    outcome = run_solve(
        read_instance(INSTANCES / "hallingdal"), RunOptions(out=tmp_path / "h")
    )
    summary = outcome.report.summary
    assert summary["status"] == "optimal"
    assert summary["kpis"]["unassigned"] == 0


@pytest.mark.slow
def test_two_week_walkthrough(tmp_path):
    """Week 2 from week 1: check passes, every change has a reason, arrivals counted."""
    week1 = run_solve(
        read_instance(INSTANCES / "hallingdal"), RunOptions(out=tmp_path / "w1")
    )
    week2_instance = read_instance(INSTANCES / "hallingdal-week2")
    week2 = run_solve(
        week2_instance, RunOptions(out=tmp_path / "w2", previous=week1.folder)
    )
    assert check_solution(week2_instance, week2.folder) == []
    changed = [row for row in week2.report.assignments if row["changed"]]
    assert changed and all(row["reason"] for row in changed)
    counts = week2.report.summary["changes"]
    assert counts["arrived"] == 40 and counts["left"] == 14
    # Users of the two advisors away this week keep them (rule 6).
    away = {a.id for a in week2_instance.advisors if not a.available}
    kept = [r for r in week2.report.assignments if r["previous_advisor"] in away]
    assert kept and all(r["advisor"] == r["previous_advisor"] for r in kept)


@pytest.mark.slow
def test_unchanged_week_moves_nobody_on_hallingdal(tmp_path):
    """Re-solving hallingdal from its own solution moves nobody."""
    instance = read_instance(INSTANCES / "hallingdal")
    first = run_solve(instance, RunOptions(out=tmp_path / "a"))
    again = run_solve(instance, RunOptions(out=tmp_path / "b", previous=first.folder))
    assert again.report.summary["kpis"]["reassignments"] == 0
    assert [r["advisor"] for r in first.report.assignments] == [
        r["advisor"] for r in again.report.assignments
    ]


def workbook_twin(source: Path, target: Path) -> None:
    """Copy an instance folder as instance.toml + one workbook of its tables."""
    target.mkdir()
    book = openpyxl.Workbook()
    book.remove(book.active)
    for csv_path in sorted(source.glob("*.csv")):
        sheet = book.create_sheet(csv_path.stem)
        for line in csv_path.read_text(encoding="utf-8").splitlines():
            sheet.append(next(iter(__import__("csv").reader([line]))))
    book.save(target / "caseload.xlsx")
    toml = (source / "instance.toml").read_text(encoding="utf-8")
    assert "workbook" not in tomllib.loads(toml)
    (target / "instance.toml").write_text(
        'workbook = "caseload.xlsx"\n' + toml, encoding="utf-8"
    )


@pytest.mark.slow
def test_xlsx_twin_gives_the_same_allocation(tmp_path):
    """Hallingdal as one workbook allocates exactly like its CSV files."""
    twin = tmp_path / "twin"
    workbook_twin(INSTANCES / "hallingdal", twin)
    csv_run = run_solve(
        read_instance(INSTANCES / "hallingdal"), RunOptions(out=tmp_path / "csv")
    )
    xlsx_run = run_solve(read_instance(twin), RunOptions(out=tmp_path / "xlsx"))
    assert (tmp_path / "csv" / "assignments.csv").read_bytes() == (
        tmp_path / "xlsx" / "assignments.csv"
    ).read_bytes()
    assert csv_run.report.summary["objective"] == xlsx_run.report.summary["objective"]


def test_copy_of_instance_is_untouched_by_solving(tmp_path):
    """Solving reads the instance folder and never writes into it."""
    copy = tmp_path / "tiny"
    shutil.copytree(INSTANCES / "tiny", copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    run_solve(read_instance(copy), RunOptions(out=tmp_path / "out"))
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before
