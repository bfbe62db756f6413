"""The weekly-run cases from the field (tests/data/cases), each with its value,
and more inputs of the same kinds."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.cli import main

CASES = Path(__file__).parent / "data" / "cases"
TINY = Path(__file__).parent.parent / "instances" / "tiny"
PRIVATE = "The value is not shown (user data)."


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def copy(source: Path, tmp_path: Path, name: str = "inst") -> Path:
    target = tmp_path / name
    shutil.copytree(source, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def by_user(path: Path) -> dict[str, dict[str, str]]:
    return {row["user"]: row for row in rows(path)}


# --- household-split-across-team-kinds -------------------------------------

SPLIT = (
    "household h1: members are routed to follow_up (u8) and youth (u9); "
    "no advisor can serve both"
)


def test_case_household_split_named_by_validate():
    code, out, _ = run("validate", CASES / "household-split-across-team-kinds")
    assert code == 0
    assert f"  1 household(s) that no advisor can serve whole:\n    {SPLIT}" in out


def test_case_household_split_reason_is_not_room(tmp_path):
    out = tmp_path / "sol"
    code, stdout, _ = run(
        "solve", CASES / "household-split-across-team-kinds", "--out", out
    )
    assert code == 0
    u9 = by_user(out / "assignments.csv")["u9"]
    assert (u9["status"], u9["reason"]) == ("unassigned", SPLIT)
    assert f"  short: 1 user(s): {SPLIT}" in stdout
    assert run("check", CASES / "household-split-across-team-kinds", out)[0] == 0


def test_household_split_by_municipality_within_one_kind(tmp_path):
    """Same kind, but the two members' municipalities have different teams."""
    folder = copy(CASES / "household-split-across-team-kinds", tmp_path)
    edit(
        folder,
        "teams.csv",
        "t-follow,Follow-up,follow_up,",
        "t-follow,Follow-up,follow_up,nord",
    )
    edit(folder, "teams.csv", "t-youth,Youth,youth,", "t-youth,Youth,follow_up,sor")
    edit(folder, "users.csv", "u9,nord,22,", "u9,sor,45,")
    code, out, _ = run("validate", folder)
    assert code == 0
    expected = (
        "household h1: no advisor is eligible for every member (u8, u9), "
        "so its members cannot share one advisor"
    )
    assert f"    {expected}" in out
    sol = tmp_path / "sol"
    assert run("solve", folder, "--out", sol)[0] == 0
    assert by_user(sol / "assignments.csv")["u9"]["reason"] == expected
    assert run("check", folder, sol)[0] == 0


def test_household_member_waits_for_the_households_full_advisor(tmp_path):
    """Room is the cause only when it is: u9 may only join a2, who is full."""
    folder = copy(CASES / "household-split-across-team-kinds", tmp_path)
    # Both members follow-up; a3 (sor) cannot serve nord's authority need...
    edit(folder, "users.csv", "u9,nord,22,", "u9,nord,45,")
    # ...and a2 holds exactly one more user.
    edit(
        folder,
        "advisors.csv",
        "a2,Advisor Two,t-follow,nord,nord,1,1",
        "a2,Advisor Two,t-follow,nord,nord,0.25,1",
    )
    edit(
        folder,
        "advisors.csv",
        "a3,Advisor Three,t-follow,state,sor,0.5,1",
        "a3,Advisor Three,t-follow,state,sor,0.25,1",
    )
    edit(folder, "users.csv", "u5,sor,60,0,,active", "u5,nord,60,0,,active")
    sol = tmp_path / "sol"
    assert run("solve", folder, "--out", sol, "--workers", "1")[0] == 0
    placed = by_user(sol / "assignments.csv")
    waiting = [u for u in ("u8", "u9") if placed[u]["status"] == "unassigned"]
    assert len(waiting) == 1
    (other,) = {"u8", "u9"} - set(waiting)
    reason = placed[waiting[0]]["reason"]
    assert reason.startswith(f"household h1: member {other} has advisor ")
    assert reason.endswith(", who is at capacity")
    assert run("check", folder, sol)[0] == 0


