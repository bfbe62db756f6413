"""Scenario files (FORMAT.md section 6): reading, applying, errors, writing."""

from __future__ import annotations

import functools
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import allocator
from allocator.cli import main
from allocator.domain import Instance
from allocator.engine.problem import build_problem
from allocator.errors import DataWarning, InstanceError
from allocator.generate import generate
from allocator.io.instance_files import write_instance
from allocator.io.read import read_instance
from allocator.scenario import (
    Scenario,
    apply_scenario,
    find_scenario,
    read_scenario,
    scenario_files,
)
from tests.helpers import advisor, instance, user
from tests.shipped import copy_of, shipped

ROOT = Path(__file__).resolve().parents[2]
HALLINGDAL = ROOT / "instances" / "hallingdal"
TINY = ROOT / "instances" / "tiny"
SHIPPED = [
    path
    for folder in ("hallingdal", "nord-gudbrandsdal")
    for path in scenario_files(ROOT / "instances" / folder)
]


@functools.cache
def base(name: str = "hallingdal") -> Instance:
    return read_instance(ROOT / "instances" / name)


def scenario(tmp_path: Path, text: str, name: str = "s") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str, name: str = "s") -> list[str]:
    """The messages of applying ``text`` to Hallingdal, which must fail."""
    path = scenario(tmp_path, text, name)
    with pytest.raises(InstanceError) as caught:
        apply_scenario(base(), path)
    return [str(p) for p in caught.value.problems]


def advisor_of(inst: Instance, aid: str) -> allocator.domain.Advisor:
    return next(a for a in inst.advisors if a.id == aid)


# --- Errors name the scenario file, the entry and the key ---------------------


def test_where_that_matches_no_row_is_an_error(tmp_path: Path) -> None:
    """A typo in where never silently changes nothing."""
    found = problems(
        tmp_path,
        '[[advisors]]\nwhere = { team = "gol-folow_up" }\nteam = "hal-youth"\n',
    )
    assert found == [
        f"{tmp_path / 's.toml'}, column advisors[1].where: expected a where that "
        'matches rows of advisors.csv, found none with team = "gol-folow_up" '
        "(a typo would silently change nothing)."
    ]


def test_unknown_table_is_an_error(tmp_path: Path) -> None:
    found = problems(tmp_path, '[[advisor]]\nid = "a0001"\nfte = 0.5\n')
    assert len(found) == 1
    assert found[0].startswith(f"{tmp_path / 's.toml'}, column advisor: ")
    assert 'found unknown table "advisor"' in found[0]


def test_unknown_column_is_an_error(tmp_path: Path) -> None:
    found = problems(tmp_path, '[[advisors]]\nid = "a0001"\ncolour = "red"\n')
    assert len(found) == 1
    assert "column advisors[1].colour: expected a column of advisors.csv" in found[0]
    assert 'found unknown column "colour"' in found[0]


def test_unknown_column_in_where_is_an_error(tmp_path: Path) -> None:
    found = problems(
        tmp_path, '[[advisors]]\nwhere = { office = "gol" }\navailable = false\n'
    )
    assert len(found) == 1 and "column advisors[1].where.office" in found[0]


def test_unknown_id_to_remove_is_an_error(tmp_path: Path) -> None:
    found = problems(tmp_path, '[[remove]]\ntable = "advisors"\nid = "a9999"\n')
    assert found == [
        f"{tmp_path / 's.toml'}, column remove[1].id: expected a row of "
        'advisors.csv to remove, found none with id = "a9999".'
    ]


def test_unknown_id_to_change_is_a_new_row_lacking_columns(tmp_path: Path) -> None:
    """A misspelt id reads as a new row, which then lacks its required columns."""
    found = problems(tmp_path, '[[advisors]]\nid = "a00001"\nfte = 0.5\n')
    assert found == [
        f"{tmp_path / 's.toml'}, column advisors[1]: expected the key of a row of "
        'advisors.csv, or every required column for a new row; id = "a00001" is '
        "no row there, and a new row lacks team, employer, base."
    ]


