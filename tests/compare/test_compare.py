"""``compare``: structures solved on the same users, rows, files, cache, executors.

Variants are made in code from hand-built instances (``tests.helpers``);
the figures themselves have exact tests in ``test_figures.py``.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from allocator.analysis.figures import coverage, forced_moves, solution_figures
from allocator.cli import main
from allocator.compare import (
    COLUMNS,
    Comparison,
    compare_variants,
    first_allocation,
)
from allocator.domain import HostAgreement, Instance, Lock
from allocator.engine.problem import build_problem
from allocator.errors import DataWarning, InstanceError, SolutionError
from allocator.io.comparison import check_comparison_target, write_comparison
from allocator.io.read import read_instance
from allocator.render.compare_text import ProgressBar, comparison_table, significant
from allocator.runs.executor import (
    DaskExecutor,
    InlineExecutor,
    LocalExecutor,
    pool_size,
)
from tests.helpers import advisor, instance, user

ROOT = Path(__file__).resolve().parents[2]
SA = ("social_assistance",)


def office() -> Instance:
    """Three municipalities each with its own municipal advisor; today's
    users sit with the advisor of their municipality."""
    users = [
        user("n1", "nord", needs=SA, current_advisor="an"),
        user("n2", "nord", current_advisor="an"),
        user("n3", "nord", current_advisor="an"),
        user("s1", "sor", needs=SA, current_advisor="as"),
        user("s2", "sor", needs=SA, current_advisor="as"),
        user("v1", "vest", needs=SA, current_advisor="av"),
        user("v2", "vest", current_advisor="st"),
    ]
    advisors = [
        advisor("an", employer="nord", competences=SA),
        advisor("as", employer="sor", base="sor", competences=SA),
        advisor("av", employer="vest", base="vest", competences=SA, fte=0.5),
        advisor("st"),
    ]
    return instance(
        users, advisors, weights={"unassigned": 1000, "travel": 1}, time_limit_s=5
    )


def merged(base: Instance) -> Instance:
    """nord hosts sor and vest; their staff move to nord's employment."""
    advisors = tuple(
        a.model_copy(update={"employer": "nord"})
        if a.employer in ("sor", "vest")
        else a
        for a in base.advisors
    )
    agreement = HostAgreement(host="nord", members=("sor", "vest"))
    return base.model_copy(
        update={"host_agreements": (agreement,), "advisors": advisors}
    )


def no_vest_staff(base: Instance) -> Instance:
    """vest's advisor leaves: vest's social assistance is uncovered."""
    return base.model_copy(
        update={"advisors": tuple(a for a in base.advisors if a.id != "av")}
    )


def run(executor: Any = None, **kwargs: Any) -> Comparison:
    base = office()
    variants = [("merged", merged(base)), ("no-vest", no_vest_staff(base))]
    settings: dict[str, Any] = {"seeds": [0], "time_limit": 5.0, "workers": 1}
    settings |= kwargs
    return compare_variants(
        base,
        variants,
        settings.pop("seeds"),
        settings.pop("time_limit"),
        executor=executor or InlineExecutor(),
        **settings,
    )


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    return run()


def row_of(comparison: Comparison, scenario: str, seed: int = 0) -> dict[str, Any]:
    return next(
        r for r in comparison.rows if r["scenario"] == scenario and r["seed"] == seed
    )


def test_one_row_per_structure_and_seed_with_every_column(
    comparison: Comparison,
) -> None:
    assert [(r["scenario"], r["seed"]) for r in comparison.rows] == [
        ("base", 0),
        ("merged", 0),
        ("no-vest", 0),
    ]
    for row in comparison.rows:
        assert list(row) == COLUMNS
    assert list(comparison.frame().columns) == COLUMNS
    assert len(comparison.frame()) == 3


def test_structural_figures_per_structure(comparison: Comparison) -> None:
    """Coverage and forced moves, as the figures give them for each structure."""
    base, merge, gone = (row_of(comparison, s) for s in ("base", "merged", "no-vest"))
    # Base: each municipality's one advisor covers it: three single points.
    assert (base["coverage_min"], base["single_points"], base["uncovered"]) == (1, 3, 0)
    # Merged: an, as and av all hold authority everywhere.
    assert (merge["coverage_min"], merge["single_points"], merge["uncovered"]) == (
        3,
        0,
        0,
    )
    # av gone: vest's social assistance uncovered; v1 must move.
    assert (gone["coverage_min"], gone["uncovered"], gone["forced_moves"]) == (0, 1, 1)
    assert (base["forced_moves"], merge["forced_moves"]) == (0, 0)
    assert merge["forced_moves"] == forced_moves(merged(office()))
    assert min(coverage(no_vest_staff(office())).values()) == 0


