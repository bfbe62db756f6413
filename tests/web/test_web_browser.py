"""The team leader's flow in a real browser (headless Chromium via Playwright).

Upload a workbook, allocate, see the table, lock a user, re-allocate,
download; the page must log no console error and ask no other host for
anything. Skipped, with the reason, where no Chromium is installed.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import openpyxl
import pytest

import allocator
from allocator.web.app import Settings
from tests.web_server import INSTANCES, REPO, Server, running_server

CHROMIUM = Path(os.environ.get("ALLOCATOR_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The README's picture is refreshed only when asked for
# (ALLOCATOR_SCREENSHOT=1), so that a test run leaves the tree unchanged.
SCREENSHOT = REPO / "solutions" / "screenshots" / "web-page.png"

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install playwright)"
)
if not CHROMIUM.exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM} (apt-get install chromium, or set "
        "ALLOCATOR_CHROMIUM); the browser tests need it",
        allow_module_level=True,
    )


def workbook_instance(source: Path, target: Path) -> Path:
    """``source``'s tables as one workbook named by instance.toml."""
    target.mkdir(parents=True)
    book = openpyxl.Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for table in ("municipalities", "teams", "advisors", "users", "locks", "travel"):
        path = source / f"{table}.csv"
        if path.exists():
            sheet = book.create_sheet(table)
            with path.open(encoding="utf-8", newline="") as handle:
                for row in csv.reader(handle):
                    sheet.append(row)
    book.save(target / "caseload.xlsx")
    config = (source / "instance.toml").read_text(encoding="utf-8")
    (target / "instance.toml").write_text(
        'workbook = "caseload.xlsx"\n' + config, encoding="utf-8"
    )
    return target


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("serve-browser")
    with running_server(Settings(workdir=workdir, slots=2)) as running:
        yield running


# Console lines a test expects: Chromium logs every 4xx answer, and a
# rejected upload is answered 400 on purpose.
EXPECTED_CONSOLE: list[str] = []


@pytest.fixture
def page(server: Server, tmp_path: Path) -> Iterator[object]:
    """A fresh browser profile; every console error and foreign request kept."""
    problems: list[str] = []
    EXPECTED_CONSOLE.clear()
    own = urlsplit(server.url).netloc
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            accept_downloads=True,
            locale="nb-NO",
            viewport={"width": 1280, "height": 900},
        )

        def on_request(request: object) -> None:
            url = request.url  # type: ignore[attr-defined]
            parts = urlsplit(url)
            if parts.scheme in {"data", "blob", "about"}:
                return
            if parts.netloc != own:
                problems.append(f"request to another host: {url}")

        def on_console(message: object) -> None:
            if message.type == "error":  # type: ignore[attr-defined]
                problems.append(f"console error: {message.text}")  # type: ignore[attr-defined]

        context.on("request", on_request)
        page = context.pages[0] if context.pages else context.new_page()
        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        yield page
        context.close()
    assert [p for p in problems if p not in EXPECTED_CONSOLE] == []