def test_new_row_missing_a_required_column(tmp_path: Path) -> None:
    found = problems(tmp_path, '[[teams]]\nid = "hal-family"\nname = "Familie"\n')
    assert len(found) == 1
    assert "column teams[1]:" in found[0] and "a new row lacks kind." in found[0]


def test_removing_a_team_that_has_advisors_names_them(tmp_path: Path) -> None:
    found = problems(tmp_path, '[[remove]]\ntable = "teams"\nid = "fla-follow_up"\n')
    assert found == [
        f"{tmp_path / 's.toml'}, column remove[1]: expected team "
        '"fla-follow_up" to have no advisors when it is removed, found a0014, '
        "a0015 still in it; move them first ([[advisors]] where = { team = "
        '"fla-follow_up" }).'
    ]


def test_removing_a_municipality_where_users_live_is_an_error(tmp_path: Path) -> None:
    found = problems(tmp_path, '[[remove]]\ntable = "municipalities"\nid = "fla"\n')
    assert any("found 40 " in f or "users in municipality" in f for f in found)
    assert any("users may not be changed" in f for f in found)


@pytest.mark.parametrize(
    "text",
    [
        '[[users]]\nid = "u00001"\nage = 30\n',
        '[[remove]]\ntable = "users"\nid = "u1"\n',
    ],
)
def test_users_may_not_be_changed(tmp_path: Path, text: str) -> None:
    found = problems(tmp_path, text)
    assert len(found) == 1 and "users may not be changed" in found[0]


def test_value_of_the_wrong_type_names_entry_and_key(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        '[[advisors]]\nid = "a0001"\nfte = "full"\n'
        '[[teams]]\nid = "hal-youth"\nmunicipalities = "gol"\n',
    )
    assert found == [
        f"{tmp_path / 's.toml'}, column advisors[1].fte: expected a number, "
        'found "full".',
        f"{tmp_path / 's.toml'}, column teams[1].municipalities: expected a TOML "
        'array of ids (e.g. ["a", "b"]; [] is empty), found "gol".',
    ]


def test_rule_broken_by_a_set_cell_names_the_entry(tmp_path: Path) -> None:
    """The reader's own checks run on the changed tables; the entry is named."""
    found = problems(
        tmp_path,
        '[[advisors]]\nwhere = { team = "hal-debt" }\nfte = 1.5\n'
        '[[advisors]]\nid = "a0001"\nteam = "nowhere"\n',
    )
    assert found == [
        f"{tmp_path / 's.toml'}, column advisors[1].fte: expected a decimal in "
        "(0, 1], found 1.5.",
        f"{tmp_path / 's.toml'}, column advisors[2].team: expected a team id from "
        'teams.csv, found "nowhere".',
    ]


def test_instance_toml_problems_name_the_scenario_key(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "[policy]\ncases_per_fte = -1\n[policy.weights]\ntravle = 2\n"
        '[[host_agreement]]\nhost = "nowhere"\nmembers = ["fla"]\n',
    )
    label = str(tmp_path / "s.toml")
    assert (
        f"{label}, column policy.cases_per_fte: expected a number > 0 and at most 10000, found -1."
        in (found)
    )
    assert any(f.startswith(f"{label}, column policy.weights.travle:") for f in found)
    assert (
        f"{label}, column host_agreement[1].host: expected a municipality id from "
        'municipalities.csv, found "nowhere".'
    ) in found


def test_problem_outside_the_scenario_names_file_with_scenario(tmp_path: Path) -> None:
    """Routing that no longer matches every user: users.csv, with the scenario."""
    found = problems(
        tmp_path,
        'replace = ["routing"]\n[[routing]]\nteam_kind = "assessment"\nstatus = "new"\n',
    )
    label = str(tmp_path / "s.toml")
    assert found[0].startswith(f"users.csv with scenario {label}, row 2: expected a ")
    assert "[[routing]] rule" in found[0]


