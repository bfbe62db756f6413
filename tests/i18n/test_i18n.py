"""--lang nb: report.html, allocation.xlsx and explain in Norwegian words."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from allocator import i18n
from tests.shipped import copy_of

ROOT = Path(__file__).parents[2]
# English words a Norwegian leader must not meet: headings, statuses, reasons.
ENGLISH = [
    "Summary", "Shortages", "Unassigned", "unassigned", "Changes", "Utilisation",
    "advisor", "capacity", "eligible", "waiting", "assigned", "optimal",
    "feasible", "moved", "arrived", "routing", "objective", "weight", "reason",
    "municipality", "Travel", "Load", "placed", "lock",
]


def run(*args):
    return subprocess.run(
        [str(Path(sys.executable).with_name("allocator")), *map(str, args)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )


def english_in(text: str) -> list[str]:
    return [w for w in ENGLISH if re.search(rf"\b{w}\b", text)]


@pytest.fixture(scope="module")
def nb_solution(tmp_path_factory):
    out = tmp_path_factory.mktemp("nb") / "s"
    done = run("solve", "instances/tiny", "--out", out, "--xlsx", "--lang", "nb",
               "--workers", "1", "--quiet")
    assert done.returncode == 0, done.stderr
    # The page is rebuilt in the language summary.json records (nb).
    rebuilt = run("report", out)
    assert rebuilt.returncode == 0, rebuilt.stderr
    return out


def test_report_html_in_nb_has_no_english_heading_or_reason(nb_solution):
    page = (nb_solution / "report.html").read_text(encoding="utf-8")
    assert '<html lang="nb">' in page
    visible = re.sub(r"<svg.*?</svg>|<style>.*?</style>", "", page, flags=re.S)
    visible = re.sub(r"<[^>]+>", " ", visible)
    assert "Oppsummering" in visible and "Brukere som venter på veileder" in visible
    assert english_in(visible) == []


def test_allocation_xlsx_in_nb_has_norwegian_sheets_and_headers(nb_solution):
    book = load_workbook(nb_solution / "allocation.xlsx", read_only=True)
    assert book.sheetnames[:2] == ["oppsummering", "fordeling"]
    header = next(book["fordeling"].iter_rows(max_row=1, values_only=True))
    assert "veileder" in header and "lås" in header
    assert english_in(" ".join(str(h) for h in header)) == []


def test_explain_in_nb_names_people_and_the_first_change(nb_solution):
    done = run("explain", "instances/tiny", nb_solution, "u4", "--lang", "nb")
    assert done.returncode == 0, done.stderr
    assert "det første du kan endre" in done.stdout
    assert english_in(done.stdout) == [], done.stdout


def test_the_csv_columns_and_values_do_not_change(nb_solution):
    header = (nb_solution / "assignments.csv").read_text().splitlines()[0]
    assert header.startswith("user,municipality,team,advisor,status")
    assert ",unassigned," in (nb_solution / "assignments.csv").read_text()


def test_numbers_and_dates_in_norwegian_form():
    with i18n.language("nb"):
        assert i18n.percent(0.94) == "94\u00a0%"
        assert i18n.number(1.5) == "1,5"
        assert i18n.date("2026-12-06") == "06.12.2026"
    with i18n.language("en"):
        assert i18n.number(1.5) == "1.5"


@pytest.mark.parametrize(
    ("header", "expected"),
    [("nb-NO,nb;q=0.9,en;q=0.8", "nb"), ("no", "nb"), ("nn-NO", "nn"),
     ("de-DE,en;q=0.5", "en"), (None, "en")],
)
def test_the_browser_language_is_negotiated(header, expected):
    assert i18n.negotiate(header) == expected


@pytest.fixture(scope="module")
def hallingdal_week2_nb(tmp_path_factory):
    """Hallingdal week 1 (English), then week 2 with --lang nb and the workbook."""
    root = tmp_path_factory.mktemp("hallingdal")
    week1 = run("solve", "instances/hallingdal", "--out", root / "w1",
                "--time-limit", "2", "--workers", "1", "--quiet")
    assert week1.returncode == 0, week1.stderr
    week2 = run("solve", "instances/hallingdal-week2", "--previous", root / "w1",
                "--out", root / "w2", "--xlsx", "--lang", "nb", "--time-limit", "2",
                "--workers", "1", "--quiet")
    assert week2.returncode == 0, week2.stderr
    return root / "w2"


def visible_text(page: str) -> str:
    page = re.sub(r"<svg.*?</svg>|<style>.*?</style>", "", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


def test_hallingdal_week2_report_in_nb_has_no_english_word(hallingdal_week2_nb):
    page = (hallingdal_week2_nb / "report.html").read_text(encoding="utf-8")
    text = visible_text(page)
    assert "Brukere som venter på veileder" in text and "ny denne uka" in text
    assert english_in(text) == []


def test_hallingdal_week2_workbook_in_nb_has_no_english_word(hallingdal_week2_nb):
    book = load_workbook(hallingdal_week2_nb / "allocation.xlsx", read_only=True)
    cells = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells += [c for c in row if isinstance(c, str)]
    assert "fordeling" in book.sheetnames
    assert english_in(" \n ".join(cells)) == []


def test_hallingdal_week2_workbook_in_nb_reads_back(hallingdal_week2_nb, tmp_path):
    """A Norwegian workbook still serves as --previous (sheet and columns in nb)."""
    done = run("solve", "instances/hallingdal-week2", "--previous",
               hallingdal_week2_nb / "allocation.xlsx", "--out", tmp_path / "again",
               "--time-limit", "2", "--workers", "1", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "users read" in done.stderr


def test_hallingdal_week2_explain_in_nb(hallingdal_week2_nb):
    rows = (hallingdal_week2_nb / "assignments.csv").read_text().splitlines()
    waiting = next(r.split(",")[0] for r in rows[1:] if ",unassigned," in r)
    placed = next(r.split(",")[0] for r in rows[1:] if ",assigned," in r)
    for user in (waiting, placed):
        done = run("explain", "instances/hallingdal-week2", hallingdal_week2_nb,
                   user, "--lang", "nb")
        assert done.returncode == 0, done.stderr
        assert english_in(done.stdout) == [], done.stdout
        assert "det første du kan endre" in done.stdout
    # Names beside ids, and the figures behind "full".
    done = run("explain", "instances/hallingdal-week2", hallingdal_week2_nb,
               waiting, "--lang", "nb")
    assert re.search(r"[A-ZÆØÅ][a-zæøå]+ [A-ZÆØÅ][a-zæøå]+ \(a\d{4}\)", done.stdout)


def test_explain_in_nynorsk(nb_solution):
    done = run("explain", "instances/tiny", nb_solution, "u4", "--lang", "nn")
    assert done.returncode == 0, done.stderr
    assert "brukar u4" in done.stdout and "det første du kan endre" in done.stdout
    assert english_in(done.stdout) == [], done.stdout


def test_instance_language_key_is_used_unless_lang_says_otherwise(tmp_path):

    folder = tmp_path / "tiny"
    copy_of("tiny", folder)
    toml = folder / "instance.toml"
    original = toml.read_text(encoding="utf-8")
    toml.write_text('language = "nb"\n' + original, encoding="utf-8")
    done = run("solve", folder, "--out", tmp_path / "s", "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert "brukere" in done.stdout
    done = run("solve", folder, "--out", tmp_path / "t", "--workers", "1", "--lang", "en")
    assert "users" in done.stdout and "brukere" not in done.stdout
    toml.write_text('language = "de"\n' + original, encoding="utf-8")
    done = run("validate", folder)
    assert done.returncode == 1
    assert 'instance.toml, column language: expected "nb" or "nn" or "en"' in done.stderr


@pytest.mark.parametrize(("lang", "said"), [("nb", "lagret"), ("nn", "lagra"), ("en", "written")])
def test_solve_says_where_it_wrote_in_the_chosen_language(tmp_path, lang, said):
    out = tmp_path / "s"
    done = run("solve", "instances/tiny", "--out", out, "--quiet", "--no-xlsx", "--lang", lang)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{said}: {out}\n"
