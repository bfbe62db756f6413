"""The real-world broken inputs in tests/data/cases/, each with its right value.

Every folder holds the same small office ("tiny": two municipalities, three
advisors, seven users) as the case-system or Excel export broke it; its
README says what went wrong and what should happen. A case that can be read
must give exactly the instance, and so the allocation, of the plain CSV
folder ``wide-header-slow/tiny``; a case that cannot must be rejected with
the located message below, exit code 1, no traceback and nothing written.
"""

from __future__ import annotations

import csv
import io
import shutil
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

import allocator
from allocator.cli import main
from allocator.domain import Instance
from allocator.errors import DataWarning, InputProblem, InstanceError
from allocator.io.read import read_instance

CASES = Path(__file__).parents[1] / "data" / "cases"
TINY = CASES / "wide-header-slow" / "tiny"
# The one optimal allocation of tiny, worked out by hand: a1 (assessment)
# takes the two new users; a2 (employer nord) takes u3 and u7 in nord; a3
# (0.5 FTE, capacity 2, based in sor) takes u5 and u6 in sor; u4 needs
# social_assistance in sor, which only a municipal employee of sor could
# hold, so u4 waits.
TINY_ALLOCATION = {
    "u1": "a1",
    "u2": "a1",
    "u3": "a2",
    "u4": "",
    "u5": "a3",
    "u6": "a3",
    "u7": "a2",
}


def read(folder: Path) -> Instance:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return read_instance(folder)


def problems(folder: Path) -> list[InputProblem]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        with pytest.raises(InstanceError) as caught:
            read_instance(folder)
    return caught.value.problems


def same_office(instance: Instance) -> Instance:
    """The instance without what depends on the files' form (rows, labels, hash,
    and the CSV dialect the outputs will follow)."""

    def unrowed(items: tuple) -> tuple:  # type: ignore[type-arg]
        return tuple(item.model_copy(update={"row": 0}) for item in items)

    return instance.model_copy(
        update={
            "files": {},
            "input_sha256": "",
            "dialect": ",",
            "municipalities": unrowed(instance.municipalities),
            "teams": unrowed(instance.teams),
            "advisors": unrowed(instance.advisors),
            "users": unrowed(instance.users),
        }
    )


def allocation(instance: Instance) -> dict[str, str]:
    solution = allocator.solve(instance, time_limit=10, workers=1)
    frame = solution.assignments
    return dict(zip(frame.user, frame.advisor, strict=True))


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture(scope="module")
def tiny() -> Instance:
    return read(TINY)


def test_tiny_allocation(tiny: Instance) -> None:
    """The control folder solves to the hand-worked allocation."""
    assert allocation(tiny) == TINY_ALLOCATION


@pytest.mark.parametrize(
    "case", ["sep-line-first-row", "tab-delimited-csv", "nbsp-thousands-separator"]
)
def test_dialect_cases_read_as_the_control(case: str, tiny: Instance) -> None:
    """sep=; first line, a tab-separated .csv, and population 1<NBSP>200 in a ';'
    file all read as the plain folder does, and so allocate the same."""
    instance = read(CASES / case)
    assert same_office(instance) == same_office(tiny)
    assert allocation(instance) == TINY_ALLOCATION


def test_sep_line_keeps_file_row_numbers() -> None:
    """The sep= line is row 1, so the header is row 2 and u1 is row 3."""
    instance = read(CASES / "sep-line-first-row")
    assert [u.row for u in instance.users] == list(range(3, 10))
    assert instance.municipalities[0].population == 1200


def test_leading_zeros_current_advisor_rejected() -> None:
    """102/103 are 0102/0103 without Excel's dropped zero: not advisors who left."""
    found = problems(CASES / "leading-zeros-current-advisor")
    assert [(p.row, p.column) for p in found] == [
        (row, "current_advisor") for row in range(2, 7)
    ]
    assert str(found[1]) == (
        "users.csv, row 3, column current_advisor: expected an advisor id from "
        "advisors.csv, found 103 that is not there, but 0103 is: Excel drops the "
        "leading zeros of ids that look like numbers. Format the column as Text "
        "in Excel (or write the ids in full) and export again."
    )


def test_leading_zeros_control_moves_nobody(tmp_path: Path) -> None:
    """With the ids written in full, everyone keeps their advisor."""
    folder = tmp_path / "control"
    shutil.copytree(CASES / "leading-zeros-current-advisor", folder)
    shutil.copy(folder / "control" / "users.csv", folder / "users.csv")
    solution = allocator.solve(read(folder), time_limit=10, workers=1)
    frame = solution.assignments
    assert list(frame.status) == ["assigned"] * 5
    assert [str(c).lower() for c in frame.changed] == ["false"] * 5
    assert dict(zip(frame.user, frame.advisor, strict=True)) == {
        user.id: user.current_advisor for user in solution.instance.users
    }


def test_leading_zeros_through_cli(tmp_path: Path) -> None:
    code, out = run_cli(
        "solve",
        str(CASES / "leading-zeros-current-advisor"),
        "--out",
        str(tmp_path / "s"),
    )
    assert code == 1
    assert "leading zeros" in out and "Traceback" not in out
    assert not (tmp_path / "s").exists()


def test_xlsx_merged_cells_rejected() -> None:
    """u4's needs cell is part of E4:E5: never read as "no needs"."""
    (problem,) = problems(CASES / "xlsx-merged-cells")
    assert str(problem) == (
        "caseload.xlsx[users], row 5, column needs: expected a value in every "
        "cell, found this cell part of the merged cells E4:E5 (only E4 holds the "
        "value); unmerge them and fill each row."
    )


