"""Comparisons on the page: POST /api/comparisons over HTTP, and the /compare
step in headless Chromium (skipped, with the reason, without a browser).
"""

from __future__ import annotations

import csv
import io
import os
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from allocator.web.app import Settings
from tests.web_server import INSTANCES, REPO, Server, running_server, zip_folder

LEAVE = b"""description = "Advisor Two on leave"

[[advisors]]
id = "a2"
available = false
"""
CHROMIUM = Path(os.environ.get("ALLOCATOR_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOT = REPO / "solutions" / "screenshots" / "compare-page.png"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("serve-compare")
    with running_server(Settings(workdir=workdir, slots=2)) as running:
        yield running


def wait(client: httpx.Client, job_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/comparisons/{job_id}").json()
        if job["status"] in {"done", "stopped", "failed"}:
            return job
        assert time.monotonic() < deadline, f"comparison still {job['status']}"
        time.sleep(0.25)


def test_post_a_comparison_and_download_its_files(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        answer = client.post(
            "/api/comparisons",
            files=[
                (
                    "files",
                    ("tiny.zip", zip_folder(INSTANCES / "tiny"), "application/zip"),
                ),
                ("scenarios", ("Flå-leave.toml", LEAVE, "application/toml")),
            ],
            data={"seeds": "1", "time_limit": "1"},
        )
        assert answer.status_code == 202, answer.text
        job = wait(client, answer.json()["id"])
        assert job["status"] == "done", job
        assert job["files"] == ["comparison.csv", "comparison.html", "comparison.json"]
        table = client.get(f"/api/comparisons/{job['id']}/files/comparison.csv")
        rows = list(csv.DictReader(io.StringIO(table.text)))
        assert [r["scenario"] for r in rows] == ["base", "Flå-leave"]
        assert rows[1]["description"] == "Advisor Two on leave"
        archive = client.get(f"/api/comparisons/{job['id']}/archive")
        names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
        assert "comparison/Flå-leave/seed-0/assignments.csv" in names
        assert "comparison/base/instance/users.csv" in names


def test_a_bad_scenario_is_refused_with_its_place(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        answer = client.post(
            "/api/comparisons",
            files=[
                (
                    "files",
                    ("tiny.zip", zip_folder(INSTANCES / "tiny"), "application/zip"),
                ),
                ("scenarios", ("bad.toml", b"colour = 1\n", "application/toml")),
            ],
        )
        assert answer.status_code == 400
        (problem,) = answer.json()["errors"]
        assert problem["file"].endswith("bad.toml") and "colour" in problem["message"]


def test_a_comparison_can_be_stopped(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        answer = client.post(
            "/api/comparisons",
            files=[
                (
                    "files",
                    ("h.zip", zip_folder(INSTANCES / "hallingdal"), "application/zip"),
                )
            ],
            data={"shipped": ["hallingdal/E"], "seeds": "1", "time_limit": "30"},
        )
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["id"]
        deadline = time.monotonic() + 60
        while client.get(f"/api/comparisons/{job_id}").json()["status"] != "solving":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert client.delete(f"/api/comparisons/{job_id}").status_code == 202
        job = wait(client, job_id, timeout=60)
        assert job["status"] == "stopped" and job["files"] == []


# --- In the browser ----------------------------------------------------------------


@pytest.fixture
def page(server: Server) -> Iterator[Any]:
    """Headless Chromium with every console error and foreign request kept."""
    yield from browser_tab(server, locale=None)


@pytest.fixture
def norwegian_page(server: Server) -> Iterator[Any]:
    """The same, with the browser set to Norwegian (Accept-Language nb-NO)."""
    # Its flow sends an empty form on purpose: Chromium logs the 400 answer.
    yield from browser_tab(server, locale="nb-NO", expected=[REFUSED])


REFUSED = (
    "Failed to load resource: the server responded with a status of 400 (Bad Request)"
)


def browser_tab(
    server: Server, locale: str | None, expected: list[str] | None = None
) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="no Playwright")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (set ALLOCATOR_CHROMIUM)")
    problems: list[str] = []
    own = urlsplit(server.url).netloc
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        options: dict[str, Any] = {"locale": locale} if locale else {}
        context = browser.new_context(
            accept_downloads=True, viewport={"width": 1280, "height": 900}, **options
        )

        def on_request(request: Any) -> None:
            parts = urlsplit(request.url)
            if parts.scheme not in {"data", "blob", "about"} and parts.netloc != own:
                problems.append(f"request to another host: {request.url}")

        context.on("request", on_request)
        tab = context.new_page()
        tab.on(
            "console",
            lambda m: problems.append(m.text) if m.type == "error" else None,
        )
        tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        yield tab
        context.close()
        browser.close()
    for line in expected or []:
        if line in problems:
            problems.remove(line)
    assert problems == []


def test_the_comparison_step_in_a_browser(
    page: Any, server: Server, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page.goto(server.url + "/")
    page.get_by_role("link", name="Compare structures").click()
    page.wait_for_load_state("load")
    upload = tmp_path / "tiny.zip"
    upload.write_bytes(zip_folder(INSTANCES / "tiny"))
    leave = tmp_path / "leave.toml"
    leave.write_bytes(LEAVE)
    page.set_input_files("#cmp-files", [str(upload)])
    page.set_input_files("#cmp-scenarios", [str(leave)])
    page.fill("#cmp-seeds", "1")
    page.fill("#cmp-time-limit", "1")
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("#cmp-progress-section")).to_be_visible()
    expect(page.locator("#cmp-result-section")).to_be_visible(timeout=180_000)
    expect(page.locator("#cmp-status")).to_have_attribute("data-status", "done")
    frame = page.frame_locator("#cmp-frame")
    expect(frame.locator("body")).to_contain_text("Advisor Two on leave")
    expect(frame.locator("body")).to_contain_text("today's structure")
    expect(frame.locator("body")).to_contain_text("what it means")
    with page.expect_download() as caught:
        page.get_by_role("link", name="comparison.csv").click()
    saved = tmp_path / "comparison.csv"
    caught.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert [r["scenario"] for r in rows] == ["base", "leave"]
    page.screenshot(path=str(tmp_path / "p.png"), full_page=True)


# English words the comparison step showed before it took its words from the
# catalogues: labels, headings, table headers, figure names, verdicts,
# statuses, settings, buttons and refusals. File names (comparison.csv) and
# ids are not words and are left out before the check.
ENGLISH = (
    "compare", "comparison", "comparing", "structures", "instance", "shipped",
    "seeds", "seed", "progress", "elapsed", "stop", "done", "failed", "waiting",
    "warning", "every", "side by side", "settings", "what was run", "figure",
    "what it means", "risk factor", "better", "higher", "lower", "real",
    "within the band", "one seed", "solve not trusted", "users placed",
    "unassigned", "utilisation", "travel", "coverage", "leakage", "freed",
    "gap", "today's structure", "no description", "time limit", "where it ran",
    "this process", "how each structure is solved", "when a solve stops",
    "upload", "no instance was sent", "the", "of", "and", "mean", "users",
    "advisor", "weight", "FTE", "base",
)  # fmt: skip
NOT_WORDS = re.compile(r"\S+\.(?:csv|json|html|zip|toml)\b|allocator|\.toml")


def english_words(text: str) -> list[str]:
    """The words of ENGLISH found in ``text`` (whole words, any case)."""
    text = NOT_WORDS.sub(" ", text)
    return sorted(
        {w for w in ENGLISH if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])",
                                         text, re.IGNORECASE)}
    )  # fmt: skip


def test_english_words_are_caught() -> None:
    """The list catches what the step showed in English before."""
    before = (
        "Compare structures. Seeds (their spread is the band a difference must "
        "clear). Status done. Structures done 2 of 2. Side by side: figure, "
        "what it means, better: lower. users placed 10 (+0) one seed. "
        "warning: a lock was dropped. every structure's files (comparison.zip)"
    )
    assert {"compare", "done", "figure", "lower", "one seed", "users placed",
            "warning", "every"} <= set(english_words(before))  # fmt: skip
    assert english_words("Sammenlign strukturer; comparison.csv, leave.toml") == []


def test_the_comparison_step_in_norwegian(
    norwegian_page: Any, server: Server, tmp_path: Path
) -> None:
    """A whole comparison with the browser in nb-NO: a refusal, the progress,
    the result and comparison.html show no English word from the list."""
    from playwright.sync_api import expect

    page = norwegian_page
    page.goto(server.url + "/")
    page.get_by_role("link", name="Sammenlign strukturer").click()
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "nb"
    # Nothing chosen: the refusal is in Norwegian too.
    page.get_by_role("button", name="Sammenlign").click()
    expect(page.locator("#cmp-message")).to_contain_text("ble avvist")
    refused = page.locator("#cmp-message").inner_text()
    assert english_words(refused) == [], refused
    upload = tmp_path / "tiny.zip"
    upload.write_bytes(zip_folder(INSTANCES / "tiny"))
    leave = tmp_path / "permisjon.toml"
    leave.write_bytes(
        LEAVE.replace(b"Advisor Two on leave", "Veileder to har permisjon".encode())
    )
    page.set_input_files("#cmp-files", [str(upload)])
    page.set_input_files("#cmp-scenarios", [str(leave)])
    page.fill("#cmp-seeds", "2")
    page.fill("#cmp-time-limit", "1")
    page.get_by_role("button", name="Sammenlign").click()
    expect(page.locator("#cmp-progress-section")).to_be_visible()
    expect(page.locator("#cmp-status")).not_to_be_empty()
    seen = [page.locator("#cmp-progress-section").inner_text()]
    expect(page.locator("#cmp-result-section")).to_be_visible(timeout=180_000)
    expect(page.locator("#cmp-status")).to_have_attribute("data-status", "done")
    frame = page.frame_locator("#cmp-frame")
    expect(frame.locator("body")).to_contain_text("Veileder to har permisjon")
    expect(frame.locator("body")).to_contain_text("dagens struktur")
    expect(frame.locator("body")).to_contain_text("hva det betyr")
    seen += [
        page.locator("body").inner_text(),
        frame.locator("body").inner_text(),
        # What a screen reader reads besides the text: labels and titles.
        " ".join(page.locator("[aria-label]").evaluate_all(
            "els => els.map(e => e.getAttribute('aria-label'))")),
        page.title(),
    ]  # fmt: skip
    found = {text[:60]: english_words(text) for text in seen}
    assert all(words == [] for words in found.values()), found
    with page.expect_download() as caught:
        page.get_by_role("link", name="comparison.csv").click()
    saved = tmp_path / "comparison.csv"
    caught.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    # The file keeps its columns and ids whatever the page's language.
    assert [r["scenario"] for r in rows] == ["base", "base", "permisjon", "permisjon"]
    assert "unassigned" in rows[0]
    # The comparison itself in the picture: the frame painted before the shot.
    page.locator("#cmp-frame").scroll_into_view_if_needed()
    expect(frame.locator("h1")).to_be_visible()
    page.wait_for_timeout(300)
    shot = SCREENSHOT if os.environ.get("ALLOCATOR_SCREENSHOT") else tmp_path / "p.png"
    page.screenshot(path=str(shot), full_page=True)
