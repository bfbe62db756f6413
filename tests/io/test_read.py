"""Tests for reading instance folders: allocator/tables.py and allocator/read.py."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import random
import re
import shutil
import warnings
from pathlib import Path

import openpyxl
import pytest

from allocator.domain import (
    Advisor,
    Competence,
    HostAgreement,
    Instance,
    Lock,
    Municipality,
    Policy,
    RoutingRule,
    Team,
    User,
    Weights,
)
from allocator.errors import DataWarning, InputProblem, InstanceError
from allocator.io.read import read_instance
from allocator.io.tables import (
    CellError,
    cell_text,
    parse_bool,
    parse_csv,
    parse_date,
    parse_decimal,
    parse_id,
    parse_int,
    parse_list,
    read_table,
)

DATA = Path(__file__).parents[1] / "data" / "read"
VALID = DATA / "valid"
SEMICOLON = DATA / "semicolon"
TABLE_ORDER = ("municipalities", "teams", "advisors", "users", "locks", "travel")


def read_quietly(folder: Path, *locks: Lock) -> Instance:
    """Read an instance, failing on any warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return read_instance(folder, extra_locks=locks)


def copy_valid(tmp_path: Path) -> Path:
    """A writable copy of the valid fixture."""
    folder = tmp_path / "instance"
    shutil.copytree(VALID, folder)
    return folder


def edit(folder: Path, name: str, old: str, new: str) -> None:
    """Replace the one occurrence of ``old`` in a fixture file."""
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def append(folder: Path, name: str, line: str) -> None:
    """Add a line at the end of a fixture file."""
    with (folder / name).open("a", encoding="utf-8") as file:
        file.write(line + "\n")


def problems_of(folder: Path, *locks: Lock) -> list[InputProblem]:
    """The problems the reader reports for ``folder`` (it must reject it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        with pytest.raises(InstanceError) as caught:
            read_instance(folder, extra_locks=locks)
    return caught.value.problems


def without_provenance(instance: Instance) -> Instance:
    """The instance with file labels, hash and lock sources blanked."""
    locks = tuple(lock.model_copy(update={"source": ""}) for lock in instance.locks)
    return instance.model_copy(update={"files": {}, "input_sha256": "", "locks": locks})


@pytest.fixture(scope="module")
def valid() -> Instance:
    """The valid fixture, read once."""
    return read_quietly(VALID)


# --- The valid instance -------------------------------------------------------


def test_valid_toml_parts(valid: Instance) -> None:
    """instance.toml's name, policy (with defaults), competences and routing."""
    assert (valid.name, valid.week) == ("mini", "2026-W48")
    assert valid.description == "A small valid instance for the reader's tests"
    assert valid.policy == Policy(
        max_municipalities_per_advisor=2,
        cases_per_fte=60,
        intake_per_fte=8,
        road_factor=1.3,
        time_limit_s=5,
        cases_per_fte_by_kind={"assessment": 25},
        weights=Weights(travel=2, non_local=0),
    )
    # Keys the file leaves out keep the domain's defaults.
    assert (valid.policy.rotation_months, valid.policy.seed) == (0, 0)
    assert valid.policy.weights.unassigned == 1000
    assert valid.competences == (
        Competence(
            id="social_assistance",
            name="Financial social assistance",
            municipal_authority=True,
        ),
        Competence(id="debt", name="Debt counselling"),
    )
    assert valid.host_agreements == (HostAgreement(host="gol", members=("hemsedal",)),)
    assert valid.routing == (
        RoutingRule(team_kind="assessment", status="new"),
        RoutingRule(team_kind="youth", age_max=29),
        RoutingRule(team_kind="follow_up"),
    )


def test_valid_policy_raw(valid: Instance) -> None:
    """policy_raw is the [policy] table exactly as written, without defaults."""
    assert valid.policy_raw == {
        "max_municipalities_per_advisor": 2,
        "cases_per_fte": 60,
        "intake_per_fte": 8,
        "road_factor": 1.3,
        "time_limit_s": 5,
        "cases_per_fte_by_kind": {"assessment": 25},
        "weights": {"travel": 2, "non_local": 0},
    }


def test_valid_municipalities_and_teams(valid: Instance) -> None:
    """Municipalities keep "Ål"; a team's list cell becomes a tuple."""
    assert valid.municipalities == (
        Municipality(id="gol", name="Gol", population=4600, lat=60.70, lon=8.94, row=2),
        Municipality(
            id="hemsedal", name="Hemsedal", population=2500, lat=60.86, lon=8.55, row=3
        ),
        Municipality(id="al", name="Ål", population=4700, lat=60.63, lon=8.56, row=4),
    )
    assert valid.teams == (
        Team(id="mottak", name="Mottak", kind="assessment", row=2),
        Team(
            id="ung", name="Ungdom", kind="youth", municipalities=("gol", "al"), row=3
        ),
        Team(id="oppfolging", name="Oppfølging", kind="follow_up", row=4),
    )


