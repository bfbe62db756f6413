"""An instance's tables found and loaded (CSV files or one workbook), and
their columns checked against the README's table formats.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from allocator.errors import DataWarning, InputProblem, InstanceError
from allocator.i18n import _
from allocator.io.instance_columns import (
    CARRIED_TO,
    COLUMNS,
    REQUIRED_TABLES,
    TABLES,
    TOML,
    _unknown_columns,
    carried_names,
)
from allocator.io.tables import MAX_LISTED, Table, parse_csv, parse_workbook, visible


def _find_file(folder: Path, name: str) -> Path | None:
    """``folder/name``, matching the name case-insensitively (Users.csv)."""
    exact = folder / name
    if exact.is_file():
        return exact
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name.lower() == name.lower():
            return path
    return None


def _load_tables(
    folder: Path, workbook: str | None, problems: list[InputProblem], digest: Any
) -> dict[str, Table]:
    """Every table present, from CSV files or from the workbook's sheets."""
    if workbook is not None:
        return _load_workbook(folder, workbook, problems, digest)
    return _load_csv_tables(folder, problems, digest)


def _load_csv_tables(
    folder: Path, problems: list[InputProblem], digest: Any
) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for name in TABLES:
        path = _find_file(folder, f"{name}.csv")
        if path is None:
            if name in REQUIRED_TABLES:
                problems.append(_missing_file(f"{name}.csv"))
            continue
        table = _read_csv_file(path, problems, digest)
        if table is not None:
            tables[name] = table
    return tables


def _missing_file(label: str) -> InputProblem:
    message = _("expected the file {file} in the instance folder, found none.").format(
        file=label
    )
    return InputProblem(label, None, None, message)


def _read_csv_file(
    path: Path, problems: list[InputProblem], digest: Any
) -> Table | None:
    try:
        data = path.read_bytes()
    except OSError as err:
        message = _("expected a readable file, found an error ({error}).").format(
            error=err.strerror
        )
        problems.append(InputProblem(path.name, None, None, message))
        return None
    digest.update(data)
    try:
        name = path.name.lower().removesuffix(".csv")
        required = COLUMNS[name].required if name in COLUMNS else ()
        table = parse_csv(path.name, data, required)
    except InstanceError as err:
        problems.extend(err.problems)
        return None
    problems.extend(table.problems)
    return table


def _load_workbook(
    folder: Path, workbook: str, problems: list[InputProblem], digest: Any
) -> dict[str, Table]:
    path = _find_file(folder, workbook)
    if path is None:
        message = _('expected the workbook "{file}" in the folder, found none.').format(
            file=workbook
        )
        problems.append(InputProblem(TOML, None, "workbook", message))
        return {}
    try:
        data = path.read_bytes()
        required = {name: columns.required for name, columns in COLUMNS.items()}
        sheets = parse_workbook(path.name, data, required)
    except OSError as err:
        message = _("expected a readable file, found an error ({error}).").format(
            error=err.strerror
        )
        problems.append(InputProblem(path.name, None, None, message))
        return {}
    except InstanceError as err:
        problems.extend(err.problems)
        return {}
    digest.update(data)
    tables: dict[str, Table] = {}
    for name in TABLES:
        if name in sheets:
            tables[name] = sheets[name]
            problems.extend(sheets[name].problems)
        elif name in REQUIRED_TABLES:
            message = _('expected a sheet named "{sheet}", found none.').format(
                sheet=name
            )
            problems.append(InputProblem(path.name, None, None, message))
    return tables


def _check_columns(
    name: str, table: Table, problems: list[InputProblem], warn: bool = True
) -> bool:
    """Note missing required columns and warn about unknown ones.

    Returns whether every required column is present.
    """
    columns = COLUMNS[name]
    missing = [c for c in columns.required if c not in table.header]
    for column in missing:
        message = _('expected a column named "{column}", found none.').format(
            column=column
        )
        problems.append(InputProblem(table.label, table.header_row, column, message))
    unknown = _unknown_columns(name, table)
    if unknown and warn:
        listed = ", ".join(f'"{visible(c)}"' for c in unknown[:MAX_LISTED])
        if len(unknown) > MAX_LISTED:
            listed += _(" and {more} more").format(more=len(unknown) - MAX_LISTED)
        renamed = [
            _('"{old}" is also a column of {file}, so it is written as "{new}"').format(
                old=old, file=CARRIED_TO[name][0], new=new
            )
            for old, new in carried_names(name, unknown).items()
            if old != new and columns.carries_extra
        ]
        also = f"; {'; '.join(renamed)}" if renamed else ""
        fate = (
            _(
                "{file}: unknown columns {columns} are kept and carried to the "
                "output{also}."
            )
            if columns.carries_extra
            else _("{file}: unknown columns {columns} are ignored{also}.")
        )
        warnings.warn(
            fate.format(file=table.label, columns=listed, also=also),
            DataWarning,
            stacklevel=4,
        )
    return not missing
