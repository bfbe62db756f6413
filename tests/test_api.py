"""The public API: read, solve (no files), write, check, DataFrames."""

from __future__ import annotations

from pathlib import Path

import pytest

import allocator

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"


def test_solve_returns_data_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    instance = allocator.read_instance(TINY)
    solution = allocator.solve(instance, time_limit=5, seed=0, workers=1)
    assert list(tmp_path.iterdir()) == []
    frame = solution.assignments
    assert len(frame) == len(instance.users)
    assert set(frame["user"]) == {u.id for u in instance.users}
    assert solution.status == "optimal"
    # tiny's optimum is derived by hand in instances/tiny/README.md.
    assert solution.summary["objective"] == pytest.approx(1240)
    assert len(solution.advisor_load) == len(instance.advisors)
    assert len(solution.team_load) == len(instance.teams)
    folder = solution.write(tmp_path / "out")
    assert (folder / "assignments.csv").exists()
    assert allocator.check(instance, folder) == []


def test_rejected_input_raises_the_documented_error(tmp_path: Path) -> None:
    with pytest.raises(allocator.InstanceError) as caught:
        allocator.read_instance(tmp_path)
    assert caught.value.problems
    assert isinstance(caught.value, allocator.AllocatorError)


def test_version_is_a_string() -> None:
    assert isinstance(allocator.__version__, str) and allocator.__version__
