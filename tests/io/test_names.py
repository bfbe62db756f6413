"""Municipalities as people type them: by id, name (any case, NFC) or number."""

from __future__ import annotations

import shutil
import unicodedata
import warnings
from pathlib import Path

import pytest

from allocator.errors import DataWarning, InstanceError
from allocator.io.read import read_instance

HALLINGDAL = Path(__file__).parents[2] / "instances" / "hallingdal"


def copy(tmp_path: Path) -> Path:
    folder = tmp_path / "hallingdal"
    shutil.copytree(HALLINGDAL, folder)
    return folder


def set_municipality(folder: Path, user: str, value: str) -> None:
    path = folder / "users.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        cells = line.split(",")
        if cells[0] == user:
            cells[1] = value
            lines[i] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_with_warnings(folder: Path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        instance = read_instance(folder)
    return instance, [str(w.message) for w in caught if w.category is DataWarning]


def test_names_hol_and_al_are_read_as_their_ids_with_warnings(tmp_path):
    folder = copy(tmp_path)
    set_municipality(folder, "u00001", "Hol")
    # Ål as a Mac types it (decomposed, NFD) and in capitals.
    set_municipality(folder, "u00002", unicodedata.normalize("NFD", "ÅL"))
    instance, said = read_with_warnings(folder)
    by_id = {u.id: u.municipality for u in instance.users}
    assert by_id["u00001"] == "hol"
    assert by_id["u00002"] == "al"
    assert "users.csv, row 2, column municipality: read as municipality id hol." in said
    assert "users.csv, row 3, column municipality: read as municipality id al." in said
    # The warning names the id chosen, never the cell's value (user data).
    assert not any("Hol" in s or "ÅL" in s for s in said)


def test_a_misspelt_municipality_is_rejected_with_did_you_mean(tmp_path):
    folder = copy(tmp_path)
    set_municipality(folder, "u00001", "hemsdal")
    with pytest.raises(InstanceError) as error:
        read_instance(folder)
    (problem,) = error.value.problems
    assert (problem.file, problem.row, problem.column) == ("users.csv", 2, "municipality")
    assert "did you mean hemsedal" in str(problem)
    assert "hemsdal" not in str(problem).replace("hemsedal", "")


def test_a_municipality_number_is_read_where_municipalities_csv_gives_numbers(tmp_path):
    folder = copy(tmp_path)
    path = folder / "municipalities.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    numbers = {"fla": "3320", "nes": "3322", "gol": "3324", "hemsedal": "3326",
               "al": "3328", "hol": "3330"}
    lines = [lines[0] + ",number"] + [
        line + "," + numbers.get(line.split(",")[0], "") for line in lines[1:]
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    set_municipality(folder, "u00001", "3330")
    instance, said = read_with_warnings(folder)
    assert next(u for u in instance.users if u.id == "u00001").municipality == "hol"
    assert "users.csv, row 2, column municipality: read as municipality id hol." in said
    assert next(m for m in instance.municipalities if m.id == "hol").number == "3330"


def test_an_advisor_base_by_name(tmp_path):
    folder = copy(tmp_path)
    path = folder / "advisors.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    base_column = lines[0].split(",").index("base")
    cells[base_column] = "Gol"
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    instance, said = read_with_warnings(folder)
    assert instance.advisors[0].base == "gol"
    assert "advisors.csv, row 2, column base: read as municipality id gol." in said


def test_a_team_and_a_locked_advisor_by_their_exact_names(tmp_path):
    folder = tmp_path / "week2"
    shutil.copytree(HALLINGDAL.with_name("hallingdal-week2"), folder)
    advisors = folder / "advisors.csv"
    text = advisors.read_text(encoding="utf-8")
    advisors.write_text(
        text.replace("a0008,Sindre Sørli,hal-youth,", "a0008,Sindre Sørli,nav hallingdal team ung,"),
        encoding="utf-8",
    )
    name = next(
        line.split(",")[1] for line in text.splitlines() if line.startswith("a0039,")
    )
    locks = folder / "locks.csv"
    locks.write_text(
        locks.read_text(encoding="utf-8").replace("u00001,a0039,", f"u00001,{name},"),
        encoding="utf-8",
    )
    instance, said = read_with_warnings(folder)
    assert next(a for a in instance.advisors if a.id == "a0008").team == "hal-youth"
    assert any(lock.user == "u00001" and lock.advisor == "a0039" for lock in instance.locks)
    assert "advisors.csv, row 9, column team: read as team id hal-youth." in said
    assert "locks.csv, row 2, column advisor: read as advisor id a0039." in said