# --- user-values-in-messages -------------------------------------------------


def test_case_unknown_needs_not_repeated():
    code, _, err = run("validate", CASES / "user-values-in-messages")
    assert code == 1
    assert err == (
        "error: the input was rejected; nothing was written.\n"
        "  users.csv, row 6, column needs: expected competence ids from "
        "[[competence]] in instance.toml; 2 of the 2 values in the cell are not "
        f"among them. {PRIVATE}\n"
    )


def test_case_unknown_current_advisor_warning_keeps_value_out(tmp_path):
    folder = copy(CASES / "user-values-in-messages", tmp_path)
    edit(folder, "users.csv", "hiv_followup;rusomsorg", "")
    code, _, err = run("validate", folder)
    assert code == 0
    assert err == (
        "warning: users.csv, column current_advisor: expected an advisor id from "
        "advisors.csv, found another value for 1 user(s): u6 (row 7). "
        f"{PRIVATE} An advisor who is not in that file has left, so these users "
        "are placed anew.\n"
    )
    assert "Hansen" not in err


def test_unknown_municipality_of_a_user_not_repeated_only_ids_suggested(tmp_path):
    """The cell's value is user data: never repeated; the closest ids may be."""
    folder = copy(TINY, tmp_path)
    edit(folder, "users.csv", "u2,sor,", "u2,Sorr,")
    code, _, err = run("validate", folder)
    assert code == 1
    assert (
        "  users.csv, row 3, column municipality: expected a municipality id from "
        f"municipalities.csv; the value is not one of them (did you mean sor?). "
        f"{PRIVATE}\n"
    ) in err
    assert "Sorr" not in err


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        ("advisors.csv", "a3,Advisor Three,t-follow", "a3,Advisor Three,T-Follow",
         'advisors.csv, row 4, column team: expected a team id from teams.csv, '
         'found "T-Follow" (did you mean "t-follow"?).'),
        ("advisors.csv", ",state,sor,0.5", ",state,soor,0.5",
         'advisors.csv, row 4, column base: expected a municipality id from '
         'municipalities.csv, found "soor" (did you mean "sor"?).'),
    ],
)  # fmt: skip
def test_did_you_mean_for_ids(tmp_path, name, old, new, expected):
    folder = copy(TINY, tmp_path)
    edit(folder, name, old, new)
    code, _, err = run("validate", folder)
    assert code == 1 and f"  {expected}\n" in err


def test_did_you_mean_for_an_advisor_in_a_lock(tmp_path):
    folder = copy(TINY, tmp_path)
    code, _, err = run("solve", folder, "--out", tmp_path / "s", "--fix", "u5=A3")
    assert code == 1
    assert (
        "  --fix u5=A3, column advisor: expected an advisor id from advisors.csv, "
        'found "A3" (did you mean "a3"?).\n'
    ) in err


def test_failing_fix_lock_names_user_and_advisor(tmp_path):
    folder = copy(TINY, tmp_path)
    code, _, err = run(
        "solve", folder, "--out", tmp_path / "s", "--fix", "u5=a2", "--fix", "u4=a3"
    )
    assert code == 1
    assert err == (
        "error: the input was rejected; nothing was written.\n"
        "  --fix u4=a3: fix lock of user u4 to advisor a3 cannot hold: advisor a3 "
        "lacks competence social_assistance.\n"
    )


# --- extra-column-overwrites-output ------------------------------------------


