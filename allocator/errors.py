"""Errors and warnings the package raises; the CLI turns them into exit codes."""

from __future__ import annotations

from dataclasses import dataclass

from allocator.i18n import _


def place(file: str, row: int | None = None, column: str | None = None) -> str:
    """Where a problem is, in the active language: ``users.csv, row 2, column age``.

    The file name, the row number and the column name are never translated.
    """
    where = file
    if row is not None:
        where += _(", row {row}").format(row=row)
    if column:
        where += _(", column {column}").format(column=column)
    return where


@dataclass(frozen=True)
class InputProblem:
    """One thing wrong with the input, located as precisely as possible."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        return f"{place(self.file, self.row, self.column)}: {self.message}"


class AllocatorError(Exception):
    """Base of every error the package raises on purpose."""


class InstanceError(AllocatorError, ValueError):
    """The input was rejected; carries every problem found (exit code 1)."""

    def __init__(self, problems: list[InputProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class SolutionError(AllocatorError, ValueError):
    """A solution folder that cannot be read against its instance."""


class DataWarning(UserWarning):
    """Legal but suspicious input (unknown columns, Windows-1252, ...)."""