def test_rows_agree_with_the_written_allocation(comparison: Comparison) -> None:
    """Each row's figures are those of the allocation in its solution folder."""
    for sid, inst in comparison.structures.items():
        files = comparison.solutions[sid, 0]
        rows = list(csv.DictReader(io.StringIO(files["assignments.csv"])))
        index = {a.id: i for i, a in enumerate(inst.advisors)}
        allocation = [index[r["advisor"]] if r["advisor"] else None for r in rows]
        problem = build_problem(first_allocation(inst))
        figures = solution_figures(problem, allocation)
        row = row_of(comparison, sid)
        for column in ("unassigned", "travel_km", "leakage_fte", "freed_fte"):
            assert row[column] == pytest.approx(figures[column], abs=1e-6), column


def test_first_allocation_blanks_current_advisors(comparison: Comparison) -> None:
    """By default nobody keeps an advisor: no user is 'changed' in the solution."""
    rows = csv.DictReader(
        io.StringIO(comparison.solutions["base", 0]["assignments.csv"])
    )
    assert all(r["previous_advisor"] == "" for r in rows)
    summary = json.loads(comparison.solutions["base", 0]["summary.json"])
    assert summary["intake_limit_applied"] is False


def test_from_current_keeps_todays_advisors() -> None:
    result = run(from_current=True)
    files = result.solutions["base", 0]
    rows = list(csv.DictReader(io.StringIO(files["assignments.csv"])))
    assert all(r["advisor"] == r["previous_advisor"] for r in rows)
    assert result.settings["from_current"] is True


def test_leakage_appears_when_municipal_staff_serve_members(
    comparison: Comparison,
) -> None:
    """Base: no agreement, so municipal staff serve only their own users (R25)."""
    assert row_of(comparison, "base")["leakage_fte"] == 0.0
    seeds = comparison.details["base"]["seeds"]["0"]
    assert seeds["leakage_by_employer"] == {"nord": 0.0, "sor": 0.0, "vest": 0.0}
    merged_leak = comparison.details["merged"]["seeds"]["0"]["leakage_by_employer"]
    assert set(merged_leak) == {"nord"}


def test_n1_per_advisor_in_details(comparison: Comparison) -> None:
    details = comparison.details["no-vest"]["seeds"]["0"]
    assert set(details["n1_by_advisor"]) == {"an", "as", "st"}
    row = row_of(comparison, "no-vest")
    assert row["n1_worst_weight"] == max(details["n1_by_advisor"].values())
    assert row["n1_exact"] is True


def test_scenario_ids_must_be_folder_names() -> None:
    base = office()
    for bad in ("E 2", "base", "a/b"):
        with pytest.raises(InstanceError) as caught:
            compare_variants(base, [(bad, base)], [0], 1.0, executor=InlineExecutor())
        assert "scenario id" in str(caught.value.problems[0])
    with pytest.raises(InstanceError, match="twice"):
        compare_variants(
            base, [("x", base), ("x", base)], [0], 1.0, executor=InlineExecutor()
        )


class Refusing:
    """An executor that fails the test if any task reaches it."""

    description = "refusing"

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Sequence[Any], threads: int = 1
    ) -> Iterator[tuple[int, Any]]:
        if items:
            raise AssertionError(f"{len(items)} tasks ran again")
        return iter(())

    def close(self) -> None:
        pass