def test_case_extra_columns_renamed_and_read_back(tmp_path):
    case = CASES / "extra-column-overwrites-output"
    week1 = tmp_path / "w1"
    code, _, err = run("solve", case, "--out", week1)
    assert code == 0
    assert (
        'warning: users.csv: unknown columns "advisor" are kept and carried to '
        'the output; "advisor" is also a column of assignments.csv, so it is '
        'written as "input_advisor".\n'
    ) in err
    header = (week1 / "assignments.csv").read_text().splitlines()[0]
    assert header == (
        "user,municipality,team,advisor,status,previous_advisor,changed,rule,"
        "travel_km,reason,input_advisor,since"
    )
    load = rows(week1 / "advisor_load.csv")
    assert [r["advisor"] for r in load] == ["a1", "a2", "a3"]
    assert {r["input_municipalities"] for r in load} == {"nord;sor"}
    assert {r["input_advisor"] for r in rows(week1 / "assignments.csv")} == {
        "Kari Nordmann"
    }
    assert run("check", case, week1)[0] == 0
    code, out, _ = run("explain", case, week1, "u1")
    assert code == 0 and out.startswith("user u1: routing rule 1")
    week2 = tmp_path / "w2"
    assert run("solve", case, "--out", week2, "--previous", week1)[0] == 0
    kinds = [r["kind"] for r in rows(week2 / "changes.csv")]
    assert "arrived" not in kinds and "left" not in kinds


def test_extra_columns_in_any_case_and_chained_names(tmp_path):
    folder = copy(TINY, tmp_path)
    users = folder / "users.csv"
    lines = users.read_text().splitlines()
    users.write_text(
        "\n".join(
            [lines[0] + ",User,input_user,REASON"]
            + [line + ",x,y,z" for line in lines[1:]]
        )
        + "\n"
    )
    advisors = folder / "advisors.csv"
    lines = advisors.read_text().splitlines()
    advisors.write_text(
        "\n".join([lines[0] + ",Load"] + [line + ",7" for line in lines[1:]]) + "\n"
    )
    sol = tmp_path / "sol"
    code, _, err = run("solve", folder, "--out", sol)
    assert code == 0
    header = (sol / "assignments.csv").read_text().splitlines()[0].split(",")
    assert header[-4:] == ["input_input_User", "input_user", "input_REASON", "since"]
    assert header.count("user") == 1
    assert (
        (sol / "advisor_load.csv")
        .read_text()
        .splitlines()[0]
        .endswith(",municipalities,input_Load")
    )
    assert (
        '"User" is also a column of assignments.csv, so it is written as '
        '"input_input_User"' in err
    )
    assert run("check", folder, sol)[0] == 0
    assert run("solve", folder, "--out", tmp_path / "w2", "--previous", sol)[0] == 0
    assert not [r for r in rows(tmp_path / "w2" / "changes.csv")]


# --- previous-duplicate-rows ---------------------------------------------------


def duplicate(sol: Path, user: str, copies: int = 1) -> None:
    path = sol / "assignments.csv"
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{user},"))
    extra = [lines[at].replace(",a1,", ",a2,")] * copies
    path.write_text("\n".join(lines[: at + 1] + extra + lines[at + 1 :]) + "\n")


def test_case_previous_listing_a_user_twice_is_rejected(tmp_path):
    week1 = tmp_path / "w1"
    assert run("solve", TINY, "--out", week1)[0] == 0
    duplicate(week1, "u1")
    code, _, err = run("solve", TINY, "--previous", week1, "--out", tmp_path / "w2")
    assert code == 1
    assert err == (
        "error: the input was rejected; nothing was written.\n"
        "  w1/assignments.csv, row 3, column user: expected each user once, found "
        "user u1 in rows 2 and 3; keep one row per user.\n"
    )
    assert not (tmp_path / "w2").exists()


def test_previous_three_copies_each_named(tmp_path):
    week1 = tmp_path / "w1"
    assert run("solve", TINY, "--out", week1)[0] == 0
    duplicate(week1, "u2", copies=2)
    code, _, err = run("explain", TINY, week1, "u2")
    assert code == 1
    assert (
        "row 4, column user: expected each user once, found user u2 in rows 3 and 4"
        in err
    )
    assert (
        "row 5, column user: expected each user once, found user u2 in rows 3 and 5"
        in err
    )


# --- the weekly run with --previous --------------------------------------------


def week1(tmp_path: Path) -> Path:
    out = tmp_path / "w1"
    assert run("solve", TINY, "--out", out, "--workers", "1")[0] == 0
    return out