def test_valid_advisors(valid: Instance) -> None:
    """Advisors with defaults for empty casework_share and available."""
    a1, a2, a3, a4, a5 = valid.advisors
    assert a1 == Advisor(
        id="a1",
        name="Kari Nordmann",
        team="mottak",
        employer="gol",
        base="gol",
        fte=1.0,
        competences=("social_assistance",),
        row=2,
    )
    assert (a2.employer, a2.fte, a2.competences) == ("state", 0.8, ())
    assert (a3.casework_share, a3.competences) == (0.65, ("social_assistance", "debt"))
    assert (a3.max_municipalities, a3.available) == (3, True)  # "yes"
    # casework_share empty -> 1; available "nei" -> false.
    assert (a4.casework_share, a4.available, a4.row) == (1.0, False, 5)
    # available empty -> the default true.
    assert (a5.max_municipalities, a5.available) == (1, True)


def test_valid_users(valid: Instance) -> None:
    """Users with both date formats, a household and every boolean spelling."""
    users = {user.id: user for user in valid.users}
    assert [user.id for user in valid.users] == [f"u{i}" for i in range(1, 9)]
    assert users["u2"] == User(
        id="u2",
        municipality="gol",
        age=31,
        children=2,
        needs=("social_assistance",),
        status="active",
        weight=1.5,
        current_advisor="a3",
        since=dt.date(2025, 3, 1),
        household="h1",
        row=3,
    )
    assert users["u1"].household == users["u2"].household == "h1"
    assert users["u3"].since == dt.date(2025, 8, 15)  # written 15.08.2025
    assert users["u5"].needs == ("social_assistance", "debt")
    assert users["u1"].current_advisor is None
    urgent = [users[f"u{i}"].urgent for i in range(1, 9)]
    # false, false, true, (empty), no, sann, FALSE, 0
    assert urgent == [False, False, True, False, False, True, False, False]
    non_local = [users[f"u{i}"].prefer_non_local for i in range(1, 9)]
    # false, false, false, ja, (empty), usann, TRUE, 1
    assert non_local == [False, False, False, True, False, False, True, True]


def test_valid_locks_travel_and_files(valid: Instance) -> None:
    """Locks keep row and source; travel has both directions; files are named."""
    assert valid.locks == (
        Lock(user="u7", advisor="a3", kind="fix", row=2, source="locks.csv"),
        Lock(user="u5", advisor="a2", kind="forbid", row=3, source="locks.csv"),
    )
    assert valid.travel == {
        ("gol", "hemsedal"): 34.0,
        ("hemsedal", "gol"): 34.0,
        ("al", "gol"): 24.5,
        ("gol", "al"): 24.5,
    }
    assert valid.files == {name: f"{name}.csv" for name in TABLE_ORDER}
    assert valid.extra_columns == {
        "municipalities": (),
        "teams": (),
        "advisors": (),
        "users": (),
    }


def test_valid_input_sha256(valid: Instance) -> None:
    """The hash covers instance.toml, then every table file in read order."""
    digest = hashlib.sha256((VALID / "instance.toml").read_bytes())
    for name in TABLE_ORDER:
        digest.update((VALID / f"{name}.csv").read_bytes())
    assert valid.input_sha256 == digest.hexdigest()


def test_optional_tables_may_be_absent(tmp_path: Path) -> None:
    """Without locks.csv and travel.csv the instance reads, with none of either."""
    folder = copy_valid(tmp_path)
    (folder / "locks.csv").unlink()
    (folder / "travel.csv").unlink()
    instance = read_quietly(folder)
    assert (instance.locks, instance.travel) == ((), {})
    assert "locks" not in instance.files


# --- The same instance written other ways -------------------------------------


def test_semicolon_decimal_comma_bom_twin(valid: Instance) -> None:
    """A ';'-separated, decimal-comma, BOM, CRLF export reads the same."""
    twin = read_quietly(SEMICOLON)
    assert twin.input_sha256 != valid.input_sha256
    # Only the dialect the outputs will follow differs.
    assert (twin.dialect, valid.dialect) == (";", ",")
    assert twin.model_copy(
        update={"input_sha256": "", "dialect": ","}
    ) == valid.model_copy(update={"input_sha256": ""})


def test_windows_1252_file(tmp_path: Path) -> None:
    """A Windows-1252 file is read with a warning, and æ, ø, å survive."""
    folder = copy_valid(tmp_path)
    text = (
        "id;name;population;lat;lon\n"
        "gol;Sørum;4600;60,70;8,94\n"
        "hemsedal;Øystre Slidre;2500;60,86;8,55\n"
        "al;Ål og Ærø;4700;60,63;8,56\n"
    )
    (folder / "municipalities.csv").write_bytes(text.encode("cp1252"))
    with pytest.warns(DataWarning, match=r"municipalities\.csv .*Windows-1252"):
        instance = read_instance(folder)
    names = [m.name for m in instance.municipalities]
    assert names == ["Sørum", "Øystre Slidre", "Ål og Ærø"]