def test_a_rerun_reads_unchanged_work_from_the_cache(tmp_path: Path) -> None:
    first = run(cache=tmp_path / ".cache")
    again = run(executor=Refusing(), cache=tmp_path / ".cache")
    strip = [{k: v for k, v in r.items() if k != "wall_s"} for r in first.rows]
    assert [{k: v for k, v in r.items() if k != "wall_s"} for r in again.rows] == strip
    # 3 solves and 3 N-1 chunks (4 or 3 advisors each) came from the cache.
    assert again.settings["cached_tasks"] == 6
    # Another seed is new work: its solves run. N-1 depends on the
    # allocation only, so it runs again only where seed 1 allocates anew.
    counted = Counting()
    both = run(executor=counted, seeds=[0, 1], cache=tmp_path / ".cache")
    assert counted.by_task["solve_task"] == 3
    moved = [
        sid
        for sid in both.structures
        if both.solutions[sid, 0]["assignments.csv"]
        != both.solutions[sid, 1]["assignments.csv"]
    ]
    assert counted.by_task.get("n1_task", 0) == len(moved)


class Counting(InlineExecutor):
    """Runs tasks in this process and counts them by worker function."""

    def __init__(self) -> None:
        self.by_task: dict[str, int] = {}

    @property
    def tasks(self) -> int:
        return sum(self.by_task.values())

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Sequence[Any], threads: int = 1
    ) -> Iterator[tuple[int, Any]]:
        if items:
            self.by_task[fn.__name__] = self.by_task.get(fn.__name__, 0) + len(items)
        return super().map_unordered(fn, items, threads)


def test_changed_settings_are_not_read_from_the_cache(tmp_path: Path) -> None:
    run(cache=tmp_path / ".cache")
    counted = Counting()
    run(executor=counted, time_limit=4.0, cache=tmp_path / ".cache")
    assert counted.by_task["solve_task"] == 3
    # A changed structure is new work too, N-1 included.
    counted = Counting()
    base = office()
    wider = base.model_copy(
        update={
            "policy": base.policy.model_copy(
                update={"max_municipalities_per_advisor": 3}
            )
        }
    )
    compare_variants(base, [("wider", wider)], [0], 5.0, executor=counted,
                     workers=1, cache=tmp_path / ".cache")  # fmt: skip
    assert counted.by_task == {"solve_task": 1, "n1_task": 1}


def test_local_pool_and_dask_local_give_the_same_rows() -> None:
    """The same tasks on spawned processes and on a Dask LocalCluster."""
    pytest.importorskip("distributed")  # the optional extra allocator[dask]
    local = LocalExecutor(parallel=2)
    try:
        pooled = run(executor=local)
    finally:
        local.close()
    dask = DaskExecutor("local", workers=2)
    try:
        clustered = run(executor=dask)
    finally:
        dask.close()

    def strip(c: Comparison) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "wall_s"} for r in c.rows]

    assert strip(pooled) == strip(clustered)
    assert strip(pooled) == strip(run())
    assert "dask" in clustered.settings["executor"]
    assert "distributed" in clustered.versions


def test_pool_size_never_exceeds_the_cores() -> None:
    assert pool_size(threads=8, parallel=None, available=2) == 1
    assert pool_size(threads=1, parallel=None, available=2) == 2
    assert pool_size(threads=1, parallel=4, available=8) == 4
    assert pool_size(threads=2, parallel=4, available=4) == 2