def test_the_leaders_flow_upload_allocate_lock_reallocate_download(
    page: object, server: Server, tmp_path: Path
) -> None:
    p = page  # type: ignore[assignment]
    folder = workbook_instance(INSTANCES / "hallingdal", tmp_path / "week48")
    p.goto(server.url + "/")
    # The browser asks for Norwegian: Norwegian labels.
    assert p.locator("html").get_attribute("lang") == "nb"
    sync_api.expect(p.locator("#allocate")).to_have_text("Fordel")
    # The language switch.
    with p.expect_navigation():
        p.get_by_role("link", name="English").click()
    p.wait_for_load_state("load")
    sync_api.expect(p.locator("#allocate")).to_have_text("Allocate")
    assert p.locator("html").get_attribute("lang") == "en"

    # The drop zone opens the file chooser from the keyboard (the dialog
    # itself is suppressed here; the files are then set on the field).
    p.evaluate(
        """() => document.getElementById("files").addEventListener("click",
            (event) => { window.chooserOpened = true; event.preventDefault(); })"""
    )
    p.locator("#drop").focus()
    p.keyboard.press("Enter")
    p.wait_for_function("() => window.chooserOpened === true", timeout=10_000)
    p.set_input_files(
        "#files", [str(folder / "instance.toml"), str(folder / "caseload.xlsx")]
    )
    sync_api.expect(p.locator("#file-list li")).to_have_count(2)
    p.fill("#time_limit", "5")
    p.locator("#allocate").focus()
    p.keyboard.press("Enter")

    sync_api.expect(p.locator("#results-section")).to_be_visible(timeout=120_000)
    sync_api.expect(p.locator("#status")).to_have_attribute("data-status", "done")
    sync_api.expect(p.locator("#showing")).to_contain_text("of 650")
    rows = p.locator("#users tbody tr")
    assert rows.count() == 100  # the first page: 100 of 650

    # Filter to one municipality's users.
    p.fill("#filter", "hemsedal")
    first = rows.first
    user = first.locator("th").inner_text()
    advisor = first.get_attribute("data-advisor")
    assert all("Hemsedal" in r.inner_text() for r in rows.all()[:20])

    # Lock the first user away from their advisor, the second to theirs.
    first.get_by_role("button", name=f"Not this advisor: {user} – ").click()
    second = rows.nth(1)
    kept_user = second.locator("th").inner_text()
    kept_advisor = second.get_attribute("data-advisor")
    second.get_by_role("button", name="Keep with this advisor").click()
    sync_api.expect(p.locator("#locks li")).to_have_count(2)
    first_job = p.evaluate("() => document.querySelector('#downloads a').href")

    p.get_by_role("button", name="Re-allocate with these locks").click()
    sync_api.expect(p.locator("#status")).not_to_have_attribute(
        "data-status", "done", timeout=10_000
    )
    sync_api.expect(p.locator("#status")).to_have_attribute(
        "data-status", "done", timeout=120_000
    )
    sync_api.expect(p.locator("#users tbody tr").first).to_be_visible()
    second_job = p.evaluate("() => document.querySelector('#downloads a').href")
    assert second_job != first_job
    # The carried locks show on the rows.
    p.fill("#filter", user)
    row = p.locator(f'#users tr[data-user="{user}"]')
    sync_api.expect(row.locator(".lock.forbid")).to_contain_text(advisor)
    assert row.get_attribute("data-advisor") != advisor
    p.fill("#filter", kept_user)
    row = p.locator(f'#users tr[data-user="{kept_user}"]')
    assert row.get_attribute("data-advisor") == kept_advisor

    # The report, shown on the page when asked for, from this server only.
    p.get_by_text("Show the report on this page").click()
    report = p.frame_locator("#report-frame")
    sync_api.expect(report.locator("h1").first).to_be_visible(timeout=30_000)

    # Download the workbook and the table, as a leader would.
    with p.expect_download() as download:
        p.get_by_role("link", name="allocation.xlsx").click()
    saved = tmp_path / "allocation.xlsx"
    download.value.save_as(saved)
    assert openpyxl.load_workbook(saved).sheetnames[0]
    with p.expect_download() as download:
        p.get_by_role("link", name="assignments.csv").click()
    answer = tmp_path / "solution"
    answer.mkdir()
    download.value.save_as(answer / "assignments.csv")
    placed = {
        row["user"]: row["advisor"]
        for row in csv.DictReader(
            io.StringIO((answer / "assignments.csv").read_text(encoding="utf-8"))
        )
    }
    assert placed[user] != advisor and placed[kept_user] == kept_advisor
    # The whole folder passes the independent checker, locks included.
    links = p.locator("#downloads a")
    for index in range(links.count()):
        name = links.nth(index).inner_text()
        if name == "assignments.csv":
            continue
        with p.expect_download() as download:
            links.nth(index).click()
        download.value.save_as(answer / name)
    locked = allocator.read_instance(
        folder,
        locks=[
            allocator.domain.Lock(user=user, advisor=advisor, kind="forbid"),
            allocator.domain.Lock(user=kept_user, advisor=kept_advisor, kind="fix"),
        ],
    )
    assert allocator.check(locked, answer) == []


def test_rejected_files_show_their_located_errors_beside_their_names(
    page: object, server: Server, tmp_path: Path
) -> None:
    p = page  # type: ignore[assignment]
    folder = tmp_path / "broken"
    shutil.copytree(INSTANCES / "tiny", folder)
    users = folder / "users.csv"
    users.write_text(
        users.read_text(encoding="utf-8").replace("u2,sor,35,", "u2,sor,tretti,"),
        encoding="utf-8",
    )
    EXPECTED_CONSOLE.append(
        "console error: Failed to load resource: the server responded with a "
        "status of 400 (Bad Request)"
    )
    p.goto(server.url + "/?lang=en")
    p.set_input_files("#files", [str(f) for f in sorted(folder.glob("*.*"))])
    p.get_by_role("button", name="Allocate").click()
    item = p.locator('#file-list li[data-file="users.csv"]')
    sync_api.expect(item.locator(".problem")).to_contain_text("row 3, column age")
    sync_api.expect(p.locator("#upload-message")).to_contain_text("rejected")
    assert p.locator("#progress-section").is_hidden()
    # The value itself is never echoed (user data).
    assert "tretti" not in p.locator("#file-list").inner_text()


