"""Ids and references as spreadsheets change them: leading zeros Excel drops,
invisible characters, and ids from the command line compared like the files'.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Iterator

from allocator.domain import Lock
from allocator.errors import DataWarning, InputProblem
from allocator.errors import place as error_place
from allocator.i18n import N_, _
from allocator.io.checks import REFERENCES, _lock_place, _source
from allocator.io.data_warnings import _listing
from allocator.io.rows import Draft
from allocator.io.tables import normalise_id


def _normalised_lock(lock: Lock) -> Lock:
    """A lock from the command line with its ids compared like the files' ids."""
    return lock.model_copy(
        update={"user": normalise_id(lock.user), "advisor": normalise_id(lock.advisor)}
    )


class ZeroHint(InputProblem):
    """A reference that matches a known id once Excel's dropped zeros are back."""


def _without_zeros(ids: Collection[str]) -> dict[str, list[str]]:
    """Digit-only ids keyed by their digits without leading zeros."""
    keyed: dict[str, list[str]] = {}
    for known in ids:
        if known.isascii() and known.isdigit():
            keyed.setdefault(known.lstrip("0"), []).append(known)
    return keyed


def _digit_references(
    draft: Draft,
) -> Iterator[tuple[tuple[str, int | None, str], str, str, str]]:
    """Every reference to an id of another table that is all digits, as
    (where, value, table, what): only those can have lost leading zeros.

    current_advisor is among them: an id missing from advisors.csv means the
    advisor left, but not when it is an advisor's id that lost its zeros.
    The digits are tested before anything else, as most references (a
    region's 40,000 users) are not digits and need nothing more.
    """
    for table, references in REFERENCES.items():
        label = draft.label(table)
        for entity in getattr(draft, table):
            for ref in references:
                value = getattr(entity, ref.column)
                for item in [value] if isinstance(value, str) else value:
                    if _digits(item) and item not in ref.allowed:
                        where = (label, entity.row, ref.column)
                        yield (where, item, ref.table, ref.expected)
    users = draft.label("users")
    for user in draft.users:
        if user.current_advisor is not None and _digits(user.current_advisor):
            where = (users, user.row, "current_advisor")
            yield (where, user.current_advisor, "advisors", N_("an advisor id"))
    for lock in draft.locks:
        place = _lock_place(draft, lock)
        if _digits(lock.user):
            yield ((*place, "user"), lock.user, "users", N_("a user id"))
        if _digits(lock.advisor):
            yield ((*place, "advisor"), lock.advisor, "advisors", N_("an advisor id"))
    for distance in draft.distances:
        for column, value in (("from", distance.start), ("to", distance.end)):
            if _digits(value):
                where = (draft.label("travel"), distance.row, column)
                yield (where, value, "municipalities", N_("a municipality id"))


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def check_lost_leading_zeros(draft: Draft) -> list[InputProblem]:
    """A reference that is unknown but equals a known id up to leading zeros.

    Excel reads an id such as ``0103`` as the number 103 and writes it back
    without its zero; the reference is then not "unknown" (nor, for
    current_advisor, an advisor who left) but mangled: say so and how to
    fix it, whichever side lost the zeros.
    """
    keyed = {
        table: _without_zeros(ids)
        for table, ids in draft.ids.items()
        if ids is not None
    }
    problems: list[InputProblem] = []
    for where, value, table, what in _digit_references(draft):
        known = draft.ids.get(table)
        if known is None or value in known:
            continue
        matches = [m for m in keyed[table].get(value.lstrip("0"), []) if m != value]
        if not matches:
            continue
        match = matches[0]
        source = _source(table, draft)
        hidden = where[0] == draft.label("users") and where[2] != "current_advisor"
        found = _("an id") if hidden else value
        message = _(
            "expected {what} from {source}, found {found} that is not there, but "
            "{match} is: Excel drops the leading zeros of ids that look like numbers. "
            "Format the column as Text in Excel (or write the ids in full) and "
            "export again."
        ).format(what=_(what), source=source, found=found, match=match)
        problems.append(ZeroHint(*where, message))
    return problems


def _prefer_zero_hints(
    problems: list[InputProblem], hints: list[InputProblem]
) -> list[InputProblem]:
    """The problems, with a cell's zero hint replacing its "unknown id" message."""
    hinted = {(p.file, p.row, p.column) for p in hints}
    kept = [p for p in problems if (p.file, p.row, p.column) not in hinted]
    return kept + hints


def _warn_invisible_characters(draft: Draft) -> None:
    """One warning per file and column whose ids lost invisible characters."""
    grouped: dict[tuple[str, str | None], list[InputProblem]] = {}
    for note in draft.notes:
        grouped.setdefault((note.file, note.column), []).append(note)
    for (file, column), notes in grouped.items():
        rows = _listing([str(n.row) for n in notes])
        names = ", ".join(dict.fromkeys(n.message for n in notes))
        warnings.warn(
            _(
                "{where}: removed the invisible character(s) {names} "
                "from the ids in row(s) {rows}; the ids are compared without them."
            ).format(where=error_place(file, None, column), names=names, rows=rows),
            DataWarning,
            stacklevel=3,
        )
