"""Last week's solution as this week's starting point (``--previous``).

Its advisors become the users' current advisors. When users.csv names
another ``current_advisor`` for a user the previous plan placed, the plan
wins (with a warning counting such users): the plan is the newer decision,
and a case-system export that has not caught up with it must not move the
user back, so a user is never moved twice and two runs on the same week give
the same plan. users.csv's value is used where the plan has no advisor for
the user, or names one who is no longer in advisors.csv; but a user the plan
left waiting, whose users.csv row still names the advisor the plan says they
lost, has no advisor (the plan is the newer decision there too). The rule is
:func:`plan_current`; ``check --previous`` applies the same function, so the
solve and the check agree on every user's advisor and since date whichever
of the two files is newer.

Users missing this week are leavers; new rows are arrivals. A user of
users.csv whose status is not ``new`` but who is missing from the plan (rows
deleted by hand, a filtered sheet saved) is no arrival: a warning names how
many and the first ids (or, with ``strict``, the plan is refused), and
changes.csv does not call them new. Ids are compared as ``normalise_id``
gives them (NFC, without invisible format characters), exactly as the
instance's ids are, so a users.csv saved on a Mac matches last week's plan
saved on Windows.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from allocator.domain import Instance

# Last week's plan and the weekly rule live with the entities, where the
# checker and the analysis reach them; callers still import them here.
from allocator.domain import Previous as Previous
from allocator.domain import plan_current as plan_current
from allocator.errors import DataWarning, InputProblem, InstanceError
from allocator.i18n import _
from allocator.io.plan_cells import REQUIRED as REQUIRED
from allocator.io.plan_cells import plan_id as plan_id
from allocator.io.tables import CellError, parse_csv, parse_date, parse_text

# How many user ids a warning about the plan lists before "and N more".
SHOWN_IDS = 10


def read_previous(folder: Path) -> Previous:
    """Read assignments.csv of a previous solution folder, or an allocation.xlsx.

    Raises:
        InstanceError: no assignments.csv; a file that cannot be read as a
            table; its header row missing; no ``user`` or ``advisor`` column;
            a user listed twice; a ``since`` that is not a date; a cell a
            table cannot hold (control characters, beyond Excel's length);
            every problem with its file, row and column.
    """
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
                    _("expected a previous solution's assignments.csv, found none."),
                )
            ]
        )
    try:
        data = path.read_bytes()
    except OSError as error:
        message = _("expected a readable file, found none ({error}).").format(
            error=error.strerror
        )
        raise InstanceError([InputProblem(label, None, None, message)]) from None
    table = parse_csv(label, data, REQUIRED)
    missing = [c for c in REQUIRED if c not in table.header]
    if missing:
        raise InstanceError(
            [
                InputProblem(
                    label, table.header_row, c, _("required column is missing.")
                )
                for c in missing
            ]
        )
    advisor, team, since, before, reason = {}, {}, {}, {}, {}
    problems = list(table.problems)
    first_row: dict[str, int] = {}
    for row in table.rows:
        user = plan_id(row.cells.get("user", ""))
        if not user:
            problems.append(
                InputProblem(
                    label,
                    row.number,
                    "user",
                    _("expected a user id, found an empty cell."),
                )
            )
            continue
        earlier = first_row.setdefault(user, row.number)
        if earlier != row.number:
            # Which copy is right cannot be known: a hand edit, or two plans
            # pasted together. Reject rather than let the later row win.
            problems.append(
                InputProblem(
                    label,
                    row.number,
                    "user",
                    _(
                        "expected each user once, found user {user} in rows "
                        "{earlier} and {row}; keep one row per user."
                    ).format(user=user, earlier=earlier, row=row.number),
                )
            )
            continue
        advisor[user] = plan_id(row.cells.get("advisor", ""))
        team[user] = plan_id(row.cells.get("team", ""))
        before[user] = plan_id(row.cells.get("previous_advisor", ""))
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


# Below this share of this week's users found in the previous plan, the plan
# is probably another instance's or the ids changed: worth a warning.
MATCH_WARNING_SHARE = 0.5


def apply_previous(
    instance: Instance, previous: Previous, strict: bool = False
) -> Instance:
    """This week's instance with last week's plan's current advisors.

    Each user's current advisor and since date are :func:`plan_current`'s.
    Warns with counts when users.csv and the plan disagree, when the plan
    matches few of this week's users, and when users who are not new are
    missing from the plan.

    Raises:
        InstanceError: with ``strict``, users whose status is not ``new``
            are missing from the plan (how many, the first ids).
    """
    known = {advisor.id for advisor in instance.advisors}
    users = []
    disagree: list[str] = []
    waiting: list[str] = []
    for user in instance.users:
        advisor, since = plan_current(user, previous, known)
        if user.current_advisor and advisor != user.current_advisor:
            (disagree if advisor else waiting).append(user.id)
        if advisor == user.current_advisor and since == user.since:
            users.append(user)
        else:
            users.append(
                user.model_copy(update={"current_advisor": advisor, "since": since})
            )
    users_file = instance.files.get("users", "users.csv")
    plan_file = plan_name(previous)
    missing = missing_from_plan(instance, previous)
    if missing and strict:
        raise InstanceError(
            [
                InputProblem(
                    plan_file,
                    None,
                    "user",
                    _(
                        "expected every user of {file} who is not new in the "
                        "previous plan, found {count} missing "
                        "({users}); were rows deleted? Give the whole "
                        "plan, or leave out --strict-previous to place them as new."
                    ).format(
                        file=users_file, count=len(missing), users=listed(missing)
                    ),
                )
            ]
        )
    warn_match(instance, previous)
    if missing:
        warnings.warn(
            _(
                "{plan}: {count} user(s) of {file} whose status is "
                "not new are not in the previous plan ({users}); were rows "
                "deleted? They are placed as if they had no plan (users.csv's "
                "current_advisor where it names one), and changes.csv does not call "
                "them new."
            ).format(
                plan=plan_file,
                count=len(missing),
                file=users_file,
                users=listed(missing),
            ),
            DataWarning,
            stacklevel=2,
        )
    if disagree:
        warnings.warn(
            _(
                "{file}: current_advisor of "
                "{count} user(s) differs from the previous plan "
                "{plan} ({users}); the plan's advisor "
                "is kept as the current one, since it is the newer decision."
            ).format(
                file=users_file,
                count=len(disagree),
                plan=plan_file,
                users=listed(disagree),
            ),
            DataWarning,
            stacklevel=2,
        )
    if waiting:
        warnings.warn(
            _(
                "{file}: current_advisor of {count} user(s) names the "
                "advisor the previous plan {plan} took from them "
                "({users}); they have no advisor, as the plan decided."
            ).format(
                file=users_file,
                count=len(waiting),
                plan=plan_file,
                users=listed(waiting),
            ),
            DataWarning,
            stacklevel=2,
        )
    return instance.model_copy(update={"users": tuple(users)})


def plan_name(previous: Previous) -> str:
    """The plan's file as messages name it."""
    if previous.folder.suffix.lower() in (".xlsx", ".xlsm"):
        return previous.folder.name
    return f"{previous.folder.name}/assignments.csv"


def listed(ids: list[str]) -> str:
    """The first ``SHOWN_IDS`` ids, and how many more."""
    more = len(ids) - SHOWN_IDS
    tail = _(" and {more} more").format(more=more) if more > 0 else ""
    return ", ".join(ids[:SHOWN_IDS]) + tail


def missing_from_plan(instance: Instance, previous: Previous) -> list[str]:
    """Users of this week whose status is not ``new`` and whom the plan lacks.

    Such a user was assessed before this week, so last week's plan should
    list them: a row was deleted, or a filtered sheet was saved.
    """
    return [
        user.id
        for user in instance.users
        if user.status != "new" and user.id not in previous.advisor
    ]


def warn_match(instance: Instance, previous: Previous) -> None:
    """Warn when the previous plan knows few or none of this week's users."""
    total = len(instance.users)
    matched = sum(user.id in previous.advisor for user in instance.users)
    if total == 0 or matched >= MATCH_WARNING_SHARE * total:
        return
    warnings.warn(
        _(
            "--previous {plan}: only {matched} of this week's {total} "
            "users are in its assignments.csv ({unmatched} are not, and "
            "{unknown} of its {planned} users "
            "are not in this week's users.csv); is it the plan of another instance, "
            "or did the ids change? Unmatched users count as arrivals and leavers."
        ).format(
            plan=previous.folder.name,
            matched=matched,
            total=total,
            unmatched=total - matched,
            unknown=len(previous.advisor) - matched,
            planned=len(previous.advisor),
        ),
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
