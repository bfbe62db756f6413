"""The reports in a real browser: headless Chromium driven by Playwright.

Each page must open from the file alone: no console error, no page error, no
request to any other place than the file itself, every chart drawn with a
size, names shown as text, and no accessibility violation that axe-core
(vendored in tests/vendor/axe-core, MPL-2.0) finds. Skipped with a message
where Chromium or Playwright is missing; .ci/run installs Chromium, and under CI=true a missing
Chromium fails instead.

Set ALLOCATOR_SCREENSHOTS=DIR to keep a screenshot of each page there.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from allocator.cli import main
from allocator.render.html import comparison_page
from tests.shipped import copy_of

INSTANCES = Path(__file__).parents[2] / "instances"
AXE = Path(__file__).parents[1] / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("ALLOCATOR_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
MAX_BYTES = 3_000_000
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests, but {CHROMIUM} is missing")
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install it (apt-get install -y chromium, "
            "as .ci/run does) or set ALLOCATOR_CHROMIUM to run the browser tests"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "Playwright's Python package is not installed (pip install playwright)"
        )
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=ARGS, headless=True,
            viewport={"width": 1100, "height": 1500},
        )  # fmt: skip
        yield context
        context.close()


def open_page(browser: Any, path: Path) -> dict[str, Any]:
    """Open ``path`` and collect what went wrong while it loaded."""
    page = browser.new_page()
    seen: dict[str, Any] = {"errors": [], "requests": [], "dialogs": [], "page": page}
    page.on(
        "console",
        lambda m: seen["errors"].append(m.text) if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    # Anything but the file is recorded above and stopped here, never sent.
    page.route(re.compile(r"^(?!file:)"), lambda route: route.abort())
    start = time.perf_counter()
    page.goto(path.as_uri(), wait_until="load")
    seen["load_s"] = time.perf_counter() - start
    return seen


def assert_sound(seen: dict[str, Any], path: Path, charts: int) -> None:
    page = seen["page"]
    assert seen["errors"] == []
    assert seen["dialogs"] == []
    # The only request is the file itself: nothing from any host.
    assert seen["requests"] == [path.as_uri()]
    boxes = page.eval_on_selector_all(
        "figure svg.chart",
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [r.width, r.height, e.querySelectorAll('path, use').length]; })",
    )
    assert len(boxes) == charts
    for width, height, marks in boxes:
        assert width > 300 and height > 100 and marks > 5
    assert accessibility_violations(page) == []
    assert path.stat().st_size < MAX_BYTES


def assert_legend_matches_bars(page: Any) -> None:
    """Every chart's legend as drawn: each swatch has the colour of some bar
    of its chart, no two entries share one, and the legend sits right of
    the bars it names (never over them)."""
    legends = page.evaluate(
        """() => [...document.querySelectorAll('[id$="-legend_1"]')].map((legend) => {
          const svg = legend.closest("svg");
          const fill = (e) => getComputedStyle(e).fill;
          const plain = (f) => f && f !== "none" && f !== "rgb(255, 255, 255)";
          const swatches = [...legend.querySelectorAll("path")].map(fill).filter(plain);
          const colours = new Set(swatches);
          const drawn = [...svg.querySelectorAll("path")].filter((e) => !legend.contains(e));
          const bars = drawn.filter((e) => colours.has(fill(e)));
          return {
            id: legend.id,
            swatches,
            barColours: [...new Set(drawn.map(fill))],
            barsRight: Math.max(...bars.map((e) => e.getBoundingClientRect().right)),
            legendLeft: legend.getBoundingClientRect().left,
          };
        })"""
    )
    assert len(legends) >= 2
    for drawn in legends:
        assert len(drawn["swatches"]) >= 2, drawn["id"]
        assert len(set(drawn["swatches"])) == len(drawn["swatches"]), drawn["id"]
        assert set(drawn["swatches"]) <= set(drawn["barColours"]), drawn["id"]
        assert drawn["legendLeft"] >= drawn["barsRight"] - 1, drawn["id"]


def accessibility_violations(page: Any) -> list[tuple[str, int]]:
    """axe-core's violations on the open page: (rule id, nodes)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async tags => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    return [(v["id"], len(v["nodes"])) for v in result["violations"]]


