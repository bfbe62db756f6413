"""The conftest's automatic check can fail: a tampered folder is caught."""

from __future__ import annotations

import json
from pathlib import Path

import allocator
from tests.conftest import check_written
from tests.shipped import shipped

TINY = Path(__file__).resolve().parents[2] / "instances" / "tiny"


def test_tampered_objective_is_caught(tmp_path: Path) -> None:
    instance = shipped("tiny")
    folder = allocator.solve(instance, workers=1, time_limit=5).write(tmp_path / "s")
    assert check_written(instance, folder) == []
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    summary.update(objective=summary["objective"] - 200, bound=0, gap=1.0)
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    problems = check_written(instance, folder)
    assert len(problems) == 1 and problems[0].startswith("summary.json: objective")
