"""What the tool writes is safe and well-formed whatever the input held.

Headers are neutralised like data cells, cells with CR or LF stay one row,
the workbook writer never refuses a cell, summary.json is strict JSON, and a
name from the input never becomes a path outside solutions/.
"""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from allocator.cli import main
from allocator.errors import DataWarning
from allocator.io.names import is_plain_name, plain_name_problem
from allocator.io.write import csv_text, neutralise, strict_json
from allocator.io.xlsx import MAX_CELL
from allocator.run import default_run_folder
from tests.helpers import advisor, instance, user
from tests.shipped import copy_of
from tests.xlsx_sheets import workbook_bytes

CASES = Path(__file__).parents[1] / "data" / "cases"
TINY = Path(__file__).parents[2] / "instances" / "tiny"


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def strict(text: str) -> object:
    """json.loads that refuses NaN and Infinity, as JavaScript's JSON.parse does."""

    def refuse(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


# --- Headers and cells ---------------------------------------------------------


def test_formula_in_column_header_case(tmp_path):
    """The case: a carried column named =HYPERLINK(...) is text in CSV and xlsx."""
    code, _, stderr = run(
        "solve", CASES / "formula-in-column-header", "--out", tmp_path / "s",
        "--xlsx", "--time-limit", "5",
    )  # fmt: skip
    assert code == 0, stderr
    with open(tmp_path / "s" / "assignments.csv", newline="") as handle:
        header = next(csv.reader(handle))
    assert header[10] == '\'=HYPERLINK("http://example.invalid/","open")'
    assert not [h for h in header if h.startswith(("=", "+", "-", "@"))]
    sheet = load_workbook(tmp_path / "s" / "allocation.xlsx")["assignments"]
    formula = '=HYPERLINK("http://example.invalid/","open")'
    headers = [c for c in sheet[1] if c.value == formula]
    assert len(headers) == 1 and headers[0].data_type == "s"
    with zipfile.ZipFile(tmp_path / "s" / "allocation.xlsx") as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and all("<f>" not in book.read(n).decode() for n in sheets)


@pytest.mark.parametrize(
    ("header", "written"),
    [
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+1+2", "'+1+2"),
        ("-cmd", "'-cmd"),
        ("\tcmd", "'\tcmd"),
        ("\r=1", '"\'\r=1"'),
        ("plain", "plain"),
    ],
)
def test_every_formula_start_in_a_header_is_neutralised(header, written):
    text = csv_text([{header: "x"}], [header])
    assert text == f"{written}\nx\n"


def test_cells_with_cr_or_lf_are_quoted_and_stay_one_row():
    values = ["one\rtwo", "three\nfour", "five\r\nsix", "seven"]
    text = csv_text([{"note": v} for v in values], ["note"])
    assert text == 'note\n"one\rtwo"\n"three\nfour"\n"five\r\nsix"\nseven\n'
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["note"], *([v] for v in values)]


