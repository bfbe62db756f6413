"""The comparison as a side-by-side terminal table, and its progress bar.

One column per structure, one row per figure: the base's value, then each
scenario's difference from it. With several seeds each cell shows the mean
and the seed range (least to most). Every difference carries its verdict
(``compare.difference_verdict``): ``*`` real, ``~`` within the band of the
seeds, ``?`` one seed (no band), ``!`` a structure solved above 1 % of its
bound or stopped by the clock. Above the table each structure is named with
its description. Computes nothing but means, ranges and those verdicts.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO


def N_(message: str) -> str:
    """Marks a message for extraction; comparison.html translates it."""
    return message


@dataclass(frozen=True)
class Figure:
    """A comparison figure in words: what it means and what it answers.

    ``risk`` names the factor of the Hallingdal project group's risk
    analysis (DOMAIN.md 5.1, numbered as there) or the objection the figure
    stands in for. ``exact`` figures depend on the structure alone (not on
    the search), so any difference in them is real.
    """

    column: str
    label: str
    meaning: str
    risk: str
    exact: bool = False


FIGURE_WORDS = [
    Figure("assigned", "assigned users", N_("users given an advisor"),
           N_("10 accessibility of services")),
    Figure("unassigned", "unassigned users", N_("users left waiting for an advisor"),
           N_("10 accessibility of services")),
    Figure("urgent_unassigned", "urgent unassigned",
           N_("urgent users left waiting for an advisor"),
           N_("10 accessibility of services")),
    Figure("unassigned_weight", "unassigned weight",
           N_("workload (weighted users) left without an advisor"),
           N_("3 little scope to redistribute work; 13 little adaptability")),
    Figure("shortage_fte", "shortage FTE",
           N_("posts missing to place every user some advisor could take"),
           N_("1 no resources freed; 13 little adaptability")),
    Figure("utilisation_max", "utilisation max",
           N_("the busiest advisor's load as a share of their capacity"),
           N_("3 little scope to redistribute work")),
    Figure("utilisation_min", "utilisation min",
           N_("the least busy advisor's load as a share of their capacity"),
           N_("3 little scope to redistribute work")),
    Figure("utilisation_mean", "utilisation mean",
           N_("the average advisor's load as a share of their capacity"),
           N_("3 little scope to redistribute work")),
    Figure("travel_km", "travel km",
           N_("road km from each advisor's base to their users' municipalities, "
              "summed"),
           N_("11 working time on Rv7; 12 distance to municipal partners")),
    Figure("travel_hours", "travel hours", N_("the same trips in hours on the road"),
           N_("11 working time on Rv7")),
    Figure("municipalities_per_advisor_max", "municipalities/advisor max",
           N_("the most municipalities one advisor serves"),
           N_("11 working time on Rv7; 12 distance to municipal partners")),
    Figure("municipalities_per_advisor_mean", "municipalities/advisor mean",
           N_("municipalities an advisor serves, on average"),
           N_("11 working time on Rv7; 12 distance to municipal partners")),
    Figure("forced_moves", "forced moves",
           N_("users who must change advisor to move to this structure"),
           N_("continuity of follow-up (benefits plan)"), exact=True),
    Figure("coverage_min", "coverage min",
           N_("the fewest qualified advisors any municipality has for a needed "
           "competence"), N_("2 vulnerability to sickness; 4 social assistance; "
           "5 debt counselling"), exact=True),
    Figure("single_points", "single points",
           N_("municipality and competence pairs that hang on one advisor"),
           N_("2 vulnerability to sickness; 4 social assistance; 5 debt counselling"),
           exact=True),
    Figure("uncovered", "uncovered pairs",
           N_("municipality and competence pairs no advisor may serve"),
           N_("2 vulnerability to sickness; 4 social assistance; 5 debt counselling"),
           exact=True),
    Figure("n1_worst_weight", "N-1 worst weight",
           N_("the most workload left without an advisor when one advisor is away"),
           N_("2 vulnerability to sickness, holidays, vacancy")),
    Figure("n1_mean_weight", "N-1 mean weight",
           N_("workload left without an advisor when one advisor is away, on average"),
           N_("2 vulnerability to sickness, holidays, vacancy")),
    Figure("leakage_fte", "leakage FTE",
           N_("posts of municipal staff spent on other municipalities' users"),
           N_("Lesja's objection to one host (Nord-Gudbrandsdal)")),
    Figure("freed_fte", "freed FTE", N_("capacity left unused, in posts"),
           N_("1 no resources freed; 14 little scope to develop services")),
]  # fmt: skip
FIGURE_OF = {figure.column: figure for figure in FIGURE_WORDS}
# A solve ended within this gap of its bound is trusted (README: "How the
# search stops"); above it the allocation figures may still move.
GAP_TRUSTED = 0.01
# What ended a solve reproducibly: the same input and seed give it again.
REPRODUCIBLE = ("proof", "deterministic_time", "gap_limit")
# Verdicts on a difference from the base (``difference_verdict``).
REAL, WITHIN_BAND, ONE_SEED, UNTRUSTED, SAME = (
    N_("real"), N_("within the band"), N_("one seed"), N_("solve not trusted"), "same",
)  # fmt: skip


def structure_trusted(rows: Sequence[Mapping[str, Any]], scenario: str) -> bool:
    """Every seed of the structure ended within 1 % of its bound, reproducibly.

    ``stopped_by`` "wall_clock" means the search was stopped by the clock;
    another run may stop elsewhere.
    """
    mine = [row for row in rows if row.get("scenario") == scenario]
    return bool(mine) and all(
        isinstance(row.get("gap"), (int, float))
        and row["gap"] <= GAP_TRUSTED + 1e-12
        # Rows written before stopped_by existed are judged by the gap alone.
        and (row.get("stopped_by") in REPRODUCIBLE or not row.get("stopped_by"))
        for row in mine
    )


def figure_values(
    rows: Sequence[Mapping[str, Any]], scenario: str, column: str
) -> list[float]:
    """A figure's values over the seeds of one structure (numbers only)."""
    return [
        float(row[column])
        for row in rows
        if row.get("scenario") == scenario
        and isinstance(row.get(column), (int, float))
        and not isinstance(row.get(column), bool)
    ]


