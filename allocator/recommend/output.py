"""What a recommendation writes (FORMAT.md section 8) and prints.

``recommendation.html`` is one offline page: inline SVG and CSS, no script,
nothing fetched; every name from the input is escaped.
"""

# ruff: noqa: E501  (the page is built from long literal HTML strings)
from __future__ import annotations

import html
import itertools
import json
import math
from pathlib import Path
from typing import Any

from allocator.errors import SolutionError
from allocator.recommend.weigh import COLUMNS, FRONT, Recommendation, front_vector


def check_target(out: Path) -> None:
    """Refuse an --out folder that holds anything but an earlier recommendation."""
    if not out.exists():
        return
    if not out.is_dir():
        raise SolutionError(f"--out {out} exists and is not a folder.")
    earlier = (out / "recommendation.json").is_file() or (out / ".cache").is_dir()
    if any(out.iterdir()) and not earlier:
        raise SolutionError(
            f"--out {out} exists and is not a recommendation folder (no "
            "recommendation.json); choose a new or empty folder."
        )


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    return value


def write_recommendation(rec: Recommendation, out: Path) -> Path:
    """Write recommendation.csv, .json, .html and scenarios/ into ``out``.

    Every text is made before the first file is written. Scenario files of
    an earlier recommendation in the folder are replaced.
    """
    from allocator.io.write import csv_text

    check_target(out)
    rows = [{k: _clean(v) for k, v in row.items()} for row in rec.rows]
    texts = {
        "recommendation.csv": csv_text(rows, COLUMNS),
        "recommendation.json": json.dumps(
            {**rec.document(), "rows": rows},
            indent=2,
            ensure_ascii=False,
            allow_nan=False,
        )
        + "\n",
        "recommendation.html": page(rec),
    }
    solved = {row["structure"] for row in rec.rows}
    scenarios = {f"{sid}.toml": rec.scenario_texts[sid] for sid in solved}
    out.mkdir(parents=True, exist_ok=True)
    folder = out / "scenarios"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.toml"):
        if old.name not in scenarios:
            old.unlink()
    for name, text in scenarios.items():
        (folder / name).write_text(text, encoding="utf-8")
    for name, text in texts.items():
        (out / name).write_text(text, encoding="utf-8", newline="")
    return out


def _num(value: Any, digits: int = 2) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


TABLE = [
    ("structure", "structure"),
    ("unassigned_weight", "unassigned"),
    ("single_points", "single pts"),
    ("uncovered", "uncovered"),
    ("n1_mean_weight", "N-1 mean"),
    ("travel_hours", "travel h"),
    ("leakage_fte", "leakage FTE"),
    ("leakage_most_fte", "most leak (home)"),
    ("freed_fte", "freed FTE"),
    ("forced_moves", "forced"),
]


def front_table(rec: Recommendation) -> str:
    """The front (and today's row) as a plain text table for the terminal."""
    rows = [r for r in rec.rows if r["on_front"] or r["is_current"]]
    header = [label for _, label in TABLE] + ["host groups"]
    lines = []
    body = []
    for r in rows:
        mark = ("*" if r["on_front"] else " ") + ("T" if r["is_current"] else " ")
        cells = [mark + " " + r["structure"]] + [_num(r[k]) for k, _ in TABLE[1:]]
        cells.append(
            r["host_groups"] + (f" [{r['shared_teams']}]" if r["shared_teams"] else "")
        )
        body.append(cells)
    widths = [
        max(len(h) + (3 if i == 0 else 0), *(len(c[i]) for c in body))
        for i, h in enumerate(header)
    ]
    lines.append(
        "   ".join(
            h.ljust(widths[i]) if i in (0, len(header) - 1) else h.rjust(widths[i])
            for i, h in enumerate(["   " + header[0], *header[1:]])
        )
    )
    for cells in body:
        lines.append(
            "   ".join(
                c.ljust(widths[i]) if i in (0, len(header) - 1) else c.rjust(widths[i])
                for i, c in enumerate(cells)
            )
        )
    lines.append(
        f"* on the front ({len([r for r in rec.rows if r['on_front']])} of {len(rec.rows)} solved), "
        f"T today; {rec.structures_enumerated} structures enumerated, "
        f"{rec.structures_ruled_out} ruled out by limits, {rec.structures_screened_out} screened out, "
        f"{rec.survivors_not_solved} screened survivors not solved (--top)."
    )
    return "\n".join(lines)


