"""report.html and comparison.html without a browser: content, escaping, bytes."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.cli import main
from allocator.render import charts
from allocator.render.html import comparison_page, comparison_table, report_page
from tests.shipped import copy_of

INSTANCES = Path(__file__).parents[2] / "instances"
MARKUP = '<script>alert(1)</script><b>Bold</b> & $x^2$ "q"'


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


class Page(HTMLParser):
    """Every start tag with its attributes, and the text, of one page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


@pytest.fixture(scope="module")
def marked(tmp_path_factory) -> Path:
    """tiny with markup, a formula and a '$' in a team name, solved."""
    base = tmp_path_factory.mktemp("marked")
    folder = base / "tiny"
    copy_of("tiny", folder)
    teams = folder / "teams.csv"
    quoted = '"' + MARKUP.replace('"', '""') + '"'
    teams.write_text(
        teams.read_text(encoding="utf-8").replace("Follow-up", quoted),
        encoding="utf-8",
    )
    out = base / "solution"
    code, _, err = run("solve", folder, "--out", out, "--quiet")
    assert code == 0, err
    return out


def test_every_chart_has_a_title_question_and_table(marked):
    page = Page((marked / "report.html").read_text(encoding="utf-8"))
    ids = [a.get("id") for a in page.named("section")]
    for chart_id in ("utilisation", "teams", "municipalities", "spread", "changes",
                     "travel", "summary", "shortages", "unassigned"):  # fmt: skip
        assert chart_id in ids
    assert len(page.named("svg")) == 6
    assert len(page.named("figure")) == 6 and len(page.named("figcaption")) == 6
    for svg in page.named("svg"):
        assert svg.get("role") == "img" and svg.get("aria-labelledby")
    # One table per chart, plus the summary (tiny has no shortage or changes).
    assert len(page.named("table")) >= 7


def test_no_outside_reference_and_nothing_to_fetch(marked):
    text = (marked / "report.html").read_text(encoding="utf-8")
    page = Page(text)
    for tag in ("script", "link", "img", "iframe", "object", "embed", "base"):
        assert not page.named(tag), tag
    for _, attrs in page.tags:
        assert "src" not in attrs
        href = attrs.get("href") or attrs.get("xlink:href")
        assert href is None or href.startswith("#"), href
    assert "@import" not in text and "url(http" not in text
    assert "<style>" in text and text.count("<style>") == 1


def test_names_are_text_never_markup(marked):
    text = (marked / "report.html").read_text(encoding="utf-8")
    page = Page(text)
    assert not page.named("script") and not page.named("b")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;Bold&lt;/b&gt;" in text
    assert "Bold" in "".join(page.text)


def test_accessible_structure(marked):
    text = (marked / "report.html").read_text(encoding="utf-8")
    page = Page(text)
    assert page.named("html")[0].get("lang") == "en"
    assert page.named("title") and len(page.named("h1")) == 1
    assert len(page.named("h2")) >= 8
    for landmark in ("header", "nav", "main", "footer"):
        assert len(page.named(landmark)) == 1, landmark
    assert page.named("nav")[0].get("aria-label")
    assert all(th.get("scope") in ("col", "row") for th in page.named("th"))
    assert len(page.named("caption")) == len(page.named("table"))
    ids = [attrs["id"] for _, attrs in page.tags if attrs.get("id")]
    assert len(ids) == len(set(ids)), "ids must be unique on the page"


def test_same_solution_same_bytes_and_report_rebuilds_them(marked, tmp_path):
    written = (marked / "report.html").read_bytes()
    copy = tmp_path / "copy"
    shutil.copytree(marked, copy)
    (copy / "report.html").unlink()
    code, _, err = run("report", copy)
    assert code == 0, err
    assert (copy / "report.html").read_bytes() == written
    code, _, err = run("report", copy)
    assert (copy / "report.html").read_bytes() == written


def test_rerun_of_the_solve_gives_the_same_page(tmp_path):
    pages = []
    for name in ("a", "b"):
        out = tmp_path / name
        code, _, err = run("solve", INSTANCES / "tiny", "--out", out, "--quiet")
        assert code == 0, err
        pages.append((out / "report.html").read_bytes())
    assert pages[0] == pages[1]


