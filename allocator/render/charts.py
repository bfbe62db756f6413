"""The report's charts: figures from report rows, drawn as inline SVG.

Each chart is a plain dict (``id``, ``title``, ``question``, ``svg``, and
its text equivalent ``header`` and ``rows``), so tests compare data, not
pixels. Drawing uses matplotlib's SVG backend with a fixed hash salt, no
date and text kept as text, so the same rows give the same bytes, the page
needs no script to show a chart, and screen readers and search find the
labels. Views that would not fit on a screen are aggregated (advisors by
team, teams by kind), and the full figures stay in the tables.
"""

from __future__ import annotations

import io
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from allocator import i18n
from allocator.i18n import _

Chart = dict[str, Any]
Rows = Sequence[Mapping[str, Any]]

# Colour-blind-safe palette (Okabe-Ito), cycled over teams or kinds.
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
    "#F0E442", "#000000",
)  # fmt: skip
LOAD = "#0072B2"
CAPACITY = "#BBD7EA"
SHORT = "#D55E00"
# Beyond these counts a chart aggregates (one bar per advisor is unreadable
# past a screen's height).
MAX_BARS = 60
MAX_GROUPS = 40
WIDTH_IN = 8.0
# Legends sit right of the plot, never over the bars (whose last rows reach
# 90-100 %).
OUTSIDE: dict[str, Any] = {
    "loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "fontsize": 7,
    "frameon": False,
}
ROW_IN = 0.22