def csv_cell_value(text: str) -> object:
    """A CSV cell as a spreadsheet would type it: number, boolean, date or text."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.datetime.fromisoformat(text)
    return text or None


def write_workbook(source: Path, target: Path) -> None:
    """The valid fixture as caseload.xlsx, one sheet per table, typed cells."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in TABLE_ORDER:
        # Capitalised sheet names: matched case-insensitively.
        sheet = book.create_sheet(name.capitalize())
        with (source / f"{name}.csv").open(encoding="utf-8", newline="") as file:
            for number, row in enumerate(csv.reader(file)):
                sheet.append(row if number == 0 else [csv_cell_value(c) for c in row])
    book.save(target / "caseload.xlsx")
    toml = (source / "instance.toml").read_text(encoding="utf-8")
    (target / "instance.toml").write_text(
        f'workbook = "caseload.xlsx"\n{toml}', encoding="utf-8"
    )


def test_workbook_twin(tmp_path: Path, valid: Instance) -> None:
    """A workbook with typed cells gives the CSV instance but for provenance."""
    write_workbook(VALID, tmp_path)
    twin = read_quietly(tmp_path)
    assert twin.files["users"] == "caseload.xlsx[Users]"
    assert twin.locks[0].source == "caseload.xlsx[Locks]"
    expected_hash = hashlib.sha256(
        (tmp_path / "instance.toml").read_bytes()
        + (tmp_path / "caseload.xlsx").read_bytes()
    ).hexdigest()
    assert twin.input_sha256 == expected_hash
    # policy_raw also differs by nothing: workbook is a top-level key.
    assert without_provenance(twin) == without_provenance(valid)


def test_workbook_problem_names_sheet(tmp_path: Path) -> None:
    """A bad cell in a workbook is located as workbook[sheet], row, column."""
    write_workbook(VALID, tmp_path)
    book = openpyxl.load_workbook(tmp_path / "caseload.xlsx")
    book["Users"]["C4"] = "tjue"
    book.save(tmp_path / "caseload.xlsx")
    problem = InputProblem(
        "caseload.xlsx[Users]",
        4,
        "age",
        "expected a whole number; the value is not shown (user data).",
    )
    assert problem in problems_of(tmp_path)


def test_workbook_missing_sheet_and_broken_file(tmp_path: Path) -> None:
    """A missing required sheet and an unreadable workbook are input errors."""
    write_workbook(VALID, tmp_path)
    book = openpyxl.load_workbook(tmp_path / "caseload.xlsx")
    book.remove(book["Teams"])
    book.save(tmp_path / "caseload.xlsx")
    problems = problems_of(tmp_path)
    assert problems[0].file == "caseload.xlsx"
    assert 'sheet named "teams"' in problems[0].message
    (tmp_path / "caseload.xlsx").write_bytes(b"PK\x03\x04 not really a zip file")
    (problem,) = problems_of(tmp_path)
    assert problem.file == "caseload.xlsx"
    assert "expected an Excel workbook" in problem.message


def test_headers_case_and_spaces(tmp_path: Path, valid: Instance) -> None:
    """Header names match whatever their case and surrounding spaces."""
    folder = copy_valid(tmp_path)
    edit(
        folder,
        "users.csv",
        "id,municipality,age,",
        " ID , Municipality,AGE  ,",
    )
    edit(folder, "locks.csv", "user,advisor,kind", "User,ADVISOR , Kind")
    instance = read_quietly(folder)
    assert instance.model_copy(update={"input_sha256": ""}) == valid.model_copy(
        update={"input_sha256": ""}
    )


def add_column(folder: Path, name: str, index: int, header: str, value: str) -> None:
    """Insert a column at ``index`` of a CSV file; ``value`` may use {row}."""
    path = folder / name
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    for number, row in enumerate(rows, 1):
        row.insert(index, header if number == 1 else value.format(row=number))
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)


def test_unknown_columns_kept_in_order(tmp_path: Path) -> None:
    """Unknown columns are carried in file order, spelt as written, with a warning."""
    folder = copy_valid(tmp_path)
    add_column(folder, "users.csv", 3, "Case Ref", "=R{row}")
    add_column(folder, "users.csv", 1, "Note", "note {row}")
    with pytest.warns(DataWarning, match=r'users\.csv: unknown columns "Note", "Case'):
        instance = read_instance(folder)
    assert instance.extra_columns["users"] == ("Note", "Case Ref")
    assert instance.extra_columns["advisors"] == ()
    # Extra cells are carried untouched: no stripping, no formula quote handling.
    assert instance.users[2].extra == {"Note": "note 4", "Case Ref": "=R4"}
    assert (instance.users[2].municipality, instance.users[2].age) == ("al", 19)


