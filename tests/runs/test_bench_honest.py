"""Benchmark tables say what happened, and no more.

A greedy fallback is CP-SAT's "no solution", out of its averages; a bench in
which every run failed exits 1 and shows each cause in full with a hint;
bench --out refuses a folder that is not an earlier bench; OR-Library GAP
files holding several problems are read as those problems.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.cli import main
from allocator.gap import read_gap, read_gap_problems
from allocator.gap.read import parse_gap, parse_gap_problems
from allocator.runs.bench import averages, status_text, table
from tests.shipped import copy_of

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "instances" / "tiny"
CATTRYSSE = ROOT / "instances" / "gap" / "cattrysse1994"
ORLIB_GAP1 = (
    Path(__file__).parents[1] / "data" / "cases" / "gap-orlib-multi-problem-file" / "gap1"
)


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


def results(folder: Path) -> list[dict[str, str]]:
    with open(folder / "results.csv", newline="") as handle:
        return list(csv.DictReader(handle))


# --- Greedy fallback -----------------------------------------------------------


def test_greedy_fallback_is_cpsat_no_solution(tmp_path):
    """The case bench-greedy-counted-as-cpsat. --time-limit 0 is now a usage
    error, so CP-SAT is given no time through --params instead."""
    assert run("bench", TINY, "--time-limit", "0", "--solver", "cpsat")[0] == 2
    params = tmp_path / "p.toml"
    params.write_text("max_time_in_seconds = 0.0\n")
    out = tmp_path / "b"
    code, stdout, _ = run(
        "bench", TINY, "--time-limit", "1", "--params", params, "--out", out
    )
    assert code == 0
    rows = {row["solver"]: row for row in results(out)}
    assert rows["cpsat"]["status"] == "no_solution"
    assert rows["cpsat"]["written"] == "greedy"
    assert rows["greedy"]["status"] == "feasible"
    assert rows["cpsat"]["objective"] == rows["greedy"]["objective"] == "1260.0"
    assert "no solution (greedy written)" in stdout
    assert (
        "cpsat   runs 1: optimal 0, feasible 0, no solution 1, errors 0; avg "
        "objective -, avg gap -, avg gap to best known -, avg wall - s"
    ) in stdout
    assert (
        "greedy  runs 1: optimal 0, feasible 1, no solution 0, errors 0; avg objective 1,260.00"
        in stdout
    )


def test_averages_count_only_the_solvers_own_solutions():
    rows = [
        {
            "instance": "a",
            "solver": "cpsat",
            "status": "optimal",
            "objective": 10.0,
            "wall_s": 1.0,
        },
        {
            "instance": "b",
            "solver": "cpsat",
            "status": "no_solution",
            "written": "greedy",
            "objective": 99.0,
            "wall_s": 3.0,
        },
        {"instance": "c", "solver": "cpsat", "status": "error", "message": "boom"},
    ]
    assert averages(rows) == [
        "cpsat   runs 3: optimal 1, feasible 0, no solution 1, errors 1; avg objective "
        "10.00, avg gap -, avg gap to best known -, avg wall 1.00 s"
    ]
    assert status_text(rows[1]) == "no solution (greedy written)"
    assert table(rows).splitlines()[-2:] == ["errors (1 of 3 runs):", "  c cpsat: boom"]


# --- Every run failed ------------------------------------------------------------


def test_every_run_failed_exits_1_with_the_full_cause_and_a_hint(tmp_path):
    """The case gap-orlib-multi-problem-file without --format gap."""
    out = tmp_path / "b"
    code, stdout, stderr = run("bench", ORLIB_GAP1, "--time-limit", "1", "--out", out)
    assert code == 1
    assert "error: all 2 runs failed; the errors are listed above." in stderr
    assert "errors (2 of 2 runs):" in stdout
    assert (
        f"  gap1 cpsat: {ORLIB_GAP1} is a file, not an instance folder; for "
        "OR-Library or Yagiura GAP files use --format gap"
    ) in stdout
    assert all(row["status"] == "error" for row in results(out))
    assert "use --format gap" in results(out)[0]["message"]


def test_an_instance_folder_under_format_gap_gets_the_other_hint(tmp_path):
    code, stdout, _ = run(
        "bench", "--format", "gap", TINY, "--time-limit", "1", "--solver", "greedy",
        "--out", tmp_path / "b",
    )  # fmt: skip
    assert code == 1
    assert f"{TINY} is an instance folder: leave out --format gap" in stdout


def test_a_folder_without_instance_toml_gets_a_hint(tmp_path):
    folder = tmp_path / "gapfiles"
    folder.mkdir()
    shutil.copy(CATTRYSSE / "gap1-0", folder)
    code, stdout, _ = run(
        "bench", folder, "--solver", "greedy", "--out", tmp_path / "b"
    )
    assert code == 1
    assert "has no instance.toml, so it is not an instance folder" in stdout


def test_one_failed_run_among_good_ones_exits_0(tmp_path):
    code, stdout, _ = run(
        "bench", TINY, ORLIB_GAP1, "--time-limit", "1", "--solver", "greedy",
        "--out", tmp_path / "b",
    )  # fmt: skip
    assert code == 0 and "errors (1 of 2 runs):" in stdout


# --- bench --out ----------------------------------------------------------------


def test_bench_out_refuses_an_instance_folder(tmp_path):
    folder = tmp_path / "tiny"
    copy_of("tiny", folder)
    before = sorted(p.name for p in folder.iterdir())
    code, stdout, stderr = run("bench", TINY, "--solver", "greedy", "--out", folder)
    assert code == 1 and stdout == ""
    assert "is not a bench folder (no results.csv)" in stderr
    assert sorted(p.name for p in folder.iterdir()) == before


def test_bench_out_refuses_a_folder_of_other_files(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("keep")
    code, _, stderr = run("bench", TINY, "--out", tmp_path / "notes")
    assert code == 1 and "is not a bench folder" in stderr


def test_bench_out_takes_an_earlier_bench_folder(tmp_path):
    out = tmp_path / "b"
    args = ("bench", TINY, "--solver", "greedy", "--out", out)
    assert run(*args)[0] == 0
    assert run(*args)[0] == 0
    assert len(results(out)) == 1


def test_bench_without_out_writes_a_new_run_folder_beside_the_shipped_tables(
    tmp_path, monkeypatch
):
    """The README's command as written: solutions/bench holds shipped tables."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "solutions" / "bench" / "office").mkdir(parents=True)
    (tmp_path / "solutions" / "bench" / "office" / "table.txt").write_text("kept")
    code, stdout, stderr = run("bench", TINY, "--solver", "greedy")
    assert code == 0, stderr
    runs = list((tmp_path / "solutions" / "bench").glob("run-*"))
    assert len(runs) == 1 and len(results(runs[0])) == 1
    assert f"written: solutions/bench/{runs[0].name}/results.csv" in stdout
    assert (tmp_path / "solutions" / "bench" / "office" / "table.txt").read_text() == "kept"


