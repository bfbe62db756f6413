"""Suspicious but legal input: the reader's DataWarnings.
"""

from __future__ import annotations

import warnings

from allocator.errors import DataWarning, place
from allocator.i18n import _
from allocator.io.checks import _private_note
from allocator.io.rows import Draft

# Most user ids listed in one warning.
_MAX_LISTED = 10


def _listing(ids: list[str]) -> str:
    shown = ", ".join(ids[:_MAX_LISTED])
    if len(ids) > _MAX_LISTED:
        shown += _(" and {more} more").format(more=len(ids) - _MAX_LISTED)
    return shown


def _warn_departed_advisors(draft: Draft) -> None:
    """A current_advisor not in advisors.csv has left; the users are placed anew.

    One warning for all such users, naming users and rows but never the
    cell (user data), and saying what was expected.
    """
    advisors = draft.ids.get("advisors") or {}
    left = [
        user
        for user in draft.users
        if user.current_advisor is not None and user.current_advisor not in advisors
    ]
    if not left:
        return
    named = _listing(
        [_("{user} (row {row})").format(user=u.id, row=u.row) for u in left]
    )
    warnings.warn(
        _(
            "{where}: expected an advisor id from {file}, found another value for "
            "{count} user(s): {users}. {private} An advisor who is not in that "
            "file has left, so these users are placed anew."
        ).format(
            where=place(draft.label("users"), None, "current_advisor"),
            file=draft.label("advisors"),
            count=len(left),
            users=named,
            private=_private_note(),
        ),
        DataWarning,
        stacklevel=3,
    )


def _warn_missing_coordinates(draft: Draft) -> None:
    """Distances that neither travel.csv nor coordinates give count as 0 km."""
    located = {
        m.id for m in draft.municipalities if m.lat is not None and m.lon is not None
    }
    given = {(d.start, d.end) for d in draft.distances}
    given |= {(end, start) for start, end in given}
    bases = {a.base for a in draft.advisors}
    homes = {u.municipality for u in draft.users}
    lacking = sorted(
        {
            place
            for base in bases
            for home in homes
            if base != home and (base, home) not in given
            for place in (base, home)
            if place not in located
        }
    )
    if lacking:
        warnings.warn(
            _(
                "{file}: municipalities {ids} have no lat/lon and travel has no "
                "distance for some of their pairs; those distances count as 0 km."
            ).format(file=draft.label("municipalities"), ids=", ".join(lacking)),
            DataWarning,
            stacklevel=3,
        )