def keep_screenshot(page: Any, name: str) -> None:
    folder = os.environ.get("ALLOCATOR_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name))


def solved(tmp_path: Path, instance: Path, *extra: object) -> Path:
    out = tmp_path / "solution"
    code, _, err = run("solve", instance, "--out", out, "--quiet", *extra)
    assert code == 0, err
    return out


def assert_rebuild_identical(out: Path) -> None:
    written = (out / "report.html").read_bytes()
    code, _, err = run("report", out)
    assert code == 0, err
    assert (out / "report.html").read_bytes() == written


@pytest.mark.parametrize("name", ["hallingdal", "lillestrom"])
def test_shipped_reports_open_clean(browser, tmp_path, name):
    out = solved(tmp_path, INSTANCES / name, "--time-limit", "5")
    report = out / "report.html"
    seen = open_page(browser, report)
    assert_sound(seen, report, charts=6)
    assert_legend_matches_bars(seen["page"])
    keep_screenshot(seen["page"], f"report-{name}.png")
    seen["page"].close()
    assert_rebuild_identical(out)


@pytest.mark.slow
def test_a_40000_user_region_opens_clean_and_small(browser, tmp_path):
    region = tmp_path / "region"
    code, _, err = run("generate", "--advisors", "1000", "--users", "40000",
                       "--municipalities", "40", "--seed", "1", "--out", region)  # fmt: skip
    assert code == 0, err
    out = solved(tmp_path, region, "--time-limit", "5")
    report = out / "report.html"
    seen = open_page(browser, report)
    assert_sound(seen, report, charts=6)
    keep_screenshot(seen["page"], "report-region.png")
    print(f"region report: {report.stat().st_size} bytes, load {seen['load_s']:.2f} s")
    seen["page"].close()
    assert_rebuild_identical(out)


def test_markup_in_a_team_name_shows_as_text(browser, tmp_path):
    folder = tmp_path / "tiny"
    copy_of("tiny", folder)
    teams = folder / "teams.csv"
    name = '"<img src=x onerror=alert(1)><b>Bold</b><script>alert(2)</script>"'
    teams.write_text(
        teams.read_text(encoding="utf-8").replace("Follow-up", name),
        encoding="utf-8",
    )
    report = solved(tmp_path, folder) / "report.html"
    seen = open_page(browser, report)
    page = seen["page"]
    assert_sound(seen, report, charts=6)
    assert page.locator("main b, main img, main script").count() == 0
    page.locator("#teams details summary").click()
    shown = page.locator("#teams table").inner_text()
    assert "<b>Bold</b>" in shown and "<script>alert(2)</script>" in shown
    page.close()


def test_comparison_page_opens_clean(browser, tmp_path):
    rows = []
    for scenario, travel in (("base", 3450.0), ("E", 3900.0), ("B", 3500.0)):
        for seed in (0, 1):
            rows.append({"scenario": scenario, "seed": seed, "gap": 0.0,
                         "assigned": 650, "unassigned": seed, "utilisation_max": 1.0,
                         "utilisation_min": 0.5 + seed / 10, "utilisation_mean": 0.8,
                         "travel_km": travel + 20 * seed, "coverage_min": 1,
                         "single_points": 3, "uncovered": 0, "n1_worst_weight": 9.0,
                         "n1_mean_weight": 2.5, "leakage_fte": 0.4,
                         "freed_fte": 1.1, "shortage_fte": 0.0})  # fmt: skip
    path = tmp_path / "comparison.html"
    path.write_text(comparison_page(rows, {"instance": "hallingdal", "seeds": "0, 1"}),
                    encoding="utf-8")  # fmt: skip
    seen = open_page(browser, path)
    assert_sound(seen, path, charts=5)
    keep_screenshot(seen["page"], "comparison.png")
    seen["page"].close()


def test_the_checks_can_fail(browser, tmp_path):
    """A page without lang, with an unlabelled image and an outside request."""
    path = tmp_path / "bad.html"
    path.write_text(
        "<!DOCTYPE html><html><head><title>x</title></head><body>"
        '<img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script>'
        "</body></html>",
        encoding="utf-8",
    )
    seen = open_page(browser, path)
    assert "boom" in seen["errors"]
    assert "http://127.0.0.1:9/x.png" in seen["requests"]
    rules = {rule for rule, _ in accessibility_violations(seen["page"])}
    assert {"html-has-lang", "image-alt"} <= rules
    seen["page"].close()
