"""report.html and allocation.xlsx for a leader: legend colours, limits, words."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

ROOT = Path(__file__).parents[2]


def run(*args):
    return subprocess.run(
        [str(Path(sys.executable).with_name("allocator")), *map(str, args)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )


@pytest.fixture(scope="module")
def week2(tmp_path_factory):
    root = tmp_path_factory.mktemp("w")
    done = run("solve", "instances/hallingdal", "--out", root / "w1",
               "--time-limit", "2", "--workers", "1", "--quiet")
    assert done.returncode == 0, done.stderr
    done = run("solve", "instances/hallingdal-week2", "--previous", root / "w1",
               "--out", root / "w2", "--xlsx", "--time-limit", "2", "--workers",
               "1", "--quiet")
    assert done.returncode == 0, done.stderr
    return root / "w2"


def chart_svg(page: str, chart_id: str) -> str:
    start = page.index(f'id="{chart_id}-h"')
    return page[start:page.index("</svg>", start)]


def fills(svg: str) -> list[str]:
    return re.findall(r"fill: ?(#[0-9a-fA-F]{6})", svg)


def test_legend_swatches_are_the_bar_colours(week2):
    page = (week2 / "report.html").read_text(encoding="utf-8")
    svg = chart_svg(page, "utilisation")
    legend_at = svg.index('id="utilisation-legend_1"')
    bars, legend = set(fills(svg[:legend_at])), fills(svg[legend_at:])
    # One swatch per team (8 in Hallingdal), each a colour some bar has, and
    # no two teams share a swatch; none is matplotlib's default blue.
    swatches = [c.lower() for c in legend if c.lower() != "#ffffff"]
    assert len(set(swatches)) >= 7
    assert set(swatches) <= {c.lower() for c in bars}
    assert "#1f77b4" not in swatches


def test_per_advisor_municipality_limits_are_shown(week2):
    page = (week2 / "report.html").read_text(encoding="utf-8")
    start = page.index('id="spread-h"')
    spread = page[start:page.index("</section>", start)]
    assert "own limit 3: 2 advisor(s)" in spread
    assert "a0009, a0010" in spread


def test_distinct_section_titles_and_one_word_per_meaning(week2):
    page = (week2 / "report.html").read_text(encoding="utf-8")
    titles = re.findall(r"<h2 [^>]*>([^<]+)</h2>", page)
    assert len(titles) == len(set(titles))
    # The summary's waiting users and the changes' "lost their advisor" are
    # two meanings, two words.
    assert "Waiting for an advisor (of them urgent)" in page
    assert "lost their advisor" in page


def test_the_lock_column_has_a_drop_down(week2):
    book = load_workbook(week2 / "allocation.xlsx")
    sheet = book["assignments"]
    header = [c.value for c in sheet[1]]
    letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[header.index("lock")]
    (choice,) = sheet.data_validations.dataValidation
    assert choice.type == "list" and choice.formula1 == '"fix,forbid"'
    assert str(choice.sqref) == f"{letter}2:{letter}{sheet.max_row}"


def test_the_legend_sits_right_of_the_bars(week2):
    page = (week2 / "report.html").read_text(encoding="utf-8")
    svg = chart_svg(page, "utilisation")
    axes = re.search(r'id="utilisation-patch_2">\s*<path d="([^"]+)"', svg).group(1)
    axes_right = max(float(x) for x in re.findall(r"L ([\d.]+) ", axes))
    legend = svg[svg.index('id="utilisation-legend_1"'):]
    swatch_left = [float(x) for x in re.findall(r'<path d="M ([\d.]+) ', legend)]
    assert swatch_left and min(swatch_left) > axes_right
