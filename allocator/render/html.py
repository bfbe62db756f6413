"""report.html and comparison.html: one self-contained page each.

Pages are Jinja2 templates (``templates/``) with autoescaping, so every name
from the input is text, never markup. Charts come from ``charts.py`` as
inline SVG; the stylesheet is inlined once. Nothing is fetched when a page
opens: no script, no font, no image from any host. The same rows give the
same bytes: no clock, no path and no run time appears on a page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import jinja2

from allocator import i18n
from allocator.i18n import _
from allocator.render import charts
from allocator.render.compare_text import (
    FIGURE_OF,
    GAP_TRUSTED,
    N_,
    REAL,
    SAME,
    difference_verdict,
)

# Rows listed in the unassigned and changes tables before "and N more".
MAX_LISTED = 1000


@cache
def environment() -> jinja2.Environment:
    """The template environment: autoescape on, undefined names an error."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("allocator.render", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt"] = fmt
    # Words in the active language (allocator.i18n), looked up at render time.
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n._, ngettext=i18n.ngettext, newstyle=True
    )
    env.filters["num"] = charts.number
    env.filters["change_word"] = charts.change_word
    env.filters["kind_word"] = charts.kind_word
    env.globals["lang"] = i18n.active
    return env


def package_version() -> str:
    try:
        return version("allocator")
    except PackageNotFoundError:
        return "unknown"


def report_page(data: Mapping[str, Any]) -> str:
    """The solution's report.html.

    Args:
        data: as ``allocator.io.solution_files.solution_tables`` gives it:
            ``summary`` (summary.json) and typed rows of ``assignments``,
            ``advisor_load``, ``team_load``, ``municipality_load``, ``changes``.

    Returns:
        The page as text (UTF-8 when written), a few hundred kB even for a
        region of 40,000 users: per-user rows appear only for unassigned
        users and changes, at most MAX_LISTED of each.
    """
    summary = data["summary"]
    with i18n.language(summary.get("language") if not i18n.is_explicit() else None):
        return _report_page(data, summary)


def _report_page(data: Mapping[str, Any], summary: Mapping[str, Any]) -> str:
    """report_page in the language already chosen."""
    leader = summary.get("leader") or {}
    names = {
        kind: dict((leader.get("names") or {}).get(kind) or {})
        for kind in ("advisors", "teams", "municipalities")
    }
    shortage = leader.get("shortage_fte") or []
    short_by_municipality: dict[str, float] = {}
    for record in shortage:
        m = record["municipality"]
        short_by_municipality[m] = short_by_municipality.get(m, 0.0) + record["fte"]
    policy = summary.get("policy") or {}
    limit = policy.get("max_municipalities_per_advisor")
    charts_list = [
        charts.utilisation_chart(data["advisor_load"], data["team_load"], names),
        charts.team_chart(data["team_load"], names),
        charts.municipality_chart(
            data["municipality_load"],
            leader.get("base_capacity") or {},
            short_by_municipality,
            names,
        ),
        charts.spread_chart(
            data["advisor_load"],
            limit if limit else None,
            leader.get("municipality_limits") or {},
        ),
        charts.changes_chart(data["changes"], names),
        charts.travel_chart(data["assignments"], data["team_load"]),
    ]
    unassigned = unassigned_rows(data["assignments"], leader, names)
    changes = list(data["changes"])
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            title=_("Allocation report: {instance}").format(
                instance=summary.get("instance", "")
            ),
            summary=summary,
            figures=summary_figures(summary, shortage),
            shortage=shortage,
            names=names,
            charts=charts_list,
            unassigned=unassigned[:MAX_LISTED],
            unassigned_more=max(0, len(unassigned) - MAX_LISTED),
            changes=changes[:MAX_LISTED],
            changes_more=max(0, len(changes) - MAX_LISTED),
            version=package_version(),
        )
    )


def summary_figures(
    summary: Mapping[str, Any], shortage: Sequence[Mapping[str, Any]]
) -> list[tuple[str, str]]:
    """The headline figures as (label, text) pairs, in reading order."""
    kpis = summary.get("kpis") or {}
    changes = summary.get("changes") or {}
    gap = summary.get("gap")
    leader = summary.get("leader") or {}
    week = str(leader.get("week") or summary.get("reference_date") or "")
    iso = re.fullmatch(r"(\d{4})-W(\d{2})", week)
    if iso and i18n.active() != "en":
        # Norwegian says "uke 49 (2026)", not the ISO form.
        week = f"{int(iso.group(2))} ({iso.group(1)})"
    return [
        (_("Week"), str(week)),
        (_("Status"), status_word(str(summary.get("status", "")))),
        (
            _("Distance from the best possible allocation"),
            "" if gap is None else f"{gap * 100:.2f} %"
            if i18n.active() == "en" else i18n.percent(gap, 2),
        ),
        (_("Users"), str(kpis.get("users", ""))),
        (_("Placed"), str(kpis.get("assigned", ""))),
        (
            _("Waiting for an advisor (of them urgent)"),
            f"{kpis.get('unassigned', '')} ({kpis.get('urgent_unassigned', '')})",
        ),
        (_("Moved from their advisor"), str(kpis.get("reassignments", ""))),
        (
            _("Changes: moved, lost their advisor, arrived, left"),
            ", ".join(str(changes.get(k, 0)) for k in charts.CHANGE_KINDS),
        ),
        (_("FTE short"), charts.number(sum(r["fte"] for r in shortage), 2)),
        (
            _("Utilisation, lowest to highest"),
            _("{low} to {high}").format(
                low=charts.percent(kpis.get("utilisation_min")),
                high=charts.percent(kpis.get("utilisation_max")),
            ),
        ),
        (_("Travel, total road km"), charts.number(kpis.get("travel_km", 0), 1)),
    ]