def test_fix_lock_the_structure_breaks_is_named_with_the_scenario(
    tmp_path: Path,
) -> None:
    """Hallingdal fixes u00001 (needs sickness_absence) to a0039 (locks.csv row 2)."""
    found = problems(
        tmp_path, '[[advisors]]\nid = "a0039"\ncompetences = ["labour_market"]\n'
    )
    assert len(found) == 1
    assert found[0].startswith(
        f"locks.csv with scenario {tmp_path / 's.toml'}, row 2, column advisor: "
        "fix lock of user u00001 to advisor a0039 cannot hold:"
    )
    assert "sickness_absence" in found[0]


def test_nothing_is_written_by_apply(tmp_path: Path) -> None:
    folder = tmp_path / "hallingdal"
    shutil.copytree(HALLINGDAL, folder)
    before = sorted(
        (p.relative_to(folder), p.stat().st_mtime_ns) for p in folder.rglob("*")
    )
    path = find_scenario(folder, "E")
    apply_scenario(read_instance(folder), path)
    after = sorted(
        (p.relative_to(folder), p.stat().st_mtime_ns) for p in folder.rglob("*")
    )
    assert before == after


# --- The scenario id ------------------------------------------------------------


@pytest.mark.parametrize(
    ("stem", "text"),
    [
        ("model E", ""),
        ("E", 'name = "model E"\n'),
        ("E", 'name = "E/2"\n'),
        ("E", 'name = ""\n'),
        ("base", ""),
    ],
)
def test_bad_scenario_id_is_rejected(tmp_path: Path, stem: str, text: str) -> None:
    with pytest.raises(InstanceError) as caught:
        read_scenario(scenario(tmp_path, text, stem))
    (problem,) = caught.value.problems
    assert problem.file == str(tmp_path / f"{stem}.toml")
    assert "scenario id" in problem.message


@pytest.mark.parametrize(("stem", "text", "expected"), [
    ("A-state-pooled", "", "A-state-pooled"),
    ("x", 'name = "two_office-2"\n', "two_office-2"),
    ("E", 'name = "Ål"\n', "Ål"),
    ("Ål-Hol", "", "Ål-Hol"),
    ("flaa", 'name = "Fla\u030a"\n', "Flå"),  # decomposed: read in NFC
])  # fmt: skip
def test_good_scenario_id(tmp_path: Path, stem: str, text: str, expected: str) -> None:
    read = read_scenario(scenario(tmp_path, text, stem))
    assert isinstance(read, Scenario) and read.id == expected
    assert read.source == tmp_path / f"{stem}.toml"


def test_missing_file_and_bad_toml_are_named(tmp_path: Path) -> None:
    with pytest.raises(InstanceError, match="expected a scenario file"):
        read_scenario(tmp_path / "none.toml")
    with pytest.raises(InstanceError, match="valid TOML"):
        read_scenario(scenario(tmp_path, "[[advisors]\n"))


# --- Semantics ------------------------------------------------------------------


def test_replace_alone_ends_every_agreement(tmp_path: Path) -> None:
    """replace = ["host_agreement"] without entries: no host agreement at all."""
    assert base().host_agreements
    changed = apply_scenario(
        base(), scenario(tmp_path, 'replace = ["host_agreement"]\n')
    )
    assert changed.host_agreements == ()
    assert changed.routing == base().routing


def test_arrays_without_replace_are_appended(tmp_path: Path) -> None:
    changed = apply_scenario(
        base(),
        scenario(tmp_path, '[[host_agreement]]\nhost = "al"\nmembers = ["hol"]\n'),
    )
    assert [(a.host, a.members) for a in changed.host_agreements] == [
        ("gol", ("hemsedal",)),
        ("al", ("hol",)),
    ]


