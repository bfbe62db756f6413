"""A hand-edited previous plan is read right or refused, never misread.

The cases previous-rows-deleted-silent-arrivals and
previous-xlsx-formula-cells-ignored, each with its value, and more inputs of
the same kinds: rows deleted from allocation.xlsx or from a folder's
assignments.csv, cells that do not hold what they show (formulas without a
value, formula errors, merged cells, hidden rows), a header row deleted.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from allocator.cli import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "instances" / "tiny"
HALLINGDAL = ROOT / "instances" / "hallingdal"
WEEK2 = ROOT / "instances" / "hallingdal-week2"


def run(*args: object) -> tuple[int, str]:
    """Exit code and everything the command printed (stdout and stderr)."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.stdout + result.stderr


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        head = handle.readline()
        handle.seek(0)
        delimiter = ";" if head.count(";") > head.count(",") else ","
        return list(csv.DictReader(handle, delimiter=delimiter))


def solve(instance: Path, out: Path, *extra: object) -> str:
    code, text = run("solve", instance, "--out", out, "--time-limit", 2, *extra)
    assert code == 0, text
    return text


@pytest.fixture(scope="module")
def hallingdal_week1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hallingdal") / "week1"
    solve(HALLINGDAL, out, "--quiet")
    return out


@pytest.fixture(scope="module")
def tiny_week1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "week1"
    solve(TINY, out, "--quiet", "--workers", 1)
    return out


def edit_workbook(
    source: Path, target: Path, change: Callable[[Any, dict[str, int]], None]
) -> Path:
    """Copy allocation.xlsx with ``change(sheet, columns)`` applied to its
    assignments sheet (columns: header -> 1-based column number)."""
    book = openpyxl.load_workbook(source)
    sheet = book["assignments"]
    columns = {cell.value: cell.column for cell in sheet[1]}
    change(sheet, columns)
    book.save(target)
    return target


def row_of(sheet: Any, columns: dict[str, int], user: str) -> int:
    for number in range(2, sheet.max_row + 1):
        if sheet.cell(number, columns["user"]).value == user:
            return number
    raise AssertionError(user)


def cut_folder(source: Path, target: Path, gone: set[str]) -> Path:
    """A copy of a solution folder whose assignments.csv lacks ``gone``."""
    shutil.copytree(source, target)
    path = target / "assignments.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    sep = ";" if lines[0].count(";") > lines[0].count(",") else ","
    kept = [lines[0]] + [
        line for line in lines[1:] if line.split(sep, 1)[0].strip('"') not in gone
    ]
    path.write_text("".join(kept), encoding="utf-8")
    return target


# --- previous-rows-deleted-silent-arrivals ------------------------------------


def known_missing(users_csv: Path, gone: set[str]) -> list[str]:
    return [
        r["id"] for r in rows(users_csv) if r["status"] != "new" and r["id"] in gone
    ]


def assert_named_not_new(text: str, out: Path, missing: list[str]) -> None:
    """The warning counts them and names the first; no row calls them new."""
    assert re.search(
        rf"warning: .*\b{len(missing)} user\(s\) of users\.csv whose "
        r"status is not new are not in the previous plan",
        text,
    ), text
    assert ", ".join(missing[:10]) in text
    changes = {r["user"]: r for r in rows(out / "changes.csv")}
    for user in missing:
        assert "new this week" not in changes[user]["reason"]
        assert "row deleted?" in changes[user]["reason"]
    # The real arrivals (status new) still are new this week.
    news = [
        r
        for r in changes.values()
        if r["kind"] == "arrived" and r["user"] not in missing
    ]
    assert news and all(r["reason"].startswith("new this week") for r in news)


@pytest.mark.parametrize("form", ["xlsx", "folder"])
def test_case_rows_deleted_are_named_never_new(
    hallingdal_week1: Path, tmp_path: Path, form: str
) -> None:
    book = openpyxl.load_workbook(hallingdal_week1 / "allocation.xlsx")
    sheet = book["assignments"]
    gone = {str(sheet.cell(r, 1).value) for r in range(2, 102)}  # u00001-u00100
    if form == "xlsx":
        sheet.delete_rows(2, 100)
        previous = tmp_path / "deleted.xlsx"
        book.save(previous)
    else:
        previous = cut_folder(hallingdal_week1, tmp_path / "cut", gone)
    missing = known_missing(WEEK2 / "users.csv", gone)
    assert len(missing) == 99  # the case's value: one of the 100 left this week
    out = tmp_path / "week2"
    text = solve(WEEK2, out, "--previous", previous)
    assert_named_not_new(text, out, missing)
    code, text = run("check", WEEK2, out, "--previous", previous)
    assert code == 0, text
    # With --strict-previous the plan is refused, naming count and ids.
    code, text = run(
        "solve",
        WEEK2,
        "--out",
        tmp_path / "strict",
        "--previous",
        previous,
        "--strict-previous",
        "--time-limit",
        1,
    )
    assert code == 1
    assert "found 99 missing (u00001, u00002" in text
    assert not (tmp_path / "strict").exists()