def test_xlsx_merged_control_leaves_u4_waiting(tmp_path: Path) -> None:
    """Unmerged, u4 needs social_assistance in sor and nobody can take u4."""
    folder = tmp_path / "control"
    shutil.copytree(CASES / "xlsx-merged-cells" / "control", folder)
    instance = read(folder)
    users = {u.id: u for u in instance.users}
    assert users["u4"].needs == ("social_assistance",)
    assert allocation(instance) == TINY_ALLOCATION


def test_unterminated_quote_rejected() -> None:
    """u2's note opens a quote that never closes: rows 3 to 8 are not swallowed."""
    (problem,) = problems(CASES / "unterminated-quote-drops-users")
    assert str(problem) == (
        "users.csv, row 3: expected every quoted cell to be closed, found a quote "
        "opened in row 3 (line 3) that is never closed, so every line below it "
        "would be one cell; close the quote or remove it."
    )


def test_unterminated_quote_through_cli(tmp_path: Path) -> None:
    code, out = run_cli("validate", str(CASES / "unterminated-quote-drops-users"))
    assert code == 1
    assert "users.csv, row 3: " in out and "Traceback" not in out


def test_unnamed_column_message() -> None:
    """Column 13 has no name: say so, without a ';' hint in a ',' file."""
    (problem,) = problems(CASES / "unnamed-column-message")
    assert str(problem) == (
        "users.csv, row 2, column 13: expected a header name for column 13, found "
        "a value under a column without a name (and in 6 more rows); name the "
        "column in the header row, or delete the values."
    )


def test_nfd_ids_keep_previous(tmp_path: Path) -> None:
    """Week 2 saved on a Mac (NFD): the same seven users, nobody arrived or left."""
    week1, week2 = tmp_path / "w1", tmp_path / "w2"
    code, _ = run_cli(
        "solve", str(CASES / "nfd-ids-lose-previous" / "week1"), "--out", str(week1)
    )
    assert code == 0
    code, out = run_cli(
        "solve",
        str(CASES / "nfd-ids-lose-previous" / "week2"),
        "--previous",
        str(week1),
        "--out",
        str(week2),
    )
    assert code == 0, out
    changes = (week2 / "changes.csv").read_text(encoding="utf-8-sig")
    assert "arrived" not in changes and "left" not in changes

    def plan(folder: Path) -> dict[str, str]:
        text = (folder / "assignments.csv").read_text(encoding="utf-8-sig")
        rows = csv.DictReader(io.StringIO(text))
        return {row["user"]: row["advisor"] for row in rows}

    assert plan(week2) == plan(week1)
    assert len(plan(week1)) == 7
    assert all(user.startswith("H\u00e5kon") for user in plan(week2))


def test_toml_deep_nesting_rejected() -> None:
    """5,000 nested arrays: a located message, not a RecursionError."""
    (problem,) = problems(CASES / "toml-deep-nesting-traceback")
    assert str(problem) == (
        "instance.toml: expected valid TOML with values nested at most 16 deep, "
        "found arrays or inline tables nested deeper at line 39."
    )


def widen(folder: Path, columns: int) -> None:
    """users.csv with ``columns`` extra empty columns, as the case's script makes it."""
    path = folder / "users.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0] + "".join(f",c{i}" for i in range(columns))
    body = [line + "," * columns for line in lines[1:]]
    path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")


def test_wide_header_beyond_excel_rejected(tmp_path: Path) -> None:
    """20,000 columns is more than a sheet holds: rejected at once, located."""
    folder = tmp_path / "wide"
    shutil.copytree(TINY, folder)
    widen(folder, 20_000)
    (problem,) = problems(folder)
    assert str(problem) == (
        "users.csv, row 1: expected at most 16384 columns (Excel's limit), found "
        "20012 in this row; the file is damaged or was not exported as a table."
    )


def test_wide_header_within_limit_read_with_capped_warning(
    tmp_path: Path, tiny: Instance
) -> None:
    """10,000 extra columns are carried; the warning lists ten of them."""
    folder = tmp_path / "wide"
    shutil.copytree(TINY, folder)
    widen(folder, 10_000)
    with pytest.warns(DataWarning) as caught:
        instance = read_instance(folder)
    (warning,) = [w for w in caught if "unknown columns" in str(w.message)]
    text = str(warning.message)
    assert text == (
        'users.csv: unknown columns "c0", "c1", "c2", "c3", "c4", "c5", "c6", '
        '"c7", "c8", "c9" and 9990 more are kept and carried to the output.'
    )
    assert len(instance.extra_columns["users"]) == 10_000
    assert [u.id for u in instance.users] == [u.id for u in tiny.users]


def test_control_character_rejected_at_read_time(tmp_path: Path) -> None:
    """A vertical tab in u2's note: located, the value not shown, no traceback."""
    (problem,) = problems(CASES / "control-char-xlsx-traceback")
    assert str(problem) == (
        "users.csv, row 3, column note: expected text without control characters, "
        "found U+000B (vertical tab) at character 4; delete it (most programs do "
        "not show it)."
    )
    code, out = run_cli(
        "solve",
        str(CASES / "control-char-xlsx-traceback"),
        "--out",
        str(tmp_path / "s"),
        "--xlsx",
    )
    assert code == 1
    assert "Traceback" not in out and "badcell" not in out
    assert not (tmp_path / "s").exists()
