"""Shared test set-up: every solution a test writes goes through the checker.

The README promises that the independent checker runs on every solution the
tests produce. Rather than trusting each test to call it, every
``Solution.write`` during a test is checked
(with ``--previous`` when the solve had one) as soon as it is written, so
a new test cannot skip it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from allocator.checking import check_solution
from allocator.domain import Instance
from allocator.solution import Solution


def check_written(instance: Instance, folder: Path) -> list[str]:
    """The checker's verdict on a folder just written (with its --previous)."""
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    previous = summary.get("previous")
    previous_dir = Path(previous) if previous and Path(previous).exists() else None
    return check_solution(instance, folder, previous_dir)


@pytest.fixture(autouse=True)
def every_written_solution_is_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[list[Path]]:
    """Check each solution as it is written, before a test may edit it."""
    written: list[Path] = []
    original = Solution.write

    def write_and_check(self: Solution, folder: str | Path, **kwargs: object) -> Path:
        path = original(self, folder, **kwargs)  # type: ignore[arg-type]
        problems = check_written(self.instance, path)
        assert problems == [], f"{path}: {problems}"
        written.append(path)
        return path

    monkeypatch.setattr(Solution, "write", write_and_check)
    yield written
