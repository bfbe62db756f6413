"""Each kind of odd input the field cases stand for, beyond those files.

Encodings and dialects Excel and case systems write, rows a quote swallows,
cells a workbook shows but does not hold, numbers and ids Excel changed, ids
in other Unicode forms or with invisible characters, hostile sizes, and
values beyond what the model represents. Each is read right or rejected with
its file, row and column.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import tomllib
import unicodedata
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from allocator.domain import Instance, Lock
from allocator.errors import DataWarning, InputProblem, InstanceError
from allocator.io.previous import arrivals, leavers, read_previous
from allocator.io.read import read_instance, toml_nesting
from allocator.io.tables import (
    CellError,
    detect_delimiter,
    normalise_id,
    parse_csv,
    parse_decimal,
    parse_id,
    parse_int,
    visible,
)

TINY = Path(__file__).parents[1] / "data" / "cases" / "wide-header-slow" / "tiny"
TABLES = ("municipalities", "teams", "advisors", "users", "travel")


def copy_tiny(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    return folder


def text_of(folder: Path, name: str) -> str:
    return (folder / name).read_text(encoding="utf-8")


def replace(folder: Path, name: str, old: str, new: str) -> None:
    text = text_of(folder, name)
    assert text.count(old) == 1, f"{old!r} must occur once in {name}"
    (folder / name).write_text(text.replace(old, new), encoding="utf-8")


def semicolons(folder: Path, name: str) -> None:
    """Rewrite a plain ',' table as Norwegian Excel's ';' export."""
    text = text_of(folder, name)
    (folder / name).write_text(text.replace(",", ";"), encoding="utf-8")


def read(folder: Path, *locks: Lock) -> Instance:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return read_instance(folder, extra_locks=locks)


def read_warned(folder: Path) -> tuple[Instance, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        instance = read_instance(folder)
    return instance, [str(w.message) for w in caught]


def problems(folder: Path, *locks: Lock) -> list[InputProblem]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        with pytest.raises(InstanceError) as caught:
            read_instance(folder, extra_locks=locks)
    return caught.value.problems


@pytest.fixture(scope="module")
def tiny() -> Instance:
    return read(TINY)


# --- Encodings ------------------------------------------------------------------

NORWEGIAN = ["Sørbygd", "Bærum", "Håkonsby", "Ål", "Øystre Slidre", "Åsnes", "Æsøy"]


@pytest.mark.parametrize("name", NORWEGIAN)
@pytest.mark.parametrize(
    ("codec", "called"), [("mac_roman", "MacRoman"), ("cp1252", "Windows-1252")]
)
def test_legacy_code_pages_read_and_named(
    tmp_path: Path, name: str, codec: str, called: str
) -> None:
    """Names survive MacRoman and Windows-1252; the warning names the one used."""
    folder = copy_tiny(tmp_path)
    text = text_of(folder, "municipalities.csv").replace("Sørbygd", name)
    (folder / "municipalities.csv").write_bytes(text.encode(codec))
    instance, messages = read_warned(folder)
    assert instance.municipalities[1].name == name
    assert f"municipalities.csv is not UTF-8; it was read as {called}." in messages


def test_excel_unicode_text(tmp_path: Path, tiny: Instance) -> None:
    """Excel's "Unicode Text": UTF-16 with a byte-order mark, tab-separated."""
    folder = copy_tiny(tmp_path)
    text = text_of(folder, "users.csv").replace(",", "\t")
    (folder / "users.csv").write_bytes(text.encode("utf-16"))
    instance, messages = read_warned(folder)
    assert instance.users == tiny.users
    assert messages == []


def test_utf16_without_bom_read_with_warning(tmp_path: Path, tiny: Instance) -> None:
    folder = copy_tiny(tmp_path)
    text = text_of(folder, "municipalities.csv")
    (folder / "municipalities.csv").write_bytes(text.encode("utf-16-le"))
    instance, messages = read_warned(folder)
    assert instance.municipalities == tiny.municipalities
    assert "municipalities.csv is not UTF-8; it was read as UTF-16." in messages


def test_cr_only_line_ends(tmp_path: Path, tiny: Instance) -> None:
    """Old Mac Excel ends lines with CR alone."""
    folder = copy_tiny(tmp_path)
    for name in ("users.csv", "advisors.csv"):
        text = text_of(folder, name).replace("\n", "\r")
        (folder / name).write_bytes(text.encode("utf-8"))
    assert read(folder) == tiny.model_copy(
        update={"input_sha256": read(folder).input_sha256}
    )


# --- Dialects -------------------------------------------------------------------


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_sep_hint_line_any_delimiter(tmp_path: Path, tiny: Instance, sep: str) -> None:
    folder = copy_tiny(tmp_path)
    text = text_of(folder, "users.csv").replace(",", sep)
    (folder / "users.csv").write_text(f"sep={sep}\n{text}", encoding="utf-8")
    instance = read(folder)
    assert [u.model_copy(update={"row": 0}) for u in instance.users] == [
        u.model_copy(update={"row": 0}) for u in tiny.users
    ]
    assert instance.users[0].row == 3


def test_tab_file_decimal_comma_and_grouping(tmp_path: Path) -> None:
    """Excel's "Text (tab delimited)" in Norwegian: 0,5 and 1 200 read."""
    folder = copy_tiny(tmp_path)
    for name in ("advisors.csv", "municipalities.csv"):
        text = text_of(folder, name).replace(",", "\t")
        (folder / name).write_text(text, encoding="utf-8")
    replace(folder, "advisors.csv", "sor\t0.5", "sor\t0,5")
    replace(folder, "municipalities.csv", "\t1200\t", "\t1\u00a0200\t")
    instance = read(folder)
    assert instance.advisors[2].fte == 0.5
    assert instance.municipalities[0].population == 1200


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("id,name,fte\na1,Kari,1\n", ","),
        ("id;name;fte\na1;Kari;0,8\n", ";"),
        ("id\tname\tfte\na1\tKari\t0,8\n", "\t"),
        ('id;name\na1;"Nordmann, Kari"\na2;"Li, Ola"\n', ";"),
        ('id,needs\nu1,"a;b"\nu2,"c;d"\n', ","),
        ("id,name\n", ","),
        ("id;name\r", ";"),
    ],
)
def test_delimiter_detection(text: str, delimiter: str) -> None:
    assert detect_delimiter(text) == delimiter


