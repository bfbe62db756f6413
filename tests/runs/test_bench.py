"""A small benchmark end to end: two tiny instances, two settings."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from allocator.checker import check_solution
from allocator.cli import main
from allocator.generate import generate
from allocator.io.read import read_instance
from tests.shipped import shipped

TINY = Path(__file__).parents[2] / "instances" / "tiny"


def test_bench_table_and_csv(tmp_path):
    """Rows for every instance x setting plus a greedy row; table and CSV agree."""
    second = tmp_path / "small"
    generate(advisors=6, users=40, municipalities=2, seed=5, out=second)
    out = tmp_path / "bench"
    result = CliRunner().invoke(
        main,
        ["bench", str(TINY), str(second), "--time-limit", "1", "--time-limit", "2",
         "--seed", "0", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with open(out / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # Per instance: cpsat at 1 s and 2 s, and one greedy baseline.
    assert len(rows) == 6
    assert {(r["instance"], r["solver"], r["time_limit"]) for r in rows} == {
        ("tiny", "cpsat", "1.0"), ("tiny", "cpsat", "2.0"), ("tiny", "greedy", "1.0"),
        ("small", "cpsat", "1.0"), ("small", "cpsat", "2.0"), ("small", "greedy", "1.0"),
    }  # fmt: skip
    tiny = {r["solver"] + r["time_limit"]: r for r in rows if r["instance"] == "tiny"}
    assert tiny["cpsat1.0"]["status"] == "optimal"
    assert float(tiny["cpsat1.0"]["objective"]) == 1240.0
    assert float(tiny["greedy1.0"]["objective"]) >= 1240.0
    assert float(tiny["cpsat2.0"]["peak_rss_mb"]) > 0
    # The printed table carries the same figures and the counts line.
    assert "1,240.00" in result.output
    assert "cpsat   runs 4: optimal 4" in result.output
    meta = json.loads((out / "meta.json").read_text())
    assert meta["seeds"] == [0] and "ortools" in meta["versions"]
    assert (out / "solutions" / "tiny-cpsat-t1-s0" / "assignments.csv").is_file()
    # Bench solves run in child processes; check every folder they wrote.
    instances = {"tiny": shipped("tiny"), "small": read_instance(second)}
    folders = sorted((out / "solutions").iterdir())
    assert len(folders) == 6
    for folder in folders:
        instance = instances[folder.name.split("-")[0]]
        assert check_solution(instance, folder) == [], folder