def difference_verdict(
    rows: Sequence[Mapping[str, Any]], base: str, scenario: str, column: str
) -> dict[str, Any] | None:
    """Whether ``scenario`` differs from ``base`` in ``column``, and how surely.

    The rule (README, docs/comparison.md "Real or not"):

    - ``same``: the means do not differ.
    - ``real``: the figure is exact (it depends on the structure alone:
      coverage, single points, uncovered pairs, forced moves), or the
      difference of means is larger than the band, and both structures were
      solved within 1 % of their bound, reproducibly.
    - ``within the band``: the difference is no larger than the band: the
      widest range (most minus least) of the figure over the seeds of
      either structure. Another seed could shrink or reverse it.
    - ``one seed``: one seed gives no band, so an allocation figure's
      difference is shown but not called real.
    - ``solve not trusted``: a structure ended above 1 % of its bound or by
      the clock; its allocation figures may still move.

    Returns:
        ``{"difference", "band", "verdict"}`` or None when a side has no value.
    """
    mine = figure_values(rows, scenario, column)
    theirs = figure_values(rows, base, column)
    if not mine or not theirs:
        return None
    difference = sum(mine) / len(mine) - sum(theirs) / len(theirs)
    band = max(max(mine) - min(mine), max(theirs) - min(theirs))
    figure = FIGURE_OF.get(column)
    if abs(difference) < 1e-9:
        verdict = SAME
    elif figure is not None and figure.exact:
        verdict = REAL
    elif not (structure_trusted(rows, base) and structure_trusted(rows, scenario)):
        verdict = UNTRUSTED
    elif min(len(mine), len(theirs)) < 2:
        verdict = ONE_SEED
    elif abs(difference) > band + 1e-9:
        verdict = REAL
    else:
        verdict = WITHIN_BAND
    return {
        "difference": round(difference, 6),
        "band": round(band, 6),
        "verdict": verdict,
    }


