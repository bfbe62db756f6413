"""The changes report of a weekly run: who moved, arrived or left, and why."""

from __future__ import annotations

from typing import Any

from allocator.analysis.report import Row
from allocator.domain import Instance, Previous
from allocator.i18n import _

CHANGE_COLUMNS = [
    "user", "kind", "from", "to", "from_team", "to_team", "team_change",
    "locked", "reason",
]  # fmt: skip


def change_rows(
    instance: Instance, assignments: list[Row], previous: Previous | None
) -> list[Row]:
    """One row per user whose advisor changed, who arrived, or who left.

    Without a previous solution, arrivals and leavers are unknown and only
    users whose current advisor changed are listed.
    """
    teams = {a.id: a.team for a in instance.advisors}
    # Not new, yet not in the plan: a row deleted by hand, not an arrival
    # this week (apply_previous warns about them).
    status = {u.id: u.status for u in instance.users}
    locked = {lock.user for lock in instance.locks}
    rows: list[Row] = []
    for row in assignments:
        user = row["user"]
        arrived = previous is not None and user not in previous.advisor
        if not (row["changed"] or arrived):
            continue
        source = row["previous_advisor"]
        from_team = teams.get(source, previous.team.get(user, "") if previous else "")
        reason = row["reason"]
        if arrived:
            # An arrival is an arrival, also when users.csv already names an
            # advisor: it comes from no advisor of the previous plan, so it is
            # never listed as moved, let alone from an advisor to the same one.
            named = (
                _(" (users.csv names advisor {advisor})").format(advisor=source)
                if source
                else ""
            )
            first = (
                _("new this week")
                if status.get(user) == "new"
                else _("not in the previous plan, though not new (row deleted?)")
            )
            reason = (
                first
                + named
                + (f"; {row['reason']}" if row["changed"] and row["reason"] else "")
            )
            source = from_team = ""
        rows.append(
            {
                "user": user,
                "kind": "arrived" if arrived else change_kind(row),
                "from": source,
                "to": row["advisor"],
                "from_team": from_team,
                "to_team": row["team"],
                "team_change": bool(source) and from_team != row["team"],
                "locked": user in locked,
                "reason": reason,
            }
        )
    present = {row["user"] for row in assignments}
    for user, advisor in previous.advisor.items() if previous else ():
        if user not in present:
            rows.append(
                {
                    "user": user,
                    "kind": "left",
                    "from": advisor,
                    "to": "",
                    "from_team": previous.team.get(user, "") if previous else "",
                    "to_team": "",
                    "team_change": False,
                    "locked": False,
                    "reason": _("not in this week's users"),
                }
            )
    return rows


def change_kind(row: Row) -> str:
    """moved (to another advisor) or unassigned (lost the advisor)."""
    return "moved" if row["advisor"] else "unassigned"


def change_counts(rows: list[Row]) -> dict[str, Any]:
    """Counts for the terminal and summary.json."""
    counts = {"moved": 0, "unassigned": 0, "arrived": 0, "left": 0}
    for row in rows:
        counts[row["kind"]] += 1
    counts["locked"] = sum(bool(row["locked"]) for row in rows)
    return counts