def test_unknown_columns_in_locks_are_ignored(tmp_path: Path) -> None:
    """Locks carry no extra columns; the warning says they are ignored."""
    folder = copy_valid(tmp_path)
    edit(folder, "locks.csv", "user,advisor,kind", "user,advisor,kind,why")
    with pytest.warns(
        DataWarning, match=r'locks\.csv: unknown columns "why" are ignored'
    ):
        instance = read_instance(folder)
    assert "locks" not in instance.extra_columns


def test_blank_rows_skipped_numbering_kept(tmp_path: Path) -> None:
    """Blank rows are skipped, but rows keep their number in the file."""
    folder = copy_valid(tmp_path)
    edit(folder, "users.csv", "\nu3,al,19,", "\n\n,,,\nu3,al,tjue,")
    (problem,) = problems_of(folder)
    assert (problem.file, problem.row, problem.column) == ("users.csv", 6, "age")


def test_departed_current_advisor_warns(tmp_path: Path) -> None:
    """An unknown current_advisor is kept, with a warning that the advisor left."""
    folder = copy_valid(tmp_path)
    edit(
        folder,
        "users.csv",
        "u8,al,40,3,debt,active,0,1,a4",
        "u8,al,40,3,debt,active,0,1,a9",
    )
    with pytest.warns(
        DataWarning, match=r"current_advisor: .* u8 \(row 9\).*left"
    ) as w:
        instance = read_instance(folder)
    assert instance.users[-1].current_advisor == "a9"
    # The cell's value is user data: never in the message.
    assert all("a9" not in str(item.message) for item in w)


def test_missing_coordinates_warn_without_travel(tmp_path: Path) -> None:
    """Without travel.csv, a municipality without lat/lon gives a warning."""
    folder = copy_valid(tmp_path)
    (folder / "travel.csv").unlink()
    edit(folder, "municipalities.csv", "2500,60.86,8.55", "2500,,")
    with pytest.warns(DataWarning, match=r"municipalities hemsedal have no lat/lon"):
        instance = read_instance(folder)
    assert instance.municipalities[1].lat is None


def test_missing_coordinates_covered_by_travel(tmp_path: Path) -> None:
    """No warning when travel.csv gives every pair a missing centre needs."""
    folder = copy_valid(tmp_path)
    edit(folder, "municipalities.csv", "2500,60.86,8.55", "2500,,")
    append(folder, "travel.csv", "al,hemsedal,50")
    assert read_quietly(folder).travel["hemsedal", "al"] == 50


def test_extra_locks_appended(valid: Instance) -> None:
    """Command-line locks are appended after locks.csv, source kept."""
    extra = Lock(user="u1", advisor="a1", kind="fix", source="--fix")
    instance = read_quietly(VALID, extra)
    assert instance.locks == (*valid.locks, extra)


def test_extra_lock_checked_like_a_row() -> None:
    """A command-line lock naming an unknown user is an input error."""
    extra = Lock(user="u99", advisor="a1", kind="forbid", source="--forbid")
    problems = problems_of(VALID, extra)
    assert problems == [
        InputProblem(
            "--forbid u99=a1",
            None,
            "user",
            'expected a user id from users.csv, found "u99".',
        )
    ]


def test_extra_lock_conflicting_with_file() -> None:
    """A --forbid on a pair locks.csv fixes is a conflict naming the file's row."""
    extra = Lock(user="u7", advisor="a3", kind="forbid", source="--forbid")
    (problem,) = problems_of(VALID, extra)
    assert (problem.file, problem.row, problem.column) == (
        "--forbid u7=a3",
        None,
        "kind",
    )
    assert "found both (the other in row 2)" in problem.message


# --- Broken inputs ------------------------------------------------------------