def test_arrival_with_an_advisor_is_an_arrival(tmp_path):
    """A new row whose users.csv names an advisor is never 'moved' to that advisor."""
    plan = week1(tmp_path)
    folder = copy(TINY, tmp_path)
    users = folder / "users.csv"
    users.write_text(users.read_text() + "u8,nord,50,0,,active,false,1,a2,,,false\n")
    out = tmp_path / "w2"
    assert run("solve", folder, "--previous", plan, "--out", out)[0] == 0
    changes = rows(out / "changes.csv")
    assert changes == [
        {"user": "u8", "kind": "arrived", "from": "", "to": "a2",
         "from_team": "", "to_team": "t-follow", "team_change": "false",
         "locked": "false",
         "reason": "not in the previous plan, though not new (row deleted?) "
                   "(users.csv names advisor a2)"}
    ]  # fmt: skip
    assert all(not (r["kind"] == "moved" and r["from"] == r["to"]) for r in changes)
    assert run("check", folder, out, "--previous", plan)[0] == 0


def test_previous_of_another_instance_warns_with_counts(tmp_path):
    plan = week1(tmp_path)
    folder = copy(TINY, tmp_path)
    users = folder / "users.csv"
    users.write_text(users.read_text().replace("\nu", "\nx"))
    code, _, err = run("solve", folder, "--previous", plan, "--out", tmp_path / "w2")
    assert code == 0
    assert run("check", folder, tmp_path / "w2")[0] == 0
    assert (
        "warning: --previous w1: only 0 of this week's 7 users are in its "
        "assignments.csv (7 are not, and 7 of its 7 users are not in this week's "
        "users.csv); is it the plan of another instance, or did the ids change? "
        "Unmatched users count as arrivals and leavers.\n"
    ) in err


def test_previous_matching_most_users_does_not_warn(tmp_path):
    plan = week1(tmp_path)
    folder = copy(TINY, tmp_path)
    edit(folder, "users.csv", "\nu1,", "\nx1,")
    code, _, err = run("solve", folder, "--previous", plan, "--out", tmp_path / "w2")
    assert code == 0 and "only" not in err
    assert run("check", folder, tmp_path / "w2")[0] == 0


def test_resolve_from_own_plan_with_older_current_advisor_moves_nobody(tmp_path):
    """users.csv still names u5's and u6's advisor before last week's plan.

    The plan (u5, u6 with a3) wins with a warning counting them; nobody
    moves, and two runs write the same plan.
    """
    plan = week1(tmp_path)
    placed = by_user(plan / "assignments.csv")
    assert (placed["u5"]["advisor"], placed["u6"]["advisor"]) == ("a3", "a3")
    folder = copy(TINY, tmp_path)
    edit(
        folder,
        "users.csv",
        "u5,sor,60,0,,active,false,1,,",
        "u5,sor,60,0,,active,false,1,a2,",
    )
    edit(
        folder,
        "users.csv",
        "u6,sor,33,2,,active,false,1,,",
        "u6,sor,33,2,,active,false,1,a2,",
    )
    edit(
        folder,
        "users.csv",
        "u3,nord,52,0,social_assistance,active,false,1,,",
        "u3,nord,52,0,social_assistance,active,false,1,a2,",
    )
    outs = [tmp_path / "again1", tmp_path / "again2"]
    for out in outs:
        code, stdout, err = run("solve", folder, "--previous", plan, "--out", out)
        assert code == 0
        assert (
            "warning: users.csv: current_advisor of 2 user(s) differs from the "
            "previous plan w1/assignments.csv (u5, u6); the plan's advisor is kept "
            "as the current one, since it is the newer decision.\n"
        ) in err
        assert "reassignments  0" in stdout
    again = by_user(outs[0] / "assignments.csv")
    assert {u: r["advisor"] for u, r in again.items()} == {
        u: r["advisor"] for u, r in placed.items()
    }
    assert {r["previous_advisor"] for u, r in again.items() if u in ("u5", "u6")} == {
        "a3"
    }
    assert [r for r in rows(outs[0] / "changes.csv") if r["kind"] == "moved"] == []
    assert (outs[0] / "assignments.csv").read_bytes() == (
        outs[1] / "assignments.csv"
    ).read_bytes()
    # check --previous accepts the plan's advisor as previous_advisor...
    assert run("check", folder, outs[0], "--previous", plan)[0] == 0
    # ...but neither users.csv's nor the plan's is still a violation.
    path = outs[0] / "assignments.csv"
    path.write_text(
        path.read_text().replace(
            "u5,sor,t-follow,a3,assigned,a3,", "u5,sor,t-follow,a3,assigned,a1,"
        )
    )
    code, out, _ = run("check", folder, outs[0])
    assert code == 1
    assert (
        "previous_advisor 'a1' differs from users.csv current_advisor a2 for user u5"
        in out
    )


