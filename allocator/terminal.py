"""What a person sees in the terminal: the summary table, the progress line."""

from __future__ import annotations

import sys
import time
from typing import Any


def summary_table(summary: dict[str, Any]) -> str:
    """A readable two-column table of a solve's headline figures."""
    k = summary["kpis"]

    def number(value: Any, fmt: str = "{:,.2f}") -> str:
        return "-" if value is None else fmt.format(value)

    rows = [
        ("instance", summary["instance"]),
        ("status", summary["status"]),
        ("objective", number(summary["objective"])),
        ("bound", number(summary["bound"])),
        ("gap", number(summary["gap"], "{:.2%}")),
        ("wall time", f"{summary['wall_s']:.2f} s"),
        ("users", f"{k['users']:,}"),
        ("assigned", f"{k['assigned']:,}"),
        ("unassigned", f"{k['unassigned']:,} ({k['urgent_unassigned']} urgent)"),
        (
            "utilisation",
            f"max {k['utilisation_max']:.0%}, min {k['utilisation_min']:.0%}",
        ),
        ("reassignments", f"{k['reassignments']:,}"),
        ("travel", f"{k['travel_km']:,.1f} km"),
    ]
    changes = summary.get("changes")
    if changes and summary.get("previous"):
        rows.append(
            (
                "changes",
                f"{changes['moved']} moved, {changes['unassigned']} lost their "
                f"advisor, {changes['arrived']} arrived, {changes['left']} left, "
                f"{changes['locked']} locked",
            )
        )
    width = max(len(label) for label, _ in rows)
    lines = [f"  {label:<{width}}  {value}" for label, value in rows]
    for shortage in summary.get("shortages", []):
        lines.append(f"  short: {shortage}")
    return "\n".join(lines)


class ProgressLine:
    """A live line on stderr: elapsed, best objective, bound, gap.

    Shown only after the first second, so quick solves print nothing extra.
    """

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.shown = False

    def update(self, elapsed: float, objective: float, bound: float) -> None:
        if elapsed < 1.0:
            return
        gap = (objective - bound) / objective if objective > 0 else 0.0
        sys.stderr.write(
            f"\r  {elapsed:6.1f} s  objective {objective:,.2f}  "
            f"bound {bound:,.2f}  gap {gap:.2%}   "
        )
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