def differences(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every structure's verdict per figure against ``base`` (comparison.json)."""
    structures = list(dict.fromkeys(str(row["scenario"]) for row in rows))
    if not structures:
        return {}
    base = "base" if "base" in structures else structures[0]
    found: dict[str, dict[str, Any]] = {}
    for scenario in structures:
        if scenario == base:
            continue
        found[scenario] = {}
        for figure in FIGURE_WORDS:
            verdict = difference_verdict(rows, base, scenario, figure.column)
            if verdict is not None:
                found[scenario][figure.column] = verdict
    return found


# Number formats, by column.
FORMATS = {
    "assigned": ".0f", "unassigned": ".0f", "urgent_unassigned": ".0f",
    "unassigned_weight": ".1f", "shortage_fte": ".2f", "utilisation_max": ".2f",
    "utilisation_min": ".2f", "utilisation_mean": ".2f", "travel_km": ",.0f",
    "travel_hours": ",.1f", "municipalities_per_advisor_max": ".0f",
    "municipalities_per_advisor_mean": ".2f", "forced_moves": ".0f",
    "coverage_min": ".0f", "single_points": ".0f", "uncovered": ".0f",
    "n1_worst_weight": ".1f", "n1_mean_weight": ".2f", "leakage_fte": ".2f",
    "freed_fte": ".2f",
}  # fmt: skip
# (column, label, number format) in the order a manager reads them.
FIGURES: list[tuple[str, str, str]] = [
    (f.column, f.label, FORMATS[f.column]) for f in FIGURE_WORDS
]
GAP_FLAG = GAP_TRUSTED
MARKS = {REAL: "*", WITHIN_BAND: "~", ONE_SEED: "?", UNTRUSTED: "!"}


def _values(
    rows: Sequence[Mapping[str, Any]], scenario: str, column: str
) -> list[float]:
    return figure_values(rows, scenario, column)


def flagged(rows: Sequence[Mapping[str, Any]], scenario: str) -> bool:
    """Some seed of this structure ended above a 1 % gap, with no bound, or
    by the clock (``compare.structure_trusted``)."""
    return not structure_trusted(rows, scenario)


def clock_stopped(rows: Sequence[Mapping[str, Any]]) -> list[str]:
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


def _cell(
    values: Sequence[float],
    spec: str,
    base: Sequence[float] | None,
    verdict: Mapping[str, Any] | None = None,
) -> str:
    """The base's mean, or a scenario's difference from it; range; its mark."""
    if not values or (base is not None and not base):
        return "-"
    mean = sum(values) / len(values)
    if base is None:
        text = format(mean, spec)
        diff = 0.0
    else:
        diff = mean - sum(base) / len(base)
        shown = spec
        if abs(diff) >= 1e-9 and format(abs(diff), spec).strip("0.,") == "":
            # A difference of means that rounds to nothing gets one more
            # decimal, so it never reads "+0" or "-0".
            digits = int(spec.rstrip("f").lstrip(",.") or 0) + 1
            shown = f"{',' if spec.startswith(',') else ''}.{digits}f"
        text = (
            "0" if abs(diff) < 1e-9 else ("+" if diff > 0 else "") + format(diff, shown)
        )
    if max(values) > min(values):
        text += f" ({format(min(values), spec)}..{format(max(values), spec)})"
    if verdict is not None and verdict["verdict"] in MARKS:
        text += " " + MARKS[verdict["verdict"]]
    elif (
        verdict is None
        and base is not None
        and abs(diff) >= 1e-9
        and not significant(base, values)
    ):
        text += " ~"
    return text


def descriptions(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per structure: its id and its description."""
    structures = list(dict.fromkeys(str(row["scenario"]) for row in rows))
    shown: dict[str, str] = {}
    for row in rows:
        text = row.get("description")
        if text and str(row["scenario"]) not in shown:
            shown[str(row["scenario"])] = str(text)
    width = max((len(s) for s in structures), default=0)
    return [f"{s.ljust(width)}  {shown.get(s, '(no description)')}" for s in structures]


def comparison_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The side-by-side table of a comparison's rows (comparison.csv rows).

    Above it the structures in words; below it what the marks mean.
    """
    structures = list(dict.fromkeys(str(row["scenario"]) for row in rows))
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
    marks_used: set[str] = set()
    for column, label, spec in FIGURES:
        base = _values(rows, base_id, column)
        cells = [_cell(base, spec, None)]
        for s in structures[1:]:
            verdict = difference_verdict(rows, base_id, s, column)
            if verdict is not None:
                marks_used.add(verdict["verdict"])
            cells.append(_cell(_values(rows, s, column), spec, base, verdict))
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
    if any(r.get("locks_dropped") for r in rows):
        body.append(
            ["locks dropped"]
            + [
                str(max(int(r.get("locks_dropped") or 0) for r in rows
                        if r["scenario"] == s))
                for s in structures
            ]
        )  # fmt: skip
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
        notes.append("(a..b) = the structure's own values over the seeds")
    legend = {
        REAL: "* = real: an exact figure, or a difference larger than the seeds' "
        "band, both structures solved within 1 % of their bound",
        WITHIN_BAND: "~ = within the band: no larger than the spread over the "
        "seeds, another seed could reverse it",
        ONE_SEED: "? = one seed gives no band: shown, not called real "
        "(--seeds 3 or more gives one)",
        UNTRUSTED: f"! = solved above a {GAP_FLAG:.0%} gap, without a bound or by "
        "the clock: figures may still change, differences not called real",
    }
    notes += [text for verdict, text in legend.items() if verdict in marks_used]
    if any(flagged(rows, s) for s in structures) and UNTRUSTED not in marks_used:
        notes.append(legend[UNTRUSTED])
    if stopped := clock_stopped(rows):
        notes.append(
            f"stopped by the time limit: {', '.join(stopped)}; these rows may "
            "differ on another run (give --time-limit more)"
        )
    if any(row.get("n1_exact") is False for row in rows):
        notes.append(
            "N-1: some re-placements stopped before a proof (see "
            "comparison.json, n1_inexact)"
        )
    if any(r.get("locks_dropped") for r in rows):
        notes.append(
            "locks dropped: locks a structure makes impossible (listed in "
            "comparison.json, locks_dropped)"
        )
    return "\n".join([*descriptions(rows), "", *lines, "", *notes])


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
