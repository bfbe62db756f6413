"""Suspicious but legal input: the reader's DataWarnings.
"""

from __future__ import annotations

import warnings

from allocator.errors import DataWarning
from allocator.io.checks import _private_note
from allocator.io.rows import Draft

# Most user ids listed in one warning.
_MAX_LISTED = 10


def _listing(ids: list[str]) -> str:
    shown = ", ".join(ids[:_MAX_LISTED])
    if len(ids) > _MAX_LISTED:
        shown += f" and {len(ids) - _MAX_LISTED} more"
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
    named = _listing([f"{u.id} (row {u.row})" for u in left])
    warnings.warn(
        f"{draft.label('users')}, column current_advisor: expected an advisor id "
        f"from {draft.label('advisors')}, found another value for "
        f"{len(left)} user(s): {named}. {_private_note()} An advisor who is "
        "not in that file has left, so these users are placed anew.",
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
            f"{draft.label('municipalities')}: municipalities {', '.join(lacking)} "
            "have no lat/lon and travel has no distance for some of their pairs; "
            "those distances count as 0 km.",
            DataWarning,
            stacklevel=3,
        )
