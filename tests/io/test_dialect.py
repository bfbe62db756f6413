"""CSV outputs follow users.csv's dialect, and every reader takes both back."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.cli import main
from allocator.io.read import read_instance
from allocator.io.solution_files import read_solution_files, solution_tables
from allocator.io.write import csv_text

INSTANCES = Path(__file__).parents[2] / "instances"
DECIMAL_INPUT = {"fte", "casework_share", "weight", "lat", "lon", "km"}
CSV_OUTPUTS = (
    "assignments.csv",
    "advisor_load.csv",
    "team_load.csv",
    "municipality_load.csv",
    "changes.csv",
    "progress.csv",
)


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def as_norwegian_excel(source: Path, target: Path) -> Path:
    """Copy an instance with every CSV as Norwegian Excel saves it.

    ';'-separated, decimal comma, UTF-8 with a byte-order mark, CRLF.
    """
    shutil.copytree(source, target)
    for path in target.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        header = rows[0]
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(header)
        for row in rows[1:]:
            writer.writerow(
                [
                    cell.replace(".", ",") if column in DECIMAL_INPUT else cell
                    for column, cell in zip(header, row, strict=True)
                ]
            )
        path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    return target


@pytest.fixture(scope="module")
def nordic(tmp_path_factory) -> tuple[Path, Path]:
    """hallingdal as a ';' export, solved once: (instance, solution)."""
    base = tmp_path_factory.mktemp("nordic")
    folder = as_norwegian_excel(INSTANCES / "hallingdal", base / "hallingdal")
    out = base / "solution"
    code, _, err = run("solve", folder, "--out", out, "--quiet", "--time-limit", "5")
    assert code == 0, err
    return folder, out


def test_the_reader_records_the_dialect(nordic, tmp_path):
    folder, _ = nordic
    assert read_instance(folder).dialect == ";"
    assert read_instance(INSTANCES / "hallingdal").dialect == ","


def test_semicolon_input_gives_semicolon_outputs_with_bom_crlf_decimal_comma(nordic):
    _, out = nordic
    for name in CSV_OUTPUTS:
        data = (out / name).read_bytes()
        assert data.startswith(b"\xef\xbb\xbf"), name
        text = data[3:].decode("utf-8")
        header = text.split("\r\n", 1)[0]
        assert ";" in header and "," not in header, name
        assert "\n" not in text.replace("\r\n", ""), name
    advisors = (out / "advisor_load.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(advisors, newline=""), delimiter=";"))
    fractions = [
        r["utilisation"] for r in rows if r["utilisation"] not in ("0", "1", "")
    ]
    assert fractions and all("," in value and "." not in value for value in fractions)
    # A list cell holding ';' is quoted, as Excel does.
    assert any('"' in line for line in advisors.splitlines() if line.count(";") > 9)


def test_comma_input_keeps_comma_outputs(tmp_path):
    out = tmp_path / "out"
    code, _, err = run("solve", INSTANCES / "tiny", "--out", out, "--quiet")
    assert code == 0, err
    for name in CSV_OUTPUTS:
        data = (out / name).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf") and b"\r\n" not in data, name
        assert b"," in data.split(b"\n", 1)[0], name


def test_semicolon_outputs_pass_the_checker(nordic):
    folder, out = nordic
    code, stdout, _ = run("check", folder, out)
    assert code == 0, stdout


def test_checker_still_catches_a_wrong_figure_in_a_semicolon_file(nordic, tmp_path):
    folder, out = nordic
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    path = broken / "advisor_load.csv"
    text = path.read_bytes().decode("utf-8-sig")
    lines = text.split("\r\n")
    cells = lines[1].split(";")
    cells[4] = "999,5"  # load
    lines[1] = ";".join(cells)
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8"))
    code, stdout, _ = run("check", folder, broken)
    assert code == 1 and "load is '999.5'" in stdout


def test_semicolon_solution_is_read_back_by_previous_and_explain(nordic, tmp_path):
    folder, out = nordic
    again = tmp_path / "again"
    code, _, err = run("solve", folder, "--previous", out, "--out", again, "--quiet")
    assert code == 0, err
    summary = json.loads((again / "summary.json").read_text(encoding="utf-8"))
    assert summary["kpis"]["reassignments"] == 0
    assert (
        summary["kpis"]["assigned"]
        == json.loads((out / "summary.json").read_text(encoding="utf-8"))["kpis"][
            "assigned"
        ]
    )
    code, stdout, err = run("explain", folder, out, "u00002")
    assert code == 0 and "u00002" in stdout, err


def test_report_tables_read_both_dialects_alike(nordic):
    _, out = nordic
    tables = solution_tables(read_solution_files(out))
    rows = tables["advisor_load"]
    assert all(isinstance(r["utilisation"], float | None) for r in rows)
    assert all(isinstance(r["municipalities"], list) for r in rows)
    # The same rows written with ',' read back to the same values.
    header = list(rows[0])
    comma = csv_text(
        [dict(r, municipalities=";".join(r["municipalities"])) for r in rows], header
    )
    files = {"advisor_load.csv": comma, "summary.json": "{}"}
    assert solution_tables(files)["advisor_load"] == rows