# (file, old text, new text; None old = append a line, None new = delete file),
# then the problem expected: file, row, column and a fragment of the message.
# fmt: off
BROKEN = [
    # a word where a whole number belongs
    ("users.csv", "u3,al,19,", "u3,al,tjue,",
     "users.csv", 4, "age", "expected a whole number; the value is not shown (user data)."),
    # negative age
    ("users.csv", "u3,al,19,", "u3,al,-3,",
     "users.csv", 4, "age", "expected a whole number from 0 to 150; the value is not shown"),
    # negative children
    ("users.csv", "u5,al,52,1,", "u5,al,52,-1,",
     "users.csv", 6, "children", "the value is not shown (user data)."),
    # status outside new/active
    ("users.csv", "u6,hemsedal,27,0,,new,", "u6,hemsedal,27,0,,pending,",
     "users.csv", 7, "status", 'expected "new" or "active"; the value is not shown'),
    # weight zero
    ("users.csv", "active,false,1.5,", "active,false,0,",
     "users.csv", 3, "weight",
     "expected a decimal from 0.001 to 1000; the value is not shown"),
    # a boolean nobody writes
    ("users.csv", "u3,al,19,0,,active,true,", "u3,al,19,0,,active,maybe,",
     "users.csv", 4, "urgent", "expected true or false (or yes/no"),
    # a date in no accepted format
    ("users.csv", "15.08.2025", "08/15/2025",
     "users.csv", 4, "since", "expected a date YYYY-MM-DD or DD.MM.YYYY"),
    # a date that does not exist
    ("users.csv", "2024-11-30", "2024-11-31",
     "users.csv", 6, "since", "expected a date that exists in the calendar"),
    # duplicate user id
    ("users.csv", "\nu3,", "\nu2,",
     "users.csv", 4, "id", 'found "u2" again (first in row 3).'),
    # empty user id
    ("users.csv", "\nu3,", "\n,",
     "users.csv", 4, "id", "expected an id, found an empty cell."),
    # an id with ";" (legal in a ','-separated file, not in an id)
    ("advisors.csv", "\na1,", "\na;1,",
     "advisors.csv", 2, "id", 'expected an id without ";", found "a;1".'),
    # unknown municipality of a user
    ("users.csv", "u4,hemsedal,", "u4,hemsedl,",
     "users.csv", 5, "municipality",
     "expected a municipality id from municipalities.csv; the value is not one "
     "of them (did you mean hemsedal?). The value is not shown (user data)."),
    # unknown need
    ("users.csv", "u4,hemsedal,45,0,debt,", "u4,hemsedal,45,0,dept,",
     "users.csv", 5, "needs",
     "expected competence ids from [[competence]] in instance.toml; the value is "
     "not one of them. The value is not shown (user data)."),
    # fte above 1
    ("advisors.csv", "al,0.8,", "al,1.2,",
     "advisors.csv", 3, "fte", "expected a decimal in (0, 1], found 1.2."),
    # fte zero
    ("advisors.csv", "al,0.8,", "al,0,",
     "advisors.csv", 3, "fte", "expected a decimal in (0, 1], found 0."),
    # casework_share above 1
    ("advisors.csv", "gol,1,0.65,", "gol,1,1.65,",
     "advisors.csv", 4, "casework_share", "expected a decimal in [0, 1], found 1.65."),
    # decimal comma in a ','-separated file
    ("advisors.csv", "al,0.8,", 'al,"0,8",',
     "advisors.csv", 3, "fte", "expected a decimal number with a point"),
    # unknown team
    ("advisors.csv", "a1,Kari Nordmann,mottak,", "a1,Kari Nordmann,intake,",
     "advisors.csv", 2, "team", 'expected a team id from teams.csv, found "intake".'),
    # unknown employer
    ("advisors.csv", "ung,state,al,", "ung,stat,al,",
     "advisors.csv", 3, "employer",
     'expected "state" or a municipality id from municipalities.csv, found "stat".'),
    # unknown base
    ("advisors.csv", "ung,state,al,", "ung,state,aal,",
     "advisors.csv", 3, "base", 'found "aal" (did you mean "al"?).'),
    # unknown competence in a list
    ("advisors.csv", "social_assistance;debt", "social_assistance;dept",
     "advisors.csv", 4, "competences", 'found unknown "dept" (did you mean "debt"?).'),
    # unknown municipality in a team's list
    ("teams.csv", "gol;al", "gol;aal",
     "teams.csv", 3, "municipalities", 'found unknown "aal" (did you mean "al"?).'),
    # lat without lon
    ("municipalities.csv", "60.63,8.56", "60.63,",
     "municipalities.csv", 4, "lon", "expected both lat and lon or neither"),
    # lat out of range
    ("municipalities.csv", "60.63,8.56", "160.63,8.56",
     "municipalities.csv", 4, "lat", "degrees between -90 and 90, found 160.63."),
    # required column missing
    ("users.csv", "id,municipality,age,", "id,municipality,alder,",
     "users.csv", 1, "age", 'expected a column named "age", found none.'),
    # a column twice
    ("teams.csv", "id,name,kind,municipalities", "id,name,kind,Kind",
     "teams.csv", 1, "Kind", 'expected each column once, found "Kind" twice.'),
    # required file missing
    ("teams.csv", "", None,
     "teams.csv", None, None, "expected the file teams.csv in the instance folder"),
    # lock naming an unknown user
    ("locks.csv", "u7,a3,fix", "u70,a3,fix",
     "locks.csv", 2, "user", 'expected a user id from users.csv, found "u70".'),
    # lock naming an unknown advisor
    ("locks.csv", "u5,a2,forbid", "u5,a22,forbid",
     "locks.csv", 3, "advisor", "expected an advisor id from advisors.csv"),
    # lock kind other than fix/forbid
    ("locks.csv", "u5,a2,forbid", "u5,a2,keep",
     "locks.csv", 3, "kind", 'expected "fix" or "forbid", found "keep".'),
    # fix and forbid on one pair
    ("locks.csv", None, "u7,a3,forbid",
     "locks.csv", 4, "kind", "found both (the other in row 2)."),
    # one user fixed to two advisors
    ("locks.csv", None, "u7,a1,fix",
     "locks.csv", 4, "advisor", "expected one advisor fixed for user u7"),
    # a household split by fix locks (u1 and u2 share h1)
    ("locks.csv", None, "u1,a1,fix\nu2,a3,fix",
     "locks.csv", 5, "advisor", "expected the users of one household fixed"),
    # travel to an unknown municipality
    ("travel.csv", "gol,hemsedal,34", "gol,hemsedl,34",
     "travel.csv", 2, "to", 'found "hemsedl" (did you mean "hemsedal"?).'),
    # negative km
    ("travel.csv", "al,gol,24.5", "al,gol,-5",
     "travel.csv", 3, "km", "expected km from 0 to 10000, found -5."),
    # km not a number
    ("travel.csv", "al,gol,24.5", "al,gol,far",
     "travel.csv", 3, "km", 'expected a decimal number, found "far".'),
    # one pair with two distances
    ("travel.csv", None, "hemsedal,gol,35",
     "travel.csv", 4, "km", "expected 34 km as in row 2, found 35."),
    # unknown top-level key
    ("instance.toml", 'name = "mini"', 'name = "mini"\ncolour = "blue"',
     "instance.toml", None, "colour", 'found unknown key "colour".'),
    # unknown policy key
    ("instance.toml", "cases_per_fte = 60", "cases_per_ftee = 60",
     "instance.toml", None, "policy.cases_per_ftee", "found unknown key"),
    # policy value of the wrong type
    ("instance.toml", "road_factor = 1.3", 'road_factor = "fast"',
     "instance.toml", None, "policy.road_factor",
     'expected a number > 0 and at most 10, found "fast".'),
    # negative weight
    ("instance.toml", "travel = 2", "travel = -2",
     "instance.toml", None, "policy.weights.travel", "expected a number >= 0"),
    # TOML syntax error
    ("instance.toml", 'name = "mini"', "name = mini",
     "instance.toml", None, None, "expected valid TOML, found a syntax error"),
    # host agreement naming an unknown host
    ("instance.toml", 'host = "gol"', 'host = "goll"',
     "instance.toml", None, "host_agreement[1].host", 'found "goll" (did you mean "gol"?).'),
    # host agreement naming an unknown member
    ("instance.toml", 'members = ["hemsedal"]', 'members = ["hemsedal", "vik"]',
     "instance.toml", None, "host_agreement[1].members", 'found unknown "vik".'),
    # routing status value
    ("instance.toml", 'status = "new"', 'status = "old"',
     "instance.toml", None, "routing[1].status",
     'expected "new" or "active", found "old".'),
    # routing needs_any naming an unknown competence
    ("instance.toml", "age_max = 29", 'age_max = 29\nneeds_any = ["dept"]',
     "instance.toml", None, "routing[2].needs_any", 'found "dept" (did you mean "debt"?).'),
    # routing municipality_in naming an unknown municipality
    ("instance.toml", "age_max = 29", 'age_max = 29\nmunicipality_in = ["vik"]',
     "instance.toml", None, "routing[2].municipality_in", 'found "vik".'),
    # a routed kind without a team
    ("teams.csv", "ung,Ungdom,youth,", "ung,Ungdom,young,",
     "instance.toml", None, "routing[2].team_kind",
     'expected a team of kind "youth" in teams.csv'),
    # users no routing rule matches (the catch-all rule removed)
    ("instance.toml", '[[routing]]\nteam_kind = "follow_up"\n', "",
     "users.csv", 3, None, "matches user u2, found none"),
    # week not an ISO week
    ("instance.toml", 'week = "2026-W48"', 'week = "2026-48"',
     "instance.toml", None, "week", 'expected an ISO week such as "2026-W48"'),
    # workbook named but absent
    ("instance.toml", 'name = "mini"', 'name = "mini"\nworkbook = "caseload.xlsx"',
     "instance.toml", None, "workbook", 'expected the workbook "caseload.xlsx"'),
]
# fmt: on


