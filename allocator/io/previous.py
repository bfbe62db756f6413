"""Last week's solution as this week's starting point (``--previous``).

Its advisors become the users' current advisors. When users.csv names
another ``current_advisor`` for a user the previous plan placed, the plan
wins (with a warning counting such users): the plan is the newer decision,
and a case-system export that has not caught up with it must not move the
user back, so a user is never moved twice and two runs on the same week give
the same plan. users.csv's value is used where the plan has no advisor for
the user, or names one who is no longer in advisors.csv. Users missing this
week are leavers; new rows are arrivals. Ids are compared as ``normalise_id``
gives them (NFC, without invisible format characters), exactly as the
instance's ids are, so a users.csv saved on a Mac matches last week's plan
saved on Windows.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from allocator.domain import Instance, Lock
from allocator.errors import DataWarning, InputProblem, InstanceError
from allocator.io.tables import (
    CellError,
    normalise_id,
    parse_date,
    parse_text,
    read_table,
)


@dataclass(frozen=True)
class Previous:
    """What a previous solution folder says, per user id, in its order."""

    folder: Path
    advisor: dict[str, str]  # user -> advisor ("" when unassigned)
    team: dict[str, str]
    since: dict[str, dt.date]
    # What that solve used as each user's current advisor.
    previous_advisor: dict[str, str]
    # The solve's reason (why unassigned or changed; "" otherwise).
    reason: dict[str, str] = field(default_factory=dict)
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
    advisor, team, since, before, reason = {}, {}, {}, {}, {}
    problems = []
    first_row: dict[str, int] = {}
    for row in table.rows:
        user = _id(row.cells.get("user", ""))
        earlier = first_row.setdefault(user, row.number)
        if earlier != row.number:
            # Which copy is right cannot be known: a hand edit, or two plans
            # pasted together. Reject rather than let the later row win.
            problems.append(
                InputProblem(
                    label,
                    row.number,
                    "user",
                    f"expected each user once, found user {user} in rows "
                    f"{earlier} and {row.number}; keep one row per user.",
                )
            )
            continue
        advisor[user] = _id(row.cells.get("advisor", ""))
        team[user] = _id(row.cells.get("team", ""))
        before[user] = _id(row.cells.get("previous_advisor", ""))
        reason[user] = parse_text(row.cells.get("reason", ""))
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
        reason=reason,
    )


def _id(text: str) -> str:
    """An id cell of a previous solution, compared like this week's ids."""
    return normalise_id(parse_text(text)).strip()


# Below this share of this week's users found in the previous plan, the plan
# is probably another instance's or the ids changed: worth a warning.
MATCH_WARNING_SHARE = 0.5


def apply_previous(instance: Instance, previous: Previous) -> Instance:
    """This week's instance with last week's advisors as current advisors.

    The previous plan's advisor wins over a different users.csv
    ``current_advisor`` when it is still in advisors.csv (see the module
    docstring); warns with counts when the two disagree and when the plan
    matches few of this week's users.
    """
    known = {advisor.id for advisor in instance.advisors}
    users = []
    disagree: list[str] = []
    for user in instance.users:
        planned = previous.advisor.get(user.id, "")
        if not planned or (user.current_advisor and planned not in known):
            users.append(user)
            continue
        if user.current_advisor == planned:
            since = user.since or previous.since.get(user.id)
        else:
            if user.current_advisor:
                disagree.append(user.id)
            since = previous.since.get(user.id)
        users.append(
            user.model_copy(update={"current_advisor": planned, "since": since})
        )
    warn_match(instance, previous)
    if disagree:
        shown = ", ".join(disagree[:10]) + (
            f" and {len(disagree) - 10} more" if len(disagree) > 10 else ""
        )
        warnings.warn(
            f"{instance.files.get('users', 'users.csv')}: current_advisor of "
            f"{len(disagree)} user(s) differs from the previous plan "
            f"{previous.folder.name}/assignments.csv ({shown}); the plan's advisor "
            "is kept as the current one, since it is the newer decision.",
            DataWarning,
            stacklevel=2,
        )
    return instance.model_copy(update={"users": tuple(users)})


def warn_match(instance: Instance, previous: Previous) -> None:
    """Warn when the previous plan knows few or none of this week's users."""
    total = len(instance.users)
    matched = sum(user.id in previous.advisor for user in instance.users)
    if total == 0 or matched >= MATCH_WARNING_SHARE * total:
        return
    warnings.warn(
        f"--previous {previous.folder.name}: only {matched} of this week's {total} "
        f"users are in its assignments.csv ({total - matched} are not, and "
        f"{len(previous.advisor) - matched} of its {len(previous.advisor)} users "
        "are not in this week's users.csv); is it the plan of another instance, "
        "or did the ids change? Unmatched users count as arrivals and leavers.",
        DataWarning,
        stacklevel=3,
    )


def leavers(instance: Instance, previous: Previous) -> list[str]:
    """Users in last week's solution who are not in this week's input."""
    present = {user.id for user in instance.users}
    return [user for user in previous.advisor if user not in present]


def arrivals(instance: Instance, previous: Previous) -> list[str]:
    """Users in this week's input who were not in last week's solution."""
    return [user.id for user in instance.users if user.id not in previous.advisor]