def test_validate_names_users_without_eligible_advisor_and_reads_previous(tmp_path):
    plan = week1(tmp_path)
    code, out, _ = run("validate", TINY, "--previous", plan)
    assert code == 0
    assert (
        "  1 user(s) with no eligible advisor:\n"
        "    u4 (users.csv row 5): no advisor in a follow_up team has competence "
        "social_assistance and authority in sor\n"
    ) in out + "\n"


def test_assessment_team_grammar(tmp_path):
    folder = copy(TINY, tmp_path)
    edit(
        folder,
        "advisors.csv",
        "a1,Advisor One,t-assess,state,nord,1,1,,,true",
        "a1,Advisor One,t-assess,state,nord,1,1,,,false",
    )
    code, out, _ = run("validate", folder)
    assert code == 0
    assert "no available advisor in an assessment team" in out
    assert "a assessment" not in out


def test_carried_to_lists_the_columns_the_writer_writes():
    from allocator.io.read import CARRIED_TO
    from allocator.io.write import ADVISOR_COLUMNS, ASSIGNMENT_COLUMNS

    assert CARRIED_TO["users"] == ("assignments.csv", (*ASSIGNMENT_COLUMNS, "since"))
    assert CARRIED_TO["advisors"] == ("advisor_load.csv", tuple(ADVISOR_COLUMNS))


def test_every_output_column_name_is_safe_to_carry(tmp_path):
    """Each output column's name, in some case, as an input column: the tool's
    own output still reads back with check, explain and --previous."""
    from allocator.io.read import CARRIED_TO, COLUMNS

    folder = copy(TINY, tmp_path)
    for table, (_, outputs) in CARRIED_TO.items():
        names = [
            c.upper() if i % 2 else c
            for i, c in enumerate(outputs)
            if c not in COLUMNS[table].known
        ]
        path = folder / f"{table}.csv"
        lines = path.read_text().splitlines()
        path.write_text(
            "\n".join(
                [lines[0] + "," + ",".join(names)]
                + [line + "," + ",".join("v" for _ in names) for line in lines[1:]]
            )
            + "\n"
        )
    sol = tmp_path / "sol"
    assert run("solve", folder, "--out", sol)[0] == 0
    placed = rows(sol / "assignments.csv")
    assert [r["user"] for r in placed] == [f"u{i}" for i in range(1, 8)]
    assert {r["status"] for r in placed} == {"assigned", "unassigned"}
    assert run("check", folder, sol)[0] == 0
    assert run("explain", folder, sol, "u6")[0] == 0
    week2 = tmp_path / "w2"
    assert run("solve", folder, "--out", week2, "--previous", sol)[0] == 0
    assert rows(week2 / "changes.csv") == []


@pytest.mark.parametrize("command", ["explain", "validate", "check"])
def test_help_examples_name_folders_that_exist(command):
    root = Path(__file__).parent.parent
    code, out, _ = run(command, "--help")
    assert code == 0
    examples = [
        line.split()[2:]
        for line in out.splitlines()
        if line.strip().startswith(f"allocator {command} ")
    ]
    assert examples
    for words in examples:
        folders = [w for w in words if "/" in w]
        assert folders and all((root / w).is_dir() for w in folders), words