# English words a Norwegian page must not show: the page's own labels, the
# values of the solution's files (statuses, change kinds, stop reasons,
# true/false) and the solver's words. "Team", "Status" and "full" are Norwegian
# too, and file names (assignments.csv) stay as they are in every language.
ENGLISH = {
    "allocate",
    "allocation",
    "assigned",
    "unassigned",
    "waiting",
    "moved",
    "arrived",
    "left",
    "lost",
    "false",
    "true",
    "yes",
    "proof",
    "gap",
    "seed",
    "objective",
    "bound",
    "advisor",
    "advisors",
    "user",
    "users",
    "reason",
    "download",
    "downloads",
    "upload",
    "summary",
    "changes",
    "change",
    "lock",
    "locks",
    "locked",
    "unlock",
    "kept",
    "keep",
    "showing",
    "of",
    "done",
    "stopped",
    "searching",
    "queued",
    "failed",
    "page",
    "next",
    "previous",
    "report",
    "warnings",
    "filter",
    "municipality",
    "kind",
    "from",
    "from_team",
    "to_team",
    "team_change",
    "wall_clock",
    "deterministic_time",
    "interrupted",
    "elapsed",
    "compare",
    "structures",
    "results",
    "placed",
    "unplaced",
    "moves",
    "ended",
    "the",
    "and",
    "with",
    "capacity",
    "routing",
    "rule",
    "weight",
    "weighs",
    "outweighs",
    "make",
    "room",
    "would",
    "otherwise",
    "none",
    "all",
    "show",
    "skip",
}


def english_words(text: str) -> list[str]:
    """Words of ``text`` that are English; a file name is one word."""
    words = re.findall(r"[\w.]+", text)
    return sorted({w for w in words if w.lower() in ENGLISH})


def norwegian_excel(source: Path, target: Path) -> Path:
    """``source``'s CSV files as Norwegian Excel saves them: ``;``-separated,
    a byte-order mark, CRLF line ends and decimal commas."""
    target.mkdir(parents=True)
    for path in source.iterdir():
        if path.suffix != ".csv":
            shutil.copy(path, target / path.name)
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        for row in rows:
            writer.writerow([re.sub(r"^(-?\d+)\.(\d+)$", r"\1,\2", c) for c in row])
        (target / path.name).write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode())
    assert b";" in (target / "users.csv").read_bytes().split(b"\r\n")[0]
    return target


def last_weeks_workbook(folder: Path, locks: int) -> tuple[Path, list[str]]:
    """Week 1 of hallingdal solved, its allocation.xlsx in Norwegian, with
    ``fix`` typed in the lock column of the first ``locks`` placed users."""
    from allocator import i18n

    with i18n.language("nb"):
        solution = allocator.solve(
            allocator.read_instance(INSTANCES / "hallingdal"), time_limit=5, seed=0
        )
        solution.write(folder, xlsx=True)
        lock = i18n._("lock")
        advisor_column = i18n._("advisor")
        sheet_name = i18n._("assignments")
    book = openpyxl.load_workbook(folder / "allocation.xlsx")
    sheet = book[sheet_name]
    header = [c.value for c in sheet[1]]
    lock_at, advisor_at = header.index(lock), header.index(advisor_column)
    locked: list[str] = []
    for row in sheet.iter_rows(min_row=2):
        if len(locked) == locks:
            break
        # Users without a lock in locks.csv, so that each lock is new.
        if row[advisor_at].value and row[0].value not in {"u00001", "u00004"}:
            row[lock_at].value = "fix"
            locked.append(str(row[0].value))
    book.save(folder / "allocation.xlsx")
    return folder / "allocation.xlsx", locked


