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
from allocator.io.solution_files import solution_tables
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
from allocator.io.xlsx import leader_workbook
from allocator.render.html import report_page

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Solution:
    """An allocation of ``instance`` with the tables people act on.

    Attributes:
        instance: the instance that was solved (after ``--previous`` and locks).
        problem: the engine's index view of it; None for a solve in parts
            (``allocator solve --dask``), whose parts' problems stayed on
            their workers.
        result: the search's outcome (status, objective, bound, allocation).
        report: assignment, advisor, team and municipality rows and the summary.
        changes: one row per user whose advisor changed (``changes.csv``).
    """

    instance: Instance
    problem: Problem | None
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

    def files(self, xlsx: bool = True, html: bool = True) -> dict[str, str | bytes]:
        """The solution folder's files by name, as text or bytes (FORMAT.md 5).

        CSV files follow users.csv's dialect (``Instance.dialect``).
        report.html is built from these files' text, so ``allocator report``
        on the written folder gives the same bytes.
        """
        dialect = self.instance.dialect
        files: dict[str, str | bytes] = dict(report_files(self.report, dialect))
        files["changes.csv"] = csv_text(self.changes, CHANGE_COLUMNS, dialect)
        files["progress.csv"] = progress_csv(self.result.log, dialect)
        if xlsx:
            files["allocation.xlsx"] = leader_workbook(
                self.instance, self.report, self.changes
            )
        if html:
            files["report.html"] = report_page(solution_tables(files))
        return files

    def write(self, folder: str | Path, xlsx: bool = True) -> Path:
        """Write the solution folder atomically; returns its path.

        Raises:
            SolutionError: ``folder`` exists and is not an earlier solution.
        """
        target = Path(folder)
        check_target(target)
        write_folder(self.files(xlsx=xlsx), target)
        return target


def progress_csv(log: list[tuple[float, float, float]], dialect: str = ",") -> str:
    """The solver's improving solutions, for the solution folder."""
    rows = [
        {"elapsed_s": round(t, 3), "objective": round(obj, 2), "bound": round(b, 2)}
        for t, obj, b in log
    ]
    return csv_text(rows, ["elapsed_s", "objective", "bound"], dialect)