def test_policy_override_key_by_key(tmp_path: Path) -> None:
    """Scalars replace; weights and cases_per_fte_by_kind merge key by key."""
    changed = apply_scenario(
        base(),
        scenario(
            tmp_path,
            "[policy]\nmax_municipalities_per_advisor = 3\n"
            "[policy.weights]\ntravel = 5\n"
            "[policy.cases_per_fte_by_kind]\nyouth = 40\n",
        ),
    )
    old, new = base().policy, changed.policy
    assert new.max_municipalities_per_advisor == 3
    assert new.weights.travel == 5
    assert new.weights.model_dump(exclude={"travel"}) == old.weights.model_dump(
        exclude={"travel"}
    )
    assert new.cases_per_fte_by_kind == {**old.cases_per_fte_by_kind, "youth": 40}
    assert new.cases_per_fte == old.cases_per_fte


def test_apply_order(tmp_path: Path) -> None:
    """replace, then policy, then the tables in the order written, then remove.

    The [[remove]] comes first in the file but runs last, after the advisors
    have left the team; the second [[advisors]] entry sees what the first did.
    """
    text = """
[[remove]]
table = "teams"
id = "fla-follow_up"

replace = ["routing"]
[[routing]]
team_kind = "follow_up"

[[advisors]]
id = "a0014"
team = "nes-follow_up"

[[advisors]]
where = { team = "nes-follow_up" }
available = false

[[advisors]]
where = { team = "fla-follow_up" }
team = "nes-follow_up"
"""
    # TOML puts top-level keys before tables, so replace is written first.
    text = 'replace = ["routing"]\n' + text.replace('replace = ["routing"]\n', "")
    changed = apply_scenario(base(), scenario(tmp_path, text))
    assert "fla-follow_up" not in {t.id for t in changed.teams}
    assert [r.team_kind for r in changed.routing] == ["follow_up"]
    # a0014 moved before the where ran, a0015 after it.
    assert advisor_of(changed, "a0014").available is False
    assert advisor_of(changed, "a0015").available is True
    assert advisor_of(changed, "a0015").team == "nes-follow_up"


def test_bulk_change_by_where_and_change_by_id(tmp_path: Path) -> None:
    changed = apply_scenario(
        base(),
        scenario(
            tmp_path,
            '[[advisors]]\nwhere = { employer = "fla" }\nemployer = "nes"\n'
            '[[advisors]]\nid = "a0009"\nmax_municipalities = ""\n'
            'competences = ["aap"]\n',
        ),
    )
    assert [a.id for a in changed.advisors if a.employer == "fla"] == []
    assert advisor_of(changed, "a0015").employer == "nes"
    assert advisor_of(changed, "a0009").max_municipalities is None
    assert advisor_of(changed, "a0009").competences == ("aap",)
    unchanged = [a for a in changed.advisors if a.id not in ("a0015", "a0009")]
    assert unchanged == [a for a in base().advisors if a.id not in ("a0015", "a0009")]


def test_where_on_a_list_column_ignores_order(tmp_path: Path) -> None:
    changed = apply_scenario(
        base(),
        scenario(
            tmp_path,
            '[[teams]]\nwhere = { municipalities = ["al", "hemsedal", "gol"] }\n'
            'name = "Gjeld"\n',
        ),
    )
    assert next(t for t in changed.teams if t.id == "hal-debt").name == "Gjeld"


def test_travel_is_keyed_by_the_pair_either_way(tmp_path: Path) -> None:
    changed = apply_scenario(
        base(), scenario(tmp_path, '[[travel]]\nfrom = "hol"\nto = "fla"\nkm = 110\n')
    )
    assert changed.travel["fla", "hol"] == changed.travel["hol", "fla"] == 110
    assert base().travel["fla", "hol"] != 110


def test_locks_added_and_removed(tmp_path: Path) -> None:
    changed = apply_scenario(
        base(),
        scenario(
            tmp_path,
            '[[locks]]\nuser = "u00002"\nadvisor = "a0010"\nkind = "forbid"\n'
            '[[remove]]\ntable = "locks"\nuser = "u00001"\nadvisor = "a0039"\n',
        ),
    )
    assert [(lock.user, lock.advisor, lock.kind) for lock in changed.locks] == [
        ("u00004", "a0016", "forbid"),
        ("u00002", "a0010", "forbid"),
    ]


