"""A comparison a manager can act on: locks, folders that check, nothing lost,
names, words and verdicts (FORMAT.md sections 6 and 7).

Small instances (instances/tiny with a lock and scenario files written here)
solved inline with short limits; the shipped comparisons have their own
test (test_compare_shipped.py).
"""

from __future__ import annotations

import csv
import errno
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import allocator
from allocator.checker import check_solution
from allocator.cli import main
from allocator.compare import COLUMNS, Comparison, compare_variants
from allocator.errors import DataWarning, InstanceError, SolutionError
from allocator.io.comparison import (
    check_comparison_target,
    new_comparison_folder,
    write_comparison,
)
from allocator.io.read import read_instance
from allocator.render.compare_text import comparison_table, difference_verdict
from allocator.render.html import comparison_page
from allocator.runs.executor import InlineExecutor
from allocator.scenario import read_scenario
from tests.shipped import copy_of, shipped

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "instances" / "tiny"
LEAVE = """description = "Advisor Two on leave"

[[advisors]]
id = "a2"
available = false
"""


def tiny_with_lock(folder: Path) -> Path:
    """instances/tiny where u3 sits with a2 today and is fixed to a2."""
    copy_of("tiny", folder)
    users = (folder / "users.csv").read_text(encoding="utf-8").splitlines()
    users = [
        line.replace(",active,false,1,,,,false", ",active,false,1,a2,,,false")
        if line.startswith("u3,")
        else line
        for line in users
    ]
    (folder / "users.csv").write_text("\n".join(users) + "\n", encoding="utf-8")
    (folder / "locks.csv").write_text("user,advisor,kind\nu3,a2,fix\n", "utf-8")
    (folder / "scenarios").mkdir()
    (folder / "scenarios" / "leave.toml").write_text(LEAVE, encoding="utf-8")
    return folder