def together_counts(
    rec: Recommendation,
) -> tuple[list[str], dict[tuple[str, str], int], int]:
    """How many front structures put each pair of municipalities under one host."""
    order = list(rec.names)
    front = rec.front()
    counts: dict[tuple[str, str], int] = {}
    for row in front:
        groups = _groups(row["host_groups"])
        host = {m: g for g, ms in enumerate(groups) for m in ms}
        for a, b in itertools.combinations(order, 2):
            if host.get(a) is not None and host.get(a) == host.get(b):
                counts[a, b] = counts.get((a, b), 0) + 1
    return order, counts, len(front)


def _groups(text: str) -> list[list[str]]:
    groups = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        if ":" in part:
            groups.append(part.split(":", 1)[1].split())
        else:
            groups.append([part])
    return groups


def change_words(rec: Recommendation, structure: str) -> list[str]:
    """What changes from today, in sentences, for one solved structure."""
    change = rec.changes[structure]
    names = rec.names
    row = next(r for r in rec.rows if r["structure"] == structure)
    said = []
    hosted = [
        f"{names.get(a['host'], a['host'])} hosts "
        + ", ".join(names.get(m, m) for m in a["members"])
        for a in change["host_agreements"]
    ]
    said.append(
        "Host agreements: "
        + ("; ".join(hosted) if hosted else "none (every municipality on its own)")
        + "."
    )
    moves = change["employer_changes"]
    if moves:
        by: dict[tuple[str, str], list[str]] = {}
        for m in moves:
            by.setdefault((m["from"], m["to"]), []).append(m["advisor"])
        parts = [
            f"{len(ids)} from {names.get(f, f)} to {names.get(t, t)} ({', '.join(ids)})"
            for (f, t), ids in sorted(by.items())
        ]
        said.append(f"{len(moves)} staff change employer: " + "; ".join(parts) + ".")
    else:
        said.append("No staff change employer.")
    if change["team_changes"]:
        said.append(f"{len(change['team_changes'])} staff change team.")
    said.append(
        f"{change['users_changing_advisor']} of {change['users_with_current_advisor']} users with an "
        f"advisor today would have another advisor in this structure's first allocation; "
        f"{row['forced_moves']} of them are forced (today's advisor may no longer keep them)."
    )
    leak = rec.leakage_by_home.get(structure, {})
    if leak:
        worst = sorted(leak.items(), key=lambda kv: -kv[1])[:3]
        said.append(
            "Municipal staff time spent on other municipalities' users, by where the staff sit: "
            + ", ".join(f"{names.get(m, m)} {v:.2f} FTE" for m, v in worst)
            + "."
        )
    return said


def scatter_svg(
    rec: Recommendation, x_key: str, y_key: str, x_label: str, y_label: str
) -> str:
    """A scatter of two front figures: front filled, others hollow, today a square."""
    width, height, pad = 520, 320, 48
    pts = []
    for r in rec.rows:
        vec = dict(zip(FRONT, front_vector(r), strict=True))
        pts.append((vec[x_key], vec[y_key], r))
    xs = [p[0] for p in pts] or [0.0]
    ys = [p[1] for p in pts] or [0.0]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1

    def sx(v: float) -> float:
        return pad + (v - x0) / (x1 - x0) * (width - 2 * pad)

    def sy(v: float) -> float:
        return height - pad - (v - y0) / (y1 - y0) * (height - 2 * pad)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{html.escape(x_label)} against {html.escape(y_label)}">',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#444"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#444"/>',
        f'<text x="{width / 2}" y="{height - 10}" text-anchor="middle" font-size="12">{html.escape(x_label)}</text>',
        f'<text x="14" y="{height / 2}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 14 {height / 2})">{html.escape(y_label)}</text>',
        f'<text x="{pad}" y="{height - pad + 14}" font-size="10">{x0:.2f}</text>',
        f'<text x="{width - pad}" y="{height - pad + 14}" font-size="10" text-anchor="end">{x1:.2f}</text>',
        f'<text x="{pad - 4}" y="{height - pad}" font-size="10" text-anchor="end">{y0:.2f}</text>',
        f'<text x="{pad - 4}" y="{pad + 4}" font-size="10" text-anchor="end">{y1:.2f}</text>',
    ]
    for x, y, r in pts:
        title = f"<title>{html.escape(r['structure'])}: {html.escape(r['host_groups'])}</title>"
        cx, cy = sx(x), sy(y)
        if r["is_current"]:
            parts.append(
                f'<rect x="{cx - 6:.1f}" y="{cy - 6:.1f}" width="12" height="12" fill="#d62728">{title}</rect>'
                f'<text x="{cx + 8:.1f}" y="{cy - 8:.1f}" font-size="11">today</text>'
            )
        elif r["on_front"]:
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="#1f77b4">{title}</circle>'
            )
        else:
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="none" stroke="#888">{title}</circle>'
            )
    parts.append("</svg>")
    return "".join(parts)


CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
td.l,th.l{text-align:left}
tr.front td{background:#eef5fc}
tr.today td{font-weight:bold}
.charts svg{margin:0 1em 1em 0;border:1px solid #eee}
"""


def page(rec: Recommendation) -> str:
    """recommendation.html: the front chart, the table, co-hosting and changes."""
    e = html.escape
    out = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>Recommendation: {e(rec.instance_name)}</title><style>{CSS}</style></head><body>",
        f"<h1>Structures for {e(rec.instance_name)}</h1>",
        "<p>"
        f"{rec.structures_enumerated} structures enumerated, {rec.structures_ruled_out} ruled out by the limits, "
        f"{rec.structures_screened} screened exactly from the structure alone, "
        f"{rec.structures_screened_out} screened out (another structure is at least as good on every screened "
        f"figure), {rec.survivors_not_solved} screened survivors not solved (top {rec.settings['top']}), "
        f"{len(rec.rows)} solved in full (first allocation, N-1 exact). "
        "The front is exact over the solved structures: no solved structure within the limits is at least as "
        "good on all of unassigned weight, single points + uncovered pairs, N-1 mean weight, travel hours and "
        "leakage FTE and better on one.</p>",
        '<h2>The front</h2><div class="charts">',
        scatter_svg(
            rec, "n1_mean_weight", "leakage_fte", "N-1 mean weight", "leakage FTE"
        ),
        scatter_svg(
            rec,
            "single_points+uncovered",
            "travel_hours",
            "single points + uncovered",
            "travel hours",
        ),
        "</div><p>Filled: on the front; hollow: dominated; red square: today.</p>",
        "<h2>Every structure solved</h2><table><tr>",
    ]
    shown = [
        "structure",
        "host_groups",
        "shared_teams",
        "source",
        "on_front",
        "dominated_by",
        "unassigned_weight",
        "single_points",
        "uncovered",
        "coverage_min",
        "n1_worst_weight",
        "n1_mean_weight",
        "travel_hours",
        "leakage_fte",
        "leakage_most_fte",
        "leakage_most_municipality",
        "freed_fte",
        "forced_moves",
        "users_changing_advisor",
    ]
    left = {
        "structure",
        "host_groups",
        "shared_teams",
        "source",
        "dominated_by",
        "leakage_most_municipality",
    }
    out += [f'<th class="{"l" if c in left else ""}">{e(c)}</th>' for c in shown]
    out.append("</tr>")
    for r in rec.rows:
        cls = " ".join(
            x
            for x in (
                "front" if r["on_front"] else "",
                "today" if r["is_current"] else "",
            )
            if x
        )
        out.append(f'<tr class="{cls}">')
        out += [
            f'<td class="{"l" if c in left else ""}">{e(_num(r[c]))}</td>'
            for c in shown
        ]
        out.append("</tr>")
    out.append("</table>")
    order, counts, total = together_counts(rec)
    out.append(
        f"<h2>How often two municipalities share a host across the front ({total} structures)</h2><table><tr><th></th>"
    )
    out += [f"<th>{e(rec.names[m])}</th>" for m in order]
    out.append("</tr>")
    for a in order:
        out.append(f'<tr><th class="l">{e(rec.names[a])}</th>')
        for b in order:
            if a == b:
                out.append("<td>-</td>")
            else:
                key = (a, b) if order.index(a) < order.index(b) else (b, a)
                out.append(f"<td>{counts.get(key, 0)}</td>")
        out.append("</tr>")
    out.append("</table><h2>What changes from today</h2>")
    for r in rec.front():
        out.append(f"<h3>{e(r['structure'])}</h3><p>{e(r['description'])}</p><ul>")
        out += [f"<li>{e(s)}</li>" for s in change_words(rec, r["structure"])]
        out.append("</ul>")
    out.append("</body></html>\n")
    return "".join(out)
