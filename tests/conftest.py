"""Shared test set-up: every solution a test writes goes through the checker.

The README promises that the independent checker runs on every solution the
tests produce. Rather than trusting each test to call it, every
``Solution.write`` during a test is checked
(with ``--previous`` when the solve had one) as soon as it is written, so
a new test cannot skip it.
"""

from __future__ import annotations

import fcntl
import json
import os
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


@pytest.fixture(autouse=True)
def alone_or_side_by_side(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Run a test marked ``alone`` with no other test beside it.

    The suite runs on every core (pytest-xdist). A test that compares a
    fresh solve with a committed file, or that makes its own CPU load to
    show the answer does not change, must not share the cores with other
    tests: a busy core could let the 10 s safety cap cut a search that
    idle ends by its deterministic budget, and the file would differ for a
    reason the test is not about. Two file locks shared by the workers of
    one run: an ``alone`` test takes the gate and then the room alone;
    every other test passes the gate (so none starts while an ``alone``
    test waits) and shares the room. Without xdist there is nothing to do.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        yield
        return
    # The run's own folder, shared by its workers (each has a subfolder).
    shared = tmp_path_factory.getbasetemp().parent
    alone = request.node.get_closest_marker("alone") is not None
    with open(shared / "alone.gate", "a") as gate, open(shared / "alone.room", "a") as room:
        fcntl.flock(gate, fcntl.LOCK_EX)
        if not alone:
            fcntl.flock(gate, fcntl.LOCK_UN)
        fcntl.flock(room, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(room, fcntl.LOCK_UN)
            if alone:
                fcntl.flock(gate, fcntl.LOCK_UN)