@pytest.mark.parametrize(
    ("name", "old", "new", "file", "row", "column", "fragment"),
    BROKEN,
    ids=[f"{case[0]}:{i}" for i, case in enumerate(BROKEN)],
)
def test_broken_input(
    tmp_path: Path,
    name: str,
    old: str | None,
    new: str | None,
    file: str,
    row: int | None,
    column: str | None,
    fragment: str,
) -> None:
    """One broken cell or line gives a problem at that file, row and column."""
    folder = copy_valid(tmp_path)
    if new is None:
        (folder / name).unlink()
    elif old is None:
        append(folder, name, new)
    else:
        edit(folder, name, old, new)
    problems = problems_of(folder)
    located = [p for p in problems if (p.file, p.row, p.column) == (file, row, column)]
    assert located, f"no problem at {(file, row, column)} in {problems}"
    assert any(fragment in p.message for p in located), located


def test_unquoted_list_in_semicolon_file(tmp_path: Path) -> None:
    """An unquoted list in a ';'-separated file is a row with too many values."""
    folder = tmp_path / "instance"
    shutil.copytree(SEMICOLON, folder)
    edit(folder, "advisors.csv", '"social_assistance;debt"', "social_assistance;debt")
    problems = problems_of(folder)
    assert problems[0] == InputProblem(
        "advisors.csv",
        4,
        "11",
        "expected at most 10 columns as in the header (10 named), found a value "
        "in column 11 (a list cell in a ';'-separated file must be quoted).",
    )


