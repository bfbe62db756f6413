"""Last week's solution as this week's starting point (``--previous``).

Its advisors become the users' current advisors, unless users.csv names one
(an explicit ``current_advisor`` wins: the leader's own export is newer).
Users missing this week are leavers; new rows are arrivals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from allocator.domain import Instance, Lock
from allocator.errors import InputProblem, InstanceError
from allocator.io.tables import CellError, parse_date, parse_text, read_table


@dataclass(frozen=True)
class Previous:
    """What a previous solution folder says, per user id, in its order."""

    folder: Path
    advisor: dict[str, str]  # user -> advisor ("" when unassigned)
    team: dict[str, str]
    since: dict[str, dt.date]
    # What that solve used as each user's current advisor.
    previous_advisor: dict[str, str]
    # Locks typed into an edited allocation.xlsx (allocation_xlsx.py).
    locks: tuple[Lock, ...] = ()
    # What was read, for the terminal; empty for a solution folder.
    note: str = ""


def read_previous(folder: Path) -> Previous:
    """Read assignments.csv of a previous solution folder, or an allocation.xlsx."""
    from allocator.io.allocation_xlsx import is_workbook, read_allocation_workbook

    if is_workbook(folder):
        return read_allocation_workbook(folder)
    path = folder / "assignments.csv"
    label = f"{folder.name}/assignments.csv"
    if not path.is_file():
        raise InstanceError(
            [
                InputProblem(
                    label,
                    None,
                    None,
                    "expected a previous solution's assignments.csv, found none.",
                )
            ]
        )
    table = read_table(path)
    missing = [c for c in ("user", "advisor") if c not in table.header]
    if missing:
        raise InstanceError(
            [InputProblem(label, 1, c, "required column is missing.") for c in missing]
        )
    advisor, team, since, before = {}, {}, {}, {}
    problems = []
    for row in table.rows:
        user = parse_text(row.cells.get("user", ""))
        advisor[user] = parse_text(row.cells.get("advisor", ""))
        team[user] = parse_text(row.cells.get("team", ""))
        before[user] = parse_text(row.cells.get("previous_advisor", ""))
        text = row.cells.get("since", "").strip()
        if text:
            try:
                since[user] = parse_date(text)
            except CellError as error:
                problems.append(InputProblem(label, row.number, "since", str(error)))
    if problems:
        raise InstanceError(problems)
    return Previous(
        folder=folder,
        advisor=advisor,
        team=team,
        since=since,
        previous_advisor=before,
    )


def apply_previous(instance: Instance, previous: Previous) -> Instance:
    """This week's instance with last week's advisors as current advisors."""
    users = []
    for user in instance.users:
        if user.current_advisor or not previous.advisor.get(user.id):
            users.append(user)
            continue
        users.append(
            user.model_copy(
                update={
                    "current_advisor": previous.advisor[user.id],
                    "since": user.since or previous.since.get(user.id),
                }
            )
        )
    return instance.model_copy(update={"users": tuple(users)})


def leavers(instance: Instance, previous: Previous) -> list[str]:
    """Users in last week's solution who are not in this week's input."""
    present = {user.id for user in instance.users}
    return [user for user in previous.advisor if user not in present]


def arrivals(instance: Instance, previous: Previous) -> list[str]:
    """Users in this week's input who were not in last week's solution."""
    return [user.id for user in instance.users if user.id not in previous.advisor]
