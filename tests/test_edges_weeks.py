"""One truth about the weekly plan: ``solve --previous`` and ``check
--previous`` agree on every user's advisor and since date, whichever of
users.csv and the previous plan is newer.

Four weeks of Hallingdal in a row, with arrivals, leavers, a lock typed into
allocation.xlsx, a --forbid, and users.csv edited by hand (rows that have not
caught up with the plan, rows that have, a date typed over); every week
passes ``check --previous``. Then the rule's cases one by one on tiny.
"""

from __future__ import annotations

import csv
import shutil
import warnings
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import allocator
from allocator.checking import check_solution
from allocator.cli import main
from allocator.domain import Lock
from allocator.errors import DataWarning

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "instances" / "tiny"
HALLINGDAL = ROOT / "instances" / "hallingdal"
WEEK2 = ROOT / "instances" / "hallingdal-week2"


def run(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.stdout + result.stderr


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def write(path: Path, table: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)


def next_week(source: Path, target: Path, users: list[dict[str, str]]) -> Path:
    shutil.copytree(source, target)
    for path in target.iterdir():
        path.chmod(0o644)
    shutil.rmtree(target / "scenarios", ignore_errors=True)
    write(target / "users.csv", users)
    return target


def week(instance: Path, out: Path, previous: Path | None, *extra: object) -> str:
    """Solve a week and check it with --previous; returns what solve printed."""
    args: list[object] = ["solve", instance, "--out", out, "--time-limit", 2, *extra]
    if previous is not None:
        args += ["--previous", previous]
    code, text = run(*args)
    assert code == 0, text
    check = ["check", instance, out] + (["--previous", previous] if previous else [])
    code, verdict = run(*check)
    assert code == 0, verdict
    return text


def test_four_weeks_of_hallingdal_each_pass_check_previous(tmp_path: Path) -> None:
    # Week 1: the shipped first allocation.
    w1 = tmp_path / "w1"
    week(HALLINGDAL, w1, None)

    # Week 2: the shipped export (40 arrivals, 14 leavers, two advisors away).
    w2 = tmp_path / "w2"
    week(WEEK2, w2, w1)
    plan2 = {r["user"]: r for r in read(w2 / "assignments.csv")}

    # Week 3: users.csv edited by hand against week 2's plan; a fix lock typed
    # into week 2's allocation.xlsx, which is the previous plan.
    users = read(WEEK2 / "users.csv")
    leavers = {r["id"] for r in users[5::60]}
    users = [r for r in users if r["id"] not in leavers]
    template = next(r for r in users if r["status"] == "new")
    users += [template | {"id": f"u9{n:04d}"} for n in range(6)]
    moved = [u for u, r in plan2.items() if r["changed"] == "true" and r["advisor"]]
    stale = set(moved[:10])
    caught_up = [u for u, r in plan2.items() if r["advisor"] and u not in stale][:40]
    advisors = sorted({r["advisor"] for r in plan2.values() if r["advisor"]})
    for row in users:
        plan = plan2.get(row["id"])
        if plan is None:
            continue
        if row["id"] in stale:  # the export has not caught up: last week's
            row["current_advisor"] = plan["previous_advisor"]
            row["since"] = "2024-01-15"
        elif row["id"] in caught_up:  # it has, with the plan's date
            row["current_advisor"], row["since"] = plan["advisor"], plan["since"]
    typed = caught_up[-1]  # an advisor typed by hand in users.csv: the plan wins
    other = next(a for a in advisors if a != plan2[typed]["advisor"])
    next(r for r in users if r["id"] == typed)["current_advisor"] = other
    i3 = next_week(WEEK2, tmp_path / "i3", users)
    book = openpyxl.load_workbook(w2 / "allocation.xlsx")
    sheet = book["assignments"]
    columns = {c.value: c.column for c in sheet[1]}
    fixed = caught_up[0]
    for number in range(2, sheet.max_row + 1):
        if sheet.cell(number, columns["user"]).value == fixed:
            sheet.cell(number, columns["lock"]).value = "fix"
    book.save(tmp_path / "w2-edited.xlsx")
    w3 = tmp_path / "w3"
    text = week(i3, w3, tmp_path / "w2-edited.xlsx")
    if stale:
        assert "differs from the previous plan" in text
    summary3 = (w3 / "summary.json").read_text(encoding="utf-8")
    assert "1 fix" in summary3  # the typed lock was read
    plan3 = {r["user"]: r for r in read(w3 / "assignments.csv")}
    assert plan3[fixed]["advisor"] == plan2[fixed]["advisor"]
    for user in stale & set(plan3):
        # The plan's advisor and date, not the stale export's.
        assert plan3[user]["previous_advisor"] == plan2[user]["advisor"]
        if plan3[user]["advisor"] == plan2[user]["advisor"]:
            assert plan3[user]["since"] == plan2[user]["since"]
    changes3 = read(w3 / "changes.csv")
    assert sum(r["kind"] == "left" for r in changes3) == len(leavers)
    assert sum(r["kind"] == "arrived" for r in changes3) == 6

    # Week 4: the export has caught up with week 3 (one date typed over),
    # more arrivals and leavers, and a --forbid that makes one user move.
    users = [r for r in users if r["id"] not in {r["id"] for r in users[7::80]}]
    users += [template | {"id": f"u8{n:04d}"} for n in range(4)]
    for row in users:
        plan = plan3.get(row["id"])
        if plan is not None:
            row["current_advisor"], row["since"] = plan["advisor"], plan["since"]
    retyped = next(r for r in users if r["current_advisor"] and r["since"])
    retyped["since"] = "2025-06-02"
    i4 = next_week(WEEK2, tmp_path / "i4", users)
    forbidden = next(u for u, r in plan3.items() if r["advisor"] and u != fixed)
    w4 = tmp_path / "w4"
    week(i4, w4, w3, "--forbid", f"{forbidden}={plan3[forbidden]['advisor']}")
    plan4 = {r["user"]: r for r in read(w4 / "assignments.csv")}
    assert plan4[forbidden]["advisor"] != plan3[forbidden]["advisor"]
    if plan4[retyped["id"]]["advisor"] == retyped["current_advisor"]:
        assert plan4[retyped["id"]]["since"] == "2025-06-02"


# --- the rule's cases on tiny -----------------------------------------------


def tiny_plan(tmp_path: Path, changes: dict[str, dict[str, str]]) -> Path:
    """A hand-written previous plan for tiny: user -> its row's cells."""
    folder = tmp_path / "plan"
    folder.mkdir()
    header = ["user", "advisor", "previous_advisor", "since", "reason"]
    table = [
        dict.fromkeys(header, "") | {"user": u} | cells for u, cells in changes.items()
    ]
    write(folder / "assignments.csv", table)
    return folder


def tiny_with(tmp_path: Path, cells: dict[str, dict[str, str]]) -> Path:
    users = read(TINY / "users.csv")
    for row in users:
        row.update(cells.get(row["id"], {}))
    return next_week(TINY, tmp_path / "tiny", users)


def test_a_user_the_plan_left_waiting_is_not_said_to_lose_the_advisor_again(
    tmp_path: Path,
) -> None:
    """users.csv still names the advisor the plan took away: no advisor, no
    second "lost their advisor"; solve and check agree."""
    all_users = {f"u{n}": {"advisor": "a2", "since": "2026-01-05"} for n in range(1, 8)}
    all_users["u5"] = {"advisor": "", "previous_advisor": "a3", "reason": "full"}
    plan = tiny_plan(tmp_path, all_users)
    instance = tiny_with(
        tmp_path, {"u5": {"current_advisor": "a3", "since": "2025-03-03"}}
    )
    out = tmp_path / "w2"
    code, text = run(
        "solve",
        instance,
        "--out",
        out,
        "--previous",
        plan,
        "--workers",
        1,
        "--time-limit",
        2,
    )
    assert code == 0, text
    assert "names the advisor the previous plan" in text and "(u5)" in text
    row = {r["user"]: r for r in read(out / "assignments.csv")}["u5"]
    assert row["previous_advisor"] == "" and row["changed"] == "false"
    assert "u5" not in {r["user"] for r in read(out / "changes.csv")}
    assert run("check", instance, out, "--previous", plan)[0] == 0


def test_a_user_placed_by_hand_after_the_plan_keeps_that_advisor(
    tmp_path: Path,
) -> None:
    """The plan left u5 waiting; users.csv names another advisor since: that
    newer decision is the current advisor, with users.csv's date."""
    plan = tiny_plan(
        tmp_path, {"u5": {"advisor": "", "previous_advisor": "a2", "reason": "full"}}
    )
    instance = tiny_with(
        tmp_path, {"u5": {"current_advisor": "a3", "since": "2025-03-03"}}
    )
    out = tmp_path / "w2"
    assert (
        run(
            "solve",
            instance,
            "--out",
            out,
            "--previous",
            plan,
            "--workers",
            1,
            "--time-limit",
            2,
        )[0]
        == 0
    )
    row = {r["user"]: r for r in read(out / "assignments.csv")}["u5"]
    assert row["previous_advisor"] == "a3"
    if row["advisor"] == "a3":
        assert row["since"] == "2025-03-03"
    assert run("check", instance, out, "--previous", plan)[0] == 0


def test_check_previous_refuses_a_since_the_rule_does_not_give(tmp_path: Path) -> None:
    """The check is not vacuous: a since date taken from the stale export
    where the plan's applies is a violation."""
    plan = tiny_plan(tmp_path, {"u5": {"advisor": "a3", "since": "2026-01-05"}})
    instance = tiny_with(
        tmp_path, {"u5": {"current_advisor": "a2", "since": "2024-02-02"}}
    )
    out = tmp_path / "w2"
    assert (
        run(
            "solve",
            instance,
            "--out",
            out,
            "--previous",
            plan,
            "--workers",
            1,
            "--time-limit",
            2,
        )[0]
        == 0
    )
    table = read(out / "assignments.csv")
    row = next(r for r in table if r["user"] == "u5")
    assert row["previous_advisor"] == "a3"
    if row["advisor"] == "a3":
        assert row["since"] == "2026-01-05"
        row["since"] = "2024-02-02"
        write(out / "assignments.csv", table)
        code, text = run("check", instance, out, "--previous", plan)
        assert code == 1 and "since '2024-02-02' for user u5" in text


# --- weeks in a row with random edits (a property test) -------------------------

ADVISORS = ["a1", "a2", "a3"]
DATES = st.sampled_from(["", "2024-05-06", "2025-11-03", "2026-11-23"])


def edited_users(
    data: st.DataObject, users: list[dict[str, str]], plan: dict[str, dict], week: int
) -> list[dict[str, str]]:
    """This week's users.csv: leavers, arrivals, and each row edited as a
    case-system export or a person might (caught up, stale, typed, cleared)."""
    ids = [r["id"] for r in users]
    leavers = data.draw(st.sets(st.sampled_from(ids), max_size=2), label="leavers")
    users = [dict(r) for r in users if r["id"] not in leavers]
    for n in range(data.draw(st.integers(0, 2), label="arrivals")):
        users.append(users[0] | {
            "id": f"n{week}x{n}", "municipality": data.draw(st.sampled_from(["nord", "sor"])),
            "status": data.draw(st.sampled_from(["new", "active"])), "needs": "",
            "current_advisor": "", "since": "", "household": "",
        })  # fmt: skip
    for row in users:
        row_plan = plan.get(row["id"], {})
        how = data.draw(
            st.sampled_from(["keep", "caught up", "stale", "typed", "cleared"]),
            label=f"edit {row['id']}",
        )
        if how == "caught up":
            row["current_advisor"] = row_plan.get("advisor", "")
            row["since"] = row_plan.get("since", "")
        elif how == "stale":
            row["current_advisor"] = row_plan.get("previous_advisor", "")
            row["since"] = data.draw(DATES)
        elif how == "typed":
            row["current_advisor"] = data.draw(st.sampled_from([*ADVISORS, "a9"]))
            row["since"] = data.draw(DATES)
        elif how == "cleared":
            row["current_advisor"] = row["since"] = ""
    return users


@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_weeks_in_a_row_with_random_edits_each_pass_check_previous(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    root = tmp_path_factory.mktemp("weeks")
    users = read(TINY / "users.csv")
    previous: Path | None = None
    plan: dict[str, dict] = {}
    for number in range(3):
        if number:
            users = edited_users(data, users, plan, number)
        folder = next_week(TINY, root / f"i{number}", users)
        forbid = data.draw(st.none() | st.tuples(
            st.sampled_from([r["id"] for r in users]), st.sampled_from(ADVISORS)),
            label="forbid")  # fmt: skip
        locks = [Lock(user=forbid[0], advisor=forbid[1], kind="forbid",
                      source="--forbid")] if forbid else []  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            instance = allocator.read_instance(folder, locks=locks)
            solution = allocator.solve(
                instance, previous=previous, time_limit=1, workers=1, seed=0
            )
        out = solution.write(root / f"w{number}")
        assert check_solution(instance, out, previous) == []
        plan = {r["user"]: r for r in read(out / "assignments.csv")}
        previous = out
