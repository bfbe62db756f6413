"""What a comparison of structures found (FORMAT.md section 7), as data.

:class:`Comparison` is what ``compare_variants`` returns and the folder
writer (``io.comparison``) writes: rows, details and how it was run; its
``frame()`` is comparison.csv as a DataFrame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from allocator import i18n
from allocator.domain import Instance
from allocator.i18n import _
from allocator.io.comparison import COLUMNS
from allocator.render.compare_text import FIGURE_WORDS, GAP_TRUSTED, N_, differences

if TYPE_CHECKING:
    import pandas as pd

# The structure every comparison has: the instance as today.
BASE = "base"
# The in-process runner's description (runs/executor.py), in words; a pool's
# or a cluster's description names its size and stays as it is.
IN_THIS_PROCESS = N_("this process")


def where_it_ran(description: str) -> str:
    """The runner's description in the active language where it has words."""
    return _(description) if description == IN_THIS_PROCESS else description


@dataclass
class Comparison:
    """What a comparison found: rows, details and how it was run.

    Attributes:
        rows: one dict per structure and seed, keys ``COLUMNS``.
        details: structure -> ``{"coverage": [...], "seeds": {seed: {...}}}``
            with shortages, leakage by employer and N-1 per advisor.
        settings, versions, inputs: for comparison.json.
        structures: structure id -> the instance as solved (a first
            allocation unless ``from_current``; impossible locks dropped).
        solutions: (structure, seed) -> the solution folder's files.
        current_advisors: user id -> today's advisor in the base, which a
            first allocation blanks (``forced_moves`` was measured on it).
    """

    rows: list[dict[str, Any]]
    details: dict[str, Any]
    settings: dict[str, Any]
    versions: dict[str, str]
    inputs: dict[str, Any]
    structures: dict[str, Instance]
    solutions: dict[tuple[str, int], dict[str, str]] = field(default_factory=dict)
    current_advisors: dict[str, str] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        """comparison.csv as a DataFrame, one row per structure and seed."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=COLUMNS)

    def write(self, folder: str | Path, replace: bool = False) -> Path:
        """Write the section 7 folder whole (``io.comparison``); returns it.

        Raises:
            SolutionError: ``folder`` holds an earlier comparison and
                ``replace`` is not given, is another folder, or cannot be
                written.
        """
        from allocator.io.comparison import write_comparison

        return write_comparison(self, Path(folder), replace)

    def document(self) -> dict[str, Any]:
        """comparison.json: settings, versions, input hashes, rows, details."""
        return {
            "settings": self.settings,
            "versions": self.versions,
            "inputs": self.inputs,
            "rows": self.rows,
            "details": self.details,
            "locks_dropped": {
                sid: detail.get("locks_dropped", [])
                for sid, detail in self.details.items()
            },
            "current_advisors": self.current_advisors,
            "figures": {
                f.column: {
                    "meaning": f.meaning,
                    "risk_factor": f.risk,
                    "exact": f.exact,
                }
                for f in FIGURE_WORDS
            },
            "differences": differences(self.rows),
            "settings_in_words": self.english_settings(),
        }

    def english_settings(self) -> list[tuple[str, str]]:
        """settings_in_words in English, as comparison.json keeps them."""
        with i18n.language("en"):
            return self.settings_in_words()

    def settings_in_words(self) -> list[tuple[str, str]]:
        """What was run, as a manager reads it: (what, how) pairs, in the
        active language (comparison.json keeps them in English)."""
        settings = self.settings
        seeds = settings.get("seeds", [])
        limits = settings.get("time_limit_by_structure", {})
        limit = settings.get("time_limit_s")
        if limit is None and limits:
            shown = sorted(set(limits.values()))
            limit_text = (
                _("{seconds} s per solve (each structure's policy)").format(
                    seconds=i18n.number(shown[0], 3)
                )
                if len(shown) == 1
                else _("per structure's policy: {limits}").format(
                    limits=", ".join(
                        f"{k} {i18n.number(v, 3)} s" for k, v in limits.items()
                    )
                )
            )
        else:
            limit_text = (
                _("{seconds} s per solve").format(seconds=i18n.number(limit, 3))
                if limit is not None
                else "-"
            )
        # Today's structure by its word and the comparison's own description
        # of it (both translated in render/html.py), the others as given.
        described = [
            (
                _(sid) if sid == BASE else sid,
                _(text) if sid == BASE else text,
            )
            for sid, detail in self.details.items()
            for text in [detail.get("description") or _("(no description)")]
        ]
        words = [
            (_("instance"), str(self.inputs.get(BASE, {}).get("name", ""))),
            *[
                (_("structure {id}").format(id=sid), text)
                for sid, text in described
            ],
            (
                _("how each structure is solved"),
                _(
                    "from today's allocation, as a weekly run: users keep their "
                    "advisor where the structure allows"
                )
                if settings.get("from_current")
                else _(
                    "as a first allocation: nobody keeps today's advisor, so "
                    "each structure shows its own best allocation; forced moves "
                    "tells what moving to it would cost"
                ),
            ),
            (
                _("seeds"),
                _(
                    "{count} ({seeds}): each structure is solved once per seed; "
                    "the spread over the seeds is the band a difference must "
                    "clear to be called real"
                ).format(count=len(seeds), seeds=", ".join(str(x) for x in seeds)),
            ),
            (_("time limit"), limit_text),
            (
                _("when a solve stops"),
                _(
                    "as allocator solve does: by proof, by its reproducible "
                    "budget, or once proved within {trusted} of the best "
                    "possible; a structure that ended above that or by the "
                    "clock is marked, its differences not called real"
                ).format(trusted=i18n.percent(GAP_TRUSTED)),
            ),
            (
                "N-1",
                _(
                    "each advisor absent in turn, their users placed again "
                    "under every rule, each re-placement proved or stopped "
                    "after {seconds} s"
                ).format(
                    seconds=i18n.number(settings.get("n1_time_limit_s", 60), 3)
                ),
            ),
            (_("where it ran"), where_it_ran(str(settings.get("executor", "")))),
        ]
        return [(what, how) for what, how in words if how]