# --- OR-Library multi-problem GAP files -------------------------------------------


def test_orlib_file_with_two_problems_is_benched_as_two(tmp_path):
    """The case: gap1 as published holds P=2; each is solved to its optimum."""
    out = tmp_path / "b"
    code, stdout, _ = run(
        "bench", "--format", "gap", ORLIB_GAP1, "--time-limit", "2",
        "--solver", "cpsat", "--solver", "greedy", "--out", out,
    )  # fmt: skip
    assert code == 0
    rows = results(out)
    cpsat = {r["instance"]: r for r in rows if r["solver"] == "cpsat"}
    assert sorted(cpsat) == [
        "gap-orlib-multi-problem-file/gap1-0", "gap-orlib-multi-problem-file/gap1-1",
    ]  # fmt: skip
    # Optima from OR-Library's gapinfo (instances/gap/data.csv): 261 and 269.
    assert [(r["status"], r["objective"]) for r in cpsat.values()] == [
        ("optimal", "261"), ("optimal", "269"),
    ]  # fmt: skip
    assert not [r for r in rows if r["status"] == "error"]
    assert "cpsat   runs 2: optimal 2" in stdout


def test_orlib_problems_equal_the_split_files():
    problems = read_gap_problems(ORLIB_GAP1)
    assert [p.name for p in problems] == [
        "gap-orlib-multi-problem-file/gap1-0", "gap-orlib-multi-problem-file/gap1-1",
    ]  # fmt: skip
    for k, problem in enumerate(problems):
        split = read_gap(CATTRYSSE / f"gap1-{k}")
        assert (problem.costs, problem.uses, problem.capacities) == (
            split.costs, split.uses, split.capacities,
        )  # fmt: skip


def orlib_text(files: list[Path]) -> str:
    """An OR-Library style file made of split problem files."""
    return f" {len(files)}\n" + "".join(f.read_text() for f in files)


def test_a_three_problem_file_reads_as_its_three_problems(tmp_path):
    files = [CATTRYSSE / f"gap5-{k}" for k in range(3)]
    problems = parse_gap_problems(orlib_text(files), "gap5")
    assert [p.name for p in problems] == ["gap5-0", "gap5-1", "gap5-2"]
    for problem, path in zip(problems, files, strict=True):
        assert problem.costs == read_gap(path).costs
        assert problem.capacities == read_gap(path).capacities


def test_a_single_problem_file_keeps_its_name():
    text = (CATTRYSSE / "gap2-0").read_text()
    assert [p.name for p in parse_gap_problems(text, "x/gap2-0")] == ["x/gap2-0"]
    assert parse_gap(text, "x/gap2-0").name == "x/gap2-0"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3\n", "missing the header 'm n'"),
        ("2 5 1 2 3", "header says m=2, n=5, so 24 numbers are expected, found 5; "
         "nor is it an OR-Library file of 2 problems"),
        ("2 5 x 3", "number 3 is not a whole number"),
    ],
)  # fmt: skip
def test_files_that_fit_neither_layout_say_why(text, message):
    with pytest.raises(ValueError, match=message):
        parse_gap_problems(text, "bad")


def test_read_gap_names_a_multi_problem_file():
    with pytest.raises(ValueError, match="an OR-Library file with 2 problems"):
        read_gap(ORLIB_GAP1)


def test_a_truncated_orlib_file_is_not_taken_for_fewer_problems():
    text = orlib_text([CATTRYSSE / "gap1-0", CATTRYSSE / "gap1-1"])
    cut = " ".join(text.split()[:-3])
    with pytest.raises(ValueError, match="nor is it an OR-Library file of 2 problems"):
        parse_gap_problems(cut, "gap1")