def test_several_problems_reported_together(tmp_path: Path) -> None:
    """Problems in several files come in one error, ordered by file and row."""
    folder = copy_valid(tmp_path)
    edit(folder, "instance.toml", "road_factor = 1.3", "road_factor = 0")
    edit(folder, "advisors.csv", "al,0.8,", "al,2,")
    edit(folder, "users.csv", "u3,al,19,", "u3,al,tjue,")
    edit(folder, "users.csv", "u6,hemsedal,27,0,,new,", "u6,hemsedal,27,0,,old,")
    append(folder, "locks.csv", "u99,a1,fix")
    with pytest.raises(InstanceError) as caught:
        read_instance(folder)
    where = [(p.file, p.row, p.column) for p in caught.value.problems]
    assert where == [
        ("instance.toml", None, "policy.road_factor"),
        ("advisors.csv", 3, "fte"),
        ("users.csv", 4, "age"),
        ("users.csv", 7, "status"),
        ("locks.csv", 4, "user"),
    ]
    lines = str(caught.value).splitlines()
    assert lines[2] == (
        "users.csv, row 4, column age: expected a whole number; "
        "the value is not shown (user data)."
    )


def test_problems_capped_at_fifty(tmp_path: Path) -> None:
    """More than 50 problems are listed as 50 and one closing line."""
    folder = copy_valid(tmp_path)
    for i in range(60):
        append(folder, "users.csv", f"x{i},gol,old,0,,new,false,1,,,,false")
    with pytest.raises(InstanceError) as caught:
        read_instance(folder)
    lines = str(caught.value).splitlines()
    assert len(lines) == 51
    assert lines[0].startswith("users.csv, row 10, column age:")
    assert lines[-1] == "... and 10 more problems"


def test_missing_folder_and_toml(tmp_path: Path) -> None:
    """A missing folder, or a folder without instance.toml, is an input error."""
    with pytest.raises(InstanceError, match="expected an instance folder"):
        read_instance(tmp_path / "nowhere")
    folder = copy_valid(tmp_path)
    (folder / "instance.toml").unlink()
    problems = problems_of(folder)
    assert problems == [
        InputProblem(
            "instance.toml",
            None,
            None,
            "expected the file instance.toml in the instance folder, found none.",
        )
    ]


def test_utf16_file_with_bom_is_read(tmp_path: Path, valid: Instance) -> None:
    """Excel's "Unicode text" (UTF-16 with a byte-order mark) reads as UTF-8 does."""
    folder = copy_valid(tmp_path)
    for name in ("teams.csv", "municipalities.csv"):
        text = (folder / name).read_text(encoding="utf-8")
        (folder / name).write_bytes(text.encode("utf-16"))
    got = read_quietly(folder)
    assert without_provenance(got) == without_provenance(valid)
    assert [m.name for m in got.municipalities] == ["Gol", "Hemsedal", "Ål"]


def test_undecodable_file_is_an_input_error() -> None:
    """Bytes that read as no supported encoding raise InstanceError."""
    noise = bytes(range(0x80, 0x100)) * 4
    with pytest.raises(InstanceError, match="read as none of them"):
        parse_csv("teams.csv", b"id,name\nx," + noise + b"\n")


def test_read_table_from_sheet(tmp_path: Path) -> None:
    """read_table reads a sheet by case-insensitive name, with its label."""
    write_workbook(VALID, tmp_path)
    table = read_table(tmp_path / "caseload.xlsx", "USERS")
    assert table.label == "caseload.xlsx[Users]"
    assert table.header[:3] == ["id", "municipality", "age"]
    assert (table.rows[0].number, table.rows[0].cells["since"]) == (2, "")
    assert table.rows[1].cells["since"] == "2025-03-01"  # a date cell
    assert table.rows[1].cells["weight"] == "1.5"
    assert table.rows[1].cells["age"] == "31"  # an int cell, no ".0"
    assert table.decimal_comma


# --- Cell parsers -------------------------------------------------------------