def test_a_norwegian_leader_sees_no_english_after_a_whole_flow(
    page: object, server: Server, tmp_path: Path
) -> None:
    """Upload a ;-separated week 2 with last week's workbook, allocate, lock
    from a row found by the filter, re-allocate, sort, page and read the
    changes: every cell filled, names beside ids, no English word."""
    p = page  # type: ignore[assignment]
    folder = norwegian_excel(INSTANCES / "hallingdal-week2", tmp_path / "week2")
    workbook, _ = last_weeks_workbook(tmp_path / "week1", locks=2)
    p.goto(server.url + "/")
    assert p.locator("html").get_attribute("lang") == "nb"
    p.set_input_files("#files", [str(f) for f in sorted(folder.iterdir())])
    p.set_input_files("#previous", str(workbook))
    p.fill("#time_limit", "5")
    p.get_by_role("button", name="Fordel", exact=True).click()
    # Focus stays on the status line while the job runs.
    sync_api.expect(p.locator("#job-line")).to_be_focused()
    sync_api.expect(p.locator("#results-section")).to_be_visible(timeout=120_000)
    sync_api.expect(p.locator("#status")).to_have_attribute("data-status", "done")
    # What was read from last week's workbook.
    sync_api.expect(p.locator("#plan-read")).to_have_text(
        "Lest fra forrige ukes fordeling: 650 brukere, 2 låser"
    )

    # The ;-file's table: every user's cells filled, names beside ids,
    # statuses in words, lock buttons on the placed users' rows.
    sync_api.expect(p.locator("#showing")).to_contain_text("av 676")
    rows = p.locator("#users tbody tr")
    assert rows.count() == 100
    first = rows.first
    cells = [first.locator("th").inner_text(), *first.locator("td").all_inner_texts()]
    assert all(cell.strip() for cell in cells[:6]), cells
    assert re.fullmatch(r"\S.* \(a\d{4}\)", cells[3]), cells[3]
    assert cells[4] in {"har veileder", "venter"}
    assert p.locator("#users tbody button").count() >= 100

    # The waiting users, with the reason why, sorted by municipality.
    p.select_option("#status-filter", "unassigned")
    p.get_by_role("button", name="Kommune").click()
    sync_api.expect(p.locator("#users th[data-sort=municipality]")).to_have_attribute(
        "aria-sort", "ascending"
    )
    waiting = p.locator("#users tbody tr")
    assert waiting.count() > 0
    assert all(r.get_attribute("data-status") == "unassigned" for r in waiting.all())
    assert all(t.strip() != "–" for t in waiting.locator("td.reason").all_inner_texts())
    p.select_option("#status-filter", "")

    # Paging: the second page of the users.
    p.get_by_role("button", name="Neste side").click()
    sync_api.expect(p.locator("#showing")).to_contain_text("101–200")

    # One user found by the filter and locked from the keyboard: Enter in
    # the filter lands on their lock buttons.
    p.fill("#filter", "hemsedal")
    p.locator("#filter").press("Enter")
    focused = p.evaluate("() => document.activeElement.closest('tr').dataset.user")
    row = p.locator(f'#users tr[data-user="{focused}"]')
    advisor = row.get_attribute("data-advisor")
    p.keyboard.press("Tab")  # from "keep" to "not this advisor"
    p.keyboard.press("Enter")
    sync_api.expect(p.locator("#locks li")).to_have_count(1)
    p.get_by_role("link", name="Hopp over tabellen").click()
    sync_api.expect(p.locator("#locks-heading")).to_be_focused()
    p.get_by_role("button", name="Fordel på nytt med disse låsene").click()
    sync_api.expect(p.locator("#status")).not_to_have_attribute(
        "data-status", "done", timeout=10_000
    )
    sync_api.expect(p.locator("#status")).to_have_attribute(
        "data-status", "done", timeout=120_000
    )
    p.fill("#filter", focused)
    row = p.locator(f'#users tr[data-user="{focused}"]')
    sync_api.expect(row.locator(".lock.forbid")).to_contain_text(advisor)
    assert row.get_attribute("data-advisor") != advisor

    # The changes table: columns and values in words.
    changes = p.locator("#changes")
    heads = changes.locator("th").all_inner_texts()
    assert "endring" in heads and "kind" not in heads
    kinds = set(changes.locator("tbody tr td:nth-child(2)").all_inner_texts())
    assert kinds and kinds <= {"flyttet", "mistet veileder", "kommet til", "sluttet"}

    p.fill("#filter", "hemsedal")
    shot = (
        SCREENSHOT if os.environ.get("ALLOCATOR_SCREENSHOT") else tmp_path / "page.png"
    )
    p.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    p.fill("#filter", "")
    assert english_words(p.locator("body").inner_text()) == []