def test_lock_to_an_unknown_user_names_the_entry(tmp_path: Path) -> None:
    found = problems(
        tmp_path, '[[locks]]\nuser = "u99999"\nadvisor = "a0010"\nkind = "fix"\n'
    )
    assert found == [
        f"{tmp_path / 's.toml'}, column locks[1].user: expected a user id from "
        'users.csv, found "u99999".'
    ]


def test_changed_instance_keeps_users_and_is_named(tmp_path: Path) -> None:
    path = find_scenario(HALLINGDAL, "B")
    changed = apply_scenario(base(), path)
    assert changed.users == base().users
    assert changed.name == "hallingdal-B"
    assert changed.description.startswith("Model B")
    assert changed.input_sha256 not in ("", base().input_sha256)
    assert changed.files == base().files


def test_apply_accepts_an_instance_built_in_code(tmp_path: Path) -> None:
    """Entities without row numbers (built in code) are numbered afresh."""
    inst = instance(
        [user("u1"), user("u2", "sor")],
        [advisor("a1", employer="nord"), advisor("a2")],
    )
    changed = apply_scenario(
        inst, scenario(tmp_path, '[[advisors]]\nid = "a2"\nbase = "sor"\n')
    )
    assert advisor_of(changed, "a2").base == "sor"
    assert changed.travel == inst.travel


def test_the_python_api_exports_the_scenario_verbs(tmp_path: Path) -> None:
    changed = allocator.apply_scenario(
        allocator.read_instance(HALLINGDAL), str(HALLINGDAL / "scenarios" / "D.toml")
    )
    assert {a.host for a in changed.host_agreements} == {"gol", "nes"}
    assert allocator.read_scenario(HALLINGDAL / "scenarios" / "D.toml").id == "D"


# --- Writing the changed instance ---------------------------------------------------


def test_written_instance_reads_back_equal(tmp_path: Path) -> None:
    changed = apply_scenario(base(), find_scenario(HALLINGDAL, "E"))
    write_instance(changed, tmp_path / "E")
    back = read_instance(tmp_path / "E")
    assert back.name == changed.name and back.description == changed.description
    assert back.policy == changed.policy
    assert back.host_agreements == changed.host_agreements
    assert back.routing == changed.routing
    assert back.travel == changed.travel
    for table in ("municipalities", "teams", "advisors", "users", "locks"):
        strip = {"row", "source"}
        ours = [e.model_dump(exclude=strip) for e in getattr(changed, table)]
        theirs = [e.model_dump(exclude=strip) for e in getattr(back, table)]
        assert ours == theirs, table


