"""The comparison as a side-by-side terminal table, and its progress bar.

One column per structure, one row per figure: the base's value, then each
scenario's difference from it. With several seeds each cell shows the mean
and the seed range (least to most); a difference no larger than the seed
range of either side is marked ``~`` (not significant: another seed could
reverse it). A structure whose solve ended above a 1 % gap (or without a
proved bound) is flagged ``!``, since its figures may improve with time.
Computes nothing but means and ranges of the rows it is given.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

# (column, label, number format) in the order a manager reads them.
FIGURES: list[tuple[str, str, str]] = [
    ("assigned", "assigned users", ".0f"),
    ("unassigned", "unassigned users", ".0f"),
    ("urgent_unassigned", "urgent unassigned", ".0f"),
    ("unassigned_weight", "unassigned weight", ".1f"),
    ("shortage_fte", "shortage FTE", ".2f"),
    ("utilisation_max", "utilisation max", ".2f"),
    ("utilisation_min", "utilisation min", ".2f"),
    ("utilisation_mean", "utilisation mean", ".2f"),
    ("travel_km", "travel km", ",.0f"),
    ("travel_hours", "travel hours", ",.1f"),
    ("municipalities_per_advisor_max", "municipalities/advisor max", ".0f"),
    ("municipalities_per_advisor_mean", "municipalities/advisor mean", ".2f"),
    ("forced_moves", "forced moves", ".0f"),
    ("coverage_min", "coverage min", ".0f"),
    ("single_points", "single points", ".0f"),
    ("uncovered", "uncovered pairs", ".0f"),
    ("n1_worst_weight", "N-1 worst weight", ".1f"),
    ("n1_mean_weight", "N-1 mean weight", ".2f"),
    ("leakage_fte", "leakage FTE", ".2f"),
    ("freed_fte", "freed FTE", ".2f"),
]
GAP_FLAG = 0.01


def _values(rows: Sequence[dict[str, Any]], scenario: str, column: str) -> list[float]:
    return [
        float(row[column])
        for row in rows
        if row["scenario"] == scenario and isinstance(row.get(column), (int, float))
    ]


def flagged(rows: Sequence[dict[str, Any]], scenario: str) -> bool:
    """Some seed of this structure ended above a 1 % gap, or with no bound."""
    gaps = [row.get("gap") for row in rows if row["scenario"] == scenario]
    return any(gap is None or gap > GAP_FLAG for gap in gaps)


def clock_stopped(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Structures with a solve the wall clock stopped before its budget."""
    return list(
        dict.fromkeys(
            row["scenario"] for row in rows if row.get("stopped_by") == "wall_clock"
        )
    )


def significant(base: Sequence[float], other: Sequence[float]) -> bool:
    """Whether the difference of means exceeds the seed range of either side.

    With one seed per side there is no range to judge by, so every
    difference counts as shown.
    """
    diff = abs(sum(other) / len(other) - sum(base) / len(base))
    spread = max(max(base) - min(base), max(other) - min(other))
    if len(base) < 2 and len(other) < 2:
        return True
    return diff > spread + 1e-9


def _cell(values: Sequence[float], spec: str, base: Sequence[float] | None) -> str:
    """The base's mean, or a scenario's difference from it; range; ``~``."""
    if not values or (base is not None and not base):
        return "-"
    mean = sum(values) / len(values)
    if base is None:
        text = format(mean, spec)
        diff = 0.0
    else:
        diff = mean - sum(base) / len(base)
        text = (
            "0" if abs(diff) < 1e-9 else ("+" if diff > 0 else "") + format(diff, spec)
        )
    if max(values) > min(values):
        text += f" ({format(min(values), spec)}..{format(max(values), spec)})"
    if base is not None and abs(diff) >= 1e-9 and not significant(base, values):
        text += " ~"
    return text


def comparison_table(rows: Sequence[dict[str, Any]]) -> str:
    """The side-by-side table of a comparison's rows (comparison.csv rows)."""
    structures = list(dict.fromkeys(row["scenario"] for row in rows))
    if not structures:
        return "no structures"
    base_id = structures[0]
    seeds = sorted({row["seed"] for row in rows})
    header_cells = [base_id] + [f"{s} vs {base_id}" for s in structures[1:]]
    header_cells = [
        h + (" !" if flagged(rows, s) else "")
        for h, s in zip(header_cells, structures, strict=True)
    ]
    body: list[list[str]] = []
    for column, label, spec in FIGURES:
        base = _values(rows, base_id, column)
        cells = [_cell(base, spec, None)]
        cells += [_cell(_values(rows, s, column), spec, base) for s in structures[1:]]
        body.append([label, *cells])
    body.append(
        ["N-1 worst advisor"]
        + [
            ", ".join(
                sorted(
                    {
                        str(r["n1_worst_advisor"])
                        for r in rows
                        if r["scenario"] == s and r.get("n1_worst_advisor")
                    }
                )
            )
            or "-"
            for s in structures
        ]
    )
    body.append(
        ["status"]
        + [
            ", ".join(
                sorted({str(r.get("status")) for r in rows if r["scenario"] == s})
            )
            for s in structures
        ]
    )
    widths = [
        max(len(line[i]) for line in [["figure", *header_cells], *body])
        for i in range(len(header_cells) + 1)
    ]
    lines = [
        "  ".join(
            text.ljust(widths[i]) if i == 0 else text.rjust(widths[i])
            for i, text in enumerate(["figure", *header_cells])
        )
    ]
    lines.append("  ".join("-" * w for w in widths))
    for line in body:
        lines.append(
            "  ".join(
                text.ljust(widths[i]) if i == 0 else text.rjust(widths[i])
                for i, text in enumerate(line)
            )
        )
    notes = [f"seeds: {', '.join(str(s) for s in seeds)}"]
    if len(seeds) > 1:
        notes.append(
            "(a..b) = the structure's own values over the seeds; "
            "~ = difference within the seed range, not significant"
        )
    if any(flagged(rows, s) for s in structures):
        notes.append(
            f"! = solved above a {GAP_FLAG:.0%} gap (or no proved bound): "
            "figures may still change with more time"
        )
    if stopped := clock_stopped(rows):
        notes.append(
            f"stopped by the wall clock before the search budget: {', '.join(stopped)}"
            " (a busy machine); these rows may differ on another run"
        )
    if any(row.get("n1_exact") is False for row in rows):
        notes.append(
            "N-1: some re-placements stopped before a proof (see "
            "comparison.json, n1_inexact)"
        )
    return "\n".join([*lines, "", *notes])


class ProgressBar:
    """``[#####.....] 2/6 structures  ~1m10s left`` on a terminal.

    Time left is the elapsed time scaled by the work still to do, where a
    solve counts its time limit; it is an estimate, shown from the first
    finished piece of work.
    """

    def __init__(self, stream: TextIO | None = None, width: int = 24) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.start = time.perf_counter()
        self.shown = False

    def __call__(self, done: int, total: int, work: float, work_total: float) -> None:
        fraction = min(1.0, work / work_total) if work_total > 0 else 1.0
        filled = round(fraction * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.perf_counter() - self.start
        if 0 < fraction < 1:
            remaining = elapsed * (1 - fraction) / fraction
            left = f"~{int(remaining // 60)}m{int(remaining % 60):02d}s left"
        elif fraction >= 1:
            left = "done"
        else:
            left = "estimating"
        self.stream.write(f"\r[{bar}] {done}/{total} structures  {left}   ")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
