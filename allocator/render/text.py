"""What a person sees in the terminal: the summary table, the progress line."""

from __future__ import annotations

import sys
import threading
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
        ("stopped by", summary.get("stopped_by", "-")),
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
    if summary.get("gap_warning"):
        rows.append(("warning", summary["gap_warning"]))
    width = max(len(label) for label, _ in rows)
    lines = [f"  {label:<{width}}  {value}" for label, value in rows]
    for shortage in summary.get("shortages", []):
        lines.append(f"  short: {shortage}")
    return "\n".join(lines)


class ProgressLine:
    """A live line on stderr: elapsed, best objective, bound, gap.

    Refreshed twice a second from a background thread, starting after the
    first second, so quick solves print nothing extra; the solver's
    callbacks only store the latest figures.
    """

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.objective: float | None = None
        self.bound: float | None = None
        self.shown = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def update(self, elapsed: float, objective: float, bound: float) -> None:
        self.objective = objective
        self.bound = bound

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            if time.perf_counter() - self.start >= 1.0:
                self._draw()

    def _draw(self) -> None:
        elapsed = time.perf_counter() - self.start
        if self.objective is None or self.bound is None:
            figures = "searching for a first solution"
        else:
            gap = (
                (self.objective - self.bound) / self.objective
                if self.objective > 0
                else 0.0
            )
            figures = (
                f"objective {self.objective:,.2f}  bound {self.bound:,.2f}  "
                f"gap {gap:.2%}"
            )
        sys.stderr.write(f"\r  {elapsed:6.1f} s  {figures}   ")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        if self.shown:
            sys.stderr.write("\n")