def status_word(status: str) -> str:
    """A solve's status (summary.json's id) in words."""
    words = {
        "optimal": _("best possible (proven)"),
        "feasible": _("good, not proven best"),
        "no_solution": _("no allocation found"),
    }
    return words.get(status, status)


def unassigned_rows(
    assignments: Sequence[Mapping[str, Any]],
    leader: Mapping[str, Any],
    names: Mapping[str, Mapping[str, str]],
) -> list[dict[str, Any]]:
    """Unassigned users, urgent first, then in input order."""
    urgent = set(leader.get("urgent_unassigned") or ())
    rows = [
        {
            "user": row["user"],
            "municipality": row["municipality"],
            "municipality_name": names["municipalities"].get(row["municipality"], ""),
            "kind": str(row.get("rule", "")).partition(":")[2],
            "urgent": row["user"] in urgent,
            "reason": row.get("reason", ""),
        }
        for row in assignments
        if row.get("status") == "unassigned"
    ]
    return sorted(rows, key=lambda r: not r["urgent"])


def comparison_page(
    rows: list[dict[str, Any]],
    settings: Mapping[str, Any] | Sequence[tuple[str, str]],
) -> str:
    """comparison.html for ``allocator compare`` (FORMAT.md section 7).

    Args:
        rows: comparison.csv rows as dicts (``scenario``, ``seed``,
            ``description`` and the figures; numbers as numbers, or as text
            that reads as one).
        settings: what was run, in words: (what, how) pairs
            (``Comparison.settings_in_words``), or a mapping of key and value.

    Returns:
        The page: each structure with its description at the top; a
        side-by-side table, one column per structure, one row per figure
        with its plain meaning and the risk factor it answers, the base's
        value and each scenario's difference with the seed range ("min to
        max") when there are several seeds, and every difference's verdict
        (real, within the band, one seed, solve not trusted:
        ``compare_text.difference_verdict``); charts of the figures per
        structure; the settings.
    """
    table = comparison_table(rows)
    # Structures by their ids (the scenario files' names), today's by a word.
    shown = {s: _(BASE_NAME) if s == "base" else s for s in table["structures"]}
    figure_charts = comparison_charts(table, shown)
    pairs = (
        [(str(k), str(v)) for k, v in sorted(settings.items())]
        if isinstance(settings, Mapping)
        else [(str(k), str(v)) for k, v in settings]
    )
    # The instance's row, by its key in any language (settings in words may
    # come translated).
    instance = next((v for k, v in pairs if k in i18n.spellings("instance")), "")
    return (
        environment()
        .get_template("comparison.html.j2")
        .render(
            title=(
                _("Comparison of structures: {instance}").format(instance=instance)
                if instance
                else _("Comparison of structures")
            ),
            table=table,
            charts=figure_charts,
            settings=pairs,
            shown=shown,
            # The flagged structures by the names the page gives them.
            flagged=[shown.get(s, s) for s in table["flagged"]],
            trusted=i18n.percent(GAP_TRUSTED),
            version=package_version(),
        )
    )


# Figures shown, in order, with how a difference reads ("lower is better").
COMPARED = (
    ("assigned", N_("users placed"), "higher"),
    ("unassigned", N_("users unassigned"), "lower"),
    ("urgent_unassigned", N_("urgent users unassigned"), "lower"),
    ("unassigned_weight", N_("weight unassigned"), "lower"),
    ("shortage_fte", N_("FTE short"), "lower"),
    ("utilisation_max", N_("utilisation, highest"), "lower"),
    ("utilisation_min", N_("utilisation, lowest"), "higher"),
    ("utilisation_mean", N_("utilisation, mean"), ""),
    ("travel_km", N_("travel km"), "lower"),
    ("travel_hours", N_("travel hours"), "lower"),
    ("municipalities_per_advisor_max", N_("municipalities per advisor, max"), "lower"),
    (
        "municipalities_per_advisor_mean",
        N_("municipalities per advisor, mean"),
        "lower",
    ),
    ("forced_moves", N_("forced moves"), "lower"),
    ("coverage_min", N_("coverage, least qualified advisors"), "higher"),
    ("single_points", N_("single points of failure"), "lower"),
    ("uncovered", N_("uncovered pairs"), "lower"),
    ("n1_worst_weight", N_("N-1 worst weight unplaced"), "lower"),
    ("n1_mean_weight", N_("N-1 mean weight unplaced"), "lower"),
    ("leakage_fte", N_("leakage FTE"), "lower"),
    ("freed_fte", N_("freed FTE"), "higher"),
    ("gap", N_("gap"), "lower"),
)
# Today's structure: its name on the page, and the description compare
# gives it (compare/tasks.py).
BASE_NAME = N_("base")
BASE_DESCRIPTION = N_("today's structure")
# How a difference reads, in words.
BETTER = {"higher": N_("higher"), "lower": N_("lower")}
CHARTED = (
    ("coverage", N_("Coverage"), ("coverage_min", "single_points", "uncovered")),
    ("n1", N_("N-1: one advisor absent"), ("n1_worst_weight", "n1_mean_weight")),
    (
        "utilisation",
        N_("Utilisation spread"),
        ("utilisation_min", "utilisation_mean", "utilisation_max"),
    ),
    ("travel", N_("Travel"), ("travel_km",)),
    ("leakage", N_("Leakage, freed and missing FTE"), ("leakage_fte", "freed_fte",
                                                    "shortage_fte")),
)  # fmt: skip


