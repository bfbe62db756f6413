"""One solve's result as data: the allocation, its report tables and summary.

A :class:`Solution` is what :func:`allocator.solve` returns. It holds rows
(plain dicts) and offers them as pandas DataFrames for notebooks; nothing is
written until :meth:`Solution.write` is called (FORMAT.md section 5 layout).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from allocator.analysis.changes import CHANGE_COLUMNS
from allocator.analysis.report import Report
from allocator.domain import Instance
from allocator.engine.cpsat.solver import Result
from allocator.engine.problem import Problem
from allocator.io.write import (
    ADVISOR_COLUMNS,
    MUNICIPALITY_COLUMNS,
    TEAM_COLUMNS,
    check_target,
    csv_text,
    header_of,
    report_files,
    write_folder,
)
from allocator.io.xlsx import workbook_bytes

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Solution:
    """An allocation of ``instance`` with the tables people act on.

    Attributes:
        instance: the instance that was solved (after ``--previous`` and locks).
        problem: the engine's index view of it.
        result: the search's outcome (status, objective, bound, allocation).
        report: assignment, advisor, team and municipality rows and the summary.
        changes: one row per user whose advisor changed (``changes.csv``).
    """

    instance: Instance
    problem: Problem
    result: Result
    report: Report
    changes: list[dict[str, Any]]

    @property
    def summary(self) -> dict[str, Any]:
        """summary.json as a dict (status, objective, bound, gap, kpis, ...)."""
        return self.report.summary

    @property
    def status(self) -> str:
        """``optimal``, ``feasible``, ``greedy`` or ``no_solution``."""
        return str(self.report.summary["status"])

    def _frame(self, rows: list[dict[str, Any]], header: list[str]) -> pd.DataFrame:
        import pandas as pd

        columns = header_of(rows, header) if rows else header
        return pd.DataFrame(rows, columns=columns)

    @property
    def assignments(self) -> pd.DataFrame:
        """One row per user: user, municipality, team, advisor, status, ..."""
        header = list(self.report.assignments[0]) if self.report.assignments else []
        return self._frame(self.report.assignments, header)

    @property
    def advisor_load(self) -> pd.DataFrame:
        """One row per advisor: capacity and load in weighted users, utilisation."""
        return self._frame(self.report.advisor_load, ADVISOR_COLUMNS)

    @property
    def team_load(self) -> pd.DataFrame:
        """One row per team: capacity, load and utilisation."""
        return self._frame(self.report.team_load, TEAM_COLUMNS)

    @property
    def municipality_load(self) -> pd.DataFrame:
        """One row per municipality: users, load and the advisors serving it."""
        return self._frame(self.report.municipality_load, MUNICIPALITY_COLUMNS)

    def files(self, xlsx: bool = False) -> dict[str, str | bytes]:
        """The solution folder's files by name, as text or bytes (FORMAT.md 5)."""
        files: dict[str, str | bytes] = dict(report_files(self.report))
        files["changes.csv"] = csv_text(self.changes, CHANGE_COLUMNS)
        files["progress.csv"] = progress_csv(self.result.log)
        if xlsx:
            files["allocation.xlsx"] = workbook_bytes(sheets(self.report, self.changes))
        return files

    def write(self, folder: str | Path, xlsx: bool = False) -> Path:
        """Write the solution folder atomically; returns its path.

        Raises:
            SolutionError: ``folder`` exists and is not an earlier solution.
        """
        target = Path(folder)
        check_target(target)
        write_folder(self.files(xlsx=xlsx), target)
        return target


def sheets(
    report: Report, changes: list[dict[str, Any]]
) -> dict[str, tuple[list[str], list[dict[str, Any]]]]:
    """The workbook's sheets: every report, with its header."""
    assignment_header = list(report.assignments[0]) if report.assignments else []
    return {
        "assignments": (assignment_header, report.assignments),
        "advisor load": (
            header_of(report.advisor_load, ADVISOR_COLUMNS),
            report.advisor_load,
        ),
        "team load": (header_of(report.team_load, TEAM_COLUMNS), report.team_load),
        "municipality load": (
            header_of(report.municipality_load, MUNICIPALITY_COLUMNS),
            report.municipality_load,
        ),
        "changes": (CHANGE_COLUMNS, changes),
    }


def progress_csv(log: list[tuple[float, float, float]]) -> str:
    """The solver's improving solutions, for the solution folder."""
    lines = ["elapsed_s,objective,bound"]
    lines += [f"{t:.3f},{obj:.2f},{bound:.2f}" for t, obj, bound in log]
    return "\n".join(lines) + "\n"