def test_rows_deleted_from_a_semicolon_plan_of_another_instance(
    tiny_week1: Path, tmp_path: Path
) -> None:
    """The kind again: tiny's plan rewritten as Norwegian Excel saves it (;),
    two active users' rows deleted."""
    plan = tmp_path / "w1"
    shutil.copytree(tiny_week1, plan)
    table = rows(plan / "assignments.csv")
    kept = [r for r in table if r["user"] not in {"u4", "u6"}]
    with (plan / "assignments.csv").open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(table[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(kept)
    out = tmp_path / "w2"
    text = solve(TINY, out, "--previous", plan, "--workers", 1)
    assert "2 user(s) of users.csv whose status is not new" in text
    assert "(u4, u6)" in text
    changes = {r["user"]: r for r in rows(out / "changes.csv")}
    assert set(changes) == {"u4", "u6"}
    assert all("new this week" not in r["reason"] for r in changes.values())
    assert run("check", TINY, out, "--previous", plan)[0] == 0


def test_a_whole_plan_gives_no_missing_warning(
    tiny_week1: Path, tmp_path: Path
) -> None:
    text = solve(TINY, tmp_path / "w2", "--previous", tiny_week1, "--workers", 1)
    assert "not in the previous plan" not in text


# --- previous-xlsx-formula-cells-ignored, and cells that do not hold what they show


def formula_in(user: str, column: str, formula: str) -> Callable[[Any, dict], None]:
    def change(sheet: Any, columns: dict[str, int]) -> None:
        sheet.cell(row_of(sheet, columns, user), columns[column]).value = formula

    return change


@pytest.mark.parametrize(
    ("user", "column", "formula"),
    [
        ("u3", "lock", '=IF(TRUE,"fix","")'),  # the case's two cells
        ("u5", "advisor", '="a"&"3"'),
        ("u6", "user", '="u"&"6"'),  # more of the kind: any column read
        ("u7", "since", "=TODAY()"),
        ("u4", "team", '=LOWER("T-FOLLOW")'),
    ],
)
def test_case_formula_without_value_in_the_previous_workbook_is_located(
    tiny_week1: Path, tmp_path: Path, user: str, column: str, formula: str
) -> None:
    edited = edit_workbook(
        tiny_week1 / "allocation.xlsx",
        tmp_path / "edited.xlsx",
        formula_in(user, column, formula),
    )
    row = (
        row_of(
            openpyxl.load_workbook(edited)["assignments"],
            {
                c.value: c.column
                for c in openpyxl.load_workbook(edited)["assignments"][1]
            },
            user,
        )
        if column != "user"
        else None
    )
    code, text = run(
        "solve", TINY, "--previous", edited, "--out", tmp_path / "o", "--time-limit", 1
    )
    assert code == 1
    line = next(line for line in text.splitlines() if "formula" in line)
    assert line.strip().startswith("edited.xlsx[assignments], row ")
    assert f", column {column}: expected a value, found a formula saved without" in line
    if row is not None:
        assert f"row {row}," in line
    assert not (tmp_path / "o").exists()
    # check --previous reads the plan as strictly, and says so.
    code, text = run("check", TINY, tiny_week1, "--previous", edited)
    assert code == 1 and "formula saved without its computed value" in text


def test_a_formula_error_merged_cells_and_hidden_rows_are_located(
    tiny_week1: Path, tmp_path: Path
) -> None:
    source = tiny_week1 / "allocation.xlsx"

    def error(sheet: Any, columns: dict[str, int]) -> None:
        cell = sheet.cell(row_of(sheet, columns, "u2"), columns["advisor"])
        cell.value = "#REF!"
        cell.data_type = "e"

    def merged(sheet: Any, columns: dict[str, int]) -> None:
        column = columns["advisor"]
        first = row_of(sheet, columns, "u5")
        sheet.merge_cells(
            start_row=first, end_row=first + 1, start_column=column, end_column=column
        )

    def hidden(sheet: Any, columns: dict[str, int]) -> None:
        sheet.row_dimensions[row_of(sheet, columns, "u4")].hidden = True

    for name, change, expected in (
        ("error", error, "column advisor: expected a value, found the formula error"),
        (
            "merged",
            merged,
            "column advisor: expected a value in every cell, found "
            "this cell part of the merged cells",
        ),
        ("hidden", hidden, "expected every row visible, found this row hidden"),
    ):
        edited = edit_workbook(source, tmp_path / f"{name}.xlsx", change)
        code, text = run(
            "solve",
            TINY,
            "--previous",
            edited,
            "--out",
            tmp_path / name,
            "--time-limit",
            1,
        )
        assert code == 1, (name, text)
        assert f"{name}.xlsx[assignments], row " in text, text
        assert expected in text, text


# --- a header row deleted -----------------------------------------------------


def test_a_deleted_header_row_is_named_as_such(
    tiny_week1: Path, tmp_path: Path
) -> None:
    edited = edit_workbook(
        tiny_week1 / "allocation.xlsx",
        tmp_path / "nohead.xlsx",
        lambda sheet, columns: sheet.delete_rows(1, 1),
    )
    code, text = run("solve", TINY, "--previous", edited, "--out", tmp_path / "a")
    assert code == 1
    assert (
        "nohead.xlsx[assignments], row 1: the header row is missing from the "
        "assignments sheet"
    ) in text
    assert "twice" not in text
    # The same in a folder's assignments.csv.
    folder = tmp_path / "w1"
    shutil.copytree(tiny_week1, folder)
    path = folder / "assignments.csv"
    path.write_text(
        "".join(path.read_text(encoding="utf-8-sig").splitlines(keepends=True)[1:]),
        encoding="utf-8",
    )
    code, text = run("solve", TINY, "--previous", folder, "--out", tmp_path / "b")
    assert code == 1
    assert "w1/assignments.csv, row 1: the header row is missing from this file" in text
    assert "twice" not in text


def test_an_empty_user_cell_in_a_plan_is_located(
    tiny_week1: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "w1"
    shutil.copytree(tiny_week1, folder)
    path = folder / "assignments.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    lines[3] = "," + lines[3].split(",", 1)[1]
    path.write_text("".join(lines), encoding="utf-8")
    code, text = run("solve", TINY, "--previous", folder, "--out", tmp_path / "o")
    assert code == 1
    assert "w1/assignments.csv, row 4, column user: expected a user id" in text