def test_title_row_above_header_skipped(tmp_path: Path, tiny: Instance) -> None:
    folder = copy_tiny(tmp_path)
    text = text_of(folder, "users.csv")
    (folder / "users.csv").write_text("Brukere uke 48,,,\n\n" + text, encoding="utf-8")
    instance, messages = read_warned(folder)
    assert [u.id for u in instance.users] == [u.id for u in tiny.users]
    assert instance.users[0].row == 4
    assert (
        "users.csv: row(s) 1 above the header (row 3) hold a title only and were "
        "skipped."
    ) in messages


def test_rows_above_header_that_are_no_title(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    text = text_of(folder, "users.csv")
    (folder / "users.csv").write_text("Export,2026-11-29\n" + text, encoding="utf-8")
    (problem,) = problems(folder)
    assert str(problem) == (
        "users.csv, row 1: expected the header (the column names) in the first "
        "row, found it on row 2; delete the rows above it."
    )


def test_workbook_title_row_merged_above_header(tmp_path: Path) -> None:
    """A merged title over the header is skipped; the table reads."""

    def title(book: Any) -> None:
        sheet = book["users"]
        sheet.insert_rows(1)
        sheet["A1"] = "Brukere uke 48"
        sheet.merge_cells("A1:L1")

    folder = workbook(tmp_path, title)
    instance, messages = read_warned(folder)
    assert [u.row for u in instance.users] == list(range(3, 10))
    assert any("above the header (row 2)" in m for m in messages)


@pytest.mark.parametrize(
    ("sep", "hint"),
    [(",", False), (";", True)],
)
def test_quoting_hint_only_in_semicolon_files(
    tmp_path: Path, sep: str, hint: bool
) -> None:
    folder = copy_tiny(tmp_path)
    replace(
        folder,
        "advisors.csv",
        "a3,Advisor Three,t-follow,state,sor,0.5,1,,,true",
        "a3,Advisor Three,t-follow,state,sor,0.5,1,,,true,x",
    )
    if sep == ";":
        semicolons(folder, "advisors.csv")
    (problem,) = problems(folder)
    assert (problem.file, problem.row, problem.column) == ("advisors.csv", 4, "11")
    assert ("must be quoted" in problem.message) is hint
    assert "expected at most 10 columns as in the header" in problem.message


# --- Rows a quote swallows, long cells ------------------------------------------


def test_unterminated_quote_in_advisor_names(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    text = text_of(folder, "advisors.csv")
    lines = text.splitlines()
    header = lines[0].replace("name,", "") + ",name"
    rows = [
        line.replace(",Advisor One", "")
        .replace(",Advisor Two", "")
        .replace(",Advisor Three", "")
        for line in lines[1:]
    ]
    rows = [
        f"{row},{name}" for row, name in zip(rows, ['"Kari', "Ola", "Per"], strict=True)
    ]
    (folder / "advisors.csv").write_text("\n".join([header, *rows]) + "\n")
    (problem,) = problems(folder)
    assert (problem.file, problem.row, problem.column) == ("advisors.csv", 2, None)
    assert "a quote opened in row 2 (line 2) that is never closed" in problem.message


def test_quote_closed_rows_later(tmp_path: Path) -> None:
    """Two stray quotes enclose three rows: rejected, not read as one note."""
    folder = copy_tiny(tmp_path)
    text = text_of(folder, "users.csv").splitlines()
    text[0] += ",note"
    text = [text[0]] + [line + "," for line in text[1:]]
    text[2] += '"abc'
    text[5] += 'def"'
    (folder / "users.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    (problem,) = problems(folder)
    assert str(problem) == (
        "users.csv, row 3, column note: expected one row per line, found a quoted "
        "cell that runs from line 3 to line 6 and holds 3 line(s) that look like "
        "rows; a quote in this row is closed only there. Close it where the cell "
        "ends, or remove it."
    )


def test_text_after_closing_quote(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    replace(folder, "advisors.csv", "Advisor Two", '"Advisor" Two')
    (problem,) = problems(folder)
    assert (problem.file, problem.row) == ("advisors.csv", 3)
    assert "found more text after it (line 3)" in problem.message


def test_multiline_note_is_fine(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    text = text_of(folder, "users.csv").splitlines()
    text = [text[0] + ",note"] + [line + "," for line in text[1:]]
    text[2] += '"first line\nsecond, line"'
    (folder / "users.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    instance = read(folder)
    assert instance.users[1].extra == {"note": "first line\nsecond, line"}
    assert len(instance.users) == 7


def test_cell_longer_than_excel_allows(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    text = text_of(folder, "users.csv").splitlines()
    text = [text[0] + ",note"] + [line + "," for line in text[1:]]
    text[3] += "x" * 40_000
    (folder / "users.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    (problem,) = problems(folder)
    assert str(problem) == (
        "users.csv, row 4, column note: expected at most 32767 characters in a "
        "cell (Excel's limit), found 40000."
    )


def test_unclosed_quote_beyond_csv_field_limit(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    text = text_of(folder, "users.csv").splitlines()
    text = [text[0] + ",note"] + [line + "," for line in text[1:]]
    text[1] += '"' + "y" * 200_000
    (folder / "users.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    (problem,) = problems(folder)
    assert (problem.row, problem.column) == (2, None)
    assert "a cell starting in row 2 (line 2) that runs on much longer" in (
        problem.message
    )


# --- Numbers Excel formatted ----------------------------------------------------


@pytest.mark.parametrize("separator", [" ", "\u00a0", "\u202f"])
def test_thousands_separators_in_semicolon_files(
    tmp_path: Path, separator: str
) -> None:
    folder = copy_tiny(tmp_path)
    replace(folder, "municipalities.csv", ",1200,", f",1{separator}200,")
    replace(folder, "travel.csv", "nord,sor,30", f"nord,sor,1{separator}030,5")
    semicolons(folder, "municipalities.csv")
    replace(folder, "municipalities.csv", "61.00", "61,00")
    replace(folder, "municipalities.csv", "60.80", "60,80")
    replace(folder, "municipalities.csv", "9.00", "9,00")
    replace(folder, "municipalities.csv", "9.10", "9,10")
    text = text_of(folder, "travel.csv").replace(",", ";").replace(";5", ",5")
    (folder / "travel.csv").write_text(text, encoding="utf-8")
    instance = read(folder)
    assert instance.municipalities[0].population == 1200
    assert instance.travel["nord", "sor"] == 1030.5


def test_thousands_separator_in_comma_file_named(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    replace(folder, "municipalities.csv", ",1200,", ",1\u00a0200,")
    (problem,) = problems(folder)
    assert str(problem) == (
        "municipalities.csv, row 2, column population: expected a whole number "
        "without spaces or thousands separators (this file is ','-separated; "
        'write 1200, not 1 200), found "1\\u00a0200".'
    )


def test_space_that_is_no_thousands_separator() -> None:
    with pytest.raises(CellError, match="holds a space that is not a thousands"):
        parse_int("12 34", grouped=True)


@pytest.mark.parametrize("written", ["80 %", "80%", "80\u00a0%", "80,0 %"])
def test_percentages_for_fte_and_share(tmp_path: Path, written: str) -> None:
    folder = copy_tiny(tmp_path)
    semicolons(folder, "advisors.csv")
    replace(
        folder,
        "advisors.csv",
        "a1;Advisor One;t-assess;state;nord;1;1",
        f"a1;Advisor One;t-assess;state;nord;{written};65 %",
    )
    advisor = read(folder).advisors[0]
    assert (advisor.fte, advisor.casework_share) == (pytest.approx(0.8), 0.65)


def test_percentage_weight_rejected_without_value(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    replace(
        folder,
        "users.csv",
        "u7,nord,58,0,,active,false,2,",
        "u7,nord,58,0,,active,false,80 %,",
    )
    (problem,) = problems(folder)
    assert str(problem) == (
        "users.csv, row 8, column weight: expected a decimal number, not a "
        "percentage; the value is not shown (user data)."
    )


@pytest.mark.parametrize("written", ['"1,23457E+11"', "1.23457E+11", "1.2E+05"])
def test_scientific_notation_households_never_merged(
    tmp_path: Path, written: str
) -> None:
    """Two households Excel printed as one rounded number are rejected, both."""
    folder = copy_tiny(tmp_path)
    replace(
        folder,
        "users.csv",
        "u5,sor,60,0,,active,false,1,,,,",
        f"u5,sor,60,0,,active,false,1,,,{written},",
    )
    replace(
        folder,
        "users.csv",
        "u6,sor,33,2,,active,false,1,,,,",
        f"u6,sor,33,2,,active,false,1,,,{written},",
    )
    found = problems(folder)
    assert [(p.row, p.column) for p in found] == [(6, "household"), (7, "household")]
    assert "scientific notation" in found[0].message
    assert "E+" not in found[0].message  # users.csv: the value stays out


def test_scientific_notation_id_rejected() -> None:
    with pytest.raises(CellError, match="scientific notation"):
        parse_id("1,23457E+11")
    assert parse_id("E12") == "E12"  # an id that merely has an E


def test_huge_and_non_finite_numbers() -> None:
    with pytest.raises(CellError, match="at most 15 digits"):
        parse_int("9" * 5000)
    with pytest.raises(CellError, match="a finite decimal"):
        parse_decimal("1e400", decimal_comma=False)


# --- Ids Excel turned into numbers -----------------------------------------------


def test_leading_zeros_in_reference_columns(tmp_path: Path) -> None:
    """Team, travel and lock references that lost zeros; each told once."""
    folder = copy_tiny(tmp_path)
    for name in ("municipalities.csv", "advisors.csv", "users.csv", "travel.csv"):
        text = text_of(folder, name).replace("nord", "0301")
        (folder / name).write_text(text, encoding="utf-8")
    replace(
        folder,
        "teams.csv",
        "t-follow,Follow-up,follow_up,",
        "t-follow,Follow-up,follow_up,301",
    )
    replace(folder, "travel.csv", "0301,sor,30", "301,sor,30")
    found = problems(folder, Lock(user="u1", advisor="a1", kind="fix"))
    assert [(p.file, p.row, p.column) for p in found] == [
        ("teams.csv", 3, "municipalities"),
        ("travel.csv", 2, "from"),
    ]
    assert str(found[0]) == (
        "teams.csv, row 3, column municipalities: expected municipality ids from "
        "municipalities.csv, found 301 that is not there, but 0301 is: Excel drops "
        "the leading zeros of ids that look like numbers. Format the column as "
        "Text in Excel (or write the ids in full) and export again."
    )


def test_leading_zeros_user_municipality_value_hidden(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    for name in ("municipalities.csv", "advisors.csv", "travel.csv", "users.csv"):
        text = text_of(folder, name).replace("nord", "0301")
        (folder / name).write_text(text, encoding="utf-8")
    replace(folder, "users.csv", "u7,0301,", "u7,301,")
    (problem,) = problems(folder)
    assert (problem.row, problem.column) == (8, "municipality")
    assert "found an id that is not there, but 0301 is" in problem.message
    assert " 301 " not in problem.message


# --- Ids in any Unicode form, invisible characters -----------------------------------


def test_nfc_and_nfd_ids_are_duplicates(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    nfc, nfd = "H\u00e5kon", unicodedata.normalize("NFD", "H\u00e5kon")
    replace(folder, "users.csv", "u1,nord", f"{nfc},nord")
    replace(folder, "users.csv", "u2,sor", f"{nfd},sor")
    (problem,) = problems(folder)
    assert str(problem) == (
        'users.csv, row 3, column id: expected a unique id, found "H\u00e5kon" '
        "again (first in row 2; the two are written differently but are the same "
        "id once invisible characters are removed and both are in one Unicode "
        "form (NFC))."
    )


def test_nfd_references_match_nfc_ids(tmp_path: Path) -> None:
    """Municipality "Sør" as NFC in one file and NFD in another is one id."""
    folder = copy_tiny(tmp_path)
    nfd = unicodedata.normalize("NFD", "s\u00f8r\u00e5")
    for name in ("municipalities.csv", "travel.csv"):
        text = text_of(folder, name).replace("sor,", "s\u00f8r\u00e5,")
        text = text.replace(",sor", ",s\u00f8r\u00e5")
        (folder / name).write_text(text, encoding="utf-8")
    for name in ("advisors.csv", "users.csv"):
        text = text_of(folder, name).replace(",sor,", f",{nfd},")
        (folder / name).write_text(text, encoding="utf-8")
    instance = read(folder)
    assert {u.municipality for u in instance.users} == {"nord", "s\u00f8r\u00e5"}
    assert instance.advisors[2].base == "s\u00f8r\u00e5"


def test_zero_width_characters_stripped_with_warning(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    replace(folder, "advisors.csv", "a2,Advisor Two", "a2\u200b,Advisor Two")
    replace(
        folder,
        "users.csv",
        "u7,nord,58,0,,active,false,2,,",
        "u7,nord,58,0,,active,false,2,a2\u2060,",
    )
    instance, messages = read_warned(folder)
    assert instance.advisors[1].id == "a2"
    assert instance.users[6].current_advisor == "a2"
    assert (
        "advisors.csv, column id: removed the invisible character(s) U+200B (zero "
        "width space) from the ids in row(s) 3; the ids are compared without them."
    ) in messages
    assert any("column current_advisor" in m and "U+2060" in m for m in messages)
    assert not any("has left" in m for m in messages)


def test_emoji_id_keeps_its_joiners() -> None:
    family = "\U0001f469\u200d\U0001f469\u200d\U0001f467"
    assert parse_id(family) == family
    assert normalise_id("u1\u200b") == "u1"


def test_visible_shows_invisible_characters() -> None:
    assert visible("u1\u200b") == "u1\\u200b"
    assert visible("a\u00a0b\tc") == "a\\u00a0b\\tc"
    assert visible("S\u00f8r") == "S\u00f8r"


def test_toml_id_with_invisible_character_rejected(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    replace(
        folder,
        "instance.toml",
        'id = "social_assistance"',
        'id = "social_assistance\u200b"',
    )
    found = problems(folder)
    assert str(found[0]) == (
        "instance.toml, column competence[1].id: expected an id (a non-empty "
        'string without ";" or invisible characters), found '
        '"social_assistance\\u200b".'
    )


def test_toml_nfd_competence_matches_nfc_needs(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    nfd = unicodedata.normalize("NFD", "gj\u00e6ld")
    replace(folder, "instance.toml", 'id = "social_assistance"', f'id = "{nfd}"')
    text = text_of(folder, "users.csv").replace("social_assistance", "gj\u00e6ld")
    (folder / "users.csv").write_text(text, encoding="utf-8")
    replace(folder, "advisors.csv", "social_assistance", "gj\u00e6ld")
    instance = read(folder)
    assert instance.competences[0].id == "gj\u00e6ld"
    assert instance.users[2].needs == ("gj\u00e6ld",)


def test_fix_lock_in_nfd_matches(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    replace(folder, "users.csv", "u1,nord", "H\u00e5kon,nord")
    nfd = unicodedata.normalize("NFD", "H\u00e5kon")
    instance = read(folder, Lock(user=nfd, advisor="a1", kind="fix", source="--fix"))
    assert instance.locks[-1].user == "H\u00e5kon"


def test_previous_ids_normalised(tmp_path: Path, tiny: Instance) -> None:
    previous = tmp_path / "previous"
    previous.mkdir()
    nfd = unicodedata.normalize("NFD", "H\u00e5kon")
    (previous / "assignments.csv").write_text(
        f"user,team,advisor\n{nfd},t-follow,a2\nu2\u200b,t-assess,a1\n",
        encoding="utf-8",
    )
    plan = read_previous(previous)
    assert plan.advisor == {"H\u00e5kon": "a2", "u2": "a1"}
    assert "u2" not in arrivals(tiny, plan)
    assert leavers(tiny, plan) == ["H\u00e5kon"]


# --- Workbooks: cells that do not hold what they show -----------------------------


def workbook(tmp_path: Path, change: Callable[[Any], None]) -> Path:
    """tiny as caseload.xlsx, with ``change`` applied to the book before saving."""
    folder = tmp_path / "book"
    folder.mkdir()
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in TABLES:
        sheet = book.create_sheet(name)
        for line in text_of(TINY, f"{name}.csv").splitlines():
            sheet.append(line.split(","))
    change(book)
    book.save(folder / "caseload.xlsx")
    toml = text_of(TINY, "instance.toml")
    (folder / "instance.toml").write_text(f'workbook = "caseload.xlsx"\n{toml}')
    return folder


def test_workbook_twin_of_tiny(tmp_path: Path, tiny: Instance) -> None:
    instance = read(workbook(tmp_path, lambda book: None))
    assert [u.model_copy() for u in instance.users] == list(tiny.users)


def test_formula_without_computed_value(tmp_path: Path) -> None:
    def formula(book: Any) -> None:
        book["users"]["H4"] = "=1+1"

    (problem,) = problems(workbook(tmp_path, formula))
    assert str(problem) == (
        "caseload.xlsx[users], row 4, column weight: expected a value, found a "
        "formula saved without its computed value (the program that saved the "
        "workbook does not calculate); open and save it in Excel, or paste the "
        "values."
    )


def patch_sheet(book_path: Path, sheet: str, pattern: str, new: str) -> None:
    """Rewrite one sheet's XML in a saved workbook (what Excel would store).

    ``pattern`` is a regular expression: openpyxl writes an empty value as
    ``<v/>``, ``<v />`` or ``<v></v>`` depending on its XML backend.
    """
    with zipfile.ZipFile(book_path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml, count = re.subn(pattern, new, parts[sheet].decode("utf-8"))
    assert count == 1, pattern
    parts[sheet] = xml.encode("utf-8")
    with zipfile.ZipFile(book_path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_formula_with_computed_value_is_read(tmp_path: Path) -> None:
    """A formula Excel calculated reads as its value, "" included."""

    def formulas(book: Any) -> None:
        book["users"]["H4"] = "=1+1"
        book["users"]["M1"] = "note"
        book["users"]["M5"] = '=IF(TRUE,"","x")'

    folder = workbook(tmp_path, formulas)
    book = folder / "caseload.xlsx"
    sheet = "xl/worksheets/sheet4.xml"
    patch_sheet(book, sheet, r"<f>1\+1</f><v(?: ?/>|></v>)", "<f>1+1</f><v>2</v>")
    patch_sheet(book, sheet, r'<c r="M5"><f>', '<c r="M5" t="str"><f>')
    instance = read(folder)
    assert instance.users[2].weight == 2
    assert instance.users[3].extra == {"note": ""}


def test_formula_error_value(tmp_path: Path) -> None:
    def error(book: Any) -> None:
        book["advisors"]["F3"] = "#N/A"

    found = problems(workbook(tmp_path, error))
    assert str(found[0]) == (
        "caseload.xlsx[advisors], row 3, column fte: expected a value, found the "
        "formula error #N/A; fix the formula."
    )


def test_hidden_rows_rejected(tmp_path: Path) -> None:
    def hide(book: Any) -> None:
        book["users"].row_dimensions[5].hidden = True
        book["users"].row_dimensions[7].hidden = True

    (problem,) = problems(workbook(tmp_path, hide))
    assert str(problem) == (
        "caseload.xlsx[users], row 5: expected every row visible, found this row "
        "hidden by a filter or Hide (and 1 more hidden rows); unhide them, or "
        "delete the rows that should not be read."
    )


def test_hidden_sheet_rejected(tmp_path: Path) -> None:
    def hide(book: Any) -> None:
        book["travel"].sheet_state = "hidden"

    (problem,) = problems(workbook(tmp_path, hide))
    assert str(problem) == (
        "caseload.xlsx[travel]: expected a visible sheet, found it hidden; unhide "
        "it (right-click a sheet tab, Unhide), or delete it if it should not be read."
    )


def test_hidden_column_read_with_warning(tmp_path: Path, tiny: Instance) -> None:
    def hide(book: Any) -> None:
        book["users"].column_dimensions["I"].hidden = True

    instance, messages = read_warned(workbook(tmp_path, hide))
    assert len(instance.users) == 7
    assert (
        "caseload.xlsx[users]: hidden columns current_advisor were read as they are."
        in messages
    )


def test_merged_across_columns_rejected(tmp_path: Path) -> None:
    def merge(book: Any) -> None:
        book["advisors"].merge_cells("F3:G3")

    (problem,) = problems(workbook(tmp_path, merge))
    assert str(problem) == (
        "caseload.xlsx[advisors], row 3, column casework_share: expected a value "
        "in every cell, found this cell part of the merged cells F3:G3 (only F3 "
        "holds the value); unmerge them and fill each row."
    )


# --- Hostile sizes and nesting --------------------------------------------------------


def test_deep_inline_tables_located(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    deep = "x = " + "{a = " * 40 + "1" + " }" * 40 + "\n"
    with (folder / "instance.toml").open("a", encoding="utf-8") as file:
        file.write(deep)
    (problem,) = problems(folder)
    assert problem.message.endswith("nested deeper at line 38.")


def test_brackets_in_strings_and_comments_do_not_nest() -> None:
    text = "a = \"[[[[[[[[[[[[[[[[[[[[[[[[\"  # [[[[[[[[[[[[[[[[[[[[\nb = '{{{{{{{{{{{{{{{{{{{'\n"
    assert toml_nesting(text) is None
    assert tomllib.loads(text)["a"].startswith("[")
    assert toml_nesting("q = " + "[" * 17 + "]" * 17) == (1, 17)


def test_parser_failure_never_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def recurse(text: str) -> None:
        raise RecursionError

    monkeypatch.setattr(tomllib, "loads", recurse)
    (problem,) = problems(copy_tiny(tmp_path))
    assert problem.message == (
        "expected valid TOML, found text the parser cannot read (RecursionError)."
    )


def test_huge_toml_rejected(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    with (folder / "instance.toml").open("a", encoding="utf-8") as file:
        file.write("# " + "x" * 1_100_000 + "\n")
    (problem,) = problems(folder)
    assert problem.message.startswith("expected a TOML file of at most 1000000 bytes")


def test_hostile_width_rejected_by_width(tmp_path: Path) -> None:
    """100,000 columns: rejected by the width of the row, located.

    How fast that is (and that reading stays linear below the limit) is in
    solutions/READER-LIMITS.md, not timed here.
    """
    folder = copy_tiny(tmp_path)
    header = text_of(folder, "users.csv").splitlines()[0]
    (folder / "users.csv").write_text(
        header + ",c" * 100_000 + "\nu1" + "," * 100_011 + "\n", encoding="utf-8"
    )
    (problem,) = problems(folder)
    assert str(problem) == (
        "users.csv, row 1: expected at most 16384 columns (Excel's limit), found "
        "100012 in this row; the file is damaged or was not exported as a table."
    )


# --- Values beyond what the model represents ------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key", "expected"),
    [
        (
            "\nunassigned = 1000",
            "\nunassigned = 1e7",
            "policy.weights.unassigned",
            "expected a number >= 0 and at most 1e+06, found 10000000.0.",
        ),
        (
            "cases_per_fte = 4",
            "cases_per_fte = 1e9",
            "policy.cases_per_fte",
            "expected a number > 0 and at most 10000, found 1000000000.0.",
        ),
        (
            "seed = 0",
            "seed = 2147483648",
            "policy.seed",
            "expected a whole number from 0 to 2147483647, found 2147483648.",
        ),
        (
            "road_factor = 1.4",
            "road_factor = inf",
            "policy.road_factor",
            "expected a number > 0 and at most 10, found Infinity.",
        ),
        (
            "intake_per_fte = 8",
            "intake_per_fte = nan",
            "policy.intake_per_fte",
            "expected a number >= 0 and at most 10000, found NaN.",
        ),
        (
            "assessment = 2",
            "assessment = 123456",
            "policy.cases_per_fte_by_kind.assessment",
            "expected a number > 0 and at most 10000, found 123456.",
        ),
        (
            "time_limit_s = 10",
            "time_limit_s = 1e9",
            "policy.time_limit_s",
            "expected a number > 0 and at most 604800, found 1000000000.0.",
        ),
    ],
)
def test_policy_values_in_model_range(
    tmp_path: Path, old: str, new: str, key: str, expected: str
) -> None:
    folder = copy_tiny(tmp_path)
    replace(folder, "instance.toml", old, new)
    (problem,) = problems(folder)
    assert (problem.file, problem.column, problem.message) == (
        "instance.toml",
        key,
        expected,
    )


@pytest.mark.parametrize(
    ("file", "old", "new", "row", "column", "expected"),
    [
        (
            "users.csv",
            "u7,nord,58,0,,active,false,2,",
            "u7,nord,58,0,,active,false,5000,",
            8,
            "weight",
            "expected a decimal from 0.001 to 1000; the value is not shown (user data).",
        ),
        (
            "users.csv",
            "u7,nord,58,0,,active,false,2,",
            "u7,nord,58,0,,active,false,0.0001,",
            8,
            "weight",
            "expected a decimal from 0.001 to 1000; the value is not shown (user data).",
        ),
        (
            "users.csv",
            "u7,nord,58,",
            "u7,nord,580,",
            8,
            "age",
            "expected a whole number from 0 to 150; the value is not shown (user data).",
        ),
        (
            "travel.csv",
            "nord,sor,30",
            "nord,sor,25000",
            2,
            "km",
            "expected km from 0 to 10000, found 25000.",
        ),
        (
            "municipalities.csv",
            ",1200,",
            ",9000000000,",
            2,
            "population",
            "expected a whole number from 0 to 100000000, found 9000000000.",
        ),
        (
            "advisors.csv",
            ",0.5,1,,,true",
            ",0.5,1,,99999,true",
            4,
            "max_municipalities",
            "expected a whole number from 0 to 10000, found 99999.",
        ),
    ],
)
def test_table_values_in_model_range(
    tmp_path: Path, file: str, old: str, new: str, row: int, column: str, expected: str
) -> None:
    folder = copy_tiny(tmp_path)
    replace(folder, file, old, new)
    (problem,) = problems(folder)
    assert (problem.file, problem.row, problem.column, problem.message) == (
        file,
        row,
        column,
        expected,
    )


def test_control_characters_anywhere(tmp_path: Path) -> None:
    """C0 controls in a header or an id, and a C1 control, all located."""
    folder = copy_tiny(tmp_path)
    replace(folder, "teams.csv", "t-assess,Assessment", "t-assess,Assess\x85ment")
    replace(folder, "advisors.csv", "a3,", "a3\x1b,")
    found = problems(folder)
    assert [(p.file, p.row, p.column) for p in found] == [
        ("teams.csv", 2, "name"),
        ("advisors.csv", 4, "id"),
    ]
    assert "U+0085 (next line)" in found[0].message
    assert "U+001B (escape)" in found[1].message


def test_binary_file(tmp_path: Path) -> None:
    with pytest.raises(InstanceError, match="binary"):
        parse_csv("users.csv", b"id,name\x00\x01\x02\x00\xff\xfe\x00")


# --- Any table Excel or the csv module writes reads back as written --------------

_CELL = st.text(
    alphabet=st.sampled_from(list("ab1 ;,\t\"\n\r'=-æøåÅ\u00a0\u200b")),
    max_size=10,
)
_HEADER = ["id", "name", "note", "kind", "x", "y", "z", "w"]


@settings(max_examples=150, deadline=None)
@given(
    delimiter=st.sampled_from([",", ";", "\t"]),
    rows=st.lists(
        st.tuples(st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True), _CELL, _CELL),
        min_size=1,
        max_size=6,
    ),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    line_end=st.sampled_from(["\r\n", "\n"]),
)
def test_written_tables_read_back_exactly(
    delimiter: str, rows: list[tuple[str, str, str]], encoding: str, line_end: str
) -> None:
    """Cells with quotes, delimiters, line breaks and odd spaces round-trip."""
    width = len(_HEADER) - 1
    for _, name, note in rows:
        for cell in (name, note):
            # A line inside a cell that holds a whole row's delimiters is what
            # a misplaced quote leaves; the reader rejects it on purpose.
            assume(all(part.count(delimiter) < width for part in cell.splitlines()))
    buffer = io.StringIO()
    # Excel quotes every cell holding a line break; the csv module only those
    # holding its own line end, so quote all when that is "\n" alone.
    quoting = csv.QUOTE_MINIMAL if line_end == "\r\n" else csv.QUOTE_ALL
    writer = csv.writer(
        buffer, delimiter=delimiter, lineterminator=line_end, quoting=quoting
    )
    writer.writerow(_HEADER)
    for uid, name, note in rows:
        writer.writerow([uid, name, note, "k", "", "", "", ""])
    table = parse_csv("t.csv", buffer.getvalue().encode(encoding))
    assert table.delimiter == delimiter
    assert table.problems == []
    assert [(r.cells["id"], r.cells["name"], r.cells["note"]) for r in table.rows] == [
        row for row in rows
    ]


_NAMES = st.sampled_from(["H\u00e5kon", "S\u00f8lvi", "\u00c6sa", "Zo\u00eb", "u9"])
_FORM = st.sampled_from(["NFC", "NFD"])
_INVISIBLE = st.sampled_from(["", "\u200b", "\u2060", "\ufeff", "\u200e"])


@settings(max_examples=40, deadline=None)
@given(name=_NAMES, user_form=_FORM, lock_form=_FORM, mark=_INVISIBLE)
def test_an_id_is_one_id_in_any_form(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    user_form: str,
    lock_form: str,
    mark: str,
) -> None:
    """users.csv and locks.csv spell one id in two forms: one user, locked."""
    folder = copy_tiny(tmp_path_factory.mktemp("ids"))
    written = unicodedata.normalize(user_form, name) + mark
    replace(folder, "users.csv", "u2,sor", f"{written},sor")
    locked = unicodedata.normalize(lock_form, name)
    (folder / "locks.csv").write_text(f"user,advisor,kind\n{locked},a1,fix\n")
    instance = read(folder)
    expected = unicodedata.normalize("NFC", name)
    assert instance.users[1].id == expected
    assert [(lock.user, lock.advisor) for lock in instance.locks] == [(expected, "a1")]


def test_title_row_above_header_that_lacks_a_column(tmp_path: Path) -> None:
    """The header is still found below a title; the missing column is named there."""
    folder = copy_tiny(tmp_path)
    text = text_of(folder, "users.csv").replace(
        "id,municipality,age,", "id,municipality,alder,"
    )
    (folder / "users.csv").write_text("Brukere uke 48\n" + text, encoding="utf-8")
    (problem,) = problems(folder)
    assert (
        str(problem)
        == 'users.csv, row 2, column age: expected a column named "age", found none.'
    )


def test_scenario_file_deep_nesting_located(tmp_path: Path) -> None:
    """A scenario file is TOML too: hostile nesting gets the same located message."""
    from allocator.scenario import read_scenario

    path = tmp_path / "s.toml"
    path.write_text('name = "s"\nq = ' + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(InstanceError) as caught:
        read_scenario(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}: expected valid TOML with values nested at most 16 deep, found "
        "arrays or inline tables nested deeper at line 2."
    ]


def test_bench_params_deep_nesting_is_a_usage_error(tmp_path: Path) -> None:
    """--params is TOML too: hostile nesting is exit 2 with the line, no traceback."""
    from click.testing import CliRunner

    from allocator.cli import main

    params = tmp_path / "p.toml"
    params.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    result = CliRunner().invoke(
        main,
        [
            "bench",
            str(TINY),
            "--time-limit",
            "1",
            "--params",
            str(params),
            "--out",
            str(tmp_path / "b"),
        ],
    )
    assert result.exit_code == 2
    assert "nested deeper at line 1" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "b").exists()
