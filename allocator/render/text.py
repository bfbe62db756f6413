"""What a person sees in the terminal: the summary table, the progress line."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from allocator import i18n
from allocator.i18n import _


def written_line(path: object) -> str:
    """The last line of a command that wrote: where, in the active language."""
    return _("written: {path}").format(path=path)


def summary_table(summary: dict[str, Any]) -> str:
    """A readable two-column table of a solve's headline figures."""
    k = summary["kpis"]
    english = i18n.active() == "en"

    def number(value: Any, fmt: str = "{:,.2f}") -> str:
        if value is None:
            return "-"
        if english:
            return fmt.format(value)
        # Norwegian form: 1 240,00 and 0,00 %.
        if "%" in fmt:
            return i18n.percent(value, 2)
        return i18n.fixed(value, 2)

    def whole(value: int) -> str:
        return f"{value:,}" if english else i18n.number(value, 0)

    def share(value: float) -> str:
        return f"{value:.0%}" if english else i18n.percent(value)

    def stopped(reason: str) -> str:
        if english:
            return reason
        words = {
            "proof": _("the best possible was proven"),
            "deterministic_time": _("the work limit was reached"),
            "gap_limit": _("close enough to the best possible"),
            "wall_clock": _("the time limit was reached"),
            "interrupted": _("stopped by hand"),
            "none": _("not stopped"),
        }
        return words.get(reason, reason)

    def status(value: str) -> str:
        if english:
            return value
        from allocator.render.html import status_word

        return status_word(value)

    rows = [
        (_("instance"), summary["instance"]),
        (_("status"), status(summary["status"])),
        (_("objective"), number(summary["objective"])),
        (_("bound"), number(summary["bound"])),
        (_("gap"), number(summary["gap"], "{:.2%}")),
        (_("wall time"), f"{number(summary['wall_s'])} s"),
        (_("stopped by"), stopped(summary.get("stopped_by", "-"))),
        (_("users"), whole(k["users"])),
        (_("assigned"), whole(k["assigned"])),
        (
            _("unassigned"),
            _("{count} ({urgent} urgent)").format(
                count=whole(k["unassigned"]), urgent=k["urgent_unassigned"]
            ),
        ),
        (
            _("utilisation"),
            _("max {high}, min {low}").format(
                high=share(k["utilisation_max"]), low=share(k["utilisation_min"])
            ),
        ),
        (_("reassignments"), whole(k["reassignments"])),
        (
            _("travel"),
            f"{k['travel_km']:,.1f} km"
            if english
            else f"{i18n.fixed(k['travel_km'], 1)} km",
        ),
    ]
    changes = summary.get("changes")
    if changes and summary.get("previous"):
        rows.append(
            (
                _("changes"),
                _(
                    "{moved} moved, {unassigned} lost their advisor, {arrived} "
                    "arrived, {left} left, {locked} locked"
                ).format(**changes),
            )
        )
    if summary.get("gap_warning"):
        rows.append((_("warning"), summary["gap_warning"]))
    width = max(len(label) for label, _value in rows)
    lines = [f"  {label:<{width}}  {value}" for label, value in rows]
    for shortage in summary.get("shortages", []):
        lines.append("  " + _("short: {shortage}").format(shortage=shortage))
    return "\n".join(lines)


def parts_line(summary: dict[str, Any]) -> str:
    """How a solve in parts went, in one line under the summary table."""
    return "  " + _(
        "parts: {solved} of {parts} solved, {same} reproducible; largest part gap {gap}"
    ).format(
        solved=summary.get("parts_solved", 0),
        parts=summary.get("parts", 0),
        same=summary.get("parts_reproducible", 0),
        gap="-"
        if summary.get("part_gap_max") is None
        else (
            f"{summary['part_gap_max']:.2%}"
            if i18n.active() == "en"
            else i18n.percent(summary["part_gap_max"], 2)
        ),
    )


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