def test_report_of_a_folder_without_files_fails_cleanly(tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, err = run("report", tmp_path / "empty")
    assert code == 1 and "assignments.csv" in err and "Traceback" not in err


# --- Chart data ------------------------------------------------------------------


NAMES = {"advisors": {}, "teams": {}, "municipalities": {}}


def region_rows(teams: int, per_team: int) -> tuple[list[dict], list[dict]]:
    advisors, team_rows = [], []
    kinds = ("assessment", "youth", "follow_up")
    for t in range(teams):
        team = f"t{t:03d}"
        team_rows.append({"team": team, "kind": kinds[t % 3], "advisors": per_team,
                          "assigned": 0, "load": 10.0, "capacity": 20.0})  # fmt: skip
        for a in range(per_team):
            advisors.append({"advisor": f"a{t:03d}-{a}", "team": team, "load": 1.0,
                             "capacity": 2.0, "utilisation": (a + 1) / per_team,
                             "municipalities": ["m"] * (a % 3)})  # fmt: skip
    return advisors, team_rows


def test_few_advisors_get_one_bar_each():
    advisors, teams = region_rows(3, 4)
    chart = charts.utilisation_chart(advisors, teams, NAMES)
    assert len(chart["rows"]) == 12 and chart["header"][0] == "advisor"
    assert chart["svg"].count("<title") == 1


def test_a_region_is_aggregated_by_team_kind_but_the_table_lists_every_team():
    advisors, teams = region_rows(150, 7)
    chart = charts.utilisation_chart(advisors, teams, NAMES)
    assert "by team kind" in chart["note"]
    assert len(chart["rows"]) == 150
    assert chart["rows"][0] == ["t000", "assessment", "7", "14 %", "57 %", "100 %", "0"]
    team = charts.team_chart(teams, NAMES)
    assert len(team["rows"]) == 150 and "by team kind" in team["note"]
    assert len(chart["svg"]) < 400_000


def test_spread_counts_advisors_per_number_of_municipalities():
    advisors, _ = region_rows(2, 6)
    chart = charts.spread_chart(advisors, limit=2)
    assert chart["rows"] == [["0", "4"], ["1", "4"], ["2", "4"]]


def test_changes_are_counted_by_team_and_kind():
    rows = [
        {"user": "u1", "kind": "moved", "from_team": "t1", "to_team": "t2"},
        {"user": "u2", "kind": "moved", "from_team": "t1", "to_team": "t1"},
        {"user": "u3", "kind": "arrived", "from_team": "", "to_team": "t2"},
        {"user": "u4", "kind": "left", "from_team": "t2", "to_team": ""},
    ]
    chart = charts.changes_chart(rows, NAMES)
    assert chart["rows"] == [["t1", "2", "0", "0", "0"], ["t2", "0", "0", "1", "1"]]


# --- Comparison page --------------------------------------------------------------


def comparison_rows() -> list[dict]:
    rows = []
    for scenario, travel, coverage in (("base", 100.0, 2), ("E<i>", 150.0, 3)):
        for seed, noise in ((0, 0.0), (1, 4.0)):
            rows.append({"scenario": scenario, "seed": seed, "status": "optimal",
                         "gap": "0.0", "assigned": 10, "unassigned": 0,
                         "utilisation_max": 0.9 + noise / 100
                         + (0.01 if scenario != "base" else 0.0),
                         "utilisation_min": 0.5, "utilisation_mean": 0.7,
                         "travel_km": travel + noise, "coverage_min": coverage,
                         "single_points": 1, "uncovered": 0,
                         "n1_worst_weight": 3.0, "n1_mean_weight": 1.0,
                         "leakage_fte": "0,5", "freed_fte": 1.0})  # fmt: skip
    return rows


def test_comparison_table_gives_differences_and_seed_ranges():
    table = comparison_table(comparison_rows())
    figures = {f["key"]: f for f in table["figures"]}
    travel = figures["travel_km"]["cells"]
    assert travel["base"]["mean"] == 102.0 and travel["base"]["diff"] is None
    assert travel["E<i>"]["diff"] == 50.0 and travel["E<i>"]["significant"]
    util = figures["utilisation_max"]["cells"]["E<i>"]
    assert util["diff"] == pytest.approx(0.01) and not util["significant"]
    low = figures["utilisation_min"]["cells"]["E<i>"]
    assert low["diff"] == 0 and low["significant"]
    assert figures["leakage_fte"]["cells"]["base"]["mean"] == 0.5


def test_comparison_page_is_self_contained_and_escaped():
    text = comparison_page(comparison_rows(), {"instance": "hallingdal", "seeds": 2})
    page = Page(text)
    assert not page.named("i") and "E&lt;i&gt;" in text
    assert not page.named("script") and not page.named("link")
    assert len(page.named("svg")) == 5
    assert "not significant" in text and "+50" in text
    assert text == comparison_page(comparison_rows(), {"instance": "hallingdal",
                                                       "seeds": 2})  # fmt: skip


def test_comparison_page_names_a_structure_cut_by_the_clock():
    rows = comparison_rows()
    for row in rows:
        if row["scenario"] == "E<i>" and row["seed"] == 1:
            row["stopped_by"] = "wall_clock"
        if row["scenario"] == "base" and row["seed"] == 0:
            row["gap"] = "0.02"
    text = comparison_page(rows, {"instance": "hallingdal", "seeds": 2})
    flag = next(p for p in text.split("<p class=\"flag\">")[1:])
    said = flag.split("</p>")[0]
    assert said.endswith(": E&lt;i&gt;, base."), said


def test_report_page_from_rows_alone():
    data = {
        "summary": {"instance": "x", "status": "optimal", "kpis": {}},
        "assignments": [],
        "advisor_load": [],
        "team_load": [],
        "municipality_load": [],
        "changes": [],
    }
    text = report_page(data)
    assert "Every user is placed." in text and len(Page(text).named("svg")) == 6


def test_report_has_help_with_an_example():
    code, out, _ = run("report", "--help")
    assert code == 0 and "Example" in out and "allocator report" in out