def test_carried_cell_with_a_carriage_return_round_trips(tmp_path):
    """End to end: a users.csv note holding a CR is one row in assignments.csv."""
    folder = tmp_path / "tiny"
    copy_of("tiny", folder)
    users = (folder / "users.csv").read_text().splitlines()
    users[0] += ",note"
    users[1] += ',"line one\rline two"'
    users[2:] = [line + "," for line in users[2:]]
    (folder / "users.csv").write_text("\n".join(users) + "\n")
    code, _, stderr = run("solve", folder, "--out", tmp_path / "s", "--time-limit", "5")
    assert code == 0, stderr
    with open(tmp_path / "s" / "assignments.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(users) - 1
    assert rows[0]["note"] == "line one\rline two"
    assert run("check", folder, tmp_path / "s")[0] == 0


def test_neutralise_leaves_plain_text_alone():
    assert neutralise("u1") == "u1"
    assert neutralise("=1") == "'=1"
    assert neutralise("\r") == "'\r"


# --- The workbook writer -------------------------------------------------------


def test_control_characters_never_crash_the_workbook():
    """A vertical tab in a cell and a header: left out, with a located warning."""
    rows = [
        {"user": "u1", "note\x0b": "ok"},
        {"user": "u2", "note\x0b": "bad\x0bcell\x00"},
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = workbook_bytes({"assignments": (["user", "note\x0b"], rows)})
    sheet = load_workbook(io.BytesIO(data))["assignments"]
    assert [c.value for c in sheet[1]] == ["user", "note"]
    assert sheet["B3"].value == "badcell"
    messages = [str(w.message) for w in caught if w.category is DataWarning]
    assert messages == [
        "allocation.xlsx, sheet assignments, column note, row 1, 3: control "
        "characters a workbook cannot hold were left out; the CSV files keep "
        "the cells whole."
    ]
    assert "bad" not in messages[0]


def test_a_cell_longer_than_excel_holds_is_cut_with_a_warning():
    rows = [{"note": "x" * (MAX_CELL + 10)}]
    with pytest.warns(DataWarning, match="row 2: the text was cut at 32,767"):
        data = workbook_bytes({"s": (["note"], rows)})
    assert len(load_workbook(io.BytesIO(data))["s"]["A2"].value) == MAX_CELL


def test_control_char_case_solves_without_a_traceback(tmp_path):
    """The case: u2's note holds a vertical tab. Reading may reject it (exit 1,
    located, without the value) or the workbook leaves it out (exit 0)."""
    out = tmp_path / "s"
    result = CliRunner().invoke(
        main,
        ["solve", str(CASES / "control-char-xlsx-traceback"), "--out", str(out),
         "--xlsx", "--time-limit", "5"],
    )  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "badcell" not in result.output
    if result.exit_code == 0:
        note = load_workbook(out / "allocation.xlsx")["assignments"]
        cells = {row[0].value: row for row in note.iter_rows(min_row=2)}
        header = [c.value for c in note[1]]
        assert cells["u2"][header.index("note")].value == "badcell"
        assert "sheet assignments, column note, row 3" in result.stderr
        assert "bad\x0bcell" in (out / "assignments.csv").read_text()
    else:
        assert result.exit_code == 1
        assert "users.csv" in result.stderr and "note" in result.stderr
        assert not out.exists()


# --- summary.json --------------------------------------------------------------


def test_strict_json_turns_non_finite_numbers_into_null():
    data = {"a": math.nan, "b": [math.inf, 1.5], "c": {"d": -math.inf, "e": "x"}}
    assert strict(strict_json(data)) == {
        "a": None, "b": [None, 1.5], "c": {"d": None, "e": "x"},
    }  # fmt: skip


def test_summary_json_of_a_solve_is_strict(tmp_path):
    code, _, _ = run("solve", TINY, "--out", tmp_path / "s", "--solver", "greedy")
    assert code == 0
    summary = strict((tmp_path / "s" / "summary.json").read_text())
    assert isinstance(summary, dict)
    # The greedy proves no bound: null, never NaN.
    assert summary["bound"] is None and summary["gap"] is None


# --- Names that become paths ---------------------------------------------------


def test_instance_name_escaping_solutions_is_rejected(tmp_path, monkeypatch):
    """The case: name = "../../escaped", solved without --out from a deep cwd."""
    cwd = tmp_path / "a" / "b" / "cwd"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    code, _, stderr = run("solve", CASES / "instance-name-escapes-solutions", "--quiet")
    assert code == 1
    assert (
        "instance.toml, column name: expected a plain folder name (no / or \\: a "
        'name, not a path), found "../../escaped".'
    ) in stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b", "cwd"]


@pytest.mark.parametrize(
    "name",
    ["/srv/share/x", "..", ".", ".hidden", "a\\b", "C:x", "tab\there", "x.", ""],
)
def test_names_that_are_not_plain_folder_names(name):
    assert not is_plain_name(name)
    assert plain_name_problem(name)


@pytest.mark.parametrize(
    "name", ["hallingdal", "Nord-Fron 2026", "tromsø_uke48", "a.b"]
)
def test_plain_names_are_accepted(name):
    assert is_plain_name(name)


@pytest.mark.parametrize("bad", ["/srv/share/x", "../../x"])
def test_validate_rejects_a_path_as_name(tmp_path, bad):
    folder = tmp_path / "tiny"
    copy_of("tiny", folder)
    toml = folder / "instance.toml"
    lines = toml.read_text().splitlines()
    lines = [f'name = "{bad}"' if line.startswith("name =") else line for line in lines]
    toml.write_text("\n".join(lines) + "\n")
    code, _, stderr = run("validate", folder)
    assert code == 1 and "column name: expected a plain folder name" in stderr


def test_default_run_folder_stays_under_solutions_for_a_name_built_in_code():
    """The API accepts Instance objects built in code; their name is reduced."""
    built = instance([user("u1")], [advisor("a1")]).model_copy(
        update={"name": "../../etc/x"}
    )
    folder = default_run_folder(built)
    assert folder.parts[0] == "solutions" and ".." not in folder.parts
    assert folder.parts[1] == "etc_x"
    assert len(folder.parts) == 3