_STYLE: dict[Any, Any] = {
    "svg.hashsalt": "allocator-report",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def to_svg(figure: Figure, chart_id: str, title: str) -> str:
    """An inline <svg> element: deterministic ids prefixed by ``chart_id``.

    matplotlib's ids are hashes of the salt and content, so two charts could
    share one; the prefix keeps every id on the page unique.
    """
    buffer = io.StringIO()
    with matplotlib.rc_context(_STYLE):
        FigureCanvasSVG(figure)
        figure.savefig(
            buffer,
            format="svg",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r'\bid="([^"]+)"', rf'id="{chart_id}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{chart_id}-\1)", text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{chart_id}-\1"', text)
    title_id = f"{chart_id}-svg-title"
    text = re.sub(
        r"<svg ",
        f'<svg role="img" aria-labelledby="{title_id}" class="chart" ',
        text,
        count=1,
    )
    head_end = text.index(">") + 1
    return (
        text[:head_end]
        + f'<title id="{title_id}">{escape_xml(title)}</title>'
        + text[head_end:]
    ).strip()


def escape_xml(text: str) -> str:
    """Text for an SVG <title> (names may hold markup; it stays text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def new_figure(rows: int, min_height: float = 2.2) -> Figure:
    """A figure WIDTH_IN wide, tall enough for ``rows`` horizontal bars."""
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(WIDTH_IN, max(min_height, 0.9 + ROW_IN * rows)))
        figure.set_layout_engine("constrained")
    return figure


def draw(chart_id: str, title: str, rows: int, paint: Callable[[Any], None]) -> str:
    """Draw with ``paint(axes)`` in the report's style and return the SVG."""
    with matplotlib.rc_context(_STYLE):
        figure = new_figure(rows)
        axes = figure.add_subplot()
        paint(axes)
        return to_svg(figure, chart_id, title)


def label(ident: str, names: Mapping[str, str], width: int = 34) -> str:
    """``id name`` shortened to ``width`` characters, for an axis."""
    name = names.get(ident, "")
    text = f"{ident} {name}".strip() if name else ident
    text = text if len(text) <= width else text[: width - 1] + "…"
    return plain(text)


def plain(text: str) -> str:
    """Text matplotlib draws as written: ``$`` would start mathtext."""
    return text.replace("$", r"\$")


def color_of(key: str, keys: Sequence[str]) -> str:
    return PALETTE[sorted(set(keys)).index(key) % len(PALETTE)]


def percent(value: float | None) -> str:
    """A share as a percentage: ``94 %`` (English keeps its own form)."""
    if value is None:
        return ""
    return f"{value * 100:.0f} %" if i18n.active() == "en" else i18n.percent(value)


def kind_word(kind: str) -> str:
    """A team kind as the page shows it ('kartlegging' for assessment in nb)."""
    from allocator.analysis.words import team_kind_words

    return team_kind_words(kind)


def change_word(kind: str) -> str:
    """A change kind (changes.csv's ids) as the page shows it."""
    words = {
        "moved": _("moved"),
        "unassigned": _("lost their advisor"),
        "arrived": _("arrived"),
        "left": _("left"),
    }
    return words.get(kind, kind)


# --- 1. Utilisation per advisor, grouped by team --------------------------------


def utilisation_chart(
    advisors: Rows, teams: Rows, names: Mapping[str, Mapping[str, str]]
) -> Chart:
    """Who is loaded how much: utilisation per advisor, grouped by team.

    Up to MAX_BARS advisors: one bar each, coloured by team. More: one dot
    per advisor on a row per team (per team kind beyond MAX_GROUPS teams).
    The table gives per team the advisors and min, median and max.
    """
    kind_of = {row["team"]: row["kind"] for row in teams}
    team_order = [row["team"] for row in teams]
    with_capacity = [row for row in advisors if row.get("utilisation") is not None]
    title = _("Utilisation per advisor, grouped by team")
    question = _(
        "Who carries how much of their capacity? Bars past the 100 % line are "
        "over capacity; a team whose bars differ widely is unevenly shared."
    )
    if len(with_capacity) <= MAX_BARS:
        ordered = sorted(
            with_capacity,
            key=lambda r: (team_order.index(r["team"]), r["advisor"]),
        )

        def bars(axes: Any) -> None:
            y = list(range(len(ordered)))[::-1]
            colours = [color_of(r["team"], team_order) for r in ordered]
            axes.barh(y, [r["utilisation"] * 100 for r in ordered], color=colours)
            axes.set_yticks(
                y, [label(r["advisor"], names["advisors"]) for r in ordered]
            )
            axes.axvline(100, color="#333333", linewidth=1, linestyle="--")
            axes.set_xlabel(_("utilisation (% of capacity)"))
            legend_teams = list(dict.fromkeys(r["team"] for r in ordered))
            # Handles made from the bars' own colours (an empty bar list would
            # fall back to the default colour), placed right of the bars so
            # that they never cover the last team's bars.
            handles = [
                Patch(color=color_of(team, team_order), label=plain(team))
                for team in legend_teams
            ]
            if handles:
                axes.legend(handles=handles, **OUTSIDE)

        svg = draw("utilisation", title, len(ordered), bars)
        header = [_("advisor"), _("name"), _("team"), _("load"), _("capacity"),
                  _("utilisation")]  # fmt: skip
        table = [
            [r["advisor"], names["advisors"].get(r["advisor"], ""), r["team"],
             number(r["load"]), number(r["capacity"]), percent(r["utilisation"])]
            for r in ordered
        ]  # fmt: skip
        return chart("utilisation", title, question, svg, header, table)
    by_team = len(team_order) <= MAX_GROUPS
    group_of = (lambda r: r["team"]) if by_team else (lambda r: kind_of[r["team"]])
    groups: dict[str, list[float]] = defaultdict(list)
    for row in with_capacity:
        groups[group_of(row)].append(row["utilisation"] * 100)
    order = [g for g in dict.fromkeys(group_of({"team": t}) for t in team_order)]
    order = [g for g in order if g in groups]

    def dots(axes: Any) -> None:
        for i, group in enumerate(order):
            values = sorted(groups[group])
            y = len(order) - 1 - i
            # A fixed spread instead of random jitter keeps the bytes stable.
            offsets = [((k % 7) - 3) * 0.06 for k in range(len(values))]
            axes.scatter(
                values,
                [y + o for o in offsets],
                s=14,
                color=color_of(group, order),
                linewidths=0,
            )
            axes.plot([statistics.median(values)] * 2, [y - 0.35, y + 0.35], "k-")
        ticks = list(range(len(order)))[::-1]
        shown = names["teams"] if by_team else {}
        axes.set_yticks(ticks, [label(g, shown) for g in order])
        axes.axvline(100, color="#333333", linewidth=1, linestyle="--")
        axes.set_xlabel(
            _("utilisation (% of capacity); one dot per advisor, bar = median")
        )

    svg = draw("utilisation", title, len(order), dots)
    # The table lists every team, even when the chart groups them by kind.
    per_team: dict[str, list[float]] = defaultdict(list)
    for row in with_capacity:
        per_team[row["team"]].append(row["utilisation"] * 100)
    header = [_("team"), _("kind"), _("advisors"), _("min"), _("median"), _("max"),
              _("over 100 %")]  # fmt: skip
    table = []
    for team in team_order:
        values = per_team.get(team)
        if not values:
            continue
        table.append(
            [team, kind_word(kind_of[team]), str(len(values)), f"{min(values):.0f} %",
             f"{statistics.median(values):.0f} %", f"{max(values):.0f} %",
             str(sum(v > 100 + 1e-9 for v in values))]
        )  # fmt: skip
    note = (
        ""
        if by_team
        else _(
            "{count} teams are shown by team kind; the table lists every team."
        ).format(count=len(team_order))
    )
    return chart("utilisation", title, question, svg, header, table, note)


# --- 2. Load against capacity per team ------------------------------------------


def team_chart(teams: Rows, names: Mapping[str, Mapping[str, str]]) -> Chart:
    """Load against capacity per team (per team kind beyond MAX_GROUPS teams)."""
    title = _("Load against capacity per team")
    question = _(
        "Which teams are full and which have room? The light bar is the "
        "team's capacity, the dark bar the weighted caseload placed with it."
    )
    by_team = len(teams) <= MAX_GROUPS
    totals: dict[str, list[float]] = {}
    for row in teams:
        key = row["team"] if by_team else row["kind"]
        entry = totals.setdefault(key, [0.0, 0.0, 0.0])
        entry[0] += row["load"] or 0.0
        entry[1] += row["capacity"] or 0.0
        entry[2] += row["advisors"] or 0
    keys = list(totals)
    shown = names["teams"] if by_team else {}

    def bars(axes: Any) -> None:
        y = list(range(len(keys)))[::-1]
        axes.barh(
            y, [totals[k][1] for k in keys], color=CAPACITY, label=_("capacity")
        )
        axes.barh(
            y, [totals[k][0] for k in keys], height=0.5, color=LOAD, label=_("load")
        )
        axes.set_yticks(y, [label(k, shown) for k in keys])
        axes.set_xlabel(_("weighted users"))
        axes.legend(**OUTSIDE)

    svg = draw("teams", title, len(keys), bars)
    header = [_("team"), _("name"), _("kind"), _("advisors"), _("load"),
              _("capacity"), _("utilisation")]  # fmt: skip
    table = [
        [r["team"], names["teams"].get(r["team"], ""), kind_word(r["kind"]),
         str(r["advisors"]), number(r["load"]), number(r["capacity"]),
         percent(r["load"] / r["capacity"] if r["capacity"] else None)]
        for r in teams
    ]  # fmt: skip
    note = (
        ""
        if by_team
        else _("{count} teams are summed by team kind; the table lists each.").format(
            count=len(teams)
        )
    )
    return chart("teams", title, question, svg, header, table, note)


# --- 3. Load against capacity per municipality ----------------------------------


def municipality_chart(
    municipalities: Rows,
    base_capacity: Mapping[str, float],
    shortage: Mapping[str, float],
    names: Mapping[str, Mapping[str, str]],
) -> Chart:
    """Placed load against the capacity based in each municipality.

    Capacity here is that of the advisors whose base is the municipality (a
    team may serve several, so it is where the staff sit, not a limit). The
    FTE short comes from users left unassigned while eligible advisors were
    full. Beyond MAX_BARS municipalities, those with most unassigned users.
    """
    title = _("Load against capacity per municipality")
    question = _(
        "Which municipalities are short? The dark bar is the weighted caseload "
        "placed, the light bar the capacity of advisors based there; the table "
        "adds unassigned users and the FTE missing."
    )
    ordered = list(municipalities)
    note = ""
    if len(ordered) > MAX_BARS:
        ordered = sorted(
            ordered, key=lambda r: (-(r["unassigned"] or 0), r["municipality"])
        )
        note = _(
            "The {shown} municipalities with most unassigned users of {count}; "
            "the table lists all."
        ).format(shown=MAX_BARS, count=len(municipalities))
        shown_rows = ordered[:MAX_BARS]
    else:
        shown_rows = ordered

    def bars(axes: Any) -> None:
        y = list(range(len(shown_rows)))[::-1]
        keys = [r["municipality"] for r in shown_rows]
        axes.barh(
            y, [base_capacity.get(k, 0.0) for k in keys], color=CAPACITY,
            label=_("capacity based here"),
        )  # fmt: skip
        axes.barh(
            y, [r["load"] or 0.0 for r in shown_rows], height=0.5, color=LOAD,
            label=_("load placed"),
        )  # fmt: skip
        axes.set_yticks(y, [label(k, names["municipalities"]) for k in keys])
        axes.set_xlabel(_("weighted users"))
        axes.legend(**OUTSIDE)

    svg = draw("municipalities", title, len(shown_rows), bars)
    header = [_("municipality"), _("name"), _("users"), _("unassigned"),
              _("load placed"), _("capacity based here"), _("FTE short"),
              _("advisors serving")]  # fmt: skip
    table = [
        [r["municipality"], names["municipalities"].get(r["municipality"], ""),
         str(r["users"]), str(r["unassigned"]), number(r["load"]),
         number(base_capacity.get(r["municipality"], 0.0)),
         number(shortage.get(r["municipality"], 0.0), 2), str(r["advisors"])]
        for r in municipalities
    ]  # fmt: skip
    return chart("municipalities", title, question, svg, header, table, note)


# --- 4. Municipalities per advisor ----------------------------------------------


def spread_chart(
    advisors: Rows, limit: int | None, own_limits: Mapping[str, int] | None = None
) -> Chart:
    """How many advisors serve 0, 1, 2, ... municipalities (rule 5).

    The policy's limit is marked, and so is each advisor's own limit where
    advisors.csv gives one (``own_limits``: advisor id -> limit, 0 = none).
    """
    own_limits = own_limits or {}
    title = _("Municipalities per advisor")
    question = _(
        "How spread are advisors over municipalities? Each bar counts the "
        "advisors serving that many municipalities; the policy limit is marked."
    )
    counts = Counter(len(row.get("municipalities") or []) for row in advisors)
    own: dict[int, list[str]] = defaultdict(list)
    for advisor, most in sorted(own_limits.items()):
        if most:
            own[most].append(advisor)
    top = max([*counts, limit or 0, *own, 1])
    xs = list(range(top + 1))

    def bars(axes: Any) -> None:
        axes.bar(xs, [counts.get(x, 0) for x in xs], color=LOAD)
        axes.set_xticks(xs, [str(x) for x in xs])
        axes.set_xlabel(_("municipalities served"))
        axes.set_ylabel(_("advisors"))
        if limit:
            axes.axvline(limit + 0.5, color=SHORT, linestyle="--", linewidth=1)
            axes.text(
                limit + 0.55, max(counts.values(), default=1) * 0.85,
                " " + _("policy limit {limit}").format(limit=limit),
                color=SHORT, va="bottom",
            )  # fmt: skip
        for most, ids in sorted(own.items()):
            axes.axvline(most + 0.5, color="#333333", linestyle=":", linewidth=1)
            axes.text(
                most + 0.55, max(counts.values(), default=1) * 0.5,
                " " + _("own limit {limit}: {count} advisor(s)").format(
                    limit=most, count=len(ids)
                ),
                color="#333333", va="bottom",
            )  # fmt: skip

    svg = draw("spread", title, 6, bars)
    header = [_("municipalities served"), _("advisors")]
    table = [[str(x), str(counts.get(x, 0))] for x in xs]
    if own:
        # Where advisors.csv gives some advisors a limit of their own.
        header.append(_("advisors whose own limit this is"))
        for row, x in zip(table, xs, strict=True):
            row.append(", ".join(own.get(x, [])))
    return chart("spread", title, question, svg, header, table)


# --- 5. This week's changes -------------------------------------------------------


CHANGE_KINDS = ("moved", "unassigned", "arrived", "left")


def changes_chart(changes: Rows, names: Mapping[str, Mapping[str, str]]) -> Chart:
    """Who moved, lost an advisor, arrived or left this week, by team."""
    title = _("Changes per team this week")
    question = _(
        "Who moved this week? Users moved to another advisor, left without "
        "one, arrived or left, counted per team (the team they were in, or "
        "join)."
    )
    per_team: dict[str, Counter[str]] = defaultdict(Counter)
    for row in changes:
        team = row.get("from_team") or row.get("to_team") or "(none)"
        per_team[team][row["kind"]] += 1
    teams = sorted(per_team)
    note = ""
    if len(teams) > MAX_GROUPS:
        ranked = sorted(teams, key=lambda t: (-sum(per_team[t].values()), t))
        note = _("The {shown} teams with most changes of {count}.").format(
            shown=MAX_GROUPS, count=len(teams)
        )
        teams = sorted(ranked[:MAX_GROUPS])

    def bars(axes: Any) -> None:
        y = list(range(len(teams)))[::-1]
        left = [0] * len(teams)
        for i, kind in enumerate(CHANGE_KINDS):
            values = [per_team[t][kind] for t in teams]
            axes.barh(y, values, left=left, color=PALETTE[i], label=change_word(kind))
            left = [a + b for a, b in zip(left, values, strict=True)]
        axes.set_yticks(y, [label(t, names["teams"]) for t in teams])
        axes.set_xlabel(_("users"))
        # Handles in the bars' own colours: with no changes the bar lists
        # are empty, and handles taken from them fall back to one default
        # colour; with no bars there is nothing to name.
        if teams:
            handles = [
                Patch(color=PALETTE[i], label=change_word(kind))
                for i, kind in enumerate(CHANGE_KINDS)
            ]
            axes.legend(handles=handles, **OUTSIDE)
        else:
            axes.text(0.5, 0.5, _("no changes this week"), ha="center",
                      transform=axes.transAxes)  # fmt: skip

    svg = draw("changes", title, len(teams), bars)
    header = [_("team"), *(change_word(k) for k in CHANGE_KINDS)]
    table = [
        [t, *(str(per_team[t][k]) for k in CHANGE_KINDS)] for t in sorted(per_team)
    ]
    return chart("changes", title, question, svg, header, table, note)


# --- 6. Travel --------------------------------------------------------------------


def travel_chart(assignments: Rows, teams: Rows) -> Chart:
    """Distance from the advisor's base to each placed user's municipality."""
    title = _("Travel from advisor base to user")
    question = _(
        "How far do advisors travel? Placed users by road km between the "
        "advisor's base and the user's municipality, in 10 km steps."
    )
    distances = [r["travel_km"] for r in assignments if r.get("travel_km") is not None]
    step = 10
    top = int(max(distances, default=0.0) // step) + 1
    bins = Counter(int(d // step) for d in distances)
    xs = list(range(top))

    def bars(axes: Any) -> None:
        axes.bar([x * step for x in xs], [bins.get(x, 0) for x in xs], width=step * 0.9,
                 align="edge", color=LOAD)  # fmt: skip
        axes.set_xlabel(_("road km"))
        axes.set_ylabel(_("users"))

    svg = draw("travel", title, 6, bars)
    per_team: dict[str, list[float]] = defaultdict(list)
    for row in assignments:
        if row.get("travel_km") is not None and row.get("team"):
            per_team[row["team"]].append(row["travel_km"])
    header = [_("team"), _("users placed"), _("total km"), _("mean km"), _("max km")]
    table = []
    for row in teams:
        km = per_team[row["team"]]
        mean = statistics.fmean(km) if km else 0.0
        table.append(
            [row["team"], str(len(km)), number(sum(km)), number(mean),
             number(max(km, default=0.0))]
        )  # fmt: skip
    return chart("travel", title, question, svg, header, table)


# --- Helpers ----------------------------------------------------------------------


def chart(
    chart_id: str,
    title: str,
    question: str,
    svg: str,
    header: list[str],
    rows: list[list[str]],
    note: str = "",
) -> Chart:
    """One chart with its text equivalent."""
    return {
        "id": chart_id,
        "title": title,
        "question": question,
        "svg": svg,
        "header": header,
        "rows": rows,
        "note": note,
    }


def number(value: float | None, digits: int = 1) -> str:
    """A figure for a table cell (``1,5`` in Norwegian); empty when missing."""
    if value is None:
        return ""
    return f"{value:.{digits}f}" if i18n.active() == "en" else i18n.fixed(value, digits)


# --- Comparison of structures -------------------------------------------------------


def comparison_chart(
    chart_id: str,
    title: str,
    figures: Sequence[Mapping[str, Any]],
    structures: Sequence[str],
    shown: Mapping[str, str] | None = None,
) -> Chart:
    """Grouped bars: one group per figure, one bar per structure (seed mean).

    A whisker spans the seed range when there are several seeds; ``shown``
    names a structure in the legend and the table (default: its id).
    """
    names = {s: (shown or {}).get(s, s) for s in structures}
    what = ", ".join(f["title"] for f in figures)
    question = _("How do the structures compare on {figures}?").format(figures=what)
    width = 0.8 / max(1, len(structures))

    def bars(axes: Any) -> None:
        for s, structure in enumerate(structures):
            xs, ys, lows, highs = [], [], [], []
            for i, figure in enumerate(figures):
                cell = figure["cells"].get(structure)
                if cell is None:
                    continue
                xs.append(i + (s - (len(structures) - 1) / 2) * width)
                ys.append(cell["mean"])
                lows.append(cell["mean"] - cell["low"])
                highs.append(cell["high"] - cell["mean"])
            axes.bar(xs, ys, width=width, color=PALETTE[s % len(PALETTE)],
                     label=plain(names[structure]), yerr=[lows, highs],
                     capsize=2)  # fmt: skip
        axes.set_xticks(range(len(figures)), [plain(f["title"]) for f in figures])
        axes.legend(fontsize=7, frameon=False)

    svg = draw(chart_id, title, 8, bars)
    header = [_("figure"), *(names[s] for s in structures)]
    rows = [
        [f["title"], *(
            "" if (c := f["cells"].get(s)) is None
            else number(c["mean"], 2) + (
                " (" + _("{low} to {high}").format(
                    low=number(c["low"], 2), high=number(c["high"], 2)) + ")"
                if c["high"] > c["low"] else "")
            for s in structures
        )]
        for f in figures
    ]  # fmt: skip
    return chart(chart_id, title, question, svg, header, rows)