def test_write_comparison_folder(tmp_path: Path, comparison: Comparison) -> None:
    out = tmp_path / "cmp"
    write_comparison(comparison, out)
    with open(out / "comparison.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == COLUMNS
    assert [r["scenario"] for r in rows] == ["base", "merged", "no-vest"]
    document = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    assert {"settings", "versions", "inputs", "rows", "details", "locks_dropped",
            "current_advisors", "figures", "differences"} <= set(document)  # fmt: skip
    assert document["settings"]["seeds"] == [0]
    # No deterministic_time given: each solve stops as allocator solve does.
    assert document["settings"]["deterministic_budget_by_structure"]["merged"] is None
    assert document["settings"]["wall_clock_factor"] == 1.0
    page = (out / "comparison.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "merged" in page
    assert "ortools" in document["versions"]
    assert len(document["inputs"]["merged"]["content_sha256"]) == 64
    for sid in ("base", "merged", "no-vest"):
        assert (out / sid / "seed-0" / "summary.json").is_file()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # no-vest: v1 lost av
            written = read_instance(out / sid / "instance")
        given = comparison.structures[sid]
        for table in ("users", "advisors"):

            def plain(entities: Any) -> list[dict[str, Any]]:
                return [e.model_dump(exclude={"row"}) for e in entities]

            assert plain(getattr(written, table)) == plain(getattr(given, table))
        assert written.host_agreements == comparison.structures[sid].host_agreements
    # Written again over itself: only when told to replace it.
    with pytest.raises(SolutionError, match="earlier comparison"):
        write_comparison(comparison, out)
    write_comparison(comparison, out, replace=True)


def test_refuses_a_folder_that_is_not_a_comparison(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SolutionError, match="not a comparison folder"):
        check_comparison_target(tmp_path)


def test_table_marks_noise_and_flags_gaps() -> None:
    rows = [
        {"scenario": "base", "seed": 0, "gap": 0.0, "travel_km": 100.0, "status": "optimal"},
        {"scenario": "base", "seed": 1, "gap": 0.0, "travel_km": 110.0, "status": "optimal"},
        {"scenario": "E", "seed": 0, "gap": 0.05, "travel_km": 104.0, "status": "feasible"},
        {"scenario": "E", "seed": 1, "gap": 0.0, "travel_km": 108.0, "status": "optimal"},
        {"scenario": "C", "seed": 0, "gap": 0.0, "travel_km": 150.0, "status": "optimal"},
        {"scenario": "C", "seed": 1, "gap": 0.0, "travel_km": 152.0, "status": "optimal"},
        {"scenario": "D", "seed": 0, "gap": 0.0, "travel_km": 104.0, "status": "optimal"},
        {"scenario": "D", "seed": 1, "gap": 0.0, "travel_km": 108.0, "status": "optimal"},
    ]  # fmt: skip
    for row in rows:
        row["n1_worst_advisor"] = "a1"
        row["stopped_by"] = "proof"
    text = comparison_table(rows)
    line = next(x for x in text.splitlines() if x.startswith("travel km"))
    assert "105 (100..110)" in line
    assert "+1 (104..108) ~" in line  # D: within the seed range, not real
    assert "+1 (104..108) !" in line  # E: above a 1 % gap, not trusted
    assert "+46 (150..152) *" in line  # C: real
    header = next(x for x in text.splitlines() if x.startswith("figure"))
    assert "E vs base !" in header and "C vs base !" not in header
    assert significant([1.0], [2.0])  # one seed: nothing to judge by
    assert not significant([1.0, 3.0], [2.0, 2.5])


def test_progress_bar_counts_structures_and_time_left() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream=stream, width=10)
    bar(1, 4, 30.0, 100.0)
    bar(4, 4, 100.0, 100.0)
    bar.close()
    text = stream.getvalue()
    assert "[###.......] 1/4 structures" in text and "left" in text
    assert "[##########] 4/4 structures  done" in text


def test_public_compare_returns_a_dataframe() -> None:
    import allocator

    base = office()
    frame = allocator.compare(
        base, [("merged", merged(base))], seeds=2, time_limit=2.0,
        executor=InlineExecutor(),
    )  # fmt: skip
    assert list(frame["scenario"]) == ["base", "base", "merged", "merged"]
    assert list(frame["seed"]) == [0, 1, 0, 1]
    assert frame.loc[frame["scenario"] == "merged", "single_points"].tolist() == [0, 0]
    assert list(frame.columns) == COLUMNS


def test_cli_compare_writes_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        main,
        ["compare", str(ROOT / "instances" / "tiny"), "--out", str(out),
         "--time-limit", "2", "--parallel", "1", "--seeds", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "travel hours" in result.output and f"written: {out}" in result.output
    assert (out / "comparison.csv").is_file()
    assert (out / "base" / "seed-0" / "assignments.csv").is_file()
    assert (out / ".cache").is_dir()


def test_cli_compare_refuses_a_foreign_out_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = CliRunner().invoke(
        main, ["compare", str(ROOT / "instances" / "tiny"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "not a comparison folder" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_the_readme_compare_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The notebook example (README, or its draft in notes/) runs as written."""
    pytest.importorskip("allocator.scenario")
    for name in ("README.md", "notes/compare-README.md"):
        path = ROOT / name
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
        example = next((b for b in blocks if "allocator.compare(" in b), None)
        if example is not None:
            break
    assert example is not None, "no allocator.compare example found"
    monkeypatch.chdir(ROOT)
    names: dict[str, Any] = {}
    exec(compile(example, name, "exec"), names)
    table = names["table"]
    assert sorted(set(table["scenario"])) == ["E", "base"]
    assert len(table) == 4


def test_a_fix_lock_broken_by_a_structure_is_dropped_for_it() -> None:
    """The scenario takes an's competence away, but n1 is fixed to an: the
    lock is dropped for that structure alone, with a warning naming it."""
    base = office().model_copy(
        update={"locks": (Lock(user="n1", advisor="an", kind="fix", row=2),)}
    )
    advisors = tuple(
        a.model_copy(update={"competences": ()}) if a.id == "an" else a
        for a in base.advisors
    )
    broken = base.model_copy(update={"advisors": advisors})
    with pytest.warns(DataWarning) as caught:
        result = compare_variants(
            base, [("bare", broken)], [0], 2.0, executor=InlineExecutor()
        )
    text = " ".join(str(w.message) for w in caught)
    assert "under scenario bare: the lock in locks.csv row 2" in text
    assert "lacks competence social_assistance" in text
    assert [r["locks_dropped"] for r in result.rows] == [0, 1]
    assert result.structures["bare"].locks == ()
    assert len(result.structures["base"].locks) == 1


def test_a_lock_to_an_unavailable_advisor_is_dropped_before_any_work(
    tmp_path: Path,
) -> None:
    """st unavailable: the lock keeps v2 only while st is v2's current
    advisor, which a first allocation blanks."""
    base = office().model_copy(
        update={"locks": (Lock(user="v2", advisor="st", kind="fix", row=3),)}
    )
    gone = base.model_copy(
        update={"advisors": tuple(a.model_copy(update={"available": False})
                                  if a.id == "st" else a for a in base.advisors)}
    )  # fmt: skip
    watching = Watching()
    with pytest.warns(
        DataWarning, match="under scenario away: the lock in locks.csv row 3"
    ):
        result = compare_variants(base, [("away", gone)], [0], 2.0, executor=watching)
    assert {r["scenario"]: r["locks_dropped"] for r in result.rows} == {
        "base": 0, "away": 1,
    }  # fmt: skip
    solved = [t.instance for t in watching.seen if type(t).__name__ == "SolveTask"]
    assert [len(inst.locks) for inst in solved] == [1, 0]


class Watching(InlineExecutor):
    """Runs inline and records every task it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Any] = []

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Sequence[Any], threads: int = 1
    ) -> Iterator[tuple[int, Any]]:
        self.seen.extend(items)
        return super().map_unordered(fn, items, threads)


def test_each_solve_stops_as_solve_does_by_default() -> None:
    """Time limit 5 s, no budget given: the solve's own rule within 5 s."""
    watching = Watching()
    result = run(executor=watching)
    solves = [t for t in watching.seen if type(t).__name__ == "SolveTask"]
    assert len(solves) == 3
    assert {(t.time_limit, t.deterministic_time) for t in solves} == {(5.0, None)}
    assert {r["stopped_by"] for r in result.rows} <= {
        "proof", "deterministic_time", "gap_limit", "wall_clock"
    }  # fmt: skip


def test_an_explicit_budget_stops_every_solve_there() -> None:
    """deterministic_time 0.5: every solve stops at it, the clock only at 15 s."""
    watching = Watching()
    result = run(executor=watching, deterministic_time=0.5)
    solves = [t for t in watching.seen if type(t).__name__ == "SolveTask"]
    assert {(t.time_limit, t.deterministic_time) for t in solves} == {(15.0, 0.5)}
    assert {r["stopped_by"] for r in result.rows} <= {"proof", "deterministic_time"}


def test_table_notes_solves_stopped_by_the_clock() -> None:
    rows = [
        {"scenario": "base", "seed": 0, "gap": 0.0, "stopped_by": "proof"},
        {"scenario": "E", "seed": 0, "gap": 0.0, "stopped_by": "wall_clock"},
    ]
    text = comparison_table(rows)
    assert "stopped by the time limit: E; these rows may differ" in text


def test_pool_threads_follow_the_solves_choice() -> None:
    """A first allocation opens everyone (8 workers); a weekly run where all
    stay uses one."""
    from allocator.compare import solve_threads

    assert solve_threads(office(), from_current=False) == 8
    assert solve_threads(office(), from_current=True) == 1
    moved = office().model_copy(
        update={"users": tuple(u.model_copy(update={"current_advisor": None})
                               for u in office().users)}
    )  # fmt: skip
    assert solve_threads(moved, from_current=True) == 8