def as_number(value: Any) -> float | None:
    """A comparison cell as a number (decimal comma accepted), else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def comparison_table(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Figures per structure: mean over seeds, range, difference to base."""
    structures = list(dict.fromkeys(str(r.get("scenario", "")) for r in rows))
    seeds = sorted({str(r.get("seed", "")) for r in rows})
    base = "base" if "base" in structures else (structures[0] if structures else "")
    # The rows with numbers as numbers, for the verdicts.
    numeric = [
        {
            **r,
            "scenario": str(r.get("scenario", "")),
            **{k: as_number(v) for k, v in r.items() if k in FIGURE_OF or k == "gap"},
        }
        for r in rows
    ]
    figures = []
    for key, title, better in COMPARED:
        cells: dict[str, dict[str, Any]] = {}
        for structure in structures:
            values = [
                v
                for r in rows
                if str(r.get("scenario", "")) == structure
                and (v := as_number(r.get(key))) is not None
            ]
            if not values:
                continue
            # The mean kept inside the range: summing floats may land it a
            # hair outside, which would give a chart a negative whisker.
            mean = min(max(sum(values) / len(values), min(values)), max(values))
            cells[structure] = {"mean": mean, "low": min(values), "high": max(values)}
        if not cells:
            continue
        reference = cells.get(base)
        for structure, cell in cells.items():
            cell["diff"] = None
            cell["significant"] = True
            cell["verdict"] = None
            if reference is not None and structure != base:
                cell["diff"] = cell["mean"] - reference["mean"]
                judged = difference_verdict(numeric, base, structure, key)
                if judged is not None and judged["verdict"] != SAME:
                    cell["verdict"] = judged["verdict"]
                    cell["significant"] = judged["verdict"] == REAL
        words = FIGURE_OF.get(key)
        # Titles and words in the active language; keys stay as the CSV's.
        figures.append(
            {
                "key": key,
                "title": _(title),
                "better": _(BETTER[better]) if better else "",
                "cells": cells,
                "meaning": _(words.meaning) if words else "",
                "risk": _(words.risk) if words else "",
            }
        )
    flagged = sorted(
        {
            str(r.get("scenario", ""))
            for r in rows
            if (g := as_number(r.get("gap"))) is not None and g > 0.01
        }
        | {
            s
            for s in structures
            if any(
                str(r.get("scenario", "")) == s and r.get("stopped_by") == "wall_clock"
                for r in rows
            )
        }
    )
    described: dict[str, str] = {}
    for r in rows:
        described.setdefault(
            str(r.get("scenario", "")), str(r.get("description") or "")
        )
    if described.get(base) == BASE_DESCRIPTION:
        # The comparison's own words for today's structure, not a file's.
        described[base] = _(BASE_DESCRIPTION)
    return {
        "structures": structures,
        "descriptions": [
            (s, described.get(s) or _("(no description)")) for s in structures
        ],
        "seeds": seeds,
        "base": base,
        "figures": figures,
        "flagged": flagged,
        "locks_dropped": {
            s: max(
                int(as_number(r.get("locks_dropped")) or 0)
                for r in rows
                if str(r.get("scenario", "")) == s
            )
            for s in structures
        },
    }


def comparison_charts(
    table: Mapping[str, Any], shown: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """One grouped-bar chart per family of figures, one bar group per structure.

    ``shown`` names a structure in the legend and tables (default: its id).
    """
    out = []
    by_key = {f["key"]: f for f in table["figures"]}
    for chart_id, title, keys in CHARTED:
        present = [by_key[k] for k in keys if k in by_key]
        if not present:
            continue
        out.append(
            charts.comparison_chart(
                f"cmp-{chart_id}", _(title), present, table["structures"], shown
            )
        )
    return out


def fmt(value: float | None, digits: int = 2) -> str:
    """A figure for the comparison table (``1,5`` on a Norwegian page)."""
    if value is None:
        return ""
    if i18n.active() != "en":
        return i18n.number(value, digits)
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:.0f}"
