"""The national shape and the solve in parts (``allocator solve --dask``).

A tiny country of three offices stands in for the 250 of the full size: the
generator's plan is tested at full size (no users drawn), the solve in parts
on the tiny one, in this process (a Dask cluster runs the same function;
tests/test_compare.py starts one).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

import allocator
from allocator.cli import main
from allocator.domain import Municipality
from allocator.generate.national import (
    NationalSize,
    generate_national,
    national_instance,
    national_plan,
)
from allocator.io.read import read_instance
from allocator.run import RunOptions, solve_instance
from allocator.runs.executor import InlineExecutor
from allocator.runs.parts import solve_parts, split_instance

TINY = NationalSize(offices=3)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("national") / "tiny"
    generate_national(1, folder, size=TINY)
    return folder


def test_the_full_plan_has_norways_municipalities_offices_staff_and_users() -> None:
    plan = national_plan(random.Random(0), NationalSize())
    places = [m for office in plan for m in office.places]
    assert len(places) == 356
    assert len({m.id for m in places}) == 356
    assert len(plan) == 250
    assert sum(o.advisors for o in plan) == 6000
    assert sum(o.users for o in plan) == 250_000
    groups = [len(o.places) for o in plan]
    assert min(groups) == 1 and max(groups) <= 6
    # Host groups of a few, beside offices of one municipality.
    assert sum(g > 1 for g in groups) >= 20


def test_the_same_seed_writes_the_same_files(tmp_path: Path) -> None:
    # One folder name: the instance is named after its folder.
    for run, seed in (("a", 7), ("b", 7), ("c", 8)):
        generate_national(seed, tmp_path / run / "national", size=TINY)

    def files(run: str) -> dict[str, bytes]:
        folder = tmp_path / run / "national"
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}

    assert files("a") == files("b")
    assert files("a")["users.csv"] != files("c")["users.csv"]


def test_the_written_folder_reads_back_as_drawn(tiny: Path) -> None:
    instance = read_instance(tiny)
    drawn = national_instance(1, "tiny", size=TINY)
    assert [u.id for u in instance.users] == [u.id for u in drawn.users]
    assert len(instance.municipalities) == 4
    # Every team serves its own office only: no team serves the country.
    assert all(t.municipalities for t in instance.teams)
    assert 2900 <= len(instance.users) <= 3100


def test_offices_are_the_parts(tiny: Path) -> None:
    instance = read_instance(tiny)
    parts = split_instance(instance)
    assert len(parts) == 3
    assert sorted(i for p in parts for i in p.users) == list(range(len(instance.users)))
    assert sorted(i for p in parts for i in p.advisors) == list(
        range(len(instance.advisors))
    )
    for part in parts:
        places = {m.id for m in part.instance.municipalities}
        assert {u.municipality for u in part.instance.users} <= places


def test_the_solve_in_parts_is_each_part_alone_and_the_whole(
    tiny: Path, tmp_path: Path
) -> None:
    instance = read_instance(tiny)
    merged = solve_parts(instance, RunOptions(seed=0), InlineExecutor())
    alone = [
        solve_instance(p.instance, RunOptions(seed=0)).summary
        for p in split_instance(instance)
    ]
    summary = merged.summary
    assert summary["parts"] == 3 and summary["parts_solved"] == 3
    assert summary["objective"] == round(sum(s["objective"] for s in alone), 2)
    assert summary["bound"] == round(sum(s["bound"] for s in alone), 2)
    assert summary["reproducible"] == all(s["reproducible"] for s in alone)
    # Every part proved, so the whole solved at once has the same optimum.
    whole = solve_instance(instance, RunOptions(seed=0)).summary
    assert all(s["status"] == "optimal" for s in alone)
    assert whole["status"] == "optimal"
    assert summary["objective"] == whole["objective"]
    assert summary["gap"] == 0.0
    # Written as any solve (and checked by the conftest's checker).
    folder = merged.write(tmp_path / "solution", xlsx=False)
    rows = (folder / "assignments.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == len(instance.users) + 1


def test_a_municipality_nobody_lives_in_is_a_part_of_its_own(tiny: Path) -> None:
    instance = read_instance(tiny)
    empty = Municipality(id="tomt", name="Tomt", lat=60.0, lon=9.0)
    bigger = instance.model_copy(
        update={"municipalities": (*instance.municipalities, empty)}
    )
    parts = split_instance(bigger)
    assert [len(p.users) for p in parts][-1] == 0
    merged = solve_parts(bigger, RunOptions(seed=0), InlineExecutor())
    assert merged.summary["parts"] == 4
    assert merged.report.municipality_load[-1]["municipality"] == "tomt"


def test_solve_dask_from_the_command_line(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command's path, with the cluster replaced by this process."""
    monkeypatch.setattr(allocator, "make_executor", lambda *_: InlineExecutor())
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["solve", str(tiny), "--dask", "local", "--no-xlsx", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "parts: 3 of 3 solved" in result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["parts"] == 3 and summary["reproducible"] is True
    assert allocator.check(read_instance(tiny), out) == []
    # progress.csv: one row, the merged end (the parts ran elsewhere).
    rows = (out / "progress.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "elapsed_s,objective,bound"
    (row,) = rows[1:]
    _, objective, bound = row.split(",")
    assert float(objective) == summary["objective"]
    assert float(bound) == summary["bound"]


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "--shape", "national", "--offices", "3", "--municipalities", "30"],
        ["generate", "--offices", "3", "--advisors", "40", "--users", "100"],
        ["generate", "--shape", "national", "--offices", "3", "--advisors", "20"],
    ],
)
def test_counts_that_make_no_country_are_usage_errors(
    args: list[str], tmp_path: Path
) -> None:
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_max_moves_cannot_be_split(tiny: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["solve", str(tiny), "--parallel", "1", "--rebalance", "--max-moves", "3",
         "--out", str(tmp_path / "x")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--max-moves" in result.output