def test_write_instance_refuses_a_folder_with_other_files(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    copy_of("tiny", folder)  # has a README.md
    with pytest.raises(InstanceError, match=r"README\.md"):
        write_instance(shipped("tiny"), folder)
    assert (folder / "README.md").is_file()
    # A folder written here before may be written again.
    write_instance(shipped("tiny"), tmp_path / "again")
    write_instance(shipped("tiny"), tmp_path / "again")
    assert read_instance(tmp_path / "again").users == shipped("tiny").users


# --- The command line ---------------------------------------------------------------


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_scenario_has_help_with_an_example() -> None:
    code, out, _ = run("scenario", "--help")
    assert code == 0 and "Example" in out and "--out" in out
    code, out, _ = run("validate", "--help")
    assert code == 0 and "--scenario" in out


def test_cli_scenario_writes_an_ordinary_instance(tmp_path: Path) -> None:
    code, out, err = run("scenario", HALLINGDAL, "C", "--out", tmp_path / "C")
    assert code == 0, err
    assert f"written: {tmp_path / 'C'}" in out
    back = read_instance(tmp_path / "C")
    assert back.name == "hallingdal-C"
    assert {a.employer for a in back.advisors} == {"state", "gol", "al", "hol"}
    code, out, err = run("validate", tmp_path / "C")
    assert code == 0, err


def test_cli_scenario_rejects_and_writes_nothing(tmp_path: Path) -> None:
    bad = scenario(
        tmp_path, '[[advisors]]\nwhere = { team = "gol-folow_up" }\nfte = 1\n'
    )
    code, _, err = run("scenario", HALLINGDAL, bad, "--out", tmp_path / "out")
    assert code == 1
    assert "nothing was written" in err
    assert f"{bad}, column advisors[1].where" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_cli_names_the_scenario_ids_when_none_matches(tmp_path: Path) -> None:
    code, _, err = run("scenario", HALLINGDAL, "F", "--out", tmp_path / "F")
    assert code == 1
    assert "F: expected a scenario file, or the id of one in" in err
    assert "(ids there: A-state-pooled, B, C, D, E)" in err
    assert not (tmp_path / "F").exists()


def test_cli_scenario_refuses_to_overwrite_the_instance(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    copy_of("tiny", folder)
    path = scenario(tmp_path, '[[advisors]]\nid = "a3"\nfte = 1\n')
    code, _, err = run("scenario", folder, path, "--out", folder)
    assert code == 2 and "--out" in err


@pytest.mark.parametrize("command", ["validate", "solve", "check", "explain"])
def test_commands_take_scenario(tmp_path: Path, command: str) -> None:
    """--scenario applies the file first; its errors exit 1 with the entry named."""
    good = scenario(tmp_path, '[[advisors]]\nid = "a3"\nbase = "nord"\n', "good")
    bad = scenario(tmp_path, '[[advisors]]\nid = "a3"\nfte = 2\n', "bad")
    solution = tmp_path / "solution"
    code, _, err = run("solve", TINY, "--out", solution, "--quiet", "--scenario", good)
    assert code == 0, err
    extra = {"validate": [], "solve": ["--out", tmp_path / "s2", "--quiet"]}.get(
        command, [solution] + (["u1"] if command == "explain" else [])
    )
    code, _, err = run(command, TINY, *extra, "--scenario", good)
    assert code == 0, err
    code, _, err = run(command, TINY, *extra, "--scenario", bad)
    assert code == 1
    assert f"{bad}, column advisors[1].fte: expected a decimal in (0, 1]" in err


def test_check_sees_the_scenario_structure(tmp_path: Path) -> None:
    """A solution of the base breaks the scenario's rules when checked against it."""
    solution = tmp_path / "solution"
    code, _, err = run("solve", TINY, "--out", solution, "--quiet")
    assert code == 0, err
    # Without the municipal employee a2, nobody has authority for nord.
    path = scenario(tmp_path, '[[advisors]]\nid = "a2"\nemployer = "state"\n')
    code, out, _ = run("check", TINY, solution)
    assert code == 0
    code, out, _ = run("check", TINY, solution, "--scenario", path)
    assert code == 1 and "a2" in out


# --- The shipped structures ------------------------------------------------------------


def test_structures_are_shipped() -> None:
    names = {(p.parent.parent.name, p.stem) for p in SHIPPED}
    assert names == {
        ("hallingdal", "A-state-pooled"),
        ("hallingdal", "B"),
        ("hallingdal", "C"),
        ("hallingdal", "D"),
        ("hallingdal", "E"),
        ("nord-gudbrandsdal", "two-office"),
        ("nord-gudbrandsdal", "skjak-lom"),
        ("nord-gudbrandsdal", "one-host"),
    }
    for folder in {p.parent for p in SHIPPED}:
        assert (folder / "README.md").is_file()


@pytest.mark.parametrize(
    "path", SHIPPED, ids=lambda p: f"{p.parent.parent.name}/{p.stem}"
)
def test_every_shipped_scenario_applies_validates_and_solves(path: Path) -> None:
    """Applies without a problem or warning, builds the model and solves."""
    name = path.parent.parent.name
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        changed = apply_scenario(base(name), path)
    assert changed.name == f"{name}-{path.stem}"
    assert changed.users == base(name).users
    problem = build_problem(changed)
    assert problem.instance is changed
    # And it solves: this week's users under the new structure, urgent ones placed.
    solution = allocator.solve(changed, time_limit=5, seed=0)
    assert solution.summary["status"] in ("optimal", "feasible")
    assert solution.summary["kpis"]["urgent_unassigned"] == 0
    assert len(solution.assignments) == len(base(name).users)


def test_scenario_on_a_workbook_instance(tmp_path: Path) -> None:
    """Labels stay the workbook's sheets; its locks stay locks, not extra locks."""
    from tests.io.test_read import VALID, write_workbook

    folder = tmp_path / "book"
    folder.mkdir()
    write_workbook(VALID, folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        book = read_instance(folder)
        changed = apply_scenario(
            book, scenario(tmp_path, '[[advisors]]\nid = "a4"\navailable = true\n')
        )
    assert changed.locks == book.locks
    assert next(a for a in changed.advisors if a.id == "a4").available is True
    # A cell the scenario did not write is named in its sheet, with the scenario.
    path = scenario(tmp_path, '[[remove]]\ntable = "advisors"\nid = "a3"\n', "drop")
    with pytest.raises(InstanceError) as caught, warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        apply_scenario(book, path)
    (problem,) = caught.value.problems
    assert problem.file == f"caseload.xlsx[Locks] with scenario {path}"
    assert (problem.row, problem.column) == (2, "advisor")


# --- The overlay loses nothing ----------------------------------------------------------


def same_instance(one: Instance, two: Instance) -> None:
    """Equal in every entity (rows and lock sources included), policy and travel."""
    for field in (
        "week",
        "policy",
        "competences",
        "host_agreements",
        "routing",
        "municipalities",
        "teams",
        "advisors",
        "users",
        "locks",
        "travel",
        "files",
        "extra_columns",
    ):
        assert getattr(one, field) == getattr(two, field), field


def with_office_column(folder: Path) -> Path:
    """A copy of tiny whose advisors.csv carries an unknown "Office" column."""
    copy_of("tiny", folder)
    path = folder / "advisors.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    offices = ["Office", "Nord", "=Nord", " Sør "]
    path.write_text(
        "\n".join(f"{line},{o}" for line, o in zip(lines, offices, strict=True)) + "\n",
        encoding="utf-8",
    )
    return folder


def test_carried_columns_can_be_matched_and_set(tmp_path: Path) -> None:
    """An unknown column the instance carries is text to where and to set."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        inst = read_instance(with_office_column(tmp_path / "office"))
    changed = apply_scenario(
        inst,
        scenario(
            tmp_path,
            '[[advisors]]\nwhere = { Office = "Sør" }\nOffice = "Otta"\n'
            '[[advisors]]\nid = "a1"\noffice = 3\n',
        ),
    )
    assert [a.extra for a in changed.advisors] == [
        {"Office": "3"},
        {"Office": "=Nord"},
        {"Office": "Otta"},
    ]


def test_a_scenario_that_changes_nothing_gives_the_base_back(tmp_path: Path) -> None:
    """Instance -> rows -> reader -> Instance is lossless on every shipped shape.

    Setting a value a row already has changes nothing, so everything but the
    name, description and hash must come back equal, rows and all: hand-made
    (tiny), with locks and road distances (hallingdal), an extra column and
    a decimal comma (the reader's semicolon fixture), and generated regions.
    """
    folders = [TINY, HALLINGDAL, ROOT / "tests/data/read/semicolon"]
    folders.append(with_office_column(tmp_path / "office"))
    for seed in (1, 2, 3):
        folder = tmp_path / f"region{seed}"
        generate(40, 600, 5, seed=seed, out=folder)
        folders.append(folder)
    for folder in folders:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            inst = read_instance(folder)
            first = inst.advisors[0]
            text = (
                f'[[advisors]]\nid = "{first.id}"\nfte = {first.fte}\n'
                f'[[advisors]]\nwhere = {{ team = "{first.team}" }}\n'
                f'team = "{first.team}"\n'
            )
            changed = apply_scenario(inst, scenario(tmp_path, text, "same"))
        same_instance(changed, inst)
        assert changed.name == f"{inst.name}-same"


FORMAT_EXAMPLE = """
name = "E"                                   # optional; default: the file's stem
description = "One host municipality (Gol) for all six; shared follow-up"

replace = ["host_agreement"]                 # arrays below replace the base's;
                                             # without this they are appended
[[host_agreement]]
host = "gol"
members = ["fla", "nes", "hemsedal", "al", "hol"]

[policy]                                     # keys override the base policy
max_municipalities_per_advisor = 3           # (sub-tables such as weights key by key)

[[teams]]                                    # by id: change the given columns of
id = "hal-follow_up"                         # that row, or add a new row when the
name = "NAV Hallingdal oppfølging"           # id is new (then every required
kind = "follow_up"                           # column must be given)

[[advisors]]                                 # bulk change: every row whose columns
where = { team = "gol-follow_up" }           # equal all values in `where`...
team = "hal-follow_up"                       # ...gets these values

[[advisors]]
where = { employer = "fla" }                 # municipal staff move to the host
employer = "gol"

[[remove]]                                   # delete rows: by id or by where
table = "teams"
id = "gol-follow_up"
"""


def test_the_format_example_applies_as_written(tmp_path: Path) -> None:
    """FORMAT.md section 6's example, verbatim, on the Hallingdal instance."""
    changed = apply_scenario(base(), scenario(tmp_path, FORMAT_EXAMPLE, "example"))
    assert changed.name == "hallingdal-E"
    assert changed.description == (
        "One host municipality (Gol) for all six; shared follow-up"
    )
    assert [(a.host, a.members) for a in changed.host_agreements] == [
        ("gol", ("fla", "nes", "hemsedal", "al", "hol"))
    ]
    assert changed.policy.max_municipalities_per_advisor == 3
    teams = {t.id: t for t in changed.teams}
    assert "gol-follow_up" not in teams
    assert teams["hal-follow_up"].kind == "follow_up"
    assert teams["hal-follow_up"].municipalities == ()
    moved = {a.id for a in base().advisors if a.team == "gol-follow_up"}
    assert {a.id for a in changed.advisors if a.team == "hal-follow_up"} == moved
    assert {a.id for a in changed.advisors if a.employer == "gol"} == {
        a.id for a in base().advisors if a.employer in ("gol", "fla")
    }


# --- where matches exactly the rows whose values are equal -------------------------------

WHERE_COLUMNS = ("team", "employer", "base", "fte", "casework_share", "available")


def toml_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


@settings(max_examples=25, deadline=None)
@given(
    columns=st.lists(
        st.sampled_from(WHERE_COLUMNS), min_size=1, max_size=2, unique=True
    ),
    pick=st.integers(min_value=0, max_value=39),
)
def test_where_changes_exactly_the_matching_rows(columns: list[str], pick: int) -> None:
    """Typed values (numbers, booleans, ids) match the cells they equal, no more."""
    advisors = base().advisors
    model = advisors[pick]
    where = {c: getattr(model, c) for c in columns}
    inline = ", ".join(f"{c} = {toml_literal(v)}" for c, v in where.items())
    folder = Path(tempfile.mkdtemp())
    try:
        path = folder / "w.toml"
        path.write_text(f'[[advisors]]\nwhere = {{ {inline} }}\nname = "X"\n')
        changed = apply_scenario(base(), path)
    finally:
        shutil.rmtree(folder)
    expected = [
        "X" if all(getattr(a, c) == v for c, v in where.items()) else a.name
        for a in advisors
    ]
    assert [a.name for a in changed.advisors] == expected
    assert "X" in expected