TRUE_SPELLINGS = ["true", "yes", "ja", "sann", "1"]
FALSE_SPELLINGS = ["false", "no", "nei", "usann", "0"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        *[(spelling, True) for spelling in TRUE_SPELLINGS],
        *[(spelling.upper(), True) for spelling in TRUE_SPELLINGS],
        *[(f" {spelling.title()} ", True) for spelling in TRUE_SPELLINGS],
        *[(spelling, False) for spelling in FALSE_SPELLINGS],
        *[(spelling.upper(), False) for spelling in FALSE_SPELLINGS],
        *[(f" {spelling.title()} ", False) for spelling in FALSE_SPELLINGS],
    ],
)
def test_bool_spellings(text: str, value: bool) -> None:
    """Every boolean spelling the README's format lists, in any case."""
    assert parse_bool(text, default=not value) is value


def test_bool_empty_and_bad() -> None:
    """An empty cell is the default; other words are errors."""
    assert parse_bool("", default=True) is True
    assert parse_bool("  ", default=False) is False
    with pytest.raises(CellError, match="true or false"):
        parse_bool("kanskje", default=False)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2026-03-05", dt.date(2026, 3, 5)),
        ("05.03.2026", dt.date(2026, 3, 5)),
        ("5.3.2026", dt.date(2026, 3, 5)),
        (" 31.12.2025 ", dt.date(2025, 12, 31)),
    ],
)
def test_date_formats(text: str, value: dt.date) -> None:
    """ISO and Norwegian dates both parse."""
    assert parse_date(text) == value


@pytest.mark.parametrize("text", ["2026/03/05", "03-05-2026", "30.02.2026", ""])
def test_bad_dates(text: str) -> None:
    """Other formats and impossible dates are errors."""
    with pytest.raises(CellError):
        parse_date(text)


def test_cell_text_of_workbook_values() -> None:
    """Workbook values become the text a CSV export would hold."""
    assert cell_text(None) == ""
    assert cell_text(True) == "true"
    assert cell_text(3) == "3"
    assert cell_text(3.0) == "3"
    assert cell_text(0.8) == "0.8"
    assert cell_text(dt.datetime(2026, 3, 5)) == "2026-03-05"
    assert cell_text(dt.date(2026, 3, 5)) == "2026-03-05"
    assert cell_text("Ål") == "Ål"


def test_decimal_comma_only_when_allowed() -> None:
    """ "0,8" is 0.8 in ';' files and workbooks only; "0.8" always."""
    assert parse_decimal("0,8", decimal_comma=True) == 0.8
    assert parse_decimal(" 0.8 ", decimal_comma=True) == 0.8
    assert parse_decimal("0.8", decimal_comma=False) == 0.8
    assert parse_decimal("-2", decimal_comma=False) == -2.0
    with pytest.raises(CellError, match="with a point"):
        parse_decimal("0,8", decimal_comma=False)
    for bad in ("1.234,5", "nan", "inf", "1_0", "", "0,8,1"):
        with pytest.raises(CellError):
            parse_decimal(bad, decimal_comma=True)


def test_int_ids_text_and_lists() -> None:
    """Whole numbers, ids (with the formula quote stripped) and lists."""
    assert parse_int(" 12 ") == 12
    with pytest.raises(CellError, match="whole number"):
        parse_int("12.5")
    assert parse_id(" u1 ") == "u1"
    assert parse_id("'=x") == "=x"
    assert parse_id("'-3") == "-3"
    assert parse_id("'x") == "'x"
    with pytest.raises(CellError, match=r"an id, found an empty cell\."):
        parse_id(" ")
    assert parse_list(" a ; ;b;") == ("a", "b")
    assert parse_list("") == ()


def test_cell_error_message_shortens_long_values() -> None:
    """A long bad value is cut in the message."""
    message = str(CellError("a whole number", "x" * 100))
    assert message == f'expected a whole number, found "{"x" * 37}...".'


# --- Robustness ---------------------------------------------------------------

# Byte strings that break files in the ways hand edits and exports do.
DAMAGE = [b",", b";", b'"', b"\n", b"", b"-1", b"x", b"\xff", b"\x81", b"=", b"[", b"'"]


def test_damaged_files_raise_only_instance_error(tmp_path: Path) -> None:
    """Seeded random damage gives an Instance or an InstanceError, nothing else."""
    rng = random.Random(7)
    names = sorted(path.name for path in VALID.iterdir())
    for attempt in range(60):
        folder = tmp_path / str(attempt)
        shutil.copytree(VALID, folder)
        path = folder / rng.choice(names)
        data = bytearray(path.read_bytes())
        start = rng.randrange(len(data) + 1)
        data[start : start + rng.randint(0, 4)] = rng.choice(DAMAGE)
        path.write_bytes(bytes(data))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            try:
                read_instance(folder)
            except InstanceError as err:
                assert err.problems
