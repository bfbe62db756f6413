"""An edited allocation.xlsx read back as last week's plan and this week's locks.

``--previous allocation.xlsx``: on the ``assignments`` sheet the ``advisor``
column is the plan (each user's current advisor from now on, as a previous
solution folder's assignments.csv would give it) and the ``lock`` column
holds what the leader typed: ``fix`` (this user keeps the row's advisor) or
``forbid`` (never the row's advisor). Empty means no lock.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from allocator.domain import Instance, Lock, LockKind, Previous
from allocator.errors import DataWarning, InputProblem, InstanceError
from allocator.i18n import _
from allocator.io.plan_cells import REQUIRED, plan_id
from allocator.io.tables import (
    CellError,
    Table,
    normalise_header,
    parse_date,
    read_workbook,
)

SHEET = "assignments"
LOCK_KINDS: dict[str, LockKind] = {"fix": "fix", "forbid": "forbid"}


def is_workbook(path: Path) -> bool:
    """Whether ``--previous`` names a workbook rather than a solution folder."""
    return path.is_file() and path.suffix.lower() in (".xlsx", ".xlsm")


def in_any_language(tables: dict[str, Table]) -> Table | None:
    """The assignments sheet, written in any language, with English columns.

    ``--lang nb`` writes the sheet and its headers in Norwegian; what this
    reader needs is found under every language's spelling (allocator.i18n).
    """
    from dataclasses import replace

    from allocator.i18n import spellings

    found = next((tables[n] for n in sorted(spellings(SHEET)) if n in tables), None)
    if found is None:
        return None
    canonical = {
        normalise_header(spelling): column
        for column in ("user", "advisor", "lock", "team", "previous_advisor", "since")
        for spelling in spellings(column)
    }
    return replace(
        found,
        header=[canonical.get(h, h) for h in found.header],
        rows=[
            replace(row, cells={canonical.get(k, k): v for k, v in row.cells.items()})
            for row in found.rows
        ],
    )


def read_allocation_workbook(path: Path) -> Previous:
    """The plan and the typed locks of an (edited) allocation.xlsx.

    Returns:
        A :class:`Previous` whose ``advisor`` is the advisor column per user,
        whose ``locks`` are the rows with ``fix``/``forbid`` (source names the
        sheet and row) and whose ``note`` says what was read.

    The ``assignments`` sheet is read as strictly as an instance's sheets:
    a formula saved without its computed value, a formula error, merged
    cells and rows hidden by a filter are problems with their row and
    column, never empty cells; a sheet whose header row was deleted is named
    as such.

    Raises:
        InstanceError: not a workbook, no ``assignments`` sheet, its header
            row missing, a missing ``user`` or ``advisor`` column, an empty or
            repeated user id, a lock other than fix/forbid, a lock on a row
            without an advisor, a ``since`` that is not a date, a cell that
            does not hold what it shows; every problem with its row.
    """
    # The sheet and the columns locating its header, in every language the
    # workbook may be written in (--lang), are read as strictly.
    from allocator.i18n import spellings

    sheets = sorted({normalise_header(name) for name in spellings(SHEET)})
    columns = list(REQUIRED) + sorted(
        {normalise_header(s) for c in REQUIRED for s in spellings(c)} - set(REQUIRED)
    )
    tables = read_workbook(
        path, required=dict.fromkeys(sheets, columns), checked=tuple(sheets)
    )
    table = in_any_language(tables)
    if table is None:
        message = _(
            'expected a sheet named "{sheet}" (as allocator writes it), found none.'
        ).format(sheet=SHEET)
        raise InstanceError([InputProblem(path.name, None, None, message)])
    label = table.label
    missing = [c for c in ("user", "advisor") if c not in table.header]
    if missing:
        raise InstanceError(
            [InputProblem(label, table.header_row, c, _("required column is missing."))
             for c in missing]
        )  # fmt: skip
    advisor: dict[str, str] = {}
    team: dict[str, str] = {}
    since = {}
    before: dict[str, str] = {}
    locks: list[Lock] = []
    problems = list(table.problems)
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
        if user in advisor:
            problems.append(
                InputProblem(
                    label,
                    row.number,
                    "user",
                    _("expected each user once, found {user} again.").format(
                        user=user
                    ),
                )
            )
            continue
        chosen = plan_id(row.cells.get("advisor", ""))
        advisor[user] = chosen
        team[user] = plan_id(row.cells.get("team", ""))
        before[user] = plan_id(row.cells.get("previous_advisor", ""))
        text = row.cells.get("since", "").strip()
        if text:
            try:
                since[user] = parse_date(text[:10])
            except CellError as error:
                problems.append(InputProblem(label, row.number, "since", str(error)))
        typed = row.cells.get("lock", "").strip().lower()
        if not typed:
            continue
        kind = LOCK_KINDS.get(typed)
        if kind is None:
            problems.append(
                InputProblem(
                    label,
                    row.number,
                    "lock",
                    _("expected fix, forbid or an empty cell."),
                )
            )
        elif not chosen:
            problems.append(
                InputProblem(
                    label,
                    row.number,
                    "lock",
                    _(
                        "expected an advisor id in the advisor column for this "
                        "{kind} lock, found none."
                    ).format(kind=kind),
                )
            )
        else:
            source = f"{label} row {row.number}"
            locks.append(
                Lock(
                    user=user, advisor=chosen, kind=kind, row=row.number, source=source
                )
            )
    if problems:
        raise InstanceError(problems)
    placed = sum(1 for a in advisor.values() if a)
    fixes = sum(lock.kind == "fix" for lock in locks)
    note = _(
        "{file}: {users} users read, {placed} with an advisor "
        "(the plan); locks typed: {fixes} fix, {forbids} forbid."
    ).format(
        file=path.name,
        users=len(advisor),
        placed=placed,
        fixes=fixes,
        forbids=len(locks) - fixes,
    )
    return Previous(
        folder=path,
        advisor=advisor,
        team=team,
        since=since,
        previous_advisor=before,
        locks=tuple(locks),
        note=note,
    )


def warn_unknown_advisors(previous: Previous, advisors: set[str]) -> None:
    """A typo in the advisor column must not pass as "the advisor left"."""
    unknown: dict[str, list[str]] = {}
    for user, advisor in previous.advisor.items():
        if advisor and advisor not in advisors:
            unknown.setdefault(advisor, []).append(user)
    for advisor, users in sorted(unknown.items()):
        shown = ", ".join(users[:3]) + (
            _(" and {more} more").format(more=len(users) - 3) if len(users) > 3 else ""
        )
        warnings.warn(
            _(
                "{file}: the advisor column names {advisor} (user "
                "{users}), who is not in advisors.csv; placed anew as if that "
                "advisor had left."
            ).format(file=previous.folder.name, advisor=advisor, users=shown),
            DataWarning,
            stacklevel=2,
        )


def with_workbook_locks(instance: Instance, previous: Previous) -> Instance:
    """This week's instance with the workbook's typed locks added.

    A lock on a user not in this week's users.csv, or naming an advisor not in
    advisors.csv, or contradicting a lock already given (the same pair both
    fixed and forbidden, one user fixed to two advisors) is an input error
    naming the sheet and row. Whether a fix lock can hold is checked when the
    problem is built, as for locks.csv.

    Raises:
        InstanceError: every such lock, with its row.
    """
    advisors = {a.id for a in instance.advisors}
    if is_workbook(previous.folder):
        warn_unknown_advisors(previous, advisors)
    if not previous.locks:
        return instance
    users = {u.id for u in instance.users}
    kinds = {(lock.user, lock.advisor): lock for lock in instance.locks}
    fixed = {lock.user: lock for lock in instance.locks if lock.kind == "fix"}
    problems = []
    added = []
    for lock in previous.locks:
        file, _sep, row_text = lock.source.rpartition(" row ")
        row_number = int(row_text) if row_text.isdigit() else None
        file = file if row_number is not None else lock.source
        if lock.user not in users:
            problems.append(
                InputProblem(
                    file,
                    row_number,
                    "user",
                    _(
                        "expected a user of this week's users.csv, found {user}."
                    ).format(user=lock.user),
                )
            )
            continue
        if lock.advisor not in advisors:
            problems.append(
                InputProblem(
                    file,
                    row_number,
                    "advisor",
                    _("expected an advisor of advisors.csv, found {advisor}.").format(
                        advisor=lock.advisor
                    ),
                )
            )
            continue
        other = kinds.get((lock.user, lock.advisor))
        if other is not None and other.kind != lock.kind:
            problems.append(
                InputProblem(
                    file,
                    row_number,
                    "lock",
                    _(
                        "expected one kind of lock for user {user} and advisor "
                        "{advisor}, found {kind} here and {other} in {where}."
                    ).format(
                        user=lock.user,
                        advisor=lock.advisor,
                        kind=lock.kind,
                        other=other.kind,
                        where=other.source,
                    ),
                )
            )
            continue
        earlier = fixed.get(lock.user)
        if (
            lock.kind == "fix"
            and earlier is not None
            and earlier.advisor != lock.advisor
        ):
            problems.append(
                InputProblem(
                    file,
                    row_number,
                    "lock",
                    _(
                        "expected one advisor fixed for user {user}, found "
                        "{advisor} here and {other} in {where}."
                    ).format(
                        user=lock.user,
                        advisor=lock.advisor,
                        other=earlier.advisor,
                        where=earlier.source,
                    ),
                )
            )
            continue
        if other is None:
            kinds[lock.user, lock.advisor] = lock
            if lock.kind == "fix":
                fixed[lock.user] = lock
            added.append(lock)
    if problems:
        raise InstanceError(problems)
    return instance.model_copy(update={"locks": (*instance.locks, *added)})