def run_compare(
    folder: Path, scenarios: list[Path], out: Path | None = None, **kwargs: Any
) -> tuple[Any, list[str]]:
    """allocator.compare inline, one seed of 2 s; returns (frame, warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        frame = allocator.compare(
            read_instance(folder),
            scenarios,
            seeds=kwargs.pop("seeds", 1),
            time_limit=2.0,
            executor=InlineExecutor(),
            out=out,
            **kwargs,
        )
    return frame, [str(w.message) for w in caught if w.category is DataWarning]


# --- Locks under another structure (scope 4) -------------------------------------


def test_an_advisor_on_leave_who_holds_a_fix_lock_drops_the_lock(
    tmp_path: Path,
) -> None:
    folder = tiny_with_lock(tmp_path / "office")
    out = tmp_path / "cmp"
    frame, said = run_compare(folder, [folder / "scenarios" / "leave.toml"], out)
    dropped = dict(zip(frame["scenario"], frame["locks_dropped"], strict=True))
    # Today a2 is available and the lock holds; on leave, a first
    # allocation cannot give u3 to a2.
    assert dropped == {"base": 0, "leave": 1}
    lines = [text for text in said if "dropped" in text]
    assert len(lines) == 1
    assert "under scenario leave: the lock in locks.csv row 2" in lines[0]
    assert "fix user u3 to advisor a2" in lines[0]
    document = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    (listed,) = document["locks_dropped"]["leave"]
    assert (listed["lock"], listed["user"], listed["advisor"]) == (
        "locks.csv row 2",
        "u3",
        "a2",
    )
    assert document["locks_dropped"]["base"] == []
    # The lock is gone from the instance solved under the leave, kept in base.
    assert read_instance(out / "leave" / "instance").locks == ()
    assert len(read_instance(out / "base" / "instance").locks) == 1
    # The original current advisor is kept for forced_moves.
    assert document["current_advisors"] == {"u3": "a2"}


def test_the_cli_compares_and_names_the_dropped_lock(tmp_path: Path) -> None:
    folder = tiny_with_lock(tmp_path / "office")
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        main,
        ["compare", str(folder), "--all", "--seeds", "1", "--time-limit", "2",
         "--parallel", "1", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "warning: under scenario leave: the lock in locks.csv row 2" in result.output
    with open(out / "comparison.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["scenario"]: r["locks_dropped"] for r in rows} == {
        "base": "0",
        "leave": "1",
    }
    assert "locks dropped" in result.output


def test_a_scenario_that_removes_a_locked_advisor_drops_the_lock(
    tmp_path: Path,
) -> None:
    folder = tiny_with_lock(tmp_path / "office")
    # a2 is moved out: every user leaves a2, a2's row goes.
    gone = folder / "scenarios" / "gone.toml"
    gone.write_text(
        'description = "Advisor Two leaves"\n[[remove]]\ntable = "advisors"\n'
        'id = "a2"\n',
        encoding="utf-8",
    )
    frame, said = run_compare(folder, [gone])
    assert frame.loc[frame["scenario"] == "gone", "locks_dropped"].tolist() == [1]
    assert any("advisor a2 is not in this structure" in text for text in said)


# --- Folders that check (scope 5) ------------------------------------------------


def test_every_structure_folder_passes_check(tmp_path: Path) -> None:
    folder = tiny_with_lock(tmp_path / "office")
    out = tmp_path / "cmp"
    run_compare(folder, [folder / "scenarios" / "leave.toml"], out, seeds=2)
    checked = 0
    for structure in ("base", "leave"):
        instance = read_instance(out / structure / "instance")
        # As solved: a first allocation, nobody keeps an advisor.
        assert all(u.current_advisor is None for u in instance.users)
        for seed in (0, 1):
            problems = check_solution(instance, out / structure / f"seed-{seed}")
            assert problems == [], problems
            checked += 1
    assert checked == 4


# --- Nothing lost (scope 6) ------------------------------------------------------


def small_comparison() -> Comparison:
    base = shipped("tiny")
    return compare_variants(base, [], [0], 2.0, executor=InlineExecutor())


def test_a_second_comparison_keeps_the_first(tmp_path: Path) -> None:
    comparison = small_comparison()
    parent = tmp_path / "solutions" / "tiny"
    first = new_comparison_folder(parent)
    write_comparison(comparison, first)
    second = new_comparison_folder(parent)
    assert (first.name, second.name) == ("compare", "compare-2")
    before = (first / "comparison.csv").read_bytes()
    with pytest.raises(SolutionError, match="holds an earlier comparison"):
        write_comparison(comparison, first)
    write_comparison(comparison, second)
    assert (first / "comparison.csv").read_bytes() == before


def test_replace_leaves_no_stale_structure_folder(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    comparison = small_comparison()
    write_comparison(comparison, out)
    (out / "old-structure" / "instance").mkdir(parents=True)
    (out / ".cache").mkdir()
    (out / ".cache" / "kept.json").write_text("{}")
    write_comparison(comparison, out, replace=True)
    names = sorted(p.name for p in out.iterdir())
    assert names == [".cache", "base", "comparison.csv", "comparison.html",
                     "comparison.json"]  # fmt: skip
    assert (out / ".cache" / "kept.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_an_interrupted_comparison_resumes_in_its_folder(tmp_path: Path) -> None:
    parent = tmp_path / "tiny"
    (parent / "compare" / ".cache").mkdir(parents=True)
    assert new_comparison_folder(parent) == parent / "compare"
    check_comparison_target(parent / "compare")


def test_out_below_a_file_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = CliRunner().invoke(
        main,
        ["compare", str(TINY), "--seeds", "1", "--time-limit", "1",
         "--out", str(tmp_path / "file" / "cmp")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.output.startswith("error: cannot write to ")
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_full_disk_while_writing_leaves_nothing_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    comparison = small_comparison()
    out = tmp_path / "cmp"
    real = Path.write_text

    def full(self: Path, *args: Any, **kwargs: Any) -> int:
        if self.name == "comparison.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(SolutionError, match="no space left on device; nothing"):
        write_comparison(comparison, out)
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_in_the_cache_leaves_no_staging_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from allocator.compare import Cache

    cache = Cache(tmp_path / "cmp" / ".cache")
    real = Path.write_text

    def full(self: Path, text: str, *args: Any, **kwargs: Any) -> int:
        real(self, text[:10], *args, **kwargs)  # half of it, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(SolutionError, match=r"cannot write to .*no space left"):
        cache.put("abc", {"x": 1})
    assert list((tmp_path / "cmp" / ".cache").iterdir()) == []


# --- Names (scope 7) -------------------------------------------------------------


def test_scenario_ids_with_norwegian_letters(tmp_path: Path) -> None:
    folder = tmp_path / "office"
    copy_of("tiny", folder)
    (folder / "scenarios").mkdir()
    (folder / "scenarios" / "Ål-Hol.toml").write_text(
        'description = "Ål og Hol slås sammen"\n', encoding="utf-8"
    )
    (folder / "scenarios" / "flaa.toml").write_text(
        'name = "Flå"\ndescription = "Flå alene"\n', encoding="utf-8"
    )
    assert read_scenario(folder / "scenarios" / "flaa.toml").id == "Flå"
    out = tmp_path / "cmp"
    frame, _ = run_compare(folder, sorted((folder / "scenarios").glob("*.toml")), out)
    assert list(frame["scenario"]) == ["base", "Flå", "Ål-Hol"]
    assert (out / "Flå" / "seed-0" / "summary.json").is_file()
    assert (out / "Ål-Hol" / "instance" / "users.csv").is_file()


def test_two_ids_that_share_a_folder_are_named_both(tmp_path: Path) -> None:
    base = shipped("tiny")
    with pytest.raises(InstanceError) as caught:
        compare_variants(
            base, [("Ål", base), ("ål", base)], [0], 1.0, executor=InlineExecutor()
        )
    text = str(caught.value.problems[0])
    assert "'Ål'" in text and "'ål'" in text and "one folder" in text
    for bad in ("a/b", "E 2", "..", "base", "BASE"):
        with pytest.raises(InstanceError, match="scenario id"):
            compare_variants(base, [(bad, base)], [0], 1.0, executor=InlineExecutor())


# --- Words and verdicts (scopes 2, 3) ---------------------------------------------


def rows_of(*spec: tuple[str, int, float, float, str]) -> list[dict[str, Any]]:
    return [
        {"scenario": s, "seed": seed, "travel_km": km, "gap": gap, "stopped_by": by,
         "single_points": 3 if s == "base" else 1, "description": f"about {s}"}
        for s, seed, km, gap, by in spec
    ]  # fmt: skip


def test_each_difference_is_real_within_the_band_or_not_trusted() -> None:
    rows = rows_of(
        ("base", 0, 100, 0.0, "proof"), ("base", 1, 110, 0.0, "proof"),
        ("C", 0, 150, 0.0, "proof"), ("C", 1, 152, 0.005, "gap_limit"),
        ("D", 0, 104, 0.0, "proof"), ("D", 1, 108, 0.0, "proof"),
        ("E", 0, 300, 0.05, "wall_clock"), ("E", 1, 300, 0.0, "proof"),
    )  # fmt: skip
    verdict = {
        s: difference_verdict(rows, "base", s, "travel_km")["verdict"]  # type: ignore[index]
        for s in ("C", "D", "E")
    }
    assert verdict == {"C": "real", "D": "within the band", "E": "solve not trusted"}
    # An exact figure (structure alone) is real even for an untrusted solve.
    exact = difference_verdict(rows, "base", "E", "single_points")
    assert exact is not None and exact["verdict"] == "real"
    one = rows_of(("base", 0, 100, 0.0, "proof"), ("C", 0, 150, 0.0, "proof"))
    assert difference_verdict(one, "base", "C", "travel_km")["verdict"] == "one seed"  # type: ignore[index]
    text = comparison_table(rows)
    line = next(x for x in text.splitlines() if x.startswith("travel km"))
    assert "+46 (150..152) *" in line and "+1 (104..108) ~" in line
    assert "+195 !" in line
    assert text.splitlines()[0].startswith("base") and "about C" in text


def test_the_page_names_each_structure_and_each_figure() -> None:
    rows = rows_of(("base", 0, 100, 0.0, "proof"), ("E", 0, 130, 0.0, "proof"))
    rows[0]["description"] = "today's structure"
    rows[1]["description"] = "One host municipality (Gol) for all six"
    page = comparison_page(rows, [("instance", "hallingdal"), ("seeds", "1 (0)")])
    assert "today&#39;s structure" in page
    assert "One host municipality (Gol) for all six" in page
    assert "road km from each advisor&#39;s base" in page
    assert "11 working time on Rv7" in page
    assert "one seed" in page


def test_description_column_and_settings_in_words(tmp_path: Path) -> None:
    folder = tiny_with_lock(tmp_path / "office")
    out = tmp_path / "cmp"
    frame, _ = run_compare(folder, [folder / "scenarios" / "leave.toml"], out)
    assert list(frame.columns) == COLUMNS
    assert list(frame["description"]) == ["today's structure", "Advisor Two on leave"]
    document = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    words = dict(document["settings_in_words"])
    assert words["structure leave"] == "Advisor Two on leave"
    assert words["how each structure is solved"].startswith("as a first allocation")
    assert document["figures"]["single_points"]["risk_factor"].startswith("2 ")
    assert set(document["differences"]["leave"]) <= set(document["figures"])
    page = (out / "comparison.html").read_text(encoding="utf-8")
    assert "Advisor Two on leave" in page and "as a first allocation" in page
    assert "{&#39;" not in page and "{'" not in page  # no dict dump


def test_from_current_users_who_can_no_longer_stay_are_placed_anew(
    tmp_path: Path,
) -> None:
    """--from-current: u3 sits with a2, who is on leave and locked to u3 in
    base; under the leave the lock still holds (an unavailable advisor may
    keep current users), and a user whose advisor left is placed anew with
    a warning, never a refusal."""
    folder = tiny_with_lock(tmp_path / "office")
    gone = folder / "scenarios" / "gone.toml"
    gone.write_text(
        'description = "Advisor Two leaves"\n[[remove]]\ntable = "advisors"\n'
        'id = "a2"\n',
        encoding="utf-8",
    )
    frame, said = run_compare(
        folder, [folder / "scenarios" / "leave.toml", gone], from_current=True
    )
    by = frame.set_index("scenario")
    assert by.loc["leave", "locks_dropped"] == 0
    assert by.loc["gone", "locks_dropped"] == 1
    assert by.loc["gone", "forced_moves"] == 1
    assert any(
        "under scenario gone: 1 user(s) can no longer stay" in text for text in said
    )


def test_two_runs_write_the_same_comparison_csv_apart_from_wall_time(
    tmp_path: Path,
) -> None:
    """The figures are a property of the input: run twice, same rows."""
    folder = tiny_with_lock(tmp_path / "office")
    texts = []
    for out in ("first", "second"):
        run_compare(folder, [folder / "scenarios" / "leave.toml"], tmp_path / out,
                    seeds=2)  # fmt: skip
        with open(tmp_path / out / "comparison.csv", encoding="utf-8") as handle:
            texts.append([
                {k: v for k, v in row.items() if k != "wall_s"}
                for row in csv.DictReader(handle)
            ])  # fmt: skip
    assert texts[0] == texts[1]
    assert len(texts[0]) == 4
